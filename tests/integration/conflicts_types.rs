//! The spec's rules for hashes, sorted sets and lists, checked across 3 real regions with the
//! same pattern as `conflicts`: sync a start state, pause every region, write concurrently,
//! resume, converge, and read the result in every region.

use std::collections::BTreeMap;

use redis::aio::MultiplexedConnection;

use crate::conflicts::{later, paused_group_after, resume_and_converge};
use crate::harness::{bounded, q};

async fn hgetall(c: &mut MultiplexedConnection, key: &str) -> BTreeMap<String, String> {
    q(c, &["HGETALL", key]).await
}

async fn zscore(c: &mut MultiplexedConnection, key: &str, m: &str) -> Option<f64> {
    q(c, &["ZSCORE", key, m]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hset_of_different_fields_concurrently_keeps_both() {
    bounded(60, async {
        let (g, mut cs) = paused_group_after(async |_c| {}).await;
        let _: i64 = q(&mut cs[0], &["HSET", "h", "f1", "a"]).await;
        let _: i64 = q(&mut cs[1], &["HSET", "h", "f2", "b"]).await;
        resume_and_converge(&g).await;
        for (i, c) in cs.iter_mut().enumerate() {
            let m = hgetall(c, "h").await;
            assert_eq!(
                m,
                BTreeMap::from([("f1".into(), "a".into()), ("f2".into(), "b".into())]),
                "region {}: HSET h f1 a ‖ HSET h f2 b",
                i + 1
            );
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hdel_removes_only_observed_values() {
    bounded(60, async {
        let (g, mut cs) = paused_group_after(async |c| {
            let _: i64 = q(c, &["HSET", "h", "f", "1", "g", "1"]).await;
        })
        .await;
        let _: i64 = q(&mut cs[1], &["HSET", "h", "f", "2"]).await;
        later().await;
        let n: i64 = q(&mut cs[0], &["HDEL", "h", "f", "g"]).await;
        assert_eq!(n, 2);
        resume_and_converge(&g).await;
        for (i, c) in cs.iter_mut().enumerate() {
            let m = hgetall(c, "h").await;
            assert_eq!(
                m,
                BTreeMap::from([("f".into(), "2".into())]),
                "region {}: HDEL h f g ‖ HSET h f 2 keeps the unobserved write",
                i + 1
            );
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hincrby_in_three_regions_sums_and_hset_resets_like_set() {
    bounded(60, async {
        let (g, mut cs) = paused_group_after(async |c| {
            let _: i64 = q(c, &["HSET", "h", "r", "10"]).await;
        })
        .await;
        for (i, c) in cs.iter_mut().enumerate() {
            let _: i64 = q(c, &["HINCRBY", "h", "n", &(i as i64 + 1).to_string()]).await;
        }
        // r=10 synced; HSET h r 100 ‖ HINCRBY h r 5 → 105 (the reset keeps unobserved ones).
        let _: i64 = q(&mut cs[2], &["HINCRBY", "h", "r", "5"]).await;
        later().await;
        let _: i64 = q(&mut cs[0], &["HSET", "h", "r", "100"]).await;
        resume_and_converge(&g).await;
        for (i, c) in cs.iter_mut().enumerate() {
            let n: String = q(c, &["HGET", "h", "n"]).await;
            assert_eq!(n, "6", "region {}: HINCRBY 1 ‖ 2 ‖ 3", i + 1);
            let r: String = q(c, &["HGET", "h", "r"]).await;
            assert_eq!(r, "105", "region {}: HSET r 100 ‖ HINCRBY r 5", i + 1);
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zrem_vs_concurrent_zincrby_gives_the_increment() {
    bounded(60, async {
        let (g, mut cs) = paused_group_after(async |c| {
            let _: i64 = q(c, &["ZADD", "z", "4.1", "x"]).await;
        })
        .await;
        let n: i64 = q(&mut cs[0], &["ZREM", "z", "x"]).await;
        assert_eq!(n, 1);
        let s: f64 = q(&mut cs[1], &["ZINCRBY", "z", "2", "x"]).await;
        assert!((s - 6.1).abs() < 1e-9);
        resume_and_converge(&g).await;
        for (i, c) in cs.iter_mut().enumerate() {
            assert_eq!(
                zscore(c, "z", "x").await,
                Some(2.0),
                "region {}: x=4.1; ZREM z x ‖ ZINCRBY z 2 x",
                i + 1
            );
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_zadd_later_wins_and_zincrby_sums() {
    bounded(60, async {
        let (g, mut cs) = paused_group_after(async |c| {
            let _: i64 = q(c, &["ZADD", "y", "1", "m"]).await;
        })
        .await;
        let _: i64 = q(&mut cs[0], &["ZADD", "z", "1.1", "x"]).await;
        let _: f64 = q(&mut cs[0], &["ZINCRBY", "y", "0.5", "m"]).await;
        let _: f64 = q(&mut cs[2], &["ZINCRBY", "y", "2", "m"]).await;
        later().await;
        let _: i64 = q(&mut cs[1], &["ZADD", "z", "2.1", "x"]).await;
        resume_and_converge(&g).await;
        for (i, c) in cs.iter_mut().enumerate() {
            assert_eq!(zscore(c, "z", "x").await, Some(2.1), "region {}", i + 1);
            assert_eq!(zscore(c, "y", "m").await, Some(3.5), "region {}", i + 1);
            let r: Vec<String> = q(c, &["ZRANGE", "y", "0", "-1", "WITHSCORES"]).await;
            assert_eq!(r, ["m", "3.5"], "region {}", i + 1);
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zset_membership_is_add_wins() {
    bounded(60, async {
        let (g, mut cs) = paused_group_after(async |c| {
            let _: i64 = q(c, &["ZADD", "z", "1", "a", "2", "b"]).await;
        })
        .await;
        let _: i64 = q(&mut cs[1], &["ZADD", "z", "3", "c"]).await;
        later().await;
        let _: i64 = q(&mut cs[0], &["ZREM", "z", "a", "c"]).await;
        resume_and_converge(&g).await;
        for (i, c) in cs.iter_mut().enumerate() {
            let r: Vec<String> = q(c, &["ZRANGE", "z", "0", "-1"]).await;
            assert_eq!(r, ["b", "c"], "region {}: ZREM z a c ‖ ZADD z 3 c", i + 1);
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pushes_all_survive_in_one_order_and_pops_remove_observed() {
    bounded(60, async {
        let (g, mut cs) = paused_group_after(async |c| {
            let _: i64 = q(c, &["RPUSH", "l", "base", "gone"]).await;
        })
        .await;
        for (i, c) in cs.iter_mut().enumerate() {
            let _: i64 = q(c, &["RPUSH", "l", &format!("r{}", i + 1)]).await;
            let _: i64 = q(c, &["LPUSH", "l", &format!("l{}", i + 1)]).await;
        }
        // Each of two regions pops its own new head.
        let a: Option<String> = q(&mut cs[0], &["LPOP", "l"]).await;
        let b: Option<String> = q(&mut cs[1], &["LPOP", "l"]).await;
        assert_eq!(a.as_deref(), Some("l1"));
        assert_eq!(b.as_deref(), Some("l2"));
        resume_and_converge(&g).await;
        let mut seen = Vec::new();
        for c in cs.iter_mut() {
            let l: Vec<String> = q(c, &["LRANGE", "l", "0", "-1"]).await;
            seen.push(l);
        }
        assert!(
            seen.iter().all(|l| l == &seen[0]),
            "one order everywhere: {seen:?}"
        );
        let l = &seen[0];
        assert_eq!(l.len(), 6, "2 at the start + 6 pushed - 2 popped: {l:?}");
        // l1 and l2 were popped; l3 (concurrent LPUSH) is the head; the RPUSHes all follow
        // "gone", in one order.
        assert_eq!(&l[..3], ["l3", "base", "gone"], "{l:?}");
        let mut tail = l[3..].to_vec();
        tail.sort();
        assert_eq!(tail, ["r1", "r2", "r3"], "{l:?}");
    })
    .await
}
