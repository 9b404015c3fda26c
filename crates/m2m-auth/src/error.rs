//! The errors every language sees. Each kind has a stable code (`ERR_OAUTH`, …) that the Node package puts on
//! its `Error`s and a class name that the Python package raises, so the bindings only map, never decide.

use std::fmt;

use crate::config::settings::{Surface, render};
use crate::credentials::redact::Redactor;

/// What went wrong when getting a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The token endpoint answered with an RFC 6749 §5.2 error (`invalid_client`, `invalid_scope`, …).
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// The token endpoint could not be reached, or did not answer in time.
    #[error("{message}{}", attempts_note(*attempts))]
    Transport {
        message: String,
        /// True when the request timed out rather than failed to connect.
        timeout: bool,
        /// Requests made before giving up.
        attempts: u32,
    },
    /// The token endpoint answered, but not with a usable token response.
    #[error("{message}{}", attempts_note(*attempts))]
    InvalidResponse {
        message: String,
        /// The HTTP status of the answer.
        status: Option<u16>,
        /// Requests made before giving up.
        attempts: u32,
    },
    /// The client was configured wrongly. `field` is the setting's core name (or an environment variable);
    /// `message` says what is wrong with it, naming other settings as `` `name` ``: each surface renders
    /// the names its own way (see [`crate::config::settings::render`]).
    #[error("{}", render(field, message, Surface::Rust))]
    Config { field: String, message: String },
    /// A bug in m2m-auth (a caught panic, a lost task). Never the caller's fault.
    #[error("internal error in m2m-auth: {0}")]
    Internal(String),
}

/// An RFC 6749 §5.2 error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: String,
    pub error_description: Option<String>,
    pub error_uri: Option<String>,
    /// The HTTP status the token endpoint answered with.
    pub status: u16,
    /// Requests made before giving up (more than 1 when the status was worth retrying).
    pub attempts: u32,
}

/// " (after 3 attempts)" when a failure was retried; nothing for a single attempt.
fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "token endpoint refused the request (HTTP {}): {}",
            self.status, self.error
        )?;
        if let Some(description) = &self.error_description {
            write!(f, ": {description}")?;
        }
        f.write_str(&attempts_note(self.attempts))
    }
}

impl std::error::Error for OAuthError {}

/// The kind of an [`Error`], with the names the bindings use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    OAuth,
    Transport,
    InvalidResponse,
    Config,
    Internal,
}

impl ErrorKind {
    /// The stable `code` of a Node error.
    pub fn code(self) -> &'static str {
        match self {
            Self::OAuth => "ERR_OAUTH",
            Self::Transport => "ERR_TRANSPORT",
            Self::InvalidResponse => "ERR_INVALID_RESPONSE",
            Self::Config => "ERR_CONFIG",
            Self::Internal => "ERR_INTERNAL",
        }
    }

    /// The class name in Python and Node.
    pub fn class_name(self) -> &'static str {
        match self {
            Self::OAuth => "OAuthError",
            Self::Transport => "TransportError",
            Self::InvalidResponse => "InvalidResponse",
            Self::Config => "ConfigError",
            Self::Internal => "InternalError",
        }
    }
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::OAuth(_) => ErrorKind::OAuth,
            Self::Transport { .. } => ErrorKind::Transport,
            Self::InvalidResponse { .. } => ErrorKind::InvalidResponse,
            Self::Config { .. } => ErrorKind::Config,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The HTTP status the token endpoint answered with, where there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::OAuth(e) => Some(e.status),
            Self::InvalidResponse { status, .. } => *status,
            _ => None,
        }
    }

    /// Requests made to the token endpoint before this error (0 when none was made).
    pub fn attempts(&self) -> u32 {
        match self {
            Self::OAuth(e) => e.attempts,
            Self::Transport { attempts, .. } | Self::InvalidResponse { attempts, .. } => *attempts,
            _ => 0,
        }
    }

    pub(crate) fn with_attempts(mut self, n: u32) -> Self {
        match &mut self {
            Self::OAuth(e) => e.attempts = n,
            Self::Transport { attempts, .. } | Self::InvalidResponse { attempts, .. } => {
                *attempts = n
            }
            _ => {}
        }
        self
    }

    pub(crate) fn config(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Config {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The setting a configuration error names.
    pub(crate) fn config_field(&self) -> Option<&str> {
        match self {
            Self::Config { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The same configuration error, of `field` instead (the file setting or environment variable a value
    /// came from). The message says what is wrong, which stays the same.
    pub(crate) fn renamed(self, field: &str) -> Self {
        match self {
            Self::Config { message, .. } => Self::config(field, message),
            other => other,
        }
    }

    /// This error with the server's words (an OAuth error's fields) bounded and without control characters,
    /// as they go into messages and logs. Applied after [`Self::scrub`].
    pub(crate) fn capped(self) -> Self {
        match self {
            Self::OAuth(mut e) => {
                e.error = server_text(&e.error);
                e.error_description = e.error_description.as_deref().map(server_text);
                e.error_uri = e.error_uri.as_deref().map(server_text);
                Self::OAuth(e)
            }
            other => other,
        }
    }

    /// How a surface shows this error's message: for a configuration error, with its names; otherwise as is.
    pub fn message_on(&self, surface: Surface) -> String {
        match self {
            Self::Config { field, message } => render(field, message, surface),
            other => other.to_string(),
        }
    }

    pub(crate) fn invalid_response(status: Option<u16>, message: impl Into<String>) -> Self {
        Self::InvalidResponse {
            message: message.into(),
            status,
            attempts: 1,
        }
    }

    /// This error with every form of the secret that `redactor` knows replaced, in every text. Servers and
    /// HTTP stacks sometimes echo what they were sent; whatever they echo, the secret must not reach a log
    /// through an error message.
    pub(crate) fn scrub(self, redactor: &Redactor) -> Self {
        if redactor.is_empty() {
            return self;
        }
        let clean = |s: String| redactor.redact(s);
        match self {
            Self::OAuth(mut e) => {
                e.error = clean(e.error);
                e.error_description = e.error_description.map(clean);
                e.error_uri = e.error_uri.map(clean);
                Self::OAuth(e)
            }
            Self::Transport {
                message,
                timeout,
                attempts,
            } => Self::Transport {
                message: clean(message),
                timeout,
                attempts,
            },
            Self::InvalidResponse {
                message,
                status,
                attempts,
            } => Self::InvalidResponse {
                message: clean(message),
                status,
                attempts,
            },
            Self::Config { field, message } => Self::Config {
                field,
                message: clean(message),
            },
            Self::Internal(message) => Self::Internal(clean(message)),
        }
    }
}

/// Longest text from a server (`error_description`, `token_type`, …) that goes into a message.
pub(crate) const MAX_SERVER_TEXT: usize = 300;

/// Text a server sent, fit for a message or a log line: control characters (CR, LF, ANSI escapes, …) become
/// spaces, so no one can forge log lines through it, and it is cut to [`MAX_SERVER_TEXT`] characters.
pub(crate) fn server_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_SERVER_TEXT + 3));
    for (n, c) in text.chars().enumerate() {
        if n == MAX_SERVER_TEXT {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_error_message_names_status_code_and_description() {
        let e = Error::from(OAuthError {
            error: "invalid_scope".into(),
            error_description: Some("scope admin is not allowed".into()),
            error_uri: None,
            status: 400,
            attempts: 1,
        });
        assert_eq!(
            e.to_string(),
            "token endpoint refused the request (HTTP 400): invalid_scope: scope admin is not allowed"
        );
        assert_eq!(e.kind().code(), "ERR_OAUTH");
        assert_eq!(e.status(), Some(400));
    }

    #[test]
    fn server_text_is_bounded_and_has_no_control_characters() {
        let long = format!("{}\r\n\u{1b}[31mINFO forged", "x".repeat(50_000));
        let clean = server_text(&long);
        assert_eq!(clean.chars().count(), MAX_SERVER_TEXT + 1);
        assert!(!clean.chars().any(char::is_control));
        assert_eq!(server_text("a\nb\u{1b}c"), "a b c");
    }

    #[test]
    fn scrub_removes_the_secret_from_every_text() {
        let e = Error::from(OAuthError {
            error: "invalid_client".into(),
            error_description: Some("bad secret s3cr3t-value".into()),
            error_uri: Some("https://x/s3cr3t-value".into()),
            status: 401,
            attempts: 1,
        })
        .scrub(&Redactor::new("svc", Some(&"s3cr3t-value".into())));
        let Error::OAuth(o) = &e else {
            panic!("kind changed")
        };
        assert_eq!(
            o.error_description.as_deref(),
            Some("bad secret [redacted]")
        );
        assert_eq!(o.error_uri.as_deref(), Some("https://x/[redacted]"));
    }
}
