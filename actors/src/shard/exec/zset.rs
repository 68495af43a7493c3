//! Sorted-set commands: ZADD ZINCRBY ZREM ZSCORE ZMSCORE ZCARD ZCOUNT ZLEXCOUNT, the ZRANGE
//! family (by rank, score or lex, REV, LIMIT, WITHSCORES), ZRANK ZREVRANK ZPOPMIN ZPOPMAX
//! ZREMRANGEBY* ZSCAN ZRANDMEMBER and ZUNIONSTORE ZINTERSTORE ZDIFFSTORE.
//!
//! The entry keeps members with their score registers; ordered views are built on read,
//! sorted by (score, member) as Redis orders them.

use std::collections::BTreeMap;

use crdt::{Entry, FieldNumError, Kind};
use resp::{Command, ReplyWriter};

use super::coll::{index_range, sample, write_scan};
use super::hash::MAX_SAMPLE;
use super::WRONGTYPE;
use crate::shard::Shard;

const NAN_SCORE: &str = "ERR resulting score is not a number (NaN)";

/// Members sorted by (score, member).
fn sorted(e: &Entry) -> Vec<(f64, &[u8])> {
    let mut v: Vec<(f64, &[u8])> = e.zset_members().map(|(m, s)| (s, m)).collect();
    // Scores are never NaN. Redis compares -0.0 and 0.0 as equal, so equal scores of either
    // sign sort by member (total_cmp would put -0.0 first).
    v.sort_by(|a, b| {
        a.0.partial_cmp(&b.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.1.cmp(b.1))
    });
    v
}

fn score_in(s: f64, min: &resp::ScoreBound, max: &resp::ScoreBound) -> bool {
    let lo = if min.exclusive {
        s > min.value
    } else {
        s >= min.value
    };
    let hi = if max.exclusive {
        s < max.value
    } else {
        s <= max.value
    };
    lo && hi
}

fn lex_ge_min(m: &[u8], min: &resp::LexBound) -> bool {
    match min {
        resp::LexBound::Min => true,
        resp::LexBound::Max => false,
        resp::LexBound::Incl(b) => m >= &b[..],
        resp::LexBound::Excl(b) => m > &b[..],
    }
}

fn lex_le_max(m: &[u8], max: &resp::LexBound) -> bool {
    match max {
        resp::LexBound::Min => false,
        resp::LexBound::Max => true,
        resp::LexBound::Incl(b) => m <= &b[..],
        resp::LexBound::Excl(b) => m < &b[..],
    }
}

/// Applies LIMIT: a negative offset gives nothing, a negative count means "all the rest".
fn limit<T>(items: Vec<T>, lim: Option<(i64, i64)>) -> Vec<T> {
    match lim {
        None => items,
        Some((off, _)) if off < 0 => Vec::new(),
        Some((off, cnt)) => {
            let it = items.into_iter().skip(off as usize);
            if cnt < 0 {
                it.collect()
            } else {
                it.take(cnt as usize).collect()
            }
        }
    }
}

/// Writes `(member, score)` pairs: RESP3 as an array of pairs, RESP2 flat.
fn write_scored(w: &mut ReplyWriter, items: &[(f64, &[u8])], withscores: bool) {
    let resp3 = w.proto() == resp::Protocol::Resp3;
    if withscores && !resp3 {
        w.array(items.len() * 2);
    } else {
        w.array(items.len());
    }
    for (s, m) in items {
        if withscores && resp3 {
            w.array(2);
        }
        w.bulk(m);
        if withscores {
            w.double(*s);
        }
    }
}

/// The members a range selects, in reply order.
fn select<'a>(
    e: &'a Entry,
    by: &resp::ZRangeBy,
    rev: bool,
    lim: Option<(i64, i64)>,
) -> Vec<(f64, &'a [u8])> {
    let mut all = sorted(e);
    if rev {
        all.reverse();
    }
    match by {
        resp::ZRangeBy::Rank { start, stop } => match index_range(*start, *stop, all.len()) {
            Some((a, b)) => all[a..=b].to_vec(),
            None => Vec::new(),
        },
        resp::ZRangeBy::Score { min, max } => limit(
            all.into_iter()
                .filter(|(s, _)| score_in(*s, min, max))
                .collect(),
            lim,
        ),
        resp::ZRangeBy::Lex { min, max } => limit(
            all.into_iter()
                .filter(|(_, m)| lex_ge_min(m, min) && lex_le_max(m, max))
                .collect(),
            lim,
        ),
    }
}

impl Shard {
    /// Executes a sorted-set command; gives any other command back.
    pub(super) fn exec_zset(
        &mut self,
        slot: u16,
        cmd: Command,
        now: u64,
        w: &mut ReplyWriter,
    ) -> Option<Command> {
        match cmd {
            Command::ZAdd {
                key,
                cond,
                cmp,
                ch,
                incr,
                members: items,
            } => {
                if !self.kind_ok(slot, &key, now, Kind::ZSet) {
                    w.error(WRONGTYPE);
                    return None;
                }
                self.zadd(slot, key, cond, cmp, ch, incr, items, w);
            }
            Command::ZIncrBy { key, by, member } => {
                if !self.kind_ok(slot, &key, now, Kind::ZSet) {
                    w.error(WRONGTYPE);
                    return None;
                }
                let r = self.write(slot, &key, |e, dot| match e.zincr_by(dot, &member, by) {
                    Ok((v, d)) => (Ok(v), Some(d)),
                    Err(err) => (Err(err), None),
                });
                match r {
                    Ok(v) => w.double(v),
                    Err(_) => w.error(NAN_SCORE),
                }
            }
            Command::ZRem { key, members } => match self.kind_for_write(slot, &key, now) {
                None => w.int(0),
                Some(Kind::ZSet) => {
                    let n = self.write(slot, &key, |e, _| e.zrem(members.iter().map(|m| &m[..])));
                    w.int(n as i64);
                }
                Some(_) => w.error(WRONGTYPE),
            },
            Command::ZScore { key, member } => match self.read_as(slot, &key, now, Kind::ZSet) {
                Err(()) => w.error(WRONGTYPE),
                Ok(e) => match e.and_then(|e| e.zscore(&member)) {
                    Some(s) => w.double(s),
                    None => w.null(),
                },
            },
            Command::ZMScore { key, members } => match self.read_as(slot, &key, now, Kind::ZSet) {
                Err(()) => w.error(WRONGTYPE),
                Ok(e) => {
                    w.array(members.len());
                    for m in &members {
                        match e.and_then(|e| e.zscore(m)) {
                            Some(s) => w.double(s),
                            None => w.null(),
                        }
                    }
                }
            },
            Command::ZCard(key) => match self.read_as(slot, &key, now, Kind::ZSet) {
                Err(()) => w.error(WRONGTYPE),
                Ok(e) => w.int(e.map_or(0, |e| e.zcard()) as i64),
            },
            Command::ZCount { key, min, max } => match self.read_as(slot, &key, now, Kind::ZSet) {
                Err(()) => w.error(WRONGTYPE),
                Ok(e) => w.int(e.map_or(0, |e| {
                    e.zset_members()
                        .filter(|(_, s)| score_in(*s, &min, &max))
                        .count()
                }) as i64),
            },
            Command::ZLexCount { key, min, max } => match self.read_as(slot, &key, now, Kind::ZSet)
            {
                Err(()) => w.error(WRONGTYPE),
                Ok(e) => w.int(e.map_or(0, |e| {
                    e.zset_members()
                        .filter(|(m, _)| lex_ge_min(m, &min) && lex_le_max(m, &max))
                        .count()
                }) as i64),
            },
            Command::ZRange {
                key,
                by,
                rev,
                limit: lim,
                withscores,
                store,
                ..
            } => match self.read_as(slot, &key, now, Kind::ZSet) {
                Err(()) => w.error(WRONGTYPE),
                Ok(e) => {
                    let items: Vec<(f64, Vec<u8>)> = e
                        .map(|e| select(e, &by, rev, lim))
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(s, m)| (s, m.to_vec()))
                        .collect();
                    match store {
                        Some(dest) => {
                            let members: BTreeMap<Vec<u8>, f64> =
                                items.into_iter().map(|(s, m)| (m, s)).collect();
                            self.store_zset(slot, &dest, &members, now);
                            w.int(members.len() as i64);
                        }
                        None => {
                            let items: Vec<(f64, &[u8])> =
                                items.iter().map(|(s, m)| (*s, &m[..])).collect();
                            write_scored(w, &items, withscores);
                        }
                    }
                }
            },
            Command::ZRank { key, member, rev } => {
                match self.read_as(slot, &key, now, Kind::ZSet) {
                    Err(()) => w.error(WRONGTYPE),
                    Ok(e) => {
                        let pos = e.and_then(|e| {
                            let all = sorted(e);
                            let i = all.iter().position(|(_, m)| *m == &member[..])?;
                            Some(if rev { all.len() - 1 - i } else { i })
                        });
                        match pos {
                            Some(i) => w.int(i as i64),
                            None => w.null(),
                        }
                    }
                }
            }
            Command::ZPop { key, max, count } => match self.kind_for_write(slot, &key, now) {
                None => w.array(0),
                Some(Kind::ZSet) => {
                    let n = count.unwrap_or(1);
                    let popped: Vec<(f64, Vec<u8>)> = match self.keys.get(slot, &key) {
                        Some(e) => {
                            let mut all = sorted(e);
                            if max {
                                all.reverse();
                            }
                            all.into_iter()
                                .take(n)
                                .map(|(s, m)| (s, m.to_vec()))
                                .collect()
                        }
                        None => Vec::new(),
                    };
                    if !popped.is_empty() {
                        self.write(slot, &key, |e, _| {
                            ((), e.zrem(popped.iter().map(|(_, m)| &m[..])).1)
                        });
                    }
                    let resp3 = w.proto() == resp::Protocol::Resp3;
                    if count.is_some() && resp3 {
                        w.array(popped.len());
                    } else {
                        w.array(popped.len() * 2);
                    }
                    for (s, m) in &popped {
                        if count.is_some() && resp3 {
                            w.array(2);
                        }
                        w.bulk(m);
                        w.double(*s);
                    }
                }
                Some(_) => w.error(WRONGTYPE),
            },
            Command::ZRemRange { key, by } => match self.kind_for_write(slot, &key, now) {
                None => w.int(0),
                Some(Kind::ZSet) => {
                    let victims: Vec<Vec<u8>> = match self.keys.get(slot, &key) {
                        Some(e) => select(e, &by, false, None)
                            .into_iter()
                            .map(|(_, m)| m.to_vec())
                            .collect(),
                        None => Vec::new(),
                    };
                    let n = if victims.is_empty() {
                        0
                    } else {
                        self.write(slot, &key, |e, _| e.zrem(victims.iter().map(|m| &m[..])))
                    };
                    w.int(n as i64);
                }
                Some(_) => w.error(WRONGTYPE),
            },
            Command::ZScan { key, cursor, opts } => {
                match self.read_as(slot, &key, now, Kind::ZSet) {
                    Err(()) => w.error(WRONGTYPE),
                    Ok(e) => {
                        let items: Vec<(&[u8], f64)> =
                            e.map(|e| e.zset_members().collect()).unwrap_or_default();
                        write_scan(w, e.is_some(), items, cursor, opts, 2, |w, m, s| {
                            w.bulk(m);
                            w.bulk(resp::num::format_double(*s).as_bytes());
                        });
                    }
                }
            }
            Command::ZRandMember {
                key,
                count,
                withscores,
            } => {
                if count.is_some_and(|c| c < 0 && c.unsigned_abs() > MAX_SAMPLE) {
                    w.error("ERR value is out of range");
                    return None;
                }
                let mut rng = std::mem::replace(&mut self.rng, super::coll::Prng::new(1));
                match self.read_as(slot, &key, now, Kind::ZSet) {
                    Err(()) => w.error(WRONGTYPE),
                    Ok(e) => {
                        let items: Vec<(&[u8], f64)> =
                            e.map(|e| e.zset_members().collect()).unwrap_or_default();
                        match count {
                            None if items.is_empty() => w.null(),
                            None => w.bulk(items[rng.below(items.len())].0),
                            Some(c) => {
                                let picks: Vec<(f64, &[u8])> = sample(&mut rng, items.len(), c)
                                    .into_iter()
                                    .map(|i| (items[i].1, items[i].0))
                                    .collect();
                                write_scored(w, &picks, withscores);
                            }
                        }
                    }
                }
                self.rng = rng;
            }
            Command::ZStore {
                op,
                dest,
                keys,
                weights,
                aggregate,
            } => self.zstore(slot, op, dest, keys, weights, aggregate, now, w),
            other => return Some(other),
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    fn zadd(
        &mut self,
        slot: u16,
        key: bytes::Bytes,
        cond: Option<resp::SetCond>,
        cmp: Option<resp::ScoreCmp>,
        ch: bool,
        incr: bool,
        items: Vec<(f64, bytes::Bytes)>,
        w: &mut ReplyWriter,
    ) {
        let cur = |e: Option<&Entry>, m: &[u8]| e.and_then(|e| e.zscore(m));
        if incr {
            let Some((by, m)) = items.into_iter().next() else {
                return w.null();
            };
            let old = cur(self.keys.get(slot, &key).filter(|e| e.is_live()), &m);
            let skip = matches!(
                (cond, old),
                (Some(resp::SetCond::Nx), Some(_)) | (Some(resp::SetCond::Xx), None)
            );
            if skip {
                return w.null();
            }
            if let Some(o) = old {
                let new = o + by;
                if new.is_nan() {
                    return w.error(NAN_SCORE);
                }
                let blocked = match cmp {
                    Some(resp::ScoreCmp::Gt) => new <= o,
                    Some(resp::ScoreCmp::Lt) => new >= o,
                    None => false,
                };
                if blocked {
                    return w.null();
                }
            }
            let r = self.write(slot, &key, |e, dot| match e.zincr_by(dot, &m, by) {
                Ok((v, d)) => (Ok(v), Some(d)),
                Err(err) => (Err(err), None),
            });
            return match r {
                Ok(v) => w.double(v),
                Err(FieldNumError::NanOrInfinity) | Err(_) => w.error(NAN_SCORE),
            };
        }
        let e = self.keys.get(slot, &key).filter(|e| e.is_live());
        // Elements are applied in order, as in Redis: a repeated member counts against the
        // score its earlier occurrence gave it, and its last allowed score is written.
        let mut writes: BTreeMap<&[u8], f64> = BTreeMap::new();
        let (mut added, mut changed) = (0usize, 0usize);
        let mut seen: BTreeMap<&[u8], Option<f64>> = BTreeMap::new();
        for (s, m) in &items {
            let old = *seen.entry(&m[..]).or_insert_with(|| cur(e, m));
            let allowed = match (cond, old) {
                (Some(resp::SetCond::Nx), Some(_)) | (Some(resp::SetCond::Xx), None) => false,
                (_, Some(o)) => match cmp {
                    Some(resp::ScoreCmp::Gt) => *s > o,
                    Some(resp::ScoreCmp::Lt) => *s < o,
                    None => true,
                },
                (_, None) => true,
            };
            if !allowed {
                continue;
            }
            match old {
                None => added += 1,
                Some(o) if o != *s => changed += 1,
                Some(_) => {}
            }
            if old != Some(*s) {
                seen.insert(&m[..], Some(*s));
                writes.insert(&m[..], *s);
            }
        }
        if !writes.is_empty() {
            let writes: Vec<(Vec<u8>, f64)> =
                writes.into_iter().map(|(m, s)| (m.to_vec(), s)).collect();
            self.write(slot, &key, |e, dot| {
                (
                    (),
                    Some(e.zadd(dot, writes.iter().map(|(m, s)| (&m[..], *s)))),
                )
            });
        }
        w.int((added + if ch { changed } else { 0 }) as i64);
    }

    #[allow(clippy::too_many_arguments)]
    fn zstore(
        &mut self,
        slot: u16,
        op: resp::SetOp,
        dest: bytes::Bytes,
        keys: Vec<bytes::Bytes>,
        weights: Vec<f64>,
        aggregate: resp::Aggregate,
        now: u64,
        w: &mut ReplyWriter,
    ) {
        // Read every source: sorted sets, and plain sets with score 1 as in Redis.
        let mut sources: Vec<Option<BTreeMap<Vec<u8>, f64>>> = Vec::with_capacity(keys.len());
        for k in &keys {
            match self.read(slot, k, now) {
                None => sources.push(None),
                Some(e) => match e.kind() {
                    Some(Kind::ZSet) => sources.push(Some(
                        e.zset_members().map(|(m, s)| (m.to_vec(), s)).collect(),
                    )),
                    Some(Kind::Set) => {
                        sources.push(Some(e.members().map(|m| (m.to_vec(), 1.0)).collect()))
                    }
                    _ => return w.error(WRONGTYPE),
                },
            }
        }
        let weight = |i: usize| weights.get(i).copied().unwrap_or(1.0);
        let agg = |a: f64, b: f64| -> f64 {
            let v = match aggregate {
                resp::Aggregate::Sum => a + b,
                resp::Aggregate::Min => a.min(b),
                resp::Aggregate::Max => a.max(b),
            };
            // inf + -inf: Redis turns the NaN into 0.
            if v.is_nan() {
                0.0
            } else {
                v
            }
        };
        let weighted = |s: f64, wt: f64| {
            let v = s * wt;
            if v.is_nan() {
                0.0
            } else {
                v
            }
        };
        let mut out: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
        match op {
            resp::SetOp::Union => {
                for (i, src) in sources.iter().enumerate() {
                    for (m, s) in src.iter().flatten() {
                        let v = weighted(*s, weight(i));
                        out.entry(m.clone())
                            .and_modify(|x| *x = agg(*x, v))
                            .or_insert(v);
                    }
                }
            }
            resp::SetOp::Inter => {
                if let Some(Some(first)) = sources.first() {
                    'm: for (m, s) in first {
                        let mut acc = weighted(*s, weight(0));
                        for (i, src) in sources.iter().enumerate().skip(1) {
                            match src.as_ref().and_then(|x| x.get(m)) {
                                Some(v) => acc = agg(acc, weighted(*v, weight(i))),
                                None => continue 'm,
                            }
                        }
                        out.insert(m.clone(), acc);
                    }
                }
            }
            resp::SetOp::Diff => {
                if let Some(Some(first)) = sources.first() {
                    for (m, s) in first {
                        let elsewhere = sources
                            .iter()
                            .skip(1)
                            .any(|src| src.as_ref().is_some_and(|x| x.contains_key(m)));
                        if !elsewhere {
                            out.insert(m.clone(), *s);
                        }
                    }
                }
            }
        }
        self.store_zset(slot, &dest, &out, now);
        w.int(out.len() as i64);
    }

    /// Replaces `dest` with a sorted set of `members` (an observed delete of the old value,
    /// then the new members with one dot); an empty result deletes `dest`.
    pub(super) fn store_zset(
        &mut self,
        slot: u16,
        dest: &[u8],
        members: &BTreeMap<Vec<u8>, f64>,
        now: u64,
    ) {
        self.expire_if_due(slot, dest, now);
        self.write(slot, dest, |e, _| ((), e.delete()));
        if !members.is_empty() {
            self.write(slot, dest, |e, dot| {
                (
                    (),
                    Some(e.zadd(dot, members.iter().map(|(m, s)| (&m[..], *s)))),
                )
            });
        }
    }
}
