//! One fetch: requests to the token endpoint until one succeeds, a failure is final, the attempts run out
//! or the deadline passes. Waits follow the retry policy and the server's `Retry-After`.

use std::time::{Duration, Instant};

use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::events::{EventKind, EventLevel, emit};
use crate::params::TokenParams;
use crate::request::request_token;
use crate::retry::is_retryable;
use crate::token::Token;

pub(crate) async fn fetch_with_retries(
    http: &reqwest::Client,
    cfg: &ClientConfig,
    params: &TokenParams,
    deadline: Instant,
) -> Result<Token> {
    let policy = &cfg.retry;
    let say = |level, kind, message: String| {
        emit(
            cfg.event_hook.as_ref(),
            level,
            kind,
            &cfg.client_id,
            message,
        )
    };
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(deadline_passed(cfg, attempt - 1));
        }
        say(
            EventLevel::Debug,
            EventKind::Request,
            format!(
                "requesting a token from {} (attempt {attempt}, scopes [{}])",
                cfg.token_url,
                params.scopes().join(" ")
            ),
        );
        let failure = match request_token(http, cfg, params, cfg.timeout.min(left)).await {
            Ok(token) => {
                say(
                    EventLevel::Debug,
                    EventKind::TokenReceived,
                    format!(
                        "token received from {} (expires in {}s)",
                        cfg.token_url,
                        token.lifetime().as_secs()
                    ),
                );
                return Ok(token);
            }
            Err(f) => f,
        };
        let error = failure.error.scrub(cfg.client_secret.expose());
        if !is_retryable(&error) || attempt >= policy.max_attempts {
            return Err(error.with_attempts(attempt));
        }
        let wait = match failure.retry_after {
            // The server knows when it will be ready; asking sooner only adds load.
            Some(after) => after.min(policy.max_retry_after),
            None => policy.backoff(attempt),
        };
        if Instant::now() + wait >= deadline {
            return Err(error.with_attempts(attempt));
        }
        say(
            EventLevel::Info,
            EventKind::Retry,
            format!(
                "attempt {attempt} failed, retrying in {}ms: {error}",
                wait.as_millis()
            ),
        );
        tokio::time::sleep(wait).await;
    }
}

fn deadline_passed(cfg: &ClientConfig, attempts: u32) -> Error {
    Error::Transport {
        message: format!(
            "no token from {} within the retry deadline of {:?}",
            cfg.token_url, cfg.retry.deadline
        ),
        timeout: true,
        attempts,
    }
}

/// How long to wait before the next background refresh after one failed: a quarter of the time the current
/// token has left, so that several tries fit before it expires, within sane bounds.
pub(crate) fn refresh_retry_delay(left: Duration) -> Duration {
    (left / 4).clamp(Duration::from_millis(100), Duration::from_secs(30))
}
