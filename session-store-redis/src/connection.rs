//! The connection: one node or the primary Redis Sentinel names, through the `redis`
//! crate's `ConnectionManager` (it connects on first use and reconnects by itself after
//! I/O errors; `replaceable.rs` replaces it after the failures it does not recover from),
//! the application's own manager, or a Redis Cluster through its async cluster
//! connection (also connecting in the background). Every command runs under the store's
//! deadline, and every failure is sorted into a [`RedisStoreError`] variant here.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, FromRedisValue, Pipeline, RedisFuture, RedisResult, ScriptInvocation, Value};

use crate::error::RedisStoreError;
use crate::replaceable::Replaceable;

/// Where the sessions are.
#[derive(Clone)]
pub(crate) enum Target {
    /// One node or the primary the sentinels name, on a manager the store replaces.
    Managed(Arc<Replaceable>),
    /// The application's own manager.
    Shared(ConnectionManager),
    /// A Redis Cluster.
    Cluster(ClusterConnection),
}

/// A connection with a deadline per command.
#[derive(Clone)]
pub(crate) struct Connection {
    target: Target,
    deadline: Duration,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let target: &dyn std::fmt::Debug = match &self.target {
            Target::Managed(m) => m,
            Target::Shared(_) => &"the application's connection manager",
            Target::Cluster(_) => &"cluster",
        };
        f.debug_struct("Connection")
            .field("target", target)
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// The connection one command runs on.
enum Conn {
    Node(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Node(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Node(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Node(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// The connection manager's settings for a store whose commands have `deadline`: each
/// connection attempt is bounded by it, and a failed attempt is not retried after a
/// back-off but reported at once (the cause, not a timeout: the next command that finds
/// no connection starts the next attempt). The manager's own response timeout stays
/// off: the store's deadline bounds each command, connecting included, with one timer.
pub(crate) fn manager_config(deadline: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(deadline))
        .set_response_timeout(None)
        .set_number_of_retries(0)
}

impl Connection {
    pub(crate) fn new(target: Target, deadline: Duration) -> Self {
        Connection { target, deadline }
    }

    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self.target, Target::Cluster(_))
    }

    /// Runs `f` on the connection under the deadline; a managed connection that failed
    /// for good is dropped, so that the next command makes a new one.
    async fn run<T, F, Fut>(&self, f: F) -> Result<T, RedisStoreError>
    where
        F: FnOnce(Conn) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let mut generation = None;
        let work = async {
            let conn = match &self.target {
                Target::Managed(m) => {
                    let (c, g) = m.connection().await?;
                    generation = Some(g);
                    Conn::Node(c)
                }
                Target::Shared(c) => Conn::Node(c.clone()),
                Target::Cluster(c) => Conn::Cluster(c.clone()),
            };
            f(conn).await
        };
        let result = match tokio::time::timeout(self.deadline, work).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => RedisStoreError::classify(e, self.deadline),
            Err(_) => RedisStoreError::Timeout(self.deadline),
        };
        if let (Target::Managed(m), Some(g)) = (&self.target, generation) {
            m.after_failure(g, &result);
        }
        Err(result)
    }

    /// Runs one command.
    pub(crate) async fn cmd<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, RedisStoreError> {
        self.run(|mut c| async move { cmd.query_async(&mut c).await })
            .await
    }

    /// Checks that Redis answers (`PING`), connecting first if need be.
    pub(crate) async fn ping(&self) -> Result<(), RedisStoreError> {
        let _: String = self.cmd(&redis::cmd("PING")).await?;
        Ok(())
    }

    /// Runs one script (EVALSHA, loading it on the node first if the node lacks it).
    pub(crate) async fn script<T: FromRedisValue>(
        &self,
        inv: &ScriptInvocation<'_>,
    ) -> Result<T, RedisStoreError> {
        self.run(|mut c| async move { inv.invoke_async(&mut c).await })
            .await
    }

    /// Loads a script into the node's script cache (`SCRIPT LOAD`).
    pub(crate) async fn load_script(&self, script: &redis::Script) -> Result<(), RedisStoreError> {
        self.run(|mut c| async move { script.load_async(&mut c).await.map(drop) })
            .await
    }

    /// Runs `cmd` on one cluster node by address (for `SCAN`, which is per node).
    pub(crate) async fn cmd_on<T: FromRedisValue>(
        &self,
        host: &str,
        port: u16,
        cmd: Cmd,
    ) -> Result<T, RedisStoreError> {
        self.run(|c| async move {
            match c {
                Conn::Cluster(mut c) => {
                    let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                        host: host.to_owned(),
                        port,
                    });
                    T::from_redis_value(c.route_command(cmd, routing).await?).map_err(Into::into)
                }
                mut c @ Conn::Node(_) => cmd.query_async(&mut c).await,
            }
        })
        .await
    }
}
