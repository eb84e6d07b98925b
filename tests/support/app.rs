//! The routes the integration tests drive. Each answers JSON.
//!
//! - `GET /`: `views += 1`
//! - `GET /read`, `GET /session`: the data, read-only
//! - `POST /complex`, `GET /complex-check`: store / compare tests/node/complex.json
//! - `GET /none`: does not touch the session
//! - `GET /optional`: reads `user` but ignores a failure (a guest page then)
//! - `GET /strict`: the data; a store failure is the handler's own 500
//! - `POST /set?k=v&...`: stores each pair as a string, answers the data
//! - `POST /put?k=v&...`: the same, answers `{}`
//! - `POST /login?user=NAME`: regenerate, then store `user`
//! - `POST /logout`: destroy
//! - `POST /save?k=v`: store, then save explicitly
//! - `POST /cycle`: cycle the id, data kept
//! - `POST /max-age?ms=N`: set this session's cookie lifetime (and store `remember`)
//! - `POST /unset`: `Session::unset`
//! - `POST /incr`: atomic `counter += 1` with `Session::update`
//! - `GET /slow-read?ms=N`: read, then wait N ms before answering
//! - `POST /slow-set?ms=N&k=v`: load, wait N ms, then store the pairs
//! - `GET /id`: the session id (tests only)
//! - `GET /h3/count`, `POST /h3/clear`: h3-style helpers (`get_session`,
//!   `update_session`, `clear_session`)
//! - `POST /admin/end-user?user=NAME`: ends every session of NAME through the store

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};
use session_core::{Error, Session};

pub async fn route<B>(req: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        return Ok(reply(StatusCode::OK, json!({"session": null})));
    };
    let q: Vec<(String, String)> =
        form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let result: Result<Value, Error> = async {
        match (req.method().clone(), req.uri().path()) {
            (Method::GET, "/") => {
                let views = session.get::<u64>("views").await?.unwrap_or(0) + 1;
                session.insert("views", views).await?;
                Ok(json!({ "views": views }))
            }
            (Method::GET, "/read" | "/session" | "/strict") => {
                session.data().await.map(Value::Object)
            }
            (Method::POST, "/complex") => {
                for (k, v) in complex() {
                    session.insert(&k, v).await?;
                }
                Ok(json!({}))
            }
            (Method::GET, "/complex-check") => {
                let data = session.data().await?;
                let got: serde_json::Map<String, Value> = complex()
                    .keys()
                    .map(|k| (k.clone(), data.get(k).cloned().unwrap_or(Value::Null)))
                    .collect();
                Ok(json!({ "equal": got == complex(), "got": got }))
            }
            (Method::GET, "/none") => Ok(json!({})),
            (Method::GET, "/optional") => {
                let user = session.get::<String>("user").await.ok().flatten();
                Ok(json!({ "user": user }))
            }
            (Method::GET, "/id") => {
                Ok(json!({ "id": session.id().await?.map(|i| i.expose().to_owned()) }))
            }
            (Method::POST, "/set") => {
                for (k, v) in &q {
                    session.insert(k, v).await?;
                }
                session.data().await.map(Value::Object)
            }
            (Method::POST, "/login") => {
                session.regenerate().await?;
                let user = q.iter().find(|(k, _)| k == "user").map(|(_, v)| v.clone());
                session.insert("user", &user).await?;
                Ok(json!({ "user": user }))
            }
            (Method::POST, "/logout") => session.destroy().await.map(|()| json!({})),
            (Method::POST, "/save") => {
                for (k, v) in &q {
                    session.insert(k, v).await?;
                }
                session.save().await?;
                Ok(json!({"saved": true}))
            }
            (Method::POST, "/put") => {
                for (k, v) in &q {
                    session.insert(k, v).await?;
                }
                Ok(json!({}))
            }
            (Method::POST, "/incr") => {
                let n = session.update(|d| {
                    let n = d.get("counter").and_then(Value::as_u64).unwrap_or(0) + 1;
                    d.insert("counter".into(), n.into());
                    n
                });
                Ok(json!({ "counter": n.await? }))
            }
            (Method::GET, "/slow-read") => {
                let data = session.data().await?;
                tokio::time::sleep(Duration::from_millis(ms(&q))).await;
                Ok(Value::Object(data))
            }
            (Method::POST, "/slow-set") => {
                session.get::<Value>("views").await?;
                tokio::time::sleep(Duration::from_millis(ms(&q))).await;
                for (k, v) in q.iter().filter(|(k, _)| k != "ms") {
                    session.insert(k, v).await?;
                }
                Ok(json!({"set": true}))
            }
            (Method::POST, "/cycle") => session.cycle_id().await.map(|()| json!({})),
            (Method::POST, "/max-age") => {
                let ms: u64 = q
                    .iter()
                    .find(|(k, _)| k == "ms")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                session.set_max_age(Some(Duration::from_millis(ms))).await?;
                session.insert("remember", true).await?;
                Ok(json!({}))
            }
            (Method::POST, "/unset") => {
                session.unset().await;
                Ok(json!({}))
            }
            (Method::GET, "/h3/count") => {
                let current = session_hyper::h3::get_session(&req).await?;
                let count = current
                    .data
                    .get("count")
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
                    + 1;
                session_hyper::h3::update_session(&req, json!({ "count": count })).await?;
                Ok(json!({ "count": count, "id": current.id }))
            }
            (Method::POST, "/h3/clear") => session_hyper::h3::clear_session(&req)
                .await
                .map(|()| json!({})),
            (Method::POST, "/admin/end-user") => {
                let user = q.iter().find(|(k, _)| k == "user").map(|(_, v)| v.clone());
                let store = session.store();
                let all = store.all().await.map_err(|e| Error::Store {
                    op: session_core::StoreOp::Admin,
                    source: e,
                })?;
                let mut ended = 0;
                for (id, record) in all {
                    if record.data().get("user").and_then(Value::as_str) == user.as_deref() {
                        store.destroy(&id).await.map_err(|e| Error::Store {
                            op: session_core::StoreOp::Admin,
                            source: e,
                        })?;
                        ended += 1;
                    }
                }
                Ok(json!({ "ended": ended }))
            }
            (Method::POST, "/cookie") => {
                // express's `req.session.cookie.<attribute> = value`, one per parameter.
                for (k, v) in &q {
                    match k.as_str() {
                        "path" => session.set_cookie_path(v.clone()).await?,
                        "domain" => session.set_cookie_domain(Some(v.clone())).await?,
                        "httpOnly" => session.set_http_only(v == "true").await?,
                        "secure" => session.set_secure(v == "true").await?,
                        "sameSite" => {
                            let s = match v.as_str() {
                                "strict" => session_core::SameSite::Strict,
                                "lax" => session_core::SameSite::Lax,
                                _ => session_core::SameSite::None,
                            };
                            session.set_same_site(Some(s)).await?;
                        }
                        _ => session.insert(k, v).await?,
                    }
                }
                Ok(json!({}))
            }
            _ => Ok(json!({"error": "not found"})),
        }
    }
    .await;
    Ok(match result {
        Ok(v) => reply(StatusCode::OK, v),
        Err(e) if e.is_store() && req.uri().path() == "/strict" => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": e.to_string() }),
        ),
        Err(e) => reply(StatusCode::IM_A_TEAPOT, json!({ "error": e.to_string() })),
    })
}

fn ms(q: &[(String, String)]) -> u64 {
    q.iter()
        .find(|(k, _)| k == "ms")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(100)
}

/// The nested, unicode, big-number data the interop tests pass between Rust and Node.
pub fn complex() -> serde_json::Map<String, Value> {
    match serde_json::from_str(include_str!("../node/complex.json")) {
        Ok(Value::Object(m)) => m,
        _ => panic!("tests/node/complex.json must be a JSON object"),
    }
}

fn reply(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::from(body.to_string()));
    *res.status_mut() = status;
    res
}
