//! Tests with one `meridian server` process per region, linked by QUIC with mutual TLS.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::harness::{
    assert_no_acknowledged_write_lost, bounded, free_tcp_port, free_udp_port, q, region_name,
    run_to_end, smembers, Group, ServerOpts, Writers, CONVERGE_TIMEOUT,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_server_processes_replicate() {
    bounded(90, async {
        let g = Group::servers(3).await;
        let mut cs = g.conns().await;
        for (i, c) in cs.iter_mut().enumerate() {
            let r = i + 1;
            let _: String = q(c, &["SET", &format!("from-{r}"), &format!("value-{r}")]).await;
            let _: i64 = q(c, &["INCRBY", "total", &(r * 10).to_string()]).await;
            let _: i64 = q(c, &["SADD", "members", &format!("m{r}")]).await;
        }
        g.wait_converged(CONVERGE_TIMEOUT).await;
        for (i, c) in cs.iter_mut().enumerate() {
            let r = i + 1;
            for w in 1..=3 {
                let v: Option<String> = q(c, &["GET", &format!("from-{w}")]).await;
                assert_eq!(
                    v,
                    Some(format!("value-{w}")),
                    "region {r} reading region {w}'s write"
                );
            }
            let total: i64 = q(c, &["GET", "total"]).await;
            assert_eq!(total, 60, "region {r}");
            assert_eq!(
                smembers(c, "members").await,
                ["m1", "m2", "m3"],
                "region {r}"
            );
        }
        // The links describe the group.
        for r in g.ids() {
            let links = g.links(r).await;
            let mut peers: Vec<i64> = links.iter().map(|l| l.peer).collect();
            peers.sort();
            let expected: Vec<i64> = g
                .ids()
                .into_iter()
                .filter(|&p| p != r)
                .map(|p| p as i64)
                .collect();
            assert_eq!(peers, expected, "region {r} links: {links:#?}");
            for l in &links {
                assert_eq!(l.name, region_name(l.peer as u8), "region {r}: {l:#?}");
                assert_eq!(l.state, "connected", "region {r}: {l:#?}");
                assert!(
                    l.inbound_connected,
                    "region {r}: the peer's inbound link is up: {l:#?}"
                );
                assert_eq!(l.full_syncs_needed, 0, "region {r}: {l:#?}");
                assert!(l.connects >= 1, "region {r}: {l:#?}");
                assert_eq!(l.lag_ops, 0, "region {r}: {l:#?}");
                assert_eq!(
                    l.sent_ops, l.acked_ops,
                    "region {r}: all sent ops acked: {l:#?}"
                );
            }
            let received: i64 = links.iter().map(|l| l.received_ops).sum();
            assert!(
                received >= 6,
                "region {r} received {received} ops from its peers (each wrote 3)"
            );
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_link_while_writing_loses_nothing_and_needs_no_full_sync() {
    bounded(120, async {
        let heartbeat_ms = 200u64;
        let idle_timeout = Duration::from_millis((3 * heartbeat_ms).max(1000));
        let g = Group::servers_with(ServerOpts {
            regions: 3,
            heartbeat_ms,
            relays: true,
            ..ServerOpts::default()
        })
        .await;
        assert_eq!(g.relays.len(), 6);

        const OPS: usize = 2000;
        let writers = Writers::start(&g, &[1, 2], OPS, Duration::from_millis(2)).await;

        // Let the writers get going, then cut every link for ~3.5 idle timeouts.
        tokio::time::sleep(Duration::from_millis(700)).await;
        let ops_at_cut = writers.acked_ops();
        g.cut_all();
        let cut_start = Instant::now();
        let mut seen_down: HashSet<(usize, i64)> = HashSet::new();
        let mut last_links = HashMap::new();
        while cut_start.elapsed() < idle_timeout * 7 / 2 {
            for r in g.ids() {
                let links = g.links(r).await;
                for l in &links {
                    if l.state != "connected" {
                        seen_down.insert((r, l.peer));
                    }
                }
                last_links.insert(r, links);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let ops_at_heal = writers.acked_ops();
        g.heal_all();
        assert!(
            ops_at_heal > ops_at_cut + 100,
            "writes must continue while the links are cut ({ops_at_cut} → {ops_at_heal} ops)"
        );
        let expected_down: HashSet<(usize, i64)> = g
            .ids()
            .into_iter()
            .flat_map(|r| g.ids().into_iter().filter(move |&p| p != r).map(move |p| (r, p as i64)))
            .collect();
        let missed: Vec<_> = expected_down.difference(&seen_down).collect();
        assert!(
            missed.is_empty(),
            "after {:?} of cut (idle timeout {idle_timeout:?}) these links never left `connected`: {missed:?}\nlast CRDT.LINKS: {last_links:#?}",
            idle_timeout * 7 / 2
        );

        let totals = writers.finish().await;
        assert_eq!(totals.acked_ops.load(Ordering::SeqCst), 2 * OPS as u64);

        g.wait_converged(Duration::from_secs(45)).await;

        assert_no_acknowledged_write_lost(&g, &g.ids(), &totals).await;
        for r in g.ids() {
            let links = g.links(r).await;
            for l in &links {
                assert_eq!(l.full_syncs_needed, 0, "region {r} → {}: a cut shorter than the backlog needs no full sync: {l:#?}", l.peer);
                assert!(l.connects >= 2, "region {r} → {}: the cut link reconnected: {l:#?}", l.peer);
                assert_eq!(l.state, "connected", "region {r}: {l:#?}");
            }
        }
        let dropped: u64 = g.all_relays().map(|r| r.counts().1).sum();
        assert!(dropped > 0, "the relays dropped nothing: the links did not go through them");
    })
    .await
}

/// A valid 2-region config for region 1 (TLS paths need not exist: validation comes first).
fn good_config(dir: &std::path::Path) -> String {
    format!(
        r#"
[region]
id = 1
name = "region-1.meridian"

[server]
bind = "127.0.0.1:{}"
shards = 2

[geo]
listen = "127.0.0.1:{}"
heartbeat_ms = 200

[tls]
ca = "{d}/ca.pem"
cert = "{d}/region-1.pem"
key = "{d}/region-1.key"

[[peers]]
id = 2
name = "region-2.meridian"
addr = "127.0.0.1:{}"
"#,
        free_tcp_port(),
        free_udp_port(),
        free_udp_port(),
        d = dir.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_config_is_rejected_with_the_field_name() {
    bounded(60, async {
        let dir = tempfile::TempDir::new().unwrap();
        let good = good_config(dir.path());
        let cases: Vec<(&str, String, &[&str])> = vec![
            (
                "duplicate region id",
                good.replace("id = 2", "id = 1"),
                &["peers[0].id"],
            ),
            (
                "duplicate region name",
                good.replace(
                    "name = \"region-2.meridian\"",
                    "name = \"region-1.meridian\"",
                ),
                &["peers[0].name"],
            ),
            (
                "missing region name",
                good.replace("name = \"region-1.meridian\"\n", ""),
                &["name"],
            ),
            (
                "unknown field",
                good.replace("shards = 2", "shardz = 2"),
                &["shardz"],
            ),
            (
                "region id 0",
                good.replace("id = 1\n", "id = 0\n"),
                &["region.id"],
            ),
            (
                "bad peer address",
                good.replace("addr = \"127.0.0.1:", "addr = \"localhost:"),
                &["peers[0].addr"],
            ),
            (
                "shards out of range",
                good.replace("shards = 2", "shards = 0"),
                &["server.shards"],
            ),
        ];
        for (what, text, fields) in cases {
            assert_ne!(text, good, "{what}: the test's replacement did not apply");
            let path = dir.path().join("bad.toml");
            std::fs::write(&path, &text).unwrap();
            let (status, out, err) = tokio::task::spawn_blocking({
                let path = path.clone();
                move || {
                    run_to_end(
                        &["server", "--config", path.to_str().unwrap()],
                        Duration::from_secs(15),
                    )
                }
            })
            .await
            .unwrap();
            assert!(
                !status.success(),
                "{what}: meridian accepted the config:\n{text}\nstdout: {out}\nstderr: {err}"
            );
            for f in fields {
                assert!(
                    err.contains(f),
                    "{what}: stderr does not name `{f}`:\n{err}\n(stdout: {out})"
                );
            }
        }
        // A missing file is reported with its path.
        let missing = dir.path().join("nope.toml");
        let missing_s = missing.to_str().unwrap().to_string();
        let (status, _out, err) = tokio::task::spawn_blocking(move || {
            run_to_end(&["server", "--config", &missing_s], Duration::from_secs(15))
        })
        .await
        .unwrap();
        assert!(!status.success(), "a missing config file must fail");
        assert!(
            err.contains("nope.toml"),
            "stderr does not name the missing file:\n{err}"
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_region_does_not_stop_the_others() {
    bounded(60, async {
        let mut g = Group::servers(3).await;
        g.kill9(3);
        let mut c1 = g.conn(1).await;
        let mut c2 = g.conn(2).await;
        let _: String = q(&mut c1, &["SET", "after-kill", "still-replicated"]).await;
        let _: i64 = q(&mut c2, &["SADD", "s", "from-2"]).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v: Option<String> = q(&mut c2, &["GET", "after-kill"]).await;
            let m = smembers(&mut c1, "s").await;
            let l1 = g.links(1).await;
            let l2 = g.links(2).await;
            let to3_down = l1.iter().chain(l2.iter()).filter(|l| l.peer == 3).all(|l| l.state != "connected");
            let between_up = l1.iter().any(|l| l.peer == 2 && l.state == "connected")
                && l2.iter().any(|l| l.peer == 1 && l.state == "connected");
            if v.as_deref() == Some("still-replicated") && m == ["from-2"] && to3_down && between_up {
                let lag_to_3: i64 = l1.iter().filter(|l| l.peer == 3).map(|l| l.lag_ops).sum();
                assert!(lag_to_3 >= 1, "region 1 must count the write region 3 has not acked: {l1:#?}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "after killing region 3: GET in 2 = {v:?}, SMEMBERS in 1 = {m:?}, links to 3 down = {to3_down}, 1↔2 up = {between_up}\nregion 1: {l1:#?}\nregion 2: {l2:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_certificate_is_refused_both_ways_and_logged() {
    bounded(60, async {
        // Region 1's config revokes region 3's certificate (which still chains to the CA).
        let g = Group::servers_with(ServerOpts {
            regions: 3,
            revoked: vec![(1, 3)],
            ..ServerOpts::default()
        })
        .await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let l1 = g.links(1).await;
            let l2 = g.links(2).await;
            let l3 = g.links(3).await;
            let state = |ls: &Vec<crate::harness::Link>, p: i64| {
                ls.iter()
                    .find(|l| l.peer == p)
                    .map(|l| (l.state.clone(), l.last_error.clone()))
                    .unwrap_or_default()
            };
            let (s13, e13) = state(&l1, 3);
            let (s31, e31) = state(&l3, 1);
            let others_up = state(&l1, 2).0 == "connected"
                && state(&l2, 1).0 == "connected"
                && state(&l2, 3).0 == "connected"
                && state(&l3, 2).0 == "connected";
            if others_up
                && s13 != "connected"
                && s31 != "connected"
                && e13.contains("revoked")
                && e31.contains("revoked")
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "region 1: {l1:#?}\nregion 2: {l2:#?}\nregion 3: {l3:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Region 3 keeps redialing (backoff ≤ 2 s): the refusal is logged as a warning once.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let log = std::fs::read_to_string(g.dir.path().join("region-1.log")).expect("region 1 log");
        assert_eq!(
            log.matches("refusing the peer: its certificate is revoked")
                .count(),
            1,
            "region 1 logs the refusal once:\n{log}"
        );
        // The regions that trust each other replicate as usual.
        let _: String = q(&mut g.conn(2).await, &["SET", "k", "from-2"]).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        for r in [1, 3] {
            loop {
                let v: Option<String> = q(&mut g.conn(r).await, &["GET", "k"]).await;
                if v.as_deref() == Some("from-2") {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "region {r} never got region 2's write"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_with_a_foreign_ca_certificate_is_refused_and_logged() {
    bounded(60, async {
        let g = Group::servers(2).await;
        // An impostor: region 3's name, a certificate from another CA, dialing region 1.
        let certs = g.dir.path().join("foreign-certs");
        std::fs::create_dir_all(&certs).unwrap();
        crate::harness::write_certs(&certs, &[3]);
        let me = crate::harness::RegionInfo {
            id: 3,
            name: region_name(3),
            resp: format!("127.0.0.1:{}", free_tcp_port()).parse().unwrap(),
            geo: format!("127.0.0.1:{}", free_udp_port()).parse().unwrap(),
            metrics: None,
            proc_index: 0,
        };
        let text = crate::harness::server_config(&me, &[(1, g.regions[0].geo)], 2, 200, &certs);
        let path = g.dir.path().join("impostor.toml");
        std::fs::write(&path, text).unwrap();
        let mut cmd = std::process::Command::new(crate::harness::BIN);
        cmd.arg("server").arg("--config").arg(&path);
        let _impostor = crate::harness::Proc::spawn(
            "meridian server (impostor)",
            cmd,
            g.dir.path().join("impostor.log"),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log =
                std::fs::read_to_string(g.dir.path().join("region-1.log")).unwrap_or_default();
            // The line says why, e.g. "… handshake failed: … invalid peer certificate: …".
            if log
                .lines()
                .any(|l| l.contains("inbound geo handshake failed") && l.contains("certificate"))
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "region 1 never logged the refused handshake:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The group is unaffected: its link is up and it replicates.
        let _: String = q(&mut g.conn(1).await, &["SET", "k", "v"]).await;
        g.wait_converged(CONVERGE_TIMEOUT).await;
        let v: Option<String> = q(&mut g.conn(2).await, &["GET", "k"]).await;
        assert_eq!(v.as_deref(), Some("v"));
    })
    .await
}
