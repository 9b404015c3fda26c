//! Why a token was not accepted, as the receiving side answers it (RFC 6750 §3): 401 `invalid_token`, 403
//! `insufficient_scope`, or 503 when the keys or the introspection endpoint cannot be reached — never a 500.
//! Each renders its `WWW-Authenticate` value. No message holds the token.

use std::fmt;

/// A verification that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// 401 without an error code (RFC 6750 §3.1): the request came with no token at all.
    NoToken,
    /// 401 `invalid_token`: malformed, badly signed, expired, for another issuer or audience, inactive.
    TokenInvalid { description: String },
    /// 403 `insufficient_scope`: valid, but without the scopes the route needs.
    InsufficientScope {
        description: String,
        required: Vec<String>,
    },
    /// 503: the metadata, JWKS or introspection endpoint is down or slow; the token may be fine. The
    /// description is what the caller is told; the detail (URLs, the network error) is for the service's logs
    /// only, since it shows how the service is built.
    Unavailable { description: String, detail: String },
}

impl Rejection {
    /// A 503 telling the caller `description`, and the logs `detail` too.
    pub(crate) fn unavailable(description: &str, detail: impl Into<String>) -> Self {
        Self::Unavailable {
            description: description.into(),
            detail: detail.into(),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::NoToken | Self::TokenInvalid { .. } => 401,
            Self::InsufficientScope { .. } => 403,
            Self::Unavailable { .. } => 503,
        }
    }

    /// The error's code in Python and Node (`err.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoToken | Self::TokenInvalid { .. } => "ERR_TOKEN_INVALID",
            Self::InsufficientScope { .. } => "ERR_INSUFFICIENT_SCOPE",
            Self::Unavailable { .. } => "ERR_VERIFIER_UNAVAILABLE",
        }
    }

    /// The class the bindings raise it as.
    pub fn class_name(&self) -> &'static str {
        match self {
            Self::NoToken | Self::TokenInvalid { .. } => "TokenInvalid",
            Self::InsufficientScope { .. } => "InsufficientScope",
            Self::Unavailable { .. } => "VerifierUnavailable",
        }
    }

    /// The scopes that would have passed (an `insufficient_scope` answer's `scope`), else none.
    pub fn required_scopes(&self) -> &[String] {
        match self {
            Self::InsufficientScope { required, .. } => required,
            _ => &[],
        }
    }

    /// A rejection of class `class_name` (as [`Self::class_name`] names it), for the bindings' errors to render
    /// their challenge; `None` for another name.
    pub fn of_class(class_name: &str, description: String, required: Vec<String>) -> Option<Self> {
        Some(match class_name {
            "TokenInvalid" if required.is_empty() && description == Self::NoToken.description() => {
                Self::NoToken
            }
            "TokenInvalid" => Self::TokenInvalid { description },
            "InsufficientScope" => Self::InsufficientScope {
                description,
                required,
            },
            "VerifierUnavailable" => Self::Unavailable {
                description,
                detail: String::new(),
            },
            _ => return None,
        })
    }

    /// The RFC 6750 error code, where there is one.
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Self::TokenInvalid { .. } => Some("invalid_token"),
            Self::InsufficientScope { .. } => Some("insufficient_scope"),
            Self::NoToken | Self::Unavailable { .. } => None,
        }
    }

    pub fn description(&self) -> &str {
        match self {
            Self::NoToken => "the request came without an access token",
            Self::TokenInvalid { description }
            | Self::InsufficientScope { description, .. }
            | Self::Unavailable { description, .. } => description,
        }
    }

    /// `Bearer realm="…", error="…", error_description="…", scope="…"`: the value of the answer's
    /// `WWW-Authenticate` header (a 503, and an answer to a request without a token, name the realm only).
    pub fn www_authenticate(&self, realm: Option<&str>) -> String {
        let mut params = Vec::new();
        if let Some(realm) = realm {
            params.push(format!("realm=\"{}\"", quoted(realm)));
        }
        if let Some(code) = self.error_code() {
            params.push(format!("error=\"{code}\""));
            params.push(format!(
                "error_description=\"{}\"",
                quoted(self.description())
            ));
        }
        if let Self::InsufficientScope { required, .. } = self
            && !required.is_empty()
        {
            params.push(format!("scope=\"{}\"", quoted(&required.join(" "))));
        }
        if params.is_empty() {
            "Bearer".into()
        } else {
            format!("Bearer {}", params.join(", "))
        }
    }
}

/// A value of RFC 6750 §3's `error_description` (and `realm`, `scope`): only %x20-21, %x23-5B and %x5D-7E —
/// no `"`, no `\`, no control or non-ASCII character. A `"` becomes `'`; the others are dropped, so no
/// text of a token or a server can break the header.
fn quoted(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '"' => Some('\''),
            '\\' => None,
            c if (' '..='~').contains(&c) => Some(c),
            _ => None,
        })
        .collect()
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.error_code()) {
            (_, Some(code)) => write!(f, "{code}: {}", self.description()),
            (Self::NoToken, None) => f.write_str(self.description()),
            (Self::Unavailable { detail, .. }, None) if !detail.is_empty() => {
                write!(f, "verifier unavailable: {}: {detail}", self.description())
            }
            (_, None) => write!(f, "verifier unavailable: {}", self.description()),
        }
    }
}

impl std::error::Error for Rejection {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rejection_renders_its_rfc_6750_challenge() {
        let invalid = Rejection::TokenInvalid {
            description: "the token expired".into(),
        };
        assert_eq!(invalid.status(), 401);
        assert_eq!(
            invalid.www_authenticate(Some("api")),
            r#"Bearer realm="api", error="invalid_token", error_description="the token expired""#
        );
        let scope = Rejection::InsufficientScope {
            description: "the token lacks payments.write".into(),
            required: vec!["payments.write".into(), "payments.read".into()],
        };
        assert_eq!(scope.status(), 403);
        assert_eq!(
            scope.www_authenticate(None),
            r#"Bearer error="insufficient_scope", error_description="the token lacks payments.write", scope="payments.write payments.read""#
        );
        let down = Rejection::unavailable(
            "the issuer's keys cannot be fetched",
            "https://idp.internal/jwks: connection refused",
        );
        assert_eq!(
            (down.status(), down.www_authenticate(Some("api"))),
            (503, r#"Bearer realm="api""#.into())
        );
        // The caller is told what; the logs also where and why.
        assert_eq!(down.description(), "the issuer's keys cannot be fetched");
        assert!(
            down.to_string()
                .ends_with("idp.internal/jwks: connection refused")
        );
    }

    #[test]
    fn quotes_backslashes_and_control_characters_cannot_break_the_header() {
        let e = Rejection::TokenInvalid {
            description: "bad \"kid\" \\ here\r\nSet-Cookie: x ü".into(),
        };
        // RFC 6750 §3 allows neither quotes nor backslashes in the value, escaped or not.
        assert_eq!(
            e.www_authenticate(None),
            r#"Bearer error="invalid_token", error_description="bad 'kid'  hereSet-Cookie: x ""#
        );
    }
}
