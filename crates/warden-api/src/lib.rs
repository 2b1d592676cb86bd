//! Warden's wire contract: the envelope every answer wears, the error shape, and every request and response body,
//! with serde for both directions and utoipa schemas carrying the constraints the server enforces (patterns,
//! lengths, ranges, enums).
//!
//! The server (`warden`) answers with these types and documents them in its OpenAPI document; the Rust client
//! (`warden-client`) sends and reads the same types. Nothing else defines a wire type, so the two cannot drift.
//!
//! Answers ignore unknown fields when read, so a server adding a field does not break an older client.

pub mod access;
pub mod activation;
pub mod api_keys;
pub mod audit;
pub mod client_keys;
pub mod envelope;
pub mod health;
pub mod jwt;
pub mod numbers;
pub mod params;
pub mod rbac;
pub mod resources;
pub mod sessions;
pub mod settings;
pub mod single_use_tokens;
pub mod users;
pub mod workflow;

pub use access::{
    AccessDecision, AccessRecord, AccessRequest, Order, RequestCounters, RequestsQuery,
    TextOrNumber, UserIdSchema, Verdict,
};
pub use activation::{Activated, ActivationCode, CodeIssued, TtlMinutes};
pub use api_keys::{
    ApiKeyCreated, ApiKeyExpiry, ApiKeyList, ApiKeyMeta, ApiKeyPermission, ApiKeyRevoked,
    ApiKeyToCheck, ApiKeyValidity, NewApiKey,
};
pub use audit::{AuditEntry, AuditPage, AuditQuery};
pub use client_keys::{Migrated, RecoverRequest, Recovered, RecoveryKey, Rotated};
pub use envelope::{Envelope, Failure, Failures, PageEnvelope};
pub use health::{Health, HealthCheck};
pub use jwt::{Claims, JwkSet, JwksQuery, RefreshRequest, TokenPair, Verified, VerifyRequest};
pub use params::{
    EffectiveQuery, ExplainQuery, GrantedName, ListingQuery, Name, Page, PageQuery, ReadQuery,
    TransitiveQuery, UserListQuery,
};
pub use rbac::{
    Created, DecisionPath, HasPermission, IsMember, NewMembership, NewRole, PathGrant,
    PathMembership, Permission, Removed, Role, UserName,
};
pub use resources::{NewResource, ResourceQuery, ResourceTypeQuery, ResourceView, ResourceWritten};
pub use sessions::{
    NewSession, PermissionAnswers, RemovedCount, Session, SessionCreated, SessionEnded,
    SessionPermissions, SessionTtl,
};
pub use settings::{Settings, SettingsChange};
pub use single_use_tokens::{Revoked, TokenIssued, TokenOwner, TokenToUse, TokenTtl};
pub use users::{
    LoginBody, NewPassword, PasswordSet, Quotas, SensitiveChanged, User, UserBody, UserSaved,
    UserStatus,
};
pub use workflow::{CanRun, WorkflowUsers};
