//! `GET /api/roles`, `POST|DELETE /api/role/{role}`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::envelope::ok;
use super::extract::{name, ApiPath, OptionalJson, Tenant};
use super::views::{self, Created, Removed};
use super::{ApiError, ApiResult, AppState};
use crate::domain::NameKind;

/// The longest role description accepted, in characters.
const MAX_DESCRIPTION_CHARS: usize = 1024;

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
    let description = body.and_then(|b| b.description);
    if let Some(text) = &description {
        if text.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                format!("description is longer than {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
    }
    let created = state
        .rbac
        .create_role(&tenant, &role, description.as_deref())
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
