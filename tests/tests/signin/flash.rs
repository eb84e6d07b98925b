//! Flash messages through a real server, in connect-flash's stored shape.

use serde_json::json;
use session_tests::Client;

use crate::app::{Accounts, serve};
use crate::{id_of, stores};

#[tokio::test]
async fn flash_messages_are_shown_once_in_connect_flash_shape() {
    for (name, store) in stores().await {
        let (addr, _server) = serve(store.clone(), Accounts::default()).await;
        let mut c = Client::new(addr);
        assert_eq!(c.get("/flashes").await.json(), json!([]), "{name}");
        assert!(
            c.jar.is_empty(),
            "{name}: reading no messages stores nothing"
        );

        c.post("/flash?text=Saved.").await;
        c.post("/flash?level=error&text=Card%20declined").await;
        c.post("/flash?text=Again.").await;
        let stored = store.load(&id_of(&c)).await.unwrap().unwrap().record;
        assert_eq!(
            stored.data()["flash"],
            json!({ "info": ["Saved.", "Again."], "error": ["Card declined"] }),
            "{name}: connect-flash's layout"
        );
        assert_eq!(
            c.get("/flashes").await.json(),
            json!([
                { "level": "info", "text": "Saved." },
                { "level": "info", "text": "Again." },
                { "level": "error", "text": "Card declined" },
            ]),
            "{name}"
        );
        assert_eq!(
            c.get("/flashes").await.json(),
            json!([]),
            "{name}: shown once"
        );
        let stored = store.load(&id_of(&c)).await.unwrap().unwrap().record;
        assert!(
            stored.data().get("flash").is_none(),
            "{name}: removed from the store"
        );
    }
}
