//! The HTTP/1.1 accept loop: what `axum::serve` does, plus the limits it lacks against slow or idle clients.
//!
//! - A connection is only accepted while fewer than `max_connections` are open; beyond that, new connections wait
//!   in the kernel's listen backlog (and, once it is full, are refused by the kernel), so memory and file
//!   descriptors stay bounded whatever the clients do.
//! - A client must send a request's whole head within `header_read_timeout` of the connection waiting for it
//!   (slowloris), or the connection is closed. hyper starts that timer whenever it waits for a head, between
//!   keep-alive requests too, so an idle connection is closed after the shorter of the two timeouts.
//! - An idle keep-alive connection (no request in progress) is closed `keep_alive_timeout` after its last answer.
//! - On shutdown, accepting stops, every connection finishes its request in progress and closes, and
//!   [`serve`] returns once all are closed.
//!
//! Handlers still see the client's address as `ConnectInfo<SocketAddr>` (the audit trail records it).

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

/// The connection limits, from [`crate::config::ServerSettings`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub keep_alive_timeout: Duration,
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` is set to `true`, then waits for open connections to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    // Every open connection holds one permit; taking them all back at the end waits for the last one to close.
    let permits = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let slots = Arc::new(Semaphore::new(permits as usize));
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                // The semaphore is never closed.
                Err(_) => break,
            },
            () = stopped(&mut shutdown) => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or a connection reset before it was accepted: wait a moment
                    // rather than spin, and keep serving.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut shutdown) => break,
        };
        // Small answers go out at once rather than waiting for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            serve_connection(stream, remote, router, limits, shutdown).await;
            drop(permit);
        });
    }
    drop(listener);
    let _all_closed = slots.acquire_many(permits).await;
}

/// Completes once shutdown has begun (or the sender is gone, which only happens once the server stopped).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// When the connection last finished an answer, and how many requests it has in progress.
struct Activity {
    in_flight: AtomicUsize,
    last_answer: Mutex<Instant>,
}

/// Marks a request in progress; when dropped (the answer is ready, or the request was abandoned), the connection is
/// idle again from now.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        *self.0.last_answer.lock() = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    remote: SocketAddr,
    router: Router,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity {
        in_flight: AtomicUsize::new(0),
        last_answer: Mutex::new(Instant::now()),
    });
    let tracked = activity.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(remote));
        let in_flight = InFlight::begin(&tracked);
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await;
            drop(in_flight);
            response
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let mut connection = pin!(builder.serve_connection(TokioIo::new(stream), service));
    let mut closing = false;
    loop {
        // While a request is in progress the connection is not idle: look again a full timeout later.
        let idle_until = if activity.in_flight.load(Ordering::SeqCst) > 0 {
            Instant::now() + limits.keep_alive_timeout
        } else {
            *activity.last_answer.lock() + limits.keep_alive_timeout
        };
        tokio::select! {
            // A client that hangs up or misbehaves is its own business: nothing to log.
            _ = connection.as_mut() => return,
            () = tokio::time::sleep_until(idle_until), if !closing => {
                let idle = activity.in_flight.load(Ordering::SeqCst) == 0
                    && activity.last_answer.lock().elapsed() >= limits.keep_alive_timeout;
                if idle {
                    // Closes an idle connection at once; one with a request in progress after its answer.
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
            () = stopped(&mut shutdown), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}
