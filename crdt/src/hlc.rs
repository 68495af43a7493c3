//! Hybrid logical clock stamps, regions and dots: the order every conflict rule is built on.
//!
//! An [`Hlc`] packs wall-clock milliseconds (upper 48 bits) and a logical counter (lower 16
//! bits) into one `u64`, so comparing stamps is comparing integers. This module never reads a
//! clock: the caller passes the wall time in, which keeps the crate deterministic.

use serde::{Deserialize, Serialize};

/// A hybrid logical clock stamp: `ms << 16 | logical`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Hlc(pub u64);

impl Hlc {
    /// Bits of the logical counter.
    pub const LOGICAL_BITS: u32 = 16;

    /// A stamp from wall milliseconds and a logical counter.
    pub fn new(ms: u64, logical: u16) -> Hlc {
        Hlc((ms << Self::LOGICAL_BITS) | logical as u64)
    }

    /// The wall-clock part, in milliseconds.
    pub fn ms(self) -> u64 {
        self.0 >> Self::LOGICAL_BITS
    }

    /// The next stamp after `last` at wall time `now_ms`: the wall time if it moved past
    /// `last`, else `last + 1` (the logical counter absorbs bursts and clocks that step back;
    /// when it overflows it carries into the millisecond part, which only runs ahead of the
    /// wall clock by that much).
    pub fn tick(last: Hlc, now_ms: u64) -> Hlc {
        let wall = Hlc::new(now_ms, 0);
        if wall > last {
            wall
        } else {
            Hlc(last.0.saturating_add(1))
        }
    }
}

/// A region's id inside a replication group (1..=255; at most five are in use).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct RegionId(pub u8);

/// A write's identity: its stamp and the region that made it. Region clocks are strictly
/// increasing, so a dot is unique.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Dot {
    /// When the write was made.
    pub hlc: Hlc,
    /// Where it was made.
    pub region: RegionId,
}

impl Dot {
    /// A dot.
    pub fn new(region: u8, hlc: u64) -> Dot {
        Dot {
            hlc: Hlc(hlc),
            region: RegionId(region),
        }
    }
}

/// Dots are ordered by "who wins": the larger stamp, and on an exact tie the *smaller* region
/// id (the spec's rule). So `a > b` means `a` wins over `b`.
impl Ord for Dot {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.hlc
            .cmp(&other.hlc)
            .then_with(|| other.region.cmp(&self.region))
    }
}

impl PartialOrd for Dot {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_moves_forward_even_when_the_clock_steps_back() {
        let a = Hlc::tick(Hlc::default(), 1000);
        assert_eq!(a, Hlc::new(1000, 0));
        let b = Hlc::tick(a, 1000);
        assert_eq!(b, Hlc::new(1000, 1));
        let c = Hlc::tick(b, 900);
        assert!(c > b);
        assert_eq!(Hlc::tick(c, 2000), Hlc::new(2000, 0));
    }

    #[test]
    fn tie_goes_to_the_smaller_region() {
        assert!(Dot::new(1, 5) > Dot::new(2, 5));
        assert!(Dot::new(2, 6) > Dot::new(1, 5));
    }
}
