//! Runtime membership between `meridian server` processes, through the operator CLI:
//! `group add` of a region that has its own data (it takes the group's, the change reaches
//! every member and survives restarts, a sixth member is refused), and the force-unlink
//! workflow around a region that went dark (`kill -9`): collection resumes, the old region
//! is refused and told so, and after `group purge` and `group add` it converges.

use std::time::{Duration, Instant};

use crate::harness::{
    assert_no_acknowledged_write_lost, bounded, crdt_info, q, region_name, run_to_end, smembers,
    Group, ServerOpts, Writers,
};

/// Runs `meridian group <args>`; panics with its output and the group's logs if it fails.
async fn cli(g: &Group, args: &[&str]) -> String {
    let (st, out, err) = try_cli(args).await;
    assert!(
        st.success(),
        "meridian group {args:?} failed ({st}):\n{out}\n{err}\n{}",
        g.logs()
    );
    out
}

async fn try_cli(args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let mut all = vec!["group".to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        run_to_end(&refs, Duration::from_secs(30))
    })
    .await
    .expect("cli ran")
}

/// A string field of region `region`'s `INFO crdt`.
async fn info_str(g: &Group, region: usize, field: &str) -> String {
    let info: String = q(&mut g.conn(region).await, &["INFO", "crdt"]).await;
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {field} in INFO crdt:\n{info}"))
}

/// Polls `check` every 100 ms until it is true; panics with `what` and the logs after `secs`.
async fn wait_until<F, Fut>(g: &Group, secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "not within {secs} s: {what}\n{}",
            g.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn log_of(g: &Group, region: usize) -> String {
    std::fs::read_to_string(g.dir.path().join(format!("region-{region}.log"))).unwrap_or_default()
}

/// Three regions (through relays) with a key of each, then 200 `INCRBY c3` and 200 `SADD
/// s3` made in region 3 while its stream to region 2 is cut (the cut stays): region 1 has
/// all of them, region 2 none.
async fn writes_of_region_3_that_only_region_1_has() -> Group {
    let g = Group::servers_with(ServerOpts {
        regions: 3,
        relays: true,
        ..ServerOpts::default()
    })
    .await;
    for r in 1..=3 {
        let _: () = q(&mut g.conn(r).await, &["SET", &format!("k{r}"), "v"]).await;
    }
    g.wait_converged(Duration::from_secs(20)).await;
    g.relays[&(3, 2)].cut();
    let mut c3 = g.conn(3).await;
    for i in 0..200 {
        let _: i64 = q(&mut c3, &["INCRBY", "c3", "1"]).await;
        let _: i64 = q(&mut c3, &["SADD", "s3", &i.to_string()]).await;
    }
    wait_until(&g, 20, "region 1 has all of region 3's writes", || {
        let g = &g;
        async move {
            let mut c = g.conn(1).await;
            let n: Option<i64> = q(&mut c, &["GET", "c3"]).await;
            let m: i64 = q(&mut c, &["SCARD", "s3"]).await;
            n == Some(200) && m == 200
        }
    })
    .await;
    let at2: Option<i64> = q(&mut g.conn(2).await, &["GET", "c3"]).await;
    assert_eq!(
        at2, None,
        "region 2 must not have received region 3's writes"
    );
    g
}

/// Regions 1 and 2 both hold all of the writes of [`writes_of_region_3_that_only_region_1_has`].
async fn survivors_hold_all_of_region_3s_writes(g: &Group) {
    for r in [1, 2] {
        let mut c = g.conn(r).await;
        let n: Option<i64> = q(&mut c, &["GET", "c3"]).await;
        assert_eq!(n, Some(200), "region {r}");
        assert_eq!(smembers(&mut c, "s3").await.len(), 200, "region {r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_add_gives_a_region_the_groups_data_and_membership_survives_restarts() {
    bounded(150, async {
        let mut g = Group::servers_with(ServerOpts {
            regions: 3,
            standalone: vec![3],
            ..ServerOpts::default()
        })
        .await;
        assert_eq!(info_str(&g, 3, "group_state").await, "standalone");
        assert_eq!(info_str(&g, 1, "group_state").await, "active");
        // Region 3 has data of its own, which joining discards.
        let mut c3 = g.conn(3).await;
        let _: () = q(&mut c3, &["SET", "own-3", "x"]).await;
        let _: i64 = q(&mut c3, &["INCRBY", "counter", "1000"]).await;
        for r in 1..=2 {
            let mut c = g.conn(r).await;
            for i in 0..40 {
                let _: () = q(&mut c, &["SET", &format!("k{r}-{i}"), "v"]).await;
            }
        }
        // Writers in the group keep going while region 3 joins.
        let w = Writers::start(&g, &[1, 2], 300, Duration::from_millis(5)).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let n1 = g.resp_addr(1).to_string();
        let n2 = g.resp_addr(2).to_string();
        let n3 = g.resp_addr(3).to_string();
        let name3 = region_name(3);
        let out = cli(
            &g,
            &["add", "--node", &n1, "--region", &name3, "--endpoint", &n3],
        )
        .await;
        assert!(out.contains("added region region-3.meridian"), "{out}");
        g.active = vec![1, 2, 3];
        g.wait_linked(Duration::from_secs(30)).await;
        w.stop();
        let totals = w.finish().await;
        g.wait_converged(Duration::from_secs(30)).await;

        assert_no_acknowledged_write_lost(&g, &[1, 2, 3], &totals).await;
        let own: Option<String> = q(&mut c3, &["GET", "own-3"]).await;
        assert_eq!(own, None, "the joining region's own data is discarded");
        let v: Option<String> = q(&mut c3, &["GET", "k1-39"]).await;
        assert_eq!(v.as_deref(), Some("v"));
        assert_eq!(crdt_info(&mut c3, "full_syncs_installed").await, 1);
        // The change reached region 2, which was not asked.
        for r in 1..=3 {
            assert_eq!(crdt_info(&mut g.conn(r).await, "group_members").await, 3);
        }
        let members = cli(&g, &["members", "--node", &n2]).await;
        assert_eq!(
            members.lines().filter(|l| l.contains(" active ")).count(),
            3,
            "{members}"
        );
        // Writes in the new member replicate both ways.
        let _: i64 = q(&mut c3, &["SADD", "after", "from-3"]).await;
        let _: i64 = q(&mut g.conn(2).await, &["SADD", "after", "from-2"]).await;
        g.wait_converged(Duration::from_secs(20)).await;
        assert_eq!(smembers(&mut c3, "after").await, ["from-2", "from-3"]);

        // Membership is persisted: region 1's config still lists only region 2, but after
        // a restart it links with region 3 too (and takes a full sync, being empty).
        g.kill9(1);
        g.restart(1).await;
        g.wait_linked(Duration::from_secs(30)).await;
        g.wait_converged(Duration::from_secs(30)).await;
        assert_eq!(crdt_info(&mut g.conn(1).await, "group_members").await, 3);
        assert_eq!(
            smembers(&mut g.conn(1).await, "after").await,
            ["from-2", "from-3"]
        );

        // Up to five members: two more (never started) fit, a sixth is refused.
        let mut c1 = g.conn(1).await;
        for id in [4u8, 5] {
            let name = region_name(id);
            let r: Vec<String> = q(
                &mut c1,
                &["CRDT.GROUP", "ADD", &id.to_string(), &name, "127.0.0.1:9"],
            )
            .await;
            assert_eq!(r.len(), 3 + (id as usize - 3));
        }
        let err = crate::harness::try_q::<Vec<String>>(
            &mut c1,
            &["CRDT.GROUP", "ADD", "6", "region-6.meridian", "127.0.0.1:9"],
        )
        .await
        .expect_err("a sixth member");
        assert!(err.to_string().contains("the group is full"), "{err}");
        // Gone again (they never came up): force-unlink them from region 2.
        for id in ["4", "5"] {
            let _ = cli(&g, &["force-unlink", "--node", &n2, "--region", id]).await;
        }
        g.wait_linked(Duration::from_secs(30)).await;
        g.wait_converged(Duration::from_secs(20)).await;

        // Two members that cannot hear each other each add one more to a group of four:
        // six, when they hear each other again. Every member unlinks the later one.
        let add = |node: usize, id: &'static str| {
            let g = &g;
            async move {
                let name = region_name(id.parse().expect("id"));
                let _: Vec<String> = q(
                    &mut g.conn(node).await,
                    &["CRDT.GROUP", "ADD", id, &name, "127.0.0.1:9"],
                )
                .await;
            }
        };
        add(1, "6").await;
        wait_until(&g, 20, "every member has four members", || {
            let g = &g;
            async move {
                let mut n = 0;
                for r in 1..=3 {
                    n += crdt_info(&mut g.conn(r).await, "group_members").await;
                }
                n == 12
            }
        })
        .await;
        g.pause(1).await;
        g.pause(2).await;
        add(1, "7").await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        add(2, "8").await;
        g.resume(1).await;
        g.resume(2).await;
        wait_until(&g, 20, "every member unlinks region 8", || {
            let g = &g;
            async move {
                for r in 1..=3 {
                    let table: Vec<String> =
                        q(&mut g.conn(r).await, &["CRDT.GROUP", "MEMBERS"]).await;
                    let state = |id: &str| {
                        table
                            .iter()
                            .find(|l| l.starts_with(&format!("{id},")))
                            .map(|l| l.split(',').nth(3).unwrap_or("").to_string())
                    };
                    if state("8").as_deref() != Some("unlinked")
                        || state("7").as_deref() != Some("active")
                        || crdt_info(&mut g.conn(r).await, "group_members").await != 5
                    {
                        return false;
                    }
                }
                true
            }
        })
        .await;
        assert!(
            (1..=3).any(|r| log_of(&g, r).contains("past the group's limit of five")),
            "a member must say why it unlinked region 8:\n{}",
            g.logs()
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_force_unlinked_region_is_refused_until_purged_and_added_again() {
    bounded(150, async {
        let mut g = Group::servers(3).await;
        for r in 1..=3 {
            let mut c = g.conn(r).await;
            for i in 0..30 {
                let _: () = q(&mut c, &["SET", &format!("k{r}-{i}"), "v"]).await;
                let _: i64 = q(&mut c, &["HINCRBY", &format!("h{i}"), "f", "1"]).await;
            }
        }
        g.wait_converged(Duration::from_secs(20)).await;
        g.kill9(3);
        let w = Writers::start(&g, &[1, 2], 600, Duration::from_millis(5)).await;
        // Deletes while region 3 is away: their metadata waits for it.
        let mut c1 = g.conn(1).await;
        for i in 0..30 {
            let _: i64 = q(&mut c1, &["HDEL", &format!("h{i}"), "f"]).await;
        }
        let peer3 = |links: &[crate::harness::Link]| links.iter().find(|l| l.peer == 3).cloned();
        wait_until(
            &g,
            20,
            "region 1 keeps metadata and backlog for region 3",
            || {
                let g = &g;
                async move {
                    let links = g.links(1).await;
                    let waiting = crdt_info(&mut g.conn(1).await, "pending_gc").await;
                    peer3(&links).is_some_and(|l| l.backlog_bytes > 0) && waiting >= 30
                }
            },
        )
        .await;
        let backlog = peer3(&g.links(1).await).expect("link to 3").backlog_bytes;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let grown = peer3(&g.links(1).await).expect("link to 3").backlog_bytes;
        assert!(
            grown > backlog,
            "the backlog for region 3 grows while it is down"
        );

        let n1 = g.resp_addr(1).to_string();
        let n2 = g.resp_addr(2).to_string();
        let n3 = g.resp_addr(3).to_string();
        let name3 = region_name(3);
        let out = cli(&g, &["force-unlink", "--node", &n1, "--region", &name3]).await;
        assert!(out.contains("force-unlinked"), "{out}");
        g.active = vec![1, 2];
        // Both survivors (region 2 learns it from region 1) stop keeping anything for 3:
        // no link, so no backlog held for it, and the collection it held back resumes.
        for r in [1, 2] {
            wait_until(
                &g,
                20,
                "region 3 gone from the links, pending GC drained",
                || {
                    let g = &g;
                    async move {
                        peer3(&g.links(r).await).is_none()
                            && crdt_info(&mut g.conn(r).await, "pending_gc").await == 0
                    }
                },
            )
            .await;
            assert_eq!(crdt_info(&mut g.conn(r).await, "group_members").await, 2);
        }
        w.stop();
        let totals = w.finish().await;
        g.wait_converged(Duration::from_secs(30)).await;
        assert_no_acknowledged_write_lost(&g, &[1, 2], &totals).await;

        // The old region comes back (same config, its state file says it is a member): it
        // is refused, told why, and says so.
        g.restart(3).await;
        wait_until(&g, 20, "region 3 learns it was force-unlinked", || {
            let g = &g;
            async move { info_str(g, 3, "group_state").await == "unlinked" }
        })
        .await;
        assert_eq!(
            crdt_info(&mut g.conn(3).await, "geo_replication_healthy").await,
            0
        );
        assert_eq!(
            crdt_info(&mut g.conn(3).await, "group_members").await,
            1,
            "an unlinked region counts only itself"
        );
        let log3 = log_of(&g, 3);
        assert!(
            log3.contains("force-unlinked from its replication group"),
            "region 3 must log that it was unlinked:\n{log3}"
        );
        assert!(
            log_of(&g, 1).contains("was force-unlinked from the group")
                || log_of(&g, 2).contains("was force-unlinked from the group"),
            "a survivor must log why it refuses region 3:\n{}",
            g.logs()
        );
        // Adding it back without a purge is refused.
        let (st, _, err) =
            try_cli(&["add", "--node", &n2, "--region", &name3, "--endpoint", &n3]).await;
        assert!(!st.success() && err.contains("purge"), "{err}");
        // Even re-added by hand (a raw ADD, which the CLI would not send): the group holds
        // it active again, but it still holds itself unlinked with its old data, so no
        // data flows either way until it is purged and joins.
        let _: () = q(&mut g.conn(3).await, &["SET", "stale-3", "x"]).await;
        let geo3 = g.regions[2].geo.to_string();
        let _: Vec<String> = q(
            &mut g.conn(2).await,
            &["CRDT.GROUP", "ADD", "3", &name3, &geo3],
        )
        .await;
        wait_until(&g, 20, "the members dial region 3 and are refused", || {
            let g = &g;
            async move {
                let l = g.links(1).await;
                peer3(&l).is_some_and(|l| l.last_error.contains("not an active member"))
            }
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(info_str(&g, 3, "group_state").await, "unlinked");
        for r in [1, 2] {
            let stale: Option<String> = q(&mut g.conn(r).await, &["GET", "stale-3"]).await;
            assert_eq!(
                stale, None,
                "region {r} took nothing of the unlinked region"
            );
        }
        assert_eq!(
            crdt_info(&mut g.conn(3).await, "remote_ops_applied").await,
            0,
            "the unlinked region took nothing of the group"
        );

        let _ = cli(&g, &["purge", "--node", &n3]).await;
        assert_eq!(info_str(&g, 3, "group_state").await, "standalone");
        let keys: i64 = q(&mut g.conn(3).await, &["DBSIZE"]).await;
        assert_eq!(keys, 0);
        let _ = cli(
            &g,
            &["add", "--node", &n2, "--region", &name3, "--endpoint", &n3],
        )
        .await;
        g.active = vec![1, 2, 3];
        g.wait_linked(Duration::from_secs(30)).await;
        g.wait_converged(Duration::from_secs(30)).await;
        assert_no_acknowledged_write_lost(&g, &[1, 2, 3], &totals).await;
        let _: i64 = q(&mut g.conn(3).await, &["SADD", "back", "3"]).await;
        let _: i64 = q(&mut g.conn(1).await, &["SADD", "back", "1"]).await;
        g.wait_converged(Duration::from_secs(20)).await;
        assert_eq!(smembers(&mut g.conn(2).await, "back").await, ["1", "3"]);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_create_add_and_a_graceful_remove() {
    bounded(90, async {
        let mut g = Group::servers_with(ServerOpts {
            regions: 2,
            standalone: vec![1, 2],
            ..ServerOpts::default()
        })
        .await;
        g.active = vec![1];
        let n1 = g.resp_addr(1).to_string();
        let n2 = g.resp_addr(2).to_string();
        let name2 = region_name(2);
        // No group yet: nothing to add to.
        let (st, _, err) =
            try_cli(&["add", "--node", &n1, "--region", &name2, "--endpoint", &n2]).await;
        assert!(!st.success() && err.contains("group create"), "{err}");
        let mut c1 = g.conn(1).await;
        for i in 0..50 {
            let _: i64 = q(&mut c1, &["SADD", "s", &i.to_string()]).await;
        }
        let out = cli(&g, &["create", "--node", &n1]).await;
        assert!(out.contains("created a replication group"), "{out}");
        assert_eq!(info_str(&g, 1, "group_state").await, "active");
        let (st, _, err) = try_cli(&["create", "--node", &n1]).await;
        assert!(!st.success() && err.contains("already a member"), "{err}");
        // Added on region 1 but not joined (no JOIN on region 2): region 2 refuses region 1's
        // link and takes nothing from it, and region 1 takes nothing of region 2's data.
        let mut c2 = g.conn(2).await;
        let _: () = q(&mut c2, &["SET", "own-2", "x"]).await;
        let geo2 = g.regions[1].geo.to_string();
        let table: Vec<String> = q(&mut c1, &["CRDT.GROUP", "ADD", "2", &name2, &geo2]).await;
        assert_eq!(table.len(), 2);
        wait_until(
            &g,
            20,
            "region 2 refuses a member that it has not joined",
            || {
                let g = &g;
                async move {
                    g.links(1)
                        .await
                        .iter()
                        .any(|l| l.last_error.contains("not an active member"))
                }
            },
        )
        .await;
        assert_eq!(info_str(&g, 2, "group_state").await, "standalone");
        let own: Option<String> = q(&mut c1, &["GET", "own-2"]).await;
        assert_eq!(own, None);
        // The founder's data, written before the group existed, reaches the new member
        // (the add is retried as is: same record, then the join).
        let _ = cli(
            &g,
            &["add", "--node", &n1, "--region", &name2, "--endpoint", &n2],
        )
        .await;
        g.active = vec![1, 2];
        g.wait_linked(Duration::from_secs(30)).await;
        g.wait_converged(Duration::from_secs(30)).await;
        let n: i64 = q(&mut c2, &["SCARD", "s"]).await;
        assert_eq!(n, 50);
        let own: Option<String> = q(&mut c2, &["GET", "own-2"]).await;
        assert_eq!(own, None, "the joining region's own data is discarded");
        let _: i64 = q(&mut c2, &["SADD", "s", "from-2"]).await;
        g.wait_converged(Duration::from_secs(20)).await;
        // group flush through region 2 empties both.
        let _: () = q(&mut c1, &["SET", "gone", "soon"]).await;
        g.wait_converged(Duration::from_secs(20)).await;
        let err = crate::harness::try_q::<()>(&mut c1, &["FLUSHALL"])
            .await
            .expect_err("linked");
        assert!(err.to_string().contains("group flush"), "{err}");
        // Enough keys that each shard deletes them over several steps.
        let mut pipe = redis::pipe();
        for i in 0..10_000 {
            pipe.cmd("SET").arg(format!("bulk-{i}")).arg("x").ignore();
        }
        let _: () = pipe.query_async(&mut c1).await.expect("bulk SETs");
        g.wait_converged(Duration::from_secs(30)).await;
        let out = cli(&g, &["flush", "--node", &n2]).await;
        assert!(out.contains("group flush: 10002 key(s) deleted"), "{out}");
        g.wait_converged(Duration::from_secs(20)).await;
        for c in [&mut c1, &mut c2] {
            let n: i64 = q(c, &["DBSIZE"]).await;
            assert_eq!(n, 0);
        }
        let _: i64 = q(&mut c2, &["SADD", "s", "from-2"]).await;
        g.wait_converged(Duration::from_secs(20)).await;

        // Graceful remove: region 2 leaves, keeps its data, and stops replicating.
        let out = cli(&g, &["remove", "--node", &n1, "--region", &name2]).await;
        assert!(out.contains("removed"), "{out}");
        wait_until(&g, 20, "region 2 learns it was removed", || {
            let g = &g;
            async move { info_str(g, 2, "group_state").await == "removed" }
        })
        .await;
        assert_eq!(crdt_info(&mut c1, "group_members").await, 1);
        assert!(g.links(1).await.is_empty());
        let n: i64 = q(&mut c2, &["SCARD", "s"]).await;
        assert_eq!(n, 1, "a removed region keeps its data");
        let _: i64 = q(&mut c1, &["SADD", "s", "after-remove"]).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let there: i64 = q(&mut c2, &["SISMEMBER", "s", "after-remove"]).await;
        assert_eq!(there, 0, "nothing replicates to a removed region");
        // FLUSHALL is a local command again on both (neither has peers).
        let _: () = q(&mut c2, &["FLUSHALL"]).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survivors_of_a_force_unlinked_region_end_up_with_the_same_of_its_writes() {
    bounded(120, async {
        let mut g = writes_of_region_3_that_only_region_1_has().await;
        // Region 3 dies with writes only region 1 has; the others keep writing.
        g.kill9(3);
        let w = Writers::start(&g, &[1, 2], 400, Duration::from_millis(5)).await;
        // Unlinked through region 2, the survivor that is behind.
        let n2 = g.resp_addr(2).to_string();
        let _ = cli(
            &g,
            &["force-unlink", "--node", &n2, "--region", &region_name(3)],
        )
        .await;
        g.active = vec![1, 2];
        w.stop();
        let totals = w.finish().await;
        // Region 2 takes region 1's state (one full sync), so both hold the same of region
        // 3's writes: all of them, since region 1 had them all.
        g.wait_converged(Duration::from_secs(30)).await;
        assert_no_acknowledged_write_lost(&g, &[1, 2], &totals).await;
        survivors_hold_all_of_region_3s_writes(&g).await;
        assert_eq!(
            crdt_info(&mut g.conn(2).await, "full_syncs_installed").await,
            1
        );
        assert_eq!(
            crdt_info(&mut g.conn(1).await, "full_syncs_installed").await,
            0
        );
        let log2 = log_of(&g, 2);
        assert!(
            log2.contains("holds more of the writes of region 3"),
            "region 2 must say why it takes a full sync:\n{log2}"
        );
        // The group goes on: writes replicate both ways.
        let _: i64 = q(&mut g.conn(1).await, &["SADD", "after", "1"]).await;
        let _: i64 = q(&mut g.conn(2).await, &["SADD", "after", "2"]).await;
        g.wait_converged(Duration::from_secs(20)).await;
        assert_eq!(smembers(&mut g.conn(1).await, "after").await, ["1", "2"]);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_remove_hands_the_leaving_regions_last_writes_to_every_member() {
    bounded(120, async {
        let mut g = writes_of_region_3_that_only_region_1_has().await;
        let mut c3 = g.conn(3).await;
        let w = Writers::start(&g, &[1, 2], 400, Duration::from_millis(5)).await;
        // Removed through region 1, whose links are all up: region 3 stops taking writes and
        // waits until region 2 has its last ones too.
        let n1 = g.resp_addr(1).to_string();
        let name3 = region_name(3);
        let remove = tokio::spawn(async move {
            try_cli(&["remove", "--node", &n1, "--region", &name3, "--wait", "60"]).await
        });
        wait_until(&g, 20, "region 3 is leaving", || {
            let g = &g;
            async move { info_str(g, 3, "group_state").await == "leaving" }
        })
        .await;
        let err = crate::harness::try_q::<i64>(&mut c3, &["INCRBY", "c3", "1"])
            .await
            .expect_err("a leaving region refuses writes");
        // READONLY, which clients know (redis-rs: ErrorKind::ReadOnly).
        assert_eq!(
            err.kind(),
            redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly),
            "{err}"
        );
        assert!(
            err.to_string().contains("leaving its replication group"),
            "{err}"
        );
        let n: Option<i64> = q(&mut c3, &["GET", "c3"]).await;
        assert_eq!(n, Some(200), "a leaving region still serves reads");
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            info_str(&g, 3, "group_state").await,
            "leaving",
            "region 3 must wait for region 2"
        );
        assert!(
            !remove.is_finished(),
            "group remove waits for the hand-over"
        );
        g.relays[&(3, 2)].heal();
        let (st, out, err) = remove.await.expect("cli task");
        assert!(
            st.success(),
            "group remove failed:\n{out}\n{err}\n{}",
            g.logs()
        );
        assert!(out.contains("every member has all of its writes"), "{out}");
        g.active = vec![1, 2];
        w.stop();
        let totals = w.finish().await;
        g.wait_converged(Duration::from_secs(30)).await;
        assert_no_acknowledged_write_lost(&g, &[1, 2], &totals).await;
        survivors_hold_all_of_region_3s_writes(&g).await;
        for r in [1, 2] {
            // Handed over by its own stream: nobody needed a full sync.
            assert_eq!(
                crdt_info(&mut g.conn(r).await, "full_syncs_installed").await,
                0
            );
        }
        // Region 3 is standalone: it takes writes again, and nothing replicates any more.
        wait_until(&g, 20, "region 3 is removed", || {
            let g = &g;
            async move { info_str(g, 3, "group_state").await == "removed" }
        })
        .await;
        let n: i64 = q(&mut c3, &["INCRBY", "c3", "1"]).await;
        assert_eq!(n, 201);
        let _: i64 = q(&mut g.conn(1).await, &["SADD", "after", "1"]).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(smembers(&mut c3, "after").await.len(), 0);
        let n: Option<i64> = q(&mut g.conn(1).await, &["GET", "c3"]).await;
        assert_eq!(n, Some(200));
        assert!(
            log_of(&g, 3).contains("left the replication group"),
            "{}",
            g.logs()
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaving_region_restarted_with_empty_memory_leaves_with_the_groups_data() {
    bounded(120, async {
        // Writes of region 3 that region 2 does not get: region 3 stays `leaving`.
        let mut g = writes_of_region_3_that_only_region_1_has().await;
        let n1 = g.resp_addr(1).to_string();
        let name3 = region_name(3);
        let remove = tokio::spawn(async move {
            try_cli(&["remove", "--node", &n1, "--region", &name3, "--wait", "60"]).await
        });
        wait_until(&g, 20, "region 3 is leaving", || {
            let g = &g;
            async move { info_str(g, 3, "group_state").await == "leaving" }
        })
        .await;
        // It dies while leaving and comes back with empty memory: its state file still
        // says it is leaving. It takes a full sync first, then leaves, with the group's
        // data (not an empty keyspace).
        g.kill9(3);
        g.relays[&(3, 2)].heal();
        g.restart(3).await;
        let (st, out, err) = remove.await.expect("cli task");
        assert!(
            st.success(),
            "group remove failed:\n{out}\n{err}\n{}",
            g.logs()
        );
        wait_until(&g, 30, "region 3 is removed", || {
            let g = &g;
            async move { info_str(g, 3, "group_state").await == "removed" }
        })
        .await;
        let mut c3 = g.conn(3).await;
        assert_eq!(crdt_info(&mut c3, "full_syncs_installed").await, 1);
        for k in ["k1", "k2", "k3"] {
            let v: Option<String> = q(&mut c3, &["GET", k]).await;
            assert_eq!(v.as_deref(), Some("v"), "{k} at region 3\n{}", g.logs());
        }
        g.active = vec![1, 2];
        g.wait_converged(Duration::from_secs(30)).await;
        let n: Option<i64> = q(&mut g.conn(2).await, &["GET", "c3"]).await;
        assert_eq!(
            n,
            Some(200),
            "region 2 holds region 3's writes region 1 had"
        );
    })
    .await
}
