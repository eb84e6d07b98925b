//! The per-user index behind `sessions_of`: one Redis sorted set per user,
//! `users:<prefix><user>` (outside the session prefix, so `all`/`len`/`clear` never
//! see it), holding the ids of the user's sessions, each scored with when it was last
//! indexed (ms since the epoch).
//!
//! - Written before the session (`create` of a record with a user; a `save` that
//!   changes the user or needs a longer TTL than this process gave), so the set always
//!   holds every session the user has.
//! - `destroy` reads the record as it deletes it (`GETDEL`) and removes its id from
//!   its user's set (`ZREM`); a set left empty is deleted by Redis.
//! - TTL discipline: the set lives at least as long as its longest-lived session. The
//!   script sets the set's TTL to the session's plus a margin (1/64 of it, 1 s to 1 h)
//!   unless it is already longer; a load or a touch that slides a session's
//!   TTL past what this process last gave the set extends the set the same way (so an
//!   active user costs one extra command per margin, not per request). The touch
//!   script learns the user from the record's bookkeeping (`__sessionMeta.user64`, in
//!   its first bytes), so sessions kept alive by requests that never read them keep
//!   their set alive too. When the user's last session expires, the set follows
//!   within that margin.
//! - Reading the set drops members whose record names another user, and members whose
//!   record is missing and that were last indexed over a minute ago (expired, or
//!   deleted by another writer), so a long-lived account's set does not grow. A member
//!   whose record is missing but that was indexed just now stays: its write may not
//!   have landed yet (the set is written first).
//!
//! The set and the session keys live in different cluster slots: each command names
//! one key, so the layout works on Redis Cluster as on a single server.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::Script;
use session_core::SessionId;
use session_core::store::{MAX_STORE_TTL, Record, StoreError};

use crate::error::RedisStoreError;
use crate::store::RedisStore;

/// The most sessions whose user and set TTL this process remembers; past it, the
/// memory starts over (costing a few extra commands, never a missed extension).
const REMEMBERED: usize = 65_536;

/// How long after it was last indexed a member whose record is missing may still be a
/// session being written (the index is written first); past it, it is a session that
/// is gone (expired, or deleted by another writer) and leaves the set when read.
const IN_FLIGHT: Duration = Duration::from_secs(60);

/// ADD: put the session id `ARGV[1]` into the sorted set `KEYS[1]` with the time
/// `ARGV[3]` (ms) as its score, and make the set live at least `ARGV[2]` seconds (`0`:
/// for ever, as its sessions then do).
const ADD_LUA: &str = r#"
local existed = redis.call('EXISTS', KEYS[1]) == 1
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
local want = tonumber(ARGV[2])
if want == 0 then
  redis.call('PERSIST', KEYS[1])
  return 1
end
local ttl = redis.call('TTL', KEYS[1])
if not existed or (ttl >= 0 and ttl < want) then redis.call('EXPIRE', KEYS[1], want) end
return 1
"#;

/// The index's script and this process's memory of the TTLs it gave.
#[derive(Debug)]
pub(crate) struct UserIndex {
    add: Script,
    /// Session → the user this process last indexed it under, and until when it made
    /// that user's set live. Every save follows a load of the same session in the
    /// same request, which refreshes the user here; so a save that finds its own user
    /// here, far enough ahead, knows the set holds the id and outlives it.
    given: Mutex<HashMap<SessionId, (String, Instant)>>,
}

impl UserIndex {
    pub(crate) fn new() -> Self {
        UserIndex {
            add: Script::new(ADD_LUA),
            given: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn script(&self) -> &Script {
        &self.add
    }

    fn forget(&self, id: &SessionId) {
        let mut given = self.given.lock().unwrap_or_else(|e| e.into_inner());
        given.remove(id);
    }
}

/// The TTL and the signed-in user of the touch script's answer `"<ttl>:<user64>"`.
pub(crate) fn touched_user(reply: &[u8]) -> Option<(u64, String)> {
    use base64::Engine as _;
    let text = std::str::from_utf8(reply).ok()?;
    let (ttl, user64) = text.split_once(':')?;
    let user = match user64.strip_prefix('=') {
        Some(raw) => raw.to_owned(), // passport.user of a record express wrote
        None => String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(user64)
                .ok()?,
        )
        .ok()?,
    };
    let ttl = ttl.parse::<u64>().ok()?.min(MAX_STORE_TTL.as_secs());
    Some((ttl, user))
}

/// Milliseconds since the Unix epoch, by this machine's clock.
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The margin a set lives past the session that last extended it.
fn margin(ttl_secs: u64) -> u64 {
    (ttl_secs / 64).clamp(1, 3600)
}

impl RedisStore {
    /// The key of `user`'s set.
    pub(crate) fn user_key(&self, user: &str) -> String {
        format!("users:{}{user}", self.prefix)
    }

    /// Indexes `id` under `user`, with the TTL its write, slide or touch gives it
    /// (`ttl_secs`, 0 for none), unless this process did so far enough already for the
    /// same user. `always`: in any case (a new id).
    pub(crate) async fn index(
        &self,
        id: &SessionId,
        user: &str,
        ttl_secs: u64,
        always: bool,
    ) -> Result<(), StoreError> {
        if !self.user_index {
            return Ok(());
        }
        let now = Instant::now();
        let keep = if ttl_secs == 0 {
            0
        } else {
            ttl_secs + margin(ttl_secs)
        };
        {
            let given = self.users.given.lock().unwrap_or_else(|e| e.into_inner());
            let needed = now + Duration::from_secs(ttl_secs + 1);
            let done = given
                .get(id)
                .is_some_and(|(known, until)| known == user && *until >= needed);
            if !always && ttl_secs != 0 && done {
                return Ok(());
            }
        }
        let mut inv = self.users.script().key(self.user_key(user));
        inv.arg(id.expose()).arg(keep).arg(unix_ms());
        let _: i64 = self.conn.script(&inv).await?;
        let mut given = self.users.given.lock().unwrap_or_else(|e| e.into_inner());
        if given.len() >= REMEMBERED {
            given.clear();
        }
        let until = if keep == 0 {
            now + Duration::from_secs(crate::slide::ttl_secs(Duration::MAX))
        } else {
            now + Duration::from_secs(keep)
        };
        given.insert(id.clone(), (user.to_owned(), until));
        Ok(())
    }

    /// Removes `id` from the set of `record`'s user (after the session was deleted).
    pub(crate) async fn unindex(&self, id: &SessionId, record: &Record) -> Result<(), StoreError> {
        let Some(user) = record.user().filter(|_| self.user_index) else {
            return Ok(());
        };
        self.users.forget(id);
        let _: i64 = self
            .conn
            .cmd(
                redis::cmd("ZREM")
                    .arg(self.user_key(&user))
                    .arg(id.expose()),
            )
            .await?;
        Ok(())
    }

    /// Deletes a session and returns what it held (`GETDEL`; `GET` then `DEL` before
    /// Redis 6.2).
    pub(crate) async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if self.slide.modern() {
            match self.conn.cmd(redis::cmd("GETDEL").arg(key)).await {
                Err(RedisStoreError::Redis(e)) if crate::slide::is_unknown_command(&e) => {}
                other => return Ok(other?),
            }
        }
        let bytes: Option<Vec<u8>> = self.conn.cmd(redis::cmd("GET").arg(key)).await?;
        let _: i64 = self.conn.cmd(redis::cmd("DEL").arg(key)).await?;
        Ok(bytes)
    }

    /// The live sessions of `user`: the set's members whose record exists and names
    /// them (an unreadable record counts as theirs: deleting it is the safe side).
    /// Members whose record names someone else, members that are no session id, and
    /// members whose record is missing and that were last indexed more than a minute
    /// ago are removed from the set; a member whose record is missing but was indexed
    /// just now stays (its write may not have landed yet).
    pub(crate) async fn members(&self, user: &str) -> Result<Vec<SessionId>, StoreError> {
        if !self.user_index {
            return Err(StoreError::Unsupported("sessions_of"));
        }
        let set = self.user_key(user);
        let members: Vec<(String, f64)> = self
            .conn
            .cmd(
                redis::cmd("ZRANGE")
                    .arg(&set)
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES"),
            )
            .await?;
        let in_flight = u64::try_from(IN_FLIGHT.as_millis()).unwrap_or(u64::MAX);
        let settled = unix_ms().saturating_sub(in_flight) as f64;
        let mut live = Vec::new();
        for (member, indexed_ms) in members {
            let owned = match SessionId::parse(&member) {
                Some(id) => {
                    let bytes: Option<Vec<u8>> =
                        self.conn.cmd(redis::cmd("GET").arg(self.key(&id))).await?;
                    match bytes.map(|b| self.decode(&b)) {
                        // Gone, unless it may still be being written.
                        None if indexed_ms >= settled => continue,
                        None => None,
                        Some(Err(_)) => Some(id),
                        Some(Ok(l)) => l.record.user().is_some_and(|u| u == user).then_some(id),
                    }
                }
                None => None,
            };
            match owned {
                Some(id) => live.push(id),
                None => {
                    let _: i64 = self
                        .conn
                        .cmd(redis::cmd("ZREM").arg(&set).arg(&member))
                        .await?;
                }
            }
        }
        Ok(live)
    }
}
