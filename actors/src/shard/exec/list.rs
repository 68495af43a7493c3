//! List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LRANGE LLEN LINDEX LSET LINSERT LREM
//! LTRIM LPOS LMOVE RPOPLPUSH, and one non-blocking attempt of BLPOP BRPOP BLMOVE BRPOPLPUSH
//! (the proxy retries those until their timeout).

use crdt::Kind;
use resp::cmd::ListEnd;
use resp::{Command, ReplyWriter};

use super::coll::index_range;
use super::WRONGTYPE;
use crate::shard::Shard;

impl Shard {
    /// Executes a list command; gives any other command back.
    pub(super) fn exec_list(
        &mut self,
        slot: u16,
        cmd: Command,
        now: u64,
        w: &mut ReplyWriter,
    ) -> Option<Command> {
        match cmd {
            Command::ListPush {
                key,
                values,
                left,
                xx,
            } => match self.kind_for_write(slot, &key, now) {
                Some(k) if k != Kind::List => w.error(WRONGTYPE),
                None if xx => w.int(0),
                _ => {
                    let vs: Vec<&[u8]> = values.iter().map(|v| &v[..]).collect();
                    let n = self.write(slot, &key, |e, dot| e.list_push(dot, left, &vs));
                    w.int(n as i64);
                }
            },
            Command::ListPop { key, left, count } => match self.kind_for_write(slot, &key, now) {
                Some(k) if k != Kind::List => w.error(WRONGTYPE),
                None => match count {
                    None => w.null(),
                    Some(_) => w.null_array(),
                },
                Some(_) => {
                    let n = count.unwrap_or(1);
                    let vals = self.write(slot, &key, |e, dot| e.list_pop(dot, left, n));
                    match count {
                        None => match vals.first() {
                            Some(v) => w.bulk(v),
                            None => w.null(),
                        },
                        Some(_) => {
                            w.array(vals.len());
                            for v in &vals {
                                w.bulk(v);
                            }
                        }
                    }
                }
            },
            Command::LLen(key) => match self.read_as(slot, &key, now, Kind::List) {
                Err(()) => w.error(WRONGTYPE),
                Ok(e) => w.int(e.map_or(0, |e| e.list_len()) as i64),
            },
            Command::LRange { key, start, stop } => {
                match self.read_as(slot, &key, now, Kind::List) {
                    Err(()) => w.error(WRONGTYPE),
                    Ok(e) => {
                        let vals = e.map(|e| e.list_range(start, stop)).unwrap_or_default();
                        w.array(vals.len());
                        for v in vals {
                            w.bulk(v);
                        }
                    }
                }
            }
            Command::LIndex { key, index } => match self.read_as(slot, &key, now, Kind::List) {
                Err(()) => w.error(WRONGTYPE),
                Ok(None) => w.null(),
                Ok(Some(e)) => match index {
                    Err(err) => w.error(err.text()),
                    Ok(i) => match e.list_get(i) {
                        Some(v) => w.bulk(v),
                        None => w.null(),
                    },
                },
            },
            Command::LSet { key, index, value } => match self.kind_for_write(slot, &key, now) {
                None => w.error("ERR no such key"),
                Some(k) if k != Kind::List => w.error(WRONGTYPE),
                Some(_) => match index {
                    Err(err) => w.error(err.text()),
                    Ok(i) => {
                        let len = self.keys.get(slot, &key).map_or(0, |e| e.list_len()) as i64;
                        let i = if i < 0 { i + len } else { i };
                        if i < 0 || i >= len {
                            w.error("ERR index out of range");
                            return None;
                        }
                        self.write(slot, &key, |e, dot| {
                            ((), e.list_set(dot, i as usize, &value))
                        });
                        w.ok();
                    }
                },
            },
            Command::LInsert {
                key,
                before,
                pivot,
                value,
            } => match self.kind_for_write(slot, &key, now) {
                None => w.int(0),
                Some(k) if k != Kind::List => w.error(WRONGTYPE),
                Some(_) => {
                    let pos = self
                        .keys
                        .get(slot, &key)
                        .and_then(|e| e.list_iter().position(|v| v == &pivot[..]));
                    match pos {
                        None => w.int(-1),
                        Some(p) => {
                            let n = self.write(slot, &key, |e, dot| {
                                let d = e.list_insert(dot, p, !before, &value);
                                (e.list_len(), d)
                            });
                            w.int(n as i64);
                        }
                    }
                }
            },
            Command::LRem { key, count, value } => match self.kind_for_write(slot, &key, now) {
                None => w.int(0),
                Some(k) if k != Kind::List => w.error(WRONGTYPE),
                Some(_) => {
                    let idx: Vec<usize> = match self.keys.get(slot, &key) {
                        None => Vec::new(),
                        Some(e) => {
                            let hits = e
                                .list_iter()
                                .enumerate()
                                .filter(|(_, v)| *v == &value[..])
                                .map(|(i, _)| i);
                            let limit = if count == 0 {
                                usize::MAX
                            } else {
                                count.unsigned_abs().min(usize::MAX as u64) as usize
                            };
                            if count >= 0 {
                                hits.take(limit).collect()
                            } else {
                                let all: Vec<usize> = hits.collect();
                                all.into_iter().rev().take(limit).collect()
                            }
                        }
                    };
                    if !idx.is_empty() {
                        self.write(slot, &key, |e, dot| ((), e.list_remove(dot, &idx)));
                    }
                    w.int(idx.len() as i64);
                }
            },
            Command::LTrim { key, start, stop } => match self.kind_for_write(slot, &key, now) {
                None => w.ok(),
                Some(k) if k != Kind::List => w.error(WRONGTYPE),
                Some(_) => {
                    let len = self.keys.get(slot, &key).map_or(0, |e| e.list_len());
                    let idx: Vec<usize> = match index_range(start, stop, len) {
                        None => (0..len).collect(),
                        Some((a, b)) => (0..a).chain(b + 1..len).collect(),
                    };
                    if !idx.is_empty() {
                        self.write(slot, &key, |e, dot| ((), e.list_remove(dot, &idx)));
                    }
                    w.ok();
                }
            },
            Command::LPos {
                key,
                element,
                rank,
                count,
                maxlen,
            } => match self.read_as(slot, &key, now, Kind::List) {
                Err(()) => w.error(WRONGTYPE),
                Ok(e) => {
                    let vals: Vec<&[u8]> = e.map(|e| e.list_iter().collect()).unwrap_or_default();
                    let len = vals.len();
                    let scan = if maxlen == 0 { len } else { maxlen.min(len) };
                    let want = match count {
                        Some(0) => usize::MAX,
                        Some(c) => c,
                        None => 1,
                    };
                    let mut skip = rank.unsigned_abs().saturating_sub(1);
                    let mut found = Vec::new();
                    let order: Box<dyn Iterator<Item = usize>> = if rank > 0 {
                        Box::new(0..scan)
                    } else {
                        Box::new((len - scan..len).rev())
                    };
                    for i in order {
                        if vals[i] == &element[..] {
                            if skip > 0 {
                                skip -= 1;
                                continue;
                            }
                            found.push(i);
                            if found.len() >= want {
                                break;
                            }
                        }
                    }
                    match count {
                        None => match found.first() {
                            Some(i) => w.int(*i as i64),
                            None => w.null(),
                        },
                        Some(_) => {
                            w.array(found.len());
                            for i in found {
                                w.int(i as i64);
                            }
                        }
                    }
                }
            },
            Command::LMove {
                src, dst, from, to, ..
            } => self.lmove(slot, &src, &dst, from, to, now, w, false),
            Command::BLMove {
                src, dst, from, to, ..
            } => self.lmove(slot, &src, &dst, from, to, now, w, true),
            Command::BPop { keys, left, .. } => {
                // One attempt: the first non-empty list in key order, as Redis serves it.
                for k in &keys {
                    match self.kind_for_write(slot, k, now) {
                        None => continue,
                        Some(kd) if kd != Kind::List => {
                            w.error(WRONGTYPE);
                            return None;
                        }
                        Some(_) => {
                            let vals = self.write(slot, k, |e, dot| e.list_pop(dot, left, 1));
                            if let Some(v) = vals.first() {
                                w.array(2);
                                w.bulk(k);
                                w.bulk(v);
                                return None;
                            }
                        }
                    }
                }
                w.null_array();
            }
            other => return Some(other),
        }
        None
    }

    /// LMOVE/RPOPLPUSH (and one attempt of their blocking forms): pops from `src`, pushes to
    /// `dst` (both in this slot).
    #[allow(clippy::too_many_arguments)]
    fn lmove(
        &mut self,
        slot: u16,
        src: &[u8],
        dst: &[u8],
        from: ListEnd,
        to: ListEnd,
        now: u64,
        w: &mut ReplyWriter,
        blocking: bool,
    ) {
        let sk = self.kind_for_write(slot, src, now);
        if sk.is_some_and(|k| k != Kind::List) {
            return w.error(WRONGTYPE);
        }
        if sk.is_none() {
            return if blocking { w.null_array() } else { w.null() };
        }
        if self
            .kind_for_write(slot, dst, now)
            .is_some_and(|k| k != Kind::List)
        {
            return w.error(WRONGTYPE);
        }
        let vals = self.write(slot, src, |e, dot| {
            e.list_pop(dot, from == ListEnd::Left, 1)
        });
        let Some(v) = vals.into_iter().next() else {
            return w.null();
        };
        self.write(slot, dst, |e, dot| {
            let (_, d) = e.list_push(dot, to == ListEnd::Left, &[&v]);
            ((), d)
        });
        w.bulk(&v);
    }
}
