//! The per-user index case (`sessions_of`), for stores that offer it.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;

use super::cases::{new_id, record};
use crate::id::SessionId;
use crate::store::{SessionStore, StoreError};

async fn listed(store: &dyn SessionStore, user: &str) -> Option<BTreeSet<SessionId>> {
    match store.sessions_of(user).await {
        Ok(ids) => Some(ids.into_iter().collect()),
        Err(StoreError::Unsupported(_)) => None,
        Err(e) => panic!("sessions_of failed: {e:?}"),
    }
}

/// `sessions_of` lists exactly the live sessions whose record names the user
/// (`passport.user`, a number as its digits): from their creation, after a save that
/// changes the user, after a destroy, after expiry. Or it is unsupported.
pub async fn sessions_of_lists_a_users_live_sessions_or_unsupported(store: &dyn SessionStore) {
    let (alice, bob) = (format!("alice-{}", new_id()), format!("bob-{}", new_id()));
    let signed_in = |user: &str| json!({ "passport": { "user": user }, "cart": [1] });
    let (a, b, c, anonymous) = (new_id(), new_id(), new_id(), new_id());
    store
        .create(&a, &record(Some(60_000), signed_in(&alice)))
        .await
        .unwrap();
    if listed(store, &alice).await.is_none() {
        return; // no per-user index
    }
    store
        .create(&b, &record(None, signed_in(&alice)))
        .await
        .unwrap();
    store
        .create(&c, &record(Some(1_000), signed_in(&alice)))
        .await
        .unwrap();
    store
        .create(&anonymous, &record(None, json!({"n": 1})))
        .await
        .unwrap();
    assert_eq!(
        listed(store, &alice).await.unwrap(),
        [a.clone(), b.clone(), c.clone()].into_iter().collect(),
        "every session of the user, from its creation"
    );
    assert!(listed(store, &bob).await.unwrap().is_empty());

    // b now belongs to bob; a is destroyed; c expires.
    store
        .save(&b, &record(None, signed_in(&bob)), None)
        .await
        .unwrap();
    store.destroy(&a).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert!(
        listed(store, &alice).await.unwrap().is_empty(),
        "a session that changed user, was destroyed or expired is not listed"
    );
    assert_eq!(
        listed(store, &bob).await.unwrap(),
        [b.clone()].into_iter().collect()
    );
    // And back: listed under alice again (whatever the listings in between dropped).
    store
        .save(&b, &record(None, signed_in(&alice)), None)
        .await
        .unwrap();
    assert_eq!(
        listed(store, &alice).await.unwrap(),
        [b.clone()].into_iter().collect(),
        "a session that changed user back is listed again"
    );
    assert!(listed(store, &bob).await.unwrap().is_empty());

    // A numeric user id, as passport writes it.
    let numeric = new_id();
    let number = 4_000_000_000_u64 + u64::from(numeric.expose().as_bytes()[0]);
    store
        .create(
            &numeric,
            &record(None, json!({ "passport": { "user": number } })),
        )
        .await
        .unwrap();
    assert_eq!(
        listed(store, &number.to_string()).await.unwrap(),
        [numeric].into_iter().collect()
    );
}
