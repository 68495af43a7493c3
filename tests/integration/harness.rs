//! Process management for the end-to-end tests: start `meridian dev` or several
//! `meridian server` processes on free loopback ports, connect RESP clients, read the admin
//! commands (`CRDT.LINKS`, `CRDT.DIGEST`), pause/resume replication, wait for convergence.
//!
//! Every process is killed (SIGKILL, then reaped) when its guard is dropped, including when
//! a test panics or its time bound fires. Process output goes to a log file in the group's
//! temp dir; its tail is printed when a wait fails.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::future::Future;
use std::io::Read as _;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, FromRedisValue, RedisResult, Value};
use tempfile::TempDir;

use crate::relay::Relay;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_meridian");

/// How long a group may take to start (ports answering PING, links connected).
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Default bound for convergence waits.
pub const CONVERGE_TIMEOUT: Duration = Duration::from_secs(30);

// ---- small utilities ------------------------------------------------------------------------

/// Runs a test body with a time bound; a timeout is a test failure (and drops the body,
/// which kills its processes).
pub async fn bounded<F: Future<Output = ()>>(secs: u64, body: F) {
    if tokio::time::timeout(Duration::from_secs(secs), body)
        .await
        .is_err()
    {
        panic!("test did not finish within {secs} s");
    }
}

/// A cheap pseudo-random u64 (no dependency): time, pid and a counter, mixed.
pub fn random_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = t
        ^ ((std::process::id() as u64) << 32)
        ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    // splitmix64 finaliser
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A small deterministic PRNG for generating workloads (seed printed by the test).
pub struct Prng(u64);

impl Prng {
    pub fn new(seed: u64) -> Prng {
        Prng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// A free loopback TCP port (bound then released; a tiny race is accepted).
pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind tcp :0")
        .local_addr()
        .unwrap()
        .port()
}

/// A free loopback UDP port.
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .expect("bind udp :0")
        .local_addr()
        .unwrap()
        .port()
}

/// A base port P in 20000..30000 such that TCP P..P+n and UDP P+10000..P+10000+n are free
/// (the port layout of `meridian dev`).
pub fn free_dev_base(n: u16) -> u16 {
    for _ in 0..200 {
        let p = 20_000 + (random_u64() % (10_000 - n as u64 - 1)) as u16;
        let tcp: Vec<_> = (0..n)
            .filter_map(|i| TcpListener::bind(("127.0.0.1", p + i)).ok())
            .collect();
        let udp: Vec<_> = (0..n)
            .filter_map(|i| UdpSocket::bind(("127.0.0.1", p + 10_000 + i)).ok())
            .collect();
        let also_udp: Vec<_> = (0..n)
            .filter_map(|i| UdpSocket::bind(("127.0.0.1", p + i)).ok())
            .collect();
        if tcp.len() == n as usize && udp.len() == n as usize && also_udp.len() == n as usize {
            return p;
        }
    }
    panic!("no free port range found for meridian dev");
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Nil => String::new(),
        Value::Int(i) => i.to_string(),
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::Double(d) => d.to_string(),
        Value::Boolean(b) => (if *b { "1" } else { "0" }).into(),
        Value::VerbatimString { text, .. } => text.clone(),
        other => format!("{other:?}"),
    }
}

/// Pairs of a RESP3 map or a RESP2 flat array (field, value, …).
pub fn value_pairs(v: &Value) -> Option<Vec<(String, Value)>> {
    match v {
        Value::Map(pairs) => Some(
            pairs
                .iter()
                .map(|(k, v)| (value_text(k), v.clone()))
                .collect(),
        ),
        Value::Array(items) if items.len() % 2 == 0 => Some(
            items
                .chunks(2)
                .map(|c| (value_text(&c[0]), c[1].clone()))
                .collect(),
        ),
        _ => None,
    }
}

/// Runs one command (words), returning the typed reply or the error.
pub async fn try_q<T: FromRedisValue>(
    c: &mut MultiplexedConnection,
    args: &[&str],
) -> RedisResult<T> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query_async(c).await
}

/// Runs one command (words) and panics, naming the command, if it fails.
pub async fn q<T: FromRedisValue>(c: &mut MultiplexedConnection, args: &[&str]) -> T {
    match try_q(c, args).await {
        Ok(v) => v,
        Err(e) => panic!("{args:?} failed: {e}"),
    }
}

/// Sorted members of a set.
pub async fn smembers(c: &mut MultiplexedConnection, key: &str) -> Vec<String> {
    let mut m: Vec<String> = q(c, &["SMEMBERS", key]).await;
    m.sort();
    m
}

/// Every key of a region, via SCAN.
pub async fn scan_all(c: &mut MultiplexedConnection) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, batch): (String, Vec<String>) = q(c, &["SCAN", &cursor, "COUNT", "100"]).await;
        keys.extend(batch);
        if next == "0" {
            break;
        }
        cursor = next;
    }
    keys.sort();
    keys.dedup();
    keys
}

// ---- CRDT.LINKS -----------------------------------------------------------------------------

/// One row of `CRDT.LINKS`.
#[derive(Debug, Clone, Default)]
pub struct Link {
    pub peer: i64,
    pub name: String,
    pub addr: String,
    pub state: String,
    pub lag_ops: i64,
    pub lag_ms: i64,
    pub backlog_bytes: i64,
    pub sent_ops: i64,
    pub acked_ops: i64,
    pub received_ops: i64,
    pub connects: i64,
    pub full_syncs_needed: i64,
    pub inbound_connected: bool,
    pub last_error: String,
    /// Every field as text, including ones this struct does not know.
    pub raw: BTreeMap<String, String>,
}

impl Link {
    fn from_value(v: &Value) -> Result<Link, String> {
        let pairs = value_pairs(v).ok_or_else(|| format!("CRDT.LINKS row is not a map: {v:?}"))?;
        let raw: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.clone(), value_text(v)))
            .collect();
        let text = |f: &str| {
            raw.get(f)
                .cloned()
                .ok_or_else(|| format!("CRDT.LINKS row lacks `{f}`: {raw:?}"))
        };
        let int = |f: &str| -> Result<i64, String> {
            let t = text(f)?;
            t.parse()
                .map_err(|_| format!("CRDT.LINKS `{f}` is not an integer: {t:?}"))
        };
        Ok(Link {
            peer: int("peer")?,
            name: text("name")?,
            addr: text("addr")?,
            state: text("state")?,
            lag_ops: int("lag_ops")?,
            lag_ms: int("lag_ms")?,
            backlog_bytes: int("backlog_bytes")?,
            sent_ops: int("sent_ops")?,
            acked_ops: int("acked_ops")?,
            received_ops: int("received_ops")?,
            connects: int("connects")?,
            full_syncs_needed: int("full_syncs_needed")?,
            inbound_connected: int("inbound_connected")? != 0,
            last_error: raw.get("last_error").cloned().unwrap_or_default(),
            raw,
        })
    }
}

/// Parses a `CRDT.LINKS` reply (array of maps, RESP2 or RESP3).
pub fn parse_links(v: &Value) -> Result<Vec<Link>, String> {
    match v {
        Value::Array(rows) | Value::Set(rows) => rows.iter().map(Link::from_value).collect(),
        other => Err(format!("CRDT.LINKS reply is not an array: {other:?}")),
    }
}

// ---- processes ------------------------------------------------------------------------------

/// A child process, killed and reaped on drop. Its stdout and stderr go to `log`.
pub struct Proc {
    pub name: String,
    child: Child,
    pub log: PathBuf,
    reaped: Option<ExitStatus>,
    /// Program and arguments, to start it again.
    argv: Vec<std::ffi::OsString>,
}

impl Proc {
    pub fn spawn(name: &str, cmd: Command, log: PathBuf) -> Proc {
        let argv = std::iter::once(cmd.get_program().to_owned())
            .chain(cmd.get_args().map(|a| a.to_owned()))
            .collect();
        let out = std::fs::File::create(&log).expect("create log file");
        Proc::start(name, cmd, log, out, argv)
    }

    fn start(
        name: &str,
        mut cmd: Command,
        log: PathBuf,
        out: std::fs::File,
        argv: Vec<std::ffi::OsString>,
    ) -> Proc {
        let err = out.try_clone().expect("clone log file");
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "info");
        }
        cmd.env("RUST_BACKTRACE", "1");
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({BIN}): {e}"));
        Proc {
            name: name.to_string(),
            child,
            log,
            reaped: None,
            argv,
        }
    }

    /// Starts the same command again (after [`Proc::kill9`]); its output is appended to
    /// the same log.
    pub fn respawn(&mut self) {
        self.kill9();
        let mut cmd = Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..]);
        let out = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log)
            .expect("open log file");
        *self = Proc::start(&self.name, cmd, self.log.clone(), out, self.argv.clone());
    }

    /// The exit status if the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.reaped.is_none() {
            self.reaped = self.child.try_wait().ok().flatten();
        }
        self.reaped
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        if self.reaped.is_none() {
            let _ = self.child.kill();
            self.reaped = self.child.wait().ok();
        }
    }

    /// The last `max` bytes of the process's output.
    pub fn log_tail(&self, max: usize) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        if s.len() > max {
            let mut start = s.len() - max;
            while !s.is_char_boundary(start) {
                start += 1;
            }
            s = format!("…{}", &s[start..]);
        }
        s
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs the binary to completion (for `certs` and config checks), with a time bound.
pub fn run_to_end(args: &[&str], timeout: Duration) -> (ExitStatus, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {BIN} {args:?}: {e}"));
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{BIN} {args:?} did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, out_t.join().unwrap(), err_t.join().unwrap())
}

// ---- groups ---------------------------------------------------------------------------------

/// One region of a running group.
#[derive(Debug, Clone)]
pub struct RegionInfo {
    /// Region id (1-based, as in the config).
    pub id: u8,
    pub name: String,
    /// RESP (TCP) address.
    pub resp: SocketAddr,
    /// Geo-replication (QUIC/UDP) address.
    pub geo: SocketAddr,
    /// Prometheus endpoint, when the group was started with one.
    pub metrics: Option<SocketAddr>,
    /// Index in `Group::procs` of the process serving it.
    pub proc_index: usize,
}

/// Options for [`Group::servers_with`].
#[derive(Debug, Clone)]
pub struct ServerOpts {
    /// Number of regions (1 to 5).
    pub regions: usize,
    /// Shards per node.
    pub shards: u16,
    /// `geo.heartbeat_ms`: idle timeout is max(3 × heartbeat, 1 s).
    pub heartbeat_ms: u64,
    /// Route every region's peer addresses through a [`Relay`] (one per ordered pair).
    pub relays: bool,
    /// Give every region a Prometheus endpoint (`[metrics] listen`).
    pub metrics: bool,
    /// `(r, p)`: region `r`'s config revokes region `p`'s certificate. The group is then
    /// not waited for to be fully linked.
    pub revoked: Vec<(u8, u8)>,
    /// `geo.backlog_bytes` (per shard), if not the default.
    pub backlog_bytes: Option<usize>,
    /// Regions started alone (with `[geo]` and `[tls]` but no peers), and left out of the
    /// others' peers: standalone regions that a test adds to the group at run time.
    pub standalone: Vec<u8>,
}

impl Default for ServerOpts {
    fn default() -> Self {
        ServerOpts {
            regions: 3,
            shards: 2,
            heartbeat_ms: 200,
            relays: false,
            metrics: false,
            revoked: Vec::new(),
            backlog_bytes: None,
            standalone: Vec::new(),
        }
    }
}

/// A running replication group: either one `meridian dev` process or one
/// `meridian server` process per region. Dropping it kills every process.
pub struct Group {
    pub regions: Vec<RegionInfo>,
    procs: Vec<Proc>,
    /// `relays[&(from, to)]`: the relay region `from` dials to reach region `to`.
    pub relays: HashMap<(u8, u8), Relay>,
    clients: Vec<redis::Client>,
    /// The group's temp dir (configs, certs, logs); removed on drop, after the processes die.
    pub dir: TempDir,
    /// The regions that are members of the group, which [`Group::wait_linked`] and
    /// [`Group::wait_converged`] look at (all of them unless a test changes it).
    pub active: Vec<usize>,
}

fn conn_config() -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(3)))
        .set_response_timeout(Some(Duration::from_secs(15)))
}

/// The region name used in configs: also the DNS name of the region's certificate.
pub fn region_name(id: u8) -> String {
    format!("region-{id}.meridian")
}

/// Writes a throwaway CA and region certificates with `meridian certs`; returns each
/// region's certificate fingerprint as the command printed it.
pub fn write_certs(dir: &Path, ids: &[u8]) -> HashMap<u8, String> {
    let list = ids
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let dir_s = dir.to_str().unwrap();
    let (status, out, err) = run_to_end(
        &["certs", "--out", dir_s, "--regions", &list],
        Duration::from_secs(30),
    );
    assert!(
        status.success(),
        "meridian certs failed ({status}):\n{out}\n{err}"
    );
    for f in std::iter::once("ca.pem".to_string()).chain(
        ids.iter()
            .flat_map(|i| [format!("region-{i}.pem"), format!("region-{i}.key")]),
    ) {
        assert!(
            dir.join(&f).is_file(),
            "meridian certs did not write {f} in {dir_s}"
        );
    }
    ids.iter()
        .map(|&i| {
            let prefix = format!("region-{i}.pem sha256 fingerprint ");
            let fp = out
                .lines()
                .find_map(|l| l.strip_prefix(&prefix))
                .unwrap_or_else(|| panic!("no fingerprint for region {i} in:\n{out}"));
            (i, fp.to_string())
        })
        .collect()
}

/// The TOML config of one region of a server group.
pub fn server_config(
    me: &RegionInfo,
    peers: &[(u8, SocketAddr)],
    shards: u16,
    heartbeat_ms: u64,
    certs: &Path,
) -> String {
    let mut t = String::new();
    writeln!(t, "[region]\nid = {}\nname = \"{}\"\n", me.id, me.name).unwrap();
    writeln!(t, "[server]\nbind = \"{}\"\nshards = {shards}\n", me.resp).unwrap();
    writeln!(
        t,
        "[geo]\nlisten = \"{}\"\nheartbeat_ms = {heartbeat_ms}\n",
        me.geo
    )
    .unwrap();
    writeln!(
        t,
        "[tls]\nca = \"{}\"\ncert = \"{}\"\nkey = \"{}\"\n",
        certs.join("ca.pem").display(),
        certs.join(format!("region-{}.pem", me.id)).display(),
        certs.join(format!("region-{}.key", me.id)).display()
    )
    .unwrap();
    for (id, addr) in peers {
        writeln!(
            t,
            "[[peers]]\nid = {id}\nname = \"{}\"\naddr = \"{addr}\"\n",
            region_name(*id)
        )
        .unwrap();
    }
    if let Some(m) = me.metrics {
        writeln!(t, "[metrics]\nlisten = \"{m}\"\n").unwrap();
    }
    t
}

impl Group {
    /// `meridian dev --regions n --shards s` on a free port range; waits until every region
    /// answers PING and every link is connected.
    pub async fn dev(regions: usize, shards: u16) -> Group {
        assert!((1..=5).contains(&regions));
        let dir = TempDir::new().expect("tempdir");
        let base = free_dev_base(regions as u16);
        let mut cmd = Command::new(BIN);
        cmd.args([
            "dev",
            "--regions",
            &regions.to_string(),
            "--base-port",
            &base.to_string(),
            "--shards",
            &shards.to_string(),
        ]);
        let proc = Proc::spawn("meridian dev", cmd, dir.path().join("dev.log"));
        let infos = (0..regions)
            .map(|i| RegionInfo {
                id: i as u8 + 1,
                name: format!("region-{}", i + 1),
                resp: SocketAddr::from(([127, 0, 0, 1], base + i as u16)),
                geo: SocketAddr::from(([127, 0, 0, 1], base + 10_000 + i as u16)),
                metrics: None,
                proc_index: 0,
            })
            .collect();
        Group::finish(infos, vec![proc], HashMap::new(), dir, true).await
    }

    /// `n` separate `meridian server` processes with default options.
    pub async fn servers(n: usize) -> Group {
        Group::servers_with(ServerOpts {
            regions: n,
            ..ServerOpts::default()
        })
        .await
    }

    /// Separate `meridian server` processes: certs from `meridian certs`, one config per region.
    pub async fn servers_with(opts: ServerOpts) -> Group {
        let n = opts.regions;
        assert!((1..=5).contains(&n));
        let dir = TempDir::new().expect("tempdir");
        let certs = dir.path().join("certs");
        std::fs::create_dir_all(&certs).unwrap();
        let ids: Vec<u8> = (1..=n as u8).collect();
        let fingerprints = write_certs(&certs, &ids);

        // Hold every picked socket until all are picked so no port is handed out twice.
        let tcp: Vec<TcpListener> = (0..n)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let udp: Vec<UdpSocket> = (0..n)
            .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
            .collect();
        let metrics: Vec<TcpListener> = (0..n)
            .filter(|_| opts.metrics)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let infos: Vec<RegionInfo> = (0..n)
            .map(|i| RegionInfo {
                id: ids[i],
                name: region_name(ids[i]),
                resp: tcp[i].local_addr().unwrap(),
                geo: udp[i].local_addr().unwrap(),
                metrics: metrics.get(i).map(|l| l.local_addr().unwrap()),
                proc_index: i,
            })
            .collect();
        drop(tcp);
        drop(udp);
        drop(metrics);

        let mut relays = HashMap::new();
        if opts.relays {
            for a in &infos {
                for b in &infos {
                    if a.id != b.id {
                        relays.insert(
                            (a.id, b.id),
                            Relay::start(b.geo).await.expect("start relay"),
                        );
                    }
                }
            }
        }

        let mut procs = Vec::new();
        for me in &infos {
            let alone = opts.standalone.contains(&me.id);
            let peers: Vec<(u8, SocketAddr)> = infos
                .iter()
                .filter(|p| p.id != me.id && !alone && !opts.standalone.contains(&p.id))
                .map(|p| {
                    (
                        p.id,
                        relays
                            .get(&(me.id, p.id))
                            .map(|r: &Relay| r.addr())
                            .unwrap_or(p.geo),
                    )
                })
                .collect();
            let mut text = server_config(me, &peers, opts.shards, opts.heartbeat_ms, &certs);
            if let Some(b) = opts.backlog_bytes {
                text = text.replacen("[geo]\n", &format!("[geo]\nbacklog_bytes = {b}\n"), 1);
            }
            let revoked: Vec<String> = opts
                .revoked
                .iter()
                .filter(|(r, _)| *r == me.id)
                .map(|(_, p)| format!("\"{}\"", fingerprints[p]))
                .collect();
            if !revoked.is_empty() {
                // Into the `[tls]` table, right after its `key` line.
                let key_line = format!(
                    "key = \"{}\"",
                    certs.join(format!("region-{}.key", me.id)).display()
                );
                text = text.replacen(
                    &key_line,
                    &format!("{key_line}\nrevoked = [{}]", revoked.join(", ")),
                    1,
                );
            }
            let path = dir.path().join(format!("region-{}.toml", me.id));
            std::fs::write(&path, text).unwrap();
            let mut cmd = Command::new(BIN);
            cmd.arg("server").arg("--config").arg(&path);
            procs.push(Proc::spawn(
                &format!("meridian server (region {})", me.id),
                cmd,
                dir.path().join(format!("region-{}.log", me.id)),
            ));
        }
        let active: Vec<usize> = infos
            .iter()
            .filter(|i| !opts.standalone.contains(&i.id))
            .map(|i| i.id as usize)
            .collect();
        let mut g = Group::finish(infos, procs, relays, dir, false).await;
        g.active = active;
        if g.active.len() > 1 && opts.revoked.is_empty() {
            g.wait_linked(START_TIMEOUT).await;
        }
        g
    }

    async fn finish(
        regions: Vec<RegionInfo>,
        procs: Vec<Proc>,
        relays: HashMap<(u8, u8), Relay>,
        dir: TempDir,
        wait_linked: bool,
    ) -> Group {
        let clients = regions
            .iter()
            .map(|r| redis::Client::open(format!("redis://{}/", r.resp)).expect("redis client"))
            .collect();
        let active = (1..=regions.len()).collect();
        let mut g = Group {
            regions,
            procs,
            relays,
            clients,
            dir,
            active,
        };
        g.wait_ready(START_TIMEOUT).await;
        if g.regions.len() > 1 && wait_linked {
            g.wait_linked(START_TIMEOUT).await;
        }
        g
    }

    /// Number of regions.
    pub fn len(&self) -> usize {
        self.regions.len()
    }

    /// Region ids, 1..=n.
    pub fn ids(&self) -> Vec<usize> {
        (1..=self.regions.len()).collect()
    }

    /// The client address of a region (1-based).
    pub fn resp_addr(&self, region: usize) -> SocketAddr {
        self.info(region).resp
    }

    fn info(&self, region: usize) -> &RegionInfo {
        assert!(
            region >= 1 && region <= self.regions.len(),
            "no region {region}"
        );
        &self.regions[region - 1]
    }

    /// Panics (with logs) if a process has died.
    fn check_alive(&mut self) {
        for p in &mut self.procs {
            if let Some(st) = p.exited() {
                panic!(
                    "{} exited unexpectedly ({st}); output:\n{}",
                    p.name,
                    p.log_tail(8000)
                );
            }
        }
    }

    async fn wait_ready(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        for i in 1..=self.regions.len() {
            loop {
                self.check_alive();
                let ok = match tokio::time::timeout(Duration::from_secs(2), self.try_conn(i)).await
                {
                    Ok(Ok(mut c)) => matches!(
                        try_q::<String>(&mut c, &["PING"]).await.as_deref(),
                        Ok("PONG")
                    ),
                    _ => false,
                };
                if ok {
                    break;
                }
                if Instant::now() > deadline {
                    panic!(
                        "region {i} ({}) did not answer PING within {timeout:?}\n{}",
                        self.info(i).resp,
                        self.logs()
                    );
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    async fn try_conn(&self, region: usize) -> RedisResult<MultiplexedConnection> {
        self.clients[region - 1]
            .get_multiplexed_async_connection_with_config(&conn_config())
            .await
    }

    /// A new multiplexed RESP connection to a region (1-based).
    pub async fn conn(&self, region: usize) -> MultiplexedConnection {
        let addr = self.info(region).resp;
        self.try_conn(region)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to region {region} at {addr}: {e}"))
    }

    /// One connection per region, index 0 = region 1.
    pub async fn conns(&self) -> Vec<MultiplexedConnection> {
        let mut v = Vec::new();
        for i in self.ids() {
            v.push(self.conn(i).await);
        }
        v
    }

    /// `CRDT.LINKS` of a region.
    pub async fn links(&self, region: usize) -> Vec<Link> {
        let mut c = self.conn(region).await;
        self.links_on(&mut c, region).await
    }

    async fn links_on(&self, c: &mut MultiplexedConnection, region: usize) -> Vec<Link> {
        let v: Value = q(c, &["CRDT.LINKS"]).await;
        parse_links(&v).unwrap_or_else(|e| panic!("region {region}: {e}"))
    }

    /// `CRDT.DIGEST` of a region.
    pub async fn digest(&self, region: usize) -> String {
        let mut c = self.conn(region).await;
        q(&mut c, &["CRDT.DIGEST"]).await
    }

    /// `CRDT.PAUSE` in one region.
    pub async fn pause(&self, region: usize) {
        let mut c = self.conn(region).await;
        let r: String = q(&mut c, &["CRDT.PAUSE"]).await;
        assert_eq!(r, "OK", "CRDT.PAUSE in region {region}");
    }

    /// `CRDT.RESUME` in one region.
    pub async fn resume(&self, region: usize) {
        let mut c = self.conn(region).await;
        let r: String = q(&mut c, &["CRDT.RESUME"]).await;
        assert_eq!(r, "OK", "CRDT.RESUME in region {region}");
    }

    /// `CRDT.PAUSE` in every region.
    pub async fn pause_all(&self) {
        for i in self.ids() {
            self.pause(i).await;
        }
    }

    /// `CRDT.RESUME` in every region.
    pub async fn resume_all(&self) {
        for i in self.ids() {
            self.resume(i).await;
        }
    }

    /// SIGKILLs the process serving `region` (for `meridian dev`, that is every region).
    pub fn kill9(&mut self, region: usize) {
        let idx = self.info(region).proc_index;
        self.procs[idx].kill9();
    }

    /// Starts the killed process of `region` again, same config (so: the same identity,
    /// empty memory), and waits until it answers PING.
    pub async fn restart(&mut self, region: usize) {
        let idx = self.info(region).proc_index;
        self.procs[idx].respawn();
        self.wait_ready(START_TIMEOUT).await;
    }

    /// Every relay (empty unless the group was started with relays).
    pub fn all_relays(&self) -> impl Iterator<Item = &Relay> {
        self.relays.values()
    }

    /// Cuts every relay.
    pub fn cut_all(&self) {
        self.relays.values().for_each(Relay::cut);
    }

    /// Heals every relay.
    pub fn heal_all(&self) {
        self.relays.values().for_each(Relay::heal);
    }

    /// The tails of every process's output, for failure messages.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for p in &self.procs {
            let _ = writeln!(
                s,
                "---- {} (log {}) ----\n{}",
                p.name,
                p.log.display(),
                p.log_tail(6000)
            );
        }
        s
    }

    /// Waits until every member region lists every other member as a `connected` link.
    pub async fn wait_linked(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let n = self.active.len();
        let mut last = String::new();
        loop {
            self.check_alive();
            let mut ok = true;
            last.clear();
            for i in self.active.clone() {
                let links = self.links(i).await;
                let _ = writeln!(last, "region {i}: {links:#?}");
                let connected = links.iter().filter(|l| l.state == "connected").count();
                ok &= links.len() == n - 1 && connected == n - 1;
            }
            if ok {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "links not all connected within {timeout:?}:\n{last}\n{}",
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// One snapshot of the convergence condition: `Ok(())` if converged, else a description.
    pub async fn converged_now(&self) -> Result<(), String> {
        let n = self.active.len();
        let mut why = String::new();
        let mut digests = Vec::new();
        for &i in &self.active {
            let mut c = self.conn(i).await;
            let links = self.links_on(&mut c, i).await;
            if links.len() != n - 1 {
                let _ = writeln!(
                    why,
                    "region {i} lists {} links, expected {}",
                    links.len(),
                    n - 1
                );
            }
            for l in &links {
                if l.state != "connected" || l.lag_ops != 0 {
                    let _ = writeln!(
                        why,
                        "region {i} → peer {}: state {} lag_ops {} ({:?})",
                        l.peer, l.state, l.lag_ops, l.raw
                    );
                }
            }
            let d: String = q(&mut c, &["CRDT.DIGEST"]).await;
            digests.push(d);
        }
        if digests.iter().any(|d| d != &digests[0]) {
            let _ = writeln!(why, "digests differ: {digests:?}");
        }
        if why.is_empty() {
            Ok(())
        } else {
            Err(why)
        }
    }

    /// Polls until every region's links show lag_ops 0 (and `connected`) for every peer and
    /// every region's `CRDT.DIGEST` is equal, and still do one shard tick later; panics with
    /// the last state and logs on timeout.
    ///
    /// The second check is what makes the group quiet: a shard that applied a remote write
    /// appends a received report to its own stream on its next 100 ms tick, so links can
    /// show lag 0 for an instant before that report op is sent (and acked).
    pub async fn wait_converged(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut first_ok: Option<Instant> = None;
        loop {
            match self.converged_now().await {
                Ok(()) => match first_ok {
                    Some(t) if t.elapsed() >= QUIET => return,
                    Some(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                    None => {
                        first_ok = Some(Instant::now());
                        tokio::time::sleep(QUIET).await;
                    }
                },
                Err(why) if Instant::now() > deadline => {
                    panic!(
                        "regions did not converge within {timeout:?}:\n{why}\n{}",
                        self.logs()
                    )
                }
                Err(_) => {
                    first_ok = None;
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
            }
        }
    }
}

/// How long convergence must hold before [`Group::wait_converged`] returns: more than two
/// shard ticks (100 ms each), so a pending received report has been sent and acked.
const QUIET: Duration = Duration::from_millis(250);

/// See [`Group::wait_converged`].
pub async fn wait_converged(group: &Group, timeout: Duration) {
    group.wait_converged(timeout).await
}

/// See [`Group::pause_all`].
pub async fn pause_all(group: &Group) {
    group.pause_all().await
}

/// See [`Group::resume_all`].
pub async fn resume_all(group: &Group) {
    group.resume_all().await
}

/// One numeric field of `INFO crdt`.
pub async fn crdt_info(c: &mut MultiplexedConnection, field: &str) -> u64 {
    let info: String = q(c, &["INFO", "crdt"]).await;
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in INFO crdt:\n{info}"))
}

/// What writers had acknowledged: the sum of every acknowledged `INCRBY counter` and every
/// acknowledged `SADD members` member, to check that no acknowledged write was lost.
#[derive(Default)]
pub struct WriterTotals {
    pub acked_sum: std::sync::atomic::AtomicU64,
    pub acked_ops: std::sync::atomic::AtomicU64,
    pub members: std::sync::Mutex<Vec<String>>,
    pub errors: std::sync::Mutex<Vec<String>>,
}

/// Bounded writer tasks, one per region given: each makes up to `ops` writes (alternating
/// `INCRBY counter` and `SADD members rR-seq`), `pace` apart, and stops by itself or when
/// told to.
pub struct Writers {
    pub totals: std::sync::Arc<WriterTotals>,
    handles: Vec<tokio::task::JoinHandle<()>>,
    /// Set by [`Writers::stop`]: each writer ends after its current write.
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Writers {
    /// Starts the writers.
    pub async fn start(g: &Group, regions: &[usize], ops: usize, pace: Duration) -> Writers {
        use std::sync::atomic::Ordering;
        let totals = std::sync::Arc::new(WriterTotals::default());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut handles = Vec::new();
        for &r in regions {
            let mut c = g.conn(r).await;
            let totals = totals.clone();
            let stop = stop.clone();
            handles.push(tokio::spawn(async move {
                for seq in 0..ops {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if seq % 2 == 0 {
                        let by = (seq % 7 + 1) as u64;
                        match try_q::<Value>(&mut c, &["INCRBY", "counter", &by.to_string()]).await
                        {
                            Ok(_) => {
                                totals.acked_sum.fetch_add(by, Ordering::SeqCst);
                            }
                            Err(e) => totals
                                .errors
                                .lock()
                                .unwrap()
                                .push(format!("region {r} INCRBY: {e}")),
                        }
                    } else {
                        let m = format!("r{r}-{seq}");
                        match try_q::<Value>(&mut c, &["SADD", "members", &m]).await {
                            Ok(_) => totals.members.lock().unwrap().push(m),
                            Err(e) => totals
                                .errors
                                .lock()
                                .unwrap()
                                .push(format!("region {r} SADD: {e}")),
                        }
                    }
                    totals.acked_ops.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(pace).await;
                }
            }));
        }
        Writers {
            totals,
            handles,
            stop,
        }
    }

    /// Tells the writers to end after their current write (see [`Writers::finish`]).
    pub fn stop(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Writes acknowledged so far.
    pub fn acked_ops(&self) -> u64 {
        self.totals
            .acked_ops
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits for every writer to finish; panics if a write failed.
    pub async fn finish(self) -> std::sync::Arc<WriterTotals> {
        for h in self.handles {
            h.await.expect("writer panicked");
        }
        let errors = self.totals.errors.lock().unwrap().clone();
        assert!(errors.is_empty(), "client writes failed: {errors:?}");
        self.totals
    }
}

/// Checks in every region given that the counter is the sum of every acknowledged
/// increment and that every acknowledged member is there (and nothing else).
pub async fn assert_no_acknowledged_write_lost(g: &Group, regions: &[usize], t: &WriterTotals) {
    let sum = t.acked_sum.load(std::sync::atomic::Ordering::SeqCst) as i64;
    let members: std::collections::BTreeSet<String> =
        t.members.lock().unwrap().iter().cloned().collect();
    for &r in regions {
        let mut c = g.conn(r).await;
        let v: i64 = q(&mut c, &["GET", "counter"]).await;
        assert_eq!(
            v, sum,
            "region {r}: counter vs the sum of acknowledged increments"
        );
        let got: std::collections::BTreeSet<String> =
            smembers(&mut c, "members").await.into_iter().collect();
        let lost: Vec<_> = members.difference(&got).take(20).collect();
        assert!(
            lost.is_empty(),
            "region {r} lost {} acknowledged members, e.g. {lost:?}",
            members.difference(&got).count()
        );
        assert_eq!(
            got.len(),
            members.len(),
            "region {r}: SMEMBERS has members nobody wrote"
        );
    }
}
