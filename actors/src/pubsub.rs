//! The node's Pub/Sub hub: which connections listen to which channels and patterns, and the
//! delivery of a published message to them.
//!
//! State: per subscribed connection a bounded queue (its sender half), and the channel and
//! pattern subscriptions. PUBLISH (from a local client through the channel's shard, or from
//! another region's replication stream) calls [`Hub::publish`], which queues the message for
//! every listener without waiting. A listener that lets its queue fill up (it reads slower
//! than messages arrive) is dropped, as Redis drops a Pub/Sub client that exceeds its output
//! buffer limit: its queue closes and the connection ends.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use bytes::Bytes;
use tokio::sync::mpsc;

/// Messages a listener may have queued before it is dropped as too slow.
pub const QUEUE: usize = 1 << 16;

/// One delivered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PubMsg {
    /// The pattern that matched (a `pmessage`), or `None` for a channel subscription.
    pub pattern: Option<Bytes>,
    /// The channel it was published to.
    pub channel: Bytes,
    /// The payload.
    pub payload: Bytes,
}

#[derive(Default)]
struct Inner {
    queues: HashMap<u64, mpsc::Sender<PubMsg>>,
    channels: HashMap<Bytes, HashSet<u64>>,
    patterns: HashMap<Bytes, HashSet<u64>>,
}

/// The hub. One per node, shared by its connections and shards.
#[derive(Default)]
pub struct Hub {
    inner: Mutex<Inner>,
}

impl Hub {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Every mutation below leaves the maps consistent at each step.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers connection `conn` as a listener and returns its queue.
    pub fn register(&self, conn: u64) -> mpsc::Receiver<PubMsg> {
        let (tx, rx) = mpsc::channel(QUEUE);
        self.lock().queues.insert(conn, tx);
        rx
    }

    /// Removes a listener and all its subscriptions.
    pub fn unregister(&self, conn: u64, channels: &BTreeSet<Bytes>, patterns: &BTreeSet<Bytes>) {
        let mut g = self.lock();
        g.queues.remove(&conn);
        for c in channels {
            remove(&mut g.channels, c, conn);
        }
        for p in patterns {
            remove(&mut g.patterns, p, conn);
        }
    }

    /// Subscribes `conn` to a channel (`pattern` false) or a pattern.
    pub fn subscribe(&self, conn: u64, name: &Bytes, pattern: bool) {
        let mut g = self.lock();
        let map = if pattern {
            &mut g.patterns
        } else {
            &mut g.channels
        };
        map.entry(name.clone()).or_default().insert(conn);
    }

    /// Unsubscribes `conn` from a channel or pattern.
    pub fn unsubscribe(&self, conn: u64, name: &Bytes, pattern: bool) {
        let mut g = self.lock();
        let map = if pattern {
            &mut g.patterns
        } else {
            &mut g.channels
        };
        remove(map, name, conn);
    }

    /// Queues a message for every listener of `channel` (by name or pattern) and returns
    /// how many deliveries were made (Redis's PUBLISH reply). Listeners whose queue is full
    /// are dropped.
    pub fn publish(&self, channel: &Bytes, payload: &Bytes) -> usize {
        let mut g = self.lock();
        let mut targets: Vec<(u64, Option<Bytes>)> = Vec::new();
        if let Some(conns) = g.channels.get(channel) {
            targets.extend(conns.iter().map(|&c| (c, None)));
        }
        for (p, conns) in &g.patterns {
            if resp::glob_match(p, channel, false) {
                targets.extend(conns.iter().map(|&c| (c, Some(p.clone()))));
            }
        }
        let mut delivered = 0;
        let mut slow = Vec::new();
        for (conn, pattern) in targets {
            let Some(q) = g.queues.get(&conn) else {
                continue;
            };
            let msg = PubMsg {
                pattern,
                channel: channel.clone(),
                payload: payload.clone(),
            };
            match q.try_send(msg) {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) => slow.push(conn),
                // The connection is ending; it unregisters itself.
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        for conn in slow {
            tracing::warn!(
                client = conn,
                queued = QUEUE,
                "closing a Pub/Sub client that does not read its messages fast enough"
            );
            let g = &mut *g;
            g.queues.remove(&conn);
            for set in g.channels.values_mut().chain(g.patterns.values_mut()) {
                set.remove(&conn);
            }
            g.channels.retain(|_, s| !s.is_empty());
            g.patterns.retain(|_, s| !s.is_empty());
        }
        delivered
    }

    /// Channels with at least one listener, matching `pattern` if given (PUBSUB CHANNELS).
    pub fn channels(&self, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let g = self.lock();
        let mut out: Vec<Bytes> = g
            .channels
            .keys()
            .filter(|c| pattern.is_none_or(|p| resp::glob_match(p, c, false)))
            .cloned()
            .collect();
        out.sort();
        out
    }

    /// Listeners of one channel, patterns not counted (PUBSUB NUMSUB).
    pub fn numsub(&self, channel: &[u8]) -> usize {
        self.lock().channels.get(channel).map_or(0, |s| s.len())
    }

    /// Distinct patterns with at least one listener (PUBSUB NUMPAT).
    pub fn numpat(&self) -> usize {
        self.lock().patterns.len()
    }
}

fn remove(map: &mut HashMap<Bytes, HashSet<u64>>, name: &[u8], conn: u64) {
    if let Some(set) = map.get_mut(name) {
        set.remove(&conn);
        if set.is_empty() {
            map.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn publish_reaches_channel_and_pattern_listeners_once_each() {
        let hub = Hub::default();
        let mut r1 = hub.register(1);
        let mut r2 = hub.register(2);
        hub.subscribe(1, &b("news"), false);
        hub.subscribe(2, &b("n*"), true);
        hub.subscribe(2, &b("news"), false);
        assert_eq!(hub.publish(&b("news"), &b("hi")), 3);
        assert_eq!(hub.publish(&b("other"), &b("x")), 0);
        assert_eq!(r1.try_recv().unwrap().payload, b("hi"));
        assert!(r1.try_recv().is_err());
        let mut got = [r2.try_recv().unwrap(), r2.try_recv().unwrap()];
        got.sort_by(|a, b| a.pattern.cmp(&b.pattern));
        assert_eq!(got[0].pattern, None);
        assert_eq!(got[1].pattern, Some(b("n*")));
        assert_eq!(hub.channels(None), vec![b("news")]);
        assert_eq!(hub.numsub(b"news"), 2);
        assert_eq!(hub.numpat(), 1);
        hub.unregister(2, &[b("news")].into(), &[b("n*")].into());
        assert_eq!(hub.numsub(b"news"), 1);
        assert_eq!(hub.numpat(), 0);
        assert_eq!(hub.publish(&b("news"), &b("again")), 1);
    }

    #[test]
    fn a_listener_that_does_not_read_is_dropped_and_its_queue_closes() {
        let hub = Hub::default();
        let mut rx = hub.register(7);
        hub.subscribe(7, &b("c"), false);
        for _ in 0..QUEUE {
            assert_eq!(hub.publish(&b("c"), &b("m")), 1);
        }
        assert_eq!(hub.publish(&b("c"), &b("m")), 0);
        assert_eq!(hub.numsub(b"c"), 0);
        let mut n = 0;
        while rx.try_recv().is_ok() {
            n += 1;
        }
        assert_eq!(n, QUEUE);
        assert!(matches!(
            rx.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));
    }
}
