//! A real hyper 1 server on 127.0.0.1:0 running the test app behind `SessionLayer`.

use std::net::SocketAddr;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use session_hyper::{ClientAddr, SessionApiLayer, SessionLayer};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower::ServiceBuilder;

/// A running server; stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    accept: JoinHandle<()>,
    panics_before: usize,
}

impl TestServer {
    /// Serves [`crate::app::route`] behind `layer`.
    pub async fn start(layer: SessionLayer) -> TestServer {
        Self::start_with_api(layer, None).await
    }

    /// As [`TestServer::start`], with the session REST endpoints inside the session
    /// layer. Every request carries its peer address as [`ClientAddr`].
    pub async fn start_with_api(layer: SessionLayer, api: Option<SessionApiLayer>) -> TestServer {
        crate::guard::install();
        let panics_before = crate::guard::panics();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((tcp, peer)) = listener.accept().await else {
                    return;
                };
                let service = ServiceBuilder::new()
                    .map_request(move |mut req: http::Request<hyper::body::Incoming>| {
                        req.extensions_mut().insert(ClientAddr(peer));
                        req
                    })
                    .layer(layer.clone())
                    .option_layer(api.clone())
                    .service(tower::service_fn(crate::app::route));
                let service = TowerToHyperService::new(service);
                tokio::spawn(async move {
                    let _ = Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        TestServer {
            addr,
            accept,
            panics_before,
        }
    }

    /// A client with an empty cookie jar.
    pub fn client(&self) -> crate::Client {
        crate::Client::new(self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.accept.abort();
        // The panic guard: no panic anywhere (handlers, the layer, connection tasks)
        // while this server ran. A test that is already failing is left to report that.
        if !std::thread::panicking() && crate::guard::panics() > self.panics_before {
            panic!(
                "a panic happened in the process while this test server ran (see the output above)"
            );
        }
        // Log hygiene: no session id a client was issued may appear in any log line.
        let leaked = crate::guard::leaked_ids();
        if !std::thread::panicking() && !leaked.is_empty() {
            panic!("{} session id(s) appeared in the logs", leaked.len());
        }
    }
}
