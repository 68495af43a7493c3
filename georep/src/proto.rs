//! Sans-IO core of a geo-link: the sender and receiver state machines, driven
//! by the QUIC shell with log reads, received messages and the current time.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::{Read, RegionId};

/// A batch the sender wants on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub shard: u16,
    pub first_offset: u64,
    pub ops: Vec<(u64, Bytes)>,
}

/// Protocol violations by the peer; the shell closes the connection on them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("shard {0} out of range")]
    BadShard(u16),
    #[error("resume vector has {got} shards, expected {want}")]
    ResumeLen { got: usize, want: usize },
    #[error("shard {shard}: ack {ack} beyond sent {sent}")]
    AckBeyondSent { shard: u16, ack: u64, sent: u64 },
    #[error("shard {shard}: gap, expected offset {expected}, batch starts at {first}")]
    Gap {
        shard: u16,
        expected: u64,
        first: u64,
    },
    #[error("offset overflow")]
    Overflow,
}

/// What the sender wants the shell to do for one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// Nothing to do until the log head moves or an ack arrives.
    Idle,
    /// Read the log from `from`, about `max_bytes`, and pass the result to `on_read`.
    Read { from: u64, max_bytes: usize },
    /// Ops are pending but the batch is not full; poll again at this time.
    WaitUntil(Instant),
}

/// Outcome of feeding a log read to the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnRead {
    /// Put this batch on the wire (the sender already counts it in flight).
    Send(Batch),
    /// Not enough for a batch yet; poll again at this time.
    WaitUntil(Instant),
    /// Nothing new in the log.
    UpToDate,
    /// The log no longer holds what the peer needs: stop streaming this shard.
    NeedsFullSync { needed: u64, first_available: u64 },
}

#[derive(Debug, Clone)]
struct ShardSender {
    /// Next offset the peer expects (everything below is acknowledged).
    acked: u64,
    /// Next offset to put on the wire.
    sent: u64,
    /// Unacked batches: (end offset exclusive, bytes).
    inflight: VecDeque<(u64, usize)>,
    inflight_bytes: usize,
    /// When pending ops were first seen unsent, for `batch_max_delay`.
    pending_since: Option<Instant>,
    needs_full_sync: bool,
}

/// Sender side of one connection: per shard offsets, in-flight window, batching.
#[derive(Debug, Clone)]
pub struct Sender {
    shards: Vec<ShardSender>,
    batch_max_bytes: usize,
    batch_max_delay: Duration,
    window_bytes: usize,
}

fn op_bytes(ops: &[(u64, Bytes)]) -> usize {
    // 8 bytes of HLC plus a little framing per op, so empty payloads still count.
    ops.iter().map(|(_, b)| b.len() + 12).sum()
}

impl Sender {
    /// A sender before the handshake; offsets are set by [`Sender::on_hello_ack`].
    pub fn new(shards: u16, batch_max_bytes: usize, batch_max_delay: Duration) -> Sender {
        let batch_max_bytes = batch_max_bytes.max(1);
        Sender {
            shards: (0..shards)
                .map(|_| ShardSender {
                    acked: 1,
                    sent: 1,
                    inflight: VecDeque::new(),
                    inflight_bytes: 0,
                    pending_since: None,
                    needs_full_sync: false,
                })
                .collect(),
            batch_max_bytes,
            batch_max_delay,
            window_bytes: batch_max_bytes.saturating_mul(4),
        }
    }

    pub fn shards(&self) -> u16 {
        self.shards.len() as u16
    }

    /// Resume from the receiver's expected offsets: anything it has not
    /// acknowledged is sent again (at-least-once).
    pub fn on_hello_ack(&mut self, resume: &[u64]) -> Result<(), ProtoError> {
        if resume.len() != self.shards.len() {
            return Err(ProtoError::ResumeLen {
                got: resume.len(),
                want: self.shards.len(),
            });
        }
        for (s, &r) in self.shards.iter_mut().zip(resume) {
            // Offsets start at 1; a 0 from a confused peer means "from the start".
            let r = r.max(1);
            s.acked = r;
            s.sent = r;
            s.inflight.clear();
            s.inflight_bytes = 0;
            s.pending_since = None;
        }
        Ok(())
    }

    fn shard(&self, shard: u16) -> Result<&ShardSender, ProtoError> {
        self.shards
            .get(shard as usize)
            .ok_or(ProtoError::BadShard(shard))
    }

    /// Next offset the receiver expects on `shard`.
    pub fn acked(&self, shard: u16) -> u64 {
        self.shard(shard).map(|s| s.acked).unwrap_or(1)
    }

    /// Next offset to be sent on `shard`.
    pub fn sent(&self, shard: u16) -> u64 {
        self.shard(shard).map(|s| s.sent).unwrap_or(1)
    }

    pub fn needs_full_sync(&self, shard: u16) -> bool {
        self.shard(shard)
            .map(|s| s.needs_full_sync)
            .unwrap_or(false)
    }

    pub fn inflight_bytes(&self, shard: u16) -> usize {
        self.shard(shard).map(|s| s.inflight_bytes).unwrap_or(0)
    }

    /// What to do next on `shard`, given the log's next offset.
    pub fn poll(&mut self, shard: u16, now: Instant, log_next: u64) -> Poll {
        let window = self.window_bytes;
        let batch_max = self.batch_max_bytes;
        let Some(s) = self.shards.get_mut(shard as usize) else {
            return Poll::Idle;
        };
        if s.needs_full_sync || log_next <= s.sent {
            s.pending_since = None;
            return Poll::Idle;
        }
        if s.inflight_bytes >= window {
            // Window full: the next ack makes room.
            return Poll::Idle;
        }
        // The batching delay counts from when ops were first seen pending.
        s.pending_since.get_or_insert(now);
        Poll::Read {
            from: s.sent,
            max_bytes: batch_max.min(window - s.inflight_bytes).max(1),
        }
    }

    /// Feeds the result of the read `poll` asked for.
    pub fn on_read(&mut self, shard: u16, read: Read, now: Instant, log_next: u64) -> OnRead {
        let delay = self.batch_max_delay;
        let batch_max = self.batch_max_bytes;
        let Some(s) = self.shards.get_mut(shard as usize) else {
            return OnRead::UpToDate;
        };
        match read {
            Read::UpToDate { .. } => {
                s.pending_since = None;
                OnRead::UpToDate
            }
            Read::Trimmed { first_available } => {
                s.needs_full_sync = true;
                s.pending_since = None;
                OnRead::NeedsFullSync {
                    needed: s.sent,
                    first_available,
                }
            }
            Read::Ops { first, mut ops } => {
                if ops.is_empty() {
                    s.pending_since = None;
                    return OnRead::UpToDate;
                }
                if first > s.sent {
                    // The log skipped what we need: same as trimmed.
                    s.needs_full_sync = true;
                    s.pending_since = None;
                    return OnRead::NeedsFullSync {
                        needed: s.sent,
                        first_available: first,
                    };
                }
                // A log that returns older ops than asked: drop the ones already sent.
                let skip = (s.sent - first) as usize;
                if skip >= ops.len() {
                    return OnRead::UpToDate;
                }
                ops.drain(..skip);
                let first = s.sent;
                let end = first + ops.len() as u64;
                let bytes = op_bytes(&ops);
                // Full when the read was cut short by its size limit, or big enough.
                let full = end < log_next || bytes >= batch_max;
                let since = *s.pending_since.get_or_insert(now);
                let deadline = since + delay;
                if !full && now < deadline {
                    return OnRead::WaitUntil(deadline);
                }
                s.pending_since = None;
                s.sent = end;
                s.inflight.push_back((end, bytes));
                s.inflight_bytes += bytes;
                OnRead::Send(Batch {
                    shard,
                    first_offset: first,
                    ops,
                })
            }
        }
    }

    /// The receiver has everything below `next_offset`; returns how many ops
    /// this ack newly covers.
    pub fn on_ack(&mut self, shard: u16, next_offset: u64) -> Result<u64, ProtoError> {
        let s = self
            .shards
            .get_mut(shard as usize)
            .ok_or(ProtoError::BadShard(shard))?;
        if next_offset > s.sent {
            return Err(ProtoError::AckBeyondSent {
                shard,
                ack: next_offset,
                sent: s.sent,
            });
        }
        if next_offset <= s.acked {
            // Stale or repeated ack: harmless.
            return Ok(0);
        }
        let newly = next_offset - s.acked;
        s.acked = next_offset;
        while let Some(&(end, bytes)) = s.inflight.front() {
            if end > next_offset {
                break;
            }
            s.inflight.pop_front();
            s.inflight_bytes -= bytes;
        }
        Ok(newly)
    }
}

/// Ops not yet acknowledged by the peer: `log_next - 1 - (acked - 1)`.
pub fn lag_ops(log_next: u64, acked: u64) -> u64 {
    log_next.saturating_sub(acked.max(1))
}

/// Age in ms of the oldest unacked op, from its HLC (upper 48 bits = wall ms).
pub fn lag_ms(now_ms: u64, oldest_unacked_hlc: Option<u64>) -> u64 {
    match oldest_unacked_hlc {
        Some(hlc) => now_ms.saturating_sub(hlc >> 16),
        None => 0,
    }
}

/// What the receiver answers to a `Hello`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelloOutcome {
    Accept {
        resume: Vec<u64>,
        /// The origin restarted (or is new): offsets begin again at 1.
        new_incarnation: bool,
    },
    Refuse(String),
}

#[derive(Debug, Clone)]
struct OriginState {
    incarnation: u64,
    next: Vec<u64>,
}

/// What the receiver remembers per origin across connections (in memory):
/// the next expected offset per shard of the origin's current incarnation.
#[derive(Debug, Clone, Default)]
pub struct ReceiverMemory {
    origins: HashMap<RegionId, OriginState>,
}

/// Ops of a batch left to apply after dropping duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToApply {
    pub ops: Vec<(u64, Bytes)>,
    /// Offset expected once they are applied.
    pub next: u64,
}

/// Largest shard count a peer may announce (each shard costs a slot).
pub const MAX_SHARDS: u16 = 16384;

impl ReceiverMemory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles a `Hello` (identity already checked by the shell).
    pub fn hello(&mut self, origin: RegionId, incarnation: u64, shards: u16) -> HelloOutcome {
        if shards == 0 || shards > MAX_SHARDS {
            return HelloOutcome::Refuse(format!("bad shard count {shards}"));
        }
        match self.origins.get_mut(&origin) {
            Some(o) if o.incarnation == incarnation => {
                if o.next.len() != shards as usize {
                    return HelloOutcome::Refuse(format!(
                        "shard count changed from {} to {shards} within one incarnation",
                        o.next.len()
                    ));
                }
                HelloOutcome::Accept {
                    resume: o.next.clone(),
                    new_incarnation: false,
                }
            }
            _ => {
                let next = vec![1; shards as usize];
                self.origins.insert(
                    origin,
                    OriginState {
                        incarnation,
                        next: next.clone(),
                    },
                );
                HelloOutcome::Accept {
                    resume: next,
                    new_incarnation: true,
                }
            }
        }
    }

    /// Next expected offset, if `origin`'s `incarnation` is the current one.
    pub fn expected(&self, origin: RegionId, incarnation: u64, shard: u16) -> Option<u64> {
        let o = self.origins.get(&origin)?;
        if o.incarnation != incarnation {
            return None;
        }
        o.next.get(shard as usize).copied()
    }

    /// Checks a batch against the expected offset: `Ok(None)` when it is all
    /// duplicates, `Ok(Some((ops, next)))` with the ops to apply (duplicates
    /// dropped) and the offset expected after them, `Err` on a gap. Nothing
    /// is recorded until [`ReceiverMemory::applied`].
    pub fn check_batch(
        &self,
        origin: RegionId,
        incarnation: u64,
        shard: u16,
        first: u64,
        mut ops: Vec<(u64, Bytes)>,
    ) -> Result<Option<ToApply>, ProtoError> {
        let expected = self
            .expected(origin, incarnation, shard)
            .ok_or(ProtoError::BadShard(shard))?;
        if first > expected {
            return Err(ProtoError::Gap {
                shard,
                expected,
                first,
            });
        }
        let end = first
            .checked_add(ops.len() as u64)
            .ok_or(ProtoError::Overflow)?;
        if end <= expected {
            return Ok(None);
        }
        ops.drain(..(expected - first) as usize);
        Ok(Some(ToApply { ops, next: end }))
    }

    /// Records that everything below `next` on `shard` was applied. Ignored
    /// if the origin moved to another incarnation meanwhile.
    pub fn applied(&mut self, origin: RegionId, incarnation: u64, shard: u16, next: u64) {
        if let Some(o) = self.origins.get_mut(&origin) {
            if o.incarnation == incarnation {
                if let Some(n) = o.next.get_mut(shard as usize) {
                    *n = (*n).max(next);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(n: u64, start_hlc: u64) -> Vec<(u64, Bytes)> {
        (0..n)
            .map(|i| (start_hlc + i, Bytes::from(vec![b'x'; 10])))
            .collect()
    }

    /// A Vec-backed log to drive the sender: ops[i] has offset first + i.
    struct Log {
        first: u64,
        ops: Vec<(u64, Bytes)>,
    }
    impl Log {
        fn next(&self) -> u64 {
            self.first + self.ops.len() as u64
        }
        fn read(&self, from: u64, max: usize) -> Read {
            if from < self.first {
                return Read::Trimmed {
                    first_available: self.first,
                };
            }
            if from >= self.next() {
                return Read::UpToDate { next: self.next() };
            }
            let mut out = Vec::new();
            let mut bytes = 0;
            for op in &self.ops[(from - self.first) as usize..] {
                if !out.is_empty() && bytes + op.1.len() + 12 > max {
                    break;
                }
                bytes += op.1.len() + 12;
                out.push(op.clone());
            }
            Read::Ops {
                first: from,
                ops: out,
            }
        }
    }

    /// Polls and reads until the sender stops producing batches.
    fn drain(s: &mut Sender, log: &Log, now: Instant) -> Vec<Batch> {
        let mut out = Vec::new();
        loop {
            match s.poll(0, now, log.next()) {
                Poll::Read { from, max_bytes } => {
                    match s.on_read(0, log.read(from, max_bytes), now, log.next()) {
                        OnRead::Send(b) => out.push(b),
                        _ => return out,
                    }
                }
                _ => return out,
            }
        }
    }

    #[test]
    fn sends_in_order_and_resumes_from_acked_after_reconnect() {
        let now = Instant::now();
        let log = Log {
            first: 1,
            ops: ops(10, 1 << 16),
        };
        let mut s = Sender::new(1, 1 << 20, Duration::ZERO);
        s.on_hello_ack(&[1]).expect("resume");
        let b = drain(&mut s, &log, now);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].first_offset, 1);
        assert_eq!(b[0].ops.len(), 10);
        assert_eq!(s.sent(0), 11);
        // The receiver acknowledged 1..=4, then the connection dropped.
        assert_eq!(s.on_ack(0, 5), Ok(4));
        let mut s = Sender::new(1, 1 << 20, Duration::ZERO);
        s.on_hello_ack(&[5]).expect("resume");
        let b = drain(&mut s, &log, now);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].first_offset, 5);
        assert_eq!(b[0].ops, log.ops[4..].to_vec());
        assert_eq!(s.on_ack(0, 11), Ok(6));
        assert_eq!(s.inflight_bytes(0), 0);
        // Stale acks are harmless, acks beyond what was sent are errors.
        assert_eq!(s.on_ack(0, 7), Ok(0));
        assert!(s.on_ack(0, 12).is_err());
        assert!(s.on_ack(3, 1).is_err());
        assert!(s.on_hello_ack(&[1, 1]).is_err());
    }

    #[test]
    fn window_limits_inflight_and_acks_reopen_it() {
        let now = Instant::now();
        let log = Log {
            first: 1,
            ops: ops(100, 0),
        };
        // 22 bytes per op, batches of ~44 bytes = 2 ops, window 176 = 8 ops.
        let mut s = Sender::new(1, 44, Duration::ZERO);
        s.on_hello_ack(&[1]).expect("resume");
        let b = drain(&mut s, &log, now);
        let sent: usize = b.iter().map(|b| b.ops.len()).sum();
        assert_eq!(sent, 8);
        assert!(b.iter().all(|b| b.ops.len() == 2));
        assert_eq!(s.poll(0, now, log.next()), Poll::Idle);
        s.on_ack(0, 3).expect("ack");
        let b = drain(&mut s, &log, now);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].first_offset, 9);
    }

    #[test]
    fn small_batches_wait_for_the_delay() {
        let t0 = Instant::now();
        let log = Log {
            first: 1,
            ops: ops(2, 0),
        };
        let mut s = Sender::new(1, 1 << 20, Duration::from_millis(5));
        s.on_hello_ack(&[1]).expect("resume");
        let Poll::Read { from, max_bytes } = s.poll(0, t0, log.next()) else {
            panic!("expected a read")
        };
        let r = s.on_read(0, log.read(from, max_bytes), t0, log.next());
        assert_eq!(r, OnRead::WaitUntil(t0 + Duration::from_millis(5)));
        assert_eq!(s.sent(0), 1);
        let b = drain(&mut s, &log, t0 + Duration::from_millis(5));
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].ops.len(), 2);
    }

    #[test]
    fn trimmed_log_needs_full_sync() {
        let now = Instant::now();
        let log = Log {
            first: 50,
            ops: ops(10, 0),
        };
        let mut s = Sender::new(1, 1 << 20, Duration::ZERO);
        s.on_hello_ack(&[20]).expect("resume");
        let Poll::Read { from, max_bytes } = s.poll(0, now, log.next()) else {
            panic!("expected a read")
        };
        assert_eq!(from, 20);
        assert_eq!(
            s.on_read(0, log.read(from, max_bytes), now, log.next()),
            OnRead::NeedsFullSync {
                needed: 20,
                first_available: 50
            }
        );
        assert!(s.needs_full_sync(0));
        // The shard stops streaming.
        assert_eq!(s.poll(0, now, log.next()), Poll::Idle);
        // A peer that is caught up with a trimmed log is fine.
        let mut s = Sender::new(1, 1 << 20, Duration::ZERO);
        s.on_hello_ack(&[55]).expect("resume");
        let b = drain(&mut s, &log, now);
        assert_eq!(b[0].first_offset, 55);
        assert!(!s.needs_full_sync(0));
    }

    #[test]
    fn receiver_skips_duplicates_and_refuses_gaps() {
        let mut m = ReceiverMemory::new();
        assert_eq!(
            m.hello(2, 7, 2),
            HelloOutcome::Accept {
                resume: vec![1, 1],
                new_incarnation: true
            }
        );
        let ToApply { ops: apply, next } = m
            .check_batch(2, 7, 0, 1, ops(5, 0))
            .expect("ok")
            .expect("something to apply");
        assert_eq!((apply.len(), next), (5, 6));
        m.applied(2, 7, 0, next);
        // Overlapping resend: only offsets 6..=7 are new.
        let ToApply { ops: apply, next } = m
            .check_batch(2, 7, 0, 4, ops(4, 100))
            .expect("ok")
            .expect("something to apply");
        assert_eq!(apply, ops(4, 100)[2..].to_vec());
        assert_eq!(next, 8);
        m.applied(2, 7, 0, next);
        // Pure duplicate.
        assert_eq!(m.check_batch(2, 7, 0, 1, ops(7, 0)), Ok(None));
        // Gap.
        assert_eq!(
            m.check_batch(2, 7, 0, 9, ops(1, 0)),
            Err(ProtoError::Gap {
                shard: 0,
                expected: 8,
                first: 9
            })
        );
        assert!(m.check_batch(2, 7, 5, 1, ops(1, 0)).is_err());
        // Reconnect of the same incarnation resumes where it was.
        assert_eq!(
            m.hello(2, 7, 2),
            HelloOutcome::Accept {
                resume: vec![8, 1],
                new_incarnation: false
            }
        );
        assert!(matches!(m.hello(2, 7, 3), HelloOutcome::Refuse(_)));
        // A new incarnation starts again at 1.
        assert_eq!(
            m.hello(2, 8, 3),
            HelloOutcome::Accept {
                resume: vec![1, 1, 1],
                new_incarnation: true
            }
        );
        // Late commit from the old incarnation is ignored.
        m.applied(2, 7, 0, 100);
        assert_eq!(m.expected(2, 8, 0), Some(1));
        assert!(matches!(m.hello(2, 9, 0), HelloOutcome::Refuse(_)));
    }

    #[test]
    fn lag_math() {
        assert_eq!(lag_ops(11, 11), 0);
        assert_eq!(lag_ops(11, 5), 6);
        assert_eq!(lag_ops(1, 1), 0);
        assert_eq!(lag_ops(5, 0), 4);
        assert_eq!(lag_ms(10_000, Some(9_000 << 16 | 7)), 1_000);
        assert_eq!(lag_ms(10_000, Some(11_000 << 16)), 0);
        assert_eq!(lag_ms(10_000, None), 0);
    }
}
