//! Time, injected: the wall clock behind a trait, and the region's hybrid logical clock.
//!
//! Nothing in a node reads the system time except through [`Clock`], so tests and a
//! deterministic simulation can drive time themselves. The [`RegionClock`] is shared by all
//! shards of a region: one atomic HLC means every write of the region gets a strictly larger
//! stamp than the one before, which is what makes a region's dots totally ordered.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crdt::Hlc;

/// A source of wall-clock milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        // A clock before 1970 is a misconfigured host; reading it as 0 keeps the HLC monotonic
        // (it never goes backwards) instead of panicking.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// The region's hybrid logical clock, shared by its shards.
pub struct RegionClock {
    last: AtomicU64,
    wall: Arc<dyn Clock>,
}

impl RegionClock {
    /// A clock reading wall time from `wall`.
    pub fn new(wall: Arc<dyn Clock>) -> RegionClock {
        RegionClock {
            last: AtomicU64::new(0),
            wall,
        }
    }

    /// Wall-clock milliseconds (for TTLs and lag).
    pub fn now_ms(&self) -> u64 {
        self.wall.now_ms()
    }

    /// A new stamp for a local write, strictly larger than every stamp issued or observed.
    pub fn tick(&self) -> Hlc {
        let now = self.wall.now_ms();
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = Hlc::tick(Hlc(last), now);
            match self
                .last
                .compare_exchange_weak(last, next.0, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    /// Advances past a stamp received from another region (the HLC receive rule), so that any
    /// local write made after seeing a remote write is stamped later than it.
    pub fn observe(&self, remote: Hlc) {
        self.last.fetch_max(remote.0, Ordering::AcqRel);
    }

    /// The latest stamp issued or observed.
    pub fn current(&self) -> Hlc {
        Hlc(self.last.load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    struct Fixed(AtomicU64);
    impl Clock for Fixed {
        fn now_ms(&self) -> u64 {
            self.0.load(Ordering::Relaxed)
        }
    }

    #[test]
    fn ticks_strictly_increase_even_when_wall_time_stands_still_or_goes_back() {
        let wall = Arc::new(Fixed(AtomicU64::new(1000)));
        let clock = RegionClock::new(wall.clone());
        let a = clock.tick();
        let b = clock.tick();
        wall.0.store(10, Ordering::Relaxed);
        let c = clock.tick();
        assert!(a < b && b < c);
    }

    #[test]
    fn observing_a_remote_stamp_moves_later_ticks_past_it() {
        let clock = RegionClock::new(Arc::new(Fixed(AtomicU64::new(5))));
        let remote = Hlc::new(99_999, 7);
        clock.observe(remote);
        assert!(clock.tick() > remote);
    }
}
