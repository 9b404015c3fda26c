//! Proxies, as the environment says — `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` (lower case too) and
//! `NO_PROXY` — with one exception: a request to this host itself (loopback) never goes through a proxy.
//! Such a request is plain http more often than not (a local token endpoint, a sidecar), and a proxy would
//! see the secret or the token in clear text.

use reqwest::{NoProxy, Proxy};

/// The hosts that never go through a proxy: every loopback name and address (IPv4-mapped too).
const LOOPBACK: &str = "localhost, 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104";

/// The proxies the environment asks for, each bypassing loopback and what `NO_PROXY` names. Empty when
/// no proxy is set.
pub(crate) fn proxies_from_env() -> Vec<Proxy> {
    proxies(|name| std::env::var(name).ok())
}

fn proxies(var: impl Fn(&str) -> Option<String>) -> Vec<Proxy> {
    let first = |names: &[&str]| {
        names.iter().find_map(|n| {
            var(n)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        })
    };
    let no_proxy = match first(&["NO_PROXY", "no_proxy"]) {
        Some(list) => format!("{list}, {LOOPBACK}"),
        None => LOOPBACK.to_owned(),
    };
    // Under CGI, HTTP_PROXY is a request header an attacker sets ("httpoxy"); only http_proxy counts there.
    let http_names: &[&str] = if var("REQUEST_METHOD").is_some() {
        &["http_proxy"]
    } else {
        &["http_proxy", "HTTP_PROXY"]
    };
    let mut out = Vec::new();
    let mut add = |url: Option<String>, make: fn(String) -> reqwest::Result<Proxy>| {
        // A malformed proxy URL is ignored, as other HTTP clients do, rather than failing every request.
        if let Some(proxy) = url.and_then(|u| make(u).ok()) {
            out.push(proxy.no_proxy(NoProxy::from_string(&no_proxy)));
        }
    };
    add(first(http_names), Proxy::http);
    add(first(&["https_proxy", "HTTPS_PROXY"]), Proxy::https);
    add(first(&["all_proxy", "ALL_PROXY"]), Proxy::all);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_set_means_no_proxy() {
        assert!(proxies(|_| None).is_empty());
    }

    #[test]
    fn each_variable_gives_a_proxy() {
        let env = |name: &str| {
            matches!(name, "HTTP_PROXY" | "https_proxy" | "ALL_PROXY")
                .then(|| "http://127.0.0.1:3128".to_owned())
        };
        assert_eq!(proxies(env).len(), 3);
        let cgi = |name: &str| match name {
            "HTTP_PROXY" => Some("http://127.0.0.1:3128".to_owned()),
            "REQUEST_METHOD" => Some("GET".to_owned()),
            _ => None,
        };
        assert!(proxies(cgi).is_empty(), "HTTP_PROXY is ignored under CGI");
    }
}
