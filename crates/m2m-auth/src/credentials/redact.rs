//! The redactor that keeps the secret out of every text the client writes: errors, events, `stats()`.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::secret::SecretString;

const REDACTED: &str = "[redacted]";

/// Replaces the secret in texts, in every form in which the client sends it or a server may echo it: as is,
/// form-encoded (`client_secret_post`, and inside `Basic`), percent-encoded with `%20`, the whole `Basic`
/// credential in base64, and escaped as JSON and Rust strings are. However short the secret, it goes.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    /// Longest first, so that a form containing another is replaced whole.
    forms: Arc<[Zeroizing<String>]>,
}

impl Redactor {
    pub fn new(client_id: &str, secret: Option<&SecretString>) -> Self {
        let Some(secret) = secret.map(SecretString::expose).filter(|s| !s.is_empty()) else {
            return Self::default();
        };
        let form = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let quoted = |s: String| s[1..s.len() - 1].to_owned();
        let mut forms: Vec<Zeroizing<String>> = [
            secret.to_owned(),
            form(secret),
            form(secret).replace('+', "%20"),
            lower_percent(&form(secret)),
            quoted(serde_json::Value::from(secret).to_string()).replace('/', "\\/"),
            quoted(serde_json::Value::from(secret).to_string()),
            ascii_json(&quoted(serde_json::Value::from(secret).to_string())),
            quoted(format!("{secret:?}")),
            STANDARD.encode(format!("{}:{}", form(client_id), form(secret))),
            STANDARD.encode(format!("{client_id}:{secret}")),
        ]
        .into_iter()
        .map(Zeroizing::new)
        .collect();
        forms.sort_by(|a, b| {
            b.len()
                .cmp(&a.len())
                .then_with(|| a.as_str().cmp(b.as_str()))
        });
        forms.dedup();
        Self {
            forms: forms.into(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }

    /// `text` with every form of the secret replaced by `[redacted]`, in one pass from the left (so that a
    /// replacement is never searched again).
    pub fn redact(&self, text: String) -> String {
        if !self.forms.iter().any(|f| text.contains(f.as_str())) {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(c) = rest.chars().next() {
            match self.forms.iter().find(|f| rest.starts_with(f.as_str())) {
                Some(f) => {
                    out.push_str(REDACTED);
                    rest = &rest[f.len()..];
                }
                None => {
                    out.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        out
    }
}

/// Form-encoded text with its percent escapes in lower case (`%2b`), as some servers echo it.
fn lower_percent(form: &str) -> String {
    let mut out = String::with_capacity(form.len());
    let mut rest = form;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let escape = rest.get(i..i + 3).unwrap_or(&rest[i..]);
        out.push_str(&escape.to_ascii_lowercase());
        rest = &rest[i + escape.len()..];
    }
    out.push_str(rest);
    out
}

/// JSON text with every non-ASCII character escaped as `\uXXXX` (UTF-16, as JSON encoders that keep to ASCII
/// write it).
fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} forms)", self.forms.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_the_secret_is_redacted() {
        let secret = "p%s+w:d \"é\\";
        let r = Redactor::new("svc id", Some(&secret.into()));
        let form = form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>();
        let basic = STANDARD.encode(format!("svc+id:{form}"));
        for echoed in [
            secret.to_owned(),
            form.clone(),
            form.replace('+', "%20"),
            serde_json::Value::from(secret).to_string(),
            "p%s+w:d \\\"\\u00e9\\\\".to_owned(),
            format!("{secret:?}"),
            basic,
        ] {
            let text = r.redact(format!("server said: {echoed} (end)"));
            assert!(text.contains(REDACTED), "{echoed}: {text}");
            assert!(!text.contains(secret) && !text.contains(&form), "{text}");
            assert!(text.ends_with("(end)"), "{text}");
        }
    }

    #[test]
    fn short_secrets_are_redacted_too() {
        let r = Redactor::new("svc", Some(&"x".into()));
        assert_eq!(r.redact("axb".into()), "a[redacted]b");
        assert_eq!(
            Redactor::new("svc", None).redact("axb".into()),
            "axb",
            "no secret, nothing to redact"
        );
    }
}
