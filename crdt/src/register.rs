//! The string/number type of the spec: a last-writer-wins register of whole values (`Base`s)
//! plus per-region counter totals. Strings, hash field values and sorted-set scores are all
//! one [`Register`]; only how the value is read differs (bytes or a score).
//!
//! Value = winning base + Σ over regions of (total − floor), where the floor is the larger of
//! the totals the winning base observed (a `SET` resets) and the totals a delete observed
//! (the `cfloor` kept beside the register by its owner: key or field).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::counter::{contribution, floor_of, Contribution, Counters, Totals};
use crate::hlc::{Dot, Hlc};
use crate::num;
use crate::vv::VersionVector;

/// A value written by `SET`, `HSET`, `ZADD` (…): one write of the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Base {
    /// The write.
    pub dot: Dot,
    /// The bytes written (a score is its 8 little-endian IEEE-754 bytes).
    #[serde(with = "serde_bytes")]
    pub value: Box<[u8]>,
    /// Counter totals the write observed: increments up to them are part of `value`.
    pub cfloor: Counters,
}

/// Register writes and counter records of one value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Register {
    /// Writes not removed, winner first (concurrent ones are kept until observed).
    pub bases: Vec<Base>,
    /// Per-region increment totals.
    pub counters: Counters,
}

impl Register {
    /// No writes and no counters.
    pub fn is_empty(&self) -> bool {
        self.bases.is_empty() && self.counters.is_empty()
    }

    /// What the increments past the floors add.
    pub(crate) fn contribution(&self, cfloor: &Counters) -> Contribution {
        contribution(
            &self.counters,
            cfloor,
            self.bases.first().map(|b| &b.cfloor),
        )
    }

    /// The latest live write: the winning base or the newest increment past the floors.
    pub(crate) fn latest(&self, cfloor: &Counters) -> Option<Dot> {
        let mut best = self.bases.first().map(|b| b.dot);
        for (r, t) in self.counters.iter() {
            if t.past(&cfloor.get(r)) {
                let d = Dot {
                    hlc: t.last,
                    region: r,
                };
                if best.is_none_or(|b| d > b) {
                    best = Some(d);
                }
            }
        }
        best
    }

    /// Union of writes and counter records. The caller removes the floored bases after.
    pub(crate) fn merge(&mut self, o: &Register) {
        self.counters.merge(&o.counters);
        for b in &o.bases {
            if !self.bases.iter().any(|x| x.dot == b.dot) {
                self.bases.push(b.clone());
            }
        }
    }

    /// Drops the bases either floor covers and puts the winner first.
    pub(crate) fn retain(&mut self, a: &VersionVector, b: &VersionVector) {
        if !a.is_empty() || !b.is_empty() {
            self.bases
                .retain(|x| !a.covers(&x.dot) && !b.covers(&x.dot));
        }
        if self.bases.len() > 1 {
            self.bases.sort_by_key(|b| std::cmp::Reverse(b.dot));
        }
    }

    /// Dots of the writes, for an observed remove.
    pub(crate) fn observe(&self, vv: &mut VersionVector) {
        for b in &self.bases {
            vv.add(b.dot);
        }
    }

    /// The largest stamp held.
    pub(crate) fn max_hlc(&self) -> Hlc {
        let mut h = Hlc(0);
        for b in &self.bases {
            h = h.max(b.dot.hlc);
        }
        for (_, t) in self.counters.iter() {
            h = h.max(t.last);
        }
        h
    }

    /// The value as a string: the winning base, with the increments past the floors added
    /// (printed as an integer while only integer increments apply, else as a float). `None`
    /// when nothing is live.
    pub fn value(&self, cfloor: &Counters) -> Option<Cow<'_, [u8]>> {
        let c = self.contribution(cfloor);
        let base = self.bases.first();
        if c.ops == 0 {
            return base.map(|b| Cow::Borrowed(&b.value[..]));
        }
        let raw: &[u8] = base.map(|b| &b.value[..]).unwrap_or(b"0");
        if c.fops == 0 {
            if let Some(i) = num::parse_i64(raw) {
                let v = (i as i128)
                    .saturating_add(c.isum)
                    .clamp(i64::MIN as i128, i64::MAX as i128);
                return Some(Cow::Owned(v.to_string().into_bytes()));
            }
        }
        match num::parse_f64(raw) {
            Some(x) => Some(Cow::Owned(
                num::format_float_human(finite(x + c.isum as f64 + c.fsum)).into_bytes(),
            )),
            // A winning write of a non-number drops the increments it did not observe.
            None => base.map(|b| Cow::Borrowed(&b.value[..])),
        }
    }

    /// The value as a sorted-set score: the winning base score plus the increments past the
    /// floors. Sums that leave the finite range read as the range's end; a NaN (only possible
    /// from concurrent +inf and -inf increments) reads as 0.
    pub fn score(&self, cfloor: &Counters) -> f64 {
        let c = self.contribution(cfloor);
        let base = self.bases.first().map_or(0.0, |b| score_of(&b.value));
        if c.ops == 0 {
            return base;
        }
        let v = base + c.isum as f64 + c.fsum;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    }

    /// Adds one increment to `region`'s record; returns the delta register (the new record).
    /// A record whose increments are all floored (by `cfloor`, the owner's counter floor, or
    /// by the winning base) is not continued: the increment starts a new epoch, so that the
    /// dead record can be collected everywhere (see [`crate::counter`]).
    pub(crate) fn bump(
        &self,
        cfloor: &Counters,
        dot: Dot,
        add: impl FnOnce(&mut Totals),
    ) -> Register {
        let mut t = self.counters.get(dot.region);
        let floor = floor_of(dot.region, cfloor, self.bases.first().map(|b| &b.cfloor));
        if !t.past(&floor) {
            t = Totals {
                since: dot.hlc,
                ..Totals::default()
            };
        }
        t.ops = t.ops.saturating_add(1);
        t.last = dot.hlc;
        add(&mut t);
        let mut counters = Counters::default();
        counters.put(dot.region, t);
        Register {
            bases: Vec::new(),
            counters,
        }
    }

    /// Drops the counter records the owner's counter floor covers, with their floor entries,
    /// and floor entries left without a record of their epoch (a floor of an older epoch
    /// than the record does not touch it, and the older epoch's increments all arrived
    /// before the newer record). Only once the floors are stable (every region has them,
    /// and every increment they could cover has arrived): the regions owning the records
    /// then start a new epoch at their next increment.
    pub(crate) fn drop_floored(&mut self, cfloor: &mut Counters) {
        let floor = cfloor.clone();
        self.counters.retain(|r, t| t.past(&floor.get(r)));
        let kept = &self.counters;
        cfloor.retain(|r, f| {
            let k = kept.get(r);
            k.ops > 0 && f.since >= k.since
        });
    }

    /// In a lone region (nothing concurrent can exist): keeps only the winning base and folds
    /// the counters into it when that keeps the printed value, so the next increment starts a
    /// fresh record. `as_score` folds unconditionally (a score is always a float).
    pub(crate) fn fold_lone(&mut self, cfloor: &mut Counters, as_score: bool) {
        self.bases.truncate(1);
        if self.counters.is_empty() {
            *cfloor = Counters::default();
            return;
        }
        let c = self.contribution(cfloor);
        let dot = self.latest(cfloor).unwrap_or_default();
        let folded: Option<Box<[u8]>> = if c.ops == 0 {
            // Nothing past the floors: the base (if any) is the value as it is.
            if let Some(b) = self.bases.first_mut() {
                b.cfloor = Counters::default();
            }
            self.counters = Counters::default();
            *cfloor = Counters::default();
            return;
        } else if as_score {
            Some(Box::new(self.score(cfloor).to_le_bytes()))
        } else if c.fops == 0
            && self
                .bases
                .first()
                .is_none_or(|b| num::parse_i64(&b.value).is_some())
        {
            self.value(cfloor).map(|v| v.into_owned().into())
        } else {
            None
        };
        if let Some(value) = folded {
            self.counters = Counters::default();
            *cfloor = Counters::default();
            self.bases = vec![Base {
                dot,
                value,
                cfloor: Counters::default(),
            }];
        }
    }
}

/// A score stored in a base (8 little-endian bytes); anything else reads as 0.
pub fn score_of(v: &[u8]) -> f64 {
    match <[u8; 8]>::try_from(v) {
        Ok(b) => {
            let x = f64::from_le_bytes(b);
            if x.is_nan() {
                0.0
            } else {
                x
            }
        }
        Err(_) => 0.0,
    }
}

/// Clamps an infinite sum to the finite range (NaN stays NaN and prints as Redis does).
fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        v.clamp(f64::MIN, f64::MAX)
    }
}
