//! What the client suites share: a real Warden to talk to.

use warden_client::Client;
use warden_testkit::{Backend, TestApp};

/// A running Warden on a fresh SQLite database, from the test kit; it lives as long as this does.
pub struct Warden {
    pub address: String,
    _app: TestApp,
}

impl Warden {
    pub async fn start() -> Self {
        let app = TestApp::spawn(Backend::Sqlite)
            .await
            .expect("SQLite always runs");
        Self {
            address: app.address.clone(),
            _app: app,
        }
    }

    /// A client with a fresh key: a fresh, empty tenant.
    pub fn client(&self) -> Client {
        Client::new(&self.address, uuid::Uuid::new_v4().to_string()).expect("client")
    }
}
