//! The private PostgreSQL server the tests run against: it starts as an unprivileged
//! user, answers on loopback, keeps its data across a restart and stops by PID.

use session_tests::postgres::PgServer;

#[test]
fn a_private_server_starts_answers_restarts_and_stops() {
    let mut pg = PgServer::start();
    assert_eq!(pg.psql("SELECT 1 + 1"), "2");
    pg.psql("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('there')");
    assert!(pg.url().starts_with("postgres://postgres@127.0.0.1:"));
    pg.restart();
    assert_eq!(pg.psql("SELECT v FROM kept"), "there");
    let port = pg.port;
    drop(pg);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens once the server is dropped"
    );
}
