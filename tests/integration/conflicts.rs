//! The conflict rules of /work/shared/spec/semantics.md, checked across 3 real regions.
//!
//! Pattern: sync a starting state, `CRDT.PAUSE` every region, write concurrently in several
//! regions (no region sees another's write), `CRDT.RESUME`, wait for convergence, then check
//! the result in every region.

use std::time::Duration;

use redis::aio::MultiplexedConnection;

use crate::harness::{bounded, q, scan_all, smembers, try_q, Group, Prng, CONVERGE_TIMEOUT};

/// A dev group of 3 regions, converged and then paused.
pub(crate) async fn paused_group_after<F>(setup: F) -> (Group, Vec<MultiplexedConnection>)
where
    F: AsyncFnOnce(&mut MultiplexedConnection),
{
    let g = Group::dev(3, 2).await;
    let mut cs = g.conns().await;
    setup(&mut cs[0]).await;
    g.wait_converged(CONVERGE_TIMEOUT).await;
    g.pause_all().await;
    for r in g.ids() {
        for l in g.links(r).await {
            assert_eq!(l.state, "paused", "region {r} after CRDT.PAUSE: {l:#?}");
        }
    }
    (g, cs)
}

/// Checks that a paused group really does not exchange writes: `key` still reads as
/// `expected[i]` in region i+1 a while after the concurrent writes.
async fn still_isolated(cs: &mut [MultiplexedConnection], key: &str, expected: &[&str]) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (i, c) in cs.iter_mut().enumerate() {
        let v: Option<String> = q(c, &["GET", key]).await;
        assert_eq!(
            v.as_deref().unwrap_or("(nil)"),
            expected[i],
            "region {} while paused: a write leaked through CRDT.PAUSE",
            i + 1
        );
    }
}

/// Resumes every region and waits until they converge.
pub(crate) async fn resume_and_converge(g: &Group) {
    g.resume_all().await;
    g.wait_converged(CONVERGE_TIMEOUT).await;
}

/// A gap that makes the next write's HLC strictly later (all dev regions share one OS clock).
pub(crate) async fn later() {
    tokio::time::sleep(Duration::from_millis(30)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_incrby_in_three_regions_sums() {
    bounded(60, async {
        let (g, mut cs) = paused_group_after(async |_c| {}).await;
        let a: i64 = q(&mut cs[0], &["INCRBY", "c", "7"]).await;
        let b: i64 = q(&mut cs[1], &["INCRBY", "c", "3"]).await;
        let c: i64 = q(&mut cs[2], &["INCRBY", "c", "5"]).await;
        assert_eq!(
            (a, b, c),
            (7, 3, 5),
            "while paused each region sees only its own increment"
        );
        still_isolated(&mut cs, "c", &["7", "3", "5"]).await;
        // Self-check of the harness: a paused, diverged group is not reported as converged.
        let why = g
            .converged_now()
            .await
            .expect_err("a paused group with diverged writes is not converged");
        assert!(why.contains("digests differ"), "{why}");
        resume_and_converge(&g).await;
        for (i, c) in cs.iter_mut().enumerate() {
            let v: String = q(c, &["GET", "c"]).await;
            assert_eq!(v, "15", "region {}", i + 1);
        }
        // The merged counter keeps counting.
        let v: i64 = q(&mut cs[1], &["DECRBY", "c", "20"]).await;
        assert_eq!(v, -5);
        g.wait_converged(CONVERGE_TIMEOUT).await;
        for (i, c) in cs.iter_mut().enumerate() {
            let v: i64 = q(c, &["GET", "c"]).await;
            assert_eq!(v, -5, "region {}", i + 1);
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_vs_concurrent_incrby_adds_unobserved_increments() {
    bounded(60, async {
        let (g, mut cs) = paused_group_after(async |c| {
            let _: String = q(c, &["SET", "c", "10"]).await;
        })
        .await;
        let _: i64 = q(&mut cs[1], &["INCRBY", "c", "5"]).await;
        later().await;
        let _: String = q(&mut cs[0], &["SET", "c", "100"]).await;
        resume_and_converge(&g).await;
        for (i, c) in cs.iter_mut().enumerate() {
            let v: String = q(c, &["GET", "c"]).await;
            assert_eq!(v, "105", "region {}: SET c 100 ‖ INCRBY c 5 on c=10", i + 1);
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sadd_srem_while_paused_is_add_wins() {
    bounded(60, async {
        let (g, mut cs) = paused_group_after(async |c| {
            let _: i64 = q(c, &["SADD", "s", "a", "b"]).await;
        })
        .await;
        let _: i64 = q(&mut cs[1], &["SADD", "s", "c"]).await;
        later().await;
        let _: i64 = q(&mut cs[0], &["SREM", "s", "a"]).await;
        let _: i64 = q(&mut cs[0], &["SREM", "s", "c"]).await;
        resume_and_converge(&g).await;
        for (i, c) in cs.iter_mut().enumerate() {
            assert_eq!(smembers(c, "s").await, ["b", "c"], "region {}", i + 1);
            let n: i64 = q(c, &["SCARD", "s"]).await;
            assert_eq!(n, 2, "region {}", i + 1);
            let is: i64 = q(c, &["SISMEMBER", "s", "a"]).await;
            assert_eq!(is, 0, "region {}", i + 1);
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn del_vs_concurrent_sadd_keeps_unobserved_member() {
    bounded(60, async {
        let (g, mut cs) = paused_group_after(async |c| {
            let _: i64 = q(c, &["SADD", "s", "a"]).await;
            let _: String = q(c, &["SET", "n", "10"]).await;
            let _: i64 = q(c, &["INCRBY", "n", "1"]).await;
        })
        .await;
        let _: i64 = q(&mut cs[1], &["SADD", "s", "b"]).await;
        let _: i64 = q(&mut cs[2], &["INCRBY", "n", "4"]).await;
        later().await;
        let d: i64 = q(&mut cs[0], &["DEL", "s"]).await;
        assert_eq!(d, 1);
        let d: i64 = q(&mut cs[0], &["UNLINK", "n"]).await;
        assert_eq!(d, 1);
        resume_and_converge(&g).await;
        for (i, c) in cs.iter_mut().enumerate() {
            assert_eq!(
                smembers(c, "s").await,
                ["b"],
                "region {}: DEL s ‖ SADD s b on s={{a}}",
                i + 1
            );
            let v: Option<String> = q(c, &["GET", "n"]).await;
            assert_eq!(
                v.as_deref(),
                Some("4"),
                "region {}: DEL n ‖ INCRBY n 4 keeps the unobserved increment",
                i + 1
            );
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_set_resolves_the_same_everywhere() {
    bounded(60, async {
        let (g, mut cs) = paused_group_after(async |c| {
            let _: String = q(c, &["SET", "k", "start"]).await;
        })
        .await;
        // k: writes spaced in time, so the HLC order is known: region 3's is the latest.
        for (i, c) in cs.iter_mut().enumerate() {
            let _: String = q(c, &["SET", "k", &format!("from-{}", i + 1)]).await;
            later().await;
        }
        still_isolated(&mut cs, "k", &["from-1", "from-2", "from-3"]).await;
        // j: writes as simultaneous as possible; any one may win, but the same everywhere.
        let writes = cs.iter().enumerate().map(|(i, c)| {
            let mut c = c.clone();
            async move {
                let _: String = q(&mut c, &["SET", "j", &format!("from-{}", i + 1)]).await;
            }
        });
        futures_join_all(writes).await;
        resume_and_converge(&g).await;
        let mut seen = Vec::new();
        for (i, c) in cs.iter_mut().enumerate() {
            let k: String = q(c, &["GET", "k"]).await;
            assert_eq!(
                k,
                "from-3",
                "region {}: the write with the largest HLC wins",
                i + 1
            );
            let j: String = q(c, &["GET", "j"]).await;
            assert!(
                ["from-1", "from-2", "from-3"].contains(&j.as_str()),
                "region {}: j = {j:?}",
                i + 1
            );
            seen.push(j);
        }
        assert!(
            seen.iter().all(|j| j == &seen[0]),
            "j differs between regions: {seen:?}"
        );
    })
    .await
}

/// Awaits every future concurrently (tasks on the runtime), in order.
async fn futures_join_all<F>(futs: impl Iterator<Item = F>)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    for h in handles {
        h.await.expect("writer task panicked");
    }
}

async fn type_of(c: &mut MultiplexedConnection, key: &str) -> String {
    q(c, &["TYPE", key]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn type_conflict_later_write_wins() {
    bounded(60, async {
        let (g, mut cs) = paused_group_after(async |c| {
            // k2 existed and was deleted before the pause: an observed-deleted key.
            let _: String = q(c, &["SET", "k2", "old"]).await;
            let _: i64 = q(c, &["DEL", "k2"]).await;
        })
        .await;
        // k1: SET first, SADD later → set wins.
        let _: String = q(&mut cs[0], &["SET", "k1", "v"]).await;
        later().await;
        let _: i64 = q(&mut cs[1], &["SADD", "k1", "m"]).await;
        // k2: SADD first, SET later → string wins.
        let _: i64 = q(&mut cs[2], &["SADD", "k2", "m"]).await;
        later().await;
        let _: String = q(&mut cs[0], &["SET", "k2", "v"]).await;
        resume_and_converge(&g).await;

        let mut types = Vec::new();
        for (i, c) in cs.iter_mut().enumerate() {
            types.push((type_of(c, "k1").await, type_of(c, "k2").await));
            let r = i + 1;
            assert_eq!(
                types[i],
                ("set".to_string(), "string".to_string()),
                "region {r}: TYPE k1, TYPE k2"
            );
            // Reads show only the winner.
            assert_eq!(smembers(c, "k1").await, ["m"], "region {r}");
            let v: String = q(c, &["GET", "k2"]).await;
            assert_eq!(v, "v", "region {r}");
            // Reads and writes of the other type get WRONGTYPE.
            for (args, what) in [
                (&["GET", "k1"][..], "GET on the set k1"),
                (&["APPEND", "k1", "x"][..], "APPEND on the set k1"),
                (&["INCR", "k1"][..], "INCR on the set k1"),
                (&["SADD", "k2", "x"][..], "SADD on the string k2"),
                (&["SMEMBERS", "k2"][..], "SMEMBERS on the string k2"),
            ] {
                let e = try_q::<redis::Value>(c, args)
                    .await
                    .expect_err(&format!("{what} must fail in region {r}"));
                assert_eq!(e.code(), Some("WRONGTYPE"), "region {r}: {what}: {e}");
            }
        }
        // The failed writes changed nothing.
        g.wait_converged(CONVERGE_TIMEOUT).await;
        for c in cs.iter_mut() {
            assert_eq!(smembers(c, "k1").await, ["m"]);
            let v: String = q(c, &["GET", "k2"]).await;
            assert_eq!(v, "v");
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_ttls_longest_wins() {
    bounded(60, async {
        let (g, mut cs) = paused_group_after(async |c| {
            let _: String = q(c, &["SET", "k", "v"]).await;
        })
        .await;
        // The longest TTL is written first, so "later wins" would pick another.
        let _: i64 = q(&mut cs[1], &["EXPIRE", "k", "1000"]).await;
        later().await;
        let _: i64 = q(&mut cs[2], &["PEXPIRE", "k", "500000"]).await;
        later().await;
        let _: i64 = q(&mut cs[0], &["EXPIRE", "k", "100"]).await;
        resume_and_converge(&g).await;
        for (i, c) in cs.iter_mut().enumerate() {
            let ttl: i64 = q(c, &["TTL", "k"]).await;
            assert!(
                (900..=1000).contains(&ttl),
                "region {}: TTL k = {ttl}, expected the longest (1000 s)",
                i + 1
            );
            let pttl: i64 = q(c, &["PTTL", "k"]).await;
            assert!(pttl > 500_000, "region {}: PTTL k = {pttl}", i + 1);
            let v: String = q(c, &["GET", "k"]).await;
            assert_eq!(v, "v");
        }
        // A causally later EXPIRE replaces the merged one as usual.
        let _: i64 = q(&mut cs[2], &["EXPIRE", "k", "50"]).await;
        g.wait_converged(CONVERGE_TIMEOUT).await;
        for (i, c) in cs.iter_mut().enumerate() {
            let ttl: i64 = q(c, &["TTL", "k"]).await;
            assert!(
                (1..=50).contains(&ttl),
                "region {}: TTL k = {ttl} after a causally later EXPIRE 50",
                i + 1
            );
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persist_beats_concurrent_expire() {
    bounded(60, async {
        let (g, mut cs) = paused_group_after(async |c| {
            let _: String = q(c, &["SET", "k", "v", "EX", "1000"]).await;
        })
        .await;
        let p: i64 = q(&mut cs[0], &["PERSIST", "k"]).await;
        assert_eq!(p, 1, "PERSIST on a key with a TTL");
        later().await;
        let _: i64 = q(&mut cs[1], &["EXPIRE", "k", "50"]).await;
        let _: i64 = q(&mut cs[2], &["EXPIRE", "k", "5000"]).await;
        resume_and_converge(&g).await;
        for (i, c) in cs.iter_mut().enumerate() {
            let ttl: i64 = q(c, &["TTL", "k"]).await;
            assert_eq!(
                ttl,
                -1,
                "region {}: PERSIST ‖ EXPIRE must leave no TTL",
                i + 1
            );
            let v: String = q(c, &["GET", "k"]).await;
            assert_eq!(v, "v");
        }
    })
    .await
}

/// One random write on a small key space; errors (WRONGTYPE, not an integer) are expected.
async fn random_write(c: &mut MultiplexedConnection, rng: &mut Prng, region: usize, seq: usize) {
    let k = rng.below(8);
    let op = rng.below(12);
    let (key, args): (String, Vec<String>) = match op {
        0 => (
            format!("str:{k}"),
            vec!["SET".into(), format!("v{region}-{seq}")],
        ),
        1 => (
            format!("str:{k}"),
            vec!["APPEND".into(), format!("+{region}")],
        ),
        2 => (
            format!("cnt:{k}"),
            vec!["INCRBY".into(), (rng.below(100) as i64 - 30).to_string()],
        ),
        3 => (
            format!("cnt:{k}"),
            vec!["SET".into(), rng.below(1000).to_string()],
        ),
        4 => (format!("cnt:{k}"), vec!["DECR".into()]),
        5 | 6 => (
            format!("set:{k}"),
            vec!["SADD".into(), format!("m{}", rng.below(10))],
        ),
        7 => (
            format!("set:{k}"),
            vec!["SREM".into(), format!("m{}", rng.below(10))],
        ),
        8 => {
            let prefix = ["str", "cnt", "set"][rng.below(3) as usize];
            (format!("{prefix}:{k}"), vec!["DEL".into()])
        }
        9 => {
            let prefix = ["str", "cnt", "set"][rng.below(3) as usize];
            (
                format!("{prefix}:{k}"),
                vec!["EXPIRE".into(), (1000 + rng.below(1000)).to_string()],
            )
        }
        10 => {
            let prefix = ["str", "cnt", "set"][rng.below(3) as usize];
            (format!("{prefix}:{k}"), vec!["PERSIST".into()])
        }
        _ => (
            format!("mix:{k}"),
            if rng.below(2) == 0 {
                vec!["SET".into(), format!("x{region}")]
            } else {
                vec!["SADD".into(), format!("y{region}")]
            },
        ),
    };
    let mut words: Vec<&str> = vec![args[0].as_str(), key.as_str()];
    words.extend(args[1..].iter().map(String::as_str));
    if let Err(e) = try_q::<redis::Value>(c, &words).await {
        let code = e.code().unwrap_or("");
        assert!(
            code == "WRONGTYPE"
                || e.to_string().contains("not an integer")
                || e.to_string().contains("out of range"),
            "region {region}: {words:?} failed unexpectedly: {e}"
        );
    }
}

async fn random_writers(cs: &[MultiplexedConnection], seed: u64, ops: usize) {
    let tasks: Vec<_> = cs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut c = c.clone();
            tokio::spawn(async move {
                let mut rng = Prng::new(seed.wrapping_add(i as u64 * 7919));
                for seq in 0..ops {
                    random_write(&mut c, &mut rng, i + 1, seq).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("writer panicked");
    }
}

/// What a key holds, read in one region, for comparison between regions.
async fn snapshot(c: &mut MultiplexedConnection) -> Vec<(String, String, String, bool)> {
    let mut out = Vec::new();
    for key in scan_all(c).await {
        let t = type_of(c, &key).await;
        let v = match t.as_str() {
            "string" => q::<Option<String>>(c, &["GET", &key])
                .await
                .unwrap_or_default(),
            "set" => smembers(c, &key).await.join(","),
            "none" => String::new(), // expired between SCAN and TYPE
            other => panic!("unexpected TYPE {other} for {key}"),
        };
        let ttl: i64 = q(c, &["TTL", &key]).await;
        out.push((key, t, v, ttl > 0));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_is_equal_after_convergence() {
    bounded(90, async {
        let seed = crate::harness::random_u64();
        eprintln!("workload seed {seed}");
        let g = Group::dev(3, 4).await;
        let cs = g.conns().await;
        // Phase 1: live, concurrent writers in all regions.
        random_writers(&cs, seed, 300).await;
        // Phase 2: every region paused, so every write conflicts with the others'.
        g.pause_all().await;
        random_writers(&cs, seed ^ 0xABCD, 300).await;
        resume_and_converge(&g).await;
        // Phase 3: live again, right after the resume.
        random_writers(&cs, seed ^ 0x1234, 200).await;
        g.wait_converged(CONVERGE_TIMEOUT).await;

        let mut digests = Vec::new();
        let mut snaps = Vec::new();
        for r in g.ids() {
            digests.push(g.digest(r).await);
            let mut c = g.conn(r).await;
            snaps.push(snapshot(&mut c).await);
            let n: i64 = q(&mut c, &["DBSIZE"]).await;
            assert_eq!(n as usize, snaps[r - 1].len(), "region {r}: DBSIZE vs SCAN (seed {seed})");
        }
        assert!(digests.iter().all(|d| d == &digests[0]), "digests differ: {digests:?} (seed {seed})");
        eprintln!("{} keys after the workload, digest {}", snaps[0].len(), digests[0]);
        assert!(snaps[0].len() >= 8, "the workload left only {} keys (seed {seed})", snaps[0].len());
        let types: std::collections::BTreeSet<&str> = snaps[0].iter().map(|s| s.1.as_str()).collect();
        assert!(types.contains("string") && types.contains("set"), "types left: {types:?} (seed {seed})");
        for r in 1..snaps.len() {
            if snaps[r] != snaps[0] {
                let diff: Vec<_> = snaps[0]
                    .iter()
                    .zip(snaps[r].iter())
                    .filter(|(a, b)| a != b)
                    .take(10)
                    .collect();
                panic!(
                    "region {} differs from region 1 (seed {seed}); {} vs {} keys; first differences: {diff:#?}",
                    r + 1,
                    snaps[0].len(),
                    snaps[r].len()
                );
            }
        }
    })
    .await
}
