//! What a route asks of a valid token, beyond what every token of the verifier passes: scopes (all of a set,
//! or any one of a set), the calling clients allowed, and conditions on claims; composed with `all_of` and
//! `any_of`. Built in code once per route, evaluated here for every request. A token that fails a policy is
//! valid but not good enough for this route: a 403 `insufficient_scope` (RFC 6750 §3.1), whose `scope`
//! names the scopes that would have passed.

use serde_json::Value;

use super::claims::Claims;
use super::error::Rejection;

/// A route's requirements.
#[derive(Debug, Clone, PartialEq)]
pub enum Policy {
    /// Every one of these scopes.
    AllScopes(Vec<String>),
    /// At least one of these scopes.
    AnyScope(Vec<String>),
    /// The token's client id (`client_id`, else `azp`, else `sub`) is one of these.
    ClientIds(Vec<String>),
    /// The claim is exactly this JSON value.
    ClaimEquals { claim: String, value: Value },
    /// The claim is exactly one of these JSON values.
    ClaimOneOf { claim: String, values: Vec<Value> },
    /// Every one of these policies.
    AllOf(Vec<Policy>),
    /// At least one of these policies.
    AnyOf(Vec<Policy>),
}

fn refused(description: String, required: Vec<String>) -> Rejection {
    Rejection::InsufficientScope {
        description,
        required,
    }
}

impl Policy {
    /// Whether `claims` meet the policy; if not, the first requirement they miss.
    pub fn check(&self, claims: &Claims) -> Result<(), Rejection> {
        match self {
            Self::AllScopes(scopes) => {
                let missing: Vec<&str> = scopes
                    .iter()
                    .filter(|s| !claims.scopes.contains(s))
                    .map(String::as_str)
                    .collect();
                match missing.is_empty() {
                    true => Ok(()),
                    false => Err(refused(
                        format!("the token lacks the scope {}", missing.join(" ")),
                        scopes.clone(),
                    )),
                }
            }
            Self::AnyScope(scopes) => match scopes.iter().any(|s| claims.scopes.contains(s)) {
                true => Ok(()),
                false => Err(refused(
                    format!("the token has none of the scopes {}", scopes.join(" ")),
                    scopes.clone(),
                )),
            },
            Self::ClientIds(ids) => {
                match claims.client_id.as_ref().is_some_and(|c| ids.contains(c)) {
                    true => Ok(()),
                    false => Err(refused(
                        "the token's client may not call this route".into(),
                        Vec::new(),
                    )),
                }
            }
            Self::ClaimEquals { claim, value } => {
                Self::claim_is(claims, claim, std::slice::from_ref(value))
            }
            Self::ClaimOneOf { claim, values } => Self::claim_is(claims, claim, values),
            Self::AllOf(policies) => policies.iter().try_for_each(|p| p.check(claims)),
            Self::AnyOf(policies) => {
                let mut first = None;
                for policy in policies {
                    match policy.check(claims) {
                        Ok(()) => return Ok(()),
                        Err(e) => {
                            first.get_or_insert(e);
                        }
                    }
                }
                Err(first.unwrap_or_else(|| {
                    refused(
                        "no alternative of the route's policy is met".into(),
                        Vec::new(),
                    )
                }))
            }
        }
    }

    /// A policy described in JSON, as the Node package builds one: `{"all_scopes": [...]}`,
    /// `{"any_scope": [...]}`, `{"client_ids": [...]}`, `{"claim": NAME, "equals": VALUE}`,
    /// `{"claim": NAME, "one_of": [VALUES]}`, `{"all_of": [POLICIES]}`, `{"any_of": [POLICIES]}`.
    pub fn from_json(description: &Value) -> Result<Self, String> {
        let Value::Object(fields) = description else {
            return Err("a policy is a JSON object".into());
        };
        let strings = |v: &Value, what: &str| -> Result<Vec<String>, String> {
            v.as_array()
                .and_then(|items| {
                    items
                        .iter()
                        .map(|i| i.as_str().map(str::to_owned))
                        .collect()
                })
                .ok_or_else(|| format!("{what} takes an array of strings"))
        };
        let policies = |v: &Value, what: &str| -> Result<Vec<Policy>, String> {
            v.as_array()
                .ok_or_else(|| format!("{what} takes an array of policies"))?
                .iter()
                .map(Policy::from_json)
                .collect()
        };
        let claim = || {
            fields
                .get("claim")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| "a claim condition names its claim (a string)".to_owned())
        };
        let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
        match keys.as_slice() {
            ["all_scopes"] => Ok(Self::AllScopes(strings(
                &fields["all_scopes"],
                "all_scopes",
            )?)),
            ["any_scope"] => Ok(Self::AnyScope(strings(&fields["any_scope"], "any_scope")?)),
            ["client_ids"] => Ok(Self::ClientIds(strings(
                &fields["client_ids"],
                "client_ids",
            )?)),
            ["all_of"] => Ok(Self::AllOf(policies(&fields["all_of"], "all_of")?)),
            ["any_of"] => Ok(Self::AnyOf(policies(&fields["any_of"], "any_of")?)),
            ["claim", "equals"] | ["equals", "claim"] => Ok(Self::ClaimEquals {
                claim: claim()?,
                value: fields["equals"].clone(),
            }),
            ["claim", "one_of"] | ["one_of", "claim"] => Ok(Self::ClaimOneOf {
                claim: claim()?,
                values: fields["one_of"]
                    .as_array()
                    .cloned()
                    .ok_or("one_of takes an array of values")?,
            }),
            _ => Err(format!(
                "{description} is no policy: one of all_scopes, any_scope, client_ids, claim with equals or \
                 one_of, all_of, any_of"
            )),
        }
    }

    fn claim_is(claims: &Claims, claim: &str, values: &[Value]) -> Result<(), Rejection> {
        let found = claims.claims.get(claim);
        match found.is_some_and(|v| values.iter().any(|w| same_value(v, w))) {
            true => Ok(()),
            // The claim's value is not repeated: it is the caller's, and the caller knows it.
            false => Err(refused(
                format!("the token's {claim} claim does not have a value this route accepts"),
                Vec::new(),
            )),
        }
    }
}

/// JSON equality, numbers by value: `2` and `2.0` are one number whichever way a binding carried it (a JS
/// number, a Python float).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn claims(scopes: &[&str], client: &str, extra: Value) -> Claims {
        let mut all = Map::new();
        if let Value::Object(extra) = extra {
            all.extend(extra);
        }
        Claims {
            issuer: "https://as.example".into(),
            subject: Some(client.into()),
            client_id: Some(client.into()),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            audience: vec!["api".into()],
            expires_at: 0.0,
            claims: all,
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn scopes_all_of_and_any_of() {
        let c = claims(&["a", "b"], "svc", json!({}));
        assert!(Policy::AllScopes(strings(&["a", "b"])).check(&c).is_ok());
        let e = Policy::AllScopes(strings(&["a", "c"]))
            .check(&c)
            .expect_err("c is missing");
        assert_eq!(e.status(), 403);
        assert_eq!(e.description(), "the token lacks the scope c");
        assert!(e.www_authenticate(None).contains(r#"scope="a c""#));
        assert!(Policy::AnyScope(strings(&["x", "b"])).check(&c).is_ok());
        assert!(Policy::AnyScope(strings(&["x", "y"])).check(&c).is_err());
    }

    #[test]
    fn clients_and_claims() {
        let c = claims(&[], "svc-7", json!({"tenant": "acme", "tier": 2}));
        assert!(
            Policy::ClientIds(strings(&["svc-1", "svc-7"]))
                .check(&c)
                .is_ok()
        );
        let e = Policy::ClientIds(strings(&["svc-1"]))
            .check(&c)
            .expect_err("other client");
        assert_eq!(
            e.www_authenticate(None),
            r#"Bearer error="insufficient_scope", error_description="the token's client may not call this route""#
        );
        let equals = |claim: &str, value: Value| Policy::ClaimEquals {
            claim: claim.into(),
            value,
        };
        assert!(equals("tenant", json!("acme")).check(&c).is_ok());
        assert!(equals("tenant", json!("other")).check(&c).is_err());
        // A number is not its text, but is itself however written; a missing claim matches nothing.
        assert!(equals("tier", json!("2")).check(&c).is_err());
        assert!(equals("tier", json!(2.0)).check(&c).is_ok());
        assert!(equals("region", json!("eu")).check(&c).is_err());
        let one_of = Policy::ClaimOneOf {
            claim: "tier".into(),
            values: vec![json!(1), json!(2)],
        };
        assert!(one_of.check(&c).is_ok());
    }

    #[test]
    fn policies_read_from_json() {
        let p = Policy::from_json(&json!({"any_of": [
            {"all_scopes": ["a"]},
            {"claim": "tenant", "one_of": ["acme", 7]},
            {"all_of": [{"client_ids": ["svc"]}, {"any_scope": ["x"]}, {"claim": "t", "equals": true}]}
        ]}))
        .expect("a policy");
        let Policy::AnyOf(parts) = &p else {
            panic!("any_of")
        };
        assert_eq!(parts[0], Policy::AllScopes(strings(&["a"])));
        assert_eq!(
            parts[1],
            Policy::ClaimOneOf {
                claim: "tenant".into(),
                values: vec![json!("acme"), json!(7)]
            }
        );
        for bad in [
            json!([]),
            json!({"all_scopes": "a"}),
            json!({"scopes": ["a"]}),
            json!({"claim": 1, "equals": 2}),
            json!({"all_scopes": ["a"], "any_scope": ["b"]}),
        ] {
            assert!(Policy::from_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn compositions() {
        let c = claims(&["read"], "svc", json!({"tenant": "acme"}));
        let admin = Policy::AllScopes(strings(&["admin"]));
        let reader_of_acme = Policy::AllOf(vec![
            Policy::AllScopes(strings(&["read"])),
            Policy::ClaimEquals {
                claim: "tenant".into(),
                value: json!("acme"),
            },
        ]);
        assert!(
            Policy::AnyOf(vec![admin.clone(), reader_of_acme])
                .check(&c)
                .is_ok()
        );
        let e = Policy::AnyOf(vec![admin.clone(), Policy::AnyScope(strings(&["write"]))])
            .check(&c)
            .expect_err("neither");
        assert_eq!(e.description(), "the token lacks the scope admin");
        assert!(Policy::AllOf(vec![]).check(&c).is_ok());
        assert!(Policy::AnyOf(vec![]).check(&c).is_err());
    }
}
