//! Health as operators see it: `INFO crdt` per-peer lines and the Prometheus endpoint,
//! on a real group of `meridian server` processes, before and after a region is killed.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{bounded, free_tcp_port, q, run_to_end, Group, ServerOpts, CONVERGE_TIMEOUT};

/// `GET path` on a metrics endpoint: (status line, body).
async fn http_get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect metrics");
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: */*\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("send request");
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut raw))
        .await
        .expect("metrics answer in time")
        .expect("read metrics answer");
    let text = String::from_utf8(raw).expect("utf-8 answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP head and body");
    let status = head.lines().next().unwrap_or_default().to_string();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.parse().ok())
        .expect("Content-Length");
    assert_eq!(len, body.len(), "Content-Length matches the body");
    (status, body.to_string())
}

/// Samples of a scrape: `name{labels}` → value. Every sample line must parse.
async fn scrape(addr: SocketAddr) -> BTreeMap<String, u64> {
    let (status, body) = http_get(addr, "/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let mut out = BTreeMap::new();
    for l in body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (k, v) = l.rsplit_once(' ').expect("sample line: name value");
        let v: u64 = v
            .parse()
            .unwrap_or_else(|_| panic!("sample value of {l:?}"));
        out.insert(k.to_string(), v);
    }
    out
}

fn peer(name: &str, id: u8) -> String {
    format!("{name}{{peer=\"{id}\",name=\"region-{id}.meridian\"}}")
}

/// Fields of `INFO crdt`'s line for one peer.
async fn info_peer(g: &Group, region: usize, id: u8) -> BTreeMap<String, String> {
    let info: String = q(&mut g.conn(region).await, &["INFO", "crdt"]).await;
    let line = info
        .lines()
        .find_map(|l| l.strip_prefix(&format!("peer{id}:")))
        .unwrap_or_else(|| panic!("no peer{id} line in INFO crdt:\n{info}"));
    line.split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_and_metrics_show_a_dead_peer_and_what_waits_for_it() {
    bounded(90, async {
        let mut g = Group::servers_with(ServerOpts {
            regions: 3,
            metrics: true,
            ..ServerOpts::default()
        })
        .await;
        let m1 = g.regions[0].metrics.expect("metrics address");
        let mut cs = g.conns().await;
        for c in cs.iter_mut() {
            let _: i64 = q(c, &["HINCRBY", "h", "f", "1"]).await;
        }
        g.wait_converged(CONVERGE_TIMEOUT).await;

        // Healthy: every link up, nothing lagging or held.
        let m = scrape(m1).await;
        assert_eq!(m["meridian_up"], 1);
        assert_eq!(m["meridian_geo_replication_healthy"], 1, "{m:#?}");
        assert_eq!(m["meridian_group_members"], 3, "{m:#?}");
        assert_eq!(m["meridian_group_member"], 1, "{m:#?}");
        for id in [2, 3] {
            assert_eq!(m[&peer("meridian_link_up", id)], 1, "{m:#?}");
            assert_eq!(m[&peer("meridian_link_lag_ops", id)], 0, "{m:#?}");
            assert_eq!(m[&peer("meridian_link_backlog_bytes", id)], 0, "{m:#?}");
            assert_eq!(m[&peer("meridian_link_pending_gc", id)], 0, "{m:#?}");
        }
        assert!(m["meridian_remote_ops_applied_total"] >= 2, "{m:#?}");
        assert!(m["meridian_keys"] >= 1, "{m:#?}");
        let (status, _) = http_get(m1, "/other").await;
        assert_eq!(status, "HTTP/1.1 404 Not Found");

        // Region 3 dies; region 1 keeps writing. What region 3 has not acknowledged stays
        // in region 1's backlog, and region 1's deletes wait for region 3 to collect.
        g.kill9(3);
        for i in 0..20 {
            let _: i64 = q(&mut cs[0], &["INCRBY", "n", &i.to_string()]).await;
        }
        let _: i64 = q(&mut cs[0], &["HDEL", "h", "f"]).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        let (m, p3) = loop {
            let m = scrape(m1).await;
            let p3 = info_peer(&g, 1, 3).await;
            // Region 2 acknowledges (and reports) within a few report ticks.
            let two_caught_up = m[&peer("meridian_link_backlog_bytes", 2)] == 0
                && m[&peer("meridian_link_pending_gc", 2)] == 0;
            if m[&peer("meridian_link_up", 3)] == 0
                && m[&peer("meridian_link_pending_gc", 3)] >= 1
                && p3["link_state"] != "connected"
                && two_caught_up
            {
                break (m, p3);
            }
            assert!(Instant::now() < deadline, "{m:#?}\n{p3:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(m["meridian_geo_replication_healthy"], 0, "{m:#?}");
        assert!(m[&peer("meridian_link_lag_ops", 3)] >= 21, "{m:#?}");
        assert!(m[&peer("meridian_link_lag_ms", 3)] > 0, "{m:#?}");
        let backlog = m[&peer("meridian_link_backlog_bytes", 3)];
        assert!(backlog > 0, "{m:#?}");
        // Region 2 is alive and has everything.
        assert_eq!(m[&peer("meridian_link_up", 2)], 1, "{m:#?}");
        // INFO says the same.
        let info: String = q(&mut cs[0], &["INFO", "crdt"]).await;
        assert!(info.contains("geo_replication_healthy:0"), "{info}");
        assert!(p3["lag_ops"].parse::<u64>().unwrap() >= 21, "{p3:?}");
        assert!(p3["backlog_bytes"].parse::<u64>().unwrap() > 0, "{p3:?}");
        assert!(p3["pending_gc"].parse::<u64>().unwrap() >= 1, "{p3:?}");

        // The operator's view: `meridian group status` against region 1.
        let endpoint = g.regions[0].resp.to_string();
        let (st, out, err) = tokio::task::spawn_blocking(move || {
            run_to_end(
                &["group", "status", "--endpoint", &endpoint],
                Duration::from_secs(20),
            )
        })
        .await
        .expect("group status ran");
        assert!(st.success(), "group status failed: {out}\n{err}");
        assert!(
            out.starts_with(
                "region region-1.meridian (id 1): active, geo-replication healthy: NO, paused: no, members: 3"
            ),
            "{out}"
        );
        let row = |id: &str| -> Vec<String> {
            out.lines()
                .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                .find(|c| c.first().map(String::as_str) == Some(id))
                .unwrap_or_else(|| panic!("no row for peer {id}:\n{out}"))
        };
        let (r2, r3) = (row("2"), row("3"));
        assert_eq!(r2[2], "connected", "{out}");
        assert_ne!(r3[2], "connected", "{out}");
        assert!(
            r3[3].parse::<u64>().unwrap() >= 21,
            "lag_ops of peer 3: {out}"
        );
        assert!(
            r3[5].parse::<u64>().unwrap() > 0,
            "backlog_bytes of peer 3: {out}"
        );
        assert!(
            r3[6].parse::<u64>().unwrap() >= 1,
            "pending_gc of peer 3: {out}"
        );

        // Nobody there: a clear error, not a hang.
        let nowhere = format!("127.0.0.1:{}", free_tcp_port());
        let (st, _, err) = tokio::task::spawn_blocking(move || {
            run_to_end(
                &["group", "status", "--endpoint", &nowhere],
                Duration::from_secs(20),
            )
        })
        .await
        .expect("group status ran");
        assert!(!st.success());
        assert!(
            err.contains("cannot reach a Meridian node at 127.0.0.1:"),
            "{err}"
        );
    })
    .await
}
