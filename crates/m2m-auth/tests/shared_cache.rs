//! The shared cache against a real `redis-server` and real files: clients that stand for processes (each its
//! own in-process cache) share one token, one request per rotation; Redis failing is never a caller's error;
//! a dead owner's lock is taken over; foreign entries are ignored and replaced; nothing readable in Redis
//! is a secret or a token.

mod common;

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use m2m_auth::{Error, Event, EventHook, TokenClient, TokenClientBuilder};
use m2m_auth_mock::{MockConfig, MockServer, RedisCluster, RedisSentinel, RedisServer};

fn redis() -> RedisServer {
    RedisServer::start()
        .expect("redis-server must be installed for these tests (apt-get install redis-server)")
}

async fn mock() -> MockServer {
    MockServer::start(MockConfig::default())
        .await
        .expect("mock")
}

/// A "process": a client with its own in-process cache on the shared cache at `cache_url`.
fn process(server: &MockServer, cache_url: &str) -> TokenClientBuilder {
    common::demo_builder(server).cache_url(cache_url)
}

type Events = Arc<Mutex<Vec<Event>>>;

fn recording(builder: TokenClientBuilder) -> (TokenClientBuilder, Events) {
    let events: Events = Arc::default();
    let sink = Arc::clone(&events);
    (
        builder.on_event(EventHook::new(move |e| {
            sink.lock().unwrap().push(e.clone())
        })),
        events,
    )
}

fn kinds(events: &Events, kind: &str) -> usize {
    events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.kind.as_str() == kind)
        .count()
}

async fn redis_connection(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect")
}

async fn all_keys(server: &RedisServer) -> Vec<String> {
    let mut con = redis_connection(server).await;
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut con)
        .await
        .expect("KEYS");
    keys.sort();
    keys
}

/// `processes` clients on `cache_url`, each with `callers` callers asking at once: the clients, and the token
/// each caller got (none may get an error).
async fn cold_start(
    server: &MockServer,
    cache_url: &str,
    processes: usize,
    callers: usize,
) -> (Vec<TokenClient>, Vec<String>) {
    let clients: Vec<TokenClient> = (0..processes)
        .map(|_| process(server, cache_url).build().expect("client"))
        .collect();
    let calls: Vec<_> = clients
        .iter()
        .flat_map(|p| (0..callers).map(move |_| p.clone()))
        .map(|p| tokio::spawn(async move { p.token().await.map(|t| t.access_token().to_owned()) }))
        .collect();
    let mut tokens = Vec::new();
    for call in calls {
        tokens.push(call.await.expect("task").expect("no caller gets an error"));
    }
    (clients, tokens)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cold_fleet_sends_one_token_request() {
    let (redis, server) = (redis(), mock().await);
    // A token endpoint as slow as a real one: the others come while the first process holds the lock, however
    // fast this machine starts them.
    server.push_faults(vec![m2m_auth_mock::Fault {
        delay_ms: 300,
        ..m2m_auth_mock::Fault::default()
    }]);
    let (processes, tokens) = cold_start(&server, &redis.url(), 8, 16).await;
    assert_eq!(
        server.token_requests(),
        1,
        "one token request for the whole fleet"
    );
    assert!(
        tokens.iter().all(|t| *t == tokens[0]),
        "every process got the same token"
    );
    let stats: Vec<_> = processes.iter().map(TokenClient::stats).collect();
    assert_eq!(stats.iter().map(|s| s.fetches).sum::<u64>(), 1);
    assert_eq!(
        stats.iter().map(|s| s.shared_hits).sum::<u64>(),
        7,
        "{stats:?}"
    );
    assert_eq!(
        stats.iter().map(|s| s.shared_errors).sum::<u64>(),
        0,
        "{stats:?}"
    );
    assert!(
        stats.iter().map(|s| s.lock_waits).sum::<u64>() >= 1,
        "the others waited for the lock: {stats:?}"
    );
    // The entry and nothing else is left: the lock was released.
    let keys = all_keys(&redis).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("m2m-auth:"), "{keys:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_fleet_refreshes_once_per_rotation_and_nobody_gets_an_expired_token() {
    let (redis, server) = (redis(), mock().await);
    server.set_token_lifetime(2);
    let processes: Vec<TokenClient> = (0..4)
        .map(|_| process(&server, &redis.url()).build().expect("client"))
        .collect();
    let run = Duration::from_secs(6);
    let end = Instant::now() + run;
    let callers: Vec<_> = processes
        .iter()
        .enumerate()
        .flat_map(|(i, p)| (0..8).map(move |_| (i, p.clone())))
        .map(|(i, p)| {
            tokio::spawn(async move {
                let mut seen = HashSet::new();
                while Instant::now() < end {
                    let token = p.token().await.expect("no caller gets an error");
                    assert!(
                        Instant::now() < token.expires_at(),
                        "a token past its expiry"
                    );
                    seen.insert(token.access_token().to_owned());
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                (i, seen)
            })
        })
        .collect();
    let mut seen_by: Vec<HashSet<String>> = vec![HashSet::new(); processes.len()];
    for caller in callers {
        let (i, seen) = caller.await.expect("task");
        seen_by[i].extend(seen);
    }
    let issued: HashSet<&String> = seen_by.iter().flatten().collect();
    let requests = server.token_requests();
    // One request per rotation for the fleet: every token served came from one request, and every process
    // was served (nearly) every token — none fetched its own.
    assert!(
        requests <= issued.len() as u64 + 1,
        "{requests} requests for {} tokens",
        issued.len()
    );
    assert!(
        issued.len() >= 3,
        "the fleet rotated its token: {}",
        issued.len()
    );
    for (i, seen) in seen_by.iter().enumerate() {
        assert!(
            seen.len() + 1 >= issued.len(),
            "process {i} saw {} of {} tokens",
            seen.len(),
            issued.len()
        );
    }
    let fetches: u64 = processes.iter().map(|p| p.stats().fetches).sum();
    assert_eq!(fetches, requests, "each request was one process's fetch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_down_is_no_caller_s_error_and_sharing_resumes_when_it_is_back() {
    let (mut redis, server) = (redis(), mock().await);
    let (builder, events) =
        recording(process(&server, &redis.url()).cache_timeout(Duration::from_millis(200)));
    let a = builder.build().expect("client");
    let b = process(&server, &redis.url()).build().expect("client");
    a.token().await.expect("token");
    b.token().await.expect("token");
    assert_eq!(server.token_requests(), 1);

    redis.stop();
    a.invalidate();
    b.invalidate();
    let started = Instant::now();
    a.token().await.expect("Redis down is no caller's error");
    b.token().await.expect("Redis down is no caller's error");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a dead Redis costs a bounded time"
    );
    assert_eq!(
        server.token_requests(),
        3,
        "each process fetched for itself"
    );
    assert!(a.stats().shared_errors >= 1);
    a.invalidate();
    a.token().await.expect("token");
    assert_eq!(
        kinds(&events, "shared_cache_down"),
        1,
        "said once per outage"
    );

    redis.restart().expect("redis again");
    // Past the pause after a failure, the next fetch uses Redis again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    a.invalidate();
    b.invalidate();
    let before = server.token_requests();
    a.token().await.expect("token");
    b.token().await.expect("token");
    assert_eq!(
        server.token_requests(),
        before + 1,
        "one request for both once Redis is back"
    );
    assert_eq!(kinds(&events, "shared_cache_back"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dead_owner_s_lock_is_taken_over_after_its_ttl() {
    let (redis, server) = (redis(), mock().await);
    let first = process(&server, &redis.url()).build().expect("client");
    first.token().await.expect("token");
    let entry = all_keys(&redis).await.pop().expect("the entry");
    let mut con = redis_connection(&redis).await;
    // The entry gone and its lock held by a process that died: no one extends or releases it.
    let _: () = redis::cmd("DEL")
        .arg(&entry)
        .query_async(&mut con)
        .await
        .expect("DEL");
    let _: () = redis::cmd("SET")
        .arg(format!("{entry}:lock"))
        .arg("dead-owner")
        .arg("PX")
        .arg(1000)
        .query_async(&mut con)
        .await
        .expect("SET");
    let second = process(&server, &redis.url()).build().expect("client");
    let started = Instant::now();
    second.token().await.expect("taken over");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900),
        "it waited for the lock: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(3),
        "and took over once it expired: {waited:?}"
    );
    assert_eq!(server.token_requests(), 2);
    assert_eq!(second.stats().lock_waits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn corrupted_foreign_and_other_version_entries_are_ignored_and_replaced() {
    let (redis, server) = (redis(), mock().await);
    let writer = process(&server, &redis.url()).build().expect("client");
    writer.token().await.expect("token");
    let entry = all_keys(&redis).await.pop().expect("the entry");
    let mut con = redis_connection(&redis).await;
    let good: Vec<u8> = redis::cmd("GET")
        .arg(&entry)
        .query_async(&mut con)
        .await
        .expect("GET");

    let mut other_version = good.clone();
    other_version[3] ^= 0xff;
    let mut tampered = good.clone();
    *tampered.last_mut().unwrap() ^= 1;
    // A well-formed entry of another name (another client's) copied here: sealed under another name and key.
    let foreign_writer = common::demo_builder(&server)
        .cache_url(redis.url())
        .cache_prefix("other:")
        .build()
        .expect("client");
    foreign_writer.token().await.expect("token");
    let foreign_name = all_keys(&redis)
        .await
        .into_iter()
        .find(|k| k.starts_with("other:"))
        .expect("foreign");
    let foreign: Vec<u8> = redis::cmd("GET")
        .arg(&foreign_name)
        .query_async(&mut con)
        .await
        .expect("GET");

    for (what, bytes) in [
        ("garbage", b"not an entry".to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("another format version", other_version),
        ("tampered with", tampered),
        ("sealed for another name", foreign),
    ] {
        let _: () = redis::cmd("SET")
            .arg(&entry)
            .arg(&bytes)
            .query_async(&mut con)
            .await
            .expect("SET");
        let reader = process(&server, &redis.url()).build().expect("client");
        let before = server.token_requests();
        let token = reader
            .token()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            server.token_requests(),
            before + 1,
            "{what}: ignored, a new token fetched"
        );
        assert_eq!(reader.stats().shared_rejected, 1, "{what}: counted");
        // Replaced: the next process reads the new token.
        let next = process(&server, &redis.url()).build().expect("client");
        assert_eq!(
            next.token().await.expect("token").access_token(),
            token.access_token(),
            "{what}"
        );
        assert_eq!(
            server.token_requests(),
            before + 1,
            "{what}: replaced by a good entry"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rotated_secret_never_gets_the_old_token_and_redis_holds_no_secret_or_token() {
    let (redis, server) = (redis(), mock().await);
    let old = process(&server, &redis.url()).build().expect("client");
    let token = old.token().await.expect("token");
    // The same client with another secret (rotated, here one the server does not know): another name, so
    // it must ask the server, which refuses it.
    let rotated = common::demo_builder(&server)
        .client_secret("rotated-secret")
        .cache_url(redis.url())
        .build()
        .expect("client");
    let refused = rotated
        .token()
        .await
        .expect_err("the old token is not the rotated secret's");
    match &refused {
        Error::OAuth(o) => assert_eq!(o.error, "invalid_client", "{refused}"),
        other => panic!("not an OAuthError: {other}"),
    }
    assert_eq!(server.token_requests(), 2);

    let mut con = redis_connection(&redis).await;
    for key in all_keys(&redis).await {
        let value: Vec<u8> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut con)
            .await
            .expect("GET");
        let text = String::from_utf8_lossy(&value);
        for secret in ["demo-secret", "rotated-secret", token.access_token()] {
            assert!(
                !key.contains(secret) && !text.contains(secret),
                "{key} holds a secret or the token"
            );
        }
        let payload = token.access_token().split('.').nth(1).unwrap_or_default();
        assert!(
            !text.contains(payload),
            "{key} holds the token's claims in plain text"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_cache_shares_one_token_in_a_private_directory() {
    let server = mock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cache_dir = dir.path().join("tokens");
    let url = format!("file:{}", cache_dir.display());
    let a = process(&server, &url).build().expect("client");
    let b = process(&server, &url).build().expect("client");
    let (ta, tb) = tokio::join!(a.token(), b.token());
    assert_eq!(ta.expect("a").access_token(), tb.expect("b").access_token());
    assert_eq!(server.token_requests(), 1);
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&cache_dir), 0o700);
    let entries: Vec<_> = std::fs::read_dir(&cache_dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "token"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(mode(&entries[0]), 0o600);

    // A truncated file is ignored and replaced.
    let bytes = std::fs::read(&entries[0]).expect("read");
    std::fs::write(&entries[0], &bytes[..bytes.len() / 3]).expect("truncate");
    let c = process(&server, &url).build().expect("client");
    c.token().await.expect("a truncated file is no error");
    assert_eq!(server.token_requests(), 2);
    assert_eq!(c.stats().shared_rejected, 1);
    let d = process(&server, &url).build().expect("client");
    d.token().await.expect("token");
    assert_eq!(server.token_requests(), 2, "the replaced entry is read");
}

fn field(e: &Error) -> Option<&str> {
    match e {
        Error::Config { field, .. } => Some(field),
        _ => None,
    }
}

#[test]
fn cache_urls_are_checked_when_the_client_is_built() {
    let builder = || {
        TokenClient::builder()
            .token_url("https://as.example/token")
            .client_id("c")
            .client_secret("s")
    };
    for (url, says) in [
        ("memcached://host", "scheme"),
        ("redis://", "host"),
        ("file:", "directory"),
        ("not a url", "memory:"),
    ] {
        let e = builder().cache_url(url).build().expect_err(url);
        assert_eq!(field(&e), Some("cache_url"), "{url}: {e}");
        assert!(e.to_string().contains(says), "{url}: {e}");
    }
    let e = builder()
        .cache_url("redis://127.0.0.1")
        .cache_encryption_key("c2hvcnQ=")
        .build()
        .expect_err("short key");
    assert_eq!(field(&e), Some("cache_encryption_key"), "{e}");
    assert!(e.to_string().contains("32 bytes"), "{e}");
    builder().cache_url("memory:").build().expect("memory:");
    builder()
        .cache_url("redis://user:pw@127.0.0.1:6390/2")
        .build()
        .expect("redis URL");
    builder()
        .cache_url("file:///tmp/m2m")
        .build()
        .expect("file URL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_never_answers_costs_a_caller_a_bounded_wait_and_no_error() {
    // Accepts connections and never answers: a Redis that hangs.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("redis://{}", silent.local_addr().expect("addr"));
    let server = mock().await;
    let client = process(&server, &url)
        .cache_timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    let started = Instant::now();
    client
        .token()
        .await
        .expect("a silent Redis is no caller's error");
    // Until a first connection answered, an operation may take 2 s (a busy host, TLS); never longer.
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert!(client.stats().shared_errors >= 1);
    assert_eq!(server.token_requests(), 1);
    // Past the pause after a failure, the next fetch asks Redis again and again waits a bounded time.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client.invalidate();
    let started = Instant::now();
    client.token().await.expect("token");
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert_eq!(server.token_requests(), 2);
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_reads_but_refuses_writes_is_reported_once_and_no_error() {
    let (redis, server) = (redis(), mock().await);
    let mut con = redis_connection(&redis).await;
    // A user that may read but neither lock nor write (a read-only replica, an ACL mistake).
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("reader")
        .arg("on")
        .arg(">reader-pw")
        .arg("~*")
        .arg("+get")
        .arg("+ping")
        .query_async(&mut con)
        .await
        .expect("ACL SETUSER");
    let url = format!("redis://reader:reader-pw@127.0.0.1:{}", redis.port());
    let (builder, events) = recording(process(&server, &url));
    let client = builder.build().expect("client");
    for _ in 0..3 {
        client
            .token()
            .await
            .expect("refused writes are no caller's error");
        client.invalidate();
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert_eq!(server.token_requests(), 3);
    assert_eq!(
        kinds(&events, "shared_cache_down"),
        1,
        "one outage, not one per fetch"
    );
    assert_eq!(kinds(&events, "shared_cache_back"), 0);
    let messages: Vec<String> = events
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.message.clone())
        .collect();
    assert!(
        messages.iter().all(|m| !m.contains("reader-pw")),
        "{messages:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_an_api_rejected_is_not_handed_back_by_the_shared_cache() {
    let (redis, server) = (redis(), mock().await);
    let a = process(&server, &redis.url()).build().expect("client");
    let b = process(&server, &redis.url()).build().expect("client");
    let rejected = a.token().await.expect("token").access_token().to_owned();
    assert_eq!(b.token().await.expect("token").access_token(), rejected);
    assert!(b.invalidate_token(&rejected));
    let fresh = b.token().await.expect("token");
    assert_ne!(
        fresh.access_token(),
        rejected,
        "Redis still held the rejected token"
    );
    assert_eq!(server.token_requests(), 2);
    // The other process, told the same, finds the new token in Redis.
    assert!(a.invalidate_token(&rejected));
    assert_eq!(
        a.token().await.expect("token").access_token(),
        fresh.access_token()
    );
    assert_eq!(server.token_requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_differ_in_extra_parameters_or_certificate_do_not_share() {
    let (redis, server) = (redis(), mock().await);
    let plain = process(&server, &redis.url()).build().expect("client");
    let other_extra = process(&server, &redis.url())
        .extra_param("tenant", "b")
        .build()
        .expect("client");
    plain.token().await.expect("token");
    other_extra.token().await.expect("token");
    assert_eq!(
        server.token_requests(),
        2,
        "another extra parameter, another token"
    );
    // The same secret with a client certificate: certificate-bound tokens, named by the certificate too.
    let tls_server = MockServer::start(MockConfig {
        tls: true,
        ..MockConfig::default()
    })
    .await
    .expect("mock");
    let (cert, key) = tls_server.issue_client_certificate("svc").expect("cert");
    let ca = m2m_auth::CaBundle::from_pem(tls_server.ca_pem().expect("ca").as_bytes()).expect("ca");
    let with_cert = |cert: &str, key: &str| {
        common::demo_builder(&tls_server)
            .ca_bundle(ca.clone())
            .client_certificate(
                m2m_auth::ClientCertificate::from_pem(cert.as_bytes(), key.as_bytes())
                    .expect("cert"),
            )
            .cache_url(redis.url())
            .build()
            .expect("client")
    };
    let (cert2, key2) = tls_server.issue_client_certificate("svc").expect("cert");
    with_cert(&cert, &key).token().await.expect("token");
    with_cert(&cert2, &key2).token().await.expect("token");
    with_cert(&cert, &key).token().await.expect("token");
    assert_eq!(tls_server.token_requests(), 2, "one per certificate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_directory_others_can_read_is_not_used_nor_changed() {
    let server = mock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let url = format!("file:{}", dir.path().display());
    let (builder, events) = recording(process(&server, &url));
    let a = builder.build().expect("client");
    let b = process(&server, &url).build().expect("client");
    a.token()
        .await
        .expect("an unusable directory is no caller's error");
    b.token().await.expect("token");
    assert_eq!(server.token_requests(), 2, "each fetched for itself");
    assert_eq!(
        std::fs::metadata(dir.path())
            .expect("stat")
            .permissions()
            .mode()
            & 0o777,
        0o755
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "no token written there"
    );
    let down: Vec<String> = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.kind.as_str() == "shared_cache_down")
        .map(|e| e.message.clone())
        .collect();
    assert!(
        down.len() == 1 && down[0].contains("not a private directory"),
        "{down:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_with_the_client_s_ca_bundle_shares_over_tls() {
    let redis = RedisServer::start_tls().expect("redis-server with TLS");
    assert!(redis.url().starts_with("rediss://"));
    let ca = m2m_auth::CaBundle::from_pem(redis.ca_pem().expect("ca").as_bytes()).expect("ca");
    let server = mock().await;
    let processes: Vec<TokenClient> = (0..2)
        .map(|_| {
            process(&server, &redis.url())
                .ca_bundle(ca.clone())
                .build()
                .expect("client")
        })
        .collect();
    let mut tokens = Vec::new();
    for p in &processes {
        tokens.push(p.token().await.expect("token").access_token().to_owned());
    }
    assert_eq!(tokens[0], tokens[1]);
    assert_eq!(server.token_requests(), 1, "shared over TLS");
    assert_eq!(
        processes[1].stats().shared_hits,
        1,
        "{:?}",
        processes[1].stats()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redis_cluster_shares_one_token_too() {
    let cluster = RedisCluster::start().expect("a Redis Cluster (redis-server and redis-cli)");
    let server = mock().await;
    let (processes, tokens) = cold_start(&server, &cluster.url(), 4, 8).await;
    assert_eq!(
        server.token_requests(),
        1,
        "one token request through the cluster"
    );
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    let stats: Vec<_> = processes.iter().map(TokenClient::stats).collect();
    assert_eq!(
        stats.iter().map(|s| s.shared_hits).sum::<u64>(),
        3,
        "{stats:?}"
    );
    assert_eq!(
        stats.iter().map(|s| s.shared_errors).sum::<u64>(),
        0,
        "{stats:?}"
    );
    // The entry is on one of the nodes (by its slot), sealed.
    let mut found = 0;
    for url in cluster.node_urls() {
        let mut con = redis::Client::open(url)
            .expect("url")
            .get_multiplexed_async_connection()
            .await
            .expect("node");
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg("m2m-auth:*")
            .query_async(&mut con)
            .await
            .expect("KEYS");
        found += keys.len();
    }
    assert_eq!(found, 1, "one entry in the cluster, the lock released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_master_redis_sentinel_names_shares_one_token_too() {
    let sentinel = RedisSentinel::start().expect("redis-server and a Sentinel");
    let server = mock().await;
    let processes: Vec<TokenClient> = (0..3)
        .map(|_| process(&server, &sentinel.url()).build().expect("client"))
        .collect();
    let mut tokens = Vec::new();
    for p in &processes {
        tokens.push(p.token().await.expect("token").access_token().to_owned());
    }
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert_eq!(
        server.token_requests(),
        1,
        "one token request through the Sentinel's master"
    );
    let mut con = redis::Client::open(sentinel.master_url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("master");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("m2m-auth:*")
        .query_async(&mut con)
        .await
        .expect("KEYS");
    assert_eq!(keys.len(), 1, "the entry is on the master: {keys:?}");
}
