//! Where credentials may go. The secret goes to the authorization server, the token to the API, and each only
//! over https — or plain http to this host itself (loopback), or where the user opted in with
//! `allow_insecure_http`. On a redirect, credentials stay with the origin they were meant for. Every
//! integration, in every language, asks these functions; none decides on its own.

use std::net::Ipv6Addr;

use url::{Host, Url};

use crate::error::{Error, Result, server_text};

/// An authorization server URL (`field` names the setting): https, or plain http only to loopback or when
/// explicitly allowed — the credentials would otherwise travel in clear text.
pub(crate) fn check_endpoint_url(raw: &str, field: &str, allow_insecure_http: bool) -> Result<Url> {
    let url = parse(raw, field)?;
    if url.fragment().is_some() {
        return Err(Error::config(
            field,
            format!("{url} must not have a #fragment"),
        ));
    }
    check_scheme(
        &url,
        field,
        allow_insecure_http,
        "the client credentials would travel in clear text",
    )?;
    Ok(url)
}

/// A URL a bearer token is sent to (an API call): http(s), no user-info, and plain http only to loopback or
/// when explicitly allowed — anyone on the path could otherwise read the token and use it. Checked before any
/// connection is made.
pub fn check_api_url(raw: &str, allow_insecure_http: bool) -> Result<Url> {
    let url = parse(raw, "url")?;
    check_scheme(
        &url,
        "url",
        allow_insecure_http,
        "the access token would travel in clear text",
    )?;
    Ok(url)
}

fn parse(raw: &str, field: &str) -> Result<Url> {
    // Never print a URL with user-info: it is most likely a credential.
    let url = Url::parse(raw.trim()).map_err(|e| {
        let shown = if raw.contains('@') {
            "the URL".to_owned()
        } else {
            format!("{:?}", server_text(raw))
        };
        Error::config(field, format!("{shown} is not a URL: {e}"))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(
            field,
            "must not contain user:password; m2m-auth sends the credentials itself",
        ));
    }
    Ok(url)
}

fn check_scheme(url: &Url, field: &str, allow_insecure_http: bool, danger: &str) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure_http || is_loopback(url) => Ok(()),
        "http" => Err(Error::config(
            field,
            format!(
                "{url} is plain http: {danger}. Use https, or `allow_insecure_http` for a network you \
                 trust (loopback is always allowed)"
            ),
        )),
        other => Err(Error::config(field, format!("must be https, not {other}:"))),
    }
}

/// Whether `url` names this host: `localhost` (any case), 127.0.0.0/8, `::1`, or an IPv4-mapped loopback
/// address (`[::ffff:127.0.0.1]`). Numeric forms such as `2130706433` are normalised by the URL parser first.
/// No other name is trusted to resolve to loopback — not even `localhost.`, which resolvers send to DNS.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ipv6_is_loopback(ip),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn ipv6_is_loopback(ip: Ipv6Addr) -> bool {
    ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
}

/// Whether two URLs share an origin (scheme, host, port; default ports filled in, host case folded). A token
/// sent to one may go to the other; a redirect between two that do not share one carries no credential.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}

/// `text` with its `%XX` escapes decoded (a `+` stays a `+`: this is a URL part, not a form); an escape that
/// is not UTF-8 is replaced.
pub(crate) fn percent_decode(text: &str) -> String {
    form_urlencoded::parse(format!("p={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map_or_else(|| text.to_owned(), |(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn loopback_names_and_addresses() {
        for yes in [
            "http://localhost/",
            "http://LOCALHOST:8080/",
            "http://127.0.0.1/",
            "http://127.8.9.10/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://2130706433/",
            "http://0x7f000001/",
        ] {
            assert!(is_loopback(&url(yes)), "{yes}");
        }
        for no in [
            "http://localhost./",
            "http://localhost.example/",
            "http://example.localhost.com/",
            "http://10.0.0.1/",
            "http://[::ffff:10.0.0.1]/",
            "http://128.0.0.1/",
            "http://api.example/",
        ] {
            assert!(!is_loopback(&url(no)), "{no}");
        }
    }

    #[test]
    fn api_urls_plain_http_only_to_loopback() {
        assert!(check_api_url("https://api.example/x", false).is_ok());
        assert!(check_api_url("http://127.0.0.1:9/x", false).is_ok());
        let e = check_api_url("http://api.example/x", false).expect_err("refused");
        assert!(e.to_string().contains("clear text"), "{e}");
        assert!(check_api_url("http://api.example/x", true).is_ok());
        assert!(check_api_url("ftp://api.example/x", true).is_err());
        let e = check_api_url("https://u:topsecret@api.example/", false).expect_err("refused");
        assert!(!e.to_string().contains("topsecret"), "{e}");
    }

    #[test]
    fn origins() {
        assert!(same_origin(
            &url("https://API.example:443/a"),
            &url("https://api.example/b")
        ));
        for other in [
            "https://api.example:8443/",
            "http://api.example/",
            "https://sub.api.example/",
            "https://api.example.evil/",
        ] {
            assert!(
                !same_origin(&url("https://api.example/"), &url(other)),
                "{other}"
            );
        }
    }
}
