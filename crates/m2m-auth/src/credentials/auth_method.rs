//! The client authentication methods of the token endpoint (RFC 6749 §2.3, RFC 7523, RFC 8705, OIDC Core §9),
//! under the names discovery documents, environment variables and every binding use.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// How the client authenticates itself at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AuthMethod {
    /// `client_id` and `client_secret` in the form body: what SecureAuth's quick start shows.
    #[default]
    ClientSecretPost,
    /// HTTP Basic with the form-encoded id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// A JWT assertion signed HS256 with the client secret; the secret itself never travels.
    ClientSecretJwt,
    /// A JWT assertion signed with the client's private key (RFC 7523 §2.2).
    PrivateKeyJwt,
    /// A client certificate issued by a CA the server trusts, on the TLS connection (RFC 8705 §2.1).
    TlsClientAuth,
    /// A self-signed client certificate registered with the server (RFC 8705 §2.2).
    SelfSignedTlsClientAuth,
}

/// What a method needs from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credential {
    Secret,
    PrivateKey,
    Certificate,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 6] = [
        AuthMethod::ClientSecretPost,
        AuthMethod::ClientSecretBasic,
        AuthMethod::ClientSecretJwt,
        AuthMethod::PrivateKeyJwt,
        AuthMethod::TlsClientAuth,
        AuthMethod::SelfSignedTlsClientAuth,
    ];

    /// The name used in discovery documents, environment variables and every binding.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::TlsClientAuth => "tls_client_auth",
            Self::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
        }
    }

    pub(crate) fn credential(self) -> Credential {
        match self {
            Self::ClientSecretPost | Self::ClientSecretBasic | Self::ClientSecretJwt => {
                Credential::Secret
            }
            Self::PrivateKeyJwt => Credential::PrivateKey,
            Self::TlsClientAuth | Self::SelfSignedTlsClientAuth => Credential::Certificate,
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuthMethod {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|m| m.as_str()).collect();
                Error::config(
                    "auth_method",
                    format!(
                        "{s:?} is not an auth method; expected one of {}",
                        known.join(", ")
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_the_field() {
        for m in AuthMethod::ALL {
            assert_eq!(m.as_str().parse::<AuthMethod>().expect("parse"), m);
        }
        match "private_key".parse::<AuthMethod>() {
            Err(Error::Config { field, message }) => {
                assert_eq!(field, "auth_method");
                assert!(message.contains("private_key_jwt"), "{message}");
            }
            other => panic!("expected a config error, got {other:?}"),
        }
    }
}
