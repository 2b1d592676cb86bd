//! `PUT|GET|DELETE /api/resources/{type}/{id}`, `GET /api/resources/{type}` and
//! `GET /api/user_resources/{user}/{permission}`: the resources memberships can be scoped to, and which of them
//! a user may act on.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::accounts::optional_time;
use super::envelope::ok;
use super::extract::{
    name, resource as parse_resource, ApiPath, Consistency, Context, OptionalJson, Tenant,
};
use super::paging::Paging;
use super::{ApiError, ApiResult, AppState};
use crate::service::NameListing;
use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use warden_api::Name as WireName;
use warden_api::{
    Envelope, Failures, ListingQuery, NewResource, PageEnvelope, Removed, ResourceTypeQuery,
    ResourceView, ResourceWritten,
};
use warden_core::domain::{Change, NameKind, Resource};
use warden_core::rules::resources::MAX_PROPERTIES_BYTES;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_resource, get_resource, delete_resource))
        .routes(routes!(resources_of_type))
        .routes(routes!(user_resources))
}

fn path_resource((kind, id): (String, String)) -> Result<Resource, ApiError> {
    Resource::new(&kind, &id).map_err(|err| ApiError::bad_request(err.to_string()))
}

fn resource_type(kind: &str) -> Result<warden_core::domain::Name, ApiError> {
    Resource::parse_type(kind).map_err(|err| ApiError::bad_request(err.to_string()))
}

#[utoipa::path(
    put,
    path = "/api/resources/{type}/{id}",
    tag = "resources",
    params(
        ("type" = String, Path, description = "resource type (name characters, no `:`)", pattern = "^[A-Za-z0-9_.@+|-]{1,128}$"),
        ("id" = WireName, Path, description = "resource id")
    ),
    request_body(content = Option<NewResource>, description = "optional `parent` and `properties`; a PUT states the resource whole", content_type = "application/json"),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "created or replaced (`created`, `changed`)", body = Envelope<ResourceWritten>),
        Failures,
    )
)]
/// Creates the resource or replaces its parent and properties. 404 (`reason: resource_not_found`) when the parent
/// does not exist; 409 when the parent is the resource or lies below it (`resource_cycle`) or a path would be
/// deeper than 32 levels (`resource_too_deep`); 413 when `properties` is over 16 KiB.
async fn put_resource(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(path): ApiPath<(String, String)>,
    OptionalJson(body): OptionalJson<NewResource>,
) -> ApiResult {
    let resource = path_resource(path)?;
    let body = body.unwrap_or_default();
    let parent = body.parent.as_deref().map(parse_resource).transpose()?;
    let properties = body
        .properties
        .filter(|p| !p.is_empty())
        .map(|p| serde_json::Value::Object(p).to_string());
    if properties
        .as_ref()
        .is_some_and(|p| p.len() > MAX_PROPERTIES_BYTES)
    {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("properties are larger than {MAX_PROPERTIES_BYTES} bytes as JSON"),
        ));
    }
    let written = state
        .rbac
        .write(
            &tenant,
            &context,
            Change::PutResource {
                resource,
                parent,
                properties,
            },
        )
        .await?;
    let message = if written.changed {
        "resource created"
    } else if written.updated {
        "resource updated"
    } else {
        "resource unchanged"
    };
    Ok(ok(
        message,
        ResourceWritten {
            created: written.changed,
            changed: written.changed || written.updated,
            revision: written.revision,
        },
    ))
}

#[utoipa::path(
    get,
    path = "/api/resources/{type}/{id}",
    tag = "resources",
    params(
        ("type" = String, Path, description = "resource type", pattern = "^[A-Za-z0-9_.@+|-]{1,128}$"),
        ("id" = WireName, Path, description = "resource id")
    ),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the resource", body = Envelope<ResourceView>),
        Failures,
    )
)]
/// 404 (`reason: resource_not_found`) when it does not exist.
async fn get_resource(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(path): ApiPath<(String, String)>,
) -> ApiResult {
    let resource = path_resource(path)?;
    let record = state
        .rbac
        .resource(&tenant, &resource)
        .await?
        .ok_or_else(|| crate::service::ServiceError::ResourceNotFound(resource.to_string()))?;
    let properties = match record.properties.as_deref().map(serde_json::from_str) {
        Some(Ok(serde_json::Value::Object(map))) => map,
        _ => serde_json::Map::new(),
    };
    Ok(ok(
        "resource found",
        ResourceView {
            resource: resource.to_string(),
            kind: resource.kind().to_string(),
            id: resource.id().to_string(),
            parent: record.parent.map(|p| p.to_string()),
            properties,
            created_at: optional_time(Some(record.created_at)).unwrap_or_default(),
            updated_at: optional_time(Some(record.updated_at)).unwrap_or_default(),
        },
    ))
}

#[utoipa::path(
    delete,
    path = "/api/resources/{type}/{id}",
    tag = "resources",
    params(
        ("type" = String, Path, description = "resource type", pattern = "^[A-Za-z0-9_.@+|-]{1,128}$"),
        ("id" = WireName, Path, description = "resource id")
    ),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "removed with the memberships scoped to it, or `removed: false` when it did not exist", body = Envelope<Removed>),
        Failures,
    )
)]
/// Removes the resource and the memberships scoped to it (`removed: false` when it did not exist, so a retry is
/// harmless); 409 (`reason: resource_has_children`) while it has children.
async fn delete_resource(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    Context(context): Context,
    ApiPath(path): ApiPath<(String, String)>,
) -> ApiResult {
    let resource = path_resource(path)?;
    let written = state
        .rbac
        .write(&tenant, &context, Change::DeleteResource { resource })
        .await?;
    let message = if written.changed {
        "resource removed"
    } else {
        "resource did not exist"
    };
    Ok(ok(message, super::views::removed(written)))
}

#[utoipa::path(
    get,
    path = "/api/resources/{type}",
    tag = "resources",
    params(
        ("type" = String, Path, description = "resource type", pattern = "^[A-Za-z0-9_.@+|-]{1,128}$"),
        ListingQuery
    ),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the resources of the type (`type:id`), by id", body = PageEnvelope<Vec<String>>),
        Failures,
    )
)]
async fn resources_of_type(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath(kind): ApiPath<String>,
    consistency: Consistency,
    paging: Paging,
) -> ApiResult {
    let kind = resource_type(&kind)?;
    let page = state
        .rbac
        .names(
            &tenant,
            NameListing::Resources(&kind),
            paging.request(),
            consistency.min_revision,
        )
        .await?;
    Ok(paging.answer(
        "resources listed",
        page,
        |r: &String| id_of(r),
        |items| items,
    ))
}

/// A listed resource's sort key (its id): the cursor of resource listings.
fn id_of(resource: &str) -> &str {
    resource.split_once(':').map_or(resource, |(_, id)| id)
}

#[utoipa::path(
    get,
    path = "/api/user_resources/{user}/{permission}",
    tag = "checks",
    params(
        ("user" = WireName, Path, description = "user name"),
        ("permission" = WireName, Path, description = "permission name"),
        ResourceTypeQuery,
        ListingQuery
    ),
    security(("client_key" = [])),
    responses(
        (status = 200, description = "the resources of the type (`type:id`) the user may act on with the permission, by id", body = PageEnvelope<Vec<String>>),
        Failures,
    )
)]
/// Every resource of the type when a global membership grants the permission; otherwise those at or below a
/// resource where a scoped membership grants it. `type` is required (400 without it).
async fn user_resources(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiPath((user, permission)): ApiPath<(String, String)>,
    query: Result<Query<ResourceTypeQuery>, QueryRejection>,
    consistency: Consistency,
    paging: Paging,
) -> ApiResult {
    let user = name(NameKind::User, &user)?;
    let permission = name(NameKind::Permission, &permission)?;
    let Query(query) =
        query.map_err(|_| ApiError::bad_request("give the resource type: ?type=document"))?;
    let kind = resource_type(&query.kind)?;
    let page = state
        .rbac
        .names(
            &tenant,
            NameListing::UserResources(&user, &permission, &kind),
            paging.request(),
            consistency.min_revision,
        )
        .await?;
    Ok(paging.answer(
        "resources listed",
        page,
        |r: &String| id_of(r),
        |items| items,
    ))
}
