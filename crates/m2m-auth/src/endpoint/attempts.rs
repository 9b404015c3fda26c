//! Requests to the token endpoint until one succeeds, a failure is final, the attempts run out
//! or the deadline passes. Waits follow the retry policy and the server's `Retry-After`.

use std::time::Instant;

use crate::config::ClientConfig;
use crate::config::params::TokenParams;
use crate::endpoint::Endpoint;
use crate::endpoint::request::{Failure, request_token};
use crate::endpoint::retry::is_retryable;
use crate::error::{Error, Result};
use crate::events::{EventKind, EventLevel};
use crate::token::Token;

pub(crate) async fn request_with_retries(
    http: &reqwest::Client,
    cfg: &ClientConfig,
    endpoint: &Endpoint,
    params: &TokenParams,
    deadline: Instant,
) -> Result<Token> {
    let policy = &cfg.retry;
    let say = |level, kind, message: String| cfg.emit(level, kind, message);
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(deadline_passed(cfg, endpoint, attempt - 1));
        }
        let timeout = cfg.timeout.min(left);
        // Discovery, when needed, is part of the attempt: its failures are retried like the token request's.
        let failure = match endpoint.resolve(http, cfg, timeout).await {
            Err(e) => Failure::from(e),
            Ok(token_url) => {
                say(
                    EventLevel::Debug,
                    EventKind::Request,
                    format!(
                        "requesting a token from {token_url} (attempt {attempt}, scopes [{}])",
                        params.scopes().join(" ")
                    ),
                );
                match request_token(http, cfg, &token_url, params, timeout).await {
                    Ok(token) => {
                        if let Some(note) = &token.clock_note {
                            say(EventLevel::Warn, EventKind::ClockSkew, note.clone());
                        }
                        say(
                            EventLevel::Debug,
                            EventKind::TokenReceived,
                            format!(
                                "token received from {token_url} (expires in {}s)",
                                token.lifetime().as_secs()
                            ),
                        );
                        return Ok(token);
                    }
                    Err(f) => f,
                }
            }
        };
        let error = failure.error.scrub(&cfg.redactor).capped();
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

fn deadline_passed(cfg: &ClientConfig, endpoint: &Endpoint, attempts: u32) -> Error {
    let from = match endpoint.known() {
        Some(url) => url.to_string(),
        None => "the token endpoint".to_owned(),
    };
    Error::Transport {
        message: format!(
            "no token from {from} within the retry deadline of {:?}",
            cfg.retry.deadline
        ),
        timeout: true,
        attempts,
    }
}
