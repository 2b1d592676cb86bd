//! `GET|PUT /api/settings`: the tenant's settings.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// The tenant's settings, with their effective values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Settings {
    /// The `aud` claim of the tenant's access tokens, which verification requires.
    pub jwt_audience: String,
    /// Whether `jwt_audience` is the default (the tenant id).
    pub jwt_audience_is_default: bool,
    /// Whether an access check of a user the tenant does not know registers them (status `allowed`, no quotas)
    /// instead of answering `denied`; off by default.
    pub auto_register_users: bool,
    /// Whether a password login needs an activated user; off by default.
    pub require_activation: bool,
    /// Strict users (as `auth` 3.7.1 has them): a user without an active API key cannot be given a role (409
    /// `user_not_key_backed`) and every check about them answers `false` with that `reason`; off by default.
    pub strict_users: bool,
}

/// The body of `PUT /api/settings`: absent fields stay as they are; `null` resets one to its default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    /// 1 to 255 characters without control characters, not all white space; `null` for the default (the tenant
    /// id). Access tokens issued under another audience stop verifying.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255, pattern = "^[^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F][^\\x00-\\x1F\\x7F-\\x9F]*$")]
    pub jwt_audience: Option<Option<String>>,
    /// `true` to register unknown users at their first access check; `null` for the default (`false`).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<bool>)]
    pub auto_register_users: Option<Option<bool>>,
    /// `true` to refuse password logins of users not yet activated; `null` for the default (`false`).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<bool>)]
    pub require_activation: Option<Option<bool>>,
    /// `true` to require users to hold an active API key; `null` for the default (`false`).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<bool>)]
    pub strict_users: Option<Option<bool>>,
}

/// Tells a field given as `null` (`Some(None)`) from an absent one (`None`, by `default`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}
