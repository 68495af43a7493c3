//! Key commands added for issue 3: EXPIRETIME PEXPIRETIME RENAME RENAMENX COPY TOUCH RANDOMKEY
//! and OBJECT ENCODING/FREQ/IDLETIME/REFCOUNT.
//!
//! RENAME and COPY write the destination as a new value: an observed delete of what it held,
//! then the source's visible content with fresh dots and the source's TTL (counters are
//! carried as the values they show). Both keys are in one slot (the proxy checks).

use crdt::{Entry, Kind};
use resp::{Command, ReplyWriter};

use crate::shard::Shard;

/// A key's visible content, copied out.
enum Snapshot {
    String(Vec<u8>),
    Set(Vec<Vec<u8>>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    ZSet(Vec<(Vec<u8>, f64)>),
    List(Vec<Vec<u8>>),
}

fn snapshot(e: &Entry) -> Option<Snapshot> {
    Some(match e.kind()? {
        Kind::String => Snapshot::String(e.string_value()?.into_owned()),
        Kind::Set => Snapshot::Set(e.members().map(|m| m.to_vec()).collect()),
        Kind::Hash => Snapshot::Hash(
            e.hash_fields()
                .map(|(f, v)| (f.to_vec(), v.into_owned()))
                .collect(),
        ),
        Kind::ZSet => Snapshot::ZSet(e.zset_members().map(|(m, s)| (m.to_vec(), s)).collect()),
        Kind::List => Snapshot::List(e.list_iter().map(|v| v.to_vec()).collect()),
    })
}

/// OBJECT ENCODING as Redis 7.0 would report it for the same value with default settings.
fn encoding(e: &Entry) -> &'static str {
    match e.kind() {
        Some(Kind::String) => {
            let v = e.string_value().unwrap_or_default();
            if v.len() <= 20 && crdt::num::parse_i64(&v).is_some() {
                "int"
            } else if v.len() <= 44 {
                "embstr"
            } else {
                "raw"
            }
        }
        Some(Kind::Set) => {
            let n = e.card();
            // Redis 7.0 has no listpack sets (7.2 added them).
            if n <= 512 && e.members().all(|m| crdt::num::parse_i64(m).is_some()) {
                "intset"
            } else {
                "hashtable"
            }
        }
        Some(Kind::Hash) => {
            if e.hlen() <= 128 && e.hash_fields().all(|(f, v)| f.len() <= 64 && v.len() <= 64) {
                "listpack"
            } else {
                "hashtable"
            }
        }
        Some(Kind::ZSet) => {
            if e.zcard() <= 128 && e.zset_members().all(|(m, _)| m.len() <= 64) {
                "listpack"
            } else {
                "skiplist"
            }
        }
        Some(Kind::List) => {
            if e.list_len() <= 128 && e.list_iter().all(|v| v.len() <= 64) {
                "listpack"
            } else {
                "quicklist"
            }
        }
        None => "none",
    }
}

impl Shard {
    /// Executes a key command added for issue 3; gives any other command back.
    pub(super) fn exec_keys(
        &mut self,
        slot: u16,
        cmd: Command,
        now: u64,
        w: &mut ReplyWriter,
    ) -> Option<Command> {
        match cmd {
            Command::ExpireTime { key, ms } => match self.read(slot, &key, now) {
                None => w.int(-2),
                Some(e) => match e.expiry() {
                    None => w.int(-1),
                    Some(x) => {
                        let at = x.deadline_ms.min(i64::MAX as u64 - 500) as i64;
                        // Seconds are rounded, as Redis does.
                        w.int(if ms { at } else { (at + 500) / 1000 });
                    }
                },
            },
            Command::Rename { src, dst, nx } => {
                let Some(snap) = self.read(slot, &src, now).and_then(snapshot) else {
                    w.error("ERR no such key");
                    return None;
                };
                if src == dst {
                    if nx { w.int(0) } else { w.ok() };
                    return None;
                }
                if nx && self.read(slot, &dst, now).is_some() {
                    w.int(0);
                    return None;
                }
                let deadline = self
                    .keys
                    .get(slot, &src)
                    .and_then(|e| e.expiry())
                    .map(|x| x.deadline_ms);
                self.restore(slot, &dst, snap, deadline, now);
                self.write(slot, &src, |e, _| ((), e.delete()));
                if nx {
                    w.int(1);
                } else {
                    w.ok();
                }
            }
            Command::Copy {
                src,
                dst,
                db,
                replace,
            } => {
                if db.is_some_and(|d| d != 0) {
                    w.error("ERR DB index is out of range");
                    return None;
                }
                if src == dst {
                    w.error("ERR source and destination objects are the same");
                    return None;
                }
                let Some(snap) = self.read(slot, &src, now).and_then(snapshot) else {
                    w.int(0);
                    return None;
                };
                if !replace && self.read(slot, &dst, now).is_some() {
                    w.int(0);
                    return None;
                }
                let deadline = self
                    .keys
                    .get(slot, &src)
                    .and_then(|e| e.expiry())
                    .map(|x| x.deadline_ms);
                self.restore(slot, &dst, snap, deadline, now);
                w.int(1);
            }
            Command::RandomKey => self.random_key(now, w),
            Command::ObjectEncoding(key) => match self.read(slot, &key, now) {
                None => w.null(),
                Some(e) => w.bulk(encoding(e).as_bytes()),
            },
            Command::ObjectRefCount(key) => match self.read(slot, &key, now) {
                None => w.null(),
                // Every value has one owner here (Redis shares small integers; we do not).
                Some(_) => w.int(1),
            },
            Command::ObjectFreq(key) => match self.read(slot, &key, now) {
                None => w.null(),
                // As Redis under its default policy (noeviction): no access frequency is kept.
                Some(_) => w.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."),
            },
            Command::ObjectIdleTime(key) => match self.read(slot, &key, now) {
                None => w.null(),
                Some(_) => w.error(
                    "ERR OBJECT IDLETIME is not supported: Meridian does not track access times",
                ),
            },
            other => return Some(other),
        }
        None
    }

    /// Writes `snap` as the new value of `dst` (an observed delete of its old value first),
    /// with `deadline` as its TTL.
    fn restore(&mut self, slot: u16, dst: &[u8], snap: Snapshot, deadline: Option<u64>, now: u64) {
        self.expire_if_due(slot, dst, now);
        self.write(slot, dst, |e, _| ((), e.delete()));
        if let Snapshot::String(v) = &snap {
            self.write(slot, dst, |e, dot| {
                ((), Some(e.set(dot, v, false, deadline)))
            });
            return;
        }
        self.write(slot, dst, |e, dot| {
            let d = match &snap {
                Snapshot::String(_) => None,
                Snapshot::Set(ms) => Some(e.sadd(dot, ms.iter().map(|m| &m[..])).1),
                Snapshot::Hash(fs) => Some(e.hset(dot, fs.iter().map(|(f, v)| (&f[..], &v[..]))).1),
                Snapshot::ZSet(ms) => Some(e.zadd(dot, ms.iter().map(|(m, s)| (&m[..], *s)))),
                Snapshot::List(vs) => {
                    let vs: Vec<&[u8]> = vs.iter().map(|v| &v[..]).collect();
                    e.list_push(dot, false, &vs).1
                }
            };
            ((), d)
        });
        if let Some(d) = deadline {
            self.write(slot, dst, |e, dot| ((), Some(e.set_expiry(dot, Some(d)))));
        }
    }

    /// RANDOMKEY within this shard: a random visible key, or nil when it has none. The
    /// keyspace holds only this shard's slots, so the others are empty and skipped cheaply.
    fn random_key(&mut self, now: u64, w: &mut ReplyWriter) {
        let slots = crate::shard::SLOTS;
        let start = self.rng.below(slots);
        for i in 0..slots {
            let slot = (start + i) % slots;
            let keys: Vec<&[u8]> = self
                .keys
                .iter_slots(slot..slot + 1)
                .filter(|(_, _, e)| crate::shard::visible(e, now))
                .map(|(_, k, _)| k)
                .collect();
            if !keys.is_empty() {
                let k = keys[self.rng.below(keys.len())].to_vec();
                return w.bulk(&k);
            }
        }
        w.null();
    }
}
