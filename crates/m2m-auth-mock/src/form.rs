//! The token request body: content-type check, form decoding and the parameter rules of
//! RFC 6749 §3.2 (empty values count as omitted; no parameter may repeat, except RFC 8707 `resource`).

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, header};

use crate::oauth_error::OAuthError;

/// Token and introspection request bodies are a few hundred bytes; anything past this is refused
/// unread.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Parameters that may appear more than once.
const REPEATABLE: [&str; 1] = ["resource"];

/// Whether the request says its body is `application/x-www-form-urlencoded` (parameters such as
/// `charset` allowed, media type compared case-insensitively).
pub(crate) fn is_form_urlencoded(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(header::CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    let media_type = value.split(';').next().unwrap_or_default().trim();
    media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// Reads the body and decodes it as a form; the pairs are empty when it is not form-encoded (the
/// content type is checked later, after any fault, like every other rule).
pub(crate) async fn read_pairs(
    headers: &HeaderMap,
    body: Body,
) -> Result<Vec<(String, String)>, OAuthError> {
    let bytes = to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        OAuthError::invalid_request(format!(
            "request body is unreadable or larger than {MAX_BODY_BYTES} bytes"
        ))
    })?;
    Ok(if is_form_urlencoded(headers) {
        decode_pairs(&bytes)
    } else {
        Vec::new()
    })
}

/// Decodes a form body into its pairs, in order. Invalid UTF-8 becomes U+FFFD (so it cannot match
/// a registered value) instead of failing.
pub(crate) fn decode_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The validated parameters of a token request.
#[derive(Debug, Default)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Drops empty values and rejects repeated parameters.
    pub(crate) fn from_pairs(pairs: &[(String, String)]) -> Result<Self, OAuthError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .cloned()
            .collect();
        for (i, (name, _)) in pairs.iter().enumerate() {
            if REPEATABLE.contains(&name.as_str()) {
                continue;
            }
            if pairs[..i].iter().any(|(earlier, _)| earlier == name) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter `{}` is included more than once",
                    truncate(name, 64)
                )));
            }
        }
        Ok(Params { pairs })
    }

    /// The value of a non-repeatable parameter, if present and non-empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// All values of a parameter, in order.
    pub(crate) fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Shortens request-supplied text before it goes into an error description.
pub(crate) fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}...", s.get(..cut).unwrap_or_default()),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn content_type_allows_parameters_and_case() {
        let mut h = HeaderMap::new();
        assert!(!is_form_urlencoded(&h));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
        );
        assert!(is_form_urlencoded(&h));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        assert!(!is_form_urlencoded(&h));
    }

    #[test]
    fn empty_values_are_omitted_and_duplicates_rejected() {
        let p = Params::from_pairs(&pairs(&[("scope", ""), ("scope", "a")])).expect("ok");
        assert_eq!(p.get("scope"), Some("a"));
        let e = Params::from_pairs(&pairs(&[("scope", "a"), ("scope", "b")])).unwrap_err();
        assert_eq!(e.code, "invalid_request");
        let p =
            Params::from_pairs(&pairs(&[("resource", "x:a"), ("resource", "x:b")])).expect("ok");
        assert_eq!(p.get_all("resource").collect::<Vec<_>>(), ["x:a", "x:b"]);
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("ééé", 2), "éé...");
        assert_eq!(truncate("ab", 2), "ab");
    }
}
