//! Client-key rotation and recovery. A [`Client`] keeps the key it was built with: after a rotation or recovery,
//! build a new one with the returned key (and store that key first: it is shown only once). None of these calls is
//! retried, since a repeat after a lost answer would act twice.

use warden_api::{RecoverRequest, Recovered, RecoveryKey, Rotated};

use crate::client::Request;
use crate::{Client, Error};

impl Client {
    /// `POST /api/keys/rotate`: moves the tenant to a fresh client key ([`Rotated::new_key`]); from the commit on,
    /// this client's key is refused with 401.
    pub async fn rotate_client_key(&self) -> Result<Rotated, Error> {
        self.send(Request::post("/api/keys/rotate".into()).not_idempotent())
            .await
    }

    /// `POST /api/keys/get_rotate_key`: the tenant's recovery key, shown only now; [`Error::Refused`] with 409
    /// while one is outstanding.
    pub async fn get_rotate_key(&self) -> Result<RecoveryKey, Error> {
        self.send(Request::post("/api/keys/get_rotate_key".into()).not_idempotent())
            .await
    }

    /// `POST /api/keys/recover` (sent without a client key): moves the tenant whose recovery key this is to
    /// `new_client_key` (generated when `None`) and answers a new recovery key; the presented one is spent. A
    /// wrong or spent key is [`Error::Refused`] with 401.
    pub async fn recover_client_key(
        &self,
        rotate_key: &str,
        new_client_key: Option<&str>,
    ) -> Result<Recovered, Error> {
        let body = RecoverRequest {
            rotate_key: rotate_key.to_owned(),
            new_client_key: new_client_key.map(str::to_owned),
        };
        let request = Request::post("/api/keys/recover".into())
            .json(serde_json::to_value(body).map_err(|e| Error::InvalidArgument(e.to_string()))?)
            .public()
            .not_idempotent();
        self.send(request).await
    }
}
