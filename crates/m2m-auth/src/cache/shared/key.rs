//! The name of a token in a shared cache, and the key its entry is sealed with.
//!
//! The name is the prefix and a SHA-256 over everything that makes two clients' tokens interchangeable: the
//! token endpoint, the client id, the authentication method, a fingerprint of the credential, the scopes
//! (sorted), the audience, the resources and the extra parameters. A rotated secret therefore never finds the
//! old token, and a certificate-bound token is found only by holders of that certificate. The secret itself is
//! in no name: a keyed hash of it is.

use aws_lc_rs::{digest, hkdf, hmac};
use zeroize::Zeroizing;

use crate::config::ClientConfig;
use crate::config::params::TokenParams;
use crate::credentials::auth_method::Credential;
use crate::error::{Error, Result};

/// What identifies the credential, and the secret the entries' encryption key comes from.
pub(crate) struct CredentialKeys {
    /// Goes into every entry's name.
    pub fingerprint: Vec<u8>,
    /// The AES-256-GCM key of the entries.
    pub seal: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for CredentialKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialKeys([redacted])")
    }
}

const FINGERPRINT_CONTEXT: &[u8] = b"m2m-auth shared cache: credential fingerprint v1";
const SEAL_SALT: &[u8] = b"m2m-auth shared cache: entry key v1";

impl CredentialKeys {
    /// From the client's credential; or, with `explicit` (`cache_encryption_key`), the entries are sealed with
    /// that key and every holder of it shares them — except for certificate-bound tokens, which stay with the
    /// holders of the certificate.
    pub fn new(cfg: &ClientConfig, explicit: Option<&[u8; 32]>) -> Result<Self> {
        let missing =
            |what: &str| Error::Internal(format!("the client has no {what} to key the cache"));
        let (fingerprint, material): (Vec<u8>, Zeroizing<Vec<u8>>) =
            match cfg.auth_method.credential() {
                Credential::Secret => {
                    let secret = cfg
                        .client_secret
                        .as_ref()
                        .ok_or_else(|| missing("secret"))?;
                    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
                    (
                        hmac::sign(&key, FINGERPRINT_CONTEXT).as_ref().to_vec(),
                        Zeroizing::new(secret.expose().as_bytes().to_vec()),
                    )
                }
                Credential::PrivateKey => {
                    let key = cfg
                        .private_key
                        .as_ref()
                        .ok_or_else(|| missing("private key"))?;
                    (key.public_digest(), key.secret_material()?)
                }
                Credential::Certificate => {
                    let cert = cfg
                        .client_cert
                        .as_ref()
                        .ok_or_else(|| missing("client certificate"))?;
                    (
                        cert.thumbprint().as_bytes().to_vec(),
                        Zeroizing::new(cert.key_digest().to_vec()),
                    )
                }
            };
        // A client certificate binds tokens to it (RFC 8705 §3) whatever the method: such a token is only of
        // use to holders of the certificate, so the certificate names the entry too.
        let bound_to_certificate = cfg.client_cert.is_some();
        let fingerprint = match (&cfg.client_cert, cfg.auth_method.credential()) {
            (Some(cert), method) if method != Credential::Certificate => {
                [fingerprint, cert.thumbprint().as_bytes().to_vec()].concat()
            }
            _ => fingerprint,
        };
        match explicit {
            Some(key) => Ok(Self {
                // The key names the sharing group; a certificate-bound token needs its certificate too.
                fingerprint: if bound_to_certificate {
                    let thumbprint = cfg
                        .client_cert
                        .as_ref()
                        .map(|c| c.thumbprint().as_bytes().to_vec());
                    [thumbprint.unwrap_or_default(), sha256(key)].concat()
                } else {
                    sha256(key)
                },
                seal: derive(key),
            }),
            None => Ok(Self {
                fingerprint,
                seal: derive(&material),
            }),
        }
    }
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, bytes).as_ref().to_vec()
}

/// HKDF-SHA256 of `material`: the 32-byte key that seals entries.
fn derive(material: &[u8]) -> Zeroizing<[u8; 32]> {
    struct Len32;
    impl hkdf::KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SEAL_SALT).extract(material);
    let mut out = Zeroizing::new([0u8; 32]);
    // Expanding 32 bytes from SHA-256 cannot fail (the limit is 255 × 32).
    if let Ok(okm) = prk.expand(&[b"aes-256-gcm"], Len32) {
        let _ = okm.fill(&mut out[..]);
    }
    out
}

/// The entry's name for `params`: `prefix` and the hex SHA-256 of every field that tells tokens apart, each
/// length-prefixed so that no two field lists run together into the same bytes.
pub(crate) fn entry_name(
    prefix: &str,
    cfg: &ClientConfig,
    keys: &CredentialKeys,
    params: &TokenParams,
) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    let mut field = |bytes: &[u8]| {
        ctx.update(&(bytes.len() as u64).to_be_bytes());
        ctx.update(bytes);
    };
    // Entries of another format version live under other names: a fleet in a rolling deploy does not fight
    // over one entry.
    field(format!("m2m-auth token v{}", super::entry::FORMAT_VERSION).as_bytes());
    // The endpoint: the token URL, or the issuer whose metadata names it.
    match (&cfg.token_url, &cfg.issuer) {
        (Some(url), _) => field(url.as_str().as_bytes()),
        (None, Some(issuer)) => field(format!("issuer {issuer}").as_bytes()),
        (None, None) => field(b""),
    }
    field(cfg.client_id.as_bytes());
    field(cfg.auth_method.to_string().as_bytes());
    field(&keys.fingerprint);
    let mut scopes = params.scopes.clone();
    scopes.sort();
    field(&(scopes.len() as u64).to_be_bytes());
    for scope in &scopes {
        field(scope.as_bytes());
    }
    field(params.audience.as_deref().unwrap_or("").as_bytes());
    field(&[u8::from(params.audience.is_some())]);
    field(&(params.resources.len() as u64).to_be_bytes());
    for resource in &params.resources {
        field(resource.as_bytes());
    }
    let extra: Vec<_> = params.extra_fields(&cfg.extra_params).collect();
    field(&(extra.len() as u64).to_be_bytes());
    for (name, value) in extra {
        field(name.as_bytes());
        field(value.as_bytes());
    }
    let digest = ctx.finish();
    // The hash in braces: a Redis Cluster hash tag, so that the entry and its lock (`name:lock`) share a slot
    // and a node, and a write lands before the release that follows it.
    let mut name = String::with_capacity(prefix.len() + 66);
    name.push_str(prefix);
    name.push('{');
    for byte in digest.as_ref() {
        name.push_str(&format!("{byte:02x}"));
    }
    name.push('}');
    name
}
