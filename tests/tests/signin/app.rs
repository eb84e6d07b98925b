//! An axum app on the sign-in building blocks, served on 127.0.0.1:0: the extractors,
//! `CsrfLayer`, and accounts whose auth values a test can change.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Query;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};
use session_core::auth::{BoxError, Carry, UserDirectory, Users};
use session_core::flash::Level;
use session_core::store::SessionStore;
use session_core::{CsrfToken, Error, Flashes, MaybeSignedIn, Session, SignedIn};
use session_hyper::{CsrfLayer, SessionLayer};

/// The accounts: user → auth value (their "password hash"); a test changes one to
/// sign that user's other sessions out lazily.
#[derive(Clone, Default)]
pub struct Accounts(Arc<Mutex<HashMap<String, Vec<u8>>>>, Arc<AtomicBool>);

impl Accounts {
    pub fn set(&self, user: &str, value: &str) {
        self.0
            .lock()
            .unwrap()
            .insert(user.to_owned(), value.as_bytes().to_vec());
    }
    pub fn remove(&self, user: &str) {
        self.0.lock().unwrap().remove(user);
    }
    /// Sessions signed in without an auth version are refused from now on.
    pub fn refuse_unversioned(&self) {
        self.1.store(true, Ordering::SeqCst);
    }
    fn value(&self, user: &str) -> Vec<u8> {
        self.0
            .lock()
            .unwrap()
            .get(user)
            .cloned()
            .unwrap_or_default()
    }
}

#[session_core::store::async_trait]
impl Users for Accounts {
    async fn auth_value(&self, user: &str) -> Result<Option<Vec<u8>>, BoxError> {
        Ok(self.0.lock().unwrap().get(user).cloned())
    }
    fn accept_unversioned(&self) -> bool {
        !self.1.load(Ordering::SeqCst)
    }
}

type Q = Query<HashMap<String, String>>;

async fn login(
    session: Session,
    Extension(accounts): Extension<Accounts>,
    Query(q): Q,
) -> Result<String, Error> {
    let user = &q["user"];
    let carry = if q.get("carry").map(String::as_str) == Some("drop") {
        Carry::DropData
    } else {
        Carry::KeepData
    };
    session.log_in(user, &accounts.value(user), carry).await?;
    Ok(session
        .id()
        .await?
        .map(|id| id.expose().to_owned())
        .unwrap_or_default())
}

async fn me(SignedIn(user): SignedIn) -> String {
    user
}

async fn maybe(MaybeSignedIn(user): MaybeSignedIn) -> String {
    user.unwrap_or_else(|| "anonymous".to_owned())
}

async fn logout(session: Session) -> Result<&'static str, Error> {
    session.log_out().await?;
    Ok("bye")
}

async fn logout_others(session: Session) -> Result<String, Error> {
    Ok(session.log_out_other_sessions().await?.to_string())
}

async fn password(
    session: Session,
    Extension(accounts): Extension<Accounts>,
    SignedIn(user): SignedIn,
    Query(q): Q,
) -> Result<&'static str, Error> {
    accounts.set(&user, &q["value"]);
    session.set_auth_value(q["value"].as_bytes()).await?;
    Ok("changed")
}

async fn rotate(session: Session) -> Result<&'static str, Error> {
    session.cycle_id().await?;
    Ok("rotated")
}

async fn add_to_cart(session: Session, Query(q): Q) -> Result<&'static str, Error> {
    let item = q["item"].clone();
    session
        .update(move |data| {
            let cart = data.entry("cart").or_insert_with(|| json!([]));
            if let Value::Array(items) = cart {
                items.push(Value::from(item.clone()));
            }
        })
        .await?;
    Ok("added")
}

async fn cart(session: Session) -> Result<Json<Value>, Error> {
    Ok(Json(session.get("cart").await?.unwrap_or(json!([]))))
}

async fn flash(session: Session, Query(q): Q) -> Result<&'static str, Error> {
    let level = match q.get("level").map(String::as_str) {
        Some("error") => Level::Error,
        Some("success") => Level::Success,
        _ => Level::Info,
    };
    session.flash(level, q["text"].clone()).await?;
    Ok("flashed")
}

async fn flashes(Flashes(messages): Flashes) -> Json<Value> {
    Json(Value::Array(
        messages
            .iter()
            .map(|m| json!({ "level": m.level.as_str(), "text": m.text }))
            .collect(),
    ))
}

async fn token(CsrfToken(token): CsrfToken) -> String {
    token
}

/// Echoes the body it was handed, to show the layer passed it on unchanged.
async fn guarded(body: String) -> String {
    format!("ok {body}")
}

/// The app on `store`, served until the returned handle is dropped.
pub async fn serve(store: Arc<dyn SessionStore>, accounts: Accounts) -> (SocketAddr, Server) {
    let config = session_tests::config_with("sign-in test secret", Duration::from_secs(600))
        .build()
        .unwrap();
    let checked = Router::new()
        .route(
            "/guarded",
            post(guarded).put(guarded).delete(guarded).get(guarded),
        )
        .route("/webhooks/in", post(guarded))
        .layer(CsrfLayer::new().exempt(|req| req.uri.path().starts_with("/webhooks/")));
    let app = Router::new()
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/maybe", get(maybe))
        .route("/logout", post(logout))
        .route("/logout-others", post(logout_others))
        .route("/password", post(password))
        .route("/cart", get(cart).post(add_to_cart))
        .route("/rotate", post(rotate))
        .route("/flash", post(flash))
        .route("/flashes", get(flashes))
        .route("/token", get(token))
        .merge(checked)
        .layer(Extension(accounts.clone()))
        .layer(Extension(UserDirectory::new(accounts)))
        .layer(SessionLayer::from_arc(config, store));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, Server(task))
}

/// Stops the server when dropped.
pub struct Server(tokio::task::JoinHandle<()>);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.abort();
    }
}
