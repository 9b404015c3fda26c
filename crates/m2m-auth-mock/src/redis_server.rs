//! A real `redis-server` for tests of the shared cache: started on a free port of 127.0.0.1 without
//! persistence, stopped by PID when dropped; or with TLS only (`rediss://`), its certificate for 127.0.0.1
//! issued by a CA made for it. A missing server is an error that says how to install it, never a reason to
//! skip.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::path::PathBuf;

use crate::error::MockError;
use crate::testkeys::to_pem;

#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    tls: Option<Tls>,
    /// More arguments (a cluster node's), and the directory it runs in.
    extra: Vec<String>,
    dir: Option<PathBuf>,
}

/// The TLS files of a `rediss://` server, in a directory of their own, removed when it is dropped.
#[derive(Debug)]
struct Tls {
    dir: PathBuf,
    ca_pem: String,
}

impl Drop for Tls {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> Result<u16, MockError> {
    Ok(TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|source| MockError::Bind { port: 0, source })?
        .port())
}

fn failed(message: String) -> MockError {
    MockError::Config(message)
}

impl RedisServer {
    /// Starts `redis-server` (from `PATH`, or `$REDIS_SERVER`) on a free port and waits until it answers.
    pub fn start() -> Result<Self, MockError> {
        // The free port is free when asked, not necessarily when the server binds it (tests run in
        // parallel): a server that exits at start is tried again on another.
        let mut last = None;
        for _ in 0..3 {
            let mut server = Self {
                port: free_port()?,
                child: None,
                tls: None,
                extra: Vec::new(),
                dir: None,
            };
            match server.restart() {
                Ok(()) => return Ok(server),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| failed("redis-server did not start".into())))
    }

    /// Starts `redis-server` with TLS only: `rediss://127.0.0.1:PORT`, trusted through [`Self::ca_pem`].
    pub fn start_tls() -> Result<Self, MockError> {
        let port = free_port()?;
        let pki = crate::tls::pki::Pki::generate().map_err(failed)?;
        let dir =
            std::env::temp_dir().join(format!("m2m-auth-redis-tls-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
        let write = |name: &str, text: String| {
            std::fs::write(dir.join(name), text).map_err(|e| failed(format!("{name}: {e}")))
        };
        write("server.pem", to_pem("CERTIFICATE", &pki.server_cert_der))?;
        write("server.key", to_pem("PRIVATE KEY", &pki.server_key_der))?;
        write("ca.pem", pki.ca_pem.clone())?;
        let mut server = Self {
            port,
            child: None,
            tls: Some(Tls {
                dir,
                ca_pem: pki.ca_pem,
            }),
            extra: Vec::new(),
            dir: None,
        };
        server.restart()?;
        Ok(server)
    }

    /// `redis://127.0.0.1:PORT`, or `rediss://…` with TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The CA that issued a TLS server's certificate (PEM).
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.ca_pem.as_str())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the server (SIGKILL, as a crash would), keeping its port for [`Self::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on its port (empty: it kept nothing).
    pub fn restart(&mut self) -> Result<(), MockError> {
        self.stop();
        let program = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let port = self.port.to_string();
        let mut command = Command::new(&program);
        command.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        command.args(&self.extra);
        if let Some(dir) = &self.dir {
            command.arg("--dir").arg(dir);
        }
        match &self.tls {
            None => command.args(["--port", &port]),
            Some(tls) => command
                .args([
                    "--port",
                    "0",
                    "--tls-port",
                    &port,
                    "--tls-auth-clients",
                    "no",
                ])
                .arg("--tls-cert-file")
                .arg(tls.dir.join("server.pem"))
                .arg("--tls-key-file")
                .arg(tls.dir.join("server.key"))
                .arg("--tls-ca-cert-file")
                .arg(tls.dir.join("ca.pem")),
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                failed(format!(
                    "cannot start {program}: {e}; install it (Debian: apt-get install -y redis-server)"
                ))
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.answers() {
                return Ok(());
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                return Err(failed(format!("{program} exited at start: {status}")));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop();
        Err(failed(format!(
            "{program} did not answer on port {} within 10 s",
            self.port
        )))
    }

    /// Whether it answers `PING` (with TLS: whether it accepts connections).
    pub fn answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        if self.tls.is_some() {
            return true;
        }
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A Redis Cluster of three masters (no replicas) on 127.0.0.1, made with `redis-cli --cluster create`.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    pub fn start() -> Result<Self, MockError> {
        let mut nodes = Vec::new();
        for _ in 0..3 {
            let port = free_port()?;
            let dir = std::env::temp_dir().join(format!(
                "m2m-auth-redis-cluster-{}-{port}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
            let mut node = RedisServer {
                port,
                child: None,
                tls: None,
                extra: [
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                ]
                .map(String::from)
                .to_vec(),
                dir: Some(dir),
            };
            node.restart()?;
            nodes.push(node);
        }
        let cli = std::env::var("REDIS_CLI").unwrap_or_else(|_| "redis-cli".into());
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let out = Command::new(&cli)
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                failed(format!(
                    "cannot run {cli}: {e}; install it (Debian: apt-get install -y redis-tools)"
                ))
            })?;
        if !out.status.success() {
            return Err(failed(format!(
                "{cli} --cluster create failed: {}",
                String::from_utf8_lossy(&out.stdout)
            )));
        }
        let cluster = Self { nodes };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !cluster.is_ok(&cli) {
            if Instant::now() >= deadline {
                return Err(failed(
                    "the Redis Cluster did not reach cluster_state:ok in 10 s".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(cluster)
    }

    fn is_ok(&self, cli: &str) -> bool {
        self.nodes.iter().all(|n| {
            Command::new(cli)
                .args(["-p", &n.port.to_string(), "cluster", "info"])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok"))
        })
    }

    /// `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`.
    pub fn url(&self) -> String {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }

    /// The nodes' `redis://` URLs.
    pub fn node_urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }
}

/// A Redis master watched by one Redis Sentinel, on 127.0.0.1: `redis+sentinel://127.0.0.1:PORT/mymaster`.
#[derive(Debug)]
pub struct RedisSentinel {
    master: RedisServer,
    port: u16,
    child: Option<Child>,
    dir: PathBuf,
}

/// The Sentinel service name.
pub const SENTINEL_SERVICE: &str = "mymaster";

impl RedisSentinel {
    pub fn start() -> Result<Self, MockError> {
        let master = RedisServer::start()?;
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!(
            "m2m-auth-redis-sentinel-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| failed(format!("{}: {e}", dir.display())))?;
        // Sentinel rewrites its configuration file: it must be its own, and writable.
        let conf = dir.join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "bind 127.0.0.1\nport {port}\ndir {}\nsentinel monitor {SENTINEL_SERVICE} 127.0.0.1 {} 1\n",
                dir.display(),
                master.port
            ),
        )
        .map_err(|e| failed(format!("{}: {e}", conf.display())))?;
        let program = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let child = Command::new(&program)
            .arg(&conf)
            .arg("--sentinel")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| failed(format!("cannot start {program} --sentinel: {e}")))?;
        let sentinel = Self {
            master,
            port,
            child: Some(child),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !sentinel.names_the_master() {
            if Instant::now() >= deadline {
                return Err(failed(
                    "Redis Sentinel did not name its master within 10 s".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(sentinel)
    }

    /// Whether the Sentinel answers with the master's address (inline `SENTINEL get-master-addr-by-name`).
    fn names_the_master(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let mut reply = [0u8; 256];
        stream
            .write_all(
                format!("SENTINEL get-master-addr-by-name {SENTINEL_SERVICE}\r\n").as_bytes(),
            )
            .is_ok()
            && stream.read(&mut reply).is_ok_and(|n| {
                String::from_utf8_lossy(&reply[..n]).contains(&self.master.port.to_string())
            })
    }

    /// `redis+sentinel://127.0.0.1:PORT/mymaster`.
    pub fn url(&self) -> String {
        format!(
            "redis+sentinel://127.0.0.1:{}/{SENTINEL_SERVICE}",
            self.port
        )
    }

    /// The master's `redis://` URL.
    pub fn master_url(&self) -> String {
        self.master.url()
    }
}

impl Drop for RedisSentinel {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
