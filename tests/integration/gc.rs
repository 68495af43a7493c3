//! Group-wide garbage collection across 3 real regions: deleted data's metadata (dead counter
//! records, list tombstones) stays while a member has not acknowledged the delete, and is
//! collected everywhere once every member has.

use std::time::{Duration, Instant};

use crate::harness::{bounded, crdt_info, q, Group};

/// Polls until `entries` is `want` in every region given; panics with every region's INFO.
async fn wait_entries(g: &Group, regions: &[usize], want: u64, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let mut got = Vec::new();
        for &r in regions {
            got.push(crdt_info(&mut g.conn(r).await, "entries").await);
        }
        if got.iter().all(|&n| n == want) {
            return;
        }
        if Instant::now() > deadline {
            let mut infos = String::new();
            for &r in regions {
                let i: String = q(&mut g.conn(r).await, &["INFO", "crdt"]).await;
                infos.push_str(&format!("region {r}:\n{i}\n"));
            }
            panic!("entries {got:?}, want {want} within {timeout:?}\n{infos}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_metadata_is_collected_once_every_region_acknowledged_it() {
    bounded(90, async {
        let g = Group::dev(3, 2).await;
        let mut cs = g.conns().await;
        // Counter records from every region on a hash field and a string, and a list.
        for c in cs.iter_mut() {
            let _: i64 = q(c, &["HINCRBY", "h", "f", "5"]).await;
            let _: i64 = q(c, &["INCRBY", "n", "2"]).await;
            let _: i64 = q(c, &["RPUSH", "l", "a", "b"]).await;
        }
        let _: i64 = q(&mut cs[0], &["HSET", "h", "keep", "1"]).await;
        g.wait_converged(Duration::from_secs(20)).await;
        let hv: String = q(&mut cs[2], &["HGET", "h", "f"]).await;
        assert_eq!(hv, "15");
        wait_entries(&g, &[1, 2, 3], 3, Duration::from_secs(10)).await;

        // Region 3 stops acknowledging: what regions 1 and 2 delete must be kept.
        g.pause(3).await;
        let _: i64 = q(&mut cs[0], &["HDEL", "h", "f"]).await;
        let _: i64 = q(&mut cs[0], &["DEL", "n"]).await;
        let _: i64 = q(&mut cs[0], &["DEL", "l"]).await;
        assert_eq!(q::<i64>(&mut cs[0], &["DBSIZE"]).await, 1);
        // Give collection every chance to run (reports every 100 ms) before looking.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        for r in [1, 2] {
            let mut c = g.conn(r).await;
            assert_eq!(
                crdt_info(&mut c, "entries").await,
                3,
                "region {r} dropped metadata region 3 has not acknowledged"
            );
            assert!(crdt_info(&mut c, "pending_gc").await >= 1, "region {r}");
        }

        // Once region 3 has the deletes and says so, every region collects.
        let before = crdt_info(&mut cs[0], "collected_gc").await;
        g.resume(3).await;
        g.wait_converged(Duration::from_secs(20)).await;
        wait_entries(&g, &[1, 2, 3], 1, Duration::from_secs(20)).await;
        for r in [1, 2, 3] {
            let mut c = g.conn(r).await;
            assert_eq!(crdt_info(&mut c, "pending_gc").await, 0, "region {r}");
        }
        assert!(crdt_info(&mut cs[0], "collected_gc").await >= before + 2);

        // The collected counters never come back: new increments count from zero, in every
        // region, whichever region makes them.
        for c in cs.iter_mut() {
            let _: i64 = q(c, &["HINCRBY", "h", "f", "1"]).await;
            let _: i64 = q(c, &["INCRBY", "n", "1"]).await;
        }
        let _: i64 = q(&mut cs[1], &["RPUSH", "l", "z"]).await;
        g.wait_converged(Duration::from_secs(20)).await;
        for (i, c) in cs.iter_mut().enumerate() {
            let hv: String = q(c, &["HGET", "h", "f"]).await;
            let n: i64 = q(c, &["GET", "n"]).await;
            let l: Vec<String> = q(c, &["LRANGE", "l", "0", "-1"]).await;
            assert_eq!(
                (hv.as_str(), n, l),
                ("3", 3, vec!["z".to_string()]),
                "region {}",
                i + 1
            );
        }
    })
    .await
}

/// Sum of one `INFO crdt` field over the regions given.
async fn crdt_info_sum(g: &Group, regions: &[usize], field: &str) -> u64 {
    let mut n = 0;
    for &r in regions {
        n += crdt_info(&mut g.conn(r).await, field).await;
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflict_leftovers_are_collected_once_every_region_has_them() {
    bounded(90, async {
        let g = Group::dev(3, 2).await;
        let mut cs = g.conns().await;
        let _: String = q(&mut cs[0], &["SET", "k", "v", "EX", "1000"]).await;
        let _: i64 = q(&mut cs[0], &["HSET", "h", "f", "0"]).await;
        g.wait_converged(Duration::from_secs(20)).await;
        let before = crdt_info_sum(&g, &[1, 2, 3], "collected_leftovers").await;

        // Concurrent: EXPIRE ‖ PERSIST, HSET ‖ HSET of one field, SET ‖ SET of one string.
        g.pause_all().await;
        let _: i64 = q(&mut cs[0], &["EXPIRE", "k", "2000"]).await;
        let _: i64 = q(&mut cs[1], &["PERSIST", "k"]).await;
        let _: i64 = q(&mut cs[0], &["HSET", "h", "f", "a"]).await;
        let _: i64 = q(&mut cs[1], &["HSET", "h", "f", "b"]).await;
        let _: String = q(&mut cs[1], &["SET", "s", "from-2"]).await;
        let _: String = q(&mut cs[2], &["SET", "s", "from-3"]).await;
        g.resume_all().await;
        g.wait_converged(Duration::from_secs(20)).await;
        let mut seen = Vec::new();
        for c in cs.iter_mut() {
            let ttl: i64 = q(c, &["TTL", "k"]).await;
            assert_eq!(ttl, -1, "PERSIST ‖ EXPIRE leaves no TTL");
            let f: String = q(c, &["HGET", "h", "f"]).await;
            let s: String = q(c, &["GET", "s"]).await;
            seen.push((f, s));
        }
        assert!(seen.iter().all(|x| x == &seen[0]), "{seen:?}");

        // Every region has every write: the leftovers go (one collection op per key at
        // least, made by whichever region got there first) and nothing waits any more.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ops = crdt_info_sum(&g, &[1, 2, 3], "collected_leftovers").await;
            let pending = crdt_info_sum(&g, &[1, 2, 3], "pending_gc").await;
            if ops >= before + 3 && pending == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "collected_leftovers {ops} (before {before}), pending_gc {pending}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        g.wait_converged(Duration::from_secs(20)).await;
        for (i, c) in cs.iter_mut().enumerate() {
            let f: String = q(c, &["HGET", "h", "f"]).await;
            let s: String = q(c, &["GET", "s"]).await;
            assert_eq!(
                (f, s),
                seen[0],
                "collection changes no value (region {})",
                i + 1
            );
        }

        // A TTL set after the collection holds everywhere, including in regions that had
        // not collected the PERSIST marker themselves.
        let _: i64 = q(&mut cs[2], &["EXPIRE", "k", "3000"]).await;
        g.wait_converged(Duration::from_secs(20)).await;
        for (i, c) in cs.iter_mut().enumerate() {
            let ttl: i64 = q(c, &["TTL", "k"]).await;
            assert!((2990..=3000).contains(&ttl), "region {}: TTL {ttl}", i + 1);
        }
    })
    .await
}
