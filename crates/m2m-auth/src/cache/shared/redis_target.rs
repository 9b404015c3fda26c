//! Where the Redis backend connects, behind one connection type for the store's commands: one server
//! (`redis://`, `rediss://`: redis-rs's connection manager, which reconnects after an outage), a Redis
//! Cluster (`redis+cluster://host:port,host:port`, `rediss+cluster://…`: redis-rs's cluster connection, which
//! follows the slots and reconnects by itself; every command has one key, so the Lua scripts run there too),
//! or the master that Redis Sentinel names (`redis+sentinel://host:port,host:port/SERVICE[/DB]`: asked again
//! after a connection error, so a failover is followed).

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{
    Client, Cmd, Pipeline, RedisConnectionInfo, RedisFuture, RedisResult, TlsCertificates, Value,
};

/// A Redis server, cluster or Sentinel service, not connected yet. (One per client, made once: its size does
/// not matter.)
#[allow(clippy::large_enum_variant)]
pub(crate) enum Target {
    Single(Client),
    Cluster(ClusterClient),
    Sentinel(tokio::sync::Mutex<SentinelClient>),
}

/// A connection to it, cheap to clone.
#[derive(Clone)]
pub(crate) enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

/// `redis+cluster://[user:password@]host:port,host:port[/…]`: the seed nodes as single-server URLs, each with
/// the user info; `None` for any other URL.
pub(crate) fn cluster_nodes(url: &str) -> Option<Vec<String>> {
    let (scheme, rest) = url.split_once("://")?;
    let node_scheme = match scheme {
        "redis+cluster" => "redis",
        "rediss+cluster" => "rediss",
        _ => return None,
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => (format!("{userinfo}@"), hosts),
        None => (String::new(), authority),
    };
    Some(
        hosts
            .split(',')
            .filter(|h| !h.is_empty())
            .map(|host| format!("{node_scheme}://{userinfo}{host}"))
            .collect(),
    )
}

/// `redis+sentinel://[user:password@]host:port,host:port/SERVICE[/DB]`: the Sentinel nodes, the service (the
/// master's name) and what to connect to the master with; `None` for any other URL. The user info is the
/// master's; the Sentinels are asked without it.
pub(crate) fn sentinel_service(url: &str) -> Option<(Vec<String>, String, RedisConnectionInfo)> {
    let rest = url.strip_prefix("redis+sentinel://")?;
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => (Some(userinfo), hosts),
        None => (None, authority),
    };
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    let service = parts.next()?.to_owned();
    let mut info = RedisConnectionInfo::default();
    if let Some(db) = parts.next() {
        info = info.set_db(db.parse().ok()?);
    }
    if let Some(userinfo) = userinfo {
        let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        let decode = crate::http::url_policy::percent_decode;
        if !user.is_empty() {
            info = info.set_username(decode(user));
        }
        if !password.is_empty() {
            info = info.set_password(decode(password));
        }
    }
    let sentinels = hosts
        .split(',')
        .filter(|h| !h.is_empty())
        .map(|h| format!("redis://{h}"))
        .collect();
    Some((sentinels, service, info))
}

impl Target {
    /// `ca_pem`: CA certificates to trust instead of the system's (TLS only).
    pub fn new(url: &str, ca_pem: Option<&[u8]>, timeout: Duration) -> RedisResult<Self> {
        let certificates = || TlsCertificates {
            client_tls: None,
            root_cert: ca_pem.map(<[u8]>::to_vec),
        };
        let tls = url.starts_with("rediss");
        if let Some((sentinels, service, info)) = sentinel_service(url) {
            let node = SentinelNodeConnectionInfo::default().set_redis_connection_info(info);
            return SentinelClient::build(
                sentinels,
                service,
                Some(node),
                SentinelServerType::Master,
            )
            .map(|c| Self::Sentinel(tokio::sync::Mutex::new(c)));
        }
        if let Some(nodes) = cluster_nodes(url) {
            let mut builder = ClusterClient::builder(nodes)
                .connection_timeout(timeout)
                .response_timeout(timeout)
                .retries(1);
            if tls && ca_pem.is_some() {
                builder = builder.certs(certificates());
            }
            return builder.build().map(Self::Cluster);
        }
        if tls && ca_pem.is_some() {
            return Client::build_with_tls(url, certificates()).map(Self::Single);
        }
        Client::open(url).map(Self::Single)
    }

    /// Connects. A single server's connection is lazy and is driven by a task of its own, so that a slow
    /// first handshake completes although each operation gives up after the cache timeout.
    pub async fn connect(
        &self,
        timeout: Duration,
        connect_timeout: Duration,
    ) -> RedisResult<Connection> {
        let managed = |client: Client| {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(connect_timeout))
                .set_response_timeout(Some(timeout))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_secs(1));
            let manager = ConnectionManager::new_lazy_with_config(client, config)?;
            let mut driver = manager.clone();
            tokio::spawn(async move {
                let _: RedisResult<String> = redis::cmd("PING").query_async(&mut driver).await;
            });
            Ok(Connection::Single(manager))
        };
        match self {
            Self::Single(client) => managed(client.clone()),
            Self::Cluster(client) => client.get_async_connection().await.map(Connection::Cluster),
            // The master Sentinel names now; after a connection error the store asks again.
            Self::Sentinel(sentinel) => managed(sentinel.lock().await.async_get_client().await?),
        }
    }

    /// Whether a connection error means asking where to connect again (a failover moves the master).
    pub fn follows_failover(&self) -> bool {
        matches!(self, Self::Sentinel(_))
    }

    /// For the log: where, never the password.
    pub fn describe(&self) -> String {
        match self {
            Self::Single(client) => format!("{:?}", client.get_connection_info().addr()),
            Self::Cluster(_) => "a Redis Cluster".into(),
            Self::Sentinel(_) => "a Redis Sentinel service".into(),
        }
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_url_names_its_seed_nodes_with_their_user_info() {
        assert_eq!(
            cluster_nodes("redis+cluster://u:p@10.0.0.1:7000,10.0.0.2:7001/0"),
            Some(vec![
                "redis://u:p@10.0.0.1:7000".to_owned(),
                "redis://u:p@10.0.0.2:7001".to_owned()
            ])
        );
        assert_eq!(
            cluster_nodes("rediss+cluster://h:7000"),
            Some(vec!["rediss://h:7000".to_owned()])
        );
        assert_eq!(cluster_nodes("redis://h:6379"), None);
    }

    #[test]
    fn a_sentinel_url_names_its_sentinels_service_and_database() {
        let (sentinels, service, info) =
            sentinel_service("redis+sentinel://u:p%40w@10.0.0.1:26379,10.0.0.2:26379/mymaster/2")
                .expect("url");
        assert_eq!(
            sentinels,
            ["redis://10.0.0.1:26379", "redis://10.0.0.2:26379"]
        );
        assert_eq!(service, "mymaster");
        assert_eq!(info.db(), 2);
        assert_eq!(info.password(), Some("p@w"));
        assert_eq!(info.username(), Some("u"));
        assert!(
            sentinel_service("redis+sentinel://h:26379").is_none(),
            "no service"
        );
        assert!(sentinel_service("redis://h:6379/0").is_none());
    }
}
