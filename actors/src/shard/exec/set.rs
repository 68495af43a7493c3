//! Set commands beyond the basics: SMISMEMBER SPOP SRANDMEMBER SINTER SUNION SDIFF (and their
//! STORE forms) SINTERCARD SMOVE SSCAN.

use std::collections::BTreeSet;

use crdt::Kind;
use resp::{Command, ReplyWriter, SetOp};

use super::coll::{sample, write_scan, Prng};
use super::hash::MAX_SAMPLE;
use super::WRONGTYPE;
use crate::shard::Shard;

impl Shard {
    /// Executes a set command added for issue 3; gives any other command back.
    pub(super) fn exec_set(
        &mut self,
        slot: u16,
        cmd: Command,
        now: u64,
        w: &mut ReplyWriter,
    ) -> Option<Command> {
        match cmd {
            Command::SMIsMember { key, members } => self.smismember(slot, &key, &members, now, w),
            Command::SPop { key, count } => self.spop(
                slot,
                &key,
                count.map(|c| c.min(i64::MAX as usize) as i64),
                now,
                w,
            ),
            Command::SRandMember { key, count } => self.srandmember(slot, &key, count, now, w),
            Command::SCombine { op, keys, dest } => match self.set_algebra(slot, op, &keys, now) {
                Err(()) => w.error(WRONGTYPE),
                Ok(set) => match dest {
                    Some(d) => {
                        self.store_set(slot, &d, &set, now);
                        w.int(set.len() as i64);
                    }
                    None => {
                        w.set(set.len());
                        for m in &set {
                            w.bulk(m);
                        }
                    }
                },
            },
            Command::SInterCard { keys, limit } => {
                match self.set_algebra(slot, SetOp::Inter, &keys, now) {
                    Err(()) => w.error(WRONGTYPE),
                    Ok(set) => {
                        let n = if limit == 0 {
                            set.len()
                        } else {
                            set.len().min(limit)
                        };
                        w.int(n as i64);
                    }
                }
            }
            Command::SMove { src, dst, member } => self.smove(slot, &src, &dst, &member, now, w),
            Command::SScan { key, cursor, opts } => {
                match self.read_as(slot, &key, now, Kind::Set) {
                    Err(()) => w.error(WRONGTYPE),
                    Ok(e) => {
                        let items: Vec<(&[u8], ())> = e
                            .map(|e| e.members().map(|m| (m, ())).collect())
                            .unwrap_or_default();
                        write_scan(w, e.is_some(), items, cursor, opts, 1, |w, m, _| w.bulk(m));
                    }
                }
            }
            other => return Some(other),
        }
        None
    }

    /// The live members of a set key: `Ok(None)` when absent, `Err(())` on WRONGTYPE.
    fn set_of(&mut self, slot: u16, key: &[u8], now: u64) -> Result<Option<BTreeSet<Vec<u8>>>, ()> {
        Ok(self
            .read_as(slot, key, now, Kind::Set)?
            .map(|e| e.members().map(|m| m.to_vec()).collect()))
    }

    /// SINTER/SUNION/SDIFF of `keys` (all in this shard's slot): `Err(())` on WRONGTYPE.
    pub(super) fn set_algebra(
        &mut self,
        slot: u16,
        op: SetOp,
        keys: &[bytes::Bytes],
        now: u64,
    ) -> Result<BTreeSet<Vec<u8>>, ()> {
        let mut sets = Vec::with_capacity(keys.len());
        for k in keys {
            sets.push(self.set_of(slot, k, now)?);
        }
        let mut it = sets.into_iter();
        let first = it.next().flatten().unwrap_or_default();
        Ok(match op {
            SetOp::Union => {
                let mut acc = first;
                for s in it.flatten() {
                    acc.extend(s);
                }
                acc
            }
            SetOp::Inter => {
                let mut acc = first;
                for s in it {
                    match s {
                        // An absent key is the empty set: the intersection is empty.
                        None => return Ok(BTreeSet::new()),
                        Some(s) => acc.retain(|m| s.contains(m)),
                    }
                }
                acc
            }
            SetOp::Diff => {
                let mut acc = first;
                for s in it.flatten() {
                    acc.retain(|m| !s.contains(m));
                }
                acc
            }
        })
    }

    /// Replaces `dest` with a set of `members` (an observed delete of the old value, then one
    /// add); an empty result deletes `dest`.
    pub(super) fn store_set(
        &mut self,
        slot: u16,
        dest: &[u8],
        members: &BTreeSet<Vec<u8>>,
        now: u64,
    ) {
        self.expire_if_due(slot, dest, now);
        self.write(slot, dest, |e, _| ((), e.delete()));
        if !members.is_empty() {
            self.write(slot, dest, |e, dot| {
                ((), Some(e.sadd(dot, members.iter().map(|m| &m[..])).1))
            });
        }
    }

    pub(super) fn smismember(
        &mut self,
        slot: u16,
        key: &[u8],
        members: &[bytes::Bytes],
        now: u64,
        w: &mut ReplyWriter,
    ) {
        match self.read_as(slot, key, now, Kind::Set) {
            Err(()) => w.error(WRONGTYPE),
            Ok(e) => {
                w.array(members.len());
                for m in members {
                    w.int(e.is_some_and(|e| e.is_member(m)) as i64);
                }
            }
        }
    }

    /// SPOP: removes random members (observed remove, like SREM) and returns them.
    pub(super) fn spop(
        &mut self,
        slot: u16,
        key: &[u8],
        count: Option<i64>,
        now: u64,
        w: &mut ReplyWriter,
    ) {
        match self.kind_for_write(slot, key, now) {
            None => match count {
                None => w.null(),
                Some(_) => w.set(0),
            },
            Some(Kind::Set) => {
                let members: Vec<Vec<u8>> = self
                    .keys
                    .get(slot, key)
                    .map(|e| e.members().map(|m| m.to_vec()).collect())
                    .unwrap_or_default();
                let n = count.unwrap_or(1).max(0);
                let picks = sample(&mut self.rng, members.len(), n);
                let popped: Vec<&Vec<u8>> = picks.iter().map(|&i| &members[i]).collect();
                if !popped.is_empty() {
                    self.write(slot, key, |e, _| e.srem(popped.iter().map(|m| &m[..])));
                }
                match count {
                    None => match popped.first() {
                        Some(m) => w.bulk(m),
                        None => w.null(),
                    },
                    Some(_) => {
                        w.set(popped.len());
                        for m in popped {
                            w.bulk(m);
                        }
                    }
                }
            }
            Some(_) => w.error(WRONGTYPE),
        }
    }

    pub(super) fn srandmember(
        &mut self,
        slot: u16,
        key: &[u8],
        count: Option<i64>,
        now: u64,
        w: &mut ReplyWriter,
    ) {
        if count.is_some_and(|c| c < 0 && c.unsigned_abs() > MAX_SAMPLE) {
            return w.error("ERR value is out of range");
        }
        let mut rng = std::mem::replace(&mut self.rng, Prng::new(1));
        match self.read_as(slot, key, now, Kind::Set) {
            Err(()) => w.error(WRONGTYPE),
            Ok(e) => {
                let members: Vec<&[u8]> = e.map(|e| e.members().collect()).unwrap_or_default();
                match count {
                    None if members.is_empty() => w.null(),
                    None => w.bulk(members[rng.below(members.len())]),
                    Some(c) => {
                        let picks = sample(&mut rng, members.len(), c);
                        w.array(picks.len());
                        for i in picks {
                            w.bulk(members[i]);
                        }
                    }
                }
            }
        }
        self.rng = rng;
    }

    /// SMOVE: an observed remove from `src` and an add to `dst`, both in this slot.
    pub(super) fn smove(
        &mut self,
        slot: u16,
        src: &[u8],
        dst: &[u8],
        member: &[u8],
        now: u64,
        w: &mut ReplyWriter,
    ) {
        let src_kind = self.kind_for_write(slot, src, now);
        let dst_kind = self.kind_for_write(slot, dst, now);
        if src_kind.is_some_and(|k| k != Kind::Set) || dst_kind.is_some_and(|k| k != Kind::Set) {
            return w.error(WRONGTYPE);
        }
        let present = self
            .keys
            .get(slot, src)
            .is_some_and(|e| e.is_member(member));
        if !present {
            return w.int(0);
        }
        if src != dst {
            self.write(slot, src, |e, _| e.srem([member]));
            self.write(slot, dst, |e, dot| ((), Some(e.sadd(dot, [member]).1)));
        }
        w.int(1);
    }
}
