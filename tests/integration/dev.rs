//! Tests against one `meridian dev` process serving 3 regions.

use std::collections::HashMap;

use redis::Value;

use crate::harness::{bounded, q, smembers, try_q, value_pairs, Group, CONVERGE_TIMEOUT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_in_one_region_is_read_in_the_others() {
    bounded(60, async {
        let g = Group::dev(3, 2).await;
        let mut c1 = g.conn(1).await;
        let ok: String = q(&mut c1, &["SET", "greeting", "hello"]).await;
        assert_eq!(ok, "OK");
        let added: i64 = q(&mut c1, &["SADD", "fruits", "apple", "pear", "fig"]).await;
        assert_eq!(added, 3);
        let n: i64 = q(&mut c1, &["INCRBY", "visits", "41"]).await;
        assert_eq!(n, 41);
        let n: i64 = q(&mut c1, &["INCR", "visits"]).await;
        assert_eq!(n, 42);

        g.wait_converged(CONVERGE_TIMEOUT).await;

        for r in g.ids() {
            let mut c = g.conn(r).await;
            let v: Option<String> = q(&mut c, &["GET", "greeting"]).await;
            assert_eq!(v.as_deref(), Some("hello"), "GET greeting in region {r}");
            assert_eq!(
                smembers(&mut c, "fruits").await,
                ["apple", "fig", "pear"],
                "SMEMBERS fruits in region {r}"
            );
            let v: String = q(&mut c, &["GET", "visits"]).await;
            assert_eq!(v, "42", "GET visits in region {r}");
            let t: String = q(&mut c, &["TYPE", "fruits"]).await;
            assert_eq!(t, "set", "TYPE fruits in region {r}");
        }

        // And back the other way: a write in region 3 reaches 1 and 2.
        let mut c3 = g.conn(3).await;
        let _: i64 = q(&mut c3, &["INCRBY", "visits", "8"]).await;
        let _: i64 = q(&mut c3, &["SREM", "fruits", "fig"]).await;
        let _: i64 = q(&mut c3, &["DEL", "greeting"]).await;
        g.wait_converged(CONVERGE_TIMEOUT).await;
        for r in g.ids() {
            let mut c = g.conn(r).await;
            let v: Option<String> = q(&mut c, &["GET", "greeting"]).await;
            assert_eq!(v, None, "GET greeting after DEL, region {r}");
            assert_eq!(
                smembers(&mut c, "fruits").await,
                ["apple", "pear"],
                "region {r}"
            );
            let v: String = q(&mut c, &["GET", "visits"]).await;
            assert_eq!(v, "50", "region {r}");
        }
    })
    .await
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::VerbatimString { text, .. } => text.clone(),
        Value::Int(i) => i.to_string(),
        Value::Okay => "OK".into(),
        other => format!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_serves_basic_client_commands() {
    bounded(60, async {
        let g = Group::dev(3, 2).await;
        for r in g.ids() {
            let mut c = g.conn(r).await;
            let pong: String = q(&mut c, &["PING"]).await;
            assert_eq!(pong, "PONG", "region {r}");
            let echo: String = q(&mut c, &["ECHO", "hi there"]).await;
            assert_eq!(echo, "hi there");

            let ok: String = q(&mut c, &["CLIENT", "SETNAME", "itest"]).await;
            assert_eq!(ok, "OK");
            let name: Option<String> = q(&mut c, &["CLIENT", "GETNAME"]).await;
            assert_eq!(
                name.as_deref(),
                Some("itest"),
                "CLIENT GETNAME in region {r}"
            );

            let count: i64 = q(&mut c, &["COMMAND", "COUNT"]).await;
            assert!(count > 0, "COMMAND COUNT = {count}");

            let cfg: Value = q(&mut c, &["CONFIG", "GET", "maxmemory"]).await;
            let pairs =
                value_pairs(&cfg).unwrap_or_else(|| panic!("CONFIG GET maxmemory: {cfg:?}"));
            assert!(
                pairs.iter().any(|(k, _)| k == "maxmemory"),
                "CONFIG GET maxmemory lacks maxmemory: {cfg:?}"
            );

            let before: i64 = q(&mut c, &["DBSIZE"]).await;
            let key = format!("dbsize-probe-{r}");
            let _: String = q(&mut c, &["SET", &key, "x"]).await;
            let after: i64 = q(&mut c, &["DBSIZE"]).await;
            assert!(
                after > before,
                "DBSIZE {before} → {after} after a SET in region {r}"
            );

            let info: String = q(&mut c, &["INFO"]).await;
            assert!(info.contains("# Server"), "INFO lacks # Server:\n{info}");
            assert!(
                info.contains("# Keyspace"),
                "INFO lacks # Keyspace:\n{info}"
            );
            let ks: String = q(&mut c, &["INFO", "keyspace"]).await;
            assert!(ks.contains("# Keyspace"), "INFO keyspace:\n{ks}");

            let ok: String = q(&mut c, &["SELECT", "0"]).await;
            assert_eq!(ok, "OK");
        }

        // HELLO 3 on its own connection: the reply is a map with proto = 3.
        let mut c = g.conn(1).await;
        let hello: Value = q(&mut c, &["HELLO", "3"]).await;
        let map: HashMap<String, String> = match &hello {
            Value::Map(pairs) => pairs.iter().map(|(k, v)| (text(k), text(v))).collect(),
            other => panic!("HELLO 3 did not return a RESP3 map: {other:?}"),
        };
        assert_eq!(
            map.get("proto").map(String::as_str),
            Some("3"),
            "HELLO 3 reply: {map:?}"
        );
        assert!(map.contains_key("server"), "HELLO 3 reply: {map:?}");
        // The connection still works in RESP3.
        let pong: String = q(&mut c, &["PING"]).await;
        assert_eq!(pong, "PONG");
        let v: Value = q(&mut c, &["CRDT.LINKS"]).await;
        let links = crate::harness::parse_links(&v).expect("CRDT.LINKS in RESP3");
        assert_eq!(links.len(), 2, "{links:?}");

        // HELLO 2 switches back; an unknown protocol version is refused.
        let hello2: Value = q(&mut c, &["HELLO", "2"]).await;
        let pairs = value_pairs(&hello2).expect("HELLO 2 reply is a flat array of pairs");
        assert!(
            pairs.iter().any(|(k, v)| k == "proto" && text(v) == "2"),
            "{hello2:?}"
        );
        let e = try_q::<Value>(&mut c, &["HELLO", "4"])
            .await
            .expect_err("HELLO 4 must fail");
        assert!(e.to_string().contains("NOPROTO"), "HELLO 4 error: {e}");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn string_and_key_commands_replicate_with_their_options() {
    bounded(60, async {
        let g = Group::dev(3, 2).await;
        let mut c = g.conn(2).await;
        // SET options.
        let _: String = q(&mut c, &["SET", "ex", "1", "EX", "1000"]).await;
        let _: String = q(&mut c, &["SET", "px", "1", "PX", "900000"]).await;
        let nx: Option<String> = q(&mut c, &["SET", "ex", "2", "NX"]).await;
        assert_eq!(nx, None, "SET NX on an existing key");
        let xx: Option<String> = q(&mut c, &["SET", "absent", "2", "XX"]).await;
        assert_eq!(xx, None, "SET XX on a missing key");
        let old: Option<String> = q(&mut c, &["SET", "ex", "3", "KEEPTTL", "GET"]).await;
        assert_eq!(old.as_deref(), Some("1"), "SET … GET returns the old value");
        let _: i64 = q(&mut c, &["SETNX", "snx", "a"]).await;
        let old: Option<String> = q(&mut c, &["GETSET", "snx", "b"]).await;
        assert_eq!(old.as_deref(), Some("a"));
        let _: String = q(&mut c, &["MSET", "{m}1", "x", "{m}2", "y"]).await;
        let len: i64 = q(&mut c, &["APPEND", "{m}1", "yz"]).await;
        assert_eq!(len, 3);
        let _: String = q(&mut c, &["SET", "gone", "soon"]).await;
        let v: Option<String> = q(&mut c, &["GETDEL", "gone"]).await;
        assert_eq!(v.as_deref(), Some("soon"));
        let f: String = q(&mut c, &["INCRBYFLOAT", "fl", "1.5"]).await;
        assert_eq!(f, "1.5");
        let _: String = q(&mut c, &["SET", "per", "p", "EX", "100"]).await;
        let p: i64 = q(&mut c, &["PERSIST", "per"]).await;
        assert_eq!(p, 1);
        let _: i64 = q(&mut c, &["DECRBY", "dc", "4"]).await;
        let _: i64 = q(&mut c, &["DECR", "dc"]).await;

        g.wait_converged(CONVERGE_TIMEOUT).await;
        for r in g.ids() {
            let mut c = g.conn(r).await;
            let v: String = q(&mut c, &["GET", "ex"]).await;
            assert_eq!(v, "3", "region {r}");
            let ttl: i64 = q(&mut c, &["TTL", "ex"]).await;
            assert!(
                (900..=1000).contains(&ttl),
                "region {r}: SET … KEEPTTL kept the TTL, got {ttl}"
            );
            let pttl: i64 = q(&mut c, &["PTTL", "px"]).await;
            assert!(
                (800_000..=900_000).contains(&pttl),
                "region {r}: PTTL px = {pttl}"
            );
            let n: i64 = q(&mut c, &["EXISTS", "absent", "gone", "ex", "px"]).await;
            assert_eq!(n, 2, "region {r}: EXISTS");
            let v: String = q(&mut c, &["GET", "snx"]).await;
            assert_eq!(v, "b", "region {r}");
            let m: Vec<Option<String>> = q(&mut c, &["MGET", "{m}1", "{m}2", "absent"]).await;
            assert_eq!(
                m,
                [Some("xyz".to_string()), Some("y".to_string()), None],
                "region {r}"
            );
            let l: i64 = q(&mut c, &["STRLEN", "{m}1"]).await;
            assert_eq!(l, 3, "region {r}");
            let f: String = q(&mut c, &["GET", "fl"]).await;
            assert_eq!(f, "1.5", "region {r}");
            let ttl: i64 = q(&mut c, &["TTL", "per"]).await;
            assert_eq!(ttl, -1, "region {r}: PERSIST replicated");
            let dc: i64 = q(&mut c, &["GET", "dc"]).await;
            assert_eq!(dc, -5, "region {r}");
            let ttl: i64 = q(&mut c, &["TTL", "absent"]).await;
            assert_eq!(ttl, -2, "region {r}: TTL of a missing key");
            let mut keys: Vec<String> = q(&mut c, &["KEYS", "*"]).await;
            keys.sort();
            assert_eq!(
                keys,
                ["dc", "ex", "fl", "per", "px", "snx", "{m}1", "{m}2"],
                "region {r}: KEYS *"
            );
            let t: String = q(&mut c, &["TYPE", "absent"]).await;
            assert_eq!(t, "none");
        }
        // Multi-key writes across slots are refused.
        let e = try_q::<Value>(&mut c, &["MSET", "a", "1", "b", "2"])
            .await
            .expect_err("MSET across slots");
        assert_eq!(e.code(), Some("CROSSSLOT"), "{e}");
    })
    .await
}

/// Ctrl-C (SIGINT) stops a running group cleanly: exit status 0, within a few seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_stops_cleanly_on_ctrl_c() {
    bounded(30, async {
        let base = crate::harness::free_dev_base(3);
        let mut child = std::process::Command::new(crate::harness::BIN)
            .args(["dev", "--base-port", &base.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start meridian dev");
        let url = format!("redis://127.0.0.1:{}", base + 2);
        let client = redis::Client::open(url).expect("url");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while client.get_multiplexed_async_connection().await.is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "dev group did not start"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let status = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill -INT");
        assert!(status.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(8);
        let exit = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("meridian dev did not exit within 8 s of SIGINT");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert!(exit.success(), "exit status {exit:?}");
    })
    .await;
}
