//! Wiring one region: the node (shards, client listener) and the geo-links, plus the glue
//! that lets georep read the shards' replication logs and hand remote ops to the shards.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::membership::{self, Group};
use actors::clock::{RegionClock, SystemClock};
use actors::repl::{ReadResult, ReplLog};
use actors::{GeoControl, LinkInfo, Node, NodeConfig};
use bytes::Bytes;
use crdt::RegionId;
use georep::{
    Geo, GeoConfig, LocalLog, PeerSpec, Read, RemoteSink, Snapshot, SnapshotMeta, StateSync,
    TlsMaterial,
};

/// A running region.
pub struct Region {
    geo: Option<Geo>,
    _node: Node,
}

impl Region {
    /// Closes the geo endpoints of all `regions` together (peers see a clean close, not a
    /// timeout), bounded so that a stuck peer cannot hold the process.
    pub async fn shutdown_all(regions: &[Region]) {
        let tasks: Vec<_> = regions
            .iter()
            .filter_map(|r| r.geo.clone())
            .map(|g| actix_rt::spawn(async move { g.shutdown().await }))
            .collect();
        let all = async {
            for t in tasks {
                let _ = t.await;
            }
        };
        if tokio::time::timeout(Duration::from_secs(3), all)
            .await
            .is_err()
        {
            tracing::warn!("geo-replication endpoints did not close within 3 s; exiting anyway");
        }
    }
}

/// Sets up `tracing` (RUST_LOG filters; `info` by default).
pub fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,quinn=warn,rustls=warn"));
    use std::io::IsTerminal;
    // Colours only on a terminal: log files and log shippers get plain text.
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        b.json().init();
    } else {
        b.init();
    }
}

/// The shards' logs as georep sees them.
struct Logs(Vec<Arc<ReplLog>>);

impl LocalLog for Logs {
    fn shards(&self) -> u16 {
        self.0.len() as u16
    }

    fn read(&self, shard: u16, from: u64, max_bytes: usize) -> Read {
        let Some(log) = self.0.get(shard as usize) else {
            return Read::UpToDate { next: 1 };
        };
        match log.read(from, max_bytes) {
            ReadResult::Ops { first, ops } => Read::Ops { first, ops },
            ReadResult::UpToDate { next } => Read::UpToDate { next },
            ReadResult::Trimmed { first_available } => Read::Trimmed { first_available },
        }
    }

    fn next_offset(&self, shard: u16) -> u64 {
        self.0.get(shard as usize).map(|l| l.head()).unwrap_or(1)
    }

    fn hlc_at(&self, shard: u16, offset: u64) -> Option<u64> {
        self.0.get(shard as usize)?.hlc_at(offset)
    }

    fn bytes_from(&self, shard: u16, offset: u64) -> u64 {
        self.0
            .get(shard as usize)
            .map_or(0, |l| l.bytes_from(offset))
    }

    fn subscribe(&self, shard: u16) -> tokio::sync::watch::Receiver<u64> {
        match self.0.get(shard as usize) {
            Some(l) => l.subscribe(),
            // georep only asks for shards below `shards()`; a receiver that never changes is
            // the harmless answer otherwise.
            None => tokio::sync::watch::channel(1).1,
        }
    }

    fn offset_after(&self, shard: u16, stamp: u64) -> Result<u64, u64> {
        match self.0.get(shard as usize) {
            Some(l) => l.offset_after(stamp),
            None => Ok(1),
        }
    }

    fn acked(&self, peer: u8, shard: u16, offset: u64) {
        // The log keeps everything within its byte budget (so a peer that reconnects can
        // resume); acknowledgements tell it which trims cost a peer a full sync.
        if let Some(l) = self.0.get(shard as usize) {
            l.acked(peer, offset);
        }
    }
}

/// Remote ops go to the node's shards.
struct Sink(Node);

impl RemoteSink for Sink {
    fn apply(
        &self,
        origin: u8,
        origin_shards: u16,
        origin_shard: u16,
        ops: Vec<(u64, Bytes)>,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let node = self.0.clone();
        Box::pin(async move {
            node.apply_remote(RegionId(origin), origin_shards, origin_shard, ops)
                .await
        })
    }
}

/// Full sync: snapshots of the node's shards, and installing a peer's.
struct State(Node);

impl StateSync for State {
    fn snapshot(&self) -> Pin<Box<dyn Future<Output = Result<Snapshot, String>> + Send>> {
        let node = self.0.clone();
        Box::pin(async move {
            let s = node.snapshot().await?;
            Ok(Snapshot {
                meta: SnapshotMeta {
                    offsets: s.offsets,
                    received: s.received,
                    origin_shards: s.origin_shards,
                    seen: Vec::new(),
                },
                chunks: s.chunks,
            })
        })
    }

    fn held(&self) -> Pin<Box<dyn Future<Output = Vec<(u8, u16, u64)>> + Send>> {
        let node = self.0.clone();
        Box::pin(async move { node.received().await })
    }

    fn install_begin(&self, _source: u8, attempt: u64) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let node = self.0.clone();
        Box::pin(async move { node.install_begin(attempt).await })
    }

    fn install_chunk(
        &self,
        attempt: u64,
        data: Bytes,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
        let node = self.0.clone();
        Box::pin(async move { node.install_chunk(attempt, &data).await })
    }

    fn install_end(
        &self,
        attempt: u64,
        source: u8,
        meta: SnapshotMeta,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> {
        let node = self.0.clone();
        Box::pin(async move {
            let r = node
                .install_end(attempt, meta.received, meta.origin_shards)
                .await?;
            if r.lost_own_writes {
                tracing::error!(
                    source,
                    "full sync: some writes of this region that the source had not received were already trimmed from the backlog; they are lost"
                );
            }
            tracing::info!(
                source,
                entries = r.entries,
                replayed_own_writes = r.replayed,
                "full sync: this region's state was replaced by the source's"
            );
            Ok(())
        })
    }
}

/// The admin commands' view of the links and the group (no geo endpoint: a region
/// without `[tls]`, which has no links and cannot join a group).
struct Control {
    geo: Option<Geo>,
    group: Arc<Group>,
}

impl GeoControl for Control {
    fn links(&self) -> Pin<Box<dyn Future<Output = Vec<LinkInfo>> + Send>> {
        let Some(geo) = self.geo.clone() else {
            return Box::pin(async { Vec::new() });
        };
        Box::pin(async move {
            geo.links()
                .await
                .into_iter()
                .map(|l| LinkInfo {
                    peer: l.peer,
                    name: l.name,
                    addr: l.addr.to_string(),
                    state: match l.state {
                        georep::LinkState::Connecting => "connecting",
                        georep::LinkState::Connected => "connected",
                        georep::LinkState::Paused => "paused",
                        georep::LinkState::NeedsFullSync => "needs_full_sync",
                        georep::LinkState::Syncing => "syncing",
                    }
                    .to_string(),
                    lag_ops: l.lag_ops,
                    lag_ms: l.lag_ms,
                    backlog_bytes: l.backlog_bytes,
                    sent_ops: l.sent_ops,
                    acked_ops: l.acked_ops,
                    received_ops: l.received_ops,
                    connects: l.connects,
                    full_syncs_needed: l.full_syncs_needed,
                    inbound_connected: l.inbound_connected,
                    last_error: l.last_error,
                })
                .collect()
        })
    }

    fn pause(&self) {
        if let Some(g) = &self.geo {
            g.pause();
        }
    }

    fn resume(&self) {
        if let Some(g) = &self.geo {
            g.resume();
        }
    }

    fn is_paused(&self) -> bool {
        self.geo.as_ref().is_some_and(|g| g.is_paused())
    }

    fn group(
        &self,
        args: Vec<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<String>, String>> + Send>> {
        let group = self.group.clone();
        Box::pin(async move { group.command(args).await })
    }

    fn membership(&self) -> (String, usize) {
        let m = self.group.members();
        let me = self.group.region();
        // A region out of its group (removed, unlinked) counts itself only, not the
        // members of the table it last held.
        let members = if m.is_member(me.0) {
            m.active().count()
        } else {
            1
        };
        (membership::standing(&m, me).to_string(), members)
    }
}

/// Everything to start one region.
struct RegionSpec {
    node: NodeConfig,
    geo_listen: SocketAddr,
    /// What peers dial, if not `geo_listen`.
    geo_advertise: Option<SocketAddr>,
    peers: Vec<PeerSpec>,
    tls: Option<TlsMaterial>,
    batch_max_bytes: usize,
    batch_max_delay: Duration,
    heartbeat: Duration,
    /// Address of the Prometheus endpoint, if any.
    metrics: Option<SocketAddr>,
    /// Where the membership table is kept (none: not persisted, as in `dev`).
    state_file: Option<std::path::PathBuf>,
}

async fn start_region(spec: RegionSpec) -> Result<Region, String> {
    let clock = Arc::new(RegionClock::new(Arc::new(SystemClock)));
    let bind = spec.node.bind;
    let region = spec.node.region;
    let name = spec.node.name.clone();
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("region {name}: cannot listen on {bind}: {e}"))?;
    let node = Node::start(spec.node, clock.clone());
    let group = Group::new(node.clone(), spec.state_file.clone());
    let kept = match &spec.state_file {
        Some(path) => membership::load(path).map_err(|e| format!("region {name}: {e}"))?,
        None => None,
    };
    if let Some(m) = &kept {
        tracing::info!(path = %spec.state_file.as_deref().map(|p| p.display().to_string()).unwrap_or_default(), members = m.active().count(), "group membership kept from an earlier run (it takes precedence over the config's peers)");
    }
    let mut geo = None;
    if spec.tls.is_none() && !spec.peers.is_empty() {
        return Err(format!("region {name}: peers need [tls]"));
    }
    if let Some(tls) = spec.tls {
        let cfg = GeoConfig {
            region: region.0,
            name: name.clone(),
            listen: spec.geo_listen,
            advertise: spec.geo_advertise,
            // The config's peers only seed a region that has no state file yet (a purged
            // region's empty table must stay empty across a restart).
            peers: if kept.is_some() {
                Vec::new()
            } else {
                spec.peers
            },
            tls,
            batch_max_bytes: spec.batch_max_bytes,
            batch_max_delay: spec.batch_max_delay,
            heartbeat: spec.heartbeat,
            incarnation: incarnation(region.0),
            members: kept.unwrap_or_default(),
        };
        let endpoint_err = |e: georep::Error| {
            format!(
                "region {name}: geo-replication endpoint on {}: {e}",
                spec.geo_listen
            )
        };
        let g = Geo::bind(cfg)
            .map_err(endpoint_err)?
            .with_membership_hook(group.clone())
            .start(
                Arc::new(Logs(node.logs().to_vec())),
                Arc::new(Sink(node.clone())),
                Some(Arc::new(State(node.clone()))),
            )
            .map_err(endpoint_err)?;
        group.set_geo(g.clone());
        geo = Some(g);
    }
    node.set_geo(Arc::new(Control {
        geo: geo.clone(),
        group,
    }));
    if let Some(addr) = spec.metrics {
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("region {name}: metrics endpoint on {addr}: {e}"))?;
        actix_rt::spawn(actors::metrics::serve(node.clone(), l));
        tracing::info!(region = region.0, %addr, "Prometheus metrics at http://{addr}/metrics");
    }
    actix_rt::spawn(node.clone().serve(listener));
    tracing::info!(region = region.0, %name, %bind, geo = %spec.geo_listen, "region ready");
    Ok(Region { geo, _node: node })
}

/// A process-unique incarnation number: a restarted region gets a new one, so its peers
/// restart its stream offsets instead of waiting for offsets it no longer has (and so does
/// a purged or joining region, whose logs start again at offset 1).
pub(crate) fn incarnation(region: u8) -> u64 {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    t ^ ((std::process::id() as u64) << 32) ^ region as u64 ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn node_config(
    region: u8,
    name: &str,
    regions: Vec<RegionId>,
    shards: u16,
    bind: SocketAddr,
) -> NodeConfig {
    NodeConfig {
        region: RegionId(region),
        name: name.to_string(),
        regions,
        shards,
        bind,
        password: None,
        protected_mode: true,
        max_clients: config::defaults::MAX_CLIENTS,
        limits: resp::Limits::default(),
        query_buffer_limit: config::defaults::CLIENT_QUERY_BUFFER_LIMIT,
        backlog_bytes: config::defaults::BACKLOG_BYTES,
    }
}

/// `meridian dev`: `n` linked regions on loopback, certificates made on the fly.
pub async fn dev(
    n: u8,
    base_port: u16,
    shards: u16,
    metrics_base_port: Option<u16>,
) -> Result<Vec<Region>, String> {
    if base_port as u32 + 10_000 + n as u32 > u16::MAX as u32 {
        return Err(format!(
            "--base-port {base_port} leaves no room for the QUIC ports (base + 10000 + region)"
        ));
    }
    if metrics_base_port.is_some_and(|m| m as u32 + n as u32 > u16::MAX as u32) {
        return Err("--metrics-base-port leaves no room for one port per region".into());
    }
    let metrics_addr =
        |i: u8| metrics_base_port.map(|m| SocketAddr::from(([127, 0, 0, 1], m + i as u16 - 1)));
    let ca = georep::tls::DevCa::new().map_err(|e| e.to_string())?;
    let ids: Vec<RegionId> = (1..=n).map(RegionId).collect();
    let resp_addr = |i: u8| SocketAddr::from(([127, 0, 0, 1], base_port + i as u16 - 1));
    let geo_addr = |i: u8| SocketAddr::from(([127, 0, 0, 1], base_port + 10_000 + i as u16 - 1));
    let mut regions = Vec::new();
    for i in 1..=n {
        let name = format!("region-{i}");
        let peers = (1..=n)
            .filter(|&j| j != i)
            .map(|j| PeerSpec {
                id: j,
                name: format!("region-{j}"),
                addr: geo_addr(j),
            })
            .collect();
        let spec = RegionSpec {
            node: node_config(i, &name, ids.clone(), shards, resp_addr(i)),
            geo_listen: geo_addr(i),
            geo_advertise: None,
            peers,
            tls: Some(ca.issue(i).map_err(|e| e.to_string())?),
            batch_max_bytes: config::defaults::BATCH_MAX_BYTES,
            batch_max_delay: Duration::from_millis(config::defaults::BATCH_MAX_DELAY_MS),
            heartbeat: Duration::from_millis(config::defaults::HEARTBEAT_MS),
            metrics: metrics_addr(i),
            state_file: None,
        };
        regions.push(start_region(spec).await?);
    }
    println!("Meridian dev group: {n} region(s), {shards} shard(s) each, linked over QUIC with mutual TLS");
    for i in 1..=n {
        let metrics = metrics_addr(i)
            .map(|a| format!(", metrics http://{a}/metrics"))
            .unwrap_or_default();
        println!(
            "  region-{i}: redis://{}  (geo-replication {}{metrics})",
            resp_addr(i),
            geo_addr(i)
        );
    }
    if n > 1 {
        println!(
            "Try: redis-cli -p {} SET greeting hello && redis-cli -p {} GET greeting",
            base_port,
            base_port + 1
        );
    } else {
        println!("Try: redis-cli -p {base_port} PING");
    }
    println!("Ctrl-C stops the group.");
    Ok(regions)
}

/// `meridian server`: one region from its config.
pub async fn server(cfg: config::Config) -> Result<Vec<Region>, String> {
    let regions: Vec<RegionId> = std::iter::once(cfg.region.id.get())
        .chain(cfg.peers.iter().map(|p| p.id.get()))
        .map(RegionId)
        .collect();
    let tls = match &cfg.tls {
        Some(t) => {
            let mut m =
                georep::tls::load_pem(&t.ca, &t.cert, &t.key).map_err(|e| format!("[tls]: {e}"))?;
            m.revoked = t.revoked.clone();
            Some(m)
        }
        None => None,
    };
    let mut node = node_config(
        cfg.region.id.get(),
        cfg.region.name.as_str(),
        regions,
        cfg.server.shards,
        cfg.server.bind,
    );
    node.password = cfg.server.password.clone();
    node.protected_mode = cfg.server.protected_mode;
    node.max_clients = cfg.server.max_clients;
    node.limits.proto_max_bulk_len = cfg.limits.proto_max_bulk_len as u64;
    node.query_buffer_limit = cfg.limits.client_query_buffer_limit;
    node.backlog_bytes = cfg.geo.backlog_bytes;
    let spec = RegionSpec {
        node,
        geo_listen: cfg.geo.listen,
        geo_advertise: cfg.geo.advertise,
        peers: cfg
            .peers
            .iter()
            .map(|p| PeerSpec {
                id: p.id.get(),
                name: p.name.as_str().to_string(),
                addr: p.addr,
            })
            .collect(),
        tls,
        batch_max_bytes: cfg.geo.batch_max_bytes,
        batch_max_delay: cfg.geo.batch_max_delay,
        heartbeat: cfg.geo.heartbeat,
        metrics: cfg.metrics,
        state_file: cfg.group_state_file.clone(),
    };
    let region = start_region(spec).await?;
    println!(
        "Meridian region {} ({}) serving redis://{}",
        cfg.region.name.as_str(),
        cfg.region.id.get(),
        cfg.server.bind
    );
    Ok(vec![region])
}

/// `meridian certs`: a group CA and a certificate per region, as PEM files.
pub fn write_certs(out: &Path, regions: &[u8]) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let ca = georep::tls::DevCa::new().map_err(|e| e.to_string())?;
    let write = |name: String, text: &str| {
        std::fs::write(out.join(&name), text)
            .map_err(|e| format!("{}: {e}", out.join(name).display()))
    };
    write("ca.pem".into(), &ca.ca_pem())?;
    for &r in regions {
        if r == 0 {
            return Err("region ids start at 1".into());
        }
        let (cert, key) = ca.issue_pem(r).map_err(|e| e.to_string())?;
        write(format!("region-{r}.pem"), &cert)?;
        write(format!("region-{r}.key"), &key)?;
        let fp = georep::tls::pem_fingerprint(&cert).map_err(|e| e.to_string())?;
        println!("region-{r}.pem sha256 fingerprint {fp}");
    }
    println!(
        "wrote ca.pem and {} region certificate(s) to {}",
        regions.len(),
        out.display()
    );
    Ok(())
}
