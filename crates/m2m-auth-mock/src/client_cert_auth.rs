//! Client authentication with a TLS client certificate (RFC 8705 §2): `tls_client_auth` (a
//! certificate from the mock's CA whose subject DN is the registered one) and
//! `self_signed_tls_client_auth` (a certificate registered in the client's JWKS `x5c`).

use crate::auth_method::{SELF_SIGNED_TLS_CLIENT_AUTH, TLS_CLIENT_AUTH, TLS_METHODS};
use crate::connection::{Connection, Endpoint};
use crate::dn;
use crate::oauth_error::OAuthError;
use crate::registered_client::RegisteredClient;
use crate::state::Shared;

/// The TLS methods `client` is registered for, in the order they are tried.
pub(crate) fn registered_tls_methods(client: &RegisteredClient) -> Vec<&'static str> {
    TLS_METHODS
        .iter()
        .copied()
        .filter(|m| client.allows_method(m))
        .collect()
}

/// Authenticates `client` (registered for at least one TLS method) by the certificate of
/// `connection`; returns the method that succeeded.
pub(crate) fn authenticate(
    shared: &Shared,
    client: &RegisteredClient,
    connection: &Connection,
) -> Result<&'static str, OAuthError> {
    let registered = registered_tls_methods(client);
    let offered: Vec<&'static str> = registered
        .iter()
        .copied()
        .filter(|m| shared.supports(m))
        .collect();
    let names = registered.join(" / ");
    let Some(pki) = shared.pki() else {
        return Err(OAuthError::invalid_client(format!(
            "a client certificate is required ({names}), but this server does not serve TLS (start it with tls: true)"
        )));
    };
    if offered.is_empty() {
        return Err(OAuthError::invalid_client(format!(
            "{names} is not supported by this server"
        )));
    }
    let Some(chain) = connection.client_certs.as_deref().filter(|c| !c.is_empty()) else {
        let hint = match (connection.endpoint, shared.mtls_token_url()) {
            (Endpoint::Main, Some(alias)) => {
                format!(": send the request to the mTLS endpoint alias {alias}")
            }
            _ => String::new(),
        };
        return Err(OAuthError::invalid_client(format!(
            "a client certificate is required ({}), but none was presented{hint}",
            offered.join(" / ")
        )));
    };
    let leaf = chain.first().map(|c| c.as_ref()).unwrap_or_default();
    let mut failures = Vec::new();
    for method in offered {
        let outcome = if method == TLS_CLIENT_AUTH {
            pki.verify_chain(chain)
                .map_err(|e| {
                    format!("the client certificate does not chain to the mock's client CA ({e})")
                })
                .and_then(|()| subject_matches(client, leaf))
        } else {
            registered_self_signed(client, leaf)
        };
        match outcome {
            Ok(()) => return Ok(method),
            Err(why) => failures.push(format!("{method}: {why}")),
        }
    }
    Err(OAuthError::invalid_client(failures.join("; ")))
}

fn subject_matches(client: &RegisteredClient, leaf: &[u8]) -> Result<(), String> {
    let registered = client
        .tls_client_auth_subject_dn
        .as_deref()
        .ok_or("the client has no registered tls_client_auth_subject_dn")?;
    let registered = dn::canonicalize(registered)?;
    let presented = dn::certificate_subject(leaf)
        .map_err(|e| format!("the client certificate's subject cannot be read: {e}"))?;
    if presented == registered {
        Ok(())
    } else {
        Err(format!(
            "wrong subject DN: the client certificate's subject is \"{presented}\", the registered one \"{registered}\""
        ))
    }
}

fn registered_self_signed(client: &RegisteredClient, leaf: &[u8]) -> Result<(), String> {
    let keys = client.keys()?;
    if keys
        .iter()
        .flat_map(|k| &k.x5c)
        .any(|der| der.as_slice() == leaf)
    {
        Ok(())
    } else {
        Err(format!(
            "the client certificate is not registered: it is not among the x5c certificates of the client's jwks ({SELF_SIGNED_TLS_CLIENT_AUTH} compares the whole certificate)"
        ))
    }
}
