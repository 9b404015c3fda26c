//! `/api/redirect?to=<url>&status=<3xx>`: answers a redirect whatever the credentials, so client
//! tests can check that a token is not carried to another origin (the target, e.g. another mock's
//! API, records what arrived) and that 307/308 keep the method and body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// The path of the redirecting endpoint.
pub(crate) const PATH: &str = "/api/redirect";
/// The statuses it answers; 302 when `status` is not given.
const STATUSES: [u16; 5] = [301, 302, 303, 307, 308];
const DEFAULT_STATUS: u16 = 302;

/// The redirect a query asks for: `to` (an absolute http(s) URL, or a path on this server starting
/// with one `/`) as the `Location`, with `status`.
pub(crate) fn answer(query: &str) -> Result<Response, ApiError> {
    let mut to = None;
    let mut status = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match name.as_ref() {
            "to" => &mut to,
            "status" => &mut status,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(bad(format!("parameter {name} is given more than once")));
        }
    }
    let to = to.ok_or_else(|| bad("the to parameter (the Location to send) is missing".into()))?;
    let status = match status {
        None => DEFAULT_STATUS,
        Some(s) => s
            .parse()
            .ok()
            .filter(|s| STATUSES.contains(s))
            .ok_or_else(|| bad(format!("status must be one of {STATUSES:?}")))?,
    };
    check_target(&to)?;
    let location = HeaderValue::from_str(&to)
        .map_err(|_| bad("to cannot be sent as a Location header".to_owned()))?;
    let status = StatusCode::from_u16(status).map_err(|e| bad(e.to_string()))?;
    Ok((status, [(header::LOCATION, location)]).into_response())
}

fn bad(description: String) -> ApiError {
    ApiError::BadRedirect(description)
}

/// A redirect to anything else (`javascript:`, a network-path `//host`) is no test of a client.
fn check_target(to: &str) -> Result<(), ApiError> {
    if to.starts_with('/') && !to.starts_with("//") {
        return Ok(());
    }
    match url::Url::parse(to) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(()),
        _ => Err(bad(
            "to must be an absolute http(s) URL or a path starting with /".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(query: &str) -> (u16, String) {
        let response = answer(query).expect("a redirect");
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        (response.status().as_u16(), location.to_owned())
    }

    #[test]
    fn answers_the_status_and_location_asked_for() {
        let to = "to=http%3A%2F%2F127.0.0.1%3A9%2Fapi%2Fx%3Fa%3D1";
        assert_eq!(
            location(to),
            (302, "http://127.0.0.1:9/api/x?a=1".to_owned())
        );
        for status in STATUSES {
            assert_eq!(location(&format!("{to}&status={status}")).0, status);
        }
        assert_eq!(location("to=/api/y"), (302, "/api/y".to_owned()));
    }

    #[test]
    fn refuses_what_is_not_a_redirect() {
        for query in [
            "",
            "status=307",
            "to=/x&status=200",
            "to=/x&status=304",
            "to=/x&status=abc",
            "to=/x&to=/y",
            "to=//evil.example/",
            "to=javascript:alert(1)",
            "to=relative/path",
            "to=/x%0Ay",
        ] {
            assert!(answer(query).is_err(), "{query}");
        }
    }
}
