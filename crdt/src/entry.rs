//! A key's CRDT entry: the string/number register, add-wins sets, hashes and sorted sets,
//! key-level observed delete, the type-conflict rule and the expiry rule, in one lattice.
//!
//! Every local write is expressed as a small *delta* entry that is merged into the local
//! entry and shipped to the other regions, where the same `merge` is applied: so "delta
//! application equals state merge" holds by construction. `merge` is a join: commutative,
//! associative and idempotent.
//!
//! Removal is by *floors* (see [`VersionVector`]): a write that overwrites or deletes records
//! the dots it observed, and the floor removes exactly those everywhere. Floors only matter
//! until every op they cover has arrived, so [`Entry::compact`] drops them once the
//! receiver's per-origin received vector passes them. That keeps the common case small: a
//! string written in one region is an [`Entry::Plain`] of a dot and the bytes.
//!
//! Collections share one shape per element ([`MemberState`] for set members, [`FieldState`]
//! for hash fields and sorted-set members): the element's live add dots (add-wins: a remove
//! floors only the adds it observed) and, for fields, a [`Register`] holding the value (a
//! hash value or a score) with its own counter floor, so `HINCRBY`/`ZINCRBY` from several
//! regions add up and `HSET`/`ZADD` reset as `SET` does.
//!
//! Delivery contract: ops from one origin region about one key arrive in the order they were
//! made (FIFO per origin); duplicates are harmless to `merge`, but once [`Entry::compact`] has
//! pruned floors a duplicate must not be merged again (the receiver dedups by stream offset).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::counter::Counters;
use crate::hlc::{Dot, Hlc, RegionId};
use crate::list::List;
use crate::packed::Packed;
use crate::register::Register;
use crate::vv::VersionVector;

pub use crate::register::Base;

/// The data type a key holds, as `TYPE` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Strings and numbers.
    String,
    /// Add-wins sets.
    Set,
    /// Hashes: add-wins fields holding string/number values.
    Hash,
    /// Sorted sets: add-wins members with a score register each.
    ZSet,
    /// Lists: a sequence CRDT (every concurrent insert survives).
    List,
}

/// A key's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Entry {
    /// The common case: one string value from one write, no TTL, no removal metadata.
    /// (The write's dot is stored as its two parts so that the variant tag shares a word
    /// with the region byte: an entry stays 32 bytes.)
    Plain {
        /// The write's stamp.
        hlc: Hlc,
        /// The write's region.
        region: RegionId,
        /// The value.
        #[serde(with = "serde_bytes")]
        value: Box<[u8]>,
    },
    /// A small set, hash or sorted set without conflict metadata, in one buffer.
    Packed(Packed),
    /// Everything else.
    Full(Box<Full>),
}

impl Default for Entry {
    fn default() -> Self {
        Entry::Full(Box::default())
    }
}

/// A byte string usable as a map key and encoded as MessagePack bin.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Member(#[serde(with = "serde_bytes")] pub Box<[u8]>);

impl std::borrow::Borrow<[u8]> for Member {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

/// One set member: the adds that are still live, and the removals' floor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemberState {
    /// Dots of the adds not yet removed, sorted; at most one per region (the newest).
    pub dots: Vec<Dot>,
    /// Removes the adds an `SREM` observed.
    pub floor: VersionVector,
}

/// One hash field or sorted-set member: live adds, removals' floors, and the value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldState {
    /// Dots of the writes not yet removed, sorted; at most one per region (the newest).
    pub dots: Vec<Dot>,
    /// Removes the writes (adds and bases) an `HDEL`/`ZREM`/overwrite observed.
    pub floor: VersionVector,
    /// Counter totals a remove observed.
    pub cfloor: Counters,
    /// The value (hash) or score (sorted set).
    pub reg: Register,
}

impl FieldState {
    fn is_live(&self) -> bool {
        !self.dots.is_empty()
    }

    /// Whether compaction may drop the record: nothing live, no floor left to apply, and no
    /// counter records or counter floor (totals are cumulative per region, so dropping either
    /// while other regions keep them, or before the increments they floor arrive, would let
    /// old increments come back; only a lone region may).
    fn is_dead(&self) -> bool {
        self.dots.is_empty()
            && self.floor.is_empty()
            && self.reg.is_empty()
            && self.cfloor.is_empty()
    }

    fn observe(&self, vv: &mut VersionVector) {
        for d in &self.dots {
            vv.add(*d);
        }
        self.reg.observe(vv);
    }

    /// A remove of everything observed in this field.
    fn removal(&self) -> FieldState {
        let mut floor = VersionVector::new();
        self.observe(&mut floor);
        FieldState {
            floor,
            cfloor: self.reg.counters.clone(),
            ..FieldState::default()
        }
    }

    fn merge(&mut self, o: &FieldState, key_floor: &VersionVector) {
        self.floor.merge(&o.floor);
        self.cfloor.merge(&o.cfloor);
        self.reg.merge(&o.reg);
        merge_dots(&mut self.dots, &o.dots, &self.floor, key_floor);
        self.reg.retain(&self.floor, key_floor);
    }

    fn value(&self) -> Cow<'_, [u8]> {
        self.reg
            .value(&self.cfloor)
            .unwrap_or(Cow::Borrowed(b"0".as_slice()))
    }

    fn score(&self) -> f64 {
        self.reg.score(&self.cfloor)
    }

    fn latest(&self) -> Option<Dot> {
        self.dots.last().copied().max(self.reg.latest(&self.cfloor))
    }
}

/// Unions add dots, drops the floored ones and keeps each region's newest (floors are
/// per-region maxima, so an older add of the same region can never outlive the newer one).
fn merge_dots(mine: &mut Vec<Dot>, theirs: &[Dot], floor: &VersionVector, key: &VersionVector) {
    for d in theirs {
        if let Err(i) = mine.binary_search(d) {
            mine.insert(i, *d);
        }
    }
    mine.retain(|d| !floor.covers(d) && !key.covers(d));
    if mine.len() > 1 {
        let dots = std::mem::take(mine);
        *mine = dots
            .iter()
            .filter(|d| !dots.iter().any(|o| o.region == d.region && o.hlc > d.hlc))
            .copied()
            .collect();
    }
}

/// One TTL write: a deadline, or `None` for `PERSIST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryWrite {
    /// The write.
    pub dot: Dot,
    /// Unix milliseconds, or `None` for PERSIST.
    pub deadline: Option<u64>,
}

/// The general form of an entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Full {
    /// Removes register bases and collection adds observed by a DEL or an overwrite.
    pub floor: VersionVector,
    /// Counter totals of the string register observed by a DEL.
    pub cfloor: Counters,
    /// The string register.
    pub reg: Register,
    /// Set members.
    pub members: BTreeMap<Member, MemberState>,
    /// Hash fields.
    pub fields: BTreeMap<Member, FieldState>,
    /// Sorted-set members.
    pub zset: BTreeMap<Member, FieldState>,
    /// List elements (boxed: most keys are not lists).
    pub list: Option<Box<List>>,
    /// Removes TTL writes observed by a DEL, an overwrite or a later EXPIRE/PERSIST.
    pub xfloor: VersionVector,
    /// TTL writes not removed, sorted by dot.
    pub xents: Vec<ExpiryWrite>,
}

/// The elements of one key that removals and conflicts merged since its last settled
/// collection named (see [`Entry::compact_stable_in`]): set members, hash fields and
/// sorted-set members, or all of them after a key-level floor or past a cap.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Touched {
    all: bool,
    names: Full,
    count: usize,
}

impl Touched {
    /// Most names kept; past it, collection looks at the whole entry.
    pub const CAP: usize = 4096;

    /// Every element.
    pub fn all() -> Touched {
        Touched {
            all: true,
            ..Touched::default()
        }
    }

    /// Adds what `delta` names (a key floor or a list change: everything).
    pub fn add(&mut self, delta: &Entry) {
        if self.all {
            return;
        }
        let d = match delta {
            Entry::Full(d) => d,
            // A plain delta is one write of the string: key-level, always looked at.
            Entry::Plain { .. } => return,
            Entry::Packed(_) => {
                *self = Touched::all();
                return;
            }
        };
        if !d.floor.is_empty() || d.list.is_some() {
            *self = Touched::all();
            return;
        }
        for k in d.members.keys() {
            if !self.names.members.contains_key(k) {
                self.names.members.insert(k.clone(), MemberState::default());
                self.count += 1;
            }
        }
        for c in [Coll::Hash, Coll::ZSet] {
            for k in d.coll(c).keys() {
                if !self.names.coll(c).contains_key(k) {
                    self.names
                        .coll_mut(c)
                        .insert(k.clone(), FieldState::default());
                    self.count += 1;
                }
            }
        }
        if self.count > Self::CAP {
            *self = Touched::all();
        }
    }

    /// Adds everything `other` names.
    pub fn merge(&mut self, other: &Touched) {
        if other.all {
            *self = Touched::all();
        } else {
            self.add(&Entry::Full(Box::new(other.names.clone())));
        }
    }

    /// The names, or `None` for everything.
    pub(crate) fn only(&self) -> Option<&Full> {
        (!self.all).then_some(&self.names)
    }
}

/// What [`Entry::leftovers`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Leftovers {
    /// Nothing to collect.
    None,
    /// The delta of an op that removes the leftovers.
    Collect(Entry),
    /// Leftovers whose writes (these) are not all stable yet.
    Wait(Vec<Dot>),
}

/// The TTL in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    /// Unix milliseconds.
    pub deadline_ms: u64,
    /// The region whose TTL won: it deletes the key when the time comes.
    pub owner: RegionId,
}

/// Why a numeric write was refused (the caller maps each to Redis's error text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumError {
    /// "ERR value is not an integer or out of range"
    NotInteger,
    /// "ERR increment or decrement would overflow"
    Overflow,
    /// "ERR value is not a valid float"
    NotFloat,
    /// "ERR increment would produce NaN or Infinity"
    NanOrInfinity,
}

/// Which collection of a [`Full`] an operation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coll {
    Hash,
    ZSet,
}

impl Full {
    pub(crate) fn coll(&self, c: Coll) -> &BTreeMap<Member, FieldState> {
        match c {
            Coll::Hash => &self.fields,
            Coll::ZSet => &self.zset,
        }
    }

    pub(crate) fn coll_mut(&mut self, c: Coll) -> &mut BTreeMap<Member, FieldState> {
        match c {
            Coll::Hash => &mut self.fields,
            Coll::ZSet => &mut self.zset,
        }
    }

    fn string_dot(&self) -> Option<Dot> {
        self.reg.latest(&self.cfloor)
    }

    fn set_dot(&self) -> Option<Dot> {
        self.members
            .values()
            .filter_map(|m| m.dots.last().copied())
            .max()
    }

    fn fields_dot(map: &BTreeMap<Member, FieldState>) -> Option<Dot> {
        map.values()
            .filter(|f| f.is_live())
            .filter_map(|f| f.latest())
            .max()
    }

    /// Visible list elements.
    pub(crate) fn list_len(&self) -> usize {
        self.list.as_ref().map_or(0, |l| l.len(&self.floor))
    }

    fn has_live_member(&self) -> bool {
        self.members.values().any(|m| !m.dots.is_empty())
    }

    pub(crate) fn kind(&self) -> Option<Kind> {
        // The common cases stay cheap: one kind of content. Only a type conflict needs each
        // kind's latest dot (a scan of the collections).
        let s = self.string_dot().is_some();
        let m = self.has_live_member();
        let h = self.fields.values().any(FieldState::is_live);
        let z = self.zset.values().any(FieldState::is_live);
        let l = self.list_len() > 0;
        match (s, m, h, z, l) {
            (false, false, false, false, false) => None,
            (true, false, false, false, false) => Some(Kind::String),
            (false, true, false, false, false) => Some(Kind::Set),
            (false, false, true, false, false) => Some(Kind::Hash),
            (false, false, false, true, false) => Some(Kind::ZSet),
            (false, false, false, false, true) => Some(Kind::List),
            _ => [
                (self.string_dot(), Kind::String),
                (self.set_dot(), Kind::Set),
                (Full::fields_dot(&self.fields), Kind::Hash),
                (Full::fields_dot(&self.zset), Kind::ZSet),
                (
                    self.list.as_ref().and_then(|l| l.max_dot(&self.floor)),
                    Kind::List,
                ),
            ]
            .into_iter()
            .filter_map(|(d, k)| d.map(|d| (d, k)))
            .max_by_key(|(d, _)| *d)
            .map(|(_, k)| k),
        }
    }

    /// Dots of content (register writes, collection adds) this entry holds.
    fn observed(&self) -> VersionVector {
        let mut vv = VersionVector::new();
        self.reg.observe(&mut vv);
        for m in self.members.values() {
            for d in &m.dots {
                vv.add(*d);
            }
        }
        for f in self.fields.values().chain(self.zset.values()) {
            f.observe(&mut vv);
        }
        if let Some(l) = &self.list {
            l.observed(&mut vv);
        }
        vv
    }

    /// An observed delete of all content: the floor of every dot held, the string counters'
    /// floor, and each field's counter floor (counter totals are not covered by dots).
    fn removal(&self) -> Full {
        let mut d = Full {
            floor: self.observed(),
            cfloor: self.reg.counters.clone(),
            ..Full::default()
        };
        for c in [Coll::Hash, Coll::ZSet] {
            for (k, f) in self.coll(c) {
                if !f.reg.counters.is_empty() {
                    d.coll_mut(c).insert(
                        k.clone(),
                        FieldState {
                            cfloor: f.reg.counters.clone(),
                            ..FieldState::default()
                        },
                    );
                }
            }
        }
        d
    }

    /// TTL writes left on a key with no live content (a concurrent EXPIRE that survived a
    /// DEL): a write that brings the key back must not inherit them, so it floors them.
    pub(crate) fn dead_ttl_floor(&self) -> VersionVector {
        if self.kind().is_none() {
            self.observed_expiry()
        } else {
            VersionVector::new()
        }
    }

    pub(crate) fn observed_expiry(&self) -> VersionVector {
        let mut vv = VersionVector::new();
        for x in &self.xents {
            vv.add(x.dot);
        }
        vv
    }

    fn merge(&mut self, o: &Full) {
        let floor_grew = !o.floor.is_empty();
        self.floor.merge(&o.floor);
        self.cfloor.merge(&o.cfloor);
        self.reg.merge(&o.reg);
        self.reg.retain(&self.floor, &VersionVector::new());
        for (k, m) in &o.members {
            let mine = self.members.entry(k.clone()).or_default();
            mine.floor.merge(&m.floor);
            merge_dots(&mut mine.dots, &m.dots, &mine.floor, &self.floor);
        }
        for (k, f) in &o.fields {
            let mine = self.fields.entry(k.clone()).or_default();
            mine.merge(f, &self.floor);
        }
        for (k, f) in &o.zset {
            let mine = self.zset.entry(k.clone()).or_default();
            mine.merge(f, &self.floor);
        }
        match (&mut self.list, &o.list) {
            (_, None) => {}
            (None, Some(l)) => self.list = Some(l.clone()),
            (Some(mine), Some(l)) => mine.merge(l),
        }
        if floor_grew {
            let kf = &self.floor;
            for m in self.members.values_mut() {
                m.dots.retain(|d| !kf.covers(d));
            }
            for f in self.fields.values_mut().chain(self.zset.values_mut()) {
                f.dots.retain(|d| !kf.covers(d));
                f.reg.retain(&f.floor, kf);
            }
        }
        self.xfloor.merge(&o.xfloor);
        for x in &o.xents {
            if let Err(i) = self.xents.binary_search_by(|y| y.dot.cmp(&x.dot)) {
                self.xents.insert(i, *x);
            }
        }
        let xf = &self.xfloor;
        self.xents.retain(|x| !xf.covers(&x.dot));
    }

    fn expiry(&self) -> Option<Expiry> {
        if self.xents.is_empty() || self.xents.iter().any(|x| x.deadline.is_none()) {
            return None;
        }
        self.xents
            .iter()
            .filter_map(|x| x.deadline.map(|d| (d, x.dot)))
            .max()
            .map(|(deadline_ms, dot)| Expiry {
                deadline_ms,
                owner: dot.region,
            })
    }

    /// Whether a collection other than `except` still has a live element, or the string does.
    fn has_other_content(&self, except: Coll, removed: &BTreeMap<Member, FieldState>) -> bool {
        self.string_dot().is_some()
            || self.has_live_member()
            || self.list_len() > 0
            || (except != Coll::Hash && self.fields.values().any(FieldState::is_live))
            || (except != Coll::ZSet && self.zset.values().any(FieldState::is_live))
            || self
                .coll(except)
                .iter()
                .any(|(k, f)| f.is_live() && !removed.contains_key(k))
    }
}

impl Entry {
    /// A string written once, with no TTL.
    pub fn plain(dot: Dot, value: &[u8]) -> Entry {
        Entry::Plain {
            hlc: dot.hlc,
            region: dot.region,
            value: value.into(),
        }
    }

    /// The dot of a plain entry's write.
    fn plain_dot(&self) -> Option<Dot> {
        match self {
            Entry::Plain { hlc, region, .. } => Some(Dot {
                hlc: *hlc,
                region: *region,
            }),
            _ => None,
        }
    }

    pub(crate) fn full(&self) -> Cow<'_, Full> {
        match self {
            Entry::Plain { hlc, region, value } => Cow::Owned(Full {
                reg: Register {
                    bases: vec![Base {
                        dot: Dot {
                            hlc: *hlc,
                            region: *region,
                        },
                        value: value.clone(),
                        cfloor: Counters::default(),
                    }],
                    counters: Counters::default(),
                },
                ..Full::default()
            }),
            Entry::Packed(p) => Cow::Owned(p.to_full()),
            Entry::Full(f) => Cow::Borrowed(f),
        }
    }

    pub(crate) fn full_mut(&mut self) -> &mut Full {
        self.unpack();
        match self {
            Entry::Full(f) => f,
            // Converted just above.
            Entry::Plain { .. } | Entry::Packed(_) => {
                unreachable!("entry converted to full form")
            }
        }
    }

    /// Converts a plain or packed entry to the general form in place (before a write, so
    /// the write's lookups do not unpack it again and again).
    pub(crate) fn unpack(&mut self) {
        if !matches!(self, Entry::Full(_)) {
            let f = self.full().into_owned();
            *self = Entry::Full(Box::new(f));
        }
    }

    /// Packs a small collection that holds no conflict metadata (see [`Packed`]).
    fn pack(&mut self) {
        if let Entry::Full(f) = self {
            if let Some(p) = Packed::from_full(f) {
                *self = Entry::Packed(p);
            }
        }
    }

    /// Turns a full entry that is just one plain write back into [`Entry::Plain`], so equal
    /// states have one representation and the common case stays small.
    fn normalize(&mut self) {
        let Entry::Full(f) = self else { return };
        let plain = f.reg.bases.len() == 1
            && f.reg.bases[0].cfloor.is_empty()
            && f.floor.is_empty()
            && f.cfloor.is_empty()
            && f.reg.counters.is_empty()
            && f.members.is_empty()
            && f.fields.is_empty()
            && f.zset.is_empty()
            && f.list.is_none()
            && f.xfloor.is_empty()
            && f.xents.is_empty();
        if plain {
            if let Some(b) = f.reg.bases.pop() {
                *self = Entry::Plain {
                    hlc: b.dot.hlc,
                    region: b.dot.region,
                    value: b.value,
                };
            }
        }
    }

    /// Merges another state (or a delta) into this one.
    pub fn merge(&mut self, other: &Entry) {
        if let (Some(dot), Some(od)) = (self.plain_dot(), other.plain_dot()) {
            if dot == od {
                return;
            }
        }
        let o = other.full();
        self.full_mut().merge(&o);
        self.normalize();
        self.pack();
    }

    /// Whether a client can see anything in this key (ignoring its TTL).
    pub fn is_live(&self) -> bool {
        match self {
            Entry::Plain { .. } | Entry::Packed(_) => true,
            Entry::Full(f) => f.kind().is_some(),
        }
    }

    /// The type that wins (the one with the latest live write), if any content is live.
    pub fn kind(&self) -> Option<Kind> {
        match self {
            Entry::Plain { .. } => Some(Kind::String),
            Entry::Packed(p) => Some(p.kind()),
            Entry::Full(f) => f.kind(),
        }
    }

    /// The TTL in force, if any.
    pub fn expiry(&self) -> Option<Expiry> {
        match self {
            Entry::Plain { .. } => None,
            Entry::Packed(p) => p.ttl().and_then(|x| {
                x.deadline.map(|deadline_ms| Expiry {
                    deadline_ms,
                    owner: x.dot.region,
                })
            }),
            Entry::Full(f) => f.expiry(),
        }
    }

    /// The string value, if the key holds a live string (whatever the winning type; the
    /// caller checks [`Entry::kind`] first).
    pub fn string_value(&self) -> Option<Cow<'_, [u8]>> {
        match self {
            Entry::Plain { value, .. } => Some(Cow::Borrowed(value)),
            Entry::Packed(_) => None,
            Entry::Full(f) => f.reg.value(&f.cfloor),
        }
    }

    /// Live set members, in byte order.
    pub fn members(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let map = match self {
            Entry::Full(f) => Some(&f.members),
            _ => None,
        };
        map.into_iter()
            .flat_map(|m| m.iter())
            .filter(|(_, m)| !m.dots.is_empty())
            .map(|(k, _)| &k.0[..])
            .chain(self.packed(Kind::Set).map(|e| e.name))
    }

    /// Number of live set members.
    pub fn card(&self) -> usize {
        match self {
            Entry::Full(f) => f.members.values().filter(|m| !m.dots.is_empty()).count(),
            Entry::Packed(p) if p.kind() == Kind::Set => p.len(),
            _ => 0,
        }
    }

    /// Whether `m` is a live set member.
    pub fn is_member(&self, m: &[u8]) -> bool {
        match self {
            Entry::Full(f) => f.members.get(m).is_some_and(|s| !s.dots.is_empty()),
            Entry::Packed(p) if p.kind() == Kind::Set => p.get(m).is_some(),
            _ => false,
        }
    }

    /// The elements of a packed collection of type `kind` (none for any other entry).
    pub(crate) fn packed(&self, kind: Kind) -> impl Iterator<Item = crate::packed::Elem<'_>> {
        let p = match self {
            Entry::Packed(p) if p.kind() == kind => Some(p),
            _ => None,
        };
        p.into_iter().flat_map(|p| p.iter())
    }

    pub(crate) fn apply(&mut self, delta: Full) -> Entry {
        let d = Entry::Full(Box::new(delta));
        self.merge(&d);
        let mut d = d;
        d.normalize();
        d
    }

    /// `SET`-like write of the whole value: an observed delete of the old content (all types),
    /// of the observed TTL unless `keep_ttl`, plus the new value and optional deadline.
    /// Returns the delta.
    pub fn set(&mut self, dot: Dot, value: &[u8], keep_ttl: bool, deadline: Option<u64>) -> Entry {
        // Fast path: overwriting a plain value needs no metadata beyond the old dot.
        if let (Some(old), None) = (self.plain_dot(), deadline) {
            let mut floor = VersionVector::new();
            floor.add(old);
            *self = Entry::plain(dot, value);
            return Entry::Full(Box::new(Full {
                floor,
                reg: Register {
                    bases: vec![Base {
                        dot,
                        value: value.into(),
                        cfloor: Counters::default(),
                    }],
                    counters: Counters::default(),
                },
                ..Full::default()
            }));
        }
        self.unpack();
        let cur = self.full();
        let mut delta = cur.removal();
        // The new base resets the counters it observed; the key-level counter floor is not
        // needed for that (it would also floor increments the base already accounts for).
        delta.cfloor = Counters::default();
        delta.reg.bases = vec![Base {
            dot,
            value: value.into(),
            cfloor: cur.reg.counters.clone(),
        }];
        delta.xfloor = if keep_ttl {
            cur.dead_ttl_floor()
        } else {
            cur.observed_expiry()
        };
        delta.xents = deadline
            .map(|d| {
                vec![ExpiryWrite {
                    dot,
                    deadline: Some(d),
                }]
            })
            .unwrap_or_default();
        drop(cur);
        self.apply(delta)
    }

    /// Observed delete of everything in the key (content, counters, TTL). `None` when there
    /// is nothing to delete.
    pub fn delete(&mut self) -> Option<Entry> {
        if !self.is_live() {
            return None;
        }
        self.unpack();
        let cur = self.full();
        let mut delta = cur.removal();
        delta.xfloor = cur.observed_expiry();
        drop(cur);
        Some(self.apply(delta))
    }

    /// `INCRBY`: adds to this region's counter. Returns the new value and the delta.
    pub fn incr_by(&mut self, dot: Dot, by: i64) -> Result<(i64, Entry), NumError> {
        let cur = match self.string_value() {
            Some(v) => crate::num::parse_i64(&v).ok_or(NumError::NotInteger)?,
            None => 0,
        };
        let new = cur.checked_add(by).ok_or(NumError::Overflow)?;
        let delta = self.count(dot, |t| t.isum = t.isum.saturating_add(by as i128));
        Ok((new, delta))
    }

    /// `INCRBYFLOAT`: adds to this region's float counter. Returns the printed new value and
    /// the delta.
    pub fn incr_by_float(&mut self, dot: Dot, by: f64) -> Result<(Vec<u8>, Entry), NumError> {
        let cur = match self.string_value() {
            Some(v) => crate::num::parse_f64(&v).ok_or(NumError::NotFloat)?,
            None => 0.0,
        };
        let new = cur + by;
        if !new.is_finite() || !by.is_finite() {
            return Err(NumError::NanOrInfinity);
        }
        let delta = self.count(dot, |t| {
            t.fops = t.fops.saturating_add(1);
            t.fsum += by;
        });
        let shown = self
            .string_value()
            .map(|v| v.into_owned())
            .unwrap_or_default();
        Ok((shown, delta))
    }

    /// Records one increment in this region's string counter record. A key revived by it
    /// drops TTL writes left on the dead key.
    fn count(&mut self, dot: Dot, add: impl FnOnce(&mut crate::counter::Totals)) -> Entry {
        let f = self.full();
        let reg = f.reg.bump(&f.cfloor, dot, add);
        let xfloor = f.dead_ttl_floor();
        drop(f);
        self.apply(Full {
            reg,
            xfloor,
            ..Full::default()
        })
    }

    /// `SADD`: a new add dot for every member (a re-add wins over a concurrent remove).
    /// Returns how many members were new, and the delta.
    pub fn sadd<'a>(
        &mut self,
        dot: Dot,
        members: impl IntoIterator<Item = &'a [u8]>,
    ) -> (usize, Entry) {
        self.unpack();
        let mut added = 0;
        let mut delta = Full {
            xfloor: self.full().dead_ttl_floor(),
            ..Full::default()
        };
        for m in members {
            let key = Member(m.into());
            if delta.members.contains_key(&key) {
                continue;
            }
            if !self.is_member(m) {
                added += 1;
            }
            delta.members.insert(
                key,
                MemberState {
                    dots: vec![dot],
                    floor: VersionVector::new(),
                },
            );
        }
        (added, self.apply(delta))
    }

    /// `SREM`: removes the adds observed of each member. Returns how many were members, and
    /// the delta (`None` if nothing was removed).
    pub fn srem<'a>(
        &mut self,
        members: impl IntoIterator<Item = &'a [u8]>,
    ) -> (usize, Option<Entry>) {
        self.unpack();
        let Entry::Full(f) = &*self else {
            return (0, None);
        };
        let mut delta = Full::default();
        for m in members {
            if let Some(s) = f.members.get(m) {
                if !s.dots.is_empty() && !delta.members.contains_key(m) {
                    let floor = s.dots.iter().map(|d| (d.region, d.hlc)).collect();
                    delta.members.insert(
                        Member(m.into()),
                        MemberState {
                            dots: Vec::new(),
                            floor,
                        },
                    );
                }
            }
        }
        let removed = delta.members.len();
        if removed == 0 {
            return (0, None);
        }
        // Removing the last member deletes the key, as in Redis: its TTL goes with it, so a
        // later write does not find the old TTL again.
        let others = f
            .members
            .iter()
            .any(|(k, m)| !m.dots.is_empty() && !delta.members.contains_key(k));
        if !others && f.string_dot().is_none() {
            delta.xfloor = f.observed_expiry();
        }
        (removed, Some(self.apply(delta)))
    }

    /// Removes the observed writes of each element of a hash or sorted set. Returns how many
    /// were live, and the delta (`None` if nothing was removed). Removing the last element
    /// deletes the key with its TTL.
    pub(crate) fn remove_fields<'a>(
        &mut self,
        coll: Coll,
        names: impl IntoIterator<Item = &'a [u8]>,
    ) -> (usize, Option<Entry>) {
        self.unpack();
        let Entry::Full(f) = &*self else {
            return (0, None);
        };
        let map = f.coll(coll);
        let mut delta = Full::default();
        for n in names {
            if let Some(s) = map.get(n) {
                if s.is_live() && !delta.coll(coll).contains_key(n) {
                    delta.coll_mut(coll).insert(Member(n.into()), s.removal());
                }
            }
        }
        let removed = delta.coll(coll).len();
        if removed == 0 {
            return (0, None);
        }
        if !f.has_other_content(coll, delta.coll(coll)) {
            delta.xfloor = f.observed_expiry();
        }
        (removed, Some(self.apply(delta)))
    }

    /// Writes a whole value into a field (`HSET`, `ZADD`): an observed overwrite of the
    /// field's earlier writes. The caller groups several fields of one command into one delta.
    /// Also says whether the field was live (one lookup for both).
    pub(crate) fn field_write(
        &self,
        coll: Coll,
        dot: Dot,
        name: &[u8],
        value: Box<[u8]>,
    ) -> (FieldState, bool) {
        let f = self.full();
        let cur = f.coll(coll).get(name);
        let live = cur.is_some_and(FieldState::is_live);
        let mut floor = VersionVector::new();
        if let Some(c) = cur {
            c.observe(&mut floor);
        }
        let write = FieldState {
            dots: vec![dot],
            floor,
            cfloor: Counters::default(),
            reg: Register {
                bases: vec![Base {
                    dot,
                    value,
                    cfloor: cur.map(|c| c.reg.counters.clone()).unwrap_or_default(),
                }],
                counters: Counters::default(),
            },
        };
        (write, live)
    }

    /// One increment of a field's counter (`HINCRBY`, `ZINCRBY`): an add dot (so the field
    /// exists, add-wins) and this region's new counter record.
    pub(crate) fn field_bump(
        &self,
        coll: Coll,
        dot: Dot,
        name: &[u8],
        add: impl FnOnce(&mut crate::counter::Totals),
    ) -> FieldState {
        let f = self.full();
        let reg = match f.coll(coll).get(name) {
            Some(c) => c.reg.bump(&c.cfloor, dot, add),
            None => Register::default().bump(&Counters::default(), dot, add),
        };
        FieldState {
            dots: vec![dot],
            reg,
            ..FieldState::default()
        }
    }

    /// Applies field writes of one command as one delta (a key revived by them drops TTL
    /// writes left on the dead key).
    pub(crate) fn apply_fields(
        &mut self,
        coll: Coll,
        fields: BTreeMap<Member, FieldState>,
    ) -> Entry {
        let mut delta = Full {
            xfloor: self.full().dead_ttl_floor(),
            ..Full::default()
        };
        *delta.coll_mut(coll) = fields;
        self.apply(delta)
    }

    /// A live field of a hash or sorted set in the general form (see [`Entry::packed`] for
    /// the packed one).
    pub(crate) fn field(&self, coll: Coll, name: &[u8]) -> Option<&FieldState> {
        match self {
            Entry::Full(f) => f.coll(coll).get(name).filter(|s| s.is_live()),
            _ => None,
        }
    }

    /// Live fields of a hash or sorted set in the general form, in byte order of their
    /// names.
    pub(crate) fn live_fields(
        &self,
        coll: Coll,
    ) -> impl Iterator<Item = (&[u8], &FieldState)> + '_ {
        let map = match self {
            Entry::Full(f) => Some(f.coll(coll)),
            _ => None,
        };
        map.into_iter()
            .flat_map(|m| m.iter())
            .filter(|(_, s)| s.is_live())
            .map(|(k, s)| (&k.0[..], s))
    }

    /// `EXPIRE` (a deadline) or `PERSIST` (`None`): replaces the TTL writes observed.
    pub fn set_expiry(&mut self, dot: Dot, deadline: Option<u64>) -> Entry {
        self.unpack();
        let xfloor = self.full().observed_expiry();
        self.apply(Full {
            xfloor,
            xents: vec![ExpiryWrite { dot, deadline }],
            ..Full::default()
        })
    }

    /// The largest stamp in the entry (used to advance a receiver's clock).
    pub fn max_hlc(&self) -> Hlc {
        let f = match self {
            Entry::Plain { hlc, .. } => return *hlc,
            Entry::Packed(p) => return p.max_hlc(),
            Entry::Full(f) => f,
        };
        let mut h = f.reg.max_hlc();
        for m in f.members.values() {
            if let Some(d) = m.dots.last() {
                h = h.max(d.hlc);
            }
        }
        for s in f.fields.values().chain(f.zset.values()) {
            for d in &s.dots {
                h = h.max(d.hlc);
            }
            h = h.max(s.reg.max_hlc());
        }
        if let Some(l) = &f.list {
            h = h.max(l.max_hlc());
        }
        for x in &f.xents {
            h = h.max(x.dot.hlc);
        }
        h
    }

    /// Drops metadata that can no longer matter and reports whether the entry is now empty
    /// (may be removed from the keyspace).
    ///
    /// `received[r]`: this replica has merged every op of region `r` on this key with a stamp
    /// up to it (own region: everything). Floors at or below it remove nothing that can still
    /// arrive, so they go.
    ///
    /// `lone`: this replica is the whole group (a region without peers). Then nothing
    /// concurrent can exist or arrive: losing-type content, PERSIST markers, counters folded
    /// into the value and dead entries go too. (Collecting those in a linked group needs the
    /// group-wide stable vector and is not done here.)
    pub fn compact(&mut self, received: &VersionVector, lone: bool) -> bool {
        self.compact_only(received, lone, None)
    }

    /// [`Entry::compact`] after applying `delta`: only the collection elements the delta
    /// touched can have new removal metadata, so only they are looked at (a write to a big
    /// collection stays proportional to the write, not to the collection).
    pub fn compact_after(&mut self, delta: &Entry, received: &VersionVector, lone: bool) -> bool {
        match delta {
            // A grown key floor may have emptied any element: look at all of them.
            Entry::Full(d) if !d.floor.is_empty() => self.compact_only(received, lone, None),
            Entry::Full(d) => self.compact_only(received, lone, Some(d)),
            Entry::Plain { .. } | Entry::Packed(_) => {
                self.compact_only(received, lone, Some(&Full::default()))
            }
        }
    }

    /// Garbage collection in a linked group: [`Entry::compact`], then what only the
    /// group-wide stable vector can free. Reports whether the entry is now empty.
    ///
    /// `stable` must be causally stable for this replica (see [`List::compact_stable`]):
    /// every op that can still arrive here was made by a region that had merged every op at
    /// or below it. With it, list tombstones whose removal is stable go.
    ///
    /// `settled`: the caller also knows that every op merged into this entry that removed
    /// something (a delta with a floor, a counter floor or list removals) has its stamp
    /// covered by `stable`. Then every region holds every removal recorded here, and every op
    /// concurrent with one of them has arrived here; so counter records a delete's counter
    /// floor covers are dropped with that floor (a deleted string's or hash field's
    /// counters), then fields left with nothing, and list records removed by a key floor. (A
    /// region that increments such a register again starts a new counter epoch, see
    /// [`crate::counter`], so the old totals are never needed again.)
    ///
    /// Not collected here (a later observed remove in this region would no longer cover
    /// them where they were not collected yet): conflict leftovers, which go only by a
    /// replicated op (see [`Entry::leftovers`]), and content of a type that lost a type
    /// conflict.
    pub fn compact_stable(
        &mut self,
        received: &VersionVector,
        stable: &VersionVector,
        settled: bool,
    ) -> bool {
        self.compact_stable_in(received, stable, settled, &Touched::all())
    }

    /// [`Entry::compact_stable`] looking only at the set members, hash fields and
    /// sorted-set members in `touched` (what the removals and conflicts merged since the
    /// key was last settled named): the others hold no removal metadata that can have
    /// become collectable, so a big collection costs what its recent removals touched.
    /// Key-level metadata and the list are always looked at.
    pub fn compact_stable_in(
        &mut self,
        received: &VersionVector,
        stable: &VersionVector,
        settled: bool,
        touched: &Touched,
    ) -> bool {
        if self.compact_only(received, false, touched.only()) {
            return true;
        }
        let Entry::Full(f) = self else { return false };
        if let Some(l) = &mut f.list {
            l.compact_stable(&f.floor, stable, settled);
            if l.is_empty() {
                f.list = None;
            }
        }
        if settled {
            f.reg.drop_floored(&mut f.cfloor);
            match touched.only() {
                None => {
                    for s in f.fields.values_mut().chain(f.zset.values_mut()) {
                        s.reg.drop_floored(&mut s.cfloor);
                    }
                    f.fields.retain(|_, s| !s.is_dead());
                    f.zset.retain(|_, s| !s.is_dead());
                }
                Some(t) => {
                    for c in [Coll::Hash, Coll::ZSet] {
                        for k in t.coll(c).keys() {
                            let map = f.coll_mut(c);
                            if let Some(s) = map.get_mut(k) {
                                s.reg.drop_floored(&mut s.cfloor);
                                if s.is_dead() {
                                    map.remove(k);
                                }
                            }
                        }
                    }
                }
            }
        }
        self.normalize();
        self.pack();
        match self {
            Entry::Plain { .. } | Entry::Packed(_) => false,
            Entry::Full(f) => **f == Full::default(),
        }
    }

    /// Whether this entry holds conflict leftovers that [`Entry::leftovers`] may collect
    /// once they are stable: more than one TTL write, a `PERSIST` marker, TTL writes on a key
    /// with no content, concurrent writes of the string, or (among the fields `delta`
    /// touched) concurrent writes of one hash field or sorted-set score.
    pub fn has_leftovers(&self, delta: &Entry) -> bool {
        let Entry::Full(f) = self else { return false };
        if f.xents.len() > 1
            || f.xents.iter().any(|x| x.deadline.is_none())
            || f.reg.bases.len() > 1
            || (!f.xents.is_empty() && f.kind().is_none())
        {
            return true;
        }
        let Entry::Full(d) = delta else { return false };
        [Coll::Hash, Coll::ZSet].into_iter().any(|c| {
            d.coll(c)
                .keys()
                .any(|k| f.coll(c).get(k).is_some_and(|s| s.reg.bases.len() > 1))
        })
    }

    /// The conflict leftovers of a settled entry (see [`Entry::compact_stable`]) that no
    /// longer change what any region reads, as the delta of an op that removes them: the
    /// caller merges it and replicates it like a write, so every region drops them too and
    /// no region can later see them again through an op that did not observe them.
    ///
    /// Collected once every write involved is at or below `stable` (so every region has
    /// merged them, and every op still to come observes them wherever they still are):
    /// TTL writes when a `PERSIST` is among them or the key has no content (the key reads
    /// as having no TTL either way, and a write that revives a dead key floors them), else
    /// every TTL write but the winner; the losing concurrent writes of the string (only when
    /// the key holds no collection: a key floor would also cover collection adds) and of
    /// each hash field or sorted-set score. A write is dropped with a floor on its dot;
    /// each region has at most one surviving TTL write or write of a value (a region's later
    /// write observes its earlier ones), so the floor covers nothing else.
    ///
    /// Leftovers whose writes are not all stable yet are returned as [`Leftovers::Wait`]
    /// with those writes, for the caller to come back when they are.
    ///
    /// Not collected: content of a type that lost a type conflict (an element removal that
    /// empties the winner would show it again in a region that still holds it), and
    /// concurrent adds of one set member or field (they decide add-wins races).
    pub fn leftovers(&self, stable: &VersionVector) -> Leftovers {
        self.leftovers_in(stable, &Touched::all())
    }

    /// [`Entry::leftovers`] looking only at the hash fields and sorted-set members in
    /// `touched` (concurrent writes of a field come from merges the shard records there).
    pub fn leftovers_in(&self, stable: &VersionVector, touched: &Touched) -> Leftovers {
        let Entry::Full(f) = self else {
            return Leftovers::None;
        };
        let mut d = Full::default();
        let mut wait = Vec::new();
        let mut check = |dots: &mut dyn Iterator<Item = Dot>| {
            let late: Vec<Dot> = dots.filter(|x| !stable.covers(x)).collect();
            let ok = late.is_empty();
            wait.extend(late);
            ok
        };
        let ttl_leftover = f.xents.len() > 1
            || f.xents.iter().any(|x| x.deadline.is_none())
            || (!f.xents.is_empty() && f.kind().is_none());
        if ttl_leftover && check(&mut f.xents.iter().map(|x| x.dot)) {
            let winner = match f.expiry() {
                Some(_) if f.kind().is_some() => f
                    .xents
                    .iter()
                    .max_by_key(|x| (x.deadline, x.dot))
                    .map(|x| x.dot),
                _ => None,
            };
            for x in f.xents.iter().filter(|x| Some(x.dot) != winner) {
                d.xfloor.add(x.dot);
            }
        }
        let no_collection =
            f.members.is_empty() && f.fields.is_empty() && f.zset.is_empty() && f.list.is_none();
        if f.reg.bases.len() > 1 && no_collection && check(&mut f.reg.bases.iter().map(|b| b.dot)) {
            for b in &f.reg.bases[1..] {
                d.floor.add(b.dot);
            }
        }
        for c in [Coll::Hash, Coll::ZSet] {
            let named: Box<dyn Iterator<Item = (&Member, &FieldState)>> = match touched.only() {
                None => Box::new(f.coll(c).iter()),
                Some(t) => Box::new(t.coll(c).keys().filter_map(|k| f.coll(c).get_key_value(k))),
            };
            for (k, s) in named {
                if s.reg.bases.len() > 1 && check(&mut s.reg.bases.iter().map(|b| b.dot)) {
                    let mut floor = VersionVector::new();
                    for b in &s.reg.bases[1..] {
                        floor.add(b.dot);
                    }
                    d.coll_mut(c).insert(
                        k.clone(),
                        FieldState {
                            floor,
                            ..FieldState::default()
                        },
                    );
                }
            }
        }
        if d != Full::default() {
            Leftovers::Collect(Entry::Full(Box::new(d)))
        } else if !wait.is_empty() {
            Leftovers::Wait(wait)
        } else {
            Leftovers::None
        }
    }

    fn compact_only(&mut self, received: &VersionVector, lone: bool, only: Option<&Full>) -> bool {
        let Entry::Full(f) = self else { return false };
        // Elements the key floor covers become tombstones before the floor goes (else they
        // would show again).
        if let Some(l) = &mut f.list {
            l.compact(&f.floor, lone);
            if l.is_empty() {
                f.list = None;
            }
        }
        f.floor.prune(received);
        f.xfloor.prune(received);
        let keep_member = |m: &mut MemberState| {
            m.floor.prune(received);
            !(m.dots.is_empty() && m.floor.is_empty())
        };
        // A dead field's counter records may go only in a lone region (see FieldState::is_dead).
        let keep_field = |s: &mut FieldState| {
            s.floor.prune(received);
            if lone && !s.is_live() {
                return false;
            }
            !s.is_dead()
        };
        match only {
            None => {
                f.members.retain(|_, m| keep_member(m));
                f.fields.retain(|_, s| keep_field(s));
                f.zset.retain(|_, s| keep_field(s));
            }
            Some(d) => {
                for k in d.members.keys() {
                    if let Some(m) = f.members.get_mut(k) {
                        if !keep_member(m) {
                            f.members.remove(k);
                        }
                    }
                }
                for c in [Coll::Hash, Coll::ZSet] {
                    for k in d.coll(c).keys() {
                        let map = f.coll_mut(c);
                        if let Some(s) = map.get_mut(k) {
                            if !keep_field(s) {
                                map.remove(k);
                            }
                        }
                    }
                }
            }
        }
        if lone {
            let kind = f.kind();
            if kind != Some(Kind::String) {
                f.reg = Register::default();
                f.cfloor = Counters::default();
            }
            if kind != Some(Kind::Set) {
                f.members.clear();
            }
            if kind != Some(Kind::Hash) {
                f.fields.clear();
            }
            if kind != Some(Kind::ZSet) {
                f.zset.clear();
            }
            if kind != Some(Kind::List) {
                f.list = None;
            }
            if kind.is_none() {
                *self = Entry::default();
                return true;
            }
            if f.xents.iter().any(|x| x.deadline.is_none()) {
                f.xents.clear();
            }
            f.xents.sort_by_key(|x| (x.deadline, x.dot));
            let keep = f.xents.len().saturating_sub(1);
            f.xents.drain(..keep);
            f.reg.fold_lone(&mut f.cfloor, false);
            let fold = |s: &mut FieldState, as_score: bool| {
                if s.dots.len() > 1 {
                    s.dots.drain(..s.dots.len() - 1);
                }
                s.reg.fold_lone(&mut s.cfloor, as_score);
            };
            match only {
                None => {
                    f.fields.values_mut().for_each(|s| fold(s, false));
                    f.zset.values_mut().for_each(|s| fold(s, true));
                }
                Some(d) => {
                    for k in d.fields.keys() {
                        if let Some(s) = f.fields.get_mut(k) {
                            fold(s, false);
                        }
                    }
                    for k in d.zset.keys() {
                        if let Some(s) = f.zset.get_mut(k) {
                            fold(s, true);
                        }
                    }
                }
            }
        }
        self.normalize();
        self.pack();
        match self {
            Entry::Plain { .. } | Entry::Packed(_) => false,
            Entry::Full(f) => **f == Full::default(),
        }
    }

    /// Whether this delta removes something: a floor (key, TTL, member or field), a counter
    /// floor (a delete's, or a write's that resets the counters it observed) or list
    /// removals. Such ops are what an entry's group-wide collection waits for (see
    /// [`Entry::compact_stable`]).
    pub fn removes(&self) -> bool {
        let Entry::Full(f) = self else {
            return false;
        };
        let reg = |r: &Register| r.bases.iter().any(|b| !b.cfloor.is_empty());
        !f.floor.is_empty()
            || !f.cfloor.is_empty()
            || !f.xfloor.is_empty()
            || reg(&f.reg)
            || f.members.values().any(|m| !m.floor.is_empty())
            || f.fields
                .values()
                .chain(f.zset.values())
                .any(|s| !s.floor.is_empty() || !s.cfloor.is_empty() || reg(&s.reg))
            || f.list
                .as_ref()
                .is_some_and(|l| l.records().any(|e| e.is_removed()))
    }

    /// Feeds the client-visible contents (type, value or elements, TTL deadline) to `out`,
    /// for digests that must be equal in converged regions whatever metadata each still holds.
    pub fn logical_digest(&self, out: &mut dyn FnMut(&[u8])) {
        let bytes = |out: &mut dyn FnMut(&[u8]), b: &[u8]| {
            out(&(b.len() as u64).to_be_bytes());
            out(b);
        };
        match self.kind() {
            Some(Kind::String) => {
                out(b"s");
                if let Some(v) = self.string_value() {
                    bytes(out, &v);
                }
            }
            Some(Kind::Set) => {
                out(b"S");
                for m in self.members() {
                    bytes(out, m);
                }
            }
            Some(Kind::Hash) => {
                out(b"H");
                for (k, v) in self.hash_fields() {
                    bytes(out, k);
                    bytes(out, &v);
                }
            }
            Some(Kind::ZSet) => {
                out(b"Z");
                for (k, score) in self.zset_members() {
                    bytes(out, k);
                    out(&score.to_bits().to_be_bytes());
                }
            }
            Some(Kind::List) => {
                out(b"L");
                if let Entry::Full(f) = self {
                    if let Some(l) = &f.list {
                        l.digest(&f.floor, out);
                    }
                }
            }
            None => return out(b"-"),
        }
        match self.expiry() {
            Some(x) => {
                out(b"x");
                out(&x.deadline_ms.to_be_bytes());
            }
            None => out(b"p"),
        }
    }
}

impl FieldState {
    /// The field's value as a string (hash fields).
    pub fn value_bytes(&self) -> Cow<'_, [u8]> {
        self.value()
    }

    /// The member's score (sorted sets).
    pub fn score_value(&self) -> f64 {
        self.score()
    }
}
