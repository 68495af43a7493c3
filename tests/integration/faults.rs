//! Real network faults between `meridian server` processes on loopback: packet loss and a
//! cut made by `iptables` on the receiver's UDP port, and WAN delay made by the UDP relay
//! (this kernel has no `tc netem`). Each scenario writes in every region during the fault,
//! heals, and checks that every region's `CRDT.DIGEST` is equal and that no acknowledged
//! write was lost (every acknowledged `INCRBY` counted, every acknowledged `SADD` there).

use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::{assert_no_acknowledged_write_lost, bounded, Group, ServerOpts, Writers};
use crate::relay::Mode;

/// An `iptables` rule on the INPUT chain, removed on drop (also when the test panics).
struct Rule(Vec<String>);

impl Rule {
    /// Inserts `-I INPUT <spec>`; panics if iptables refuses (the tests run as root).
    fn insert(spec: &[&str]) -> Rule {
        let spec: Vec<String> = spec.iter().map(|s| s.to_string()).collect();
        let out = Command::new("iptables")
            .args(["-w", "5", "-I", "INPUT"])
            .args(&spec)
            .output()
            .expect("run iptables (the fault tests need it, and root)");
        assert!(
            out.status.success(),
            "iptables -I INPUT {spec:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Rule(spec)
    }

    /// Drops UDP datagrams to `port` with probability `p` (1.0: all of them).
    fn drop_udp(port: u16, p: f64) -> Rule {
        let port = port.to_string();
        let p = format!("{p}");
        if p == "1" {
            Rule::insert(&["-p", "udp", "--dport", &port, "-j", "DROP"])
        } else {
            Rule::insert(&[
                "-p",
                "udp",
                "--dport",
                &port,
                "-m",
                "statistic",
                "--mode",
                "random",
                "--probability",
                &p,
                "-j",
                "DROP",
            ])
        }
    }

    /// Packets the rule dropped so far (from `iptables -L -v -x`).
    fn dropped(&self) -> u64 {
        let out = Command::new("iptables")
            .args(["-w", "5", "-L", "INPUT", "-v", "-x", "-n"])
            .output()
            .expect("iptables -L");
        let text = String::from_utf8_lossy(&out.stdout);
        let port = self
            .0
            .iter()
            .skip_while(|a| *a != "--dport")
            .nth(1)
            .cloned()
            .unwrap_or_default();
        text.lines()
            .filter(|l| l.contains(&format!("dpt:{port}")))
            .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
            .sum()
    }
}

impl Drop for Rule {
    fn drop(&mut self) {
        let _ = Command::new("iptables")
            .args(["-w", "5", "-D", "INPUT"])
            .args(&self.0)
            .status();
    }
}

/// Waits until at least `n` more writes were acknowledged (bounded).
async fn writes_go_on(w: &Writers, n: u64, what: &str) {
    let start = w.acked_ops();
    let deadline = Instant::now() + Duration::from_secs(30);
    while w.acked_ops() < start + n {
        assert!(
            Instant::now() < deadline,
            "writes stalled during {what}: {} of {n}",
            w.acked_ops() - start
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packet_loss_on_every_link_loses_no_acknowledged_write() {
    bounded(150, async {
        let g = Group::servers_with(ServerOpts {
            regions: 4,
            ..ServerOpts::default()
        })
        .await;
        let rules: Vec<Rule> = g
            .regions
            .iter()
            .map(|r| Rule::drop_udp(r.geo.port(), 0.25))
            .collect();
        let writers = Writers::start(&g, &g.ids(), 300, Duration::from_millis(4)).await;
        writes_go_on(&writers, 600, "packet loss").await;
        let totals = writers.finish().await;
        let dropped: u64 = rules.iter().map(Rule::dropped).sum();
        assert!(
            dropped > 0,
            "iptables dropped nothing: the fault was not there"
        );
        // Converges through the loss, then once healed too.
        g.wait_converged(Duration::from_secs(60)).await;
        drop(rules);
        g.wait_converged(Duration::from_secs(30)).await;
        assert_no_acknowledged_write_lost(&g, &g.ids(), &totals).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_cut_off_by_its_receiver_firewall_catches_up_after() {
    bounded(150, async {
        let g = Group::servers_with(ServerOpts {
            regions: 3,
            heartbeat_ms: 200,
            ..ServerOpts::default()
        })
        .await;
        // More writes than the scenario needs (how long the links take to go down varies);
        // stopped once healed.
        let writers = Writers::start(&g, &g.ids(), 5000, Duration::from_millis(4)).await;
        writes_go_on(&writers, 100, "the warm-up").await;
        // Region 2's UDP port drops everything: it hears nobody, nobody hears it.
        let cut = Rule::drop_udp(g.regions[1].geo.port(), 1.0);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let l1 = g.links(1).await;
            let l2 = g.links(2).await;
            let down = l1.iter().any(|l| l.peer == 2 && l.state != "connected")
                && l2.iter().all(|l| l.state != "connected");
            if down {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "links to region 2 never went down: {l1:#?}\n{l2:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Every region, region 2 included, keeps taking writes while cut.
        writes_go_on(&writers, 300, "the cut").await;
        assert!(cut.dropped() > 0);
        drop(cut);
        writes_go_on(&writers, 100, "the catch-up").await;
        writers.stop();
        let totals = writers.finish().await;
        g.wait_converged(Duration::from_secs(60)).await;
        assert_no_acknowledged_write_lost(&g, &g.ids(), &totals).await;
        for r in g.ids() {
            for l in g.links(r).await {
                assert_eq!(l.full_syncs_needed, 0, "region {r}: {l:#?}");
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wan_delay_of_150_ms_between_regions_converges_and_shows_in_lag() {
    bounded(150, async {
        let g = Group::servers_with(ServerOpts {
            regions: 3,
            relays: true,
            ..ServerOpts::default()
        })
        .await;
        for r in g.all_relays() {
            r.set_mode(Mode::Delay(Duration::from_millis(150)));
        }
        // Writes until the delay was seen (stopped then), at most 3000 per region.
        let writers = Writers::start(&g, &g.ids(), 3000, Duration::from_millis(4)).await;
        // While writes flow, acknowledgements are at least a round trip (300 ms) behind.
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut max_lag_ms = 0;
        while max_lag_ms < 150 {
            for l in g.links(1).await {
                max_lag_ms = max_lag_ms.max(l.lag_ms);
            }
            assert!(
                Instant::now() < deadline,
                "lag_ms never showed the delay (max {max_lag_ms})"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        writes_go_on(&writers, 200, "the delay").await;
        writers.stop();
        let totals = writers.finish().await;
        g.wait_converged(Duration::from_secs(60)).await;
        assert_no_acknowledged_write_lost(&g, &g.ids(), &totals).await;
        for r in g.all_relays() {
            r.set_mode(Mode::Pass);
        }
        let forwarded: u64 = g.all_relays().map(|r| r.counts().0).sum();
        assert!(forwarded > 0, "the links did not go through the relays");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_regions_ride_out_a_cut_and_a_kill_at_once() {
    bounded(180, async {
        let mut g = Group::servers_with(ServerOpts {
            regions: 5,
            ..ServerOpts::default()
        })
        .await;
        // Writers in four regions; region 4 is killed (its own unsent writes would be
        // lost by design, so it has no writer).
        let writers = Writers::start(&g, &[1, 2, 3, 5], 5000, Duration::from_millis(4)).await;
        writes_go_on(&writers, 100, "the warm-up").await;
        // Region 5 is cut off by its firewall while it keeps taking writes, and region 4
        // dies and comes back with empty memory meanwhile.
        let cut = Rule::drop_udp(g.regions[4].geo.port(), 1.0);
        let deadline = Instant::now() + Duration::from_secs(20);
        while g
            .links(1)
            .await
            .iter()
            .any(|l| l.peer == 5 && l.state == "connected")
        {
            assert!(
                Instant::now() < deadline,
                "the link to region 5 never went down"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        writes_go_on(&writers, 200, "the cut").await;
        g.kill9(4);
        writes_go_on(&writers, 200, "region 4 down").await;
        g.restart(4).await;
        writes_go_on(&writers, 200, "region 4 back").await;
        assert!(cut.dropped() > 0, "the cut was not there");
        drop(cut);
        writes_go_on(&writers, 100, "the catch-up").await;
        writers.stop();
        let totals = writers.finish().await;
        g.wait_linked(Duration::from_secs(60)).await;
        g.wait_converged(Duration::from_secs(90)).await;
        assert_no_acknowledged_write_lost(&g, &g.ids(), &totals).await;
        let syncs = crate::harness::crdt_info(&mut g.conn(4).await, "full_syncs_installed").await;
        assert_eq!(syncs, 1, "region 4 took one full sync after its restart");
    })
    .await
}
