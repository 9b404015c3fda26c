//! What a protected API's `401 Unauthorized` means for the token (RFC 6750 §3, RFC 9110 §11.6.1): the HTTP
//! integrations of every language ask here whether to drop the token and replay the request once, so that
//! they all decide alike.

/// One challenge of a `WWW-Authenticate` header: its scheme and auth-params (names lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Whether an API answer says the access token it was sent is no good — `401` with a `Bearer` (or `DPoP`)
/// challenge whose `error` is `invalid_token` — so that a new token may succeed where it failed. A 401 for
/// any other reason (no challenge, another scheme, `insufficient_scope`) is the caller's to handle: a new
/// token would be refused the same way.
pub fn token_rejected<'a>(
    status: u16,
    www_authenticate: impl IntoIterator<Item = &'a str>,
) -> bool {
    status == 401
        && www_authenticate
            .into_iter()
            .flat_map(parse_challenges)
            .any(|c| {
                (c.scheme.eq_ignore_ascii_case("Bearer") || c.scheme.eq_ignore_ascii_case("DPoP"))
                    && c.param("error") == Some("invalid_token")
            })
}

/// What an integration does with an API's answer to a request that carried the token: whether to drop the
/// token and send the request once more with a new one. Only when the token was rejected
/// ([`token_rejected`]) by the origin it was sent to (a redirect elsewhere never carried it), the body can be
/// sent again (not a consumed stream), and the request was not already sent again once. Every integration
/// of every language asks this; none decides on its own.
pub fn replay_with_new_token<'a>(
    status: u16,
    www_authenticate: impl IntoIterator<Item = &'a str>,
    answered_by_token_origin: bool,
    body_replayable: bool,
    already_replayed: bool,
) -> bool {
    answered_by_token_origin
        && body_replayable
        && !already_replayed
        && token_rejected(status, www_authenticate)
}

/// Parses one `WWW-Authenticate` value into its challenges. Lenient, as a client must be: a malformed part
/// ends parsing with what was read so far instead of failing.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut p = Parser {
        s: header.as_bytes(),
        i: 0,
    };
    let mut out: Vec<Challenge> = Vec::new();
    loop {
        p.skip_separators();
        let Some(scheme) = p.token() else {
            break;
        };
        let mut challenge = Challenge {
            scheme,
            params: Vec::new(),
        };
        // auth-params (`name=value`, comma-separated) or a token68, until the next challenge's scheme.
        loop {
            p.skip_ws();
            let mark = p.i;
            let Some(name) = p.token() else {
                // A token68 (e.g. base64 with '=' padding) or garbage: skip to the next comma.
                p.skip_until_comma();
                if p.i == mark {
                    break;
                }
                continue;
            };
            p.skip_ws();
            if !p.eat(b'=') {
                // Not a parameter: `name` is the next challenge's scheme.
                p.i = mark;
                break;
            }
            if p.peek() == Some(b'=') {
                // `abc==`: a token68 with padding, not a parameter.
                p.skip_until_comma();
                continue;
            }
            p.skip_ws();
            let value = if p.peek() == Some(b'"') {
                p.quoted()
            } else {
                p.token().unwrap_or_default()
            };
            challenge.params.push((name.to_ascii_lowercase(), value));
            p.skip_ws();
            if !p.eat(b',') {
                break;
            }
        }
        out.push(challenge);
        if p.i >= p.s.len() {
            break;
        }
    }
    out
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.i += 1;
        }
    }

    fn skip_until_comma(&mut self) {
        while let Some(b) = self.peek() {
            self.i += 1;
            if b == b',' {
                break;
            }
        }
    }

    /// An RFC 9110 token (tchar+).
    fn token(&mut self) -> Option<String> {
        let start = self.i;
        while let Some(b) = self.peek() {
            let tchar = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            if !tchar {
                break;
            }
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// A quoted-string, with backslash escapes; an unterminated one ends at the end of the header.
    fn quoted(&mut self) -> String {
        self.i += 1;
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(next) = self.peek() {
                        out.push(next);
                        self.i += 1;
                    }
                }
                other => out.push(other),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_replayed_only_when_every_condition_holds() {
        let rejected = ["Bearer error=\"invalid_token\""];
        assert!(replay_with_new_token(401, rejected, true, true, false));
        assert!(
            !replay_with_new_token(401, rejected, false, true, false),
            "another origin answered"
        );
        assert!(
            !replay_with_new_token(401, rejected, true, false, false),
            "a consumed stream"
        );
        assert!(
            !replay_with_new_token(401, rejected, true, true, true),
            "sent again already"
        );
        assert!(!replay_with_new_token(403, rejected, true, true, false));
        assert!(!replay_with_new_token(
            401,
            ["Bearer error=\"insufficient_scope\""],
            true,
            true,
            false
        ));
    }

    #[test]
    fn parses_schemes_params_and_quoted_values() {
        let c = parse_challenges(
            r#"Bearer realm="api", error="invalid_token", error_description="The access token \"expired\"", Basic realm=x"#,
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, "Bearer");
        assert_eq!(c[0].param("realm"), Some("api"));
        assert_eq!(c[0].param("ERROR"), Some("invalid_token"));
        assert_eq!(
            c[0].param("error_description"),
            Some(r#"The access token "expired""#)
        );
        assert_eq!(c[1].scheme, "Basic");
        assert_eq!(c[1].param("realm"), Some("x"));
    }

    #[test]
    fn a_bare_scheme_and_a_token68_are_understood() {
        let c = parse_challenges("Negotiate abc123==, Bearer");
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].scheme, "Negotiate");
        assert_eq!(c[1].scheme, "Bearer");
        assert!(c[1].params.is_empty());
    }

    #[test]
    fn only_an_invalid_token_challenge_on_a_401_rejects_the_token() {
        let expired = r#"Bearer error="invalid_token", error_description="expired""#;
        assert!(token_rejected(401, [expired]));
        assert!(token_rejected(401, ["Basic realm=x", expired]));
        assert!(token_rejected(401, [r#"dpop error="invalid_token""#]));
        assert!(!token_rejected(403, [expired]));
        assert!(!token_rejected(401, [r#"Bearer realm="api""#]));
        assert!(!token_rejected(
            401,
            [r#"Bearer error="insufficient_scope""#]
        ));
        assert!(!token_rejected(401, [r#"Basic error="invalid_token""#]));
        assert!(!token_rejected(401, std::iter::empty()));
    }

    #[test]
    fn malformed_headers_do_not_panic() {
        for h in [
            "",
            ",,,",
            "=",
            "Bearer =",
            "Bearer error=\"unterminated",
            "Bearer error=\"x\\",
            "\u{1F600} Bearer",
            "Bearer a=b c=d",
        ] {
            let _ = parse_challenges(h);
            let _ = token_rejected(401, [h]);
        }
    }
}
