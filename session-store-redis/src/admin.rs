//! Listing and clearing: `all`, `len` and `clear` scan the prefix on every primary
//! (`SCAN MATCH <escaped prefix>*`), then `GET` or `DEL` key by key (keys of a cluster
//! live in different slots).

use redis::Value;
use session_core::SessionId;
use session_core::store::{Record, StoreError};

use crate::store::RedisStore;

impl RedisStore {
    /// Every readable session of this store.
    pub(crate) async fn scan_records(&self) -> Result<Vec<(SessionId, Record)>, StoreError> {
        let mut out = Vec::new();
        for key in self.scan_keys().await? {
            // Not a session key (with an empty prefix, every key matches): not read.
            let Some(id) = id_of(&self.prefix, &key) else {
                continue;
            };
            let Some(bytes): Option<Vec<u8>> = self.conn.cmd(redis::cmd("GET").arg(&key)).await?
            else {
                continue; // expired or deleted since the scan
            };
            let Ok(loaded) = self.decode(&bytes) else {
                tracing::warn!("skipping an unreadable session record while listing");
                continue;
            };
            out.push((id, loaded.record));
        }
        Ok(out)
    }

    /// Deletes every session of this store.
    pub(crate) async fn delete_all(&self) -> Result<(), StoreError> {
        for key in self.scan_keys().await? {
            let _: i64 = self.conn.cmd(redis::cmd("DEL").arg(&key)).await?;
        }
        Ok(())
    }

    /// Every key of this store: `SCAN MATCH <escaped prefix>*` on each primary.
    pub(crate) async fn scan_keys(&self) -> Result<Vec<String>, StoreError> {
        let pattern = format!("{}*", escape_glob(&self.prefix));
        let mut keys = Vec::new();
        for (host, port) in self.primaries().await? {
            let mut cursor: u64 = 0;
            loop {
                let mut scan = redis::cmd("SCAN");
                scan.arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(self.scan_count);
                let (next, batch): (u64, Vec<String>) = self.conn.cmd_on(&host, port, scan).await?;
                keys.extend(batch);
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        keys.sort_unstable();
        keys.dedup();
        Ok(keys)
    }

    /// The primaries to scan: one placeholder for a single node, or every primary of
    /// the cluster from `CLUSTER SLOTS`.
    async fn primaries(&self) -> Result<Vec<(String, u16)>, StoreError> {
        if !self.conn.is_cluster() {
            return Ok(vec![(String::new(), 0)]);
        }
        let slots: Vec<Value> = self
            .conn
            .cmd(&redis::cmd("CLUSTER").arg("SLOTS").to_owned())
            .await?;
        let mut nodes = Vec::new();
        for range in slots {
            let Value::Array(parts) = range else { continue };
            if let Some(Value::Array(primary)) = parts.get(2) {
                let host = primary
                    .first()
                    .and_then(|v| redis::from_redis_value::<String>(v.clone()).ok());
                let port = primary
                    .get(1)
                    .and_then(|v| redis::from_redis_value::<u16>(v.clone()).ok());
                if let (Some(h), Some(p)) = (host, port) {
                    nodes.push((h, p));
                }
            }
        }
        nodes.sort();
        nodes.dedup();
        Ok(nodes)
    }
}

/// Escapes Redis glob characters so the prefix matches literally.
fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) fn id_of(prefix: &str, key: &str) -> Option<SessionId> {
    key.strip_prefix(prefix).and_then(SessionId::parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_characters_in_the_prefix_are_escaped() {
        assert_eq!(escape_glob("sess:"), "sess:");
        assert_eq!(escape_glob("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
