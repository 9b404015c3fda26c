//! `client_secret_basic` credentials (RFC 6749 §2.3.1): the `Authorization: Basic` header, whose
//! id and secret are form-urlencoded before being joined with ':' and base64-encoded.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::oauth_error::OAuthError;

/// Standard base64, accepting the credentials with or without padding as deployed servers do.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decoded `Authorization: Basic` credentials.
pub(crate) struct BasicCredentials {
    pub(crate) id: String,
    pub(crate) secret: String,
}

/// `Ok(None)` when there is no Authorization header or it uses another scheme; `Err` when it is a
/// Basic header that cannot be decoded.
pub(crate) fn parse_basic(headers: &HeaderMap) -> Result<Option<BasicCredentials>, OAuthError> {
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
}
