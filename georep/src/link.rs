//! The QUIC/actix shell: one `Link` actor per peer owning its status, an
//! outbound task per connection driving `proto::Sender`, and an acceptor
//! whose per-connection tasks drive `proto::ReceiverMemory` and the sink.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix::prelude::*;
use tokio::sync::{mpsc, Notify};
use tokio::task::{JoinHandle, JoinSet};

use crate::proto::{self, HelloOutcome, OnRead, Poll};
use crate::tls::{peer_is_region, region_dns_name, Revoked};
use crate::wire::{self, code, Msg};
use crate::{LinkState, LinkStatus, LocalLog, PeerSpec, ReceiverState, RegionId, RemoteSink};

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// What every link of this endpoint shares.
pub(crate) struct LinkShared {
    /// Refused peer certificates (shared with the acceptor).
    pub revoked: Arc<Revoked>,
    pub region: RegionId,
    pub incarnation: u64,
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
    let mut prefix = [0u8; 4];
    match recv.read_exact(&mut prefix).await {
        Ok(()) => {}
        Err(quinn::ReadExactError::FinishedEarly(0)) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    }
    let len = wire::check_len(prefix).map_err(|e| e.to_string())?;
    let mut payload = vec![0u8; len];
    recv.read_exact(&mut payload)
        .await
        .map_err(|e| e.to_string())?;
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
    Resumed(Vec<u64>),
    Sent(u64),
    Acked { shard: u16, next: u64, newly: u64 },
    FullSync { shard: u16 },
    Closed(String),
}

/// Event from an inbound connection of this link's peer.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) enum In {
    Connected(quinn::Connection),
    Received(u64),
    Closed { id: usize, error: Option<String> },
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

/// One remote region: dials it, streams our ops, owns the link's status.
pub(crate) struct Link {
    peer: PeerSpec,
    sh: Arc<LinkShared>,
    /// Next offset the peer expects, per shard (from HelloAck and acks).
    acked: Vec<u64>,
    full_sync: Vec<bool>,
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
    pub(crate) fn new(peer: PeerSpec, sh: Arc<LinkShared>) -> Link {
        let shards = sh.log.shards() as usize;
        Link {
            peer,
            sh,
            acked: vec![1; shards],
            full_sync: vec![false; shards],
            gen: 0,
            task: None,
            conn: None,
            handshaken: false,
            inbound: None,
            paused: false,
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
    }

    fn state(&self) -> LinkState {
        if self.paused {
            LinkState::Paused
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
            OutEvent::Resumed(resume) => {
                self.handshaken = true;
                self.connects += 1;
                self.backoff = BACKOFF_MIN;
                self.last_error = None;
                for (a, r) in self.acked.iter_mut().zip(resume) {
                    *a = r.max(1);
                }
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
            OutEvent::Closed(err) => {
                self.task = None;
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
    write_frame(
        &mut send,
        &Msg::Hello {
            version: wire::VERSION,
            region: sh.region,
            incarnation: sh.incarnation,
            shards,
        },
    )
    .await?;
    let reply = tokio::time::timeout(sh.handshake_timeout, read_frame(&mut recv))
        .await
        .map_err(|_| "handshake timed out".to_string())??;
    let resume = match reply {
        Some(Msg::HelloAck { resume }) => resume,
        Some(Msg::Refused { reason }) => return Err(format!("refused by peer: {reason}")),
        Some(other) => return Err(format!("unexpected handshake reply {other:?}")),
        None => return Err("peer closed during handshake".into()),
    };
    let mut sender = proto::Sender::new(shards, sh.batch_max_bytes, sh.batch_max_delay);
    sender.on_hello_ack(&resume).map_err(|e| e.to_string())?;
    link.do_send(Out {
        gen,
        ev: OutEvent::Resumed(resume),
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
                    if newly > 0 {
                        sh.log.acked(peer.id, shard, next);
                        link.do_send(Out { gen, ev: OutEvent::Acked { shard, next, newly } });
                    }
                }
                Some(Err(e)) => return Err(e),
                None => return Err("ack reader ended".into()),
            },
            _ = notify.notified() => {}
            _ = sleep => {}
        }
    }
}

/// What the acceptor and its connection tasks need.
pub(crate) struct AcceptCtx {
    pub region: RegionId,
    pub endpoint: quinn::Endpoint,
    pub links: Arc<BTreeMap<RegionId, Addr<Link>>>,
    pub memory: ReceiverState,
    pub sink: Arc<dyn RemoteSink>,
    pub paused: Arc<AtomicBool>,
    pub handshake_timeout: Duration,
    /// Refused peer certificates (shared with the links).
    pub revoked: Arc<Revoked>,
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
            if let Some(link) = origin.and_then(|o| ctx.links.get(&o)) {
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

async fn refuse(send: &mut quinn::SendStream, conn: &quinn::Connection, reason: String) {
    tracing::warn!(%reason, "refusing inbound geo-link");
    let _ = write_frame(send, &Msg::Refused { reason }).await;
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
    let hello = tokio::time::timeout(ctx.handshake_timeout, read_frame(&mut recv))
        .await
        .map_err(|_| "no hello".to_string())??;
    let Some(Msg::Hello {
        version,
        region,
        incarnation,
        shards,
    }) = hello
    else {
        return Err("expected hello".into());
    };
    if version != wire::VERSION {
        refuse(&mut send, conn, format!("unsupported version {version}")).await;
        return Ok(());
    }
    let Some(link) = ctx.links.get(&region).filter(|_| region != ctx.region) else {
        refuse(&mut send, conn, format!("region {region} is not a peer")).await;
        return Ok(());
    };
    if !peer_is_region(conn, region) {
        refuse(
            &mut send,
            conn,
            format!("certificate does not name region {region}"),
        )
        .await;
        return Ok(());
    }
    if let Some(fp) = ctx.revoked.check(conn, region) {
        refuse(&mut send, conn, format!("certificate {fp} is revoked")).await;
        return Ok(());
    }
    let outcome = match ctx.memory.lock() {
        Ok(mut m) => m.hello(region, incarnation, shards),
        Err(_) => HelloOutcome::Refuse("receiver state poisoned".into()),
    };
    let resume = match outcome {
        HelloOutcome::Accept {
            resume,
            new_incarnation,
        } => {
            if new_incarnation {
                tracing::info!(
                    origin = region,
                    incarnation,
                    "new incarnation of origin: offsets restart at 1"
                );
            }
            resume
        }
        HelloOutcome::Refuse(reason) => {
            refuse(&mut send, conn, reason).await;
            return Ok(());
        }
    };
    if ctx.paused.load(Ordering::SeqCst) {
        conn.close(var(code::PAUSED), b"paused");
        return Ok(());
    }
    write_frame(&mut send, &Msg::HelloAck { resume }).await?;
    *origin_out = Some(region);
    link.do_send(In::Connected(conn.clone()));

    loop {
        let (shard, first_offset, ops) = match read_frame(&mut recv).await? {
            Some(Msg::Batch {
                shard,
                first_offset,
                ops,
            }) => (shard, first_offset, ops),
            Some(other) => return Err(format!("unexpected message {other:?}")),
            None => return Ok(()),
        };
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
        write_frame(
            &mut send,
            &Msg::Ack {
                shard,
                next_offset: next,
            },
        )
        .await?;
    }
}
