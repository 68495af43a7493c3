//! WATCH on a shard: which connections watch which keys, and whether anything touched them
//! since.
//!
//! Kept only for watched keys, so a shard with no WATCH pays one `is_empty` check per write.
//! Every change to a key's entry (local write, merged remote delta, expiry, FLUSHALL) marks
//! the connections watching it dirty; EXEC of a dirty connection is refused (null reply). A
//! key that was visible with a TTL when watched and has expired by EXEC also aborts it, as in
//! Redis 7.

use std::collections::HashMap;

/// One connection's watched keys.
struct ConnWatch {
    /// Key, and its TTL deadline if it was visible with one at WATCH time.
    keys: Vec<(Box<[u8]>, Option<u64>)>,
    dirty: bool,
}

/// The shard's watch table.
#[derive(Default)]
pub(crate) struct Watches {
    by_key: HashMap<Box<[u8]>, Vec<u64>>,
    by_conn: HashMap<u64, ConnWatch>,
}

impl Watches {
    /// Registers `conn` as watching `key` (a repeated WATCH of a key is a no-op).
    pub(crate) fn watch(&mut self, conn: u64, key: &[u8], deadline: Option<u64>) {
        let cw = self.by_conn.entry(conn).or_insert(ConnWatch {
            keys: Vec::new(),
            dirty: false,
        });
        if cw.keys.iter().any(|(k, _)| &k[..] == key) {
            return;
        }
        cw.keys.push((key.into(), deadline));
        self.by_key.entry(key.into()).or_default().push(conn);
    }

    /// Marks every connection watching `key` dirty.
    #[inline]
    pub(crate) fn touch(&mut self, key: &[u8]) {
        if self.by_key.is_empty() {
            return;
        }
        if let Some(conns) = self.by_key.get(key) {
            for c in conns {
                if let Some(cw) = self.by_conn.get_mut(c) {
                    cw.dirty = true;
                }
            }
        }
    }

    /// Marks every watching connection dirty (FLUSHALL).
    pub(crate) fn touch_all(&mut self) {
        for cw in self.by_conn.values_mut() {
            cw.dirty = true;
        }
    }

    /// Forgets `conn`'s watches and says whether its transaction may run at `now`: nothing
    /// it watched was touched and no watched key's TTL ran out.
    pub(crate) fn take(&mut self, conn: u64, now: u64) -> bool {
        let Some(cw) = self.by_conn.remove(&conn) else {
            return true;
        };
        for (key, _) in &cw.keys {
            if let Some(conns) = self.by_key.get_mut(key) {
                conns.retain(|c| *c != conn);
                if conns.is_empty() {
                    self.by_key.remove(key);
                }
            }
        }
        !cw.dirty && cw.keys.iter().all(|(_, d)| d.is_none_or(|d| d > now))
    }

    /// Watched keys.
    #[cfg(test)]
    pub(crate) fn keys(&self) -> usize {
        self.by_key.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_touch_aborts_only_the_connections_watching_that_key() {
        let mut w = Watches::default();
        w.watch(1, b"a", None);
        w.watch(2, b"b", None);
        w.watch(2, b"b", None);
        w.touch(b"a");
        w.touch(b"zzz");
        assert!(!w.take(1, 0));
        assert!(w.take(2, 0));
        assert_eq!(w.keys(), 0);
        // Nothing watched: always runs.
        assert!(w.take(3, 0));
    }

    #[test]
    fn an_expired_watched_key_aborts() {
        let mut w = Watches::default();
        w.watch(1, b"a", Some(100));
        w.watch(2, b"a", Some(100));
        assert!(w.take(1, 99));
        assert!(!w.take(2, 100));
    }

    #[test]
    fn flushall_touches_everyone() {
        let mut w = Watches::default();
        w.watch(1, b"a", None);
        w.touch_all();
        assert!(!w.take(1, 0));
    }
}
