//! The connection: one node through the `redis` crate's `ConnectionManager` (it
//! reconnects by itself) or a Redis Cluster through its async cluster connection;
//! established when the store is built, or lazily on first use. Every command runs under
//! the store's deadline.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, FromRedisValue, RedisResult, ScriptInvocation};
use tokio::sync::OnceCell;

use crate::error::RedisStoreError;

/// Where the sessions are.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    /// One Redis node.
    Node(String),
    /// A Redis Cluster, by some of its nodes.
    Cluster(Vec<String>),
}

#[derive(Clone)]
enum Conn {
    Node(ConnectionManager),
    Cluster(ClusterConnection),
}

type Connecting = Pin<Box<dyn Future<Output = RedisResult<Conn>> + Send>>;

/// A shared, lazily established connection with a deadline per command.
#[derive(Clone)]
pub(crate) struct Connection {
    cell: Arc<OnceCell<Conn>>,
    target: Target,
    deadline: Duration,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.target {
            Target::Node(_) => "node",
            Target::Cluster(_) => "cluster",
        };
        f.debug_struct("Connection")
            .field("kind", &kind)
            .field("connected", &self.cell.initialized())
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl Connection {
    pub(crate) fn new(target: Target, deadline: Duration) -> Self {
        Connection {
            cell: Arc::new(OnceCell::new()),
            target,
            deadline,
        }
    }

    /// Connects now (once); errors if Redis cannot be reached within the deadline.
    pub(crate) async fn connect(&self) -> Result<(), RedisStoreError> {
        self.get().await.map(|_| ())
    }

    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self.target, Target::Cluster(_))
    }

    fn open(target: Target, deadline: Duration) -> Connecting {
        Box::pin(async move {
            match target {
                Target::Node(url) => {
                    let client = redis::Client::open(url.as_str())?;
                    let config = ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(deadline))
                        .set_response_timeout(Some(deadline))
                        .set_number_of_retries(2)
                        .set_max_delay(Duration::from_millis(500));
                    Ok(Conn::Node(
                        ConnectionManager::new_with_config(client, config).await?,
                    ))
                }
                Target::Cluster(nodes) => {
                    let client = ClusterClient::builder(nodes)
                        .connection_timeout(deadline)
                        .response_timeout(deadline)
                        .retries(2)
                        .build()?;
                    Ok(Conn::Cluster(client.get_async_connection().await?))
                }
            }
        })
    }

    async fn get(&self) -> Result<Conn, RedisStoreError> {
        let (target, deadline) = (self.target.clone(), self.deadline);
        let conn = self
            .bounded(self.cell.get_or_try_init(|| Self::open(target, deadline)))
            .await??;
        Ok(conn.clone())
    }

    async fn bounded<F: Future>(&self, f: F) -> Result<F::Output, RedisStoreError> {
        tokio::time::timeout(self.deadline, f)
            .await
            .map_err(|_| RedisStoreError::Timeout(self.deadline))
    }

    /// Runs one command.
    pub(crate) async fn cmd<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, RedisStoreError> {
        match self.get().await? {
            Conn::Node(mut c) => Ok(self.bounded(cmd.query_async(&mut c)).await??),
            Conn::Cluster(mut c) => Ok(self.bounded(cmd.query_async(&mut c)).await??),
        }
    }

    /// Runs one script (EVALSHA, loading it on the node first if the node lacks it).
    pub(crate) async fn script<T: FromRedisValue>(
        &self,
        inv: &ScriptInvocation<'_>,
    ) -> Result<T, RedisStoreError> {
        match self.get().await? {
            Conn::Node(mut c) => run_script(self, inv, &mut c).await,
            Conn::Cluster(mut c) => run_script(self, inv, &mut c).await,
        }
    }

    /// Loads a script into the node's script cache (`SCRIPT LOAD`).
    pub(crate) async fn load_script(&self, script: &redis::Script) -> Result<(), RedisStoreError> {
        match self.get().await? {
            Conn::Node(mut c) => self.bounded(script.load_async(&mut c)).await??,
            Conn::Cluster(mut c) => self.bounded(script.load_async(&mut c)).await??,
        };
        Ok(())
    }

    /// Runs `cmd` on one cluster node by address (for `SCAN`, which is per node).
    pub(crate) async fn cmd_on<T: FromRedisValue>(
        &self,
        host: &str,
        port: u16,
        cmd: Cmd,
    ) -> Result<T, RedisStoreError> {
        match self.get().await? {
            Conn::Node(mut c) => Ok(self.bounded(cmd.query_async(&mut c)).await??),
            Conn::Cluster(mut c) => {
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                    host: host.to_owned(),
                    port,
                });
                let value = self.bounded(c.route_command(cmd, routing)).await??;
                T::from_redis_value(value).map_err(|e| RedisStoreError::Redis(e.into()))
            }
        }
    }
}

async fn run_script<T: FromRedisValue, C: ConnectionLike + Send>(
    conn: &Connection,
    inv: &ScriptInvocation<'_>,
    c: &mut C,
) -> Result<T, RedisStoreError> {
    Ok(conn.bounded(inv.invoke_async(c)).await??)
}
