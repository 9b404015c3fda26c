//! Certificate-bound tokens (RFC 8705 §3): a token with `cnf.x5t#S256` is good only on a request made with
//! the client certificate whose SHA-256 thumbprint it names. The certificate comes from the server's own TLS
//! termination (DER), or from a header a trusted proxy sets — PEM, URL-encoded PEM (nginx
//! `$ssl_client_escaped_cert`, Envoy, AWS ALB) or base64 DER — which `certificate_der` reads.

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;
use serde_json::Value;

use super::claims::Claims;
use super::error::Rejection;
use crate::http::url_policy::percent_decode;

fn invalid(description: &str) -> Rejection {
    Rejection::TokenInvalid {
        description: description.into(),
    }
}

/// A token with a `cnf` claim is bound to its holder (RFC 7800): good only when the binding is one this
/// verifier checks — a certificate's `x5t#S256` — and the request proves it. Any other confirmation (`jkt` of
/// DPoP, `jwk`, `kid`, a malformed one) is refused: accepting it as a plain bearer token would let a stolen
/// sender-bound token be replayed.
pub(crate) fn check_binding(claims: &Claims, client_cert: Option<&[u8]>) -> Result<(), Rejection> {
    let Some(cnf) = claims.claims.get("cnf") else {
        return Ok(());
    };
    let bound = cnf
        .as_object()
        .filter(|c| c.len() == 1)
        .and_then(|c| c.get("x5t#S256"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            invalid("the token is bound to its holder in a way this verifier cannot check (cnf)")
        })?;
    let Some(cert) = client_cert else {
        return Err(invalid(
            "the token is bound to a client certificate, and the request came without one",
        ));
    };
    let thumbprint = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, cert));
    if thumbprint != bound.trim_end_matches('=') {
        return Err(invalid(
            "the token is bound to another client certificate than the request's",
        ));
    }
    Ok(())
}

/// The certificate a trusted proxy passed in a header, from all the values the request has of that header:
/// the proxy sets it once, so a request with two copies has one from the client, and neither is believed
/// (nor is an empty one). The integrations of every framework decide it here.
pub fn forwarded_certificate<'a>(values: &[&'a str]) -> Option<&'a str> {
    match values {
        [one] if !one.trim().is_empty() => Some(one),
        _ => None,
    }
}

/// The DER of a client certificate given as text: PEM, URL-encoded PEM, or base64 DER — exactly one
/// certificate and nothing else. `None` otherwise (the request then counts as made without a certificate):
/// a header a proxy appended to rather than replaced may hold the client's own text before the proxy's, and
/// must not be read as the first certificate in it.
pub fn certificate_der(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().trim_matches('"');
    if text.is_empty() {
        return None;
    }
    let decoded;
    let text = if text.contains('%') {
        decoded = percent_decode(text);
        decoded.as_str()
    } else {
        text
    };
    let text = text.trim();
    if text.contains("-----BEGIN") {
        let begins = text.matches("-----BEGIN").count();
        let whole = text.starts_with("-----BEGIN CERTIFICATE-----")
            && text.ends_with("-----END CERTIFICATE-----");
        if begins != 1 || !whole {
            return None;
        }
        let mut certs = CertificateDer::pem_slice_iter(text.as_bytes());
        return match (certs.next(), certs.next()) {
            (Some(Ok(cert)), None) => Some(cert.to_vec()),
            _ => None,
        };
    }
    STANDARD.decode(text).ok().filter(|d| !d.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_reads_from_pem_escaped_pem_and_base64() {
        let der = b"\x30\x03\x02\x01\x05".to_vec();
        let b64 = STANDARD.encode(&der);
        let pem = format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n");
        let escaped: String = form_urlencoded::byte_serialize(pem.as_bytes()).collect();
        assert_eq!(certificate_der(&pem), Some(der.clone()));
        assert_eq!(
            certificate_der(&escaped.replace('+', "%20")),
            Some(der.clone())
        );
        assert_eq!(certificate_der(&b64), Some(der));
        assert_eq!(certificate_der(""), None);
        assert_eq!(certificate_der("not a certificate!"), None);
        // Two certificates (a header appended to), or text around one: none.
        let other = pem.replace(&b64, &STANDARD.encode(b"\x30\x03\x02\x01\x06"));
        for joined in [
            format!("{other},{pem}"),
            format!("{other}\n{pem}"),
            format!("x{pem}"),
        ] {
            assert_eq!(certificate_der(&joined), None, "{joined}");
            let escaped: String = form_urlencoded::byte_serialize(joined.as_bytes()).collect();
            assert_eq!(certificate_der(&escaped), None);
        }
        assert_eq!(certificate_der(&format!("{b64},{b64}")), None);
        assert_eq!(forwarded_certificate(&["a"]), Some("a"));
        assert_eq!(forwarded_certificate(&["a", "b"]), None);
        assert_eq!(forwarded_certificate(&[" "]), None);
        assert_eq!(forwarded_certificate(&[]), None);
    }
}
