//! The Prometheus endpoint: `GET /metrics` over plain HTTP/1.1 on its own listener, in the
//! text exposition format (version 0.0.4). It exports what `INFO` shows: memory, clients,
//! commands, keys, the CRDT section and, per peer region, link health, lag, backlog and the
//! garbage collection waiting for that peer.
//!
//! One request per connection (`Connection: close`); a request is read up to 8 KiB and
//! 5 seconds, anything else gets `404` or `400`. No HTTP crate: the surface is one route.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::node::Node;

/// Largest request head read.
const MAX_REQUEST: usize = 8 << 10;
/// Time a client gets to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves `/metrics` on `listener` until the task is dropped.
pub async fn serve(node: Node, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let node = node.clone();
                tokio::spawn(async move {
                    if let Err(e) = handle(node, stream).await {
                        tracing::debug!(error = %e, "metrics request failed");
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics endpoint: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn handle(node: Node, mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(512);
    let head = tokio::time::timeout(READ_TIMEOUT, async {
        let mut chunk = [0u8; 1024];
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                return Ok(Some(end));
            }
            if buf.len() >= MAX_REQUEST {
                return Ok(None);
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await;
    let head = match head {
        Ok(Ok(Some(end))) => &buf[..end],
        Ok(Err(e)) => return Err(e),
        // Timed out, too long or closed early: answer what we can.
        _ => {
            return respond(
                &mut stream,
                "400 Bad Request",
                "text/plain",
                "bad request\n",
            )
            .await
        }
    };
    let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    let path = target.split(|&b| b == b'?').next().unwrap_or_default();
    match (method, path) {
        (b"GET", b"/metrics") => {
            let body = render(&node).await;
            respond(
                &mut stream,
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                &body,
            )
            .await
        }
        (b"GET", _) => respond(&mut stream, "404 Not Found", "text/plain", "not found\n").await,
        _ => {
            respond(
                &mut stream,
                "405 Method Not Allowed",
                "text/plain",
                "only GET\n",
            )
            .await
        }
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// One metric family: help, type, samples.
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, v) in samples {
        let _ = writeln!(out, "{name}{labels} {v}");
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition text.
pub async fn render(node: &Node) -> String {
    let inner = &node.inner;
    let stats = node.shard_stats().await;
    let links = node.links().await;
    let h = node.replication_health(&links);
    let clients = inner.clients.lock().map(|c| c.len()).unwrap_or(0) as u64;
    let mut out = String::with_capacity(4096);
    let one = |v: u64| vec![(String::new(), v)];
    family(
        &mut out,
        "meridian_up",
        "gauge",
        "1 while the node serves.",
        &one(1),
    );
    family(
        &mut out,
        "meridian_region_info",
        "gauge",
        "This node's region (labels); always 1.",
        &[(
            format!(
                "{{region=\"{}\",name=\"{}\"}}",
                inner.cfg.region.0,
                label(&inner.cfg.name)
            ),
            1,
        )],
    );
    family(
        &mut out,
        "meridian_used_memory_bytes",
        "gauge",
        "Resident set size of the process.",
        &one(crate::proxy::admin::rss_bytes()),
    );
    family(
        &mut out,
        "meridian_connected_clients",
        "gauge",
        "Client connections open.",
        &one(clients),
    );
    family(
        &mut out,
        "meridian_commands_processed_total",
        "counter",
        "Commands processed.",
        &one(inner.stats.commands.load(Ordering::Relaxed)),
    );
    family(
        &mut out,
        "meridian_keys",
        "gauge",
        "Keys a client can see.",
        &one(stats.keys),
    );
    family(
        &mut out,
        "meridian_entries",
        "gauge",
        "Keyspace entries, including deleted keys' metadata waiting for collection.",
        &one(stats.entries),
    );
    family(
        &mut out,
        "meridian_expired_keys_total",
        "counter",
        "Keys deleted by their TTL in this region.",
        &one(stats.expired_keys),
    );
    family(
        &mut out,
        "meridian_geo_replication_healthy",
        "gauge",
        "1 when the region is in its group (or standalone), replication is not paused and every peer link is connected.",
        &one(h.healthy as u64),
    );
    family(
        &mut out,
        "meridian_group_members",
        "gauge",
        "Active members of the region's replication group, this region included.",
        &one(h.members as u64),
    );
    family(
        &mut out,
        "meridian_group_member",
        "gauge",
        "1 while this region is a member of its group (active or leaving it) or standalone; 0 once it was removed or force-unlinked.",
        &one(h.in_group as u64),
    );
    family(
        &mut out,
        "meridian_backlog_bytes",
        "gauge",
        "Replication log bytes held, all shards.",
        &one(stats.backlog_bytes),
    );
    family(
        &mut out,
        "meridian_pending_gc",
        "gauge",
        "Keys whose removal metadata waits for every region's acknowledgement.",
        &one(stats.gc_pending),
    );
    family(
        &mut out,
        "meridian_collected_gc_total",
        "counter",
        "Entries removed by garbage collection.",
        &one(stats.gc_collected),
    );
    family(
        &mut out,
        "meridian_collected_leftovers_total",
        "counter",
        "Collection ops made for conflict leftovers.",
        &one(stats.gc_leftover_ops),
    );
    family(
        &mut out,
        "meridian_full_syncs_installed_total",
        "counter",
        "Full snapshots from a peer installed as this region's state.",
        &one(node
            .inner
            .stats
            .full_syncs_installed
            .load(std::sync::atomic::Ordering::Relaxed)),
    );
    family(
        &mut out,
        "meridian_remote_ops_applied_total",
        "counter",
        "Ops from other regions applied.",
        &one(stats.remote_ops),
    );
    family(
        &mut out,
        "meridian_remote_ops_bad_total",
        "counter",
        "Ops from other regions that did not decode (skipped).",
        &one(stats.bad_remote_ops),
    );
    let per_peer = |f: &dyn Fn(&crate::node::LinkInfo) -> u64| -> Vec<(String, u64)> {
        links
            .iter()
            .map(|l| {
                (
                    format!("{{peer=\"{}\",name=\"{}\"}}", l.peer, label(&l.name)),
                    f(l),
                )
            })
            .collect()
    };
    family(
        &mut out,
        "meridian_link_up",
        "gauge",
        "1 when the link to the peer is connected.",
        &per_peer(&|l| (l.state == "connected") as u64),
    );
    family(
        &mut out,
        "meridian_link_needs_full_sync",
        "gauge",
        "1 when the peer needs ops this region's log no longer holds.",
        &per_peer(&|l| (l.state == "needs_full_sync") as u64),
    );
    family(
        &mut out,
        "meridian_link_lag_ops",
        "gauge",
        "Ops the peer has not acknowledged.",
        &per_peer(&|l| l.lag_ops),
    );
    family(
        &mut out,
        "meridian_link_lag_ms",
        "gauge",
        "Age of the oldest op the peer has not acknowledged.",
        &per_peer(&|l| l.lag_ms),
    );
    family(
        &mut out,
        "meridian_link_backlog_bytes",
        "gauge",
        "Replication log bytes held for the peer.",
        &per_peer(&|l| l.backlog_bytes),
    );
    family(
        &mut out,
        "meridian_link_pending_gc",
        "gauge",
        "Keys whose collection waits for the peer's acknowledgement.",
        &per_peer(&|l| stats.gc_waiting_on.get(&l.peer).copied().unwrap_or(0)),
    );
    family(
        &mut out,
        "meridian_link_received_ops_total",
        "counter",
        "Ops received from the peer and applied.",
        &per_peer(&|l| l.received_ops),
    );
    family(
        &mut out,
        "meridian_link_connects_total",
        "counter",
        "Connections established to the peer.",
        &per_peer(&|l| l.connects),
    );
    out
}
