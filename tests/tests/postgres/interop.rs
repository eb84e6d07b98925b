//! Live interop with the real thing: express 5 + express-session 1.19 +
//! connect-pg-simple 10 on node-pg (tests/node, pinned by package-lock.json) and the
//! Rust layer with the Postgres store, on one private PostgreSQL whose time zone is not
//! UTC, with the same secret. Every scenario runs both ways.

use std::net::SocketAddr;

use serde_json::json;
use session_hyper::SessionLayer;
use session_store_postgres::PostgresStore;
use session_tests::node::NodeApp;
use session_tests::postgres::{PgServer, unique_table};
use session_tests::{Client, Reply, TestServer};

use super::config;

/// One database, one express app, one Rust server, on the same table.
struct Pair {
    // Dropped in this order: the clients stop before the database does.
    node: NodeApp,
    rust: TestServer,
    pg: PgServer,
    table: String,
}

/// A pair on a table the Rust store creates (or, with `node_creates`, connect-pg-simple
/// creates on its first request, before the Rust store starts).
async fn pair(node_creates: bool) -> Pair {
    let pg = PgServer::start_with(&["timezone=America/Sao_Paulo"]);
    let table = unique_table();
    let (node, store) = if node_creates {
        let node = NodeApp::start_pg(&pg.url(), &table, true);
        let mut c = Client::new(node.addr);
        assert_eq!(
            c.get("/").await.status,
            200,
            "connect-pg-simple creates the table"
        );
        (node, rust_store(&pg, &table, false).await)
    } else {
        let store = rust_store(&pg, &table, true).await;
        (NodeApp::start_pg(&pg.url(), &table, false), store)
    };
    let rust = TestServer::start(SessionLayer::new(config(), store)).await;
    Pair {
        node,
        rust,
        pg,
        table,
    }
}

/// The Rust store on `table`.
async fn rust_store(pg: &PgServer, table: &str, create: bool) -> PostgresStore {
    PostgresStore::builder()
        .table(table)
        .create_table_if_missing(create)
        .connect(&pg.url())
        .await
        .expect("the Rust store uses the table")
}

impl Pair {
    /// (first, second) for a direction.
    fn sides(&self, node_first: bool) -> (SocketAddr, SocketAddr) {
        if node_first {
            (self.node.addr, self.rust.addr)
        } else {
            (self.rust.addr, self.node.addr)
        }
    }

    /// Whether every row's `expire` is connect-pg-simple's value for its own
    /// `cookie.expires` (whole seconds, rounded up), read in the server's time zone.
    /// Meaningful right after writes: a read (on either side) slides `expire` without
    /// rewriting the record.
    fn expire_matches_cookie(&self) -> String {
        self.pg.psql(&format!(
            "SELECT bool_and(extract(epoch from expire::timestamptz) = \
             ceil(extract(epoch from (sess->'cookie'->>'expires')::timestamptz))) FROM \"{}\"",
            self.table
        ))
    }
}

async fn at(c: &mut Client, addr: SocketAddr, method: &str, path: &str) -> Reply {
    c.addr = addr;
    let r = c.send(method, path).await;
    assert_eq!(r.status, 200, "{method} {path} on {addr}: {}", r.body);
    r
}

async fn created_read_modified_destroyed_on_the_other_side(node_first: bool) {
    let p = pair(false).await;
    let (first, second) = p.sides(node_first);
    let mut c = Client::new(first);
    assert_eq!(at(&mut c, first, "GET", "/").await.json()["views"], 1);
    assert_eq!(p.expire_matches_cookie(), "t", "the creator's expire");
    assert_eq!(
        at(&mut c, second, "GET", "/session").await.json()["views"],
        1
    );
    assert_eq!(at(&mut c, second, "GET", "/").await.json()["views"], 2);
    at(&mut c, second, "POST", "/set?from=second&lang=fr%20CA").await;
    assert_eq!(p.expire_matches_cookie(), "t", "the other side's expire");
    let data = at(&mut c, first, "GET", "/session").await.json();
    assert_eq!(data, json!({"views": 2, "from": "second", "lang": "fr CA"}));
    let before = c.clone();
    at(&mut c, second, "POST", "/logout").await;
    let mut replay = before;
    assert_eq!(
        at(&mut replay, first, "GET", "/session").await.json(),
        json!({}),
        "destroyed on one side, gone on the other"
    );
    assert_eq!(
        p.pg.psql(&format!("SELECT count(*) FROM \"{}\"", p.table)),
        "0"
    );
}

#[tokio::test]
async fn express_creates_rust_reads_modifies_and_destroys() {
    created_read_modified_destroyed_on_the_other_side(true).await;
}

#[tokio::test]
async fn rust_creates_express_reads_modifies_and_destroys() {
    created_read_modified_destroyed_on_the_other_side(false).await;
}

async fn regenerate_invalidates_the_old_cookie(node_first: bool) {
    let p = pair(false).await;
    let (first, second) = p.sides(node_first);
    let mut c = Client::new(first);
    at(&mut c, first, "GET", "/").await;
    let old = c.clone();
    at(&mut c, first, "POST", "/login?user=ada").await;
    assert_ne!(c.jar, old.jar, "a new id");
    let mut stale = old;
    assert_eq!(
        at(&mut stale, second, "GET", "/session").await.json(),
        json!({})
    );
    assert_eq!(
        at(&mut c, second, "GET", "/session").await.json(),
        json!({"user": "ada"})
    );
    assert_eq!(
        p.pg.psql(&format!("SELECT count(*) FROM \"{}\"", p.table)),
        "1",
        "the old row is gone"
    );
}

#[tokio::test]
async fn regenerate_on_express_is_honoured_by_rust() {
    regenerate_invalidates_the_old_cookie(true).await;
}

#[tokio::test]
async fn regenerate_on_rust_is_honoured_by_express() {
    regenerate_invalidates_the_old_cookie(false).await;
}

#[tokio::test]
async fn a_table_created_by_connect_pg_simple_serves_rust_and_both_ways() {
    let p = pair(true).await;
    let mut c = Client::new(p.rust.addr);
    assert_eq!(at(&mut c, p.rust.addr, "GET", "/").await.json()["views"], 1);
    assert_eq!(at(&mut c, p.node.addr, "GET", "/").await.json()["views"], 2);
    // Compared after writes: a read slides `expire` without rewriting `cookie.expires`
    // (connect-pg-simple's touch does the same), so after a read they may differ.
    assert_eq!(p.expire_matches_cookie(), "t");
    assert_eq!(
        at(&mut c, p.rust.addr, "GET", "/read").await.json()["views"],
        2
    );
}

#[tokio::test]
async fn the_expiry_slides_the_same_from_both_sides() {
    let p = pair(false).await;
    let mut c = Client::new(p.node.addr);
    at(&mut c, p.node.addr, "GET", "/").await;
    let left = |p: &Pair| -> i64 {
        p.pg.psql(&format!(
            "SELECT extract(epoch from expire::timestamptz - now())::int8 FROM \"{}\"",
            p.table
        ))
        .parse()
        .unwrap()
    };
    for (side, name) in [(p.rust.addr, "rust"), (p.node.addr, "express")] {
        p.pg.psql(&format!(
            "UPDATE \"{}\" SET expire = expire - interval '30 minutes'",
            p.table
        ));
        assert!(left(&p) < 1_900);
        at(&mut c, side, "GET", "/read").await;
        let now_left = left(&p);
        assert!(
            (3_598..=3_601).contains(&now_left),
            "a read on {name} slides to maxAge (one hour): {now_left} s left"
        );
    }
}
