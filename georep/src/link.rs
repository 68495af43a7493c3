//! The QUIC/actix shell: one `Link` actor per peer owning its status, an
//! outbound task per connection driving `proto::Sender`, and an acceptor
//! whose per-connection tasks drive `proto::ReceiverMemory` and the sink.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix::prelude::*;
use tokio::sync::{mpsc, Notify};
use tokio::task::{JoinHandle, JoinSet};

use crate::group::Registry;
use crate::members::{Member, Members};
use crate::proto::{self, HelloOutcome, OnRead, Poll};
use crate::tls::{peer_is_region, region_dns_name, Revoked};
use crate::wire::{self, code, Msg};
use crate::{
    LinkState, LinkStatus, LocalLog, PeerSpec, ReceiverState, RegionId, RemoteSink, StateSync,
};

/// Held for reading while a remote batch is applied, for writing while a snapshot is taken
/// or installed: every shard then holds the same prefix of every origin stream.
pub(crate) type Gate = Arc<tokio::sync::RwLock<()>>;

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// What every link of this endpoint shares.
pub(crate) struct LinkShared {
    /// The membership (weak: the registry owns the links).
    pub registry: Weak<Registry>,
    /// The acceptor's memory (which incarnations of a peer we hold ops of, our sync state).
    pub memory: ReceiverState,
    pub state: Option<Arc<dyn StateSync>>,
    pub gate: Gate,
    /// Refused peer certificates (shared with the acceptor).
    pub revoked: Arc<Revoked>,
    pub region: RegionId,
    /// This region's stream incarnation (a new one after a purge or a join).
    pub incarnation: AtomicU64,
    pub endpoint: quinn::Endpoint,
    pub client_cfg: quinn::ClientConfig,
    pub log: Arc<dyn LocalLog>,
    pub batch_max_bytes: usize,
    pub batch_max_delay: Duration,
    pub handshake_timeout: Duration,
}

fn var(c: u32) -> quinn::VarInt {
    quinn::VarInt::from_u32(c)
}

/// Aborts a spawned task when dropped, so helpers die with their connection.
struct AbortOnDrop(JoinHandle<()>);
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn write_frame(send: &mut quinn::SendStream, msg: &Msg) -> Result<(), String> {
    let buf = wire::encode(msg).map_err(|e| e.to_string())?;
    send.write_all(&buf).await.map_err(|e| e.to_string())
}

/// Reads one frame; `Ok(None)` when the peer finished the stream cleanly.
async fn read_frame(recv: &mut quinn::RecvStream) -> Result<Option<Msg>, String> {
    read_frame_max(recv, wire::MAX_FRAME).await
}

/// Reads one frame of at most `max` bytes (handshake frames come before the peer's
/// identity is checked, so they get a small bound).
async fn read_frame_max(recv: &mut quinn::RecvStream, max: usize) -> Result<Option<Msg>, String> {
    let mut prefix = [0u8; 4];
    match recv.read_exact(&mut prefix).await {
        Ok(()) => {}
        Err(quinn::ReadExactError::FinishedEarly(0)) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    }
    let len = wire::check_len(prefix).map_err(|e| e.to_string())?;
    if len > max {
        return Err(format!(
            "frame of {len} bytes exceeds the {max} byte limit here"
        ));
    }
    // Grown a MiB at a time as bytes arrive, not allocated up front from the announced
    // length (a frame up to a MiB, the usual case, is one exact allocation).
    const STEP: usize = 1 << 20;
    let mut payload = vec![0u8; len.min(STEP)];
    let mut filled = 0;
    loop {
        recv.read_exact(&mut payload[filled..])
            .await
            .map_err(|e| e.to_string())?;
        filled = payload.len();
        if filled == len {
            break;
        }
        payload.resize(len.min(filled + STEP), 0);
    }
    wire::decode(&payload).map(Some).map_err(|e| e.to_string())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

// ---- messages to a Link ----

/// Event from the outbound task of connection generation `gen`.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Out {
    gen: u64,
    ev: OutEvent,
}

enum OutEvent {
    Connected(quinn::Connection),
    /// Streaming resumed at these offsets; `confirmed`: the peer said it holds everything
    /// below them (false after a snapshot, until its acks say so).
    Resumed {
        resume: Vec<u64>,
        confirmed: bool,
    },
    Sent(u64),
    Acked {
        shard: u16,
        next: u64,
        newly: u64,
    },
    FullSync {
        shard: u16,
    },
    /// Sending the peer a full snapshot.
    Syncing,
    /// The snapshot went out (the peer's acks say when it is installed).
    SnapshotSent,
    Closed(String),
}

/// Event from an inbound connection of this link's peer.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) enum In {
    Connected(quinn::Connection),
    Received(u64),
    Closed {
        id: usize,
        error: Option<String>,
    },
    /// This region installed a full snapshot from another peer: this peer's stream must
    /// be resumed from what the snapshot holds, so its connection is closed (it redials).
    Resync,
}

#[derive(Message)]
#[rtype(result = "LinkStatus")]
pub(crate) struct GetStatus;

#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Pause;

#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Resume;

#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Stop;

/// A member left the group: both connections with this peer start over, so that each
/// side's handshake compares what the two hold of the member that left (see
/// [`proto::departed_ahead`]). A snapshot being sent or received is left to finish.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Renew;

/// One remote region: dials it, streams our ops, owns the link's status.
pub(crate) struct Link {
    peer: PeerSpec,
    sh: Arc<LinkShared>,
    /// Next offset the peer expects, per shard (from HelloAck and acks).
    acked: Vec<u64>,
    full_sync: Vec<bool>,
    syncing: bool,
    /// Bumped per dial and on pause, so late events of old tasks are ignored.
    gen: u64,
    task: Option<JoinHandle<()>>,
    conn: Option<quinn::Connection>,
    handshaken: bool,
    inbound: Option<quinn::Connection>,
    paused: bool,
    stopping: bool,
    backoff: Duration,
    sent_ops: u64,
    acked_ops: u64,
    received_ops: u64,
    connects: u64,
    full_syncs_needed: u64,
    last_error: Option<String>,
}

impl Link {
    pub(crate) fn new(peer: PeerSpec, sh: Arc<LinkShared>, paused: bool) -> Link {
        let shards = sh.log.shards() as usize;
        Link {
            peer,
            sh,
            acked: vec![1; shards],
            full_sync: vec![false; shards],
            syncing: false,
            gen: 0,
            task: None,
            conn: None,
            handshaken: false,
            inbound: None,
            paused,
            stopping: false,
            backoff: BACKOFF_MIN,
            sent_ops: 0,
            acked_ops: 0,
            received_ops: 0,
            connects: 0,
            full_syncs_needed: 0,
            last_error: None,
        }
    }

    fn dial(&mut self, ctx: &mut Context<Self>) {
        if self.paused || self.stopping || self.task.is_some() {
            return;
        }
        self.gen += 1;
        let gen = self.gen;
        let sh = self.sh.clone();
        let peer = self.peer.clone();
        let me = ctx.address();
        self.task = Some(tokio::spawn(async move {
            let err = match run_outbound(&sh, &peer, gen, &me).await {
                Ok(()) => "closed".to_string(),
                Err(e) => e,
            };
            me.do_send(Out {
                gen,
                ev: OutEvent::Closed(err),
            });
        }));
    }

    /// Drops the current outbound connection (if any) with `code`.
    fn drop_outbound(&mut self, code: u32, reason: &[u8]) {
        self.gen += 1;
        if let Some(t) = self.task.take() {
            t.abort();
        }
        if let Some(c) = self.conn.take() {
            c.close(var(code), reason);
        }
        self.handshaken = false;
        self.syncing = false;
    }

    fn state(&self) -> LinkState {
        if self.paused {
            LinkState::Paused
        } else if self.syncing {
            LinkState::Syncing
        } else if self.full_sync.iter().any(|&b| b) {
            LinkState::NeedsFullSync
        } else if self.handshaken {
            LinkState::Connected
        } else {
            LinkState::Connecting
        }
    }
}

impl Actor for Link {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.dial(ctx);
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        self.drop_outbound(code::DONE, b"shutdown");
        if let Some(c) = self.inbound.take() {
            c.close(var(code::DONE), b"shutdown");
        }
    }
}

impl Handler<Out> for Link {
    type Result = ();

    fn handle(&mut self, msg: Out, ctx: &mut Context<Self>) {
        if msg.gen != self.gen {
            return;
        }
        match msg.ev {
            OutEvent::Connected(c) => self.conn = Some(c),
            OutEvent::Resumed { resume, confirmed } => {
                self.handshaken = true;
                self.connects += 1;
                self.backoff = BACKOFF_MIN;
                self.last_error = None;
                // After a snapshot the peer confirms the offsets with acks once it has
                // installed it; until then it holds nothing we can count on (what it
                // acknowledged before may be a dead process's).
                for (a, r) in self.acked.iter_mut().zip(resume) {
                    *a = if confirmed { r.max(1) } else { 1 };
                }
                // The peer's needs are resumable again (from our log or a snapshot).
                self.full_sync.iter_mut().for_each(|f| *f = false);
                tracing::info!(peer = self.peer.id, name = %self.peer.name, "geo-link connected");
            }
            OutEvent::Sent(n) => self.sent_ops += n,
            OutEvent::Acked { shard, next, newly } => {
                if let Some(a) = self.acked.get_mut(shard as usize) {
                    *a = next;
                }
                self.acked_ops += newly;
            }
            OutEvent::FullSync { shard } => {
                if let Some(f) = self.full_sync.get_mut(shard as usize) {
                    if !*f {
                        *f = true;
                        self.full_syncs_needed += 1;
                    }
                }
            }
            OutEvent::Syncing => self.syncing = true,
            OutEvent::SnapshotSent => {
                self.syncing = false;
                self.full_sync.iter_mut().for_each(|f| *f = false);
            }
            OutEvent::Closed(err) => {
                self.task = None;
                self.syncing = false;
                if let Some(c) = self.conn.take() {
                    c.close(var(code::DONE), b"link closed");
                }
                self.handshaken = false;
                tracing::warn!(peer = self.peer.id, error = %err, "geo-link down");
                self.last_error = Some(err);
                if self.paused || self.stopping {
                    return;
                }
                let wait = self.backoff;
                self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                ctx.run_later(wait, |act, ctx| act.dial(ctx));
            }
        }
    }
}

impl Handler<In> for Link {
    type Result = ();

    fn handle(&mut self, msg: In, _ctx: &mut Context<Self>) {
        match msg {
            In::Connected(c) => {
                if self.paused || self.stopping {
                    c.close(var(code::PAUSED), b"paused");
                    return;
                }
                // A peer reconnecting replaces its old connection, so two
                // streams from one origin never apply concurrently for long.
                if let Some(old) = self.inbound.replace(c) {
                    old.close(var(code::REPLACED), b"replaced");
                }
            }
            In::Received(n) => self.received_ops += n,
            In::Resync => {
                if let Some(c) = self.inbound.take() {
                    c.close(var(code::REPLACED), b"full sync: resume from the snapshot");
                }
            }
            In::Closed { id, error } => {
                if self.inbound.as_ref().map(|c| c.stable_id()) == Some(id) {
                    self.inbound = None;
                }
                if let Some(e) = error {
                    self.last_error = Some(format!("inbound: {e}"));
                }
            }
        }
    }
}

impl Handler<GetStatus> for Link {
    type Result = MessageResult<GetStatus>;

    fn handle(&mut self, _: GetStatus, _ctx: &mut Context<Self>) -> Self::Result {
        let log = &self.sh.log;
        let now = now_ms();
        let (mut lag_ops, mut lag_ms, mut backlog_bytes) = (0, 0, 0);
        for (shard, &acked) in self.acked.iter().enumerate() {
            let shard = shard as u16;
            let next = log.next_offset(shard);
            let l = proto::lag_ops(next, acked);
            lag_ops += l;
            if l > 0 {
                lag_ms = lag_ms.max(proto::lag_ms(now, log.hlc_at(shard, acked)));
                backlog_bytes += log.bytes_from(shard, acked);
            }
        }
        MessageResult(LinkStatus {
            peer: self.peer.id,
            name: self.peer.name.clone(),
            addr: self.peer.addr,
            state: self.state(),
            lag_ops,
            lag_ms,
            backlog_bytes,
            sent_ops: self.sent_ops,
            acked_ops: self.acked_ops,
            received_ops: self.received_ops,
            connects: self.connects,
            full_syncs_needed: self.full_syncs_needed,
            last_error: self.last_error.clone(),
            inbound_connected: self.inbound.is_some(),
            acked: self.acked.clone(),
        })
    }
}

impl Handler<Pause> for Link {
    type Result = ();

    fn handle(&mut self, _: Pause, _ctx: &mut Context<Self>) {
        self.paused = true;
        self.drop_outbound(code::PAUSED, b"paused");
        if let Some(c) = self.inbound.take() {
            c.close(var(code::PAUSED), b"paused");
        }
    }
}

impl Handler<Resume> for Link {
    type Result = ();

    fn handle(&mut self, _: Resume, ctx: &mut Context<Self>) {
        if !self.paused {
            return;
        }
        self.paused = false;
        self.backoff = BACKOFF_MIN;
        self.dial(ctx);
    }
}

impl Handler<Renew> for Link {
    type Result = ();

    fn handle(&mut self, _: Renew, ctx: &mut Context<Self>) {
        if self.paused || self.stopping {
            return;
        }
        let receiving = self.sh.memory.lock().is_ok_and(|m| {
            matches!(m.sync_state(), proto::SyncState::InProgress(o, _, _) if *o == self.peer.id)
        });
        if !receiving {
            if let Some(c) = self.inbound.take() {
                c.close(var(code::REPLACED), b"a member left: handshake again");
            }
        }
        if self.task.is_some() && !self.syncing {
            self.drop_outbound(code::REPLACED, b"a member left: handshake again");
            self.dial(ctx);
        }
    }
}

impl Handler<Stop> for Link {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        self.stopping = true;
        ctx.stop();
    }
}

/// One outbound connection: handshake, then stream batches and take acks
/// until something fails. Returns why it ended.
async fn run_outbound(
    sh: &LinkShared,
    peer: &PeerSpec,
    gen: u64,
    link: &Addr<Link>,
) -> Result<(), String> {
    let connecting = sh
        .endpoint
        .connect_with(sh.client_cfg.clone(), peer.addr, &region_dns_name(peer.id))
        .map_err(|e| format!("connect: {e}"))?;
    let conn = connecting.await.map_err(|e| format!("connect: {e}"))?;
    if let Some(fp) = sh.revoked.check(&conn, peer.id) {
        conn.close(var(code::REFUSED), b"certificate revoked");
        return Err(format!("peer certificate {fp} is revoked"));
    }
    link.do_send(Out {
        gen,
        ev: OutEvent::Connected(conn.clone()),
    });
    let res = stream(sh, peer, gen, link, &conn).await;
    if let Err(e) = &res {
        conn.close(var(code::PROTOCOL), e.as_bytes());
    }
    res
}

async fn stream(
    sh: &LinkShared,
    peer: &PeerSpec,
    gen: u64,
    link: &Addr<Link>,
    conn: &quinn::Connection,
) -> Result<(), String> {
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| e.to_string())?;
    let shards = sh.log.shards();
    let seen = sh
        .memory
        .lock()
        .map(|m| m.seen(peer.id))
        .unwrap_or_default();
    let registry = sh.registry.upgrade().ok_or("endpoint shut down")?;
    let mut members_rx = registry.subscribe();
    let members = members_rx.borrow_and_update().records().cloned().collect();
    let held = match &sh.state {
        Some(state) => state
            .held()
            .await
            .into_iter()
            .filter(|&(r, _, _)| r != peer.id)
            .collect(),
        None => Vec::new(),
    };
    write_frame(
        &mut send,
        &Msg::Hello {
            version: wire::VERSION,
            region: sh.region,
            incarnation: sh.incarnation.load(Ordering::SeqCst),
            shards,
            seen,
            members,
            held,
        },
    )
    .await?;
    let reply = tokio::time::timeout(
        sh.handshake_timeout,
        read_frame_max(&mut recv, wire::MAX_HANDSHAKE_FRAME),
    )
    .await
    .map_err(|_| "handshake timed out".to_string())??;
    let (mut resume, after, snapshot) = match reply {
        Some(Msg::HelloAck {
            resume,
            after,
            snapshot,
        }) => (resume, after, snapshot),
        Some(Msg::Refused { reason, members }) => {
            registry.learn_from_refusal(&Members::from_records(members), peer.id);
            return Err(format!("refused by peer: {reason}"));
        }
        Some(other) => return Err(format!("unexpected handshake reply {other:?}")),
        None => return Err("peer closed during handshake".into()),
    };
    if snapshot {
        resume = send_snapshot(sh, peer, gen, link, &mut send).await?;
    } else {
        for (shard, r) in resume.iter_mut().enumerate() {
            if *r != 0 {
                continue;
            }
            // The peer took a full sync: it holds our stream up to a stamp, not an offset.
            let stamp = after.get(shard).copied().unwrap_or(0);
            match sh.log.offset_after(shard as u16, stamp) {
                Ok(o) => *r = o,
                Err(first_available) => {
                    return needs_sync(
                        peer,
                        gen,
                        link,
                        &mut send,
                        shard as u16,
                        format!(
                            "shard {shard}: ops after stamp {stamp} were trimmed (oldest held offset {first_available})"
                        ),
                    )
                    .await;
                }
            }
        }
    }
    let mut sender = proto::Sender::new(shards, sh.batch_max_bytes, sh.batch_max_delay);
    sender.on_hello_ack(&resume).map_err(|e| e.to_string())?;
    link.do_send(Out {
        gen,
        ev: OutEvent::Resumed {
            resume,
            confirmed: !snapshot,
        },
    });

    // Acks are read on their own task so a blocked write never delays them.
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel::<Result<(u16, u64), String>>();
    let _reader = AbortOnDrop(tokio::spawn(async move {
        loop {
            let r = match read_frame(&mut recv).await {
                Ok(Some(Msg::Ack { shard, next_offset })) => Ok((shard, next_offset)),
                Ok(Some(other)) => Err(format!("unexpected message {other:?}")),
                Ok(None) => Err("peer finished the stream".into()),
                Err(e) => Err(e),
            };
            let stop = r.is_err();
            if ack_tx.send(r).is_err() || stop {
                return;
            }
        }
    }));
    // Head movements of any shard wake the loop (Notify keeps one permit).
    let notify = Arc::new(Notify::new());
    let mut _watchers = JoinSet::new();
    for shard in 0..shards {
        let mut rx = sh.log.subscribe(shard);
        let n = notify.clone();
        _watchers.spawn(async move {
            while rx.changed().await.is_ok() {
                n.notify_one();
            }
        });
    }

    loop {
        let now = Instant::now();
        let mut wake: Option<Instant> = None;
        let mut sent = 0u64;
        for shard in 0..shards {
            loop {
                let head = sh.log.next_offset(shard);
                let (from, max_bytes) = match sender.poll(shard, now, head) {
                    Poll::Idle => break,
                    Poll::WaitUntil(t) => {
                        wake = Some(wake.map_or(t, |w| w.min(t)));
                        break;
                    }
                    Poll::Read { from, max_bytes } => (from, max_bytes),
                };
                let read = sh.log.read(shard, from, max_bytes);
                match sender.on_read(shard, read, now, head) {
                    OnRead::Send(b) => {
                        sent += b.ops.len() as u64;
                        let msg = Msg::Batch {
                            shard: b.shard,
                            first_offset: b.first_offset,
                            ops: b.ops,
                        };
                        write_frame(&mut send, &msg).await?;
                    }
                    OnRead::WaitUntil(t) => {
                        wake = Some(wake.map_or(t, |w| w.min(t)));
                        break;
                    }
                    OnRead::UpToDate => break,
                    OnRead::NeedsFullSync {
                        needed,
                        first_available,
                    } if sh.state.is_some() => {
                        return needs_sync(
                            peer,
                            gen,
                            link,
                            &mut send,
                            shard,
                            format!("shard {shard}: offset {needed} was trimmed (oldest held {first_available})"),
                        )
                        .await;
                    }
                    OnRead::NeedsFullSync {
                        needed,
                        first_available,
                    } => {
                        tracing::error!(
                            peer = peer.id,
                            shard,
                            needed,
                            first_available,
                            "geo-link needs full sync: log trimmed past what the peer has"
                        );
                        link.do_send(Out {
                            gen,
                            ev: OutEvent::FullSync { shard },
                        });
                        break;
                    }
                }
            }
        }
        if sent > 0 {
            link.do_send(Out {
                gen,
                ev: OutEvent::Sent(sent),
            });
        }
        let sleep = async {
            match wake {
                Some(t) => tokio::time::sleep_until(t.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            a = ack_rx.recv() => match a {
                Some(Ok((shard, next))) => {
                    let newly = sender.on_ack(shard, next).map_err(|e| e.to_string())?;
                    // After a snapshot, the peer's first acks confirm the offsets it
                    // continues at (nothing new in them).
                    if newly > 0 || snapshot {
                        sh.log.acked(peer.id, shard, next);
                        link.do_send(Out { gen, ev: OutEvent::Acked { shard, next, newly } });
                    }
                }
                Some(Err(e)) => return Err(e),
                None => return Err("ack reader ended".into()),
            },
            _ = notify.notified() => {}
            _ = sleep => {}
            changed = members_rx.changed() => {
                if changed.is_err() {
                    return Err("endpoint shut down".into());
                }
                let members = members_rx.borrow_and_update().records().cloned().collect();
                write_frame(&mut send, &Msg::Members { members }).await?;
            }
        }
    }
}

/// Our log cannot resume the peer's copy of our stream: tell it (it then asks the next
/// peer it hears from for a full snapshot) and end the connection.
async fn needs_sync(
    peer: &PeerSpec,
    gen: u64,
    link: &Addr<Link>,
    send: &mut quinn::SendStream,
    shard: u16,
    reason: String,
) -> Result<(), String> {
    tracing::warn!(peer = peer.id, %reason, "geo-link: the peer needs a full sync (our backlog no longer holds what it lacks)");
    link.do_send(Out {
        gen,
        ev: OutEvent::FullSync { shard },
    });
    let _ = write_frame(
        send,
        &Msg::NeedsSync {
            reason: reason.clone(),
        },
    )
    .await;
    let _ = send.finish();
    let _ = tokio::time::timeout(Duration::from_millis(500), send.stopped()).await;
    Err(format!("peer needs a full sync: {reason}"))
}

/// The peer asked for a full snapshot: take one (remote applies held off meanwhile) and
/// send it; returns the offsets our stream continues at.
async fn send_snapshot(
    sh: &LinkShared,
    peer: &PeerSpec,
    gen: u64,
    link: &Addr<Link>,
    send: &mut quinn::SendStream,
) -> Result<Vec<u64>, String> {
    let Some(state) = &sh.state else {
        return Err("the peer asked for a full snapshot; this region cannot send one".into());
    };
    let own = sh
        .memory
        .lock()
        .map(|m| m.sync_state().clone())
        .map_err(|_| "receiver state poisoned".to_string())?;
    if own != proto::SyncState::Idle {
        return Err(format!(
            "the peer asked for a full snapshot while this region waits for its own ({own:?})"
        ));
    }
    link.do_send(Out {
        gen,
        ev: OutEvent::Syncing,
    });
    let started = Instant::now();
    let mut snap = {
        let _held = sh.gate.write().await;
        state.snapshot().await?
    };
    snap.meta.seen = sh
        .memory
        .lock()
        .map(|m| m.seen_all(sh.region))
        .unwrap_or_default();
    if snap.meta.offsets.len() != sh.log.shards() as usize {
        return Err("snapshot offsets do not match the shard count".into());
    }
    let bytes: usize = snap.chunks.iter().map(|c| c.len()).sum();
    write_frame(
        send,
        &Msg::SnapshotBegin {
            meta: snap.meta.clone(),
            chunks: snap.chunks.len() as u64,
        },
    )
    .await?;
    for data in snap.chunks {
        let mut rest = data;
        loop {
            let piece = rest.split_to(rest.len().min(wire::SNAPSHOT_PIECE));
            let more = !rest.is_empty();
            write_frame(send, &Msg::SnapshotChunk { data: piece, more }).await?;
            if !more {
                break;
            }
        }
    }
    write_frame(send, &Msg::SnapshotEnd).await?;
    let offsets = snap.meta.offsets;
    for (shard, &o) in offsets.iter().enumerate() {
        sh.log.acked(peer.id, shard as u16, o);
    }
    tracing::info!(
        peer = peer.id,
        bytes,
        ms = started.elapsed().as_millis() as u64,
        "sent a full snapshot; the stream continues from it"
    );
    link.do_send(Out {
        gen,
        ev: OutEvent::SnapshotSent,
    });
    Ok(offsets)
}

/// What the acceptor and its connection tasks need.
pub(crate) struct AcceptCtx {
    pub region: RegionId,
    pub endpoint: quinn::Endpoint,
    pub registry: Arc<Registry>,
    pub memory: ReceiverState,
    pub sink: Arc<dyn RemoteSink>,
    pub paused: Arc<AtomicBool>,
    pub handshake_timeout: Duration,
    /// Refused peer certificates (shared with the links).
    pub revoked: Arc<Revoked>,
    pub state: Option<Arc<dyn StateSync>>,
    pub gate: Gate,
}

pub(crate) async fn accept_loop(ctx: AcceptCtx) {
    let ctx = Arc::new(ctx);
    // Connection tasks live as long as the acceptor (aborted with it).
    let mut tasks = JoinSet::new();
    while let Some(incoming) = ctx.endpoint.accept().await {
        let ctx = ctx.clone();
        tasks.spawn(async move {
            let conn = match incoming.await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "inbound geo handshake failed");
                    return;
                }
            };
            if ctx.paused.load(Ordering::SeqCst) {
                conn.close(var(code::PAUSED), b"paused");
                return;
            }
            let mut origin = None;
            let res = inbound(&ctx, &conn, &mut origin).await;
            if let Err(e) = &res {
                tracing::warn!(origin = ?origin, error = %e, "inbound geo-link closed");
                conn.close(var(code::PROTOCOL), e.as_bytes());
            }
            if let Some(link) = origin.and_then(|o| ctx.registry.link(o)) {
                link.do_send(In::Closed {
                    id: conn.stable_id(),
                    error: res.err(),
                });
            }
        });
        // Reap finished connection tasks so the set does not grow.
        while tasks.try_join_next().is_some() {}
    }
}

async fn refuse(
    send: &mut quinn::SendStream,
    conn: &quinn::Connection,
    reason: String,
    members: Vec<Member>,
) {
    tracing::warn!(%reason, "refusing inbound geo-link");
    let _ = write_frame(send, &Msg::Refused { reason, members }).await;
    let _ = send.finish();
    // Give the Refused frame a moment to leave before closing.
    let _ = tokio::time::timeout(Duration::from_millis(200), send.stopped()).await;
    conn.close(var(code::REFUSED), b"refused");
}

/// One inbound connection: handshake, then apply batches in order and ack.
async fn inbound(
    ctx: &AcceptCtx,
    conn: &quinn::Connection,
    origin_out: &mut Option<RegionId>,
) -> Result<(), String> {
    let (mut send, mut recv) = tokio::time::timeout(ctx.handshake_timeout, conn.accept_bi())
        .await
        .map_err(|_| "no stream opened".to_string())?
        .map_err(|e| e.to_string())?;
    let hello = tokio::time::timeout(
        ctx.handshake_timeout,
        read_frame_max(&mut recv, wire::MAX_HANDSHAKE_FRAME),
    )
    .await
    .map_err(|_| "no hello".to_string())??;
    let Some(Msg::Hello {
        version,
        region,
        incarnation,
        shards,
        seen,
        members,
        held,
    }) = hello
    else {
        return Err("expected hello".into());
    };
    if version != wire::VERSION {
        refuse(
            &mut send,
            conn,
            format!("unsupported version {version}"),
            Vec::new(),
        )
        .await;
        return Ok(());
    }
    if !peer_is_region(conn, region) {
        refuse(
            &mut send,
            conn,
            format!("certificate does not name region {region}"),
            Vec::new(),
        )
        .await;
        return Ok(());
    }
    if let Some(fp) = ctx.revoked.check(conn, region) {
        refuse(
            &mut send,
            conn,
            format!("certificate {fp} is revoked"),
            Vec::new(),
        )
        .await;
        return Ok(());
    }
    // The dialer is who it says. Only a member that has joined is linked with, and only a
    // member's view of the group counts (it may carry a change made elsewhere, or this
    // region's own removal).
    let members = Members::from_records(members);
    if let Err(reason) = ctx.registry.admits(region, members.get(region)) {
        // Our table tells a removed or unlinked region its fate, our own record that we
        // left; a region that has not joined learns nothing (it must not take the group's
        // records and link).
        refuse(&mut send, conn, reason, ctx.registry.for_refused(region)).await;
        return Ok(());
    }
    ctx.registry.merge(&members, region);
    let Some(link) = ctx.registry.link(region) else {
        let reason = format!("region {region} is no longer a peer");
        refuse(&mut send, conn, reason, Vec::new()).await;
        return Ok(());
    };
    // While another peer sends us a full snapshot, hold this one's handshake a while
    // (a small snapshot is over in moments), then let it redial.
    let waited = Instant::now();
    let outcome = loop {
        // Compared afresh on every turn, and again if a snapshot was installed while we
        // compared (it moved us).
        let installs = ctx.memory.lock().map(|m| m.installs()).unwrap_or(0);
        let ahead = departed_ahead(ctx, region, &held).await;
        let o = match ctx.memory.lock() {
            Ok(m) if m.installs() != installs => continue,
            Ok(mut m) => m.hello(region, incarnation, shards, &seen, ahead),
            Err(_) => HelloOutcome::Refuse("receiver state poisoned".into()),
        };
        match o {
            HelloOutcome::Busy(_) if waited.elapsed() < ctx.handshake_timeout / 2 => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            o => break o,
        }
    };
    let (resume, after, snapshot) = match outcome {
        HelloOutcome::Accept {
            resume,
            after,
            snapshot,
            new_incarnation,
        } => {
            if new_incarnation {
                tracing::info!(
                    origin = region,
                    incarnation,
                    "new incarnation of origin: offsets restart at 1"
                );
            }
            (resume, after, snapshot)
        }
        HelloOutcome::Busy(reason) => {
            tracing::info!(origin = region, %reason, "asking a peer to redial later");
            let _ = write_frame(
                &mut send,
                &Msg::Refused {
                    reason,
                    members: Vec::new(),
                },
            )
            .await;
            let _ = send.finish();
            conn.close(var(code::REFUSED), b"busy");
            return Ok(());
        }
        HelloOutcome::Refuse(reason) => {
            refuse(&mut send, conn, reason, Vec::new()).await;
            return Ok(());
        }
    };
    let attempt = snapshot.as_ref().map(|s| s.1);
    let res = accepted(
        ctx,
        conn,
        (&mut send, &mut recv),
        (region, incarnation, shards),
        link,
        (resume, after, snapshot),
        origin_out,
    )
    .await;
    if let Some(a) = attempt {
        // No-op once the snapshot was installed; otherwise the next peer is asked.
        if let Ok(mut m) = ctx.memory.lock() {
            m.sync_failed(a);
        }
    }
    res
}

/// Whether dialer `region` holds more than this region of a member that left (`held`: its
/// `Hello`'s), and so must be asked for a snapshot: the reason, if so.
async fn departed_ahead(
    ctx: &AcceptCtx,
    region: RegionId,
    held: &[(RegionId, u16, u64)],
) -> Option<String> {
    let state = ctx.state.as_ref()?;
    let departed: Vec<RegionId> = ctx
        .registry
        .members()
        .records()
        .filter(|r| !r.state.is_member() && r.id != ctx.region && r.id != region)
        .map(|r| r.id)
        .collect();
    if departed.is_empty() {
        return None;
    }
    let ours = state.held().await;
    let gone = proto::departed_ahead(&departed, &ours, held)?;
    Some(format!(
        "region {region} holds more of the writes of region {gone}, which left the group, than this region"
    ))
}

/// The handshake was accepted: (take the snapshot and) apply batches in order, and ack.
async fn accepted(
    ctx: &AcceptCtx,
    conn: &quinn::Connection,
    (send, recv): (&mut quinn::SendStream, &mut quinn::RecvStream),
    (region, incarnation, shards): (RegionId, u64, u16),
    link: Addr<Link>,
    (resume, after, snapshot): (Vec<u64>, Vec<u64>, Option<(String, u64)>),
    origin_out: &mut Option<RegionId>,
) -> Result<(), String> {
    if ctx.paused.load(Ordering::SeqCst) {
        conn.close(var(code::PAUSED), b"paused");
        return Ok(());
    }
    write_frame(
        send,
        &Msg::HelloAck {
            resume,
            after,
            snapshot: snapshot.is_some(),
        },
    )
    .await?;
    *origin_out = Some(region);
    link.do_send(In::Connected(conn.clone()));
    if let Some((why, attempt)) = snapshot {
        let offsets =
            take_snapshot(ctx, recv, (region, incarnation, shards), attempt, &why).await?;
        // Tells the source the snapshot is in: it holds everything below these offsets.
        for (shard, &o) in offsets.iter().enumerate() {
            write_frame(
                send,
                &Msg::Ack {
                    shard: shard as u16,
                    next_offset: o.max(1),
                },
            )
            .await?;
        }
    }

    loop {
        let (shard, first_offset, ops) = match read_frame(recv).await? {
            Some(Msg::Batch {
                shard,
                first_offset,
                ops,
            }) => (shard, first_offset, ops),
            Some(Msg::Members { members }) => {
                ctx.registry.merge(&Members::from_records(members), region);
                continue;
            }
            Some(Msg::NeedsSync { reason }) => {
                tracing::warn!(origin = region, %reason, "a peer cannot resume its stream to us: this region needs a full sync");
                if let Ok(mut m) = ctx.memory.lock() {
                    m.need_sync(
                        region,
                        format!("region {region} cannot resume its stream: {reason}"),
                    );
                }
                return Err(format!("peer needs to send a full sync: {reason}"));
            }
            Some(other) => return Err(format!("unexpected message {other:?}")),
            None => return Ok(()),
        };
        if ctx.registry.link(region).is_none() {
            // Removed or unlinked while connected: nothing more of it is applied.
            return Err(format!("region {region} is no longer a member"));
        }
        let _applying = ctx.gate.read().await;
        // Everything below the batch's end is applied once this batch is, so
        // acking it is truthful and never beyond what this sender sent.
        let end = first_offset.saturating_add(ops.len() as u64);
        let checked = ctx
            .memory
            .lock()
            .map_err(|_| "receiver state poisoned".to_string())?
            .check_batch(region, incarnation, shard, first_offset, ops)
            .map_err(|e| e.to_string())?;
        let next = match checked {
            Some(proto::ToApply { ops, next }) => {
                let n = ops.len() as u64;
                ctx.sink.apply(region, shards, shard, ops).await;
                ctx.memory
                    .lock()
                    .map_err(|_| "receiver state poisoned".to_string())?
                    .applied(region, incarnation, shard, next);
                link.do_send(In::Received(n));
                next
            }
            // All duplicates: ack them so the sender moves on.
            None => end,
        };
        drop(_applying);
        write_frame(
            send,
            &Msg::Ack {
                shard,
                next_offset: next,
            },
        )
        .await?;
    }
}

/// Receives a full snapshot from `region` and makes it this region's state.
async fn take_snapshot(
    ctx: &AcceptCtx,
    recv: &mut quinn::RecvStream,
    (region, incarnation, shards): (RegionId, u64, u16),
    attempt: u64,
    why: &str,
) -> Result<Vec<u64>, String> {
    let Some(state) = &ctx.state else {
        return Err("asked for a snapshot without a state to install it in".into());
    };
    tracing::warn!(
        source = region,
        reason = why,
        "taking a full sync: this region's data is replaced by the source's (its own writes the source lacks are replayed from the backlog; any no longer there are lost)"
    );
    let started = Instant::now();
    let (meta, chunks) = match read_frame(recv).await? {
        Some(Msg::SnapshotBegin { meta, chunks }) => (meta, chunks),
        other => return Err(format!("expected a snapshot, got {other:?}")),
    };
    if meta.offsets.len() != shards as usize {
        return Err(format!(
            "snapshot has offsets for {} shards, the peer has {shards}",
            meta.offsets.len()
        ));
    }
    {
        // Never between another attempt's last step and its end.
        let _held = ctx.gate.write().await;
        state.install_begin(region, attempt).await;
    }
    let mut bytes = 0usize;
    for _ in 0..chunks {
        // A chunk comes in pieces (one big entry makes a big chunk).
        let mut chunk = bytes::BytesMut::new();
        loop {
            match read_frame(recv).await? {
                Some(Msg::SnapshotChunk { data, more }) => {
                    chunk.extend_from_slice(&data);
                    if !more {
                        break;
                    }
                }
                other => return Err(format!("expected a snapshot chunk, got {other:?}")),
            }
        }
        bytes += chunk.len();
        state.install_chunk(attempt, chunk.freeze()).await?;
    }
    match read_frame(recv).await? {
        Some(Msg::SnapshotEnd) => {}
        other => return Err(format!("expected the end of the snapshot, got {other:?}")),
    }
    {
        let _held = ctx.gate.write().await;
        state.install_end(attempt, region, meta.clone()).await?;
        ctx.memory
            .lock()
            .map_err(|_| "receiver state poisoned".to_string())?
            .synced(ctx.region, region, incarnation, &meta);
    }
    let source = ctx.registry.link(region);
    for l in ctx.registry.links() {
        if Some(&l) != source.as_ref() {
            l.do_send(In::Resync);
        }
    }
    tracing::info!(
        source = region,
        bytes,
        ms = started.elapsed().as_millis() as u64,
        "full sync installed; streams resume from it"
    );
    Ok(meta.offsets)
}
