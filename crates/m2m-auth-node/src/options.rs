//! The JS options object, converted key by key into the core's `ClientOptions`: each key is looked up among
//! the declared settings (`m2m_auth::settings`) by its Node name and read by the setting's kind, so that a
//! typo or a value of the wrong type is a `ConfigError` naming the option as the caller wrote it, and
//! durations are milliseconds. `index.js` has turned Buffers and JWK objects into text before.

use serde_json::{Map, Value};

use m2m_auth::settings::{self, Kind, Setting, SettingValue, Surface};
use m2m_auth::{ClientOptions, Error};

use crate::error::{config_error_as_written, to_napi};

/// The test hook that makes every fetch panic inside the core (`_panicOnFetch` in `index.js`); only with the
/// `test-hooks` feature.
#[cfg(feature = "test-hooks")]
const PANIC_ON_FETCH: &str = "panicOnFetch";

pub fn client_options(options: Map<String, Value>) -> napi::Result<ClientOptions> {
    let mut o = ClientOptions::default();
    for (key, value) in options {
        if value.is_null() {
            continue;
        }
        #[cfg(feature = "test-hooks")]
        if key == PANIC_ON_FETCH {
            o.panic_on_fetch = value.as_bool().unwrap_or(false);
            continue;
        }
        let setting = settings::find(Surface::Node, &key)
            .ok_or_else(|| config_error_as_written(&key, "is not a TokenClient option"))?;
        let value = read(setting, value).map_err(to_napi)?;
        o.set(setting, value, Surface::Node).map_err(to_napi)?;
    }
    Ok(o)
}

/// An option's value, as its setting's kind says it is written in JS.
pub fn read(setting: &Setting, value: Value) -> m2m_auth::Result<SettingValue> {
    let wrong = |what: &str| Error::Config {
        field: setting.name.into(),
        message: format!("must be {what}"),
    };
    Ok(match setting.kind {
        Kind::Text | Kind::Secret | Kind::Path => match value {
            Value::String(s) => SettingValue::Text(s),
            _ => return Err(wrong("a string")),
        },
        Kind::Key => match value {
            Value::String(s) => SettingValue::Text(s),
            _ => return Err(wrong("PEM or JWK text, a Buffer, or a JWK object")),
        },
        Kind::Pem | Kind::SecretPem => match value {
            Value::String(s) => SettingValue::Text(s),
            _ => return Err(wrong("PEM text (a string or Buffer)")),
        },
        // One audience, or several.
        Kind::Names if value.is_string() => match value {
            Value::String(s) => SettingValue::Text(s),
            _ => return Err(wrong("a string or an array of strings")),
        },
        Kind::List | Kind::Names => match value {
            Value::Array(items) => SettingValue::List(
                items
                    .into_iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s),
                        _ => Err(wrong("an array of strings")),
                    })
                    .collect::<m2m_auth::Result<_>>()?,
            ),
            _ => return Err(wrong("an array of strings")),
        },
        Kind::Pairs => match value {
            Value::Object(map) => {
                let mut pairs = map
                    .into_iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => Ok((k, s)),
                        _ => Err(wrong("an object of strings")),
                    })
                    .collect::<m2m_auth::Result<Vec<_>>>()?;
                // A stable order keeps requests reproducible.
                pairs.sort();
                SettingValue::Pairs(pairs)
            }
            _ => return Err(wrong("an object of strings")),
        },
        Kind::Duration { .. } | Kind::Count { .. } | Kind::Ratio => match &value {
            Value::Number(n) => SettingValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            // JSON has no NaN or Infinity; index.js sends them as text, for the bounds check to name them.
            Value::String(s) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => {
                SettingValue::Number(s.parse().unwrap_or(f64::NAN))
            }
            _ => return Err(wrong("a number")),
        },
        Kind::Flag => match value {
            Value::Bool(b) => SettingValue::Flag(b),
            _ => return Err(wrong("a boolean")),
        },
    })
}
