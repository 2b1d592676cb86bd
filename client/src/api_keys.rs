//! Per-user API keys (as `auth` 3.7.1 has them). Creating a key is not retried (a retry could create a second
//! one); validating and checking are reads.

use warden_api::{
    ApiKeyCreated, ApiKeyExpiry, ApiKeyList, ApiKeyMeta, ApiKeyPermission, ApiKeyRevoked,
    ApiKeyToCheck, ApiKeyValidity, NewApiKey,
};

use crate::client::{segment, Request};
use crate::{Client, Error};

fn keys_path(user: &str, tail: &str) -> Result<String, Error> {
    Ok(format!("/api/apikeys/user/{}{tail}", segment(user)?))
}

impl Client {
    /// `POST /api/apikeys/user/{user}`: a new key (in [`ApiKeyCreated::api_key`], shown only now). A user holding
    /// 25 active keys is [`Error::Refused`] with 409.
    pub async fn create_api_key(
        &self,
        user: &str,
        key: &NewApiKey,
    ) -> Result<ApiKeyCreated, Error> {
        let request = Request::post(keys_path(user, "")?)
            .json(serde_json::to_value(key).map_err(|e| Error::InvalidArgument(e.to_string()))?)
            .not_idempotent();
        self.send(request).await
    }

    /// `GET /api/apikeys/user/{user}`: the user's keys, revoked ones included (metadata only).
    pub async fn list_api_keys(&self, user: &str) -> Result<ApiKeyList, Error> {
        self.send(Request::get(keys_path(user, "")?)).await
    }

    /// `PATCH /api/apikeys/user/{user}/{key_id}`: moves the key's expiry earlier (RFC 3339).
    pub async fn shorten_api_key(
        &self,
        user: &str,
        key_id: &str,
        expires_at: &str,
    ) -> Result<ApiKeyMeta, Error> {
        let body = ApiKeyExpiry {
            expires_at: expires_at.to_owned(),
        };
        let request = Request::patch(keys_path(user, &format!("/{}", segment(key_id)?))?)
            .json(serde_json::to_value(body).map_err(|e| Error::InvalidArgument(e.to_string()))?);
        self.send(request).await
    }

    /// `DELETE /api/apikeys/user/{user}/{key_id}`: revokes the key (idempotent).
    pub async fn revoke_api_key(&self, user: &str, key_id: &str) -> Result<ApiKeyRevoked, Error> {
        let path = keys_path(user, &format!("/{}", segment(key_id)?))?;
        self.send(Request::delete(path)).await
    }

    /// `POST /api/apikeys/validate`: whether the key is valid in this tenant, and whose it is.
    pub async fn validate_api_key(&self, api_key: &str) -> Result<ApiKeyValidity, Error> {
        let body = ApiKeyToCheck {
            api_key: api_key.to_owned(),
        };
        let request = Request::post("/api/apikeys/validate".into())
            .json(serde_json::to_value(body).map_err(|e| Error::InvalidArgument(e.to_string()))?);
        self.send(request).await
    }

    /// `POST /api/apikeys/check_permission`: validates the key and answers its user's permission.
    pub async fn check_api_key_permission(
        &self,
        api_key: &str,
        permission: &str,
    ) -> Result<ApiKeyValidity, Error> {
        let body = ApiKeyPermission {
            api_key: api_key.to_owned(),
            permission: permission.to_owned(),
        };
        let request = Request::post("/api/apikeys/check_permission".into())
            .json(serde_json::to_value(body).map_err(|e| Error::InvalidArgument(e.to_string()))?);
        self.send(request).await
    }
}
