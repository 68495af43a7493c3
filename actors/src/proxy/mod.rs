//! The proxy: serves one client connection.
//!
//! State per connection: read and write buffers, protocol version, auth state, client id and
//! name. Inbound: client bytes. Outbound: one [`Exec`] message per shard per batch.
//!
//! Each read decodes every complete frame in the buffer, plans the replies in request order
//! (a reply is produced locally, by a shard, or assembled from several shards' pieces), sends
//! each shard its commands in one message, and writes all replies in order. Commands that
//! need every earlier reply to be settled (INFO, DBSIZE, KEYS, SCAN, HELLO, AUTH, FLUSHALL,
//! CRDT.*) flush the batch first.

pub(crate) mod admin;
mod sub;
mod tx;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};
use resp::{Command, Protocol, ReplyWriter};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::node::{ClientEntry, Node};
use crate::shard::{Exec, ExecReply};

const CROSSSLOT: &str = "CROSSSLOT Keys in request don't hash to the same slot";

/// How a reply is made.
enum Piece {
    /// Already encoded, in `Conn::local` at this range.
    Local(usize, usize),
    /// The next reply of that shard's batch.
    Shard(u16),
    /// An array header written before the following pieces (MGET).
    Array(usize),
    /// The sum of the next `n` shard integer replies (EXISTS over several shards).
    Sum(usize),
}

/// Per-connection state.
pub(crate) struct Conn {
    node: Node,
    pub(crate) id: u64,
    pub(crate) proto: Protocol,
    pub(crate) authed: bool,
    pub(crate) quit: bool,
    /// Commands per shard for the current batch.
    batches: Vec<Vec<(u16, Command)>>,
    pieces: Vec<Piece>,
    local: BytesMut,
    /// The transaction being queued (MULTI).
    tx: Option<tx::Tx>,
    /// The slot of the keys this connection WATCHes, if any.
    watch_slot: Option<u16>,
    /// Pub/Sub subscriptions.
    subs: sub::Subs,
}

/// Serves a TCP client until it disconnects.
pub async fn serve_tcp(node: Node, sock: tokio::net::TcpStream, addr: SocketAddr) {
    let _ = sock.set_nodelay(true);
    let laddr = sock.local_addr().unwrap_or(addr);
    serve(node, sock, addr, laddr).await
}

/// Serves a client over any byte stream.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    node: Node,
    mut io: S,
    addr: SocketAddr,
    laddr: SocketAddr,
) {
    let inner = node.inner.clone();
    let cfg = &inner.cfg;
    if cfg.password.is_none() && cfg.protected_mode && !addr.ip().is_loopback() {
        inner.stats.rejected.fetch_add(1, Ordering::Relaxed);
        let _ = io.write_all(b"-DENIED Meridian is running in protected mode because protected mode is enabled and no password is set for the default user. Connect from the loopback interface, or set a password in [server] password, or set protected_mode = false.\r\n").await;
        return;
    }
    let id = inner.next_client.fetch_add(1, Ordering::Relaxed);
    let full = {
        let mut clients = inner.clients.lock().unwrap_or_else(|p| p.into_inner());
        let full = clients.len() >= cfg.max_clients;
        if !full {
            clients.insert(
                id,
                ClientEntry {
                    addr,
                    laddr,
                    name: None,
                    since: std::time::Instant::now(),
                    resp: 2,
                    lib_name: None,
                    lib_ver: None,
                },
            );
        }
        full
    };
    if full {
        inner.stats.rejected.fetch_add(1, Ordering::Relaxed);
        let _ = io
            .write_all(b"-ERR max number of clients reached\r\n")
            .await;
        return;
    }
    let mut conn = Conn {
        node: node.clone(),
        id,
        proto: Protocol::Resp2,
        authed: cfg.password.is_none(),
        quit: false,
        batches: vec![Vec::new(); inner.shards.len()],
        pieces: Vec::new(),
        local: BytesMut::new(),
        tx: None,
        watch_slot: None,
        subs: sub::Subs::default(),
    };
    let limits = cfg.limits;
    let qlimit = cfg.query_buffer_limit;
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut out = BytesMut::with_capacity(16 * 1024);
    let mut reqs = Vec::new();
    loop {
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(16 * 1024);
        }
        let read = match conn.subs.rx.as_mut() {
            None => io.read_buf(&mut buf).await,
            // Subscribed: wait for the client or a message, whichever comes first
            // (`read_buf` is cancel-safe: a cancelled read took no bytes).
            Some(rx) => tokio::select! {
                r = io.read_buf(&mut buf) => r,
                m = rx.recv() => {
                    let Some(m) = m else {
                        // The hub dropped this listener: it fell too far behind.
                        break;
                    };
                    sub::write_message(&mut out, conn.proto, &m);
                    while out.len() < 64 * 1024 {
                        match rx.try_recv() {
                            Ok(m) => sub::write_message(&mut out, conn.proto, &m),
                            Err(_) => break,
                        }
                    }
                    inner.stats.net_output.fetch_add(out.len() as u64, Ordering::Relaxed);
                    if io.write_all(&out).await.is_err() {
                        break;
                    }
                    out.clear();
                    continue;
                }
            },
        };
        let n = match read {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        inner.stats.net_input.fetch_add(n as u64, Ordering::Relaxed);
        let mut fatal = None;
        loop {
            match resp::parse_request(&mut buf, &limits) {
                Ok(Some(args)) => reqs.push(args),
                Ok(None) => break,
                Err(e) => {
                    fatal = Some(e);
                    break;
                }
            }
        }
        if !reqs.is_empty() {
            inner
                .stats
                .commands
                .fetch_add(reqs.len() as u64, Ordering::Relaxed);
            conn.run_batch(std::mem::take(&mut reqs), &mut out).await;
        }
        if let Some(e) = &fatal {
            let mut w = ReplyWriter::new(&mut out, conn.proto);
            w.error(&format!("ERR {}", e.text()));
        }
        if buf.len() > qlimit {
            tracing::warn!(
                client = id,
                bytes = buf.len(),
                "closing a client whose query buffer exceeds the limit"
            );
            conn.quit = true;
        }
        if !out.is_empty() {
            inner
                .stats
                .net_output
                .fetch_add(out.len() as u64, Ordering::Relaxed);
            if io.write_all(&out).await.is_err() {
                break;
            }
            out.clear();
            if out.capacity() > 1 << 20 {
                out = BytesMut::with_capacity(16 * 1024);
            }
        }
        if fatal.is_some() || conn.quit {
            let _ = io.flush().await;
            break;
        }
    }
    let _ = io.shutdown().await;
    conn.unwatch();
    conn.leave_pubsub();
    inner
        .clients
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&id);
}

impl Conn {
    fn shard_of(&self, slot: u16) -> u16 {
        self.node.inner.slot_map[slot as usize]
    }

    fn push_shard(&mut self, slot: u16, cmd: Command) {
        let shard = self.shard_of(slot);
        self.batches[shard as usize].push((slot, cmd));
        self.pieces.push(Piece::Shard(shard));
    }

    /// Encodes a local reply as the next piece.
    fn push_local(&mut self, f: impl FnOnce(&mut ReplyWriter)) {
        let start = self.local.len();
        let mut w = ReplyWriter::new(&mut self.local, self.proto);
        f(&mut w);
        let end = self.local.len();
        self.pieces.push(Piece::Local(start, end));
    }

    fn push_error(&mut self, msg: &str) {
        self.push_local(|w| w.error(msg));
    }

    /// Plans, executes and writes the replies of a batch of requests, in order.
    async fn run_batch(&mut self, reqs: Vec<Vec<Bytes>>, out: &mut BytesMut) {
        for args in reqs {
            if self.quit {
                break;
            }
            let cmd = match Command::parse(args) {
                Ok(c) => c,
                Err(e) => {
                    if let Some(tx) = &mut self.tx {
                        tx.dirty = true;
                    }
                    self.push_error(e.text());
                    continue;
                }
            };
            if !self.authed
                && !matches!(
                    cmd,
                    Command::Auth { .. } | Command::Hello { .. } | Command::Quit
                )
            {
                self.push_error("NOAUTH Authentication required.");
                continue;
            }
            if let Some(e) = self.refused_while_subscribed(&cmd) {
                if let Some(tx) = &mut self.tx {
                    tx.dirty = true;
                }
                self.push_error(&e);
                continue;
            }
            if self.tx.is_some() {
                self.queue(cmd, out).await;
            } else {
                self.plan(cmd, out).await;
            }
        }
        self.flush(out).await;
    }

    /// Routes one command: to a shard by slot, to the pieces of several shards, or to the
    /// connection itself.
    async fn plan(&mut self, cmd: Command, out: &mut BytesMut) {
        let cmd = match cmd {
            Command::Multi
            | Command::Exec
            | Command::Discard
            | Command::Watch(_)
            | Command::Unwatch => return self.tx_command(cmd, out).await,
            // PUBLISH runs on the channel's shard, which ships it to the other regions.
            Command::Publish { ref channel, .. } => {
                let slot = resp::key_slot(channel);
                return self.push_shard(slot, cmd);
            }
            cmd => match self.pubsub_command(cmd) {
                Some(cmd) => cmd,
                None => return,
            },
        };
        if let Some(key) = cmd.key() {
            let slot = resp::key_slot(key);
            return self.push_shard(slot, cmd);
        }
        match cmd {
            Command::MGet(keys) => {
                self.pieces.push(Piece::Array(keys.len()));
                for k in keys {
                    let slot = resp::key_slot(&k);
                    self.push_shard(slot, Command::MGet(vec![k]));
                }
            }
            // Multi-key reads may span slots (the spec): one piece per key, summed.
            Command::Exists(keys) | Command::Touch(keys) => {
                self.pieces.push(Piece::Sum(keys.len()));
                for k in keys {
                    let slot = resp::key_slot(&k);
                    let shard = self.shard_of(slot);
                    self.batches[shard as usize].push((slot, Command::Exists(vec![k])));
                    self.pieces.push(Piece::Shard(shard));
                }
            }
            blocking @ (Command::BPop { .. } | Command::BLMove { .. }) => {
                self.flush(out).await;
                self.blocking(blocking, out).await;
            }
            // Every other keyed command (multi-key writes, SINTER, SMOVE, RENAME, the STORE
            // forms, ...) runs on one shard, so its keys must share a hash slot.
            other if !other.keys().is_empty() => {
                match one_slot(other.keys().into_iter().map(|k| &k[..])) {
                    Some(slot) => self.push_shard(slot, other),
                    None => self.push_error(CROSSSLOT),
                }
            }
            other => {
                if admin::is_barrier(&other) {
                    self.flush(out).await;
                    let mut w = ReplyWriter::new(out, self.proto);
                    self.barrier(other, &mut w).await;
                } else {
                    let start = self.local.len();
                    let mut local = std::mem::take(&mut self.local);
                    let mut w = ReplyWriter::new(&mut local, self.proto);
                    self.immediate(other, &mut w);
                    let end = local.len();
                    self.local = local;
                    self.pieces.push(Piece::Local(start, end));
                }
            }
        }
    }

    /// BLPOP/BRPOP/BLMOVE/BRPOPLPUSH: tries the pop on the keys' shard, and while there is
    /// nothing to pop retries with a growing pause (1 ms up to 50 ms) until the timeout; then
    /// replies nil as Redis does. The connection reads no further requests meanwhile, as a
    /// blocked Redis client does.
    ///
    /// Limit: a client that disconnects while blocked without a timeout is noticed only when
    /// data arrives for it (the pop it then makes is lost to the other consumers, like a
    /// Redis client that dies after its pop is served).
    async fn blocking(&mut self, cmd: Command, out: &mut BytesMut) {
        let keys: Vec<Bytes> = cmd.keys().into_iter().cloned().collect();
        let Some(slot) = one_slot(keys.iter().map(|k| &k[..])) else {
            ReplyWriter::new(out, self.proto).error(CROSSSLOT);
            return;
        };
        let timeout = match &cmd {
            Command::BPop { timeout_ms, .. } | Command::BLMove { timeout_ms, .. } => *timeout_ms,
            _ => Some(0),
        };
        let deadline = timeout.map(|ms| {
            tokio::time::Instant::now() + std::time::Duration::from_millis(ms.min(u64::MAX / 4))
        });
        let shard = self.shard_of(slot) as usize;
        let mut pause = std::time::Duration::from_millis(1);
        loop {
            let exec = Exec {
                proto: self.proto,
                cmds: vec![(slot, cmd.clone())],
            };
            let reply = match self.node.inner.shards[shard].send(exec).await {
                Ok(r) => r.out,
                Err(_) => {
                    ReplyWriter::new(out, self.proto).error("ERR shard unavailable");
                    return;
                }
            };
            let nothing =
                reply.starts_with(b"*-1") || reply.starts_with(b"_") || reply.starts_with(b"$-1");
            if !nothing {
                out.extend_from_slice(&reply);
                return;
            }
            let now = tokio::time::Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                ReplyWriter::new(out, self.proto).null_array();
                return;
            }
            let sleep = match deadline {
                Some(d) => pause.min(d - now),
                None => pause,
            };
            tokio::time::sleep(sleep).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(50));
        }
    }

    /// Sends each shard its commands (one message per shard), then writes every planned
    /// reply in order.
    async fn flush(&mut self, out: &mut BytesMut) {
        if self.pieces.is_empty() {
            return;
        }
        let shards = &self.node.inner.shards;
        let mut requests = Vec::new();
        for (i, batch) in self.batches.iter_mut().enumerate() {
            if !batch.is_empty() {
                let cmds = std::mem::take(batch);
                requests.push((
                    i,
                    shards[i].send(Exec {
                        proto: self.proto,
                        cmds,
                    }),
                ));
            }
        }
        let mut replies: Vec<Option<(ExecReply, usize)>> =
            (0..shards.len()).map(|_| None).collect();
        for (i, req) in requests {
            match req.await {
                Ok(r) => replies[i] = Some((r, 0)),
                Err(e) => tracing::error!(shard = i, error = %e, "shard did not answer"),
            }
        }
        // Takes the next reply of a shard's batch.
        fn next_reply(replies: &mut [Option<(ExecReply, usize)>], shard: u16) -> Option<&[u8]> {
            let (r, k) = replies.get_mut(shard as usize)?.as_mut()?;
            *k += 1;
            r.get(*k - 1)
        }
        let mut pieces = std::mem::take(&mut self.pieces).into_iter();
        while let Some(p) = pieces.next() {
            match p {
                Piece::Local(a, b) => out.extend_from_slice(&self.local[a..b]),
                Piece::Array(n) => ReplyWriter::new(out, self.proto).array(n),
                Piece::Shard(s) => match next_reply(&mut replies, s) {
                    Some(bytes) => out.extend_from_slice(bytes),
                    None => ReplyWriter::new(out, self.proto).error("ERR shard unavailable"),
                },
                Piece::Sum(n) => {
                    let mut sum = 0i64;
                    for _ in 0..n {
                        if let Some(Piece::Shard(s)) = pieces.next() {
                            sum += next_reply(&mut replies, s)
                                .and_then(parse_int_reply)
                                .unwrap_or(0);
                        }
                    }
                    ReplyWriter::new(out, self.proto).int(sum);
                }
            }
        }
        self.local.clear();
    }
}

/// The slot all keys share, or `None` if they span slots (CROSSSLOT).
fn one_slot<'a>(mut keys: impl Iterator<Item = &'a [u8]>) -> Option<u16> {
    let first = resp::key_slot(keys.next()?);
    keys.all(|k| resp::key_slot(k) == first).then_some(first)
}

fn parse_int_reply(b: &[u8]) -> Option<i64> {
    let s = b.strip_prefix(b":")?.strip_suffix(b"\r\n")?;
    std::str::from_utf8(s).ok()?.parse().ok()
}
