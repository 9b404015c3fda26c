//! Compact JWS (RFC 7515 §7.1) taken apart: the one decoder of both the access tokens the mock
//! signed and the client assertions it is sent. Nothing is verified here.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// The decoded parts of a compact JWS.
#[derive(Debug)]
pub(crate) struct CompactJws<'a> {
    pub(crate) header: Value,
    pub(crate) claims: Value,
    /// `header.claims` as sent: what the signature covers.
    pub(crate) signing_input: &'a str,
    pub(crate) signature: Vec<u8>,
}

impl<'a> CompactJws<'a> {
    /// Splits `jws` at its dots and decodes the three parts; header and claims must be JSON
    /// objects.
    pub(crate) fn decode(jws: &'a str) -> Result<Self, String> {
        let mut parts = jws.split('.');
        let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(
                "is not a compact JWS (three base64url parts separated by dots)".to_owned(),
            );
        };
        let header = decode_object(header_b64, "header")?;
        let claims = decode_object(claims_b64, "claims")?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| "signature is not base64url".to_owned())?;
        Ok(CompactJws {
            header,
            claims,
            signing_input: jws
                .get(..header_b64.len() + 1 + claims_b64.len())
                .unwrap_or_default(),
            signature,
        })
    }
}

/// The claims of a JWS whose signature is not checked (to count requests per client, say).
pub(crate) fn unverified_claims(jws: &str) -> Option<Value> {
    decode_object(jws.split('.').nth(1)?, "claims").ok()
}

fn decode_object(part: &str, what: &str) -> Result<Value, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| format!("{what} is not base64url"))?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{what} is not JSON ({e})"))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(format!("{what} is not a JSON object"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_three_parts() {
        let jws = CompactJws::decode("eyJhbGciOiJFUzI1NiJ9.e30.AQI").expect("decodes");
        assert_eq!(jws.header["alg"], "ES256");
        assert_eq!(jws.claims, serde_json::json!({}));
        assert_eq!(jws.signing_input, "eyJhbGciOiJFUzI1NiJ9.e30");
        assert_eq!(jws.signature, [1, 2]);
        for (bad, why) in [
            ("a.b", "not a compact JWS"),
            ("e30.e30.e30.e30", "not a compact JWS"),
            ("!!.e30.AA", "header is not base64url"),
            ("e30.bm9wZQ.AA", "claims is not JSON"),
            ("e30.W10.AA", "claims is not a JSON object"),
            ("e30.e30.!!", "signature is not base64url"),
        ] {
            let error = CompactJws::decode(bad).expect_err(bad);
            assert!(error.contains(why), "{bad}: {error}");
        }
        assert_eq!(
            unverified_claims("x.eyJzdWIiOiJhIn0.y"),
            Some(serde_json::json!({"sub": "a"}))
        );
    }
}
