//! The demo's HTML page, for trying the session flow by hand in a browser:
//!
//! - `GET /app`: counts visits in the session, shows the signed-in user, a sign-in
//!   form, a sign-out button and what page scripts see in `document.cookie`
//! - `POST /app/login` (form field `user`): a new session id (`regenerate`), then the
//!   user; answers 303 to `/app`
//! - `POST /app/logout`: destroys the session; answers a page with no new session

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::Value;
use session_core::{Error, Session};

type Body = Full<Bytes>;

/// Form bodies larger than this are refused with 413.
const FORM_LIMIT: usize = 4 * 1024;
/// Longest user name kept.
const NAME_LIMIT: usize = 64;

/// `GET /app`.
pub(crate) async fn show(session: &Session) -> Result<Response<Body>, Error> {
    let visits = session
        .update(|data| {
            let n = data.get("visits").and_then(Value::as_u64).unwrap_or(0) + 1;
            data.insert("visits".into(), n.into());
            n
        })
        .await?;
    let user: Option<String> = session.get("user").await?;
    let who = match &user {
        Some(name) => format!(
            r#"<p id="user">Signed in as <strong id="user-name">{}</strong></p>"#,
            escape(name)
        ),
        None => r#"<p id="user">Not signed in</p>"#.to_owned(),
    };
    let body = format!(
        r#"<p>Visits in this session: <strong id="visits">{visits}</strong></p>
{who}
<form method="post" action="/app/login">
  <label>Name <input id="name" name="user" maxlength="{NAME_LIMIT}" required></label>
  <button id="login" type="submit">Sign in</button>
</form>
<form method="post" action="/app/logout">
  <button id="logout" type="submit">Sign out</button>
</form>
<p>What page scripts see in <code>document.cookie</code>: <code id="js-cookies"></code>
(the session cookie is <code>HttpOnly</code>, so it is not there)</p>
<script>
  document.getElementById("js-cookies").textContent = document.cookie || "(nothing)";
</script>"#
    );
    Ok(html(StatusCode::OK, &body))
}

/// `POST /app/login`: reads the form, regenerates the session, stores the user.
pub(crate) async fn login(session: &Session, body: Incoming) -> Result<Response<Body>, Error> {
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
    // A new id at every privilege change: no session fixation.
    session.regenerate().await?;
    session.insert("user", &user).await?;
    Ok(see_other("/app"))
}

/// `POST /app/logout`.
pub(crate) async fn logout(session: &Session) -> Result<Response<Body>, Error> {
    session.destroy().await?;
    Ok(html(
        StatusCode::OK,
        r#"<p id="signed-out">Signed out. <a id="back" href="/app">Back to the page</a></p>"#,
    ))
}

fn html(status: StatusCode, main: &str) -> Response<Body> {
    let page = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Session demo</title>
<style>
  body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; }}
  form {{ margin: 1rem 0; }} input, button {{ font: inherit; padding: .25rem .5rem; }}
  code {{ background: #f3f3f3; padding: 0 .25rem; }}
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

/// HTML-escapes text for element content.
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
