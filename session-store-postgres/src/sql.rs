//! The SQL: every statement the store sends, written once from the table's name.
//!
//! Times are computed by the server from Unix seconds with `to_timestamp`, as
//! connect-pg-simple computes them, so a `timestamp` column (without time zone) holds
//! the same value whichever side wrote it, whatever the server's `TimeZone`. Every
//! parameter carries an explicit type, so each statement is prepared once per
//! connection with fixed parameter types.
//!
//! The TTL of a touch (and of the slide a load does) is computed by the server from the
//! stored record, as `Record::ttl_for_touch` does on the client: the cookie's
//! `originalMaxAge` (never the payload's `expires`, which a touch leaves stale) or the
//! default for a browser-session cookie, capped by `__sessionMeta.idleTimeout` and by
//! ten years; in whole seconds rounded up. So a request that never read the session can
//! touch it without loading it.

/// A table name, optionally in a schema, as written in SQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TableName {
    pub(crate) schema: Option<String>,
    pub(crate) table: String,
}

impl TableName {
    /// `"schema"."table"` or `"table"`, each part quoted.
    pub(crate) fn qualified(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(&self.table)),
            None => quote_ident(&self.table),
        }
    }
}

/// An identifier in double quotes, inner quotes doubled (as connect-pg-simple quotes).
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The TTL in seconds the stored `sess` asks for on a touch, between -1 and
/// `$5` (ten years); `$4` is the default for a browser-session cookie. Numbers are read
/// as `numeric`, so no stored value can overflow the arithmetic. Reads the top-level
/// fields [`TOP_FIELDS`] names `f`.
const TOUCH_TTL: &str = "greatest(least(\
CASE WHEN json_typeof(f.cookie->'originalMaxAge') = 'number' \
THEN ceil((f.cookie->>'originalMaxAge')::numeric / 1000) ELSE $4::int8 END, \
CASE WHEN json_typeof(f.\"__sessionMeta\"->'idleTimeout') = 'number' \
THEN ceil((f.\"__sessionMeta\"->>'idleTimeout')::numeric / 1000) ELSE $5::int8 END, \
$5::int8), -1)";

/// The stored record's `cookie` and `__sessionMeta` as `f`, from one parse of `sess`
/// (each `->` on a `json` value parses the whole text again: four lookups cost twice
/// this, about 5.7 ms for a 100 KB session). A `sess` that is not an object has
/// neither, as `->` would answer. The table is aliased `stored` beside it, so no table
/// name can clash with `f`.
const TOP_FIELDS: &str = "json_to_record(CASE WHEN json_typeof(stored.sess) = 'object' \
THEN stored.sess ELSE '{}' END) AS f(cookie json, \"__sessionMeta\" json)";

/// The statements, built once per store.
#[derive(Debug)]
pub(crate) struct Statements {
    /// `$1` sid, `$2` now (s), `$3` touch-after (s), `$4` default TTL, `$5` max TTL →
    /// `sess::text` of a live row, after sliding its expiry when due.
    /// (`slid` runs though nothing reads it: PostgreSQL runs every data-modifying
    /// `WITH` to completion.)
    pub(crate) load_and_slide: String,
    /// `$1` sid, `$2` now → `sess::text` of a live row.
    pub(crate) load: String,
    /// As `load_and_slide`, answering how many live rows there were (0 or 1).
    pub(crate) touch: String,
    /// `$1` sess, `$2` expire (s), `$3` sid, `$4` now → a row when written (a new id, or
    /// an expired row not yet pruned).
    pub(crate) create: String,
    /// `$1` sess, `$2` expire, `$3` sid, `$4` now: rewrites a live row.
    pub(crate) save: String,
    /// As `save`, only while the SHA-256 of the stored text is `$5`.
    pub(crate) save_if: String,
    /// `$1` sid.
    pub(crate) delete: String,
    /// `$1` sid, `$2` digest, `$3` now: deletes a live row only in that version.
    pub(crate) delete_if: String,
    /// `$1` sid, `$2` now → a row if live.
    pub(crate) exists: String,
    /// `$1` sid, `$2` expire (s): brings `expire` forward to `$2`, never back.
    pub(crate) cap: String,
    /// `$1` now → `sid, sess::text` of every live row.
    pub(crate) all: String,
    /// `$1` user, `$2` now → the sid of every live row signed in as that user.
    pub(crate) sessions_of: String,
    /// `$1` now → the number of live rows.
    pub(crate) len: String,
    /// Deletes every row.
    pub(crate) clear: String,
    /// `$1` now, `$2` batch size: deletes up to that many expired rows, skipping rows
    /// another transaction holds.
    pub(crate) prune_batch: String,
}

impl Statements {
    pub(crate) fn new(table: &TableName) -> Self {
        let t = table.qualified();
        let live = "expire >= to_timestamp($2::float8)";
        let new_expire = "to_timestamp((ceil($2::float8)::numeric + cur.ttl)::float8)";
        let slide = format!(
            "WITH cur AS (SELECT stored.sid, stored.sess, stored.xmin AS seen, {TOUCH_TTL} AS ttl \
             FROM {t} AS stored, {TOP_FIELDS} WHERE stored.sid = $1 AND {live}), \
             slid AS (UPDATE {t} AS s SET expire = {new_expire} FROM cur \
             WHERE s.sid = cur.sid AND s.xmin = cur.seen AND cur.ttl > 0 \
             AND s.expire < {new_expire} - make_interval(secs => $3::float8) RETURNING 1)"
        );
        let same_text = "sha256(convert_to(sess::text, 'UTF8'))";
        Statements {
            load_and_slide: format!("{slide} SELECT cur.sess::text, cur.ttl::float8 FROM cur"),
            load: format!("SELECT sess::text FROM {t} WHERE sid = $1 AND {live}"),
            touch: format!("{slide} SELECT count(*) FROM cur"),
            create: format!(
                "INSERT INTO {t} AS s (sess, expire, sid) \
                 VALUES ($1::text::json, to_timestamp($2::float8), $3) \
                 ON CONFLICT (sid) DO UPDATE SET sess = excluded.sess, expire = excluded.expire \
                 WHERE s.expire < to_timestamp($4::float8) RETURNING 1"
            ),
            save: format!(
                "UPDATE {t} SET sess = $1::text::json, expire = to_timestamp($2::float8) \
                 WHERE sid = $3 AND expire >= to_timestamp($4::float8)"
            ),
            save_if: format!(
                "UPDATE {t} SET sess = $1::text::json, expire = to_timestamp($2::float8) \
                 WHERE sid = $3 AND expire >= to_timestamp($4::float8) AND {same_text} = $5::bytea"
            ),
            delete: format!("DELETE FROM {t} WHERE sid = $1"),
            delete_if: format!(
                "DELETE FROM {t} WHERE sid = $1 AND {same_text} = $2::bytea \
                 AND expire >= to_timestamp($3::float8)"
            ),
            exists: format!("SELECT 1 FROM {t} WHERE sid = $1 AND {live}"),
            cap: format!(
                "UPDATE {t} SET expire = to_timestamp($2::float8) \
                 WHERE sid = $1 AND expire > to_timestamp($2::float8)"
            ),
            all: format!(
                "SELECT sid::text, sess::text FROM {t} WHERE expire >= to_timestamp($1::float8)"
            ),
            sessions_of: format!("SELECT sid::text FROM {t} WHERE {USER_OF} = $1 AND {live}"),
            len: format!("SELECT count(*) FROM {t} WHERE expire >= to_timestamp($1::float8)"),
            clear: format!("DELETE FROM {t}"),
            prune_batch: format!(
                "DELETE FROM {t} WHERE sid IN (SELECT sid FROM {t} \
                 WHERE expire < to_timestamp($1::float8) LIMIT $2::int8 FOR UPDATE SKIP LOCKED)"
            ),
        }
    }
}

/// The signed-in user of a row (`Record::user`: passport.js's `passport.user`, a
/// number as its digits), the expression the per-user index is built on.
pub(crate) const USER_OF: &str = "(sess->'passport'->>'user')";

/// connect-pg-simple's `table.sql` for `table`: the default table gets its constraint
/// and index names exactly (`session_pkey`, `IDX_session_expire`); another table name
/// gets the same names built from its own, so two tables can share a schema.
pub(crate) fn create_table(table: &TableName) -> [String; 4] {
    let t = table.qualified();
    let pkey = quote_ident(&format!("{}_pkey", table.table));
    let index = quote_ident(&format!("IDX_{}_expire", table.table));
    [
        format!(
            "CREATE TABLE {t} (\"sid\" varchar NOT NULL COLLATE \"default\", \
             \"sess\" json NOT NULL, \"expire\" timestamp(6) NOT NULL)"
        ),
        format!(
            "ALTER TABLE {t} ADD CONSTRAINT {pkey} PRIMARY KEY (\"sid\") \
             NOT DEFERRABLE INITIALLY IMMEDIATE"
        ),
        format!("CREATE INDEX {index} ON {t} (\"expire\")"),
        user_index(table),
    ]
}

/// The index behind `sessions_of` (not in connect-pg-simple's table: an existing
/// table gets it with this statement; connect-pg-simple ignores it).
pub(crate) fn user_index(table: &TableName) -> String {
    let index = quote_ident(&format!("IDX_{}_user", table.table));
    format!(
        "CREATE INDEX IF NOT EXISTS {index} ON {t} ({USER_OF})",
        t = table.qualified()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_like_connect_pg_simple() {
        assert_eq!(quote_ident("session"), "\"session\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
        let t = TableName {
            schema: Some("app".into()),
            table: "sess ions".into(),
        };
        assert_eq!(t.qualified(), "\"app\".\"sess ions\"");
    }

    #[test]
    fn the_default_table_keeps_connect_pg_simples_constraint_names() {
        let [_, pkey, index, _] = create_table(&TableName {
            schema: None,
            table: "session".into(),
        });
        assert!(pkey.contains("\"session_pkey\""), "{pkey}");
        assert!(index.contains("\"IDX_session_expire\""), "{index}");
    }
}
