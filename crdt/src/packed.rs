//! The packed form of a small set, hash or sorted set that holds no conflict metadata.
//!
//! Most collections are small and, once their writes have settled, every element is one add
//! with its value: no removal floors, no counters, no concurrent adds. For those the general
//! form ([`Full`]: a B-tree of per-element records with vectors of dots, floors and counter
//! records) costs several allocations per element. [`Packed`] stores the same state in one
//! byte buffer, like Redis's listpack: per element its dot (one byte when it is the previous
//! element's, as for the fields of one HSET; else the region and the distance of its stamp
//! below the collection's newest stamp, as a varint), its name and, for hashes and sorted
//! sets, its value (the score's 8 bytes for a sorted set) and the dot of the value's write
//! when that is not the add's.
//!
//! The conversion is exact both ways ([`Packed::from_full`] refuses anything it cannot hold),
//! so packing changes no state: equal [`Full`] states pack to equal bytes. Writes unpack the
//! entry, apply the delta to the general form and pack it again when it qualifies; reads of
//! the common commands work on the bytes directly.
//!
//! Layout: `[tag][newest stamp: u64 LE][count: varint][TTL write?]` then the elements in
//! byte order of their names. `tag` = kind (1 set, 2 hash, 3 sorted set) | 0x10 if a TTL
//! write follows (`[region][stamp u64 LE]`) | 0x20 if it has a deadline (`[u64 LE]`). An
//! element is its dot (`[0]`: the previous element's; `[1 + region][stamp distance:
//! varint]`), then for hashes and sorted sets the value's write (`[0]`: the element's dot;
//! else as a dot), `[name length: varint][name]`, and `[value length: varint][value]`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::counter::Counters;
use crate::entry::{ExpiryWrite, FieldState, Full, Kind, Member, MemberState};
use crate::hlc::{Dot, Hlc, RegionId};
use crate::register::{Base, Register};

/// Collections with more elements than this stay in the general form (Redis's
/// `hash-max-listpack-entries` default).
pub const MAX_ELEMENTS: usize = 128;
/// Names and values longer than this keep a collection in the general form (Redis's
/// `hash-max-listpack-value` default).
pub const MAX_VALUE: usize = 64;

const SET: u8 = 1;
const HASH: u8 = 2;
const ZSET: u8 = 3;
const HAS_TTL: u8 = 0x10;
const HAS_DEADLINE: u8 = 0x20;

/// A packed collection (see the module docs).
#[derive(Clone, PartialEq, Eq)]
pub struct Packed(Box<[u8]>);

impl std::fmt::Debug for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = f.debug_list();
        for e in self.iter() {
            l.entry(&(
                String::from_utf8_lossy(e.name),
                e.dot,
                e.base,
                String::from_utf8_lossy(e.value),
            ));
        }
        l.finish()
    }
}

/// One element of a packed collection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Elem<'a> {
    /// Member or field name.
    pub name: &'a [u8],
    /// The add's dot.
    pub dot: Dot,
    /// The dot of the value's write (equal to `dot` for sets).
    pub base: Dot,
    /// The value (hash), the score's 8 LE bytes (sorted set), empty (set).
    pub value: &'a [u8],
}

impl Elem<'_> {
    /// The score of a sorted-set member.
    pub fn score(&self) -> f64 {
        crate::register::score_of(self.value)
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn get_u64(b: &[u8], pos: &mut usize) -> Option<u64> {
    let s = b.get(*pos..*pos + 8)?;
    *pos += 8;
    Some(u64::from_le_bytes(s.try_into().ok()?))
}

fn get_slice<'a>(b: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let len = usize::try_from(get_varint(b, pos)?).ok()?;
    let s = b.get(*pos..pos.checked_add(len)?)?;
    *pos += len;
    Some(s)
}

/// Reads a dot: `[0]` is `same`, else `[1 + region][distance below newest]`.
fn get_dot(b: &[u8], pos: &mut usize, newest: u64, same: Option<Dot>) -> Option<Dot> {
    let m = *b.get(*pos)?;
    *pos += 1;
    if m == 0 {
        return same;
    }
    let dist = get_varint(b, pos)?;
    Some(Dot {
        hlc: Hlc(newest.checked_sub(dist)?),
        region: RegionId(m - 1),
    })
}

/// Writes a dot (see [`get_dot`]); `None` for region 255, which has no marker.
fn put_dot(out: &mut Vec<u8>, d: Dot, newest: u64, same: Option<Dot>) -> Option<()> {
    if same == Some(d) {
        out.push(0);
    } else {
        out.push(d.region.0.checked_add(1)?);
        put_varint(out, newest - d.hlc.0);
    }
    Some(())
}

/// The one add dot and the value write of a field in the simple shape, if it has it.
fn simple_field(s: &FieldState) -> Option<(Dot, &Base)> {
    match (&s.dots[..], &s.reg.bases[..]) {
        ([dot], [base])
            if s.floor.is_empty()
                && s.cfloor.is_empty()
                && s.reg.counters.is_empty()
                && base.cfloor.is_empty()
                && base.value.len() <= MAX_VALUE =>
        {
            Some((*dot, base))
        }
        _ => None,
    }
}

impl Packed {
    /// Packs `f` if it is a small set, hash or sorted set with no conflict metadata.
    pub fn from_full(f: &Full) -> Option<Packed> {
        if !f.floor.is_empty()
            || !f.cfloor.is_empty()
            || !f.reg.is_empty()
            || f.list.is_some()
            || !f.xfloor.is_empty()
            || f.xents.len() > 1
        {
            return None;
        }
        let (kind, n) = match (f.members.len(), f.fields.len(), f.zset.len()) {
            (n, 0, 0) if n > 0 => (SET, n),
            (0, n, 0) if n > 0 => (HASH, n),
            (0, 0, n) if n > 0 => (ZSET, n),
            _ => return None,
        };
        if n > MAX_ELEMENTS {
            return None;
        }
        let mut newest = 0u64;
        if kind == SET {
            for (name, m) in &f.members {
                match &m.dots[..] {
                    [d] if m.floor.is_empty() && name.0.len() <= MAX_VALUE => {
                        newest = newest.max(d.hlc.0)
                    }
                    _ => return None,
                }
            }
        } else {
            let map = if kind == HASH { &f.fields } else { &f.zset };
            for (name, s) in map {
                let (d, b) = simple_field(s)?;
                if name.0.len() > MAX_VALUE {
                    return None;
                }
                newest = newest.max(d.hlc.0).max(b.dot.hlc.0);
            }
        }
        let mut out = Vec::with_capacity(16 + n * 24);
        let ttl = f.xents.first();
        let mut tag = kind;
        if let Some(x) = ttl {
            tag |= HAS_TTL;
            if x.deadline.is_some() {
                tag |= HAS_DEADLINE;
            }
        }
        out.push(tag);
        out.extend_from_slice(&newest.to_le_bytes());
        put_varint(&mut out, n as u64);
        if let Some(x) = ttl {
            out.push(x.dot.region.0);
            out.extend_from_slice(&x.dot.hlc.0.to_le_bytes());
            if let Some(d) = x.deadline {
                out.extend_from_slice(&d.to_le_bytes());
            }
        }
        let mut prev = None;
        if kind == SET {
            for (name, m) in &f.members {
                put_dot(&mut out, m.dots[0], newest, prev)?;
                prev = Some(m.dots[0]);
                put_varint(&mut out, name.0.len() as u64);
                out.extend_from_slice(&name.0);
            }
        } else {
            let map = if kind == HASH { &f.fields } else { &f.zset };
            for (name, s) in map {
                let (d, b) = simple_field(s)?;
                put_dot(&mut out, d, newest, prev)?;
                prev = Some(d);
                put_dot(&mut out, b.dot, newest, Some(d))?;
                put_varint(&mut out, name.0.len() as u64);
                out.extend_from_slice(&name.0);
                put_varint(&mut out, b.value.len() as u64);
                out.extend_from_slice(&b.value);
            }
        }
        // An exact allocation (shrinking the Vec in place may keep its larger block).
        Some(Packed(Box::from(&out[..])))
    }

    /// The general form of the same state.
    pub fn to_full(&self) -> Full {
        let mut f = Full::default();
        if let Some(x) = self.ttl() {
            f.xents.push(x);
        }
        match self.kind() {
            Kind::Set => {
                f.members = self
                    .iter()
                    .map(|e| {
                        (
                            Member(e.name.into()),
                            MemberState {
                                dots: vec![e.dot],
                                ..MemberState::default()
                            },
                        )
                    })
                    .collect();
            }
            kind => {
                let map: BTreeMap<Member, FieldState> = self
                    .iter()
                    .map(|e| {
                        (
                            Member(e.name.into()),
                            FieldState {
                                dots: vec![e.dot],
                                reg: Register {
                                    bases: vec![Base {
                                        dot: e.base,
                                        value: e.value.into(),
                                        cfloor: Counters::default(),
                                    }],
                                    counters: Counters::default(),
                                },
                                ..FieldState::default()
                            },
                        )
                    })
                    .collect();
                if kind == Kind::Hash {
                    f.fields = map;
                } else {
                    f.zset = map;
                }
            }
        }
        f
    }

    fn tag(&self) -> u8 {
        self.0.first().copied().unwrap_or(0)
    }

    /// The collection's type.
    pub fn kind(&self) -> Kind {
        match self.tag() & 0x0f {
            SET => Kind::Set,
            HASH => Kind::Hash,
            _ => Kind::ZSet,
        }
    }

    fn newest(&self) -> u64 {
        let mut pos = 1;
        get_u64(&self.0, &mut pos).unwrap_or(0)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        let mut pos = 9;
        get_varint(&self.0, &mut pos).unwrap_or(0) as usize
    }

    /// Never true: an empty collection is not packed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The TTL write and the offset of the first element.
    fn header(&self) -> (Option<ExpiryWrite>, usize) {
        let b = &self.0;
        let mut pos = 9;
        if get_varint(b, &mut pos).is_none() {
            return (None, b.len());
        }
        let tag = self.tag();
        if tag & HAS_TTL == 0 {
            return (None, pos);
        }
        let parse = |pos: &mut usize| -> Option<ExpiryWrite> {
            let region = *b.get(*pos)?;
            *pos += 1;
            let hlc = get_u64(b, pos)?;
            let deadline = if tag & HAS_DEADLINE != 0 {
                Some(get_u64(b, pos)?)
            } else {
                None
            };
            Some(ExpiryWrite {
                dot: Dot {
                    hlc: Hlc(hlc),
                    region: RegionId(region),
                },
                deadline,
            })
        };
        match parse(&mut pos) {
            Some(x) => (Some(x), pos),
            None => (None, b.len()),
        }
    }

    /// The TTL write (a deadline, or a PERSIST marker), if any.
    pub fn ttl(&self) -> Option<ExpiryWrite> {
        self.header().0
    }

    /// The elements, in byte order of their names.
    pub fn iter(&self) -> Iter<'_> {
        let (_, pos) = self.header();
        Iter {
            b: &self.0,
            pos,
            newest: self.newest(),
            fields: self.kind() != Kind::Set,
            prev: None,
        }
    }

    /// The element named `name`.
    pub fn get(&self, name: &[u8]) -> Option<Elem<'_>> {
        self.iter().find(|e| e.name == name)
    }

    /// The largest stamp held.
    pub fn max_hlc(&self) -> Hlc {
        let ttl = self.ttl().map_or(0, |x| x.dot.hlc.0);
        Hlc(self.newest().max(ttl))
    }

    /// The value of a hash field, borrowed.
    pub fn value_of(&self, name: &[u8]) -> Option<Cow<'_, [u8]>> {
        self.get(name).map(|e| Cow::Borrowed(e.value))
    }

    /// Checks bytes from outside (a peer) before they are used: every element parses, the
    /// count matches, names ascend, and the result unpacks to what packs to the same bytes.
    fn validate(b: Box<[u8]>) -> Result<Packed, &'static str> {
        let p = Packed(b);
        if !matches!(p.tag() & 0x0f, SET | HASH | ZSET) || p.tag() & !0x3f != 0 {
            return Err("bad packed collection tag");
        }
        let (_, start) = p.header();
        if start >= p.0.len() {
            return Err("truncated packed collection");
        }
        let mut it = p.iter();
        let mut n = 0;
        let mut last: Option<&[u8]> = None;
        for e in it.by_ref() {
            if last.is_some_and(|l| l >= e.name) {
                return Err("packed collection names out of order");
            }
            last = Some(e.name);
            n += 1;
        }
        if it.pos != p.0.len() || n != p.len() || n == 0 {
            return Err("malformed packed collection");
        }
        match Packed::from_full(&p.to_full()) {
            Some(q) if q == p => Ok(p),
            _ => Err("non-canonical packed collection"),
        }
    }
}

/// Iterator over a packed collection's elements.
pub struct Iter<'a> {
    b: &'a [u8],
    pos: usize,
    newest: u64,
    fields: bool,
    /// The previous element's dot.
    prev: Option<Dot>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        if self.pos >= self.b.len() {
            return None;
        }
        let mut pos = self.pos;
        let elem = self.parse(&mut pos);
        // A malformed tail (only possible in bytes that failed validation) ends iteration.
        self.pos = if elem.is_some() { pos } else { self.b.len() };
        self.prev = elem.map(|e| e.dot);
        elem
    }
}

impl<'a> Iter<'a> {
    fn parse(&self, pos: &mut usize) -> Option<Elem<'a>> {
        let b = self.b;
        let dot = get_dot(b, pos, self.newest, self.prev)?;
        let base = if self.fields {
            get_dot(b, pos, self.newest, Some(dot))?
        } else {
            dot
        };
        let name = get_slice(b, pos)?;
        let value = if self.fields { get_slice(b, pos)? } else { &[] };
        Some(Elem {
            name,
            dot,
            base,
            value,
        })
    }
}

impl Serialize for Packed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Packed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Packed, D::Error> {
        let b = serde_bytes::ByteBuf::deserialize(d)?;
        Packed::validate(b.into_vec().into_boxed_slice()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(r: u8, h: u64) -> Dot {
        Dot::new(r, h)
    }

    fn hash(fields: &[(&str, Dot, Dot, &str)]) -> Full {
        let mut f = Full::default();
        for (name, d, b, v) in fields {
            f.fields.insert(
                Member(name.as_bytes().into()),
                FieldState {
                    dots: vec![*d],
                    reg: Register {
                        bases: vec![Base {
                            dot: *b,
                            value: v.as_bytes().into(),
                            cfloor: Counters::default(),
                        }],
                        counters: Counters::default(),
                    },
                    ..FieldState::default()
                },
            );
        }
        f
    }

    #[test]
    fn round_trips_exactly() {
        let mut f = hash(&[
            ("a", dot(1, 100), dot(1, 100), "x"),
            ("b", dot(2, 90), dot(3, 95), ""),
        ]);
        f.xents.push(ExpiryWrite {
            dot: dot(2, 7),
            deadline: Some(123),
        });
        let p = Packed::from_full(&f).expect("packs");
        assert_eq!(p.to_full(), f);
        assert_eq!(p.kind(), Kind::Hash);
        assert_eq!(p.len(), 2);
        assert_eq!(p.get(b"b").unwrap().base, dot(3, 95));
        assert_eq!(p.max_hlc(), Hlc(100));
        let bytes = rmp_serde::to_vec(&p).unwrap();
        let q: Packed = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(p, q);
    }

    #[test]
    fn refuses_metadata_big_collections_and_long_values() {
        let mut f = hash(&[("a", dot(1, 1), dot(1, 1), "x")]);
        f.fields.values_mut().next().unwrap().floor.add(dot(2, 1));
        assert!(Packed::from_full(&f).is_none());
        let long = "v".repeat(MAX_VALUE + 1);
        assert!(Packed::from_full(&hash(&[("a", dot(1, 1), dot(1, 1), &long)])).is_none());
        let mut s = Full::default();
        for i in 0..=MAX_ELEMENTS {
            s.members.insert(
                Member(i.to_string().into_bytes().into()),
                MemberState {
                    dots: vec![dot(1, 5)],
                    ..MemberState::default()
                },
            );
        }
        assert!(Packed::from_full(&s).is_none());
        s.members.pop_first();
        let p = Packed::from_full(&s).expect("128 members pack");
        assert_eq!(p.to_full(), s);
        assert!(Packed::from_full(&Full::default()).is_none());
    }

    #[test]
    fn bad_bytes_from_a_peer_are_refused() {
        let p = Packed::from_full(&hash(&[("a", dot(1, 1), dot(1, 1), "x")])).unwrap();
        for cut in 0..p.0.len() {
            assert!(Packed::validate(p.0[..cut].into()).is_err(), "cut at {cut}");
        }
        let mut junk = p.0.to_vec();
        junk[0] = 9;
        assert!(Packed::validate(junk.into()).is_err());
        assert!(Packed::validate(p.0.clone()).is_ok());
    }
}
