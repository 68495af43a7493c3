//! Full sync between `meridian server` processes: a region restarted with empty memory
//! (`kill -9`, same config) gets the group's data back, its own earlier writes included;
//! a region whose peer's backlog was trimmed past what it lacked gets a snapshot plus the
//! stream, while every region keeps writing, and no acknowledged write is lost.

use std::time::{Duration, Instant};

use crate::harness::{
    assert_no_acknowledged_write_lost, bounded, crdt_info, q, smembers, Group, ServerOpts, Writers,
};

/// A field of region `region`'s `INFO crdt`.
async fn crdt_field(g: &Group, region: usize, field: &str) -> u64 {
    crdt_info(&mut g.conn(region).await, field).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_restarted_with_empty_memory_gets_the_groups_data_back() {
    bounded(120, async {
        let mut g = Group::servers(3).await;
        // Data of every region, region 3's own included, everywhere.
        for r in 1..=3 {
            let mut c = g.conn(r).await;
            for i in 0..50 {
                let _: () = q(&mut c, &["SET", &format!("k{r}-{i}"), &format!("v{r}-{i}")]).await;
            }
            let _: i64 = q(&mut c, &["HSET", "h", &format!("f{r}"), "x"]).await;
            let _: i64 = q(&mut c, &["INCRBY", "total", "10"]).await;
        }
        g.wait_converged(Duration::from_secs(20)).await;
        assert_eq!(crdt_field(&g, 3, "full_syncs_installed").await, 0);

        g.kill9(3);
        // The survivors keep writing while region 3 is down and while it comes back.
        let w = Writers::start(&g, &[1, 2], 400, Duration::from_millis(5)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        g.restart(3).await;
        g.wait_linked(Duration::from_secs(30)).await;
        w.stop();
        let totals = w.finish().await;
        g.wait_converged(Duration::from_secs(30)).await;

        // Region 3's own writes from before the kill came back with the snapshot.
        let mut c3 = g.conn(3).await;
        for i in [0, 25, 49] {
            let v: Option<String> = q(&mut c3, &["GET", &format!("k3-{i}")]).await;
            assert_eq!(v.as_deref(), Some(format!("v3-{i}").as_str()));
        }
        let total: i64 = q(&mut c3, &["GET", "total"]).await;
        assert_eq!(total, 30);
        assert_no_acknowledged_write_lost(&g, &[1, 2, 3], &totals).await;
        assert_eq!(crdt_field(&g, 3, "full_syncs_installed").await, 1);
        let log = std::fs::read_to_string(g.dir.path().join("region-3.log")).unwrap();
        assert!(
            log.contains("taking a full sync") && log.contains("earlier process of this region"),
            "region 3 must log why it takes a full sync:\n{}",
            g.logs()
        );

        // Writes made after the restart replicate both ways.
        let _: i64 = q(&mut c3, &["SADD", "after", "from-3"]).await;
        let _: i64 = q(&mut g.conn(1).await, &["SADD", "after", "from-1"]).await;
        g.wait_converged(Duration::from_secs(20)).await;
        assert_eq!(smembers(&mut c3, "after").await, ["from-1", "from-3"]);
        // A second restart needs (and gets) exactly one more sync.
        g.kill9(3);
        g.restart(3).await;
        g.wait_linked(Duration::from_secs(30)).await;
        g.wait_converged(Duration::from_secs(20)).await;
        assert_eq!(crdt_field(&g, 3, "full_syncs_installed").await, 1);
        assert_eq!(
            smembers(&mut g.conn(3).await, "after").await,
            ["from-1", "from-3"]
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_behind_a_trimmed_backlog_gets_a_snapshot_and_loses_nothing() {
    bounded(150, async {
        // 16 KiB of backlog per shard: a few hundred writes overflow it.
        let g = Group::servers_with(ServerOpts {
            regions: 3,
            backlog_bytes: Some(16 * 1024),
            ..ServerOpts::default()
        })
        .await;
        g.pause(3).await;
        // Every region writes while region 3 is cut off, region 3 included: region 3 a
        // bounded amount that stays well inside its own backlog (own writes past it could
        // not be replayed after the snapshot: see docs/operations.md).
        let w = Writers::start(&g, &[1, 2], 10_000, Duration::from_millis(5)).await;
        let w3 = Writers::start(&g, &[3], 120, Duration::from_millis(5)).await;
        // Region 1 writes far more than its backlog holds.
        let mut c1 = g.conn(1).await;
        let value = "x".repeat(200);
        for i in 0..1500 {
            let _: () = q(&mut c1, &["SET", &format!("bulk-{i}"), &value]).await;
        }
        let started = Instant::now();
        while w3.acked_ops() < 120 {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "region 3's writers did not finish while paused"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let totals3 = w3.finish().await;
        g.resume(3).await;
        // Region 3 must take a snapshot; the writers go on meanwhile.
        let deadline = Instant::now() + Duration::from_secs(40);
        while crdt_field(&g, 3, "full_syncs_installed").await == 0 {
            assert!(
                Instant::now() < deadline,
                "region 3 took no full sync:\n{}",
                g.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        w.stop();
        let totals = w.finish().await;
        g.wait_converged(Duration::from_secs(40)).await;
        // Every region has every acknowledged write of both groups of writers.
        let mut all = crate::harness::WriterTotals::default();
        for t in [&totals, &totals3] {
            use std::sync::atomic::Ordering::SeqCst;
            all.acked_sum.fetch_add(t.acked_sum.load(SeqCst), SeqCst);
            all.members
                .get_mut()
                .unwrap()
                .extend(t.members.lock().unwrap().iter().cloned());
        }
        assert_no_acknowledged_write_lost(&g, &[1, 2, 3], &all).await;
        let mut c3 = g.conn(3).await;
        for i in [0, 700, 1499] {
            let v: Option<String> = q(&mut c3, &["GET", &format!("bulk-{i}")]).await;
            assert_eq!(v.as_deref(), Some(value.as_str()), "bulk-{i} in region 3");
        }
        // The sender saw it could not resume region 3 and said so.
        let log1 = std::fs::read_to_string(g.dir.path().join("region-1.log")).unwrap();
        assert!(
            log1.contains("needs a full sync"),
            "region 1 must log that region 3 needs a full sync:\n{}",
            g.logs()
        );
        // Region 1's link to region 3 counts the stream it could not resume.
        let mut sent = 0;
        for r in [1, 2] {
            sent += g
                .links(r)
                .await
                .iter()
                .filter(|l| l.peer == 3)
                .map(|l| l.full_syncs_needed)
                .sum::<i64>();
        }
        assert!(sent >= 1, "no link to region 3 counts a full sync needed");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_bigger_than_the_backlog_replicates_and_goes_through_a_full_sync() {
    bounded(150, async {
        let mut g = Group::servers(2).await;
        // 80 MiB: over the default backlog of a shard (64 MiB), over what a frame used to
        // carry (64 MiB), and five snapshot pieces.
        let len: usize = 80 << 20;
        let big: String = "meridian-".repeat(len / 9 + 1)[..len].to_string();
        let _: () = q(&mut g.conn(1).await, &["SET", "big", &big]).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let n: usize = q(&mut g.conn(2).await, &["STRLEN", "big"]).await;
            if n == len {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the big value did not reach region 2 ({n} bytes there):\n{}",
                g.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        g.wait_converged(Duration::from_secs(60)).await;
        assert_eq!(
            crdt_field(&g, 2, "full_syncs_installed").await,
            0,
            "streamed, not through a full sync"
        );
        // A restart with empty memory: the snapshot region 2 takes holds that entry.
        g.kill9(2);
        g.restart(2).await;
        g.wait_linked(Duration::from_secs(30)).await;
        g.wait_converged(Duration::from_secs(60)).await;
        assert_eq!(crdt_field(&g, 2, "full_syncs_installed").await, 1);
        let mut c2 = g.conn(2).await;
        let n: usize = q(&mut c2, &["STRLEN", "big"]).await;
        assert_eq!(n, len);
        let tail: String = q(
            &mut c2,
            &[
                "GETRANGE",
                "big",
                &(len - 9).to_string(),
                &(len - 1).to_string(),
            ],
        )
        .await;
        assert_eq!(tail, big[len - 9..]);
    })
    .await
}
