//! A database that goes away: requests get 503 in the envelope, and Warden recovers by itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{assert_error_envelope, read, Backend, TestApp};

/// A TCP proxy in front of PostgreSQL that can cut every connection and refuse new ones.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (up2, links2) = (up.clone(), links.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                links2.lock().unwrap().push(link);
            }
        });
        Self { port, up, links }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_gives_503_and_warden_recovers_when_it_returns() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let mut url = url::Url::parse(app.database_url()).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = Proxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let address = TestApp::start(url.as_str(), &[("AUTH_DATABASE_TIMEOUT_SECONDS", "1")]).await;
    let call = |method: Method, path: &str| {
        let request = app
            .client
            .request(method, format!("{address}{path}"))
            .bearer_auth(&app.key);
        async move { read(request.send().await.unwrap()).await }
    };

    let (status, _) = call(Method::POST, "/api/role/steady").await;
    assert_eq!(status, 200);

    proxy.cut();
    for (method, path) in [
        (Method::GET, "/api/roles"),
        (Method::POST, "/api/role/lost"),
    ] {
        let (status, body) = call(method, path).await;
        let detail = assert_error_envelope(status, &body, 503);
        assert!(detail.contains("unavailable"), "{detail}");
    }
    let (status, body) = call(Method::GET, "/readyz").await;
    assert_error_envelope(status, &body, 503);

    proxy.restore();
    let mut recovered = false;
    for _ in 0..50 {
        let (status, body) = call(Method::GET, "/api/roles").await;
        if status == 200 {
            assert_eq!(
                body["data"],
                json!([{"role": "steady", "description": null}])
            );
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "Warden did not recover after the database came back"
    );
    let (status, _) = call(Method::GET, "/readyz").await;
    assert_eq!(status, 200);
}
