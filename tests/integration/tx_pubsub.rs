//! Transactions (MULTI/EXEC/DISCARD/WATCH) and Pub/Sub, end to end: WATCH sees writes made
//! by other clients and by other regions, PUBLISH reaches subscribers in every linked region,
//! RESP3 subscribers get push frames from a real client library.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, PushKind, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{bounded, q, try_q, Group, CONVERGE_TIMEOUT};

async fn exec(c: &mut MultiplexedConnection) -> Value {
    q(c, &["EXEC"]).await
}

/// Waits until `GET key` in `c` reads `want` (a write from another region arrived).
async fn wait_for(c: &mut MultiplexedConnection, key: &str, want: &str) {
    let deadline = tokio::time::Instant::now() + CONVERGE_TIMEOUT;
    loop {
        let v: Option<String> = q(c, &["GET", key]).await;
        if v.as_deref() == Some(want) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{key} never became {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_runs_the_queued_commands_and_discard_drops_them() {
    bounded(60, async {
        let g = Group::dev(1, 2).await;
        let mut c = g.conn(1).await;
        // A real client's atomic pipeline: MULTI ... EXEC in one write.
        let (a, n, l): (String, i64, Vec<String>) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg("{u}a")
            .arg("1")
            .cmd("INCRBY")
            .arg("{u}n")
            .arg(5)
            .ignore()
            .cmd("INCR")
            .arg("{u}n")
            .cmd("GET")
            .arg("{u}a")
            .cmd("RPUSH")
            .arg("{u}l")
            .arg("x")
            .ignore()
            .cmd("LRANGE")
            .arg("{u}l")
            .arg(0)
            .arg(-1)
            .query_async::<(String, i64, String, Vec<String>)>(&mut c)
            .await
            .map(|(_, n, a, l)| (a, n, l))
            .expect("atomic pipeline");
        assert_eq!((a.as_str(), n, l), ("1", 6, vec!["x".to_string()]));

        let _: () = q(&mut c, &["MULTI"]).await;
        let queued: String = q(&mut c, &["SET", "{u}a", "2"]).await;
        assert_eq!(queued, "QUEUED");
        let _: () = q(&mut c, &["DISCARD"]).await;
        let a: String = q(&mut c, &["GET", "{u}a"]).await;
        assert_eq!(a, "1", "DISCARD dropped the queued SET");

        // A queue-time error aborts the whole transaction.
        let _: () = q(&mut c, &["MULTI"]).await;
        let _: String = q(&mut c, &["SET", "{u}a", "3"]).await;
        let e = try_q::<String>(&mut c, &["SET", "other", "3"])
            .await
            .expect_err("a key in another slot is refused");
        assert_eq!(e.code(), Some("CROSSSLOT"));
        let e = try_q::<Value>(&mut c, &["EXEC"])
            .await
            .expect_err("EXECABORT");
        assert_eq!(e.code(), Some("EXECABORT"));
        let a: String = q(&mut c, &["GET", "{u}a"]).await;
        assert_eq!(a, "1", "nothing of an aborted transaction ran");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_aborts_exec_when_another_client_or_a_ttl_touches_the_key() {
    bounded(60, async {
        let g = Group::dev(1, 2).await;
        let mut c = g.conn(1).await;
        let mut other = g.conn(1).await;
        let _: () = q(&mut c, &["SET", "k", "0"]).await;

        let _: () = q(&mut c, &["WATCH", "k"]).await;
        let _: () = q(&mut other, &["INCR", "k"]).await;
        let _: () = q(&mut c, &["MULTI"]).await;
        let _: String = q(&mut c, &["SET", "k", "mine"]).await;
        assert_eq!(exec(&mut c).await, Value::Nil, "another client wrote k");
        let v: String = q(&mut c, &["GET", "k"]).await;
        assert_eq!(v, "1");

        // Untouched: runs. Watching an unrelated key changed elsewhere does not matter.
        let _: () = q(&mut c, &["WATCH", "k"]).await;
        let _: () = q(&mut other, &["SET", "unrelated", "x"]).await;
        let _: () = q(&mut c, &["MULTI"]).await;
        let _: String = q(&mut c, &["SET", "k", "mine"]).await;
        assert_eq!(
            exec(&mut c).await,
            Value::Array(vec![Value::Okay]),
            "nothing touched k"
        );

        // A watched key whose TTL runs out before EXEC counts as changed.
        let _: () = q(&mut c, &["SET", "t", "v", "PX", "150"]).await;
        let _: () = q(&mut c, &["WATCH", "t"]).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _: () = q(&mut c, &["MULTI"]).await;
        let _: String = q(&mut c, &["SET", "t", "again"]).await;
        assert_eq!(exec(&mut c).await, Value::Nil, "t expired while watched");

        // UNWATCH forgets.
        let _: () = q(&mut c, &["WATCH", "k"]).await;
        let _: () = q(&mut other, &["SET", "k", "theirs"]).await;
        let _: () = q(&mut c, &["UNWATCH"]).await;
        let _: () = q(&mut c, &["MULTI"]).await;
        let _: String = q(&mut c, &["GET", "k"]).await;
        assert_eq!(
            exec(&mut c).await,
            Value::Array(vec![Value::BulkString(b"theirs".to_vec())])
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_aborts_exec_when_another_region_writes_the_key() {
    bounded(90, async {
        let g = Group::dev(3, 2).await;
        let mut cs = g.conns().await;
        let _: () = q(&mut cs[0], &["SET", "acct", "100"]).await;
        g.wait_converged(CONVERGE_TIMEOUT).await;

        let _: () = q(&mut cs[0], &["WATCH", "acct"]).await;
        let _: i64 = q(&mut cs[2], &["INCRBY", "acct", "-30"]).await;
        wait_for(&mut cs[0], "acct", "70").await;
        let _: () = q(&mut cs[0], &["MULTI"]).await;
        let _: String = q(&mut cs[0], &["SET", "acct", "0"]).await;
        assert_eq!(
            exec(&mut cs[0]).await,
            Value::Nil,
            "region 3's write reached region 1 after WATCH"
        );
        g.wait_converged(CONVERGE_TIMEOUT).await;
        for (i, c) in cs.iter_mut().enumerate() {
            let v: String = q(c, &["GET", "acct"]).await;
            assert_eq!(v, "70", "region {}", i + 1);
        }

        // The check-and-set succeeds when nothing changed, and replicates.
        let _: () = q(&mut cs[0], &["WATCH", "acct"]).await;
        let v: i64 = q(&mut cs[0], &["GET", "acct"]).await;
        let _: () = q(&mut cs[0], &["MULTI"]).await;
        let _: String = q(&mut cs[0], &["SET", "acct", &(v - 20).to_string()]).await;
        assert_eq!(exec(&mut cs[0]).await, Value::Array(vec![Value::Okay]));
        wait_for(&mut cs[1], "acct", "50").await;
    })
    .await
}

/// A PUBLISH in one region reaches channel and pattern subscribers in every region; its
/// reply counts the local ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_is_delivered_in_every_linked_region() {
    bounded(90, async {
        let g = Group::dev(3, 2).await;
        let mut subs = Vec::new();
        for r in g.ids() {
            let client = redis::Client::open(format!("redis://{}", g.resp_addr(r))).unwrap();
            let mut ps = client.get_async_pubsub().await.expect("pubsub connection");
            ps.subscribe("orders").await.expect("SUBSCRIBE");
            ps.psubscribe("ord*").await.expect("PSUBSCRIBE");
            subs.push(ps);
        }
        let mut c = g.conn(2).await;
        let n: i64 = q(&mut c, &["PUBLISH", "orders", "o-1"]).await;
        assert_eq!(n, 2, "region 2's own channel and pattern subscriber");
        let numsub: (String, i64) = q(&mut c, &["PUBSUB", "NUMSUB", "orders"]).await;
        assert_eq!(numsub, ("orders".to_string(), 1));
        let numpat: i64 = q(&mut c, &["PUBSUB", "NUMPAT"]).await;
        assert_eq!(numpat, 1);
        for (i, ps) in subs.iter_mut().enumerate() {
            let mut got = Vec::new();
            let mut stream = ps.on_message();
            for _ in 0..2 {
                let m = tokio::time::timeout(CONVERGE_TIMEOUT, stream.next())
                    .await
                    .unwrap_or_else(|_| panic!("region {}: no message", i + 1))
                    .expect("stream open");
                let pattern: Option<String> = m.get_pattern().ok();
                got.push((
                    m.get_channel_name().to_string(),
                    m.get_payload::<String>().unwrap(),
                    pattern,
                ));
            }
            got.sort();
            assert_eq!(
                got,
                vec![
                    ("orders".into(), "o-1".into(), None),
                    ("orders".into(), "o-1".into(), Some("ord*".into())),
                ],
                "region {}",
                i + 1
            );
        }
        // Nothing else arrives (each region delivers the message once per subscription).
        for ps in subs.iter_mut() {
            let extra =
                tokio::time::timeout(Duration::from_millis(300), ps.on_message().next()).await;
            assert!(extra.is_err(), "a message was delivered twice");
        }
    })
    .await
}

/// A RESP3 client gets messages as push frames on the same connection it runs commands on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resp3_subscriber_gets_push_frames_and_keeps_running_commands() {
    bounded(60, async {
        let g = Group::dev(2, 2).await;
        let client =
            redis::Client::open(format!("redis://{}/?protocol=resp3", g.resp_addr(1))).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let cfg = AsyncConnectionConfig::new().set_push_sender(tx);
        let mut c = client
            .get_multiplexed_async_connection_with_config(&cfg)
            .await
            .expect("RESP3 connection");
        c.subscribe("alerts").await.expect("SUBSCRIBE");
        let _: () = q(&mut c, &["SET", "x", "1"]).await;
        let x: String = q(&mut c, &["GET", "x"]).await;
        assert_eq!(x, "1", "a RESP3 subscriber runs commands");
        let mut other = g.conn(2).await;
        let _: i64 = q(&mut other, &["PUBLISH", "alerts", "disk full"]).await;
        let deadline = tokio::time::Instant::now() + CONVERGE_TIMEOUT;
        loop {
            let p = tokio::time::timeout_at(deadline, rx.recv())
                .await
                .expect("no push message")
                .expect("push channel open");
            if p.kind == PushKind::Message {
                assert_eq!(
                    p.data,
                    vec![
                        Value::BulkString(b"alerts".to_vec()),
                        Value::BulkString(b"disk full".to_vec())
                    ]
                );
                break;
            }
        }
    })
    .await
}

/// Raw RESP2 exchange: sends `cmds` and reads until `until` has been seen.
async fn raw(addr: SocketAddr, cmds: &[&[&str]], until: &str) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let mut req = Vec::new();
    for c in cmds {
        req.extend_from_slice(format!("*{}\r\n", c.len()).as_bytes());
        for a in *c {
            req.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }
    s.write_all(&req).await.expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains(until) {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("timed out; got {:?}", String::from_utf8_lossy(&got)))
            .expect("read");
        assert!(n > 0, "closed; got {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// RESP2 subscribed mode: only (un)subscribe, PING, QUIT and RESET, with Redis's replies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resp2_subscribed_mode_allows_only_pubsub_commands() {
    bounded(60, async {
        let g = Group::dev(1, 2).await;
        let out = raw(
            g.resp_addr(1),
            &[
                &["SUBSCRIBE", "a", "b"],
                &["GET", "x"],
                &["PING"],
                &["UNSUBSCRIBE"],
                &["GET", "x"],
            ],
            "$-1\r\n",
        )
        .await;
        assert_eq!(
            out,
            "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n\
             -ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n\
             *2\r\n$4\r\npong\r\n$0\r\n\r\n\
             *3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n\
             $-1\r\n"
        );
    })
    .await
}
