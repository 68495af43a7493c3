//! Meridian's CRDTs: hybrid logical clocks, dots, version vectors used as removal floors, and
//! the per-key [`Entry`] lattice (string/number register with per-region counters, add-wins
//! set, observed-remove delete, type-conflict and expiry rules of `spec/semantics.md`).
//!
//! The crate does no I/O and never reads a clock: every stamp is an argument. See
//! [`entry`] for the delivery contract (FIFO per origin, dedup after compaction).

pub mod counter;
pub mod entry;
pub mod fields;
pub mod hlc;
pub mod list;
pub mod lists;
pub mod num;
pub mod packed;
pub mod register;
pub mod vv;

#[cfg(any(test, feature = "arbitrary"))]
pub mod arbitrary;
#[cfg(any(test, feature = "arbitrary"))]
pub mod arbitrary_list;

pub use entry::{
    Base, Entry, Expiry, FieldState, Full, Kind, Leftovers, Member, MemberState, NumError, Touched,
};
pub use fields::FieldNumError;
pub use hlc::{Dot, Hlc, RegionId};
pub use list::{Elem, ElemId, List};
pub use packed::Packed;
pub use register::Register;
pub use vv::VersionVector;

/// FNV-1a, 64-bit: a stable hash for digests (the same on every platform and build).
pub fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
