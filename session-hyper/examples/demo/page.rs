//! The demo's HTML page, for trying the session flow by hand in a browser, built on
//! the sign-in building blocks (`Session::log_in`, `signed_in`, `log_out`,
//! `log_out_other_sessions`), flash messages and CSRF tokens:
//!
//! - `GET /app`: counts visits in the session, shows the flash messages, the signed-in
//!   user and their number of sessions, a sign-in form, a sign-out button, a "sign out
//!   everywhere else" button, and what page scripts see in `document.cookie`
//! - `POST /app/login` (form fields `user`, `_csrf`): signs in (a new session id, the
//!   visit count kept), flashes a welcome; answers 303 to `/app`
//! - `POST /app/logout`: destroys the session; answers a page with no new session
//! - `POST /app/logout-everywhere`: ends the user's other sessions (every browser,
//!   every demo process sharing the store), flashes how many; 303 to `/app`
//!
//! Every form carries the session's CSRF token; `CsrfLayer` refuses a POST to `/app/*`
//! without it (403).

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body::Body as HttpBody;
use http_body_util::{BodyExt, Full, Limited};
use serde_json::Value;
use session_core::auth::{BoxError, Carry, Users};
use session_core::flash::{Level, Message};
use session_core::store::StoreError;
use session_core::{Error, Session};

type Body = Full<Bytes>;

/// Form bodies larger than this are refused with 413.
const FORM_LIMIT: usize = 4 * 1024;
/// Longest user name kept.
const NAME_LIMIT: usize = 64;
/// Every demo user's auth value. A real application passes the user's password hash
/// (or a counter it bumps when the password changes).
const AUTH_VALUE: &[u8] = b"demo: anyone may sign in by name";

/// The demo's users: anyone, all with the same auth value.
pub(crate) struct DemoUsers;

#[session_core::store::async_trait]
impl Users for DemoUsers {
    async fn auth_value(&self, _user: &str) -> Result<Option<Vec<u8>>, BoxError> {
        Ok(Some(AUTH_VALUE.to_vec()))
    }
}

/// `GET /app`.
pub(crate) async fn show(session: &Session) -> Result<Response<Body>, Error> {
    let visits = session
        .update(|data| {
            let n = data.get("visits").and_then(Value::as_u64).unwrap_or(0) + 1;
            data.insert("visits".into(), n.into());
            n
        })
        .await?;
    let flashes = session.take_flash().await?;
    let user = session.signed_in(&DemoUsers).await?;
    let token = session.csrf_token().await?;
    let who = match &user {
        Some(name) => {
            // Not every store lists a user's sessions (sealed cookies keep no index).
            let count = match session.store().sessions_of(name).await {
                Ok(ids) => format!(
                    r#"<p>Your sessions, in every browser: <span id="session-count">{}</span></p>"#,
                    ids.len()
                ),
                Err(_) => String::new(),
            };
            format!(
                r#"<p id="user">Signed in as <strong id="user-name">{}</strong></p>{count}"#,
                escape(name)
            )
        }
        None => r#"<p id="user">Not signed in</p>"#.to_owned(),
    };
    let csrf = format!(
        r#"<input type="hidden" name="_csrf" value="{}">"#,
        escape(&token)
    );
    let body = format!(
        r#"{flash}<p>Visits in this session: <strong id="visits">{visits}</strong></p>
{who}
<form method="post" action="/app/login">{csrf}
  <label>Name <input id="name" name="user" maxlength="{NAME_LIMIT}" required></label>
  <button id="login" type="submit">Sign in</button>
</form>
<form method="post" action="/app/logout">{csrf}
  <button id="logout" type="submit">Sign out</button>
</form>
<form method="post" action="/app/logout-everywhere">{csrf}
  <button id="logout-everywhere" type="submit">Sign out everywhere else</button>
</form>
<p>What page scripts see in <code>document.cookie</code>: <code id="js-cookies"></code>
(the session cookie is <code>HttpOnly</code>, so it is not there)</p>
<script>
  document.getElementById("js-cookies").textContent = document.cookie || "(nothing)";
</script>"#,
        flash = flash_list(&flashes),
    );
    Ok(html(StatusCode::OK, &body))
}

/// `POST /app/login`: reads the form, signs the user in, flashes a welcome.
pub(crate) async fn login<B>(session: &Session, body: B) -> Result<Response<Body>, Error>
where
    B: HttpBody<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let Ok(collected) = Limited::new(body, FORM_LIMIT).collect().await else {
        return Ok(html(
            StatusCode::PAYLOAD_TOO_LARGE,
            "<p>That form was too large.</p>",
        ));
    };
    let form = collected.to_bytes();
    let user: String = form_urlencoded::parse(&form)
        .find(|(k, _)| k == "user")
        .map(|(_, v)| v.trim().chars().take(NAME_LIMIT).collect())
        .unwrap_or_default();
    if user.is_empty() {
        return Ok(html(
            StatusCode::BAD_REQUEST,
            r#"<p>A name is needed. <a href="/app">Back</a></p>"#,
        ));
    }
    // A new id (no session fixation); the visit count stays.
    session.log_in(&user, AUTH_VALUE, Carry::KeepData).await?;
    session
        .flash(Level::Success, format!("Welcome, {user}!"))
        .await?;
    Ok(see_other("/app"))
}

/// `POST /app/logout`.
pub(crate) async fn logout(session: &Session) -> Result<Response<Body>, Error> {
    session.log_out().await?;
    Ok(html(
        StatusCode::OK,
        r#"<p id="signed-out">Signed out. <a id="back" href="/app">Back to the page</a></p>"#,
    ))
}

/// `POST /app/logout-everywhere`: the user's other sessions end; this one stays.
pub(crate) async fn logout_everywhere(session: &Session) -> Result<Response<Body>, Error> {
    let (level, text) = match session.log_out_other_sessions().await {
        Ok(n) => (Level::Info, format!("Signed out of {n} other session(s).")),
        Err(Error::Store {
            source: StoreError::Unsupported(_),
            ..
        }) => (
            Level::Error,
            "This store cannot list a user's sessions.".to_owned(),
        ),
        Err(e) => return Err(e),
    };
    session.flash(level, text).await?;
    Ok(see_other("/app"))
}

fn flash_list(messages: &[Message]) -> String {
    if messages.is_empty() {
        return String::new();
    }
    let items: String = messages
        .iter()
        .map(|m| {
            format!(
                r#"<li class="{}">{}</li>"#,
                escape(m.level.as_str()),
                escape(&m.text)
            )
        })
        .collect();
    format!(r#"<ul id="flash">{items}</ul>"#)
}

fn html(status: StatusCode, main: &str) -> Response<Body> {
    let page = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Session demo</title>
<style>
  body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; }}
  form {{ margin: 1rem 0; }} input, button {{ font: inherit; padding: .25rem .5rem; }}
  code {{ background: #f3f3f3; padding: 0 .25rem; }}
  #flash {{ list-style: none; padding: .5rem 1rem; background: #eef6ee; }}
  #flash .error {{ color: #a00; }}
</style></head>
<body><main><h1>Session demo</h1>
{main}
</main></body></html>
"#
    );
    let mut res = Response::new(Full::from(page));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

fn see_other(location: &'static str) -> Response<Body> {
    let mut res = Response::new(Full::default());
    *res.status_mut() = StatusCode::SEE_OTHER;
    res.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(location));
    res
}

/// HTML-escapes text for element content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
