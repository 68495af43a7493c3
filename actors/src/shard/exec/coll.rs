//! Helpers shared by the collection commands: the element cursor of HSCAN/SSCAN/ZSCAN, random
//! sampling for HRANDFIELD/SRANDMEMBER/ZRANDMEMBER/SPOP, Redis's index ranges, and the
//! shard's random source.

/// Redis's index range (LRANGE/LTRIM, ZRANGE by rank): negative indices count from the
/// end, the range is clamped to the collection; `None` when it is empty.
pub(crate) fn index_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut stop = if stop < 0 { len + stop } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as usize, stop as usize))
}

/// Collections up to this size are returned whole by one *SCAN call with cursor 0, as Redis
/// does for its compact (listpack/intset) encodings.
pub const SMALL_SCAN: usize = 128;

/// The shard's random source: xorshift64*, seeded by the node (randomness is injected, so a
/// simulation can make runs repeatable).
#[derive(Debug, Clone)]
pub struct Prng(u64);

impl Prng {
    /// A generator; a zero seed is replaced (xorshift must not start at 0).
    pub fn new(seed: u64) -> Prng {
        Prng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// The scan position of an element: a stable hash of its name. Cursors walk elements in
/// this order, so an element present for the whole scan is returned exactly once however
/// the collection changes in between.
fn scan_hash(name: &[u8]) -> u64 {
    // Never 0: cursor 0 means "start" and "done".
    crdt::fnv1a64(name) | 1
}

/// One page of an element scan. `items` are the live elements; returns the next cursor
/// (0 when done) and the elements of this page (before MATCH filtering, which the caller
/// applies so COUNT bounds the work as in Redis).
pub fn scan_page<T>(items: Vec<(&[u8], T)>, cursor: u64, count: usize) -> (u64, Vec<(&[u8], T)>) {
    if items.len() <= SMALL_SCAN && cursor == 0 {
        return (0, items);
    }
    let mut rest: Vec<(u64, (&[u8], T))> = items
        .into_iter()
        .map(|it| (scan_hash(it.0), it))
        .filter(|(h, _)| *h >= cursor)
        .collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1 .0.cmp(b.1 .0)));
    let mut take = count.max(1).min(rest.len());
    // Elements sharing a hash go in one page, so the next cursor can skip past them all.
    while take < rest.len() && rest[take].0 == rest[take - 1].0 {
        take += 1;
    }
    let next = if take == rest.len() { 0 } else { rest[take].0 };
    rest.truncate(take);
    (next, rest.into_iter().map(|(_, it)| it).collect())
}

/// Writes a HSCAN/SSCAN/ZSCAN reply over `items` (the live elements of a key, empty when
/// it is absent). As in Redis, an option error is reported only for an existing key; each
/// element is written by `put` as `per` reply entries.
pub fn write_scan<T>(
    w: &mut resp::ReplyWriter,
    exists: bool,
    items: Vec<(&[u8], T)>,
    cursor: u64,
    opts: Result<resp::ScanOpts, resp::CmdError>,
    per: usize,
    mut put: impl FnMut(&mut resp::ReplyWriter, &[u8], &T),
) {
    let (pattern, count) = match opts {
        Ok(o) => (o.pattern, o.count),
        Err(e) if exists => return w.error(e.text()),
        Err(_) => (None, 10),
    };
    let (next, page) = scan_page(items, cursor, count);
    let page: Vec<(&[u8], T)> = page
        .into_iter()
        .filter(|(m, _)| {
            pattern
                .as_ref()
                .is_none_or(|p| resp::glob_match(p, m, false))
        })
        .collect();
    w.array(2);
    w.bulk(next.to_string().as_bytes());
    w.array(page.len() * per);
    for (m, v) in &page {
        put(w, m, v);
    }
}

/// Indices for a random sample of `count` elements out of `len`, as Redis's *RANDMEMBER /
/// HRANDFIELD with a count: positive = distinct elements (at most `len`), negative = `|count|`
/// picks that may repeat.
pub fn sample(rng: &mut Prng, len: usize, count: i64) -> Vec<usize> {
    if len == 0 || count == 0 {
        return Vec::new();
    }
    if count < 0 {
        let n = count.unsigned_abs().min(usize::MAX as u64) as usize;
        return (0..n).map(|_| rng.below(len)).collect();
    }
    let n = (count as u64).min(len as u64) as usize;
    // Partial Fisher-Yates over the indices.
    let mut idx: Vec<usize> = (0..len).collect();
    for i in 0..n {
        let j = i + rng.below(len - i);
        idx.swap(i, j);
    }
    idx.truncate(n);
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_collections_scan_in_pages_that_cover_everything_once() {
        let names: Vec<Vec<u8>> = (0..1000).map(|i| format!("m{i}").into_bytes()).collect();
        let mut seen = std::collections::BTreeSet::new();
        let mut cursor = 0;
        let mut calls = 0;
        loop {
            let items: Vec<(&[u8], ())> = names.iter().map(|n| (&n[..], ())).collect();
            let (next, page) = scan_page(items, cursor, 10);
            for (n, _) in page {
                assert!(seen.insert(n.to_vec()), "returned twice");
            }
            calls += 1;
            if next == 0 {
                break;
            }
            assert!(next > cursor);
            cursor = next;
        }
        assert_eq!(seen.len(), 1000);
        assert!(calls > 50);
    }

    #[test]
    fn positive_samples_are_distinct_and_negative_may_repeat() {
        let mut rng = Prng::new(7);
        let s = sample(&mut rng, 5, 10);
        assert_eq!(s.len(), 5);
        let set: std::collections::BTreeSet<_> = s.iter().collect();
        assert_eq!(set.len(), 5);
        assert_eq!(sample(&mut rng, 5, -12).len(), 12);
        assert!(sample(&mut rng, 0, 3).is_empty());
    }
}
