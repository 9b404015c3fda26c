//! PEM (RFC 7468) encoding of the keys the test key generators hand out.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// `-----BEGIN {label}-----`, the base64 of `der` in 64-character lines, `-----END {label}-----`.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_64_characters() {
        let pem = encode("TEST", &[0u8; 60]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN TEST-----"));
        assert_eq!(lines.get(1).map(|l| l.len()), Some(64));
        assert_eq!(lines.get(2).map(|l| l.len()), Some(16));
        assert_eq!(lines.last(), Some(&"-----END TEST-----"));
    }
}
