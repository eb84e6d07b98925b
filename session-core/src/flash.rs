//! Flash messages: set now ("Saved."), shown by the next page that reads them, then
//! gone; as connect-flash keeps them, so an express app and a Rust service sharing the
//! store see each other's: `{"flash": {"info": ["Saved."], "error": [...]}}`.
//!
//! Both sides are atomic ([`Session::update`]): a message set while another request
//! reads the messages is either read by it or kept for the next read, never lost and
//! never shown twice.

use serde_json::{Map, Value};

use crate::error::Error;
use crate::session::Session;

/// The data key holding the messages (connect-flash's).
const FLASH_KEY: &str = "flash";

/// How a flash message should be shown.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Level {
    /// `debug`.
    Debug,
    /// `info`.
    Info,
    /// `success`.
    Success,
    /// `warning`.
    Warning,
    /// `error`.
    Error,
    /// Any other type an express app used (`req.flash('notice', ..)`). Build levels
    /// from names with `Level::from`, which gives the five above for their own names.
    Other(String),
}

impl Level {
    /// The name stored (connect-flash's type).
    pub fn as_str(&self) -> &str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Success => "success",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Other(name) => name,
        }
    }
}

impl From<&str> for Level {
    /// The level of a stored name: one of the five, or [`Level::Other`] for any other.
    fn from(name: &str) -> Self {
        match name {
            "debug" => Level::Debug,
            "info" => Level::Info,
            "success" => Level::Success,
            "warning" => Level::Warning,
            "error" => Level::Error,
            other => Level::Other(other.to_owned()),
        }
    }
}

/// One flash message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Message {
    /// Its level.
    pub level: Level,
    /// Its text (not HTML-escaped: escape it where you render it).
    pub text: String,
}

impl Session {
    /// Adds a flash message for the next page that reads them.
    ///
    /// ```
    /// use session_core::flash::Level;
    ///
    /// # async fn f(session: &session_core::Session) -> Result<(), session_core::Error> {
    /// session.flash(Level::Success, "Signed in.").await?;
    /// let shown = session.take_flash().await?;
    /// assert_eq!(shown[0].text, "Signed in.");
    /// assert!(session.take_flash().await?.is_empty());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Session::update`].
    pub async fn flash(&self, level: Level, text: impl Into<String>) -> Result<(), Error> {
        let text = Value::from(text.into());
        self.update(|data| {
            let flash = data
                .entry(FLASH_KEY)
                .and_modify(|f| {
                    if !f.is_object() {
                        *f = Value::Object(Map::new());
                    }
                })
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(by_level) = flash {
                match by_level
                    .entry(level.as_str())
                    .or_insert_with(|| Value::Array(Vec::new()))
                {
                    Value::Array(list) => list.push(text.clone()),
                    other => *other = Value::Array(vec![text.clone()]),
                }
            }
        })
        .await
    }

    /// The flash messages, removed from the session (in the order of their levels'
    /// first use, then of setting). Costs no store write when there are none.
    ///
    /// # Errors
    ///
    /// As [`Session::update`].
    pub async fn take_flash(&self) -> Result<Vec<Message>, Error> {
        match self.data_if_any().await? {
            Some(data) if data.contains_key(FLASH_KEY) => {}
            _ => return Ok(Vec::new()),
        }
        let taken = self.update(|data| data.shift_remove(FLASH_KEY)).await?;
        Ok(messages(taken))
    }
}

/// The messages of a stored `flash` value; anything else in it is ignored.
fn messages(flash: Option<Value>) -> Vec<Message> {
    let Some(Value::Object(by_level)) = flash else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, list) in by_level {
        let level = Level::from(name.as_str());
        let texts = match list {
            Value::Array(list) => list,
            single => vec![single],
        };
        for text in texts {
            if let Value::String(text) = text {
                out.push(Message {
                    level: level.clone(),
                    text,
                });
            }
        }
    }
    out
}
