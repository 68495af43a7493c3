//! End-to-end geo-links over real QUIC on 127.0.0.1: delivery, pause/resume,
//! peer restart, full mesh of three, foreign CA refused, trimmed log.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use georep::tls::DevCa;
use georep::{
    Geo, GeoConfig, LinkState, LocalLog, PeerSpec, Read, ReceiverState, RegionId, RemoteSink,
};
use tokio::sync::watch;

const SHARDS: u16 = 3;

struct ShardLog {
    first: u64,
    ops: Vec<(u64, Bytes)>,
    tx: watch::Sender<u64>,
}

/// In-memory log: a Vec per shard plus a watch of its next offset.
struct MemLog {
    shards: Mutex<Vec<ShardLog>>,
}

impl MemLog {
    fn new() -> Arc<MemLog> {
        Arc::new(MemLog {
            shards: Mutex::new(
                (0..SHARDS)
                    .map(|_| ShardLog {
                        first: 1,
                        ops: Vec::new(),
                        tx: watch::channel(1).0,
                    })
                    .collect(),
            ),
        })
    }

    fn append(&self, shard: u16, payload: String) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_millis() as u64;
        let mut g = self.shards.lock().expect("lock");
        let s = &mut g[shard as usize];
        s.ops.push((now << 16, Bytes::from(payload)));
        let next = s.first + s.ops.len() as u64;
        s.tx.send_replace(next);
    }

    /// Drops every op below `offset`.
    fn trim(&self, shard: u16, offset: u64) {
        let mut g = self.shards.lock().expect("lock");
        let s = &mut g[shard as usize];
        let n = (offset.saturating_sub(s.first) as usize).min(s.ops.len());
        s.ops.drain(..n);
        s.first += n as u64;
    }
}

impl LocalLog for MemLog {
    fn shards(&self) -> u16 {
        SHARDS
    }
    fn read(&self, shard: u16, from: u64, max_bytes: usize) -> Read {
        let g = self.shards.lock().expect("lock");
        let s = &g[shard as usize];
        let next = s.first + s.ops.len() as u64;
        if from < s.first {
            return Read::Trimmed {
                first_available: s.first,
            };
        }
        if from >= next {
            return Read::UpToDate { next };
        }
        let mut out = Vec::new();
        let mut bytes = 0;
        for op in &s.ops[(from - s.first) as usize..] {
            if !out.is_empty() && bytes + op.1.len() > max_bytes {
                break;
            }
            bytes += op.1.len();
            out.push(op.clone());
        }
        Read::Ops {
            first: from,
            ops: out,
        }
    }
    fn next_offset(&self, shard: u16) -> u64 {
        let g = self.shards.lock().expect("lock");
        let s = &g[shard as usize];
        s.first + s.ops.len() as u64
    }
    fn hlc_at(&self, shard: u16, offset: u64) -> Option<u64> {
        let g = self.shards.lock().expect("lock");
        let s = &g[shard as usize];
        let i = offset.checked_sub(s.first)? as usize;
        s.ops.get(i).map(|o| o.0)
    }
    fn bytes_from(&self, shard: u16, offset: u64) -> u64 {
        let g = self.shards.lock().expect("lock");
        let s = &g[shard as usize];
        let skip = offset.saturating_sub(s.first) as usize;
        s.ops.iter().skip(skip).map(|o| o.1.len() as u64).sum()
    }
    fn subscribe(&self, shard: u16) -> watch::Receiver<u64> {
        self.shards.lock().expect("lock")[shard as usize]
            .tx
            .subscribe()
    }
    fn acked(&self, _peer: RegionId, _shard: u16, _offset: u64) {}
    fn offset_after(&self, shard: u16, stamp: u64) -> Result<u64, u64> {
        let g = self.shards.lock().expect("lock");
        let s = &g[shard as usize];
        // This log does not keep the stamps of trimmed ops: when something was trimmed and
        // no held op is at or below the stamp, it answers "trimmed" (conservative).
        let i = s.ops.partition_point(|o| o.0 <= stamp);
        if i == 0 && s.first > 1 && s.ops.first().is_none_or(|o| o.0 > stamp) {
            return Err(s.first);
        }
        Ok(s.first + i as u64)
    }
}

/// Records every applied op per (origin, shard), in order.
#[derive(Default)]
struct RecSink {
    got: Mutex<BTreeMap<(RegionId, u16), Vec<String>>>,
}

impl RecSink {
    fn ops(&self, origin: RegionId, shard: u16) -> Vec<String> {
        self.got
            .lock()
            .expect("lock")
            .get(&(origin, shard))
            .cloned()
            .unwrap_or_default()
    }
    fn total(&self) -> usize {
        self.got.lock().expect("lock").values().map(Vec::len).sum()
    }
    /// Applied ops of `origin`/`shard` with repeats removed, order kept.
    fn dedup(&self, origin: RegionId, shard: u16) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        self.ops(origin, shard)
            .into_iter()
            .filter(|o| seen.insert(o.clone()))
            .collect()
    }
}

impl RemoteSink for RecSink {
    fn apply(
        &self,
        origin: RegionId,
        origin_shards: u16,
        origin_shard: u16,
        ops: Vec<(u64, Bytes)>,
    ) -> Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        assert_eq!(origin_shards, SHARDS);
        let mut g = self.got.lock().expect("lock");
        let v = g.entry((origin, origin_shard)).or_default();
        for (_, b) in ops {
            v.push(String::from_utf8_lossy(&b).into_owned());
        }
        Box::pin(async {})
    }
}

struct Node {
    id: RegionId,
    geo: Geo,
    log: Arc<MemLog>,
    sink: Arc<RecSink>,
}

fn config(id: RegionId, ca: &DevCa, listen: SocketAddr) -> GeoConfig {
    GeoConfig {
        region: id,
        name: format!("r{id}"),
        listen,
        advertise: None,
        peers: Vec::new(),
        tls: ca.issue(id).expect("issue"),
        batch_max_bytes: 256,
        batch_max_delay: Duration::from_millis(2),
        heartbeat: Duration::from_millis(200),
        incarnation: 1000 + id as u64 + rand_ish(),
        members: Default::default(),
    }
}

fn rand_ish() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_nanos() as u64
}

fn peers_of(id: RegionId, all: &[(RegionId, SocketAddr)]) -> Vec<PeerSpec> {
    all.iter()
        .filter(|(p, _)| *p != id)
        .map(|&(p, addr)| PeerSpec {
            id: p,
            name: format!("r{p}"),
            addr,
        })
        .collect()
}

/// Starts a full mesh of `ids`, each region with a certificate from `ca_of(id)`.
fn mesh(ids: &[RegionId], cas: &[&DevCa]) -> Vec<Node> {
    let mut bound = Vec::new();
    for (i, &id) in ids.iter().enumerate() {
        let b = Geo::bind(config(
            id,
            cas[i % cas.len()],
            "127.0.0.1:0".parse().expect("addr"),
        ))
        .expect("bind");
        bound.push((id, b));
    }
    let addrs: Vec<_> = bound.iter().map(|(id, b)| (*id, b.local_addr())).collect();
    bound
        .into_iter()
        .map(|(id, mut b)| {
            b.set_peers(peers_of(id, &addrs));
            let log = MemLog::new();
            let sink = Arc::new(RecSink::default());
            let geo = b.start(log.clone(), sink.clone(), None).expect("start");
            Node { id, geo, log, sink }
        })
        .collect()
}

async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !f() {
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn expected(origin: RegionId, shard: u16, range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|i| format!("r{origin}-s{shard}-{i}")).collect()
}

fn append(node: &Node, range: std::ops::Range<u32>) {
    for i in range {
        for shard in 0..SHARDS {
            node.log.append(shard, format!("r{}-s{shard}-{i}", node.id));
        }
    }
}

async fn link_to(geo: &Geo, peer: RegionId) -> georep::LinkStatus {
    geo.links()
        .await
        .into_iter()
        .find(|l| l.peer == peer)
        .expect("link")
}

#[actix_rt::test]
async fn two_regions_deliver_in_order_exactly_once() {
    tokio::time::timeout(Duration::from_secs(30), async {
        let ca = DevCa::new().expect("ca");
        let nodes = mesh(&[1, 2], &[&ca]);
        let (a, b) = (&nodes[0], &nodes[1]);
        append(a, 0..200);
        append(b, 0..20);
        eventually("A's ops on B", || b.sink.ops(1, 2).len() >= 200).await;
        eventually("B's ops on A", || a.sink.ops(2, 2).len() >= 20).await;
        for shard in 0..SHARDS {
            assert_eq!(b.sink.ops(1, shard), expected(1, shard, 0..200));
            assert_eq!(a.sink.ops(2, shard), expected(2, shard, 0..20));
        }
        // Once acks are in, the link shows no lag.
        let mut st = link_to(&a.geo, 2).await;
        for _ in 0..100 {
            if st.lag_ops == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            st = link_to(&a.geo, 2).await;
        }
        assert_eq!(st.state, LinkState::Connected);
        assert_eq!(st.lag_ops, 0);
        assert_eq!(st.lag_ms, 0);
        assert_eq!(st.acked_ops, 600);
        assert_eq!(st.sent_ops, 600);
        assert_eq!(st.received_ops, 60);
        assert_eq!(st.connects, 1);
        assert!(st.inbound_connected);
        let links = b.geo.links().await;
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].received_ops, 600);
        a.geo.shutdown().await;
        b.geo.shutdown().await;
    })
    .await
    .expect("test timed out");
}

#[actix_rt::test]
async fn three_regions_full_mesh() {
    tokio::time::timeout(Duration::from_secs(30), async {
        let ca = DevCa::new().expect("ca");
        let nodes = mesh(&[1, 2, 3], &[&ca]);
        for n in &nodes {
            append(n, 0..50);
        }
        for n in &nodes {
            for o in nodes.iter().filter(|o| o.id != n.id) {
                eventually("mesh delivery", || n.sink.ops(o.id, 0).len() >= 50).await;
                for shard in 0..SHARDS {
                    eventually("mesh delivery", || n.sink.ops(o.id, shard).len() >= 50).await;
                    assert_eq!(n.sink.ops(o.id, shard), expected(o.id, shard, 0..50));
                }
            }
            // No relaying: each region gets exactly the others' own ops.
            assert_eq!(n.sink.total(), 2 * 50 * SHARDS as usize);
            let links = n.geo.links().await;
            let ids: Vec<_> = links.iter().map(|l| l.peer).collect();
            let want: Vec<_> = [1, 2, 3].into_iter().filter(|&i| i != n.id).collect();
            assert_eq!(ids, want);
        }
        for n in &nodes {
            n.geo.shutdown().await;
        }
    })
    .await
    .expect("test timed out");
}

#[actix_rt::test]
async fn pause_stops_and_resume_delivers() {
    tokio::time::timeout(Duration::from_secs(30), async {
        let ca = DevCa::new().expect("ca");
        let nodes = mesh(&[1, 2], &[&ca]);
        let (a, b) = (&nodes[0], &nodes[1]);
        append(a, 0..10);
        eventually("first ops", || b.sink.ops(1, 2).len() >= 10).await;

        a.geo.pause();
        assert!(a.geo.is_paused());
        tokio::time::sleep(Duration::from_millis(100)).await;
        append(a, 10..30);
        append(b, 0..5);
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(b.sink.ops(1, 0).len(), 10, "ops crossed a paused link");
        assert!(
            a.sink.ops(2, 0).is_empty(),
            "paused side accepted inbound ops"
        );
        let st = link_to(&a.geo, 2).await;
        assert_eq!(st.state, LinkState::Paused);
        assert_eq!(st.lag_ops, 60);
        assert!(!st.inbound_connected);

        a.geo.resume();
        assert!(!a.geo.is_paused());
        eventually("ops after resume", || b.sink.ops(1, 2).len() >= 30).await;
        eventually("inbound after resume", || a.sink.ops(2, 2).len() >= 5).await;
        for shard in 0..SHARDS {
            assert_eq!(b.sink.dedup(1, shard), expected(1, shard, 0..30));
            assert_eq!(a.sink.dedup(2, shard), expected(2, shard, 0..5));
        }
        a.geo.shutdown().await;
        b.geo.shutdown().await;
    })
    .await
    .expect("test timed out");
}

/// Binds `addr` again, retrying while the old socket is still being released.
async fn rebind(cfg: GeoConfig) -> georep::Bound {
    for _ in 0..100 {
        if let Ok(b) = Geo::bind(cfg.clone()) {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("could not rebind {}", cfg.listen);
}

async fn restart_receiver(keep_memory: bool) {
    let ca = DevCa::new().expect("ca");
    let mut nodes = mesh(&[1, 2], &[&ca]);
    let b = nodes.pop().expect("b");
    let a = nodes.pop().expect("a");
    append(&a, 0..20);
    eventually("first ops", || b.sink.ops(1, 2).len() >= 20).await;
    let b_addr = b.geo.local_addr();
    let memory: ReceiverState = b.geo.receiver_state();
    let old_sink = b.sink.clone();
    b.geo.shutdown().await;
    drop(b);

    // Written while the peer is down.
    append(&a, 20..40);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut cfg = config(2, &ca, b_addr);
    cfg.peers = peers_of(2, &[(1, a.geo.local_addr()), (2, b_addr)]);
    let mut bound = rebind(cfg).await;
    if keep_memory {
        bound = bound.with_receiver_state(memory);
    }
    let sink = if keep_memory {
        old_sink.clone()
    } else {
        Arc::new(RecSink::default())
    };
    let geo = bound
        .start(MemLog::new(), sink.clone(), None)
        .expect("restart");
    let want = 0..40;
    eventually("ops after restart", || {
        (0..SHARDS).all(|s| sink.dedup(1, s).len() >= want.len())
    })
    .await;
    for shard in 0..SHARDS {
        assert_eq!(sink.dedup(1, shard), expected(1, shard, want.clone()));
        if keep_memory {
            // The remembered offsets mean nothing is applied twice.
            assert_eq!(sink.ops(1, shard), expected(1, shard, want.clone()));
        }
    }
    // A's link reconnected (one connection before the restart, one after).
    let st = link_to(&a.geo, 2).await;
    assert_eq!(st.connects, 2);
    assert_eq!(st.state, LinkState::Connected);
    a.geo.shutdown().await;
    geo.shutdown().await;
}

#[actix_rt::test]
async fn restarted_peer_with_memory_resumes_without_loss() {
    tokio::time::timeout(Duration::from_secs(40), restart_receiver(true))
        .await
        .expect("test timed out");
}

#[actix_rt::test]
async fn restarted_peer_without_memory_gets_everything_again() {
    tokio::time::timeout(Duration::from_secs(40), restart_receiver(false))
        .await
        .expect("test timed out");
}

#[actix_rt::test]
async fn foreign_ca_is_refused() {
    tokio::time::timeout(Duration::from_secs(30), async {
        let ca1 = DevCa::new().expect("ca");
        let ca2 = DevCa::new().expect("ca");
        let nodes = mesh(&[1, 2], &[&ca1, &ca2]);
        let (a, b) = (&nodes[0], &nodes[1]);
        append(a, 0..10);
        append(b, 0..10);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(a.sink.total(), 0);
        assert_eq!(b.sink.total(), 0);
        for n in &nodes {
            let st = n.geo.links().await.remove(0);
            assert_eq!(st.connects, 0);
            assert_eq!(st.state, LinkState::Connecting);
            assert!(st.last_error.is_some());
        }
        a.geo.shutdown().await;
        b.geo.shutdown().await;
    })
    .await
    .expect("test timed out");
}

#[actix_rt::test]
async fn trimmed_log_needs_full_sync() {
    tokio::time::timeout(Duration::from_secs(30), async {
        let ca = DevCa::new().expect("ca");
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        let a = Geo::bind(config(1, &ca, addr)).expect("bind");
        let b = Geo::bind(config(2, &ca, addr)).expect("bind");
        let all = [(1, a.local_addr()), (2, b.local_addr())];
        let (log_a, sink_b) = (MemLog::new(), Arc::new(RecSink::default()));
        for i in 0..10 {
            log_a.append(0, format!("old-{i}"));
            log_a.append(1, format!("s1-{i}"));
        }
        log_a.trim(0, 5);
        let mut a = a;
        a.set_peers(peers_of(1, &all));
        let mut b = b;
        b.set_peers(peers_of(2, &all));
        let ga = a
            .start(log_a.clone(), Arc::new(RecSink::default()), None)
            .expect("start");
        let gb = b.start(MemLog::new(), sink_b.clone(), None).expect("start");
        eventually("shard 1 delivered", || sink_b.ops(1, 1).len() >= 10).await;
        let mut st = link_to(&ga, 2).await;
        for _ in 0..100 {
            if st.state == LinkState::NeedsFullSync {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            st = link_to(&ga, 2).await;
        }
        assert_eq!(st.state, LinkState::NeedsFullSync);
        assert_eq!(st.full_syncs_needed, 1);
        assert!(sink_b.ops(1, 0).is_empty());
        ga.shutdown().await;
        gb.shutdown().await;
    })
    .await
    .expect("test timed out");
}

#[actix_rt::test]
async fn certificate_naming_another_region_is_refused() {
    tokio::time::timeout(Duration::from_secs(30), async {
        let ca = DevCa::new().expect("ca");
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        let a = Geo::bind(config(1, &ca, addr)).expect("bind");
        // Region 2 presents a certificate of region 3 (same CA).
        let mut cfg_b = config(2, &ca, addr);
        cfg_b.tls = ca.issue(3).expect("issue");
        let b = Geo::bind(cfg_b).expect("bind");
        let all = [(1, a.local_addr()), (2, b.local_addr())];
        let (mut a, mut b) = (a, b);
        a.set_peers(peers_of(1, &all));
        b.set_peers(peers_of(2, &all));
        let (log_a, log_b) = (MemLog::new(), MemLog::new());
        let (sink_a, sink_b) = (Arc::new(RecSink::default()), Arc::new(RecSink::default()));
        let ga = a.start(log_a.clone(), sink_a.clone(), None).expect("start");
        let gb = b.start(log_b.clone(), sink_b.clone(), None).expect("start");
        log_a.append(0, "a".into());
        log_b.append(0, "b".into());
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(sink_a.total(), 0, "A applied ops from an impostor");
        assert_eq!(sink_b.total(), 0, "B's server name check failed");
        let st = link_to(&gb, 1).await;
        assert_eq!(st.connects, 0);
        let err = st.last_error.unwrap_or_default();
        assert!(err.contains("region 2"), "unexpected error {err}");
        ga.shutdown().await;
        gb.shutdown().await;
    })
    .await
    .expect("test timed out");
}
