//! Meridian geo-replication: streams this region's replication logs to every
//! other region over QUIC with mutual TLS, and applies what they stream to us.
//!
//! Layout follows quinn-proto: [`proto`] is the sans-IO core (offsets,
//! windows, resume, dedup, lag), [`wire`] the message format, and `link` the
//! thin QUIC/actix shell around them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod group;
mod link;
pub mod members;
pub mod proto;
pub mod tls;
pub mod wire;

pub use group::MembershipHook;
use group::Registry;
use link::{GetStatus, LinkShared};
use members::{Member, MemberState, Members};

/// A region of the group (at most a handful).
pub type RegionId = u8;

/// What a log read returns (same shape as the caller's log type; the caller adapts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    Ops {
        first: u64,
        ops: Vec<(u64, bytes::Bytes)>,
    },
    UpToDate {
        next: u64,
    },
    Trimmed {
        first_available: u64,
    },
}

/// The local region's replication logs, one per shard.
pub trait LocalLog: Send + Sync + 'static {
    fn shards(&self) -> u16;
    /// Ops at offsets >= `from`, at most about `max_bytes` (at least one op if any).
    fn read(&self, shard: u16, from: u64, max_bytes: usize) -> Read;
    /// Offset the next appended op will get (so `next - 1` is the head).
    fn next_offset(&self, shard: u16) -> u64;
    /// HLC of the op at `offset` if still held (for lag in ms).
    fn hlc_at(&self, shard: u16, offset: u64) -> Option<u64>;
    /// Bytes of the held ops at or after `offset` (a peer's unacknowledged backlog).
    fn bytes_from(&self, shard: u16, offset: u64) -> u64;
    /// Wakes when shard's head moves (value = next offset).
    fn subscribe(&self, shard: u16) -> tokio::sync::watch::Receiver<u64>;
    /// Every peer has acknowledged shard's ops below `offset` for `peer` (lets the log trim / GC; may be a no-op).
    /// Called by `peer`'s link on each ack that advances; the log combines peers.
    fn acked(&self, peer: RegionId, shard: u16, offset: u64);
    /// The offset of the first op stamped above `stamp` (the next offset if there is none),
    /// or `Err(first_available)` when ops stamped above it were trimmed.
    fn offset_after(&self, shard: u16, stamp: u64) -> Result<u64, u64>;
}

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// What a full snapshot holds besides its data: where the source's streams continue and
/// how much of every origin's stream the state contains.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotMeta {
    /// Per shard of the source: the offset its stream continues at after the snapshot.
    pub offsets: Vec<u64>,
    /// Per origin stream `(region, shard)`, the source's own included: the stamp of the
    /// last op of it that the state holds (the stream is complete up to it).
    pub received: Vec<(RegionId, u16, u64)>,
    /// How many shards (streams) each origin named in `received` has.
    pub origin_shards: Vec<(RegionId, u16)>,
    /// Per region: the incarnations (processes) the source holds ops of.
    pub seen: Vec<(RegionId, Vec<u64>)>,
}

/// A point-in-time copy of a region's state: opaque chunks plus [`SnapshotMeta`].
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub meta: SnapshotMeta,
    pub chunks: Vec<bytes::Bytes>,
}

/// Full sync: taking a snapshot of the local state, and replacing the local state by a
/// peer's. The links call `snapshot` and `install_end` while no remote batch is being
/// applied, so every shard's state holds the same prefix of every origin stream.
pub trait StateSync: Send + Sync + 'static {
    /// The region's state now, with the log offsets it corresponds to.
    fn snapshot(&self) -> BoxFuture<Result<Snapshot, String>>;
    /// What the state holds of other regions' streams now: `(region, shard, stamp of the
    /// last op held)` (as [`SnapshotMeta::received`] would say).
    fn held(&self) -> BoxFuture<Vec<(RegionId, u16, u64)>>;
    /// Snapshot attempt `attempt` from `source` starts arriving (dropping what an earlier
    /// attempt left); the state in force stays until the end.
    fn install_begin(&self, source: RegionId, attempt: u64) -> BoxFuture<()>;
    /// One chunk of it (ignored if another attempt began since).
    fn install_chunk(&self, attempt: u64, data: bytes::Bytes) -> BoxFuture<Result<(), String>>;
    /// The whole snapshot arrived: it becomes the region's state (plus the region's own
    /// writes that `meta` says the source did not have yet, replayed from its own log).
    fn install_end(
        &self,
        attempt: u64,
        source: RegionId,
        meta: SnapshotMeta,
    ) -> BoxFuture<Result<(), String>>;
}

/// Applies a remote region's ops locally. Must not return before the ops are applied (the ack follows it).
pub trait RemoteSink: Send + Sync + 'static {
    fn apply(
        &self,
        origin: RegionId,
        origin_shards: u16,
        origin_shard: u16,
        ops: Vec<(u64, bytes::Bytes)>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
}

/// DER material for mutual TLS: the group CA, our chain and our key.
#[derive(Clone)]
pub struct TlsMaterial {
    pub ca_der: Vec<u8>,
    pub cert_chain_der: Vec<Vec<u8>>,
    pub key_der: Vec<u8>,
    /// SHA-256 fingerprints of peer certificates refused although they chain to the CA.
    pub revoked: Vec<[u8; 32]>,
}

impl std::fmt::Debug for TlsMaterial {
    // Never print the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("certs", &self.cert_chain_der.len())
            .finish_non_exhaustive()
    }
}

/// A remote region this one replicates with.
#[derive(Debug, Clone)]
pub struct PeerSpec {
    pub id: RegionId,
    pub name: String,
    pub addr: SocketAddr,
}

/// Everything a [`Geo`] needs.
#[derive(Debug, Clone)]
pub struct GeoConfig {
    pub region: RegionId,
    pub name: String,
    pub listen: SocketAddr,
    /// The address peers dial to reach `listen`, if not `listen` itself (recorded in the
    /// membership table).
    pub advertise: Option<SocketAddr>,
    pub peers: Vec<PeerSpec>,
    pub tls: TlsMaterial,
    pub batch_max_bytes: usize,
    pub batch_max_delay: Duration,
    /// QUIC keep-alive; idle timeout = max(3 × heartbeat, 1 s).
    pub heartbeat: Duration,
    /// Random per process start; a receiver that sees a new incarnation of an
    /// origin restarts that origin's offsets at 1.
    pub incarnation: u64,
    /// The membership table kept from an earlier run (empty: none). `peers` from the
    /// configuration are merged in as records of stamp 0, so any change made at run time
    /// wins over them.
    pub members: Members,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Connected,
    Paused,
    /// The peer cannot resume our stream from our log; it needs a full snapshot.
    NeedsFullSync,
    /// A full snapshot is being sent to the peer.
    Syncing,
}

#[derive(Debug, Clone)]
pub struct LinkStatus {
    pub peer: RegionId,
    pub name: String,
    pub addr: SocketAddr,
    pub state: LinkState,
    /// Σ over shards (next_offset - 1 - acked).
    pub lag_ops: u64,
    /// now_ms - (hlc >> 16) of the oldest unacked op, 0 if none.
    pub lag_ms: u64,
    /// Bytes of log held for this peer: the ops it has not acknowledged.
    pub backlog_bytes: u64,
    pub sent_ops: u64,
    pub acked_ops: u64,
    /// Inbound from this peer, applied.
    pub received_ops: u64,
    /// Successful outbound connections established (1 + reconnects).
    pub connects: u64,
    /// Times our log could not resume this peer's copy of our stream (each needs a full
    /// snapshot, from us or another member).
    pub full_syncs_needed: u64,
    pub last_error: Option<String>,
    pub inbound_connected: bool,
    /// Per shard of our stream: the next offset the peer expects (it acknowledged
    /// everything below it).
    pub acked: Vec<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("tls: {0}")]
    Tls(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("config: {0}")]
    Config(String),
}

/// What the receiver side remembers per origin (next expected offsets),
/// shareable so a restarted [`Geo`] can keep it.
pub type ReceiverState = Arc<Mutex<proto::ReceiverMemory>>;

/// A bound but not yet started endpoint: lets callers learn the address
/// (port 0) before the peer lists are built.
pub struct Bound {
    cfg: GeoConfig,
    endpoint: quinn::Endpoint,
    client_cfg: quinn::ClientConfig,
    local_addr: SocketAddr,
    memory: ReceiverState,
    hook: Option<Arc<dyn MembershipHook>>,
}

impl Bound {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Replaces the peer list from the config.
    pub fn set_peers(&mut self, peers: Vec<PeerSpec>) {
        self.cfg.peers = peers;
    }

    /// Keeps the receiver memory of a previous run (e.g. a restarted endpoint).
    pub fn with_receiver_state(mut self, memory: ReceiverState) -> Self {
        self.memory = memory;
        self
    }

    /// Tells `hook` of every change of the membership table (to persist it and follow it).
    pub fn with_membership_hook(mut self, hook: Arc<dyn MembershipHook>) -> Self {
        self.hook = Some(hook);
        self
    }

    /// The address peers reach this endpoint at.
    pub fn advertised(&self) -> SocketAddr {
        self.cfg.advertise.unwrap_or(self.local_addr)
    }

    /// The table the endpoint starts with: the one kept from an earlier run, plus the
    /// configured peers and this region as records of stamp 0 when there are peers.
    fn initial_members(&self) -> Members {
        let mut m = self.cfg.members.clone();
        if !self.cfg.peers.is_empty() {
            let seed = |id, name: &str, addr| Member {
                id,
                name: name.to_string(),
                addr,
                state: MemberState::Active,
                stamp: 0,
                by: 0,
            };
            m.merge_record(seed(self.cfg.region, &self.cfg.name, self.advertised()));
            for p in &self.cfg.peers {
                m.merge_record(seed(p.id, &p.name, p.addr));
            }
        }
        m
    }

    /// Starts one `Link` actor per peer and the acceptor. Needs a running actix System.
    /// With `state`, the region sends and takes full snapshots (a peer that restarted
    /// empty, or that our log can no longer resume); without it, a stream our log cannot
    /// resume stops in `NeedsFullSync`.
    pub fn start(
        self,
        log: Arc<dyn LocalLog>,
        sink: Arc<dyn RemoteSink>,
        state: Option<Arc<dyn StateSync>>,
    ) -> Result<Geo, Error> {
        let members = self.initial_members();
        let Bound {
            cfg,
            endpoint,
            client_cfg,
            local_addr,
            memory,
            hook,
        } = self;
        let mut seen = std::collections::BTreeSet::new();
        for p in &cfg.peers {
            if p.id == cfg.region || !seen.insert(p.id) {
                return Err(Error::Config(format!(
                    "peer id {} duplicated or equal to our region",
                    p.id
                )));
            }
        }
        let revoked = Arc::new(tls::Revoked::new(cfg.tls.revoked.clone()));
        if let Ok(mut m) = memory.lock() {
            m.set_local(cfg.incarnation, state.is_some());
        }
        let gate = Arc::new(tokio::sync::RwLock::new(()));
        let paused = Arc::new(AtomicBool::new(false));
        let registry = Arc::new(Registry::new(cfg.region, members, hook, paused.clone()));
        let shared = Arc::new(LinkShared {
            registry: Arc::downgrade(&registry),
            memory: memory.clone(),
            state: state.clone(),
            gate: gate.clone(),
            revoked: revoked.clone(),
            region: cfg.region,
            incarnation: AtomicU64::new(cfg.incarnation),
            endpoint: endpoint.clone(),
            client_cfg,
            log,
            batch_max_bytes: cfg.batch_max_bytes,
            batch_max_delay: cfg.batch_max_delay,
            handshake_timeout: idle_timeout(cfg.heartbeat).max(Duration::from_secs(5)),
        });
        registry.start(shared.clone());
        let acceptor = tokio::spawn(link::accept_loop(link::AcceptCtx {
            region: cfg.region,
            endpoint: endpoint.clone(),
            registry: registry.clone(),
            memory: memory.clone(),
            sink,
            paused: paused.clone(),
            handshake_timeout: shared.handshake_timeout,
            revoked,
            state,
            gate,
        }));
        tracing::info!(region = cfg.region, name = %cfg.name, %local_addr, peers = registry.links().len(), "geo-replication started");
        Ok(Geo {
            inner: Arc::new(Inner {
                endpoint,
                local_addr,
                advertise: cfg.advertise,
                registry,
                shared,
                paused,
                memory,
                acceptor: Mutex::new(Some(acceptor)),
            }),
        })
    }
}

struct Inner {
    endpoint: quinn::Endpoint,
    local_addr: SocketAddr,
    advertise: Option<SocketAddr>,
    registry: Arc<Registry>,
    shared: Arc<LinkShared>,
    paused: Arc<AtomicBool>,
    memory: ReceiverState,
    acceptor: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// Handle to the running geo-replication of this region (cheap to clone).
/// Dropping it does not stop the links; call [`Geo::shutdown`] for that.
#[derive(Clone)]
pub struct Geo {
    inner: Arc<Inner>,
}

fn idle_timeout(heartbeat: Duration) -> Duration {
    heartbeat.saturating_mul(3).max(Duration::from_secs(1))
}

impl Geo {
    /// Binds the QUIC endpoint on `cfg.listen` without starting links (see [`Bound::start`]).
    /// Needs a tokio runtime.
    pub fn bind(cfg: GeoConfig) -> Result<Bound, Error> {
        let mut transport = quinn::TransportConfig::default();
        let idle = quinn::IdleTimeout::try_from(idle_timeout(cfg.heartbeat))
            .map_err(|e| Error::Config(format!("idle timeout: {e}")))?;
        transport
            .keep_alive_interval(Some(cfg.heartbeat.max(Duration::from_millis(10))))
            .max_idle_timeout(Some(idle));
        let transport = Arc::new(transport);
        let server_cfg = tls::server_config(&cfg.tls, transport.clone())?;
        let client_cfg = tls::client_config(&cfg.tls, transport)?;
        let endpoint = quinn::Endpoint::server(server_cfg, cfg.listen)?;
        let local_addr = endpoint.local_addr()?;
        Ok(Bound {
            cfg,
            endpoint,
            client_cfg,
            local_addr,
            memory: Arc::new(Mutex::new(proto::ReceiverMemory::new())),
            hook: None,
        })
    }

    /// Binds the QUIC endpoint on cfg.listen and starts one `Link` actor per
    /// peer plus the acceptor. Must be called inside a running actix System.
    pub async fn start(
        cfg: GeoConfig,
        log: Arc<dyn LocalLog>,
        sink: Arc<dyn RemoteSink>,
        state: Option<Arc<dyn StateSync>>,
    ) -> Result<Geo, Error> {
        Geo::bind(cfg)?.start(log, sink, state)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr
    }

    /// The address peers reach this endpoint at (`advertise`, else the bound address).
    pub fn advertised(&self) -> SocketAddr {
        self.inner.advertise.unwrap_or(self.inner.local_addr)
    }

    /// The receiver memory, to hand to a restarted endpoint.
    pub fn receiver_state(&self) -> ReceiverState {
        self.inner.memory.clone()
    }

    /// Status of every link, ordered by peer id.
    pub async fn links(&self) -> Vec<LinkStatus> {
        let links = self.inner.registry.links();
        let mut out = Vec::with_capacity(links.len());
        for addr in &links {
            if let Ok(s) = addr.send(GetStatus).await {
                out.push(s);
            }
        }
        out
    }

    /// Stops exchanging deltas in both directions; nothing is lost.
    pub fn pause(&self) {
        self.inner.paused.store(true, Ordering::SeqCst);
        for addr in self.inner.registry.links() {
            addr.do_send(link::Pause);
        }
    }

    /// Dials and accepts again; streams resume from acknowledged offsets.
    pub fn resume(&self) {
        self.inner.paused.store(false, Ordering::SeqCst);
        for addr in self.inner.registry.links() {
            addr.do_send(link::Resume);
        }
    }

    pub fn is_paused(&self) -> bool {
        self.inner.paused.load(Ordering::SeqCst)
    }

    /// The membership table now.
    pub fn members(&self) -> Members {
        self.inner.registry.members()
    }

    /// Changes the membership table here (`f` checks and edits a copy; an error leaves the
    /// table as it was). The change reaches every peer, links follow it, and the hook is
    /// told. Returns what `f` returned.
    pub fn change_members<R>(
        &self,
        f: impl FnOnce(&mut Members) -> Result<R, String>,
    ) -> Result<R, String> {
        self.inner.registry.change(f)
    }

    /// Merges a table from elsewhere (e.g. the group this region is told to join).
    pub fn merge_members(&self, other: &Members) -> bool {
        self.inner.registry.merge(other, self.inner.registry.me())
    }

    /// Starts a new incarnation of this region's streams: its logs were emptied and restart
    /// at offset 1 (a purged or joining region), so peers must forget its old offsets. The
    /// region forgets what it held of every peer's streams too, and, with `sync`, asks the
    /// first peer that connects for a full snapshot. Only while the region has no links.
    pub fn restart_streams(&self, incarnation: u64, sync: Option<String>) {
        self.inner
            .shared
            .incarnation
            .store(incarnation, Ordering::SeqCst);
        if let Ok(mut m) = self.inner.shared.memory.lock() {
            m.restart(incarnation, sync);
        }
    }

    /// Whether this region neither waits for a full snapshot nor takes one now.
    pub fn sync_idle(&self) -> bool {
        self.inner
            .shared
            .memory
            .lock()
            .is_ok_and(|m| *m.sync_state() == proto::SyncState::Idle)
    }

    /// The incarnation the region's streams carry.
    pub fn incarnation(&self) -> u64 {
        self.inner.shared.incarnation.load(Ordering::SeqCst)
    }

    /// Stops the links and closes the endpoint cleanly.
    pub async fn shutdown(&self) {
        for addr in self.inner.registry.stop() {
            let _ = addr.send(link::Stop).await;
        }
        let acceptor = self.inner.acceptor.lock().ok().and_then(|mut a| a.take());
        if let Some(a) = acceptor {
            a.abort();
        }
        self.inner
            .endpoint
            .close(quinn::VarInt::from_u32(wire::code::DONE), b"shutdown");
        let _ = tokio::time::timeout(Duration::from_secs(2), self.inner.endpoint.wait_idle()).await;
    }
}
