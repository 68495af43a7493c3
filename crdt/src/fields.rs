//! Hash and sorted-set operations on an [`Entry`]: each builds one delta per command from
//! the field writes of [`Entry::field_write`] / [`Entry::field_bump`] (add-wins fields, a
//! register per field) and merges it.
//!
//! The caller (the shard) has already checked the key's type (`WRONGTYPE`) and expired it if
//! its TTL passed; these methods only see a key that is absent, dead, or of their type.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::entry::{Coll, Entry, Kind, Member, NumError};
use crate::hlc::Dot;
use crate::num;

/// Why `HINCRBY`/`HINCRBYFLOAT`/`ZINCRBY` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldNumError {
    /// "ERR hash value is not an integer"
    NotInteger,
    /// "ERR hash value is not a float"
    NotFloat,
    /// "ERR increment or decrement would overflow"
    Overflow,
    /// "ERR increment would produce NaN or Infinity" (hash) /
    /// "ERR resulting score is not a number (NaN)" (sorted set)
    NanOrInfinity,
}

impl From<NumError> for FieldNumError {
    fn from(e: NumError) -> Self {
        match e {
            NumError::NotInteger => FieldNumError::NotInteger,
            NumError::NotFloat => FieldNumError::NotFloat,
            NumError::Overflow => FieldNumError::Overflow,
            NumError::NanOrInfinity => FieldNumError::NanOrInfinity,
        }
    }
}

impl Entry {
    /// `HSET key f v …`: writes every field (the last value of a repeated field wins, as in
    /// Redis). Returns how many fields were new, and the delta.
    pub fn hset<'a>(
        &mut self,
        dot: Dot,
        pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    ) -> (usize, Entry) {
        self.unpack();
        let mut fields = BTreeMap::new();
        let mut added = 0;
        for (k, v) in pairs {
            let name = Member(k.into());
            let (write, existed) = self.field_write(Coll::Hash, dot, k, v.into());
            if !existed && !fields.contains_key(&name) {
                added += 1;
            }
            fields.insert(name, write);
        }
        (added, self.apply_fields(Coll::Hash, fields))
    }

    /// `HDEL`: removes the observed writes of each field. Returns how many existed, and the
    /// delta (`None` when none existed).
    pub fn hdel<'a>(
        &mut self,
        fields: impl IntoIterator<Item = &'a [u8]>,
    ) -> (usize, Option<Entry>) {
        self.remove_fields(Coll::Hash, fields)
    }

    /// The value of a live field.
    pub fn hget(&self, field: &[u8]) -> Option<Cow<'_, [u8]>> {
        if let Entry::Packed(p) = self {
            return match p.kind() {
                Kind::Hash => p.value_of(field),
                _ => None,
            };
        }
        self.field(Coll::Hash, field).map(|s| s.value_bytes())
    }

    /// Live fields and values, in byte order of the field names.
    pub fn hash_fields(&self) -> impl Iterator<Item = (&[u8], Cow<'_, [u8]>)> + '_ {
        self.live_fields(Coll::Hash)
            .map(|(k, s)| (k, s.value_bytes()))
            .chain(
                self.packed(Kind::Hash)
                    .map(|e| (e.name, Cow::Borrowed(e.value))),
            )
    }

    /// Number of live fields.
    pub fn hlen(&self) -> usize {
        match self {
            Entry::Packed(p) if p.kind() == Kind::Hash => p.len(),
            _ => self.live_fields(Coll::Hash).count(),
        }
    }

    /// `HINCRBY`: adds to this region's counter of the field. Returns the new value and the
    /// delta.
    pub fn hincr_by(
        &mut self,
        dot: Dot,
        field: &[u8],
        by: i64,
    ) -> Result<(i64, Entry), FieldNumError> {
        let cur = match self.hget(field) {
            Some(v) => num::parse_i64(&v).ok_or(FieldNumError::NotInteger)?,
            None => 0,
        };
        let new = cur.checked_add(by).ok_or(FieldNumError::Overflow)?;
        self.unpack();
        let s = self.field_bump(Coll::Hash, dot, field, |t| {
            t.isum = t.isum.saturating_add(by as i128)
        });
        let delta = self.apply_fields(Coll::Hash, BTreeMap::from([(Member(field.into()), s)]));
        Ok((new, delta))
    }

    /// `HINCRBYFLOAT`: adds to this region's float counter of the field. Returns the printed
    /// new value and the delta.
    pub fn hincr_by_float(
        &mut self,
        dot: Dot,
        field: &[u8],
        by: f64,
    ) -> Result<(Vec<u8>, Entry), FieldNumError> {
        let cur = match self.hget(field) {
            Some(v) => num::parse_f64(&v).ok_or(FieldNumError::NotFloat)?,
            None => 0.0,
        };
        let new = cur + by;
        if !new.is_finite() || !by.is_finite() {
            return Err(FieldNumError::NanOrInfinity);
        }
        self.unpack();
        let s = self.field_bump(Coll::Hash, dot, field, |t| {
            t.fops = t.fops.saturating_add(1);
            t.fsum += by;
        });
        let delta = self.apply_fields(Coll::Hash, BTreeMap::from([(Member(field.into()), s)]));
        let shown = self.hget(field).map(|v| v.into_owned()).unwrap_or_default();
        Ok((shown, delta))
    }

    /// `ZADD` of plain scores: writes each member's score (an observed overwrite of its
    /// earlier score and increments). Returns the delta.
    pub fn zadd<'a>(
        &mut self,
        dot: Dot,
        items: impl IntoIterator<Item = (&'a [u8], f64)>,
    ) -> Entry {
        self.unpack();
        let mut fields = BTreeMap::new();
        for (m, score) in items {
            let (s, _) = self.field_write(Coll::ZSet, dot, m, Box::new(score.to_le_bytes()));
            fields.insert(Member(m.into()), s);
        }
        self.apply_fields(Coll::ZSet, fields)
    }

    /// `ZINCRBY` (and `ZADD … INCR`): adds to this region's counter of the member's score.
    /// Returns the new score and the delta.
    pub fn zincr_by(
        &mut self,
        dot: Dot,
        member: &[u8],
        by: f64,
    ) -> Result<(f64, Entry), FieldNumError> {
        let cur = self.zscore(member).unwrap_or(0.0);
        if (cur + by).is_nan() {
            return Err(FieldNumError::NanOrInfinity);
        }
        self.unpack();
        let s = self.field_bump(Coll::ZSet, dot, member, |t| {
            t.fops = t.fops.saturating_add(1);
            t.fsum += by;
        });
        let delta = self.apply_fields(Coll::ZSet, BTreeMap::from([(Member(member.into()), s)]));
        Ok((self.zscore(member).unwrap_or(0.0), delta))
    }

    /// `ZREM`: removes the observed writes of each member. Returns how many were members,
    /// and the delta (`None` when none was).
    pub fn zrem<'a>(
        &mut self,
        members: impl IntoIterator<Item = &'a [u8]>,
    ) -> (usize, Option<Entry>) {
        self.remove_fields(Coll::ZSet, members)
    }

    /// The score of a live member.
    pub fn zscore(&self, member: &[u8]) -> Option<f64> {
        if let Entry::Packed(p) = self {
            return match p.kind() {
                Kind::ZSet => p.get(member).map(|e| e.score()),
                _ => None,
            };
        }
        self.field(Coll::ZSet, member).map(|s| s.score_value())
    }

    /// Live members and scores, in byte order of the members (the caller sorts by score).
    pub fn zset_members(&self) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        self.live_fields(Coll::ZSet)
            .map(|(k, s)| (k, s.score_value()))
            .chain(self.packed(Kind::ZSet).map(|e| (e.name, e.score())))
    }

    /// Number of live members.
    pub fn zcard(&self) -> usize {
        match self {
            Entry::Packed(p) if p.kind() == Kind::ZSet => p.len(),
            _ => self.live_fields(Coll::ZSet).count(),
        }
    }
}
