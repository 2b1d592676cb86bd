//! The health endpoints: `/ping`, `/livez`, `/readyz`, `/health`. They need no client key, and none is sent.

use crate::client::Request;
use crate::{Client, Error, Health, HealthCheck};

impl Client {
    /// `GET /ping`: the seed's health check; answers while the process is up.
    pub async fn ping(&self) -> Result<Health, Error> {
        self.send(Request::get("/ping".into()).public()).await
    }

    /// `GET /livez`: the process is up.
    pub async fn livez(&self) -> Result<Health, Error> {
        self.send(Request::get("/livez".into()).public()).await
    }

    /// `GET /readyz`: the database is reachable. When it is not, Warden answers 503, which is retried and then
    /// returned as [`Error::Server`] with status 503.
    pub async fn readyz(&self) -> Result<Health, Error> {
        self.send(Request::get("/readyz".into()).public()).await
    }

    /// `GET /health`: `auth` 3.7.1's probe; [`HealthCheck::status`] is `healthy`. When the database is
    /// unreachable Warden answers 503 (`unhealthy`), which is retried and then returned as [`Error::Server`].
    pub async fn health(&self) -> Result<HealthCheck, Error> {
        self.send_envelope(Request::get("/health".into()).public())
            .await
    }
}
