//! Log in and out, the extractors and the auth version, on each store.

use serde_json::json;
use session_tests::Client;

use crate::app::{Accounts, serve};
use crate::{cookie_for, id_of, stores};

#[tokio::test]
async fn login_rotates_the_id_keeps_or_drops_data_and_the_extractors_follow() {
    for (name, store) in stores().await {
        let accounts = Accounts::default();
        accounts.set("ann", "hash-1");
        let (addr, _server) = serve(store.clone(), accounts.clone()).await;

        let mut c = Client::new(addr);
        assert_eq!(c.get("/maybe").await.body, "anonymous", "{name}");
        let r = c.get("/me").await;
        assert_eq!(r.status, 401, "{name}: nobody signed in");
        assert_eq!(c.post("/cart?item=book").await.status, 200);
        let anonymous = id_of(&c);

        // Keep the cart: the id changes, the data moves with it.
        let r = c.post("/login?user=ann&carry=keep").await;
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        let signed_in = id_of(&c);
        assert_ne!(signed_in, anonymous, "{name}: a new id at sign-in");
        assert_eq!(r.body, signed_in.expose());
        assert_eq!(c.get("/me").await.body, "ann", "{name}");
        assert_eq!(c.get("/maybe").await.body, "ann");
        assert_eq!(
            c.get("/cart").await.json(),
            json!(["book"]),
            "{name}: cart kept"
        );
        assert!(
            store.load(&anonymous).await.unwrap().is_none(),
            "{name}: old id gone"
        );
        let old = Client::new(addr)
            .send_with("GET", "/maybe", Some(&cookie_for(&anonymous)))
            .await;
        assert_eq!(
            old.body, "anonymous",
            "{name}: the old cookie signs nobody in"
        );

        // Drop the data: a fresh session with only the sign-in.
        let mut d = Client::new(addr);
        d.post("/cart?item=pen").await;
        d.post("/login?user=ann&carry=drop").await;
        assert_eq!(d.get("/me").await.body, "ann");
        assert_eq!(
            d.get("/cart").await.json(),
            json!([]),
            "{name}: data dropped"
        );

        // The record is passport's shape, with the auth version beside the user.
        let stored = store.load(&id_of(&d)).await.unwrap().unwrap().record;
        let passport = &stored.data()["passport"];
        assert_eq!(passport["user"], "ann");
        assert_eq!(passport["authVersion"].as_str().unwrap().len(), 43);
        assert!(
            !passport.to_string().contains("hash-1"),
            "the value itself is never stored"
        );

        // The version is bound to the user: another user with the same value has
        // another one.
        accounts.set("zed", "hash-1");
        let mut z = Client::new(addr);
        z.post("/login?user=zed").await;
        let zed = store.load(&id_of(&z)).await.unwrap().unwrap().record;
        assert_ne!(
            zed.data()["passport"]["authVersion"],
            passport["authVersion"],
            "{name}"
        );

        // Signing in as someone else from a signed-in session never carries its data.
        z.post("/cart?item=zeds-secret").await;
        z.post("/login?user=ann&carry=keep").await;
        assert_eq!(z.get("/me").await.body, "ann", "{name}");
        assert_eq!(
            z.get("/cart").await.json(),
            json!([]),
            "{name}: zed's data dropped"
        );
        z.post("/logout").await;

        let mut ids = store.sessions_of("ann").await.unwrap();
        ids.sort();
        let mut want = vec![id_of(&c), id_of(&d)];
        want.sort();
        assert_eq!(ids, want, "{name}: both sessions indexed");

        // Log out: the session is destroyed, its cookie removed.
        let r = c.post("/logout").await;
        assert!(
            r.set_cookie("connect.sid").unwrap().contains("1970"),
            "{name}"
        );
        assert_eq!(c.get("/me").await.status, 401);
        assert_eq!(
            store.sessions_of("ann").await.unwrap(),
            vec![id_of(&d)],
            "{name}"
        );
    }
}

#[tokio::test]
async fn an_auth_value_change_signs_out_the_other_sessions_on_their_next_request() {
    for (name, store) in stores().await {
        let accounts = Accounts::default();
        accounts.set("bob", "hash-1");
        let (addr, _server) = serve(store.clone(), accounts.clone()).await;
        let (mut here, mut there) = (Client::new(addr), Client::new(addr));
        here.post("/login?user=bob").await;
        there.post("/login?user=bob").await;
        let there_id = id_of(&there);
        assert_eq!(there.get("/me").await.body, "bob");

        // A password change here: this session takes the new value, the other ends.
        assert_eq!(
            here.post("/password?value=hash-2").await.body,
            "changed",
            "{name}"
        );
        assert_eq!(
            here.get("/me").await.body,
            "bob",
            "{name}: this session stays"
        );
        let r = there.get("/me").await;
        assert_eq!(r.status, 401, "{name}: the other session is signed out");
        assert!(
            store.load(&there_id).await.unwrap().is_none(),
            "{name}: and destroyed"
        );

        // A user who no longer exists is signed out everywhere.
        accounts.remove("bob");
        assert_eq!(here.get("/me").await.status, 401, "{name}");
        assert_eq!(here.get("/maybe").await.body, "anonymous");
    }
}

#[tokio::test]
async fn a_passport_sign_in_without_an_auth_version_is_accepted_then_checked() {
    for (name, store) in stores().await {
        let accounts = Accounts::default();
        accounts.set("7", "hash-1");
        let (addr, _server) = serve(store.clone(), accounts.clone()).await;
        // What express + passport store: a numeric user, no auth version.
        let id = session_core::SessionId::generate().unwrap();
        let data = json!({ "passport": { "user": 7 } });
        let record = session_core::conformance::cases::record(Some(600_000), data);
        store.create(&id, &record).await.unwrap();
        assert_eq!(
            store.sessions_of("7").await.unwrap(),
            vec![id.clone()],
            "{name}"
        );

        let c = Client::new(addr);
        let r = c.send_with("GET", "/me", Some(&cookie_for(&id))).await;
        assert_eq!(r.body, "7", "{name}: passport's sign-in is honoured");
        let stored = store.load(&id).await.unwrap().unwrap().record;
        assert!(
            stored.data()["passport"]["authVersion"].is_string(),
            "{name}: and given the current auth version"
        );
        accounts.set("7", "hash-2");
        let r = c.send_with("GET", "/me", Some(&cookie_for(&id))).await;
        assert_eq!(r.status, 401, "{name}: from then on it is checked");

        // An application that no longer accepts them signs them out.
        accounts.refuse_unversioned();
        let other = session_core::SessionId::generate().unwrap();
        let data = json!({ "passport": { "user": 7 } });
        let record = session_core::conformance::cases::record(Some(600_000), data);
        store.create(&other, &record).await.unwrap();
        let r = c.send_with("GET", "/me", Some(&cookie_for(&other))).await;
        assert_eq!(r.status, 401, "{name}: refused");
        assert!(
            store.load(&other).await.unwrap().is_none(),
            "{name}: and ended"
        );
    }
}
