//! Hash commands: HSET HSETNX HGET HMGET HMSET HGETALL HDEL HEXISTS HLEN HKEYS HVALS HSTRLEN
//! HINCRBY HINCRBYFLOAT HSCAN HRANDFIELD.

use crdt::{FieldNumError, Kind};
use resp::{Command, ReplyWriter};

use super::coll::{sample, write_scan};
use super::WRONGTYPE;
use crate::shard::Shard;

fn hash_num_error(e: FieldNumError) -> &'static str {
    match e {
        FieldNumError::NotInteger => "ERR hash value is not an integer",
        FieldNumError::NotFloat => "ERR hash value is not a float",
        FieldNumError::Overflow => "ERR increment or decrement would overflow",
        FieldNumError::NanOrInfinity => "ERR increment would produce NaN or Infinity",
    }
}

/// Largest |count| of a random sample with repetitions: Redis streams any size; we build the
/// reply in memory, so a count past this is refused rather than exhausting memory.
pub(super) const MAX_SAMPLE: u64 = 1 << 24;

impl Shard {
    /// Executes a hash command; gives any other command back.
    pub(super) fn exec_hash(
        &mut self,
        slot: u16,
        cmd: Command,
        now: u64,
        w: &mut ReplyWriter,
    ) -> Option<Command> {
        match cmd {
            Command::HSet { key, pairs, hmset } => {
                if !self.kind_ok(slot, &key, now, Kind::Hash) {
                    w.error(WRONGTYPE);
                    return None;
                }
                let added = self.write(slot, &key, |e, dot| {
                    let (n, d) = e.hset(dot, pairs.iter().map(|(f, v)| (&f[..], &v[..])));
                    (n, Some(d))
                });
                if hmset {
                    w.ok();
                } else {
                    w.int(added as i64);
                }
            }
            Command::HSetNx { key, field, value } => {
                if !self.kind_ok(slot, &key, now, Kind::Hash) {
                    w.error(WRONGTYPE);
                    return None;
                }
                let exists = self
                    .keys
                    .get(slot, &key)
                    .is_some_and(|e| e.hget(&field).is_some());
                if exists {
                    w.int(0);
                } else {
                    self.write(slot, &key, |e, dot| {
                        ((), Some(e.hset(dot, [(&field[..], &value[..])]).1))
                    });
                    w.int(1);
                }
            }
            Command::HGet { key, field } => match self.read_as(slot, &key, now, Kind::Hash) {
                Err(()) => w.error(WRONGTYPE),
                Ok(e) => match e.and_then(|e| e.hget(&field)) {
                    Some(v) => w.bulk(&v),
                    None => w.null(),
                },
            },
            Command::HMGet { key, fields } => match self.read_as(slot, &key, now, Kind::Hash) {
                Err(()) => w.error(WRONGTYPE),
                Ok(e) => {
                    w.array(fields.len());
                    for f in &fields {
                        match e.and_then(|e| e.hget(f)) {
                            Some(v) => w.bulk(&v),
                            None => w.null(),
                        }
                    }
                }
            },
            Command::HGetAll(key) => match self.read_as(slot, &key, now, Kind::Hash) {
                Err(()) => w.error(WRONGTYPE),
                Ok(None) => w.map(0),
                Ok(Some(e)) => {
                    w.map(e.hlen());
                    for (f, v) in e.hash_fields() {
                        w.bulk(f);
                        w.bulk(&v);
                    }
                }
            },
            Command::HKeys(key) => match self.read_as(slot, &key, now, Kind::Hash) {
                Err(()) => w.error(WRONGTYPE),
                Ok(None) => w.array(0),
                Ok(Some(e)) => {
                    w.array(e.hlen());
                    for (f, _) in e.hash_fields() {
                        w.bulk(f);
                    }
                }
            },
            Command::HVals(key) => match self.read_as(slot, &key, now, Kind::Hash) {
                Err(()) => w.error(WRONGTYPE),
                Ok(None) => w.array(0),
                Ok(Some(e)) => {
                    w.array(e.hlen());
                    for (_, v) in e.hash_fields() {
                        w.bulk(&v);
                    }
                }
            },
            Command::HDel { key, fields } => match self.kind_for_write(slot, &key, now) {
                None => w.int(0),
                Some(Kind::Hash) => {
                    let n = self.write(slot, &key, |e, _| e.hdel(fields.iter().map(|f| &f[..])));
                    w.int(n as i64);
                }
                Some(_) => w.error(WRONGTYPE),
            },
            Command::HExists { key, field } => match self.read_as(slot, &key, now, Kind::Hash) {
                Err(()) => w.error(WRONGTYPE),
                Ok(e) => w.int(e.is_some_and(|e| e.hget(&field).is_some()) as i64),
            },
            Command::HLen(key) => match self.read_as(slot, &key, now, Kind::Hash) {
                Err(()) => w.error(WRONGTYPE),
                Ok(e) => w.int(e.map_or(0, |e| e.hlen()) as i64),
            },
            Command::HStrlen { key, field } => match self.read_as(slot, &key, now, Kind::Hash) {
                Err(()) => w.error(WRONGTYPE),
                Ok(e) => w.int(e.and_then(|e| e.hget(&field)).map_or(0, |v| v.len()) as i64),
            },
            Command::HIncrBy { key, field, by } => {
                if !self.kind_ok(slot, &key, now, Kind::Hash) {
                    w.error(WRONGTYPE);
                    return None;
                }
                let r = self.write(slot, &key, |e, dot| match e.hincr_by(dot, &field, by) {
                    Ok((v, d)) => (Ok(v), Some(d)),
                    Err(err) => (Err(err), None),
                });
                match r {
                    Ok(v) => w.int(v),
                    Err(e) => w.error(hash_num_error(e)),
                }
            }
            Command::HIncrByFloat { key, field, by } => {
                if !self.kind_ok(slot, &key, now, Kind::Hash) {
                    w.error(WRONGTYPE);
                    return None;
                }
                let r = self.write(slot, &key, |e, dot| {
                    match e.hincr_by_float(dot, &field, by) {
                        Ok((v, d)) => (Ok(v), Some(d)),
                        Err(err) => (Err(err), None),
                    }
                });
                match r {
                    Ok(v) => w.bulk(&v),
                    Err(e) => w.error(hash_num_error(e)),
                }
            }
            Command::HScan { key, cursor, opts } => {
                match self.read_as(slot, &key, now, Kind::Hash) {
                    Err(()) => w.error(WRONGTYPE),
                    Ok(e) => {
                        let items: Vec<(&[u8], std::borrow::Cow<'_, [u8]>)> =
                            e.map(|e| e.hash_fields().collect()).unwrap_or_default();
                        write_scan(w, e.is_some(), items, cursor, opts, 2, |w, f, v| {
                            w.bulk(f);
                            w.bulk(v);
                        });
                    }
                }
            }
            Command::HRandField {
                key,
                count,
                withvalues,
            } => {
                if count.is_some_and(|c| c.unsigned_abs() > MAX_SAMPLE && c < 0) {
                    w.error("ERR value is out of range");
                    return None;
                }
                let mut rng = std::mem::replace(&mut self.rng, super::coll::Prng::new(1));
                match self.read_as(slot, &key, now, Kind::Hash) {
                    Err(()) => w.error(WRONGTYPE),
                    Ok(e) => {
                        let items: Vec<(&[u8], std::borrow::Cow<'_, [u8]>)> =
                            e.map(|e| e.hash_fields().collect()).unwrap_or_default();
                        match count {
                            None => match items.get(rng.below(items.len().max(1))) {
                                Some((f, _)) if !items.is_empty() => w.bulk(f),
                                _ => w.null(),
                            },
                            Some(c) => {
                                let picks = sample(&mut rng, items.len(), c);
                                let resp3 = w.proto() == resp::Protocol::Resp3;
                                if withvalues && resp3 {
                                    w.array(picks.len());
                                } else {
                                    w.array(picks.len() * if withvalues { 2 } else { 1 });
                                }
                                for i in picks {
                                    let (f, v) = &items[i];
                                    if withvalues && resp3 {
                                        w.array(2);
                                    }
                                    w.bulk(f);
                                    if withvalues {
                                        w.bulk(v);
                                    }
                                }
                            }
                        }
                    }
                }
                self.rng = rng;
            }
            other => return Some(other),
        }
        None
    }
}
