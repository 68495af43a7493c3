//! Single-region behaviour against Debian's `redis-server`: the same command script runs on
//! both, and every reply (values and error texts) must be the same.
//!
//! Deliberate differences are left out of the script and pinned elsewhere: multi-key writes
//! across slots get CROSSSLOT (the spec), SELECT of a database other than 0 is refused (one
//! keyspace per region), and INCRBYFLOAT computes in f64 where Redis uses long double, so
//! results that need more than 15 significant digits print differently.

use std::process::Command;
use std::time::{Duration, Instant};

use redis::Value;

use crate::harness::{bounded, free_tcp_port, Group, Proc};

/// The script: one command per line, arguments split on spaces.
const SCRIPT: &str = "
SET k v
GET k
SET k v2 NX
SET k v3 XX GET
SET k v EX 0
SET k v EX -1
SET k v PX 100 EX 10
SET k v KEEPTTL EX 10
SET k v NX XX
SET k v BADOPT
GETSET k new
GETDEL k
GETDEL k
APPEND k abc
APPEND k def
STRLEN k
STRLEN nokey
INCR k
SET n 10
INCR n
INCRBY n -5
DECR n
DECRBY n 3
INCRBY n abc
INCRBY n 1.5
INCRBYFLOAT n 1.5
INCRBYFLOAT n abc
INCR n
SET big 9223372036854775807
INCR big
DECRBY big -1
SET small -9223372036854775808
DECR small
SET f 3.0
INCRBYFLOAT f 0.5
INCRBYFLOAT f -1
SET sp 1
INCRBYFLOAT sp 2
SETNX k x
SETNX newk x
MSET a 1
MSET a
MSET {t}a 1 {t}b 2
MGET {t}a nokey k {t}b
SADD s a b c a
SADD s d
SREM s a x
SCARD s
SISMEMBER s b
SISMEMBER s z
SMEMBERS nokey
SCARD nokey
SREM nokey a
GET s
SADD k m
INCR s
APPEND s x
STRLEN s
SET s v GET
TYPE s
TYPE k
TYPE nokey
EXISTS s k nokey s
DEL {t}a {t}b {t}c
DEL s
UNLINK newk
EXPIRE n 100
TTL n
TTL nokey
PTTL nokey
TTL k
PERSIST n
PERSIST n
PERSIST nokey
EXPIRE n 100 NX
EXPIRE n 200 NX
EXPIRE n 50 GT
EXPIRE n 300 GT
EXPIRE n 10 LT
TTL n
EXPIRE n 10 NX XX
EXPIRE n abc
EXPIRE nokey 10
EXPIRE n -1
EXISTS n
PEXPIRE k 100000
SET k v PX 9223372036854775807
TTL k
TTL k
SET k v
TTL k
SETEX k 0 v
SETEX k 100 v
TTL k
PSETEX k -5 v
SELECT 0
SELECT x
ECHO hi
PING
PING a
PING a b
CLIENT SETNAME with space
CLIENT GETNAME
CLIENT SETNAME myname
CLIENT GETNAME
GET
SET k
SMEMBERS
FOO bar baz
CONFIG GET maxmemory
DBSIZE
";

async fn reply(c: &mut redis::aio::MultiplexedConnection, args: &[&str]) -> String {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query_async::<Value>(c).await {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("error {:?} {:?}", e.code(), e.detail()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_region_replies_match_redis_server() {
    bounded(60, async {
        let dir = tempfile::TempDir::new().expect("tempdir");
        let port = free_tcp_port();
        let mut cmd = Command::new("redis-server");
        cmd.args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
            "--bind",
            "127.0.0.1",
        ]);
        let _redis = Proc::spawn("redis-server", cmd, dir.path().join("redis.log"));
        let group = Group::dev(1, 2).await;
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).expect("redis url");
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut theirs = loop {
            match client.get_multiplexed_async_connection().await {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => {
                    panic!("redis-server did not start (is Debian's redis-server installed?): {e}")
                }
            }
        };
        let mut ours = group.conn(1).await;
        let mut diffs = Vec::new();
        for line in SCRIPT.lines().filter(|l| !l.trim().is_empty()) {
            let args: Vec<&str> = line.split(' ').collect();
            let (a, b) = (
                reply(&mut theirs, &args).await,
                reply(&mut ours, &args).await,
            );
            if a != b {
                diffs.push(format!("{line}\n  redis-server: {a}\n  meridian:     {b}"));
            }
        }
        assert!(
            diffs.is_empty(),
            "{} replies differ:\n{}",
            diffs.len(),
            diffs.join("\n")
        );
    })
    .await;
}
