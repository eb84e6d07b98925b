//! A real HTTP/1.1 client (hyper) with a minimal cookie jar, one connection per request.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    /// Every `Set-Cookie` value.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(http::header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }
    /// The `Set-Cookie` for `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }
    /// One header as a string.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

/// A client that keeps the cookies it is given, like a browser would (minus paths).
#[derive(Clone, Debug)]
pub struct Client {
    /// The server it talks to; change it to carry the same cookies to another server.
    pub addr: SocketAddr,
    pub jar: BTreeMap<String, String>,
    /// Extra headers sent with every request.
    pub extra: Vec<(String, String)>,
    /// Connect from this loopback address (e.g. 127.0.0.2) instead of 127.0.0.1.
    pub source_ip: Option<IpAddr>,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Self {
        Client {
            addr,
            jar: BTreeMap::new(),
            extra: Vec::new(),
            source_ip: None,
        }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.send("GET", path).await
    }

    pub async fn post(&mut self, path: &str) -> Reply {
        self.send("POST", path).await
    }

    /// The `Cookie` header the jar would send.
    pub fn cookie_header(&self) -> Option<String> {
        (!self.jar.is_empty()).then(|| {
            self.jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Sends a request with the jar's cookies and keeps the cookies of the answer.
    pub async fn send(&mut self, method: &str, path: &str) -> Reply {
        let cookie = self.cookie_header();
        let reply = self.send_with(method, path, cookie.as_deref()).await;
        for sc in reply.set_cookies() {
            let pair = sc.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let removal = value.is_empty()
                || sc.contains("Expires=Thu, 01 Jan 1970")
                || sc.contains("Max-Age=0");
            if removal {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        reply
    }

    /// Sends a request with exactly this `Cookie` header (or none); the jar is untouched.
    pub async fn send_with(&self, method: &str, path: &str, cookie: Option<&str>) -> Reply {
        self.send_full(method, path, cookie, None).await
    }

    /// Sends a request with a body of this content type (the jar's cookies, the extra
    /// headers); the jar is untouched.
    pub async fn send_body(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> Reply {
        let cookie = self.cookie_header();
        self.send_full(method, path, cookie.as_deref(), Some((content_type, body)))
            .await
    }

    async fn send_full(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        body: Option<(&str, &str)>,
    ) -> Reply {
        let tcp = match self.source_ip {
            None => tokio::net::TcpStream::connect(self.addr).await,
            Some(ip) => {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.bind(SocketAddr::new(ip, 0)).unwrap();
                socket.connect(self.addr).await
            }
        }
        .expect("connect to the test server");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .unwrap();
        tokio::spawn(conn);
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.addr.to_string());
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        for (k, v) in &self.extra {
            req = req.header(k.as_str(), v.as_str());
        }
        let payload = match body {
            Some((content_type, body)) => {
                req = req.header("content-type", content_type);
                Bytes::from(body.to_owned())
            }
            None => Bytes::new(),
        };
        let res = sender
            .send_request(req.body(Full::new(payload)).unwrap())
            .await
            .expect("a response");
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        for sc in headers.get_all(http::header::SET_COOKIE) {
            let value = sc.to_str().unwrap_or_default();
            if let Some(signed) = value.split(';').next().and_then(|p| p.split_once("=s%3A")) {
                crate::guard::note_id(signed.1.split('.').next().unwrap_or_default());
            }
        }
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }
}
