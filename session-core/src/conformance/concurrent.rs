//! Concurrent conformance cases: many tasks on one id and on many ids. They check that
//! nothing deadlocks or panics and that every answer is one the contract allows.

use serde_json::json;

use super::cases::{new_id, record};
use crate::store::{SessionStore, StoreError};

const TASKS: usize = 16;
const ROUNDS: usize = 40;

/// Tasks load, save (conditionally and not), touch and destroy/re-create one id.
pub async fn many_tasks_one_id_no_deadlock(store: &dyn SessionStore) {
    let id = new_id();
    store
        .create(&id, &record(Some(600_000), json!({"n": 0})))
        .await
        .unwrap();
    let mut wins = 0usize;
    let futures = (0..TASKS).map(|t| {
        let id = id.clone();
        async move {
            let mut won = 0usize;
            for round in 0..ROUNDS {
                match store.load(&id).await.unwrap() {
                    Some(l) => match store
                        .save(
                            &id,
                            &record(Some(600_000), json!({"n": t * 1000 + round})),
                            Some(&l.version),
                        )
                        .await
                    {
                        Ok(_) => won += 1,
                        Err(StoreError::Conflict | StoreError::NotFound) => {}
                        Err(e) => panic!("unexpected save error: {e:?}"),
                    },
                    None => match store
                        .create(&id, &record(Some(600_000), json!({"n": 0})))
                        .await
                    {
                        Ok(_) | Err(StoreError::IdTaken) => {}
                        Err(e) => panic!("unexpected create error: {e:?}"),
                    },
                }
                match store.touch(&id).await {
                    Ok(()) | Err(StoreError::NotFound) => {}
                    Err(e) => panic!("unexpected touch error: {e:?}"),
                }
                if round % 13 == t % 13 {
                    store.destroy(&id).await.unwrap();
                }
            }
            won
        }
    });
    for w in join_all(futures).await {
        wins += w;
    }
    assert!(wins > 0, "no conditional save ever succeeded");
}

/// Tasks each run a full life cycle on ids of their own, all at once.
pub async fn many_tasks_many_ids_no_deadlock(store: &dyn SessionStore) {
    let futures = (0..TASKS).map(|t| async move {
        for round in 0..ROUNDS / 4 {
            let id = new_id();
            store
                .create(&id, &record(None, json!({"t": t, "r": round})))
                .await
                .unwrap();
            let l = store.load(&id).await.unwrap().expect("own session");
            assert_eq!(l.record.data()["t"], t);
            store
                .save(
                    &id,
                    &record(None, json!({"t": t, "r": round + 1})),
                    Some(&l.version),
                )
                .await
                .unwrap();
            store.touch(&id).await.unwrap();
            store.destroy(&id).await.unwrap();
            assert!(store.load(&id).await.unwrap().is_none());
        }
    });
    join_all(futures).await;
}

/// Polls every future to completion on the current task (no spawn, so the store may be
/// borrowed); they still interleave at every await.
async fn join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
