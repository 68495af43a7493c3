//! The node: spawns a region's shards on their own arbiters, accepts client connections and
//! spreads them over those arbiters, and routes remote deltas to shards by slot.
//!
//! State: the shards' addresses and arbiters, their replication logs, the region clock, the
//! client registry and counters, and the geo-replication control (set by the binary, which
//! owns the `georep` links; this crate only sees the [`GeoControl`] trait).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use actix::prelude::*;
use actix_rt::{Arbiter, ArbiterHandle};
use bytes::Bytes;
use crdt::RegionId;

use crate::clock::RegionClock;
use crate::pubsub::Hub;
use crate::repl::{is_report, op_slot, ReplLog};
use crate::shard::{slot_shard, ApplyRemote, Shard, ShardContext, SLOTS};

/// What a node needs to know (built from the `config` crate by the binary, or by `dev`).
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// This region.
    pub region: RegionId,
    /// Its name.
    pub name: String,
    /// Every region of the group, this one included.
    pub regions: Vec<RegionId>,
    /// Number of shards (and arbiters).
    pub shards: u16,
    /// Client address.
    pub bind: SocketAddr,
    /// `requirepass`.
    pub password: Option<String>,
    /// Refuse non-loopback clients when there is no password.
    pub protected_mode: bool,
    /// `maxclients`.
    pub max_clients: usize,
    /// Input limits.
    pub limits: resp::Limits,
    /// `client-query-buffer-limit`.
    pub query_buffer_limit: usize,
    /// Replication backlog per shard, bytes.
    pub backlog_bytes: usize,
}

impl NodeConfig {
    /// Whether the region has peers (then FLUSHALL is refused and deltas are logged).
    pub fn linked(&self) -> bool {
        self.regions.len() > 1
    }
}

/// One peer link as the admin commands report it.
#[derive(Clone, Debug, Default)]
pub struct LinkInfo {
    /// Peer region id.
    pub peer: u8,
    /// Peer name.
    pub name: String,
    /// Peer geo address.
    pub addr: String,
    /// `connecting`, `connected`, `paused` or `needs_full_sync`.
    pub state: String,
    /// Ops not yet acknowledged by the peer.
    pub lag_ops: u64,
    /// Age of the oldest unacknowledged op.
    pub lag_ms: u64,
    /// Bytes of replication log held for this peer (its unacknowledged ops).
    pub backlog_bytes: u64,
    /// Ops sent.
    pub sent_ops: u64,
    /// Ops acknowledged.
    pub acked_ops: u64,
    /// Ops received from the peer and applied.
    pub received_ops: u64,
    /// Outbound connections established.
    pub connects: u64,
    /// Times a shard stream needed a full sync.
    pub full_syncs_needed: u64,
    /// Whether the peer's connection to us is up.
    pub inbound_connected: bool,
    /// Last link error.
    pub last_error: Option<String>,
}

/// See [`Node::replication_health`].
#[derive(Clone, Debug)]
pub struct ReplicationHealth {
    /// `standalone`, `active`, `leaving`, `removed` or `unlinked`.
    pub state: String,
    /// Active members of the group, this region included.
    pub members: usize,
    /// Member (active or leaving) or standalone.
    pub in_group: bool,
    /// `CRDT.PAUSE` is in force.
    pub paused: bool,
    /// In the group and not leaving it, not paused, every link connected.
    pub healthy: bool,
}

/// Control of the region's geo-replication, implemented by the binary over `georep`.
pub trait GeoControl: Send + Sync + 'static {
    /// Status of every peer link.
    fn links(&self) -> Pin<Box<dyn Future<Output = Vec<LinkInfo>> + Send>>;
    /// Stops exchanging deltas (both directions), losing nothing.
    fn pause(&self);
    /// Restarts exchanging deltas.
    fn resume(&self);
    /// Whether paused.
    fn is_paused(&self) -> bool;
    /// `CRDT.GROUP <subcommand> [args]`: a membership command. `Ok` lines are answered as
    /// an array of bulk strings (none: `+OK`); `Err` is the error reply's text.
    fn group(
        &self,
        args: Vec<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<String>, String>> + Send>>;
    /// This region's standing in its group (`standalone`, `active`, `removed`,
    /// `unlinked`) and how many active members the group has.
    fn membership(&self) -> (String, usize);
}

/// A connected client, for CLIENT LIST / INFO.
#[derive(Clone, Debug)]
pub struct ClientEntry {
    /// Peer address.
    pub addr: SocketAddr,
    /// Local address.
    pub laddr: SocketAddr,
    /// CLIENT SETNAME.
    pub name: Option<Bytes>,
    /// Connected since.
    pub since: Instant,
    /// RESP version.
    pub resp: u8,
    /// CLIENT SETINFO lib-name.
    pub lib_name: Option<Bytes>,
    /// CLIENT SETINFO lib-ver.
    pub lib_ver: Option<Bytes>,
}

/// Counters for INFO stats.
#[derive(Default, Debug)]
pub struct NodeStats {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections refused (maxclients, protected mode).
    pub rejected: AtomicU64,
    /// Commands processed (all kinds).
    pub commands: AtomicU64,
    /// Bytes read from clients.
    pub net_input: AtomicU64,
    /// Bytes written to clients.
    pub net_output: AtomicU64,
    /// Full snapshots installed (this region's data replaced by a peer's).
    pub full_syncs_installed: AtomicU64,
}

/// A point-in-time copy of the node's state (see [`Node::snapshot`]).
#[derive(Debug, Default)]
pub struct NodeSnapshot {
    /// Per shard: the offset its stream continues at.
    pub offsets: Vec<u64>,
    /// Per origin stream `(region, shard)`, this region's included: stamp of the last op
    /// the state holds.
    pub received: Vec<(u8, u16, u64)>,
    /// Shard count per origin, this region's included.
    pub origin_shards: Vec<(u8, u16)>,
    /// The entries, in chunks (see [`crate::shard::sync::decode_chunk`]).
    pub chunks: Vec<Bytes>,
}

pub(crate) struct Inner {
    pub cfg: NodeConfig,
    /// The members of the group now, this region included (starts as `cfg.regions`).
    pub regions: std::sync::RwLock<Vec<RegionId>>,
    pub shards: Vec<Addr<Shard>>,
    pub arbiters: Vec<ArbiterHandle>,
    pub logs: Vec<Arc<ReplLog>>,
    pub clock: Arc<RegionClock>,
    pub geo: OnceLock<Arc<dyn GeoControl>>,
    pub clients: Mutex<BTreeMap<u64, ClientEntry>>,
    pub next_client: AtomicU64,
    pub next_arbiter: AtomicUsize,
    pub stats: NodeStats,
    pub started: Instant,
    pub run_id: String,
    /// Slot → shard index.
    pub slot_map: Vec<u16>,
    /// Pub/Sub subscriptions of this node's clients.
    pub hub: Arc<Hub>,
    /// Keep the arbiters alive for the node's lifetime.
    _owned: Vec<Arbiter>,
}

/// A running node. Cheap to clone.
#[derive(Clone)]
pub struct Node {
    pub(crate) inner: Arc<Inner>,
}

impl Node {
    /// Every shard's counters, added up (INFO, metrics).
    pub async fn shard_stats(&self) -> crate::shard::ShardStats {
        let mut stats = crate::shard::ShardStats::default();
        for s in &self.inner.shards {
            if let Ok(x) = s.send(crate::shard::Stats).await {
                stats.add(&x);
            }
        }
        stats
    }

    /// Status of every peer link (none when the region has no peers).
    pub async fn links(&self) -> Vec<LinkInfo> {
        match self.inner.geo.get() {
            Some(g) => g.links().await,
            None => Vec::new(),
        }
    }

    /// Starts the shards, each on its own arbiter (thread). Must run inside an actix system.
    pub fn start(cfg: NodeConfig, clock: Arc<RegionClock>) -> Node {
        let n = cfg.shards.max(1);
        let mut shards = Vec::new();
        let mut arbiters = Vec::new();
        let mut owned = Vec::new();
        let mut logs = Vec::new();
        // Randomness comes from the injected clock, so a simulated clock repeats a run.
        let seed = clock.now_ms() ^ (u64::from(cfg.region.0) << 56);
        let hub = Arc::new(Hub::default());
        for index in 0..n {
            let arb = Arbiter::new();
            let peers = cfg
                .regions
                .iter()
                .filter(|r| **r != cfg.region)
                .map(|r| r.0);
            let log = Arc::new(ReplLog::new(cfg.backlog_bytes, peers));
            let ctx = ShardContext {
                index,
                shards: n,
                region: cfg.region,
                regions: cfg.regions.clone(),
                clock: clock.clone(),
                log: cfg.linked().then(|| log.clone()),
                seed: seed ^ (u64::from(index) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                hub: hub.clone(),
            };
            let addr = Shard::start_in_arbiter(&arb.handle(), move |_| Shard::new(ctx));
            shards.push(addr);
            arbiters.push(arb.handle());
            owned.push(arb);
            logs.push(log);
        }
        let slot_map = (0..SLOTS as u16).map(|s| slot_shard(s, n)).collect();
        let run_id = format!(
            "{:040x}",
            (clock.now_ms() as u128 * 0x9e37_79b9_7f4a_7c15) ^ cfg.region.0 as u128
        );
        Node {
            inner: Arc::new(Inner {
                regions: std::sync::RwLock::new(cfg.regions.clone()),
                cfg,
                shards,
                arbiters,
                logs,
                clock,
                geo: OnceLock::new(),
                clients: Mutex::new(BTreeMap::new()),
                next_client: AtomicU64::new(1),
                next_arbiter: AtomicUsize::new(0),
                stats: NodeStats::default(),
                started: Instant::now(),
                run_id: run_id.chars().take(40).collect(),
                slot_map,
                hub,
                _owned: owned,
            }),
        }
    }

    /// The node's configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.inner.cfg
    }

    /// What `INFO crdt` and `/metrics` report of the region's replication: its standing in
    /// its group, the active members, whether replication is paused, and whether it is
    /// healthy (a member or standalone, not paused, every link connected).
    pub fn replication_health(&self, links: &[LinkInfo]) -> ReplicationHealth {
        let geo = self.inner.geo.get();
        let paused = geo.is_some_and(|g| g.is_paused());
        let (state, members) = match geo {
            Some(g) => g.membership(),
            None => ("standalone".to_string(), 1),
        };
        // A region cut out of its group is not replicating, whatever its links say; one
        // that is leaving it takes no writes.
        let in_group = matches!(state.as_str(), "active" | "standalone" | "leaving");
        ReplicationHealth {
            healthy: in_group
                && state != "leaving"
                && !paused
                && links.iter().all(|l| l.state == "connected"),
            state,
            members,
            in_group,
            paused,
        }
    }

    /// The group's members now, this region included.
    pub fn regions(&self) -> Vec<RegionId> {
        self.inner
            .regions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether the region has other members (then FLUSHALL is refused and deltas are logged).
    pub fn linked(&self) -> bool {
        self.regions().len() > 1
    }

    /// The group's members changed: the shards follow (collection waits for the members
    /// only; a region left alone stops logging deltas), and the logs count the new peers'
    /// acknowledgements.
    pub fn set_regions(&self, mut regions: Vec<RegionId>) {
        let me = self.inner.cfg.region;
        if !regions.contains(&me) {
            regions.push(me);
        }
        regions.sort_unstable();
        regions.dedup();
        {
            let mut r = self
                .inner
                .regions
                .write()
                .unwrap_or_else(|p| p.into_inner());
            if *r == regions {
                return;
            }
            *r = regions.clone();
        }
        let linked = regions.len() > 1;
        let peers: Vec<u8> = regions.iter().filter(|r| **r != me).map(|r| r.0).collect();
        for (shard, log) in self.inner.shards.iter().zip(&self.inner.logs) {
            log.set_peers(peers.iter().copied());
            shard.do_send(crate::shard::SetRegions {
                regions: regions.clone(),
                log: linked.then(|| log.clone()),
            });
        }
        tracing::info!(members = ?regions.iter().map(|r| r.0).collect::<Vec<_>>(), "group members changed");
    }

    /// `group flush`: deletes every key with a replicated DEL (see
    /// [`crate::shard::exec::FlushGroup`]). Returns how many keys were deleted.
    pub async fn flush_group(&self) -> u64 {
        let mut n = 0;
        for s in &self.inner.shards {
            let mut from_slot = 0;
            loop {
                match s.send(crate::shard::exec::FlushGroup { from_slot }).await {
                    Ok((deleted, next)) => {
                        n += deleted;
                        match next {
                            Some(next) => from_slot = next,
                            None => break,
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "a shard did not take the group flush");
                        break;
                    }
                }
            }
        }
        n
    }

    /// Fences the region (`true`) while it leaves its group gracefully: every shard refuses
    /// writes and appends nothing more to its log. Returns each shard's log head once every
    /// command that came before is executed: what every member must acknowledge before the
    /// region may leave. `false` lifts the fence.
    pub async fn fence(&self, on: bool) -> Vec<u64> {
        for s in &self.inner.shards {
            if let Err(e) = s.send(crate::shard::Fence(on)).await {
                tracing::error!(error = %e, "a shard did not take the fence");
            }
        }
        self.inner.logs.iter().map(|l| l.head()).collect()
    }

    /// Empties the region: every key, and the replication logs (which restart at offset
    /// 1, so the streams need a new incarnation). For a purge, or a region joining a group.
    pub async fn purge(&self) {
        for (s, log) in self.inner.shards.iter().zip(&self.inner.logs) {
            let _ = s.send(crate::shard::Purge { log: log.clone() }).await;
        }
    }

    /// The shards' replication logs (read by the geo-links).
    pub fn logs(&self) -> &[Arc<ReplLog>] {
        &self.inner.logs
    }

    /// The region clock.
    pub fn clock(&self) -> &Arc<RegionClock> {
        &self.inner.clock
    }

    /// Connects the geo-replication control (once).
    pub fn set_geo(&self, geo: Arc<dyn GeoControl>) {
        if self.inner.geo.set(geo).is_err() {
            tracing::warn!("geo control set twice; keeping the first");
        }
    }

    /// Applies one batch of a remote origin stream: each shard gets its ops (in stream
    /// order) and the batch's last stamp. Returns once every shard has applied them.
    pub async fn apply_remote(
        &self,
        origin: RegionId,
        origin_shards: u16,
        origin_shard: u16,
        ops: Vec<(u64, Bytes)>,
    ) {
        let last_hlc = ops.last().map(|o| o.0).unwrap_or(0);
        let n = self.inner.shards.len();
        let mut per: Vec<Vec<(u64, Bytes)>> = vec![Vec::new(); n];
        for (hlc, op) in ops {
            if is_report(&op) {
                for p in per.iter_mut() {
                    p.push((hlc, op.clone()));
                }
                continue;
            }
            // An op with a bad prefix still goes to a shard, which counts and logs it.
            let shard = op_slot(&op)
                .map(|s| self.inner.slot_map[s as usize] as usize)
                .unwrap_or(0);
            per[shard].push((hlc, op));
        }
        let mut pending = Vec::with_capacity(n);
        for (i, ops) in per.into_iter().enumerate() {
            pending.push(self.inner.shards[i].send(ApplyRemote {
                origin,
                origin_shards,
                origin_shard,
                last_hlc,
                ops,
            }));
        }
        for p in pending {
            if let Err(e) = p.await {
                tracing::error!(error = %e, "a shard did not take remote ops");
            }
        }
    }

    /// What the state holds of every other region's streams: per origin stream `(region,
    /// shard)`, the stamp of the last op every shard merged (as a snapshot would say).
    pub async fn received(&self) -> Vec<(u8, u16, u64)> {
        let me = self.inner.cfg.region.0;
        let pending: Vec<_> = self
            .inner
            .shards
            .iter()
            .map(|s| s.send(crate::shard::sync::GetReceived))
            .collect();
        let mut received: BTreeMap<(u8, u16), u64> = BTreeMap::new();
        for p in pending {
            match p.await {
                Ok(list) => held_by_every_shard(&mut received, list),
                Err(e) => tracing::error!(error = %e, "a shard did not report what it received"),
            }
        }
        received
            .into_iter()
            .filter(|&((r, _), _)| r != me)
            .map(|((r, s), h)| (r, s, h))
            .collect()
    }

    /// A snapshot of every shard. The caller makes sure no remote batch is being applied
    /// meanwhile (so every shard holds the same prefix of each origin stream).
    pub async fn snapshot(&self) -> Result<NodeSnapshot, String> {
        let me = self.inner.cfg.region.0;
        let pending: Vec<_> = self
            .inner
            .shards
            .iter()
            .map(|s| s.send(crate::shard::sync::TakeSnapshot))
            .collect();
        let mut out = NodeSnapshot::default();
        let mut received: BTreeMap<(u8, u16), u64> = BTreeMap::new();
        let mut shards_of: BTreeMap<u8, u16> = BTreeMap::new();
        shards_of.insert(me, self.inner.shards.len() as u16);
        for (i, p) in pending.into_iter().enumerate() {
            let s = p.await.map_err(|e| format!("shard {i}: {e}"))?;
            out.offsets.push(s.offset);
            received.insert((me, i as u16), s.own_stamp);
            held_by_every_shard(&mut received, s.received);
            shards_of.extend(s.origin_shards);
            out.chunks.extend(s.chunks);
        }
        out.received = received.into_iter().map(|((r, s), h)| (r, s, h)).collect();
        out.origin_shards = shards_of.into_iter().collect();
        Ok(out)
    }

    /// A full snapshot starts arriving (attempt `attempt`).
    pub async fn install_begin(&self, attempt: u64) {
        for s in &self.inner.shards {
            let _ = s.send(crate::shard::sync::InstallBegin { attempt }).await;
        }
    }

    /// One chunk of it: its entries go to the shards owning their slots.
    pub async fn install_chunk(&self, attempt: u64, data: &[u8]) -> Result<(), String> {
        let n = self.inner.shards.len();
        let mut per: Vec<Vec<(u16, Vec<u8>, crdt::Entry)>> = vec![Vec::new(); n];
        for (slot, key, e) in crate::shard::sync::decode_chunk(data)? {
            per[self.inner.slot_map[slot as usize] as usize].push((slot, key, e));
        }
        for (i, entries) in per.into_iter().enumerate() {
            if entries.is_empty() {
                continue;
            }
            self.inner.shards[i]
                .send(crate::shard::sync::InstallEntries { attempt, entries })
                .await
                .map_err(|e| format!("shard {i}: {e}"))?;
        }
        Ok(())
    }

    /// The snapshot is complete: it becomes every shard's state. The caller makes sure no
    /// remote batch is being applied meanwhile.
    pub async fn install_end(
        &self,
        attempt: u64,
        received: Vec<(u8, u16, u64)>,
        origin_shards: Vec<(u8, u16)>,
    ) -> Result<crate::shard::sync::InstallReport, String> {
        let pending: Vec<_> = self
            .inner
            .shards
            .iter()
            .map(|s| {
                s.send(crate::shard::sync::InstallEnd {
                    attempt,
                    received: received.clone(),
                    origin_shards: origin_shards.clone(),
                })
            })
            .collect();
        let mut total = crate::shard::sync::InstallReport::default();
        let mut failed = None;
        for (i, p) in pending.into_iter().enumerate() {
            match p.await {
                Ok(Ok(r)) => {
                    total.entries += r.entries;
                    total.replayed += r.replayed;
                    total.lost_own_writes |= r.lost_own_writes;
                }
                Ok(Err(e)) => failed = Some(format!("shard {i}: {e}")),
                Err(e) => failed = Some(format!("shard {i}: {e}")),
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        self.inner
            .stats
            .full_syncs_installed
            .fetch_add(1, Ordering::Relaxed);
        Ok(total)
    }

    /// Accepts clients on `listener` until the system stops, handing each connection to one
    /// of the shard arbiters in turn (so a connection's commands usually run next to a shard).
    pub async fn serve(self, listener: tokio::net::TcpListener) {
        loop {
            let (sock, addr) = match listener.accept().await {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            self.inner.stats.connections.fetch_add(1, Ordering::Relaxed);
            let std = match sock.into_std() {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "could not hand over a connection");
                    continue;
                }
            };
            let i =
                self.inner.next_arbiter.fetch_add(1, Ordering::Relaxed) % self.inner.arbiters.len();
            let node = self.clone();
            let spawned = self.inner.arbiters[i].spawn(async move {
                match tokio::net::TcpStream::from_std(std) {
                    Ok(s) => crate::proxy::serve_tcp(node, s, addr).await,
                    Err(e) => tracing::warn!(error = %e, "could not register a connection"),
                }
            });
            if !spawned {
                tracing::error!("shard arbiter is gone; dropping a connection");
            }
        }
    }
}

/// Folds one shard's received stamps into `acc`: equal in every shard when no batch is
/// being applied; the lowest is the prefix every shard holds.
fn held_by_every_shard(acc: &mut BTreeMap<(u8, u16), u64>, shard: Vec<(u8, u16, u64)>) {
    for (r, sh, h) in shard {
        let e = acc.entry((r, sh)).or_insert(h);
        *e = (*e).min(h);
    }
}
