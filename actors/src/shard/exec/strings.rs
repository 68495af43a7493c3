//! String commands that edit or read parts of a value: GETRANGE SETRANGE SETBIT GETBIT
//! BITCOUNT, and MSETNX. Partial writes are whole-value register writes (the spec: a
//! `SETRANGE`/`SETBIT` is a `SET` of the new value that keeps the TTL).

use crdt::Kind;
use resp::{Command, GetExTtl, ReplyWriter, SetExpiry};

use super::WRONGTYPE;
use crate::shard::Shard;

/// Redis's largest string (proto-max-bulk-len default).
const MAX_STRING: u64 = 512 * 1024 * 1024;

/// Redis's GETRANGE index rules; `None` = empty result.
fn byte_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

impl Shard {
    /// The current string value of `key` before a write that edits it in place (SETRANGE,
    /// SETBIT): `None` if the key does not exist, `Err` if it holds another type.
    fn string_for_write(&mut self, slot: u16, key: &[u8], now: u64) -> Result<Option<Vec<u8>>, ()> {
        match self.kind_for_write(slot, key, now) {
            None => Ok(None),
            Some(Kind::String) => Ok(self
                .keys
                .get(slot, key)
                .and_then(|e| e.string_value().map(|v| v.into_owned()))),
            Some(_) => Err(()),
        }
    }

    /// Executes a string command added for issue 3; gives any other command back.
    pub(super) fn exec_strings(
        &mut self,
        slot: u16,
        cmd: Command,
        now: u64,
        w: &mut ReplyWriter,
    ) -> Option<Command> {
        match cmd {
            Command::GetRange { key, start, end } => self.getrange(slot, &key, start, end, now, w),
            Command::SetRange { key, offset, value } => {
                self.setrange(slot, &key, offset, &value, now, w)
            }
            Command::GetBit { key, offset } => self.getbit(slot, &key, offset, now, w),
            Command::SetBit { key, offset, bit } => self.setbit(slot, &key, offset, bit, now, w),
            Command::BitCount { key, range } => match self.string_of(slot, &key, now) {
                Err(()) => w.error(WRONGTYPE),
                Ok(Some(_)) if range.is_err() => {
                    if let Err(e) = &range {
                        w.error(e.text());
                    }
                }
                Ok(_) => {
                    let r = range.ok().flatten().map(|r| (r.start, r.end, r.bit));
                    self.bitcount(slot, &key, r, now, w);
                }
            },
            Command::MSetNx(pairs) => self.msetnx(slot, &pairs, now, w),
            Command::GetEx { key, ttl } => self.getex(slot, &key, ttl, now, w),
            other => return Some(other),
        }
        None
    }

    /// GETEX: GET, then change the TTL of an existing string key.
    fn getex(
        &mut self,
        slot: u16,
        key: &[u8],
        ttl: Result<GetExTtl, resp::CmdError>,
        now: u64,
        w: &mut ReplyWriter,
    ) {
        let v = match self.string_of(slot, key, now) {
            Err(()) => return w.error(WRONGTYPE),
            Ok(None) => return w.null(),
            Ok(Some(v)) => v,
        };
        let ttl = match ttl {
            Err(e) => return w.error(e.text()),
            Ok(t) => t,
        };
        match ttl {
            GetExTtl::Keep => {}
            GetExTtl::Persist => {
                if self
                    .keys
                    .get(slot, key)
                    .is_some_and(|e| e.expiry().is_some())
                {
                    self.write(slot, key, |e, dot| ((), Some(e.set_expiry(dot, None))));
                }
            }
            GetExTtl::Set(x) => {
                let deadline = match x {
                    SetExpiry::RelMs(ms) => {
                        if (now as i64).checked_add(ms).is_none() {
                            return w.error("ERR invalid expire time in 'getex' command");
                        }
                        now.saturating_add(ms.max(0) as u64)
                    }
                    SetExpiry::AtMs(ms) => ms.max(0) as u64,
                };
                if deadline <= now {
                    self.write(slot, key, |e, _| ((), e.delete()));
                } else {
                    self.write(slot, key, |e, dot| {
                        ((), Some(e.set_expiry(dot, Some(deadline))))
                    });
                }
            }
        }
        w.bulk(&v);
    }

    /// The value of a string key for a read: `Ok(None)` when absent, `Err(())` on WRONGTYPE.
    fn string_of(&mut self, slot: u16, key: &[u8], now: u64) -> Result<Option<Vec<u8>>, ()> {
        Ok(self
            .read_as(slot, key, now, Kind::String)?
            .and_then(|e| e.string_value().map(|v| v.into_owned())))
    }

    pub(super) fn getrange(
        &mut self,
        slot: u16,
        key: &[u8],
        start: i64,
        end: i64,
        now: u64,
        w: &mut ReplyWriter,
    ) {
        match self.string_of(slot, key, now) {
            Err(()) => w.error(WRONGTYPE),
            Ok(None) => w.bulk(b""),
            Ok(Some(v)) => match byte_range(start, end, v.len()) {
                Some((a, b)) => w.bulk(&v[a..=b]),
                None => w.bulk(b""),
            },
        }
    }

    pub(super) fn setrange(
        &mut self,
        slot: u16,
        key: &[u8],
        offset: u64,
        value: &[u8],
        now: u64,
        w: &mut ReplyWriter,
    ) {
        let Ok(cur) = self.string_for_write(slot, key, now) else {
            return w.error(WRONGTYPE);
        };
        if value.is_empty() {
            // Nothing to write: Redis does not create the key, and reports the length.
            return w.int(cur.map_or(0, |v| v.len()) as i64);
        }
        if offset.saturating_add(value.len() as u64) > MAX_STRING {
            return w.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        }
        let mut new = cur.unwrap_or_default();
        let end = offset as usize + value.len();
        if new.len() < end {
            new.resize(end, 0);
        }
        new[offset as usize..end].copy_from_slice(value);
        let len = new.len();
        self.write(slot, key, |e, dot| ((), Some(e.set(dot, &new, true, None))));
        w.int(len as i64);
    }

    pub(super) fn getbit(
        &mut self,
        slot: u16,
        key: &[u8],
        offset: u64,
        now: u64,
        w: &mut ReplyWriter,
    ) {
        match self.string_of(slot, key, now) {
            Err(()) => w.error(WRONGTYPE),
            Ok(v) => {
                let v = v.unwrap_or_default();
                let byte = (offset >> 3) as usize;
                let bit = 7 - (offset & 7) as u8;
                w.int(v.get(byte).map_or(0, |b| (b >> bit) & 1) as i64);
            }
        }
    }

    pub(super) fn setbit(
        &mut self,
        slot: u16,
        key: &[u8],
        offset: u64,
        on: bool,
        now: u64,
        w: &mut ReplyWriter,
    ) {
        let Ok(cur) = self.string_for_write(slot, key, now) else {
            return w.error(WRONGTYPE);
        };
        let mut v = cur.unwrap_or_default();
        let byte = (offset >> 3) as usize;
        if v.len() <= byte {
            v.resize(byte + 1, 0);
        }
        let mask = 1u8 << (7 - (offset & 7) as u8);
        let old = (v[byte] & mask != 0) as i64;
        if on {
            v[byte] |= mask;
        } else {
            v[byte] &= !mask;
        }
        self.write(slot, key, |e, dot| ((), Some(e.set(dot, &v, true, None))));
        w.int(old);
    }

    /// BITCOUNT with an optional range in bytes or (`bits`) in bits.
    pub(super) fn bitcount(
        &mut self,
        slot: u16,
        key: &[u8],
        range: Option<(i64, i64, bool)>,
        now: u64,
        w: &mut ReplyWriter,
    ) {
        let v = match self.string_of(slot, key, now) {
            Err(()) => return w.error(WRONGTYPE),
            Ok(v) => v.unwrap_or_default(),
        };
        let n = match range {
            None => v.iter().map(|b| b.count_ones() as i64).sum(),
            Some((start, end, false)) => match byte_range(start, end, v.len()) {
                Some((a, b)) => v[a..=b].iter().map(|b| b.count_ones() as i64).sum(),
                None => 0,
            },
            Some((start, end, true)) => {
                let bits = v.len().saturating_mul(8);
                match byte_range(start, end, bits) {
                    Some((a, b)) => (a..=b)
                        .filter(|i| (v[i >> 3] >> (7 - (i & 7))) & 1 == 1)
                        .count() as i64,
                    None => 0,
                }
            }
        };
        w.int(n);
    }

    /// MSETNX: sets every key only if none exists (all keys are in this slot).
    pub(super) fn msetnx(
        &mut self,
        slot: u16,
        pairs: &[(bytes::Bytes, bytes::Bytes)],
        now: u64,
        w: &mut ReplyWriter,
    ) {
        for (k, _) in pairs {
            if self.read(slot, k, now).is_some() {
                return w.int(0);
            }
        }
        for (k, v) in pairs {
            self.expire_if_due(slot, k, now);
            self.write(slot, k, |e, dot| ((), Some(e.set(dot, v, false, None))));
        }
        w.int(1);
    }
}
