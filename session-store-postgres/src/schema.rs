//! The table at start: created when missing (if asked), then checked against
//! connect-pg-simple's shape, so a wrong table is a clear error at start instead of a
//! failed request later.

use deadpool_postgres::Object;

use crate::error::PostgresStoreError;
use crate::sql::{self, TableName};

/// Creates the table if asked and missing (one instance at a time: a transaction-level
/// advisory lock), then checks it. `ON CONFLICT (sid)` needs a unique index on `sid`
/// alone that is immediate, valid, not partial and not on an expression: anything else
/// is refused here rather than by the first request.
pub(crate) async fn ensure(
    client: &mut Object,
    table: &TableName,
    create: bool,
    lock_key: i64,
) -> Result<(), PostgresStoreError> {
    let name = table.qualified();
    if create {
        match create_if_missing(client, table, &name, lock_key).await {
            Ok(()) => {}
            // Created meanwhile by someone without our lock (connect-pg-simple starting
            // at the same moment): the table is there, which is all that was asked.
            Err(e) if is_created_meanwhile(&e) => {
                tracing::debug!(table = %name, "the session table was created meanwhile");
            }
            Err(e) => return Err(e.into()),
        }
    }
    check(client, &name).await
}

/// One transaction: our advisory lock (instances of this store starting together wait
/// for each other, with a startup-sized statement timeout), then the table if missing.
async fn create_if_missing(
    client: &mut Object,
    table: &TableName,
    name: &str,
    lock_key: i64,
) -> Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.batch_execute("SET LOCAL statement_timeout = '10s'")
        .await?;
    tx.execute("SELECT pg_advisory_xact_lock($1::int8)", &[&lock_key])
        .await?;
    let exists: bool = tx
        .query_one("SELECT to_regclass($1::text) IS NOT NULL", &[&name])
        .await?
        .try_get(0)?;
    if !exists {
        for statement in sql::create_table(table) {
            tx.batch_execute(&statement).await?;
        }
        tracing::info!(table = %name, "created the session table");
    }
    tx.commit().await
}

/// A table, type or constraint that appeared between our check and our `CREATE`.
fn is_created_meanwhile(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::DUPLICATE_TABLE
            || *c == SqlState::DUPLICATE_OBJECT
            || *c == SqlState::UNIQUE_VIOLATION
    })
}

async fn exists(
    client: &impl deadpool_postgres::GenericClient,
    name: &str,
) -> Result<bool, PostgresStoreError> {
    let row = client
        .query_one("SELECT to_regclass($1::text) IS NOT NULL", &[&name])
        .await?;
    Ok(row.try_get(0)?)
}

/// `sid` a character type with a unique index of its own, `sess` `json` (not `jsonb`:
/// the text is kept byte for byte, which saves and digests rely on), `expire` a
/// timestamp.
async fn check(client: &Object, name: &str) -> Result<(), PostgresStoreError> {
    if !exists(client, name).await? {
        return Err(PostgresStoreError::MissingTable {
            table: name.to_owned(),
        });
    }
    let rows = client
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, NULL) FROM pg_attribute a \
             WHERE a.attrelid = to_regclass($1::text) AND a.attnum > 0 AND NOT a.attisdropped",
            &[&name],
        )
        .await?;
    let type_of = |column: &str| -> Option<String> {
        rows.iter()
            .find(|r| r.try_get::<_, &str>(0).is_ok_and(|c| c == column))
            .and_then(|r| r.try_get::<_, String>(1).ok())
    };
    let wrong = |reason: String| PostgresStoreError::WrongSchema {
        table: name.to_owned(),
        reason,
    };
    match type_of("sid").as_deref() {
        Some("character varying" | "text" | "character") => {}
        Some(other) => return Err(wrong(format!("column sid is {other}, not varchar"))),
        None => return Err(wrong("no column sid".into())),
    }
    match type_of("sess").as_deref() {
        Some("json") => {}
        Some(other) => {
            return Err(wrong(format!(
                "column sess is {other}, not json (json keeps the stored text as written)"
            )));
        }
        None => return Err(wrong("no column sess".into())),
    }
    match type_of("expire").as_deref() {
        Some(t) if t.starts_with("timestamp") => {}
        Some(other) => return Err(wrong(format!("column expire is {other}, not timestamp"))),
        None => return Err(wrong("no column expire".into())),
    }
    let unique: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_index i \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
             WHERE i.indrelid = to_regclass($1::text) AND i.indisunique AND i.indnkeyatts = 1 \
             AND i.indimmediate AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL \
             AND a.attname = 'sid')",
            &[&name],
        )
        .await?
        .try_get(0)?;
    if !unique {
        return Err(wrong("sid is not its primary key".into()));
    }
    Ok(())
}
