//! Command execution on a shard's keyspace: the Redis semantics of each keyed command, the
//! CRDT delta each write produces, and the reply.
//!
//! Reads see a key only if it is live and its TTL has not passed. A write to a key whose TTL
//! has passed first deletes it (observed-remove, replicated like any delete), so the write
//! starts from an empty key as in Redis.

use actix::{Handler, Message};
use bytes::Bytes;
use crdt::{Entry, Kind, NumError};
use resp::{Command, ExpireAt, ExpireCond, ReplyWriter, SetCond, SetExpiry};

use super::{type_name, visible, Shard};

mod coll;
mod hash;
mod keys;
mod list;
mod set;
mod strings;
mod zset;

pub use coll::Prng;

/// Redis's error for an operation on the wrong type.
pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

/// Whether `now + ms` leaves the millisecond range Redis keeps deadlines in (it refuses
/// such a TTL with "invalid expire time").
fn expire_overflows(now: u64, ms: i64) -> bool {
    ms > 0 && (now as i64).checked_add(ms).is_none()
}

/// Decimal digits of `v`.
fn itoa_buf(v: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(20);
    crdt::num::push_i64(&mut out, v);
    out
}

fn num_error(e: NumError) -> &'static str {
    match e {
        NumError::NotInteger => "ERR value is not an integer or out of range",
        NumError::Overflow => "ERR increment or decrement would overflow",
        NumError::NotFloat => "ERR value is not a valid float",
        NumError::NanOrInfinity => "ERR increment would produce NaN or Infinity",
    }
}

impl Shard {
    /// The entry of `key` if a client can see it at `now`.
    fn read(&mut self, slot: u16, key: &[u8], now: u64) -> Option<&Entry> {
        match self.keys.get(slot, key).filter(|e| visible(e, now)) {
            Some(e) => {
                self.stats.keyspace_hits += 1;
                Some(e)
            }
            None => {
                self.stats.keyspace_misses += 1;
                None
            }
        }
    }

    /// The entry of `key` for a read of type `want`: `Ok(None)` when absent, `Err(())` when
    /// it holds another type (the caller replies WRONGTYPE).
    pub(super) fn read_as(
        &mut self,
        slot: u16,
        key: &[u8],
        now: u64,
        want: Kind,
    ) -> Result<Option<&Entry>, ()> {
        match self.read(slot, key, now) {
            None => Ok(None),
            Some(e) if e.kind() == Some(want) => Ok(Some(e)),
            Some(_) => Err(()),
        }
    }

    /// Prepares `key` for a write: a key whose TTL has passed is deleted first.
    fn expire_if_due(&mut self, slot: u16, key: &[u8], now: u64) {
        self.kind_for_write(slot, key, now);
    }

    /// The visible type of a key, for WRONGTYPE checks before a write (a key whose TTL has
    /// passed is deleted first). One lookup in the common case.
    fn kind_for_write(&mut self, slot: u16, key: &[u8], now: u64) -> Option<Kind> {
        let (due, kind) = match self.keys.get(slot, key) {
            Some(e) => {
                let kind = e.kind();
                (
                    kind.is_some() && e.expiry().is_some_and(|x| x.deadline_ms <= now),
                    kind,
                )
            }
            None => (false, None),
        };
        if due {
            self.expire_key(slot, key);
            return self.keys.get(slot, key).and_then(|e| e.kind());
        }
        kind
    }

    /// Whether a write of type `want` may go to `key`: it is absent, dead, expired or holds
    /// that type (else the caller replies WRONGTYPE).
    pub(super) fn kind_ok(&mut self, slot: u16, key: &[u8], now: u64, want: Kind) -> bool {
        self.kind_for_write(slot, key, now)
            .is_none_or(|k| k == want)
    }

    /// Runs one write on the entry of `key` and replicates its delta.
    fn write<T>(
        &mut self,
        slot: u16,
        key: &[u8],
        f: impl FnOnce(&mut Entry, crdt::Dot) -> (T, Option<Entry>),
    ) -> T {
        let dot = self.dot();
        let entry = self.keys.entry(slot, key);
        let (out, delta) = f(entry, dot);
        match delta {
            Some(d) => self.replicate(slot, key, dot.hlc.0, &d),
            None => self.drop_if_empty(slot, key),
        }
        out
    }

    /// Executes one command and writes its reply.
    pub(crate) fn execute(&mut self, slot: u16, cmd: Command, now: u64, w: &mut ReplyWriter) {
        let Some(cmd) = self.exec_hash(slot, cmd, now, w) else {
            return;
        };
        let Some(cmd) = self.exec_zset(slot, cmd, now, w) else {
            return;
        };
        let Some(cmd) = self.exec_set(slot, cmd, now, w) else {
            return;
        };
        let Some(cmd) = self.exec_strings(slot, cmd, now, w) else {
            return;
        };
        let Some(cmd) = self.exec_keys(slot, cmd, now, w) else {
            return;
        };
        let Some(cmd) = self.exec_list(slot, cmd, now, w) else {
            return;
        };
        match cmd {
            Command::SetEx { ms, .. } if expire_overflows(now, ms) => {
                w.error("ERR invalid expire time in 'setex' command")
            }
            Command::Set {
                expiry: Some(SetExpiry::RelMs(ms)),
                ..
            } if expire_overflows(now, ms) => w.error("ERR invalid expire time in 'set' command"),
            Command::Expire {
                at: ExpireAt::RelMs(ms),
                name,
                ..
            } if expire_overflows(now, ms) => {
                w.error(&format!("ERR invalid expire time in '{name}' command"))
            }
            Command::Get(key) => match self.read(slot, &key, now) {
                None => w.null(),
                Some(e) => match e.kind() {
                    Some(Kind::String) => match e.string_value() {
                        Some(v) => w.bulk(&v),
                        None => w.null(),
                    },
                    _ => w.error(WRONGTYPE),
                },
            },
            Command::MGet(keys) => {
                // The proxy sends one key per piece and writes the array header itself.
                for key in keys {
                    let v = self
                        .read(slot, &key, now)
                        .filter(|e| e.kind() == Some(Kind::String))
                        .and_then(|e| e.string_value().map(|v| v.into_owned()));
                    match v {
                        Some(v) => w.bulk(&v),
                        None => w.null(),
                    }
                }
            }
            Command::Set {
                key,
                value,
                expiry,
                cond,
                get,
                keepttl,
            } => self.set(slot, key, value, expiry, cond, get, keepttl, now, w),
            Command::SetEx { key, value, ms } => self.set(
                slot,
                key,
                value,
                Some(SetExpiry::RelMs(ms)),
                None,
                false,
                false,
                now,
                w,
            ),
            Command::SetNx { key, value } => {
                self.expire_if_due(slot, &key, now);
                if self.keys.get(slot, &key).is_some_and(|e| e.is_live()) {
                    w.int(0);
                } else {
                    self.write(slot, &key, |e, dot| {
                        ((), Some(e.set(dot, &value, false, None)))
                    });
                    w.int(1);
                }
            }
            Command::GetSet { key, value } => {
                self.set(slot, key, value, None, None, true, false, now, w)
            }
            Command::MSet(pairs) => {
                for (key, value) in pairs {
                    self.expire_if_due(slot, &key, now);
                    self.write(slot, &key, |e, dot| {
                        ((), Some(e.set(dot, &value, false, None)))
                    });
                }
                w.ok();
            }
            Command::GetDel(key) => {
                let old = match self.read(slot, &key, now) {
                    None => None,
                    Some(e) if e.kind() != Some(Kind::String) => return w.error(WRONGTYPE),
                    Some(e) => e.string_value().map(|v| v.into_owned()),
                };
                match old {
                    None => w.null(),
                    Some(v) => {
                        self.write(slot, &key, |e, _| ((), e.delete()));
                        w.bulk(&v);
                    }
                }
            }
            Command::Append { key, value } => {
                let cur = match self.kind_for_write(slot, &key, now) {
                    Some(Kind::String) => self
                        .keys
                        .get(slot, &key)
                        .and_then(|e| e.string_value().map(|v| v.into_owned()))
                        .unwrap_or_default(),
                    None => Vec::new(),
                    Some(_) => return w.error(WRONGTYPE),
                };
                let mut new = cur;
                new.extend_from_slice(&value);
                let len = new.len();
                self.write(slot, &key, |e, dot| {
                    ((), Some(e.set(dot, &new, true, None)))
                });
                w.int(len as i64);
            }
            Command::Strlen(key) => match self.read(slot, &key, now) {
                None => w.int(0),
                Some(e) if e.kind() != Some(Kind::String) => w.error(WRONGTYPE),
                Some(e) => w.int(e.string_value().map(|v| v.len()).unwrap_or(0) as i64),
            },
            Command::IncrBy { key, by } => {
                if !self.kind_ok(slot, &key, now, Kind::String) {
                    return w.error(WRONGTYPE);
                }
                if self.ctx.log.is_none() {
                    // A region without peers has nothing concurrent to merge with, so a
                    // plain integer value is simply rewritten (no per-region counters).
                    if let Some(r) = self.lone_incr(slot, &key, by) {
                        return match r {
                            Ok(v) => w.int(v),
                            Err(e) => w.error(num_error(e)),
                        };
                    }
                }
                let r = self.write(slot, &key, |e, dot| match e.incr_by(dot, by) {
                    Ok((v, d)) => (Ok(v), Some(d)),
                    Err(err) => (Err(err), None),
                });
                match r {
                    Ok(v) => w.int(v),
                    Err(e) => w.error(num_error(e)),
                }
            }
            Command::IncrByFloat { key, by } => {
                if !self.kind_ok(slot, &key, now, Kind::String) {
                    return w.error(WRONGTYPE);
                }
                let r = self.write(slot, &key, |e, dot| match e.incr_by_float(dot, by) {
                    Ok((v, d)) => (Ok(v), Some(d)),
                    Err(err) => (Err(err), None),
                });
                match r {
                    Ok(v) => w.bulk(&v),
                    Err(e) => w.error(num_error(e)),
                }
            }
            Command::SAdd { key, members } => {
                if !self.kind_ok(slot, &key, now, Kind::Set) {
                    return w.error(WRONGTYPE);
                }
                let added = self.write(slot, &key, |e, dot| {
                    let (n, d) = e.sadd(dot, members.iter().map(|m| &m[..]));
                    (n, Some(d))
                });
                w.int(added as i64);
            }
            Command::SRem { key, members } => match self.kind_for_write(slot, &key, now) {
                None => w.int(0),
                Some(Kind::Set) => {
                    let n = self.write(slot, &key, |e, _| e.srem(members.iter().map(|m| &m[..])));
                    w.int(n as i64);
                }
                Some(_) => w.error(WRONGTYPE),
            },
            Command::SMembers(key) => match self.read(slot, &key, now) {
                None => w.set(0),
                Some(e) if e.kind() != Some(Kind::Set) => w.error(WRONGTYPE),
                Some(e) => {
                    w.set(e.card());
                    for m in e.members() {
                        w.bulk(m);
                    }
                }
            },
            Command::SIsMember { key, member } => match self.read(slot, &key, now) {
                None => w.int(0),
                Some(e) if e.kind() != Some(Kind::Set) => w.error(WRONGTYPE),
                Some(e) => w.int(e.is_member(&member) as i64),
            },
            Command::SCard(key) => match self.read(slot, &key, now) {
                None => w.int(0),
                Some(e) if e.kind() != Some(Kind::Set) => w.error(WRONGTYPE),
                Some(e) => w.int(e.card() as i64),
            },
            Command::Del(keys) | Command::Unlink(keys) => {
                let mut n = 0;
                for key in keys {
                    self.expire_if_due(slot, &key, now);
                    if self.write(slot, &key, |e, _| {
                        let d = e.delete();
                        (d.is_some(), d)
                    }) {
                        n += 1;
                    }
                }
                w.int(n);
            }
            Command::Exists(keys) => {
                let mut n = 0;
                for key in keys {
                    if self.read(slot, &key, now).is_some() {
                        n += 1;
                    }
                }
                w.int(n);
            }
            Command::Type(key) => {
                let name = self.read(slot, &key, now).map(type_name).unwrap_or("none");
                w.simple(name);
            }
            Command::Expire { key, at, cond, .. } => self.expire(slot, key, at, cond, now, w),
            Command::Ttl { key, ms } => match self.read(slot, &key, now) {
                None => w.int(-2),
                Some(e) => match e.expiry() {
                    None => w.int(-1),
                    Some(x) => {
                        let left =
                            x.deadline_ms.saturating_sub(now).min(i64::MAX as u64 - 500) as i64;
                        w.int(if ms { left } else { (left + 500) / 1000 });
                    }
                },
            },
            Command::Persist(key) => {
                let has_ttl = self
                    .read(slot, &key, now)
                    .is_some_and(|e| e.expiry().is_some());
                if has_ttl {
                    self.write(slot, &key, |e, dot| ((), Some(e.set_expiry(dot, None))));
                }
                w.int(has_ttl as i64);
            }
            Command::Publish { channel, message } => {
                let n = self.ctx.hub.publish(&channel, &message);
                if self.ctx.log.is_some() {
                    let hlc = self.dot().hlc.0;
                    self.pending
                        .push((hlc, crate::repl::encode_publish(slot, &channel, &message)));
                }
                w.int(n as i64);
            }
            other => {
                // The proxy answers every other command itself; reaching here is a routing bug,
                // reported to the client rather than panicking the shard.
                tracing::error!(
                    cmd = other.name(),
                    "command routed to a shard that does not execute it"
                );
                w.error("ERR internal error: command routed to the wrong place");
            }
        }
    }

    /// INCRBY on a plain (or missing) key of a region without peers: the new value replaces
    /// the old one in place. `None` when the entry is not plain (TTL, counters, other type):
    /// the general path handles it.
    fn lone_incr(&mut self, slot: u16, key: &[u8], by: i64) -> Option<Result<i64, NumError>> {
        let dot = self.dot();
        let e = self.keys.entry(slot, key);
        let cur = match &*e {
            Entry::Plain { value, .. } => match crdt::num::parse_i64(value) {
                Some(v) => v,
                None => return Some(Err(NumError::NotInteger)),
            },
            Entry::Full(f) if **f == crdt::Full::default() => 0,
            Entry::Full(_) | Entry::Packed(_) => return None,
        };
        let Some(new) = cur.checked_add(by) else {
            self.drop_if_empty(slot, key);
            return Some(Err(NumError::Overflow));
        };
        let mut buf = itoa_buf(new);
        *e = Entry::plain(dot, buf.as_mut_slice());
        self.watches.touch(key);
        Some(Ok(new))
    }

    #[allow(clippy::too_many_arguments)]
    fn set(
        &mut self,
        slot: u16,
        key: Bytes,
        value: Bytes,
        expiry: Option<SetExpiry>,
        cond: Option<SetCond>,
        get: bool,
        keepttl: bool,
        now: u64,
        w: &mut ReplyWriter,
    ) {
        self.kind_for_write(slot, &key, now);
        let cur = self.keys.get(slot, &key).filter(|e| e.is_live());
        if get {
            if let Some(e) = cur {
                if e.kind() != Some(Kind::String) {
                    return w.error(WRONGTYPE);
                }
            }
        }
        let old = if get {
            cur.and_then(|e| e.string_value().map(|v| v.into_owned()))
        } else {
            None
        };
        let exists = cur.is_some();
        let blocked = match cond {
            Some(SetCond::Nx) => exists,
            Some(SetCond::Xx) => !exists,
            None => false,
        };
        if !blocked {
            let deadline = expiry.map(|x| match x {
                SetExpiry::RelMs(ms) => now.saturating_add(ms.max(0) as u64),
                SetExpiry::AtMs(ms) => ms.max(0) as u64,
            });
            self.write(slot, &key, |e, dot| {
                ((), Some(e.set(dot, &value, keepttl, deadline)))
            });
        }
        match (get, blocked) {
            (true, _) => match old {
                Some(v) => w.bulk(&v),
                None => w.null(),
            },
            (false, true) => w.null(),
            (false, false) => w.ok(),
        }
    }

    fn expire(
        &mut self,
        slot: u16,
        key: Bytes,
        at: ExpireAt,
        cond: Option<ExpireCond>,
        now: u64,
        w: &mut ReplyWriter,
    ) {
        let current = match self.read(slot, &key, now) {
            None => return w.int(0),
            Some(e) => e.expiry().map(|x| x.deadline_ms),
        };
        let deadline = match at {
            ExpireAt::RelMs(rel) if rel <= 0 => now.saturating_sub(rel.unsigned_abs()),
            ExpireAt::RelMs(rel) => now.saturating_add(rel as u64),
            ExpireAt::AtMs(at) => at.max(0) as u64,
        };
        // No TTL counts as an infinite one for GT and LT, as in Redis.
        let allowed = match cond {
            None => true,
            Some(ExpireCond::Nx) => current.is_none(),
            Some(ExpireCond::Xx) => current.is_some(),
            Some(ExpireCond::Gt) => current.is_some_and(|c| deadline > c),
            Some(ExpireCond::Lt) => current.is_none_or(|c| deadline < c),
        };
        if !allowed {
            return w.int(0);
        }
        if deadline <= now {
            // A TTL in the past deletes the key, as in Redis.
            self.write(slot, &key, |e, _| ((), e.delete()));
        } else {
            self.write(slot, &key, |e, dot| {
                ((), Some(e.set_expiry(dot, Some(deadline))))
            });
        }
        w.int(1);
    }
}

/// `group flush`: deletes the keys of the shard as a replicated DEL each, so every member
/// removes what this region had of them (observed-remove: a write this region had not
/// seen yet survives, as with DEL), from slot `from_slot` on, a bounded number of keys per
/// message so clients' commands run in between. Answers how many keys were deleted and
/// the slot to go on from (`None`: done).
#[derive(Message)]
#[rtype(result = "(u64, Option<usize>)")]
pub struct FlushGroup {
    pub from_slot: usize,
}

/// Keys one [`FlushGroup`] step deletes at most (whole slots: a bigger slot goes whole).
const FLUSH_STEP: usize = 4096;

impl Handler<FlushGroup> for Shard {
    type Result = actix::MessageResult<FlushGroup>;

    fn handle(&mut self, msg: FlushGroup, _: &mut Self::Context) -> Self::Result {
        if self.fenced {
            // Leaving the group: deletes could not be replicated.
            return actix::MessageResult((0, None));
        }
        let mut keys: Vec<(u16, Vec<u8>)> = Vec::new();
        let mut slot = msg.from_slot;
        while slot < crate::shard::SLOTS && keys.len() < FLUSH_STEP {
            keys.extend(
                self.keys
                    .iter_slots(slot..slot + 1)
                    .map(|(s, key, _)| (s, key.to_vec())),
            );
            slot += 1;
        }
        let mut n = 0;
        for (slot, key) in keys {
            if self.write(slot, &key, |e, _| {
                let d = e.delete();
                (d.is_some(), d)
            }) {
                n += 1;
            }
            // Bounded batches in the log, like a client's pipeline.
            if self.pending.len() >= 1024 {
                self.flush_pending();
            }
        }
        self.flush_pending();
        actix::MessageResult((n, (slot < crate::shard::SLOTS).then_some(slot)))
    }
}
