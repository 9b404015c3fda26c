//! Client authentication at the token endpoint: `client_secret_basic` (RFC 6749 §2.3.1, with the
//! id and secret form-urlencoded before being joined) and `client_secret_post`.

use aws_lc_rs::digest;
use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::config::{CLIENT_SECRET_BASIC, CLIENT_SECRET_POST, RegisteredClient};
use crate::form::Params;
use crate::oauth_error::OAuthError;
use crate::state::Shared;

/// Standard base64, accepting the credentials with or without padding as deployed servers do.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decoded `Authorization: Basic` credentials.
struct BasicCredentials {
    id: String,
    secret: String,
}

/// The client id a request presents, before any check: from a well-formed Basic header, else from
/// the `client_id` form field. Used to count and record requests per client.
pub(crate) fn presented_client_id(
    headers: &HeaderMap,
    pairs: &[(String, String)],
) -> Option<String> {
    if let Ok(Some(basic)) = parse_basic(headers) {
        return Some(basic.id);
    }
    pairs
        .iter()
        .find(|(name, value)| name == "client_id" && !value.is_empty())
        .map(|(_, value)| value.clone())
}

/// Authenticates the client of a token request, returning its registration.
pub(crate) fn authenticate<'a>(
    shared: &'a Shared,
    headers: &HeaderMap,
    params: &Params,
) -> Result<&'a RegisteredClient, OAuthError> {
    let header_present = headers.contains_key(header::AUTHORIZATION);
    let form_id = params.get("client_id");
    let form_secret = params.get("client_secret");
    // RFC 6749 §2.3: the client MUST NOT use more than one authentication method per request.
    if header_present && form_secret.is_some() {
        return Err(OAuthError::invalid_request(
            "more than one client authentication method used (Authorization header and client_secret parameter)",
        ));
    }
    let (method, id, secret) = if header_present {
        let basic = parse_basic(headers)?.ok_or_else(|| {
            OAuthError::invalid_client("the Authorization header does not use the Basic scheme")
        })?;
        if form_id.is_some_and(|form_id| form_id != basic.id) {
            return Err(OAuthError::invalid_request(
                "the client_id parameter names a different client than the Authorization header",
            ));
        }
        (CLIENT_SECRET_BASIC, basic.id, basic.secret)
    } else {
        match (form_id, form_secret) {
            (Some(id), Some(secret)) => (CLIENT_SECRET_POST, id.to_owned(), secret.to_owned()),
            (Some(_), None) => {
                return Err(OAuthError::invalid_client(
                    "client authentication required: client_id given without client_secret or Authorization header",
                ));
            }
            (None, Some(_)) => {
                return Err(OAuthError::invalid_client(
                    "client_secret given without client_id",
                ));
            }
            (None, None) => {
                return Err(OAuthError::invalid_client(
                    "client authentication required (client_secret_basic or client_secret_post)",
                ));
            }
        }
    };
    let client = shared
        .find_client(&id)
        .ok_or_else(|| OAuthError::invalid_client("unknown client"))?;
    if !client.allows_method(method) {
        return Err(OAuthError::invalid_client(format!(
            "this client is not allowed to authenticate with {method}"
        )));
    }
    if !secrets_match(&secret, &client.client_secret) {
        return Err(OAuthError::invalid_client("client secret does not match"));
    }
    Ok(client)
}

/// `Ok(None)` when there is no Authorization header or it uses another scheme; `Err` when it is a
/// Basic header that cannot be decoded.
fn parse_basic(headers: &HeaderMap) -> Result<Option<BasicCredentials>, OAuthError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(OAuthError::invalid_request(
            "more than one Authorization header",
        ));
    }
    let malformed =
        |why: &str| OAuthError::invalid_client(format!("malformed Basic credentials: {why}"));
    let value = value
        .to_str()
        .map_err(|_| malformed("header is not visible ASCII"))?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = LENIENT_BASE64
        .decode(token.trim())
        .map_err(|_| malformed("not base64"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed("not UTF-8"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| malformed("no ':' between client id and secret"))?;
    let id = form_urldecode(id).ok_or_else(|| malformed("client id is not form-urlencoded"))?;
    let secret =
        form_urldecode(secret).ok_or_else(|| malformed("secret is not form-urlencoded"))?;
    if id.is_empty() {
        return Err(malformed("empty client id"));
    }
    Ok(Some(BasicCredentials { id, secret }))
}

/// Decodes one application/x-www-form-urlencoded component ('+' is a space, `%XX` a byte).
/// `None` on a broken escape or when the bytes are not UTF-8.
fn form_urldecode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = hex_value(*bytes.get(i + 1)?)?;
                let lo = hex_value(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Compares secrets in time independent of where they differ: both are hashed to fixed-length
/// digests, then every byte is compared without an early exit.
fn secrets_match(presented: &str, registered: &str) -> bool {
    let a = digest::digest(&digest::SHA256, presented.as_bytes());
    let b = digest::digest(&digest::SHA256, registered.as_bytes());
    let diff = a
        .as_ref()
        .iter()
        .zip(b.as_ref())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urldecode_handles_plus_escapes_and_rejects_broken_ones() {
        assert_eq!(
            form_urldecode("p%40ss%3Aw%2Frd+%25").as_deref(),
            Some("p@ss:w/rd %")
        );
        assert_eq!(form_urldecode("plain").as_deref(), Some("plain"));
        assert_eq!(form_urldecode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(form_urldecode("100%"), None);
        assert_eq!(form_urldecode("%zz"), None);
        assert_eq!(form_urldecode("%FF"), None);
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(secrets_match("s3cret", "s3cret"));
        assert!(!secrets_match("s3cret", "s3creT"));
        assert!(!secrets_match("", "x"));
    }
}
