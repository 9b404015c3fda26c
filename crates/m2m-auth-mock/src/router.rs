//! The URL map of the server.

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use serde_json::json;

use crate::state::Shared;
use crate::{admin, api, discovery, introspection, token_endpoint};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/oauth2/token", any(token_endpoint::token))
        .route("/oauth2/introspect", any(introspection::introspect))
        .route("/jwks", get(discovery::jwks_handler))
        .route(
            "/.well-known/openid-configuration",
            get(discovery::metadata_handler),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::metadata_handler),
        )
        // The protected resource; `/api` and `/api/` too, which the catch-all does not match.
        .route("/api", any(api::handle))
        .route("/api/", any(api::handle))
        .route("/api/{*path}", any(api::handle))
        .route("/mock/faults", post(admin::push_faults))
        .route("/mock/clients", post(admin::register_client))
        .route("/mock/stats", get(admin::stats))
        .route("/mock/requests", get(admin::requests))
        .route("/mock/reset", post(admin::reset))
        .route("/mock/token-lifetime", post(admin::token_lifetime))
        .route("/mock/api/reject", post(admin::reject_api_tokens))
        .route("/mock/api/requests", get(admin::api_requests))
        .route("/mock/keys/rotate", post(admin::rotate_keys))
        .route("/mock/tokens", post(admin::mint_tokens))
        .route("/mock/outage", post(admin::outage))
        .fallback(not_found)
        .with_state(shared)
}

async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": "not_found", "error_description": "no such endpoint"})),
    )
}
