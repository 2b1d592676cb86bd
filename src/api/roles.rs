//! `GET /api/roles`, `POST|DELETE /api/role/{role}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::envelope::ok;
use super::extract::{name, ApiPath, OptionalJson, Tenant};
use super::views::{self, Created, Removed};
use super::{ApiError, ApiResult, AppState};
use crate::domain::{Description, NameKind};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/roles", get(list_roles))
        .route("/api/role/{role}", post(create_role).delete(delete_role))
}

async fn list_roles(State(state): State<AppState>, Tenant(tenant): Tenant) -> ApiResult {
    let roles = state.rbac.roles(&tenant).await?;
    Ok(ok("roles listed", views::roles(roles)))
}

#[derive(Deserialize)]
struct NewRole {
    description: Option<String>,
}

async fn create_role(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(role): ApiPath<String>,
    OptionalJson(body): OptionalJson<NewRole>,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let description = body
        .and_then(|b| b.description)
        .map(Description::parse)
        .transpose()
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let created = state
        .rbac
        .create_role(&tenant, &role, description.as_ref())
        .await?;
    let message = if created {
        "role created"
    } else {
        "role already exists"
    };
    Ok(ok(message, Created { created }))
}

async fn delete_role(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(role): ApiPath<String>,
) -> ApiResult {
    let role = name(NameKind::Role, &role)?;
    let removed = state.rbac.delete_role(&tenant, &role).await?;
    let message = if removed {
        "role deleted"
    } else {
        "role did not exist"
    };
    Ok(ok(message, Removed { removed }))
}
