//! Parser tests: examples of every command and every error text, checked
//! against redis-server 7.0.15 replies.

use bytes::Bytes;

use super::*;

fn p(line: &str) -> Result<Command, CmdError> {
    let args = line
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect();
    Command::parse(args)
}

fn ok(line: &str) -> Command {
    match p(line) {
        Ok(c) => c,
        Err(e) => panic!("{line:?} failed: {}", e.text()),
    }
}

fn err(line: &str) -> String {
    match p(line) {
        Ok(c) => panic!("{line:?} parsed as {c:?}"),
        Err(e) => e.text().to_string(),
    }
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[test]
fn unknown_command_text() {
    assert_eq!(
        err("foo a b"),
        "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
    );
    assert_eq!(
        err("FOO"),
        "ERR unknown command 'FOO', with args beginning with: "
    );
    assert_eq!(
        Command::parse(vec![Bytes::new()]).map_err(|e| e.text().to_string()),
        Err("ERR unknown command '', with args beginning with: ".to_string())
    );
    // "client|setname" is not a top-level command name.
    assert!(err("client|setname x").starts_with("ERR unknown command 'client|setname'"));
    // Redis stops adding args once 128 bytes are listed, and truncates.
    let long = "x".repeat(200);
    let e = err(&format!("nope {long} y"));
    assert_eq!(
        e,
        format!(
            "ERR unknown command 'nope', with args beginning with: '{}' ",
            "x".repeat(128)
        )
    );
    // Room left in the 128-byte budget truncates the next argument.
    let e = err(&format!("nope {} {} c", "a".repeat(120), "b".repeat(22)));
    assert_eq!(
        e,
        format!(
            "ERR unknown command 'nope', with args beginning with: '{}' 'bbbbb' ",
            "a".repeat(120)
        )
    );
    let e = Command::parse(vec![b("nope"), b("a\r\nb")]).map_err(|e| e.text().to_string());
    assert_eq!(
        e,
        Err("ERR unknown command 'nope', with args beginning with: 'a  b' ".to_string())
    );
}

#[test]
fn arity_errors() {
    assert_eq!(
        err("get"),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        err("GET a b"),
        "ERR wrong number of arguments for 'get' command"
    );
    assert_eq!(
        err("set k"),
        "ERR wrong number of arguments for 'set' command"
    );
    assert_eq!(
        err("mset a"),
        "ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(
        err("mset a b c"),
        "ERR wrong number of arguments for 'mset' command"
    );
    assert_eq!(
        err("ping a b"),
        "ERR wrong number of arguments for 'ping' command"
    );
    assert_eq!(
        err("client setname"),
        "ERR wrong number of arguments for 'client|setname' command"
    );
    assert_eq!(
        err("client"),
        "ERR wrong number of arguments for 'client' command"
    );
    assert_eq!(
        err("config set a"),
        "ERR wrong number of arguments for 'config|set' command"
    );
    assert_eq!(
        err("config set a b c"),
        "ERR wrong number of arguments for 'config|set' command"
    );
    assert_eq!(
        err("command count x"),
        "ERR wrong number of arguments for 'command|count' command"
    );
}

#[test]
fn unknown_subcommand() {
    assert_eq!(
        err("client foo"),
        "ERR unknown subcommand 'foo'. Try CLIENT HELP."
    );
    assert_eq!(
        err("Config nope"),
        "ERR unknown subcommand 'nope'. Try CONFIG HELP."
    );
    assert_eq!(
        err("command x"),
        "ERR unknown subcommand 'x'. Try COMMAND HELP."
    );
}

#[test]
fn connection_commands() {
    assert_eq!(ok("PING"), Command::Ping(None));
    assert_eq!(ok("ping hi"), Command::Ping(Some(b("hi"))));
    assert_eq!(ok("echo x"), Command::Echo(b("x")));
    assert_eq!(
        ok("hello"),
        Command::Hello {
            protover: None,
            auth: None,
            setname: None
        }
    );
    assert_eq!(
        ok("HELLO 3 auth u p SETNAME n"),
        Command::Hello {
            protover: Some(3),
            auth: Some((b("u"), b("p"))),
            setname: Some(b("n"))
        }
    );
    assert_eq!(
        err("hello abc"),
        "ERR Protocol version is not an integer or out of range"
    );
    assert_eq!(err("hello 4"), "NOPROTO unsupported protocol version");
    assert_eq!(err("hello 1"), "NOPROTO unsupported protocol version");
    assert_eq!(err("hello 3 foo"), "ERR Syntax error in HELLO option 'foo'");
    assert_eq!(
        err("hello 3 auth a"),
        "ERR Syntax error in HELLO option 'auth'"
    );
    assert_eq!(
        err("hello 3 setname"),
        "ERR Syntax error in HELLO option 'setname'"
    );
    assert_eq!(
        ok("auth pw"),
        Command::Auth {
            username: None,
            password: b("pw")
        }
    );
    assert_eq!(
        ok("auth u pw"),
        Command::Auth {
            username: Some(b("u")),
            password: b("pw")
        }
    );
    assert_eq!(err("auth a b c"), "ERR syntax error");
    assert_eq!(ok("quit"), Command::Quit);
    assert_eq!(ok("reset"), Command::Reset);
    assert_eq!(ok("select 0"), Command::Select(b("0")));
    assert_eq!(ok("client setname n"), Command::ClientSetName(b("n")));
    assert_eq!(ok("CLIENT GETNAME"), Command::ClientGetName);
    assert_eq!(ok("client id"), Command::ClientId);
    assert_eq!(ok("client list"), Command::ClientList);
    assert_eq!(ok("client info"), Command::ClientInfo);
    assert_eq!(ok("client help"), Command::ClientHelp);
    assert_eq!(ok("client no-evict ON"), Command::ClientNoEvict(true));
    assert_eq!(ok("client no-touch off"), Command::ClientNoTouch(false));
    assert_eq!(err("client no-evict maybe"), "ERR syntax error");
    assert_eq!(
        ok("client setinfo LIB-NAME redis-py"),
        Command::ClientSetInfo {
            attr: b("LIB-NAME"),
            value: b("redis-py")
        }
    );
    assert_eq!(err("client setinfo foo x"), "ERR Unrecognized option 'foo'");
}

#[test]
fn server_commands() {
    assert_eq!(ok("command"), Command::Command);
    assert_eq!(ok("command count"), Command::CommandCount);
    assert_eq!(ok("command docs"), Command::CommandDocs(vec![]));
    assert_eq!(
        ok("command docs get set"),
        Command::CommandDocs(vec![b("get"), b("set")])
    );
    assert_eq!(ok("command info get"), Command::CommandInfo(vec![b("get")]));
    assert_eq!(ok("command list"), Command::CommandList);
    assert_eq!(err("command list x"), "ERR syntax error");
    assert_eq!(ok("command help"), Command::CommandHelp);
    assert_eq!(
        ok("config get a b"),
        Command::ConfigGet(vec![b("a"), b("b")])
    );
    assert_eq!(
        ok("config set a 1 b 2"),
        Command::ConfigSet(vec![(b("a"), b("1")), (b("b"), b("2"))])
    );
    assert_eq!(ok("config resetstat"), Command::ConfigResetStat);
    assert_eq!(ok("config help"), Command::ConfigHelp);
    assert_eq!(ok("info"), Command::Info(vec![]));
    assert_eq!(ok("info server"), Command::Info(vec![b("server")]));
    assert_eq!(ok("dbsize"), Command::Dbsize);
    assert_eq!(ok("flushall"), Command::FlushAll);
    assert_eq!(ok("flushall ASYNC"), Command::FlushAll);
    assert_eq!(ok("flushdb sync"), Command::FlushDb);
    assert_eq!(err("flushall foo"), "ERR syntax error");
    assert_eq!(ok("time"), Command::Time);
    assert_eq!(ok("keys *"), Command::Keys(b("*")));
    assert_eq!(
        ok("scan 0"),
        Command::Scan {
            cursor: 0,
            pattern: None,
            count: 10,
            kind: None
        }
    );
    assert_eq!(
        ok("scan 18446744073709551615 MATCH a* count 100 type string"),
        Command::Scan {
            cursor: u64::MAX,
            pattern: Some(b("a*")),
            count: 100,
            kind: Some(b("string"))
        }
    );
    assert_eq!(err("scan abc"), "ERR invalid cursor");
    assert_eq!(err("scan 18446744073709551616"), "ERR invalid cursor");
    assert_eq!(err("scan 0 count 0"), "ERR syntax error");
    assert_eq!(err("scan 0 count -1"), "ERR syntax error");
    assert_eq!(
        err("scan 0 count abc"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(err("scan 0 match"), "ERR syntax error");
    assert_eq!(err("scan 0 foo bar"), "ERR syntax error");
    assert_eq!(ok("crdt.links"), Command::CrdtLinks);
    assert_eq!(ok("CRDT.PAUSE"), Command::CrdtPause);
    assert_eq!(ok("crdt.resume"), Command::CrdtResume);
    assert_eq!(ok("crdt.digest"), Command::CrdtDigest);
    assert_eq!(
        ok("crdt.group add 4 eu 127.0.0.1:1"),
        Command::CrdtGroup(vec![
            Bytes::from_static(b"add"),
            Bytes::from_static(b"4"),
            Bytes::from_static(b"eu"),
            Bytes::from_static(b"127.0.0.1:1"),
        ])
    );
    assert_eq!(
        err("crdt.links x"),
        "ERR wrong number of arguments for 'crdt.links' command"
    );
}

fn set(line: &str) -> (Option<SetExpiry>, Option<SetCond>, bool, bool) {
    match ok(line) {
        Command::Set {
            expiry,
            cond,
            get,
            keepttl,
            ..
        } => (expiry, cond, get, keepttl),
        c => panic!("not a set: {c:?}"),
    }
}

#[test]
fn set_options() {
    assert_eq!(
        ok("SET k v"),
        Command::Set {
            key: b("k"),
            value: b("v"),
            expiry: None,
            cond: None,
            get: false,
            keepttl: false
        }
    );
    assert_eq!(
        set("set k v ex 10 nx get"),
        (
            Some(SetExpiry::RelMs(10_000)),
            Some(SetCond::Nx),
            true,
            false
        )
    );
    assert_eq!(
        set("set k v PX 5 xx"),
        (Some(SetExpiry::RelMs(5)), Some(SetCond::Xx), false, false)
    );
    assert_eq!(
        set("set k v exat 7"),
        (Some(SetExpiry::AtMs(7000)), None, false, false)
    );
    assert_eq!(
        set("set k v pxat 7"),
        (Some(SetExpiry::AtMs(7)), None, false, false)
    );
    assert_eq!(set("set k v keepttl"), (None, None, false, true));
    // Repeating the same option is allowed by Redis (last wins).
    assert_eq!(
        set("set k v ex 10 ex 20"),
        (Some(SetExpiry::RelMs(20_000)), None, false, false)
    );
    assert_eq!(
        set("set k v nx nx"),
        (None, Some(SetCond::Nx), false, false)
    );
    for bad in [
        "set k v nx xx",
        "set k v xx nx",
        "set k v ex 10 px 10",
        "set k v px 10 ex 10",
        "set k v exat 1 pxat 1",
        "set k v keepttl ex 10",
        "set k v ex 10 keepttl",
        "set k v ex",
        "set k v foo",
    ] {
        assert_eq!(err(bad), "ERR syntax error", "{bad}");
    }
    assert_eq!(
        err("set k v ex 0"),
        "ERR invalid expire time in 'set' command"
    );
    assert_eq!(
        err("set k v px -5"),
        "ERR invalid expire time in 'set' command"
    );
    assert_eq!(
        err("set k v ex 9223372036854775807"),
        "ERR invalid expire time in 'set' command"
    );
    assert_eq!(
        err("set k v ex abc"),
        "ERR value is not an integer or out of range"
    );
    // Option syntax is checked before the expire value.
    assert_eq!(err("set k v ex abc foo"), "ERR syntax error");
}

#[test]
fn string_commands() {
    assert_eq!(ok("get k"), Command::Get(b("k")));
    assert_eq!(ok("mget a b"), Command::MGet(vec![b("a"), b("b")]));
    assert_eq!(
        ok("mset a 1 b 2"),
        Command::MSet(vec![(b("a"), b("1")), (b("b"), b("2"))])
    );
    assert_eq!(
        ok("setnx k v"),
        Command::SetNx {
            key: b("k"),
            value: b("v")
        }
    );
    assert_eq!(
        ok("getset k v"),
        Command::GetSet {
            key: b("k"),
            value: b("v")
        }
    );
    assert_eq!(ok("getdel k"), Command::GetDel(b("k")));
    assert_eq!(
        ok("append k v"),
        Command::Append {
            key: b("k"),
            value: b("v")
        }
    );
    assert_eq!(ok("strlen k"), Command::Strlen(b("k")));
    assert_eq!(ok("incr k"), Command::IncrBy { key: b("k"), by: 1 });
    assert_eq!(
        ok("decr k"),
        Command::IncrBy {
            key: b("k"),
            by: -1
        }
    );
    assert_eq!(
        ok("incrby k -5"),
        Command::IncrBy {
            key: b("k"),
            by: -5
        }
    );
    assert_eq!(
        ok("decrby k 5"),
        Command::IncrBy {
            key: b("k"),
            by: -5
        }
    );
    assert_eq!(
        ok("decrby k 9223372036854775807"),
        Command::IncrBy {
            key: b("k"),
            by: -i64::MAX
        }
    );
    assert_eq!(
        err("decrby k -9223372036854775808"),
        "ERR decrement would overflow"
    );
    assert_eq!(
        err("incrby k 1.5"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err("incrby k +1"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err("incrby k 9223372036854775808"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        ok("incrbyfloat k 1.5"),
        Command::IncrByFloat {
            key: b("k"),
            by: 1.5
        }
    );
    assert_eq!(
        ok("incrbyfloat k -2e3"),
        Command::IncrByFloat {
            key: b("k"),
            by: -2000.0
        }
    );
    assert_eq!(err("incrbyfloat k abc"), "ERR value is not a valid float");
    assert_eq!(err("incrbyfloat k nan"), "ERR value is not a valid float");
    assert_eq!(
        err("incrbyfloat k inf"),
        "ERR increment would produce NaN or Infinity"
    );
    assert_eq!(
        ok("setex k 10 v"),
        Command::SetEx {
            key: b("k"),
            value: b("v"),
            ms: 10_000
        }
    );
    assert_eq!(
        ok("psetex k 10 v"),
        Command::SetEx {
            key: b("k"),
            value: b("v"),
            ms: 10
        }
    );
    assert_eq!(
        err("setex k 0 v"),
        "ERR invalid expire time in 'setex' command"
    );
    assert_eq!(
        err("psetex k -1 v"),
        "ERR invalid expire time in 'psetex' command"
    );
    assert_eq!(
        err("setex k 9223372036854775807 v"),
        "ERR invalid expire time in 'setex' command"
    );
    assert_eq!(
        err("setex k x v"),
        "ERR value is not an integer or out of range"
    );
}

#[test]
fn set_and_key_commands() {
    assert_eq!(
        ok("sadd s a b"),
        Command::SAdd {
            key: b("s"),
            members: vec![b("a"), b("b")]
        }
    );
    assert_eq!(
        ok("srem s a"),
        Command::SRem {
            key: b("s"),
            members: vec![b("a")]
        }
    );
    assert_eq!(ok("smembers s"), Command::SMembers(b("s")));
    assert_eq!(
        ok("sismember s a"),
        Command::SIsMember {
            key: b("s"),
            member: b("a")
        }
    );
    assert_eq!(ok("scard s"), Command::SCard(b("s")));
    assert_eq!(
        err("sadd s"),
        "ERR wrong number of arguments for 'sadd' command"
    );
    assert_eq!(ok("del a b"), Command::Del(vec![b("a"), b("b")]));
    assert_eq!(ok("unlink a"), Command::Unlink(vec![b("a")]));
    assert_eq!(ok("exists a a"), Command::Exists(vec![b("a"), b("a")]));
    assert_eq!(ok("type a"), Command::Type(b("a")));
    assert_eq!(
        ok("ttl a"),
        Command::Ttl {
            key: b("a"),
            ms: false
        }
    );
    assert_eq!(
        ok("pttl a"),
        Command::Ttl {
            key: b("a"),
            ms: true
        }
    );
    assert_eq!(ok("persist a"), Command::Persist(b("a")));
}

fn expire(line: &str) -> (ExpireAt, Option<ExpireCond>) {
    match ok(line) {
        Command::Expire { at, cond, .. } => (at, cond),
        c => panic!("not expire: {c:?}"),
    }
}

#[test]
fn expire_options() {
    assert_eq!(expire("expire k 10"), (ExpireAt::RelMs(10_000), None));
    assert_eq!(expire("pexpire k 10"), (ExpireAt::RelMs(10), None));
    assert_eq!(expire("expire k -1"), (ExpireAt::RelMs(-1000), None));
    assert_eq!(
        expire("expire k 0 NX"),
        (ExpireAt::RelMs(0), Some(ExpireCond::Nx))
    );
    assert_eq!(
        expire("expire k 1 xx"),
        (ExpireAt::RelMs(1000), Some(ExpireCond::Xx))
    );
    assert_eq!(
        expire("expire k 1 gt"),
        (ExpireAt::RelMs(1000), Some(ExpireCond::Gt))
    );
    assert_eq!(
        expire("expire k 1 lt"),
        (ExpireAt::RelMs(1000), Some(ExpireCond::Lt))
    );
    assert_eq!(
        expire("expire k 1 xx gt"),
        (ExpireAt::RelMs(1000), Some(ExpireCond::Gt))
    );
    assert_eq!(
        err("expire k 10 nx xx"),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        err("expire k 10 nx gt"),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        err("expire k 10 gt lt"),
        "ERR GT and LT options at the same time are not compatible"
    );
    assert_eq!(err("expire k 10 foo"), "ERR Unsupported option foo");
    assert_eq!(
        err("expire k abc"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err("expire k 9223372036854775807"),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        err("expire k -9223372036854775808"),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        expire("pexpire k 9223372036854775807"),
        (ExpireAt::RelMs(i64::MAX), None)
    );
}

#[test]
fn key_and_name() {
    assert_eq!(ok("get k").key(), Some(&b("k")));
    assert_eq!(ok("set k v ex 1").key(), Some(&b("k")));
    assert_eq!(ok("incr k").key(), Some(&b("k")));
    assert_eq!(ok("sadd s a").key(), Some(&b("s")));
    assert_eq!(ok("expire k 1").key(), Some(&b("k")));
    assert_eq!(ok("mget a").key(), None);
    assert_eq!(ok("del a").key(), None);
    assert_eq!(ok("ping").key(), None);
    assert_eq!(ok("SET k v").name(), "set");
    assert_eq!(ok("decrby k 1").name(), "incrby");
    assert_eq!(ok("client setname x").name(), "client|setname");
    assert_eq!(ok("pttl k").name(), "pttl");
}

#[test]
fn every_table_command_parses_with_minimal_args() {
    // Each table entry must have a parser: build a request that satisfies
    // its arity and check that we never fall back to "unknown command".
    for spec in crate::table::COMMANDS {
        let mut names: Vec<(String, i32)> = Vec::new();
        if spec.subcommands.is_empty() {
            names.push((spec.name.to_string(), spec.arity));
        }
        for s in spec.subcommands {
            names.push((s.name.replace('|', " "), s.arity));
        }
        for (name, arity) in names {
            let mut args: Vec<Bytes> = name.split(' ').map(b).collect();
            while (args.len() as i32) < arity.abs() {
                args.push(b("1"));
            }
            if let Err(e) = Command::parse(args) {
                assert!(!e.text().contains("unknown"), "{name}: {}", e.text());
            }
        }
    }
}

/// Checks `(request, Redis's reply)` pairs: `Some(text)` is the error
/// redis-server 7.0.15 gave on an empty database, `None` means it did not
/// fail at parse time (it ran, or failed on data, which is not ours).
fn check(cases: &[(&str, Option<&str>)]) {
    for &(line, want) in cases {
        match (p(line), want) {
            (Ok(_), None) => {}
            (Err(e), Some(w)) => assert_eq!(e.text(), w, "{line}"),
            (Ok(c), Some(w)) => panic!("{line:?} parsed as {c:?}, Redis says {w:?}"),
            (Err(e), None) => panic!("{line:?} failed: {}", e.text()),
        }
    }
}

#[rustfmt::skip]
const HASH_CASES: &[(&str, Option<&str>)] = &[
        ("hset h a 1", None),
        ("hset h a 1 b 2", None),
        ("hset h a", Some("ERR wrong number of arguments for 'hset' command")),
        ("hset h a 1 b", Some("ERR wrong number of arguments for 'hset' command")),
        ("hset h", Some("ERR wrong number of arguments for 'hset' command")),
        ("hmset h a 1", None),
        ("hmset h a", Some("ERR wrong number of arguments for 'hmset' command")),
        ("hmset h a 1 b", Some("ERR wrong number of arguments for 'hmset' command")),
        ("hsetnx h a 1", None),
        ("hsetnx h a", Some("ERR wrong number of arguments for 'hsetnx' command")),
        ("hsetnx h a 1 2", Some("ERR wrong number of arguments for 'hsetnx' command")),
        ("hget h a", None),
        ("hget h", Some("ERR wrong number of arguments for 'hget' command")),
        ("hget h a b", Some("ERR wrong number of arguments for 'hget' command")),
        ("hmget h a", None),
        ("hmget h a b c", None),
        ("hmget h", Some("ERR wrong number of arguments for 'hmget' command")),
        ("hgetall h", None),
        ("hgetall h x", Some("ERR wrong number of arguments for 'hgetall' command")),
        ("hdel h a", None),
        ("hdel h a b", None),
        ("hdel h", Some("ERR wrong number of arguments for 'hdel' command")),
        ("hexists h a", None),
        ("hexists h", Some("ERR wrong number of arguments for 'hexists' command")),
        ("hlen h", None),
        ("hlen h x", Some("ERR wrong number of arguments for 'hlen' command")),
        ("hkeys h", None),
        ("hvals h", None),
        ("hvals h x", Some("ERR wrong number of arguments for 'hvals' command")),
        ("hstrlen h a", None),
        ("hstrlen h", Some("ERR wrong number of arguments for 'hstrlen' command")),
        ("hincrby h a 1", None),
        ("hincrby h a -9223372036854775808", None),
        ("hincrby h a 9223372036854775808", Some("ERR value is not an integer or out of range")),
        ("hincrby h a 1.5", Some("ERR value is not an integer or out of range")),
        ("hincrby h a x", Some("ERR value is not an integer or out of range")),
        ("hincrby h a", Some("ERR wrong number of arguments for 'hincrby' command")),
        ("hincrbyfloat h a 1.5", None),
        ("hincrbyfloat h a -2e3", None),
        ("hincrbyfloat h a inf", Some("ERR value is NaN or Infinity")),
        ("hincrbyfloat h a -inf", Some("ERR value is NaN or Infinity")),
        ("hincrbyfloat h a +inf", Some("ERR value is NaN or Infinity")),
        ("hincrbyfloat h a nan", Some("ERR value is not a valid float")),
        ("hincrbyfloat h a x", Some("ERR value is not a valid float")),
        ("hincrbyfloat h a 0x10", None),
        ("hincrbyfloat h a 1e-400", None),
        ("hincrbyfloat h a ", Some("ERR wrong number of arguments for 'hincrbyfloat' command")),
        ("hscan h 0", None),
        ("hscan h x", Some("ERR invalid cursor")),
        ("hscan h -1", None),
        ("hscan h 18446744073709551615", None),
        ("hscan h 18446744073709551616", Some("ERR invalid cursor")),
        ("hscan h 0 match a*", None),
        ("hscan h 0 count 5", None),
        ("hscan h 0 count 0", None),
        ("hscan h 0 type string", None),
        ("hscan h 0 foo", None),
        ("hscan h x count 0", Some("ERR invalid cursor")),
        ("hscan h", Some("ERR wrong number of arguments for 'hscan' command")),
        ("hrandfield h", None),
        ("hrandfield h 5", None),
        ("hrandfield h -5", None),
        ("hrandfield h 0", None),
        ("hrandfield h 5 withvalues", None),
        ("hrandfield h 5 WITHVALUES", None),
        ("hrandfield h -5 withvalues", None),
        ("hrandfield h 5 foo", Some("ERR syntax error")),
        ("hrandfield h x withvalues", Some("ERR value is not an integer or out of range")),
        ("hrandfield h x foo", Some("ERR value is not an integer or out of range")),
        ("hrandfield h 5 withvalues x", Some("ERR syntax error")),
        ("hrandfield h x withvalues x", Some("ERR value is not an integer or out of range")),
        ("hrandfield h -9223372036854775808", Some("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")),
        ("hrandfield h 9223372036854775807", None),
        ("hrandfield h -9223372036854775807", None),
        ("hrandfield h 4611686018427387904 withvalues", Some("ERR value is out of range")),
        ("hrandfield h -4611686018427387904 withvalues", Some("ERR value is out of range")),
        ("hrandfield h 9223372036854775807 withvalues", Some("ERR value is out of range")),
        ("hrandfield h 4611686018427387903 withvalues", None),
        ("hrandfield h -4611686018427387903 withvalues", None),
];

/// HSCAN replies with an existing hash under the key.
#[rustfmt::skip]
const HSCAN_EXISTING_CASES: &[(&str, Option<&str>)] = &[
        ("hscan h 0 count 0", Some("ERR syntax error")),
        ("hscan h 0 count -1", Some("ERR syntax error")),
        ("hscan h 0 count x", Some("ERR value is not an integer or out of range")),
        ("hscan h 0 match", Some("ERR syntax error")),
        ("hscan h 0 count", Some("ERR syntax error")),
        ("hscan h 0 type string", Some("ERR syntax error")),
        ("hscan h 0 foo", Some("ERR syntax error")),
        ("hscan h 0 match a count 2 match b", None),
        ("hscan h 0 COUNT 9223372036854775807", None),
];

#[test]
fn hash_redis_cases() {
    check(HASH_CASES);
    check_existing(HSCAN_EXISTING_CASES);
}

#[test]
fn hash_commands() {
    let scan_opts = |line: &str| match ok(line) {
        Command::HScan { opts, .. } => opts.map_err(|e| e.text().to_string()),
        c => panic!("not hscan: {c:?}"),
    };
    assert_eq!(
        ok("hset h a 1 b 2"),
        Command::HSet {
            key: b("h"),
            pairs: vec![(b("a"), b("1")), (b("b"), b("2"))],
            hmset: false
        }
    );
    assert_eq!(
        ok("HMSET h a 1"),
        Command::HSet {
            key: b("h"),
            pairs: vec![(b("a"), b("1"))],
            hmset: true
        }
    );
    assert_eq!(ok("hmset h a 1").name(), "hmset");
    assert_eq!(ok("hset h a 1").name(), "hset");
    assert_eq!(
        ok("hsetnx h f v"),
        Command::HSetNx {
            key: b("h"),
            field: b("f"),
            value: b("v")
        }
    );
    assert_eq!(
        ok("hget h f"),
        Command::HGet {
            key: b("h"),
            field: b("f")
        }
    );
    assert_eq!(
        ok("hmget h a b"),
        Command::HMGet {
            key: b("h"),
            fields: vec![b("a"), b("b")]
        }
    );
    assert_eq!(
        ok("hdel h a b"),
        Command::HDel {
            key: b("h"),
            fields: vec![b("a"), b("b")]
        }
    );
    assert_eq!(
        ok("hexists h a"),
        Command::HExists {
            key: b("h"),
            field: b("a")
        }
    );
    assert_eq!(
        ok("hstrlen h a"),
        Command::HStrlen {
            key: b("h"),
            field: b("a")
        }
    );
    assert_eq!(ok("hgetall h"), Command::HGetAll(b("h")));
    assert_eq!(ok("hlen h"), Command::HLen(b("h")));
    assert_eq!(ok("hkeys h"), Command::HKeys(b("h")));
    assert_eq!(ok("hvals h"), Command::HVals(b("h")));
    assert_eq!(
        ok("hincrby h f -9223372036854775808"),
        Command::HIncrBy {
            key: b("h"),
            field: b("f"),
            by: i64::MIN
        }
    );
    assert_eq!(
        ok("hincrbyfloat h f 0x10"),
        Command::HIncrByFloat {
            key: b("h"),
            field: b("f"),
            by: 16.0
        }
    );
    assert_eq!(
        ok("hscan h 18446744073709551615"),
        Command::HScan {
            key: b("h"),
            cursor: u64::MAX,
            opts: Ok(ScanOpts {
                pattern: None,
                count: 10
            })
        }
    );
    // SCAN's cursor is strtoul: "-1" wraps.
    assert!(matches!(
        ok("hscan h -1"),
        Command::HScan {
            cursor: u64::MAX,
            ..
        }
    ));
    assert_eq!(
        scan_opts("hscan h 0 MATCH a* COUNT 5 match b*"),
        Ok(ScanOpts {
            pattern: Some(b("b*")),
            count: 5
        })
    );
    assert_eq!(
        ok("hrandfield h"),
        Command::HRandField {
            key: b("h"),
            count: None,
            withvalues: false
        }
    );
    assert_eq!(
        ok("hrandfield h -5 WithValues"),
        Command::HRandField {
            key: b("h"),
            count: Some(-5),
            withvalues: true
        }
    );
    assert_eq!(
        ok("hrandfield h 9223372036854775807"),
        Command::HRandField {
            key: b("h"),
            count: Some(i64::MAX),
            withvalues: false
        }
    );
    for line in [
        "hset h a 1",
        "hmset h a 1",
        "hdel h a",
        "hincrby h a 1",
        "hsetnx h a 1",
    ] {
        assert!(ok(line).is_write(), "{line}");
    }
    for line in ["hget h a", "hscan h 0", "hrandfield h", "hgetall h"] {
        assert!(!ok(line).is_write(), "{line}");
        assert_eq!(ok(line).keys(), vec![&b("h")], "{line}");
    }
}

#[rustfmt::skip]
const ZSET_CASES: &[(&str, Option<&str>)] = &[
        ("zadd z 1 a", None),
        ("zadd z 1 a 2 b", None),
        ("zadd z nx 1 a", None),
        ("zadd z xx 1 a", None),
        ("zadd z gt 1 a", None),
        ("zadd z lt 1 a", None),
        ("zadd z ch 1 a", None),
        ("zadd z incr 1 a", None),
        ("zadd z NX CH INCR 1 a", None),
        ("zadd z xx gt ch 1 a", None),
        ("zadd z xx lt 1 a", None),
        ("zadd z nx xx 1 a", Some("ERR XX and NX options at the same time are not compatible")),
        ("zadd z nx gt 1 a", Some("ERR GT, LT, and/or NX options at the same time are not compatible")),
        ("zadd z nx lt 1 a", Some("ERR GT, LT, and/or NX options at the same time are not compatible")),
        ("zadd z gt lt 1 a", Some("ERR GT, LT, and/or NX options at the same time are not compatible")),
        ("zadd z nx xx gt lt 1 a", Some("ERR XX and NX options at the same time are not compatible")),
        ("zadd z incr 1 a 2 b", Some("ERR INCR option supports a single increment-element pair")),
        ("zadd z nx xx incr 1 a 2 b", Some("ERR XX and NX options at the same time are not compatible")),
        ("zadd z gt lt incr 1 a 2 b", Some("ERR GT, LT, and/or NX options at the same time are not compatible")),
        ("zadd z 1", Some("ERR wrong number of arguments for 'zadd' command")),
        ("zadd z 1 a 2", Some("ERR syntax error")),
        ("zadd z nx", Some("ERR wrong number of arguments for 'zadd' command")),
        ("zadd z nx 1", Some("ERR syntax error")),
        ("zadd z nx xx 1", Some("ERR syntax error")),
        ("zadd z x a", Some("ERR value is not a valid float")),
        ("zadd z nan a", Some("ERR value is not a valid float")),
        ("zadd z inf a", None),
        ("zadd z +inf a", None),
        ("zadd z -inf a", None),
        ("zadd z -Infinity a", None),
        ("zadd z 1e999 a", Some("ERR value is not a valid float")),
        ("zadd z 1e-400 a", Some("ERR value is not a valid float")),
        ("zadd z 1e-310 a", None),
        ("zadd z 0x10 a", None),
        ("zadd z 1.5 a x b", Some("ERR value is not a valid float")),
        ("zadd z x a 1.5 b", Some("ERR value is not a valid float")),
        ("zadd z nx xx x a", Some("ERR XX and NX options at the same time are not compatible")),
        ("zadd z incr x a 2 b", Some("ERR INCR option supports a single increment-element pair")),
        ("zadd z foo 1 a", Some("ERR syntax error")),
        ("zadd z 1 a nx", Some("ERR syntax error")),
        ("zadd z", Some("ERR wrong number of arguments for 'zadd' command")),
        ("zadd z nx xx", Some("ERR syntax error")),
        ("zincrby z 1 a", None),
        ("zincrby z x a", Some("ERR value is not a valid float")),
        ("zincrby z nan a", Some("ERR value is not a valid float")),
        ("zincrby z inf a", None),
        ("zincrby z 1e999 a", Some("ERR value is not a valid float")),
        ("zincrby z 1", Some("ERR wrong number of arguments for 'zincrby' command")),
        ("zrem z a", None),
        ("zrem z a b", None),
        ("zrem z", Some("ERR wrong number of arguments for 'zrem' command")),
        ("zscore z a", None),
        ("zscore z", Some("ERR wrong number of arguments for 'zscore' command")),
        ("zmscore z a", None),
        ("zmscore z a b", None),
        ("zmscore z", Some("ERR wrong number of arguments for 'zmscore' command")),
        ("zcard z", None),
        ("zcard z a", Some("ERR wrong number of arguments for 'zcard' command")),
        ("zcount z 1 2", None),
        ("zcount z (1 (2", None),
        ("zcount z -inf +inf", None),
        ("zcount z ( (", None),
        ("zcount z  1", Some("ERR wrong number of arguments for 'zcount' command")),
        ("zcount z x 1", Some("ERR min or max is not a float")),
        ("zcount z 1 x", Some("ERR min or max is not a float")),
        ("zcount z (x 1", Some("ERR min or max is not a float")),
        ("zcount z nan 1", Some("ERR min or max is not a float")),
        ("zcount z 1e999 1", None),
        ("zcount z inf 1", None),
        ("zcount z [1 2", Some("ERR min or max is not a float")),
        ("zcount z 1", Some("ERR wrong number of arguments for 'zcount' command")),
        ("zcount z 1 2 3", Some("ERR wrong number of arguments for 'zcount' command")),
        ("zrange z 0 1", None),
        ("zrange z 0 1 withscores", None),
        ("zrange z 0 1 rev", None),
        ("zrange z 0 1 rev withscores", None),
        ("zrange z 0 1 limit 0 1", Some("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")),
        ("zrange z 0 1 limit 0 -1", None),
        ("zrange z 0 1 limit 5 -1", None),
        ("zrange z 0 1 limit 5 -2", Some("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")),
        ("zrange z 0 1 limit 0", Some("ERR syntax error")),
        ("zrange z 0 1 limit x 1", Some("ERR value is not an integer or out of range")),
        ("zrange z 0 1 limit 0 x", Some("ERR value is not an integer or out of range")),
        ("zrange z x 1", Some("ERR value is not an integer or out of range")),
        ("zrange z 0 x", Some("ERR value is not an integer or out of range")),
        ("zrange z x 1 limit 0 1", Some("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")),
        ("zrange z 0 1 byscore", None),
        ("zrange z (0 (1 byscore", None),
        ("zrange z x 1 byscore", Some("ERR min or max is not a float")),
        ("zrange z 0 1 bylex", Some("ERR min or max not valid string range item")),
        ("zrange z [a (b bylex", None),
        ("zrange z - + bylex", None),
        ("zrange z [a (b bylex withscores", Some("ERR syntax error, WITHSCORES not supported in combination with BYLEX")),
        ("zrange z [a (b bylex limit 0 1", None),
        ("zrange z [a (b bylex rev", None),
        ("zrange z a b bylex", Some("ERR min or max not valid string range item")),
        ("zrange z 0 1 byscore bylex", Some("ERR syntax error")),
        ("zrange z 0 1 bylex byscore", Some("ERR syntax error")),
        ("zrange z 0 1 byscore byscore", Some("ERR syntax error")),
        ("zrange z 0 1 rev rev", Some("ERR syntax error")),
        ("zrange z 0 1 withscores withscores", None),
        ("zrange z 0 1 foo", Some("ERR syntax error")),
        ("zrange z 0 1 limit 0 1 withscores foo", Some("ERR syntax error")),
        ("zrange z x y byscore limit 0 1", Some("ERR min or max is not a float")),
        ("zrange z x y bylex withscores", Some("ERR syntax error, WITHSCORES not supported in combination with BYLEX")),
        ("zrange z x y withscores limit 0 1", Some("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")),
        ("zrange z 1 0 byscore rev", None),
        ("zrange z 0 1 byscore rev", None),
        ("zrange z 1 0 byscore rev limit 0 1 withscores", None),
        ("zrange z [b [a bylex rev limit 1 2", None),
        ("zrange z x 1 byscore rev", Some("ERR min or max is not a float")),
        ("zrange z 1 x byscore rev", Some("ERR min or max is not a float")),
        ("zrange z 0 1 store", Some("ERR syntax error")),
        ("zrange z 0", Some("ERR wrong number of arguments for 'zrange' command")),
        ("zrangebyscore z 0 1", None),
        ("zrangebyscore z 0 1 withscores", None),
        ("zrangebyscore z 0 1 limit 0 1", None),
        ("zrangebyscore z 0 1 limit 0 1 withscores", None),
        ("zrangebyscore z 0 1 rev", Some("ERR syntax error")),
        ("zrangebyscore z 0 1 byscore", Some("ERR syntax error")),
        ("zrangebyscore z 0 1 bylex", Some("ERR syntax error")),
        ("zrangebyscore z x 1", Some("ERR min or max is not a float")),
        ("zrangebyscore z 0 1 limit 1", Some("ERR syntax error")),
        ("zrangebyscore z 0", Some("ERR wrong number of arguments for 'zrangebyscore' command")),
        ("zrevrangebyscore z 1 0", None),
        ("zrevrangebyscore z x 0", Some("ERR min or max is not a float")),
        ("zrevrangebyscore z 1 x", Some("ERR min or max is not a float")),
        ("zrevrangebyscore z 1 0 withscores limit 0 1", None),
        ("zrevrangebyscore z 1 0 rev", Some("ERR syntax error")),
        ("zrevrange z 0 1", None),
        ("zrevrange z 0 1 withscores", None),
        ("zrevrange z 0 1 limit 0 1", Some("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")),
        ("zrevrange z 0 1 limit 0 -1", None),
        ("zrevrange z 0 1 rev", Some("ERR syntax error")),
        ("zrevrange z 0 1 byscore", Some("ERR syntax error")),
        ("zrevrange z x 1", Some("ERR value is not an integer or out of range")),
        ("zrangebylex z - +", None),
        ("zrangebylex z [a (b limit 0 1", None),
        ("zrangebylex z [a (b withscores", Some("ERR syntax error, WITHSCORES not supported in combination with BYLEX")),
        ("zrangebylex z a b", Some("ERR min or max not valid string range item")),
        ("zrangebylex z - + bylex", Some("ERR syntax error")),
        ("zrangebylex z - + rev", Some("ERR syntax error")),
        ("zrangebylex z +", Some("ERR wrong number of arguments for 'zrangebylex' command")),
        ("zrevrangebylex z + -", None),
        ("zrevrangebylex z - +", None),
        ("zrevrangebylex z + - limit 1 2", None),
        ("zrevrangebylex z + a", Some("ERR min or max not valid string range item")),
        ("zrevrangebylex z a -", Some("ERR min or max not valid string range item")),
        ("zrangebylex z +x -", Some("ERR min or max not valid string range item")),
        ("zrangebylex z - +x", Some("ERR min or max not valid string range item")),
        ("zrangebylex z ( [", None),
        ("zrangestore d z 0 1", None),
        ("zrangestore d z 0 1 withscores", Some("ERR syntax error")),
        ("zrangestore d z 0 1 byscore limit 0 1", None),
        ("zrangestore d z 0 1 bylex", Some("ERR min or max not valid string range item")),
        ("zrangestore d z [a [b bylex rev", None),
        ("zrangestore d z 0 1 limit 0 1", Some("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")),
        ("zrangestore d z 0", Some("ERR wrong number of arguments for 'zrangestore' command")),
        ("zrank z a", None),
        ("zrank z a withscore", Some("ERR wrong number of arguments for 'zrank' command")),
        ("zrank z", Some("ERR wrong number of arguments for 'zrank' command")),
        ("zrevrank z a", None),
        ("zrevrank z a b", Some("ERR wrong number of arguments for 'zrevrank' command")),
        ("zpopmin z", None),
        ("zpopmin z 1", None),
        ("zpopmin z 0", None),
        ("zpopmin z -1", Some("ERR value is out of range, must be positive")),
        ("zpopmin z x", Some("ERR value is out of range, must be positive")),
        ("zpopmin z 1 2", Some("ERR syntax error")),
        ("zpopmax z", None),
        ("zpopmax z 5", None),
        ("zpopmax z -5", Some("ERR value is out of range, must be positive")),
        ("zpopmax z 9223372036854775807", None),
        ("zremrangebyscore z 0 1", None),
        ("zremrangebyscore z (0 +inf", None),
        ("zremrangebyscore z x 1", Some("ERR min or max is not a float")),
        ("zremrangebyscore z 0", Some("ERR wrong number of arguments for 'zremrangebyscore' command")),
        ("zremrangebyrank z 0 1", None),
        ("zremrangebyrank z x 1", Some("ERR value is not an integer or out of range")),
        ("zremrangebyrank z 0 x", Some("ERR value is not an integer or out of range")),
        ("zremrangebylex z - +", None),
        ("zremrangebylex z a +", Some("ERR min or max not valid string range item")),
        ("zremrangebylex z [a", Some("ERR wrong number of arguments for 'zremrangebylex' command")),
        ("zlexcount z - +", None),
        ("zlexcount z [a (b", None),
        ("zlexcount z a b", Some("ERR min or max not valid string range item")),
        ("zlexcount z - x", Some("ERR min or max not valid string range item")),
        ("zscan z 0", None),
        ("zscan z x", Some("ERR invalid cursor")),
        ("zscan z 0 count 0", None),
        ("zscan z 0 match a", None),
        ("zrandmember z", None),
        ("zrandmember z 5", None),
        ("zrandmember z -5 withscores", None),
        ("zrandmember z 5 withvalues", Some("ERR syntax error")),
        ("zrandmember z x", Some("ERR value is not an integer or out of range")),
        ("zrandmember z 5 withscores x", Some("ERR syntax error")),
        ("zrandmember z -9223372036854775808", Some("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")),
        ("zrandmember z 4611686018427387904 withscores", Some("ERR value is out of range")),
        ("zrandmember z -4611686018427387904 withscores", Some("ERR value is out of range")),
        ("zrandmember z 4611686018427387903 withscores", None),
        ("zrandmember z 1 2 3", Some("ERR syntax error")),
        ("zunionstore d 1 a", None),
        ("zunionstore d 2 a b", None),
        ("zunionstore d 0 a", Some("ERR at least 1 input key is needed for 'zunionstore' command")),
        ("zunionstore d -1 a", Some("ERR at least 1 input key is needed for 'zunionstore' command")),
        ("zunionstore d x a", Some("ERR value is not an integer or out of range")),
        ("zunionstore d 3 a b", Some("ERR syntax error")),
        ("zunionstore d 1 a b", Some("ERR syntax error")),
        ("zunionstore d 1 a weights 2", None),
        ("zunionstore d 2 a b weights 2 3", None),
        ("zunionstore d 2 a b weights 2", Some("ERR syntax error")),
        ("zunionstore d 2 a b weights 2 x", Some("ERR weight value is not a float")),
        ("zunionstore d 2 a b weights 2 nan", Some("ERR weight value is not a float")),
        ("zunionstore d 2 a b weights 2 inf", None),
        ("zunionstore d 2 a b weights 2 3 4", Some("ERR syntax error")),
        ("zunionstore d 1 a aggregate sum", None),
        ("zunionstore d 1 a aggregate MIN", None),
        ("zunionstore d 1 a aggregate max", None),
        ("zunionstore d 1 a aggregate avg", Some("ERR syntax error")),
        ("zunionstore d 1 a aggregate", Some("ERR syntax error")),
        ("zunionstore d 1 a weights 1 aggregate min weights 3", None),
        ("zunionstore d 1 a aggregate min aggregate max", None),
        ("zunionstore d 1 a withscores", Some("ERR syntax error")),
        ("zunionstore d 1 a foo", Some("ERR syntax error")),
        ("zunionstore d 1 a weights x aggregate foo", Some("ERR weight value is not a float")),
        ("zunionstore d 1", Some("ERR wrong number of arguments for 'zunionstore' command")),
        ("zunionstore d 9223372036854775807 a", Some("ERR syntax error")),
        ("zinterstore d 0 a", Some("ERR at least 1 input key is needed for 'zinterstore' command")),
        ("zinterstore d 1 a weights 2 aggregate max", None),
        ("zinterstore d 2 a", Some("ERR syntax error")),
        ("zdiffstore d 0 a", Some("ERR at least 1 input key is needed for 'zdiffstore' command")),
        ("zdiffstore d 1 a", None),
        ("zdiffstore d 2 a b", None),
        ("zdiffstore d 1 a weights 1", Some("ERR syntax error")),
        ("zdiffstore d 1 a aggregate sum", Some("ERR syntax error")),
        ("zdiffstore d 1 a withscores", Some("ERR syntax error")),
        ("zdiffstore d 3 a b", Some("ERR syntax error")),
        ("zdiffstore d x a", Some("ERR value is not an integer or out of range")),
        ("zincrby z nx a", Some("ERR syntax error")),
        ("zincrby z CH a", Some("ERR syntax error")),
        ("zincrby z x nx", Some("ERR value is not a valid float")),
        ("zrangestore d z [a [b bylex limit 0", Some("ERR syntax error")),
        ("zrange z 0 1 limit 0 -1 byscore", None),
        ("zrange z (1 2 limit 0 -1", Some("ERR value is not an integer or out of range")),
        ("zrange z a b rev limit 1 1", Some("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")),
        ("zcount z ( (", None),
        ("zcount z 0x10 1e-400", None),
        ("zcount z 1. +.5", None),
        ("zcount z 0x 1", Some("ERR min or max is not a float")),
        ("zcount z 1e 1", Some("ERR min or max is not a float")),
        ("zcount z (- 1", Some("ERR min or max is not a float")),
        ("zcount z - 1", Some("ERR min or max is not a float")),
        ("zcount z .e1 1", Some("ERR min or max is not a float")),
        ("zcount z nan(1) 1", Some("ERR min or max is not a float")),
        ("zcount z (infinity -inf", None),
        ("zrangebylex z ( [", None),
        ("zrangebylex z [ (", None),
        ("zadd z 1e-310 a", None),
];

#[test]
fn zset_redis_cases() {
    check(ZSET_CASES);
}

fn sb(value: f64, exclusive: bool) -> ScoreBound {
    ScoreBound { value, exclusive }
}

fn zrange(line: &str) -> (ZRangeBy, bool, Option<(i64, i64)>, bool) {
    match ok(line) {
        Command::ZRange {
            by,
            rev,
            limit,
            withscores,
            ..
        } => (by, rev, limit, withscores),
        c => panic!("not a zrange: {c:?}"),
    }
}

#[test]
fn zset_commands() {
    assert_eq!(
        ok("zadd z XX gt ch 1 a -inf b"),
        Command::ZAdd {
            key: b("z"),
            cond: Some(SetCond::Xx),
            cmp: Some(ScoreCmp::Gt),
            ch: true,
            incr: false,
            members: vec![(1.0, b("a")), (f64::NEG_INFINITY, b("b"))]
        }
    );
    assert_eq!(
        ok("zadd z nx incr +inf a"),
        Command::ZAdd {
            key: b("z"),
            cond: Some(SetCond::Nx),
            cmp: None,
            ch: false,
            incr: true,
            members: vec![(f64::INFINITY, b("a"))]
        }
    );
    assert_eq!(
        ok("zincrby z -2.5 m"),
        Command::ZIncrBy {
            key: b("z"),
            by: -2.5,
            member: b("m")
        }
    );
    assert_eq!(
        ok("zcount z (1 +inf"),
        Command::ZCount {
            key: b("z"),
            min: sb(1.0, true),
            max: sb(f64::INFINITY, false)
        }
    );
    assert_eq!(
        ok("zlexcount z - (b"),
        Command::ZLexCount {
            key: b("z"),
            min: LexBound::Min,
            max: LexBound::Excl(b("b"))
        }
    );
    assert_eq!(
        zrange("zrange z 0 -1"),
        (ZRangeBy::Rank { start: 0, stop: -1 }, false, None, false)
    );
    // "LIMIT x -1" is Redis's "no limit", accepted (and ignored) by rank.
    assert_eq!(
        zrange("zrevrange z 1 2 withscores limit 5 -1"),
        (ZRangeBy::Rank { start: 1, stop: 2 }, true, None, true)
    );
    assert_eq!(
        zrange("zrange z 0 -1 REV withscores"),
        (ZRangeBy::Rank { start: 0, stop: -1 }, true, None, true)
    );
    // Reversed score and lex ranges are given max first.
    let score = ZRangeBy::Score {
        min: sb(1.0, true),
        max: sb(5.0, false),
    };
    assert_eq!(
        zrange("zrangebyscore z (1 5 limit 2 3"),
        (score.clone(), false, Some((2, 3)), false)
    );
    assert_eq!(
        zrange("zrevrangebyscore z 5 (1 withscores"),
        (score.clone(), true, None, true)
    );
    assert_eq!(
        zrange("zrange z 5 (1 byscore rev limit 0 -1"),
        (score, true, Some((0, -1)), false)
    );
    let lex = ZRangeBy::Lex {
        min: LexBound::Incl(b("a")),
        max: LexBound::Max,
    };
    assert_eq!(
        zrange("zrangebylex z [a +"),
        (lex.clone(), false, None, false)
    );
    assert_eq!(
        zrange("zrevrangebylex z + [a"),
        (lex.clone(), true, None, false)
    );
    assert_eq!(zrange("zrange z + [a bylex rev"), (lex, true, None, false));
    assert_eq!(
        ok("zrangestore d z 0 1"),
        Command::ZRange {
            name: "zrangestore",
            key: b("z"),
            by: ZRangeBy::Rank { start: 0, stop: 1 },
            rev: false,
            limit: None,
            withscores: false,
            store: Some(b("d"))
        }
    );
    for (line, name) in [
        ("zrange z 0 1", "zrange"),
        ("zrange z 0 1 byscore", "zrange"),
        ("zrevrange z 0 1", "zrevrange"),
        ("zrangebyscore z 0 1", "zrangebyscore"),
        ("zrevrangebyscore z 0 1", "zrevrangebyscore"),
        ("zrangebylex z - +", "zrangebylex"),
        ("zrevrangebylex z + -", "zrevrangebylex"),
        ("zrangestore d z 0 1", "zrangestore"),
        ("zrank z a", "zrank"),
        ("zrevrank z a", "zrevrank"),
        ("zpopmin z", "zpopmin"),
        ("zpopmax z 2", "zpopmax"),
        ("zremrangebyrank z 0 1", "zremrangebyrank"),
        ("zremrangebyscore z 0 1", "zremrangebyscore"),
        ("zremrangebylex z - +", "zremrangebylex"),
        ("zunionstore d 1 a", "zunionstore"),
        ("zinterstore d 1 a", "zinterstore"),
        ("zdiffstore d 1 a", "zdiffstore"),
    ] {
        assert_eq!(ok(line).name(), name, "{line}");
    }
    assert_eq!(
        ok("zpopmax z 0"),
        Command::ZPop {
            key: b("z"),
            max: true,
            count: Some(0)
        }
    );
    assert_eq!(
        ok("zpopmin z"),
        Command::ZPop {
            key: b("z"),
            max: false,
            count: None
        }
    );
    assert_eq!(
        ok("zremrangebylex z (a [b"),
        Command::ZRemRange {
            key: b("z"),
            by: ZRangeBy::Lex {
                min: LexBound::Excl(b("a")),
                max: LexBound::Incl(b("b"))
            }
        }
    );
    assert_eq!(
        ok("zrandmember z -3 withscores"),
        Command::ZRandMember {
            key: b("z"),
            count: Some(-3),
            withscores: true
        }
    );
    assert!(matches!(
        ok("zscan z 0 count 0"),
        Command::ZScan { opts: Err(_), .. }
    ));
    assert_eq!(
        ok("zunionstore d 2 a b weights 2 -inf aggregate min"),
        Command::ZStore {
            op: SetOp::Union,
            dest: b("d"),
            keys: vec![b("a"), b("b")],
            weights: vec![2.0, f64::NEG_INFINITY],
            aggregate: Aggregate::Min
        }
    );
    assert_eq!(
        ok("zdiffstore d 2 a b"),
        Command::ZStore {
            op: SetOp::Diff,
            dest: b("d"),
            keys: vec![b("a"), b("b")],
            weights: vec![1.0, 1.0],
            aggregate: Aggregate::Sum
        }
    );
    assert_eq!(
        ok("zinterstore d 2 a b").keys(),
        vec![&b("d"), &b("a"), &b("b")]
    );
    assert_eq!(ok("zinterstore d 2 a b").key(), None);
    assert_eq!(ok("zrangestore d z 0 1").keys(), vec![&b("d"), &b("z")]);
    assert_eq!(ok("zrange z 0 1").keys(), vec![&b("z")]);
    assert!(ok("zrangestore d z 0 1").is_write());
    assert!(!ok("zrange z 0 1").is_write());
    assert!(ok("zremrangebyrank z 0 1").is_write());
    assert!(ok("zpopmin z").is_write());
}

#[test]
fn zset_bounds_c_string_rules() {
    let parse =
        |args: &[&[u8]]| Command::parse(args.iter().map(|a| Bytes::copy_from_slice(a)).collect());
    // strtod skips leading spaces and an empty bound reads as 0.
    assert_eq!(
        parse(&[b"zcount", b"z", b"", b" (1"]).map_err(|e| e.text().to_string()),
        Err("ERR min or max is not a float".to_string())
    );
    assert_eq!(
        parse(&[b"zcount", b"z", b"", b"( 1"]),
        Ok(Command::ZCount {
            key: b("z"),
            min: sb(0.0, false),
            max: sb(1.0, true)
        })
    );
    assert!(parse(&[b"zcount", b"z", b"1 ", b"2"]).is_err());
    // Bounds are C strings: text after a NUL is ignored.
    assert_eq!(
        parse(&[b"zlexcount", b"z", b"-\0x", b"+"]),
        Ok(Command::ZLexCount {
            key: b("z"),
            min: LexBound::Min,
            max: LexBound::Max
        })
    );
    assert!(parse(&[b"zlexcount", b"z", b"", b"+"]).is_err());
    assert_eq!(
        parse(&[b"zlexcount", b"z", b"[", b"(\0"]),
        Ok(Command::ZLexCount {
            key: b("z"),
            min: LexBound::Incl(Bytes::new()),
            max: LexBound::Excl(b("\0"))
        })
    );
    // ZADD reads its scores strictly: no spaces, no empty string.
    assert!(parse(&[b"zadd", b"z", b" 1", b"a"]).is_err());
    assert!(parse(&[b"zadd", b"z", b"", b"a"]).is_err());
}

/// The error a command carries for the executor because Redis reports
/// it only once the key exists with the right type.
fn deferred_err(c: &Command) -> Option<String> {
    let e = match c {
        Command::HScan { opts, .. } | Command::SScan { opts, .. } | Command::ZScan { opts, .. } => {
            opts.as_ref().err()
        }
        Command::GetEx { ttl, .. } => ttl.as_ref().err(),
        Command::BitCount { range, .. } => range.as_ref().err(),
        Command::LIndex { index, .. } | Command::LSet { index, .. } => index.as_ref().err(),
        _ => None,
    };
    e.map(|e| e.text().to_string())
}

/// As [`check`], for replies Redis gave with the key holding a value of
/// the right type: the error may come from parsing or be carried.
fn check_existing(cases: &[(&str, Option<&str>)]) {
    for &(line, want) in cases {
        let got = match p(line) {
            Ok(c) => deferred_err(&c),
            Err(e) => Some(e.text().to_string()),
        };
        assert_eq!(got.as_deref(), want, "{line}");
    }
}

#[rustfmt::skip]
const SET_CASES: &[(&str, Option<&str>)] = &[
        ("smismember s a", None),
        ("smismember s a b", None),
        ("smismember s", Some("ERR wrong number of arguments for 'smismember' command")),
        ("spop s", None),
        ("spop s 1", None),
        ("spop s 0", None),
        ("spop s -1", Some("ERR value is out of range, must be positive")),
        ("spop s x", Some("ERR value is out of range, must be positive")),
        ("spop s 1 2", Some("ERR syntax error")),
        ("spop s 9223372036854775807", None),
        ("srandmember s", None),
        ("srandmember s 5", None),
        ("srandmember s -5", None),
        ("srandmember s 0", None),
        ("srandmember s x", Some("ERR value is not an integer or out of range")),
        ("srandmember s 1 2", Some("ERR syntax error")),
        ("srandmember s -9223372036854775808", Some("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")),
        ("srandmember s 9223372036854775807", None),
        ("sinter a", None),
        ("sinter a b", None),
        ("sinter", Some("ERR wrong number of arguments for 'sinter' command")),
        ("sunion a b", None),
        ("sdiff a b", None),
        ("sdiff a", None),
        ("sinterstore d a", None),
        ("sinterstore d a b", None),
        ("sinterstore d", Some("ERR wrong number of arguments for 'sinterstore' command")),
        ("sunionstore d a", None),
        ("sdiffstore d a b", None),
        ("smove a b m", None),
        ("smove a b", Some("ERR wrong number of arguments for 'smove' command")),
        ("smove a b m x", Some("ERR wrong number of arguments for 'smove' command")),
        ("sscan s 0", None),
        ("sscan s x", Some("ERR invalid cursor")),
        ("sscan s 0 count 0", None),
        ("sscan s 0 match a count 5", None),
        ("sintercard 1 a", None),
        ("sintercard 2 a b", None),
        ("sintercard 0 a", Some("ERR numkeys should be greater than 0")),
        ("sintercard -1 a", Some("ERR numkeys should be greater than 0")),
        ("sintercard x a", Some("ERR numkeys should be greater than 0")),
        ("sintercard 3 a b", Some("ERR Number of keys can't be greater than number of args")),
        ("sintercard 1 a limit 5", None),
        ("sintercard 1 a limit 0", None),
        ("sintercard 1 a limit -1", Some("ERR LIMIT can't be negative")),
        ("sintercard 1 a limit x", Some("ERR LIMIT can't be negative")),
        ("sintercard 1 a limit", Some("ERR syntax error")),
        ("sintercard 1 a foo", Some("ERR syntax error")),
        ("sintercard 1 a b", Some("ERR syntax error")),
        ("sintercard 1 a limit 1 limit 2", None),
        ("sintercard 1 a LIMIT 9223372036854775807", None),
        ("sintercard 9223372036854775807 a", Some("ERR Number of keys can't be greater than number of args")),
        ("sintercard 2 a limit 1", Some("ERR syntax error")),
        ("sintercard 1", Some("ERR wrong number of arguments for 'sintercard' command")),
];

/// SSCAN replies with an existing set under the key.
#[rustfmt::skip]
const SSCAN_EXISTING_CASES: &[(&str, Option<&str>)] = &[
        ("sscan s 0 count 0", Some("ERR syntax error")),
        ("sscan s 0 count x", Some("ERR value is not an integer or out of range")),
        ("sscan s 0 match", Some("ERR syntax error")),
        ("sscan s 0 type set", Some("ERR syntax error")),
];

#[rustfmt::skip]
const STRING_CASES: &[(&str, Option<&str>)] = &[
        ("getrange k 0 1", None),
        ("getrange k -1 -5", None),
        ("getrange k x 1", Some("ERR value is not an integer or out of range")),
        ("getrange k 0 x", Some("ERR value is not an integer or out of range")),
        ("getrange k 0", Some("ERR wrong number of arguments for 'getrange' command")),
        ("getrange k 9223372036854775807 -9223372036854775808", None),
        ("setrange k 0 v", None),
        ("setrange k 5 v", None),
        ("setrange k -1 v", Some("ERR offset is out of range")),
        ("setrange k x v", Some("ERR value is not an integer or out of range")),
        ("setrange k 536870911 v", None),
        ("setrange k 536870912 v", None), // size checked at execution
        ("setrange k 536870911 vv", None), // size checked at execution
        ("setrange k 9223372036854775807 v", None), // size checked at execution
        ("setrange k 536870912 ", Some("ERR wrong number of arguments for 'setrange' command")),
        ("setrange k 0", Some("ERR wrong number of arguments for 'setrange' command")),
        ("getex k", None),
        ("getex k ex 10", None),
        ("getex k px 10", None),
        ("getex k exat 10", None),
        ("getex k pxat 10", None),
        ("getex k persist", None),
        ("getex k PERSIST", None),
        ("getex k ex 0", None),
        ("getex k ex -1", None),
        ("getex k px 0", None),
        ("getex k exat 0", None),
        ("getex k ex x", None),
        ("getex k ex", Some("ERR syntax error")),
        ("getex k ex 10 px 10", Some("ERR syntax error")),
        ("getex k ex 10 ex 20", None),
        ("getex k ex 10 persist", Some("ERR syntax error")),
        ("getex k persist ex 10", Some("ERR syntax error")),
        ("getex k persist persist", None),
        ("getex k foo", Some("ERR syntax error")),
        ("getex k ex 9223372036854775807", None),
        ("getex k px 9223372036854775807", None),
        ("getex k exat 9223372036854775807", None),
        ("getex k ex 9223372036854775", None),
        ("getex k ex 9223372036854776", None),
        ("getex k ex 922337203685477", None),
        ("getex k pxat 9223372036854775807", None),
        ("getex k ex x foo", Some("ERR syntax error")),
        ("getex k ex 0 foo", Some("ERR syntax error")),
        ("getex k nx", Some("ERR syntax error")),
        ("getex k keepttl", Some("ERR syntax error")),
        ("getex k get", Some("ERR syntax error")),
        ("msetnx a 1", None),
        ("msetnx a 1 b 2", None),
        ("msetnx a 1 b", Some("ERR wrong number of arguments for 'msetnx' command")),
        ("msetnx a", Some("ERR wrong number of arguments for 'msetnx' command")),
        ("setbit k 0 1", None),
        ("setbit k 0 0", None),
        ("setbit k 0 2", Some("ERR bit is not an integer or out of range")),
        ("setbit k 0 x", Some("ERR bit is not an integer or out of range")),
        ("setbit k 0 -1", Some("ERR bit is not an integer or out of range")),
        ("setbit k -1 1", Some("ERR bit offset is not an integer or out of range")),
        ("setbit k x 1", Some("ERR bit offset is not an integer or out of range")),
        ("setbit k 4294967295 1", None),
        ("setbit k 4294967296 1", Some("ERR bit offset is not an integer or out of range")),
        ("setbit k x 2", Some("ERR bit offset is not an integer or out of range")),
        ("setbit k 0 01", Some("ERR bit is not an integer or out of range")),
        ("setbit k 0 +1", Some("ERR bit is not an integer or out of range")),
        ("setbit k 0", Some("ERR wrong number of arguments for 'setbit' command")),
        ("getbit k 0", None),
        ("getbit k -1", Some("ERR bit offset is not an integer or out of range")),
        ("getbit k x", Some("ERR bit offset is not an integer or out of range")),
        ("getbit k 4294967295", None),
        ("getbit k 4294967296", Some("ERR bit offset is not an integer or out of range")),
        ("getbit k", Some("ERR wrong number of arguments for 'getbit' command")),
        ("bitcount k", None),
        ("bitcount k 0 1", None),
        ("bitcount k 0 1 byte", None),
        ("bitcount k 0 1 BIT", None),
        ("bitcount k 0 1 foo", None),
        ("bitcount k 0", None),
        ("bitcount k x 1", None),
        ("bitcount k 0 x", None),
        ("bitcount k 0 1 bit x", None),
        ("bitcount k x y foo", None),
        ("bitcount k 0 1 2 3", None),
        ("bitcount k 0", None), // WRONGTYPE Operation against a key holding the wrong kind of value
        ("bitcount k x 1", None), // WRONGTYPE Operation against a key holding the wrong kind of value
        ("setrange k -1 v", Some("ERR offset is out of range")),
        ("setrange k 536870912 v", None), // WRONGTYPE Operation against a key holding the wrong kind of value
        ("setrange k 536870912 ", Some("ERR wrong number of arguments for 'setrange' command")),
        ("getrange k x 1", Some("ERR value is not an integer or out of range")),
        ("getex k ex 0", None), // WRONGTYPE Operation against a key holding the wrong kind of value
        ("getex k foo", Some("ERR syntax error")),
];

/// Replies with a string under the key.
#[rustfmt::skip]
const STRING_EXISTING_CASES: &[(&str, Option<&str>)] = &[
        ("bitcount k 0", Some("ERR syntax error")),
        ("bitcount k 0 1 foo", Some("ERR syntax error")),
        ("bitcount k x 1", Some("ERR value is not an integer or out of range")),
        ("bitcount k x y foo", Some("ERR value is not an integer or out of range")),
        ("bitcount k 0 1 2 3", Some("ERR syntax error")),
        ("getrange k x 1", Some("ERR value is not an integer or out of range")),
        ("setrange k -1 v", Some("ERR offset is out of range")),
        ("setrange k 536870912 v", None), // size checked at execution
        ("setbit k x 1", Some("ERR bit offset is not an integer or out of range")),
        ("setbit k 0 2", Some("ERR bit is not an integer or out of range")),
        ("getbit k x", Some("ERR bit offset is not an integer or out of range")),
        ("getex k ex x", Some("ERR value is not an integer or out of range")),
        ("getex k ex 0", Some("ERR invalid expire time in 'getex' command")),
        ("getex k px -1", Some("ERR invalid expire time in 'getex' command")),
        ("getex k exat 0", Some("ERR invalid expire time in 'getex' command")),
        ("getex k ex 9223372036854775807", Some("ERR invalid expire time in 'getex' command")),
        ("getex k ex 9223372036854775", None), // overflows once the clock is added: the executor's check
        ("getex k ex 9223372036854776", Some("ERR invalid expire time in 'getex' command")),
        ("getex k px 9223372036854775807", None), // overflows once the clock is added: the executor's check
        ("getex k pxat 9223372036854775807", None),
        ("getex k exat 9223372036854775", None),
        ("getex k ex 10 ex x", Some("ERR value is not an integer or out of range")),
        ("getex k ex x ex 10", None),
];

#[test]
fn set_and_string_redis_cases() {
    check(SET_CASES);
    check_existing(SSCAN_EXISTING_CASES);
    check(STRING_CASES);
    check_existing(STRING_EXISTING_CASES);
}

#[test]
fn set_commands() {
    assert_eq!(
        ok("smismember s a b"),
        Command::SMIsMember {
            key: b("s"),
            members: vec![b("a"), b("b")]
        }
    );
    assert_eq!(
        ok("spop s"),
        Command::SPop {
            key: b("s"),
            count: None
        }
    );
    assert_eq!(
        ok("spop s 0"),
        Command::SPop {
            key: b("s"),
            count: Some(0)
        }
    );
    assert_eq!(
        ok("srandmember s -9223372036854775807"),
        Command::SRandMember {
            key: b("s"),
            count: Some(-i64::MAX)
        }
    );
    for (line, op, dest, name) in [
        ("sinter a b", SetOp::Inter, None, "sinter"),
        ("SUNION a b", SetOp::Union, None, "sunion"),
        ("sdiff a b", SetOp::Diff, None, "sdiff"),
        (
            "sinterstore d a b",
            SetOp::Inter,
            Some(b("d")),
            "sinterstore",
        ),
        (
            "sunionstore d a b",
            SetOp::Union,
            Some(b("d")),
            "sunionstore",
        ),
        ("sdiffstore d a b", SetOp::Diff, Some(b("d")), "sdiffstore"),
    ] {
        let c = ok(line);
        assert_eq!(
            c,
            Command::SCombine {
                op,
                keys: vec![b("a"), b("b")],
                dest: dest.clone()
            }
        );
        assert_eq!(c.name(), name);
        assert_eq!(c.is_write(), dest.is_some(), "{line}");
        let mut want = vec![b("a"), b("b")];
        if let Some(d) = dest {
            want.insert(0, d);
        }
        assert_eq!(c.keys(), want.iter().collect::<Vec<_>>());
        assert_eq!(c.key(), None);
    }
    let c = ok("smove a b m");
    assert_eq!(
        c,
        Command::SMove {
            src: b("a"),
            dst: b("b"),
            member: b("m")
        }
    );
    assert_eq!(c.keys(), vec![&b("a"), &b("b")]);
    assert!(c.is_write());
    assert_eq!(
        ok("sscan s 7 match x*"),
        Command::SScan {
            key: b("s"),
            cursor: 7,
            opts: Ok(ScanOpts {
                pattern: Some(b("x*")),
                count: 10
            })
        }
    );
    assert_eq!(
        ok("sintercard 2 a b limit 3 LIMIT 0"),
        Command::SInterCard {
            keys: vec![b("a"), b("b")],
            limit: 0
        }
    );
    assert_eq!(ok("sintercard 2 a b").keys(), vec![&b("a"), &b("b")]);
    assert!(!ok("sintercard 1 a").is_write());
}

#[test]
fn string_additions() {
    assert_eq!(
        ok("msetnx a 1 b 2"),
        Command::MSetNx(vec![(b("a"), b("1")), (b("b"), b("2"))])
    );
    assert_eq!(ok("msetnx a 1 b 2").keys(), vec![&b("a"), &b("b")]);
    assert_eq!(ok("msetnx a 1").key(), None);
    assert_eq!(
        ok("getrange k -1 9223372036854775807"),
        Command::GetRange {
            key: b("k"),
            start: -1,
            end: i64::MAX
        }
    );
    assert_eq!(
        ok("setrange k 536870912 v"),
        Command::SetRange {
            key: b("k"),
            offset: 536_870_912,
            value: b("v")
        }
    );
    assert_eq!(
        ok("setbit k 4294967295 1"),
        Command::SetBit {
            key: b("k"),
            offset: 4_294_967_295,
            bit: true
        }
    );
    assert_eq!(
        ok("getbit k 7"),
        Command::GetBit {
            key: b("k"),
            offset: 7
        }
    );
    let getex = |line: &str| match ok(line) {
        Command::GetEx { ttl, .. } => ttl.map_err(|e| e.text().to_string()),
        c => panic!("not getex: {c:?}"),
    };
    assert_eq!(getex("getex k"), Ok(GetExTtl::Keep));
    assert_eq!(getex("getex k persist PERSIST"), Ok(GetExTtl::Persist));
    assert_eq!(
        getex("getex k ex 10"),
        Ok(GetExTtl::Set(SetExpiry::RelMs(10_000)))
    );
    assert_eq!(
        getex("getex k ex 5 EX 10"),
        Ok(GetExTtl::Set(SetExpiry::RelMs(10_000)))
    );
    assert_eq!(
        getex("getex k px 10"),
        Ok(GetExTtl::Set(SetExpiry::RelMs(10)))
    );
    assert_eq!(
        getex("getex k exat 10"),
        Ok(GetExTtl::Set(SetExpiry::AtMs(10_000)))
    );
    assert_eq!(
        getex("getex k pxat 9223372036854775807"),
        Ok(GetExTtl::Set(SetExpiry::AtMs(i64::MAX)))
    );
    assert_eq!(
        getex("getex k ex 0"),
        Err("ERR invalid expire time in 'getex' command".to_string())
    );
    let bitcount = |line: &str| match ok(line) {
        Command::BitCount { range, .. } => range.map_err(|e| e.text().to_string()),
        c => panic!("not bitcount: {c:?}"),
    };
    assert_eq!(bitcount("bitcount k"), Ok(None));
    assert_eq!(
        bitcount("bitcount k 1 -1"),
        Ok(Some(BitRange {
            start: 1,
            end: -1,
            bit: false
        }))
    );
    assert_eq!(
        bitcount("bitcount k 0 7 BIT"),
        Ok(Some(BitRange {
            start: 0,
            end: 7,
            bit: true
        }))
    );
    assert_eq!(
        bitcount("bitcount k 0 7 byte"),
        Ok(Some(BitRange {
            start: 0,
            end: 7,
            bit: false
        }))
    );
    for (line, write) in [
        ("setrange k 0 v", true),
        ("setbit k 0 1", true),
        ("getex k", true),
        ("msetnx a 1", true),
        ("getrange k 0 1", false),
        ("getbit k 0", false),
        ("bitcount k", false),
    ] {
        assert_eq!(ok(line).is_write(), write, "{line}");
    }
}

#[rustfmt::skip]
const KEYS_CASES: &[(&str, Option<&str>)] = &[
        ("expireat k 10", None),
        ("expireat k -10", None),
        ("expireat k 0 nx", None),
        ("expireat k 10 xx gt", None),
        ("expireat k 10 nx xx", Some("ERR NX and XX, GT or LT options at the same time are not compatible")),
        ("expireat k 10 gt lt", Some("ERR GT and LT options at the same time are not compatible")),
        ("expireat k 10 foo", Some("ERR Unsupported option foo")),
        ("expireat k x", Some("ERR value is not an integer or out of range")),
        ("expireat k x foo", Some("ERR Unsupported option foo")),
        ("expireat k 9223372036854775", None),
        ("expireat k 9223372036854776", Some("ERR invalid expire time in 'expireat' command")),
        ("expireat k -9223372036854775", None),
        ("expireat k -9223372036854776", Some("ERR invalid expire time in 'expireat' command")),
        ("expireat k", Some("ERR wrong number of arguments for 'expireat' command")),
        ("pexpireat k 9223372036854775807", None),
        ("pexpireat k -9223372036854775808", None),
        ("pexpireat k 10 lt", None),
        ("pexpireat k x", Some("ERR value is not an integer or out of range")),
        ("pexpireat k 10 nx gt", Some("ERR NX and XX, GT or LT options at the same time are not compatible")),
        ("pexpire k 9223372036854775807", None), // overflows once the clock is added: the executor's check
        ("pexpire k x", Some("ERR value is not an integer or out of range")),
        ("pexpire k 10 NX xx", Some("ERR NX and XX, GT or LT options at the same time are not compatible")),
        ("expire k 9223372036854775", None), // overflows once the clock is added: the executor's check
        ("expire k 9223372036854776", Some("ERR invalid expire time in 'expire' command")),
        ("expiretime k", None),
        ("expiretime k x", Some("ERR wrong number of arguments for 'expiretime' command")),
        ("pexpiretime k", None),
        ("pexpiretime", Some("ERR wrong number of arguments for 'pexpiretime' command")),
        ("rename a b", None), // ERR no such key
        ("rename a a", None), // ERR no such key
        ("rename a", Some("ERR wrong number of arguments for 'rename' command")),
        ("renamenx a b", None), // ERR no such key
        ("renamenx a b c", Some("ERR wrong number of arguments for 'renamenx' command")),
        ("copy a b", None),
        ("copy a a", Some("ERR source and destination objects are the same")),
        ("copy a a db 0", Some("ERR source and destination objects are the same")),
        ("copy a a db 1", None),
        ("copy a b db 0", None),
        ("copy a b db 1", None),
        ("copy a b db 15", None),
        ("copy a b db 16", None), // ERR DB index is out of range
        ("copy a b db -1", None), // ERR DB index is out of range
        ("copy a b db x", Some("ERR value is not an integer or out of range")),
        ("copy a b db 4294967296", Some("ERR value is out of range, value must between -2147483648 and 2147483647")),
        ("copy a b db 2147483648", Some("ERR value is out of range, value must between -2147483648 and 2147483647")),
        ("copy a b db", Some("ERR syntax error")),
        ("copy a b replace", None),
        ("copy a b REPLACE db 0 replace", None),
        ("copy a b db 0 db 0", None),
        ("copy a b foo", Some("ERR syntax error")),
        ("copy a b db x foo", Some("ERR value is not an integer or out of range")),
        ("copy a b foo db x", Some("ERR syntax error")),
        ("copy a a foo", Some("ERR syntax error")),
        ("copy a a replace", Some("ERR source and destination objects are the same")),
        ("copy a", Some("ERR wrong number of arguments for 'copy' command")),
        ("randomkey", None),
        ("randomkey x", Some("ERR wrong number of arguments for 'randomkey' command")),
        ("touch a", None),
        ("touch a b", None),
        ("touch", Some("ERR wrong number of arguments for 'touch' command")),
        ("object encoding k", None),
        ("object freq k", None),
        ("object idletime k", None),
        ("object refcount k", None),
        ("object help", None),
        ("object HELP x", Some("ERR wrong number of arguments for 'object|help' command")),
        ("object encoding", Some("ERR wrong number of arguments for 'object|encoding' command")),
        ("object encoding k x", Some("ERR wrong number of arguments for 'object|encoding' command")),
        ("object foo k", Some("ERR unknown subcommand 'foo'. Try OBJECT HELP.")),
        ("object", Some("ERR wrong number of arguments for 'object' command")),
        ("flushall", None),
        ("flushall async", None),
        ("flushall sync", None),
        ("flushall foo", Some("ERR syntax error")),
        ("flushall async sync", Some("ERR syntax error")),
        ("flushdb ASYNC", None),
        ("flushdb foo", Some("ERR syntax error")),
        ("scan 0", None),
        ("scan x", Some("ERR invalid cursor")),
        ("scan 0 match a count 5 type string", None),
        ("scan 0 count 0", Some("ERR syntax error")),
        ("scan 0 type", Some("ERR syntax error")),
        ("scan 0 foo", Some("ERR syntax error")),
];

#[test]
fn keys_redis_cases() {
    check(KEYS_CASES);
    // Redis checks COPY's DB as it reads it; we leave it to the executor,
    // so a later syntax error wins here (see `parse_copy`).
    assert_eq!(err("copy a b db 99 foo"), "ERR syntax error");
}

#[test]
fn keys_additions() {
    assert_eq!(
        ok("pexpireat k 5 lt"),
        Command::Expire {
            name: "pexpireat",
            key: b("k"),
            at: ExpireAt::AtMs(5),
            cond: Some(ExpireCond::Lt)
        }
    );
    assert_eq!(expire("expireat k -3"), (ExpireAt::AtMs(-3000), None));
    assert_eq!(
        expire("pexpireat k -9223372036854775808"),
        (ExpireAt::AtMs(i64::MIN), None)
    );
    for (line, name) in [
        ("expire k 1", "expire"),
        ("PEXPIRE k 1", "pexpire"),
        ("expireat k 1", "expireat"),
        ("pexpireat k 1", "pexpireat"),
        ("expiretime k", "expiretime"),
        ("pexpiretime k", "pexpiretime"),
        ("rename a b", "rename"),
        ("renamenx a b", "renamenx"),
        ("copy a b", "copy"),
        ("randomkey", "randomkey"),
        ("touch a b", "touch"),
        ("object encoding k", "object|encoding"),
        ("object freq k", "object|freq"),
        ("object idletime k", "object|idletime"),
        ("object refcount k", "object|refcount"),
        ("object help", "object|help"),
    ] {
        assert_eq!(ok(line).name(), name, "{line}");
    }
    // The executor names the command actually sent in this error.
    match ok("pexpire k 1") {
        Command::Expire { name, .. } => assert_eq!(name, "pexpire"),
        c => panic!("{c:?}"),
    }
    assert_eq!(
        ok("pexpiretime k"),
        Command::ExpireTime {
            key: b("k"),
            ms: true
        }
    );
    let c = ok("renamenx a b");
    assert_eq!(
        c,
        Command::Rename {
            src: b("a"),
            dst: b("b"),
            nx: true
        }
    );
    assert_eq!(c.keys(), vec![&b("a"), &b("b")]);
    assert_eq!(c.key(), None);
    assert!(c.is_write());
    assert_eq!(
        ok("copy a b"),
        Command::Copy {
            src: b("a"),
            dst: b("b"),
            db: None,
            replace: false
        }
    );
    assert_eq!(
        ok("copy a a db -1 replace db 7"),
        Command::Copy {
            src: b("a"),
            dst: b("a"),
            db: Some(7),
            replace: true
        }
    );
    assert_eq!(ok("copy a b").keys(), vec![&b("a"), &b("b")]);
    assert_eq!(ok("randomkey"), Command::RandomKey);
    assert_eq!(ok("randomkey").keys(), Vec::<&Bytes>::new());
    assert_eq!(ok("touch a b"), Command::Touch(vec![b("a"), b("b")]));
    assert_eq!(ok("touch a b").keys(), vec![&b("a"), &b("b")]);
    assert_eq!(ok("OBJECT Encoding k"), Command::ObjectEncoding(b("k")));
    assert_eq!(ok("object freq k"), Command::ObjectFreq(b("k")));
    assert_eq!(ok("object idletime k"), Command::ObjectIdleTime(b("k")));
    assert_eq!(ok("object refcount k"), Command::ObjectRefCount(b("k")));
    assert_eq!(ok("object help"), Command::ObjectHelp);
    assert_eq!(ok("object encoding k").key(), Some(&b("k")));
    for (line, write) in [
        ("expireat k 1", true),
        ("rename a b", true),
        ("copy a b", true),
        ("touch a", false),
        ("object encoding k", false),
        ("expiretime k", false),
        ("randomkey", false),
    ] {
        assert_eq!(ok(line).is_write(), write, "{line}");
    }
}

#[rustfmt::skip]
const LIST_CASES: &[(&str, Option<&str>)] = &[
        ("lpush l a", None),
        ("lpush l a b", None),
        ("lpush l", Some("ERR wrong number of arguments for 'lpush' command")),
        ("rpush l a b", None),
        ("lpushx l a", None),
        ("rpushx l a b", None),
        ("rpushx l", Some("ERR wrong number of arguments for 'rpushx' command")),
        ("lpop l", None),
        ("lpop l 1", None),
        ("lpop l 0", None),
        ("lpop l -1", Some("ERR value is out of range, must be positive")),
        ("lpop l x", Some("ERR value is out of range, must be positive")),
        ("lpop l 1 2", Some("ERR wrong number of arguments for 'lpop' command")),
        ("rpop l 9223372036854775807", None),
        ("rpop l -9223372036854775808", Some("ERR value is out of range, must be positive")),
        ("lpop l 0", None),
        ("lpop l -1", Some("ERR value is out of range, must be positive")),
        ("lpop l x", Some("ERR value is out of range, must be positive")),
        ("lpop l 1 2", Some("ERR wrong number of arguments for 'lpop' command")),
        ("lrange l 0 -1", None),
        ("lrange l x 1", Some("ERR value is not an integer or out of range")),
        ("lrange l 0 x", Some("ERR value is not an integer or out of range")),
        ("lrange l 0", Some("ERR wrong number of arguments for 'lrange' command")),
        ("llen l", None),
        ("llen l x", Some("ERR wrong number of arguments for 'llen' command")),
        ("lindex l 0", None),
        ("lindex l x", None),
        ("lindex l -9223372036854775808", None),
        ("lindex l", Some("ERR wrong number of arguments for 'lindex' command")),
        ("lset l 0 v", None), // ERR no such key
        ("lset l x v", None), // ERR no such key
        ("lset l 0", Some("ERR wrong number of arguments for 'lset' command")),
        ("linsert l before p v", None),
        ("linsert l AFTER p v", None),
        ("linsert l middle p v", Some("ERR syntax error")),
        ("linsert l before p", Some("ERR wrong number of arguments for 'linsert' command")),
        ("lrem l 0 v", None),
        ("lrem l x v", Some("ERR value is not an integer or out of range")),
        ("lrem l -9223372036854775808 v", None),
        ("ltrim l 0 -1", None),
        ("ltrim l x 1", Some("ERR value is not an integer or out of range")),
        ("ltrim l 0 x", Some("ERR value is not an integer or out of range")),
        ("lpos l a", None),
        ("lpos l a rank 1", None),
        ("lpos l a rank -1", None),
        ("lpos l a rank 0", Some("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")),
        ("lpos l a rank x", Some("ERR value is not an integer or out of range")),
        ("lpos l a rank -9223372036854775808", None),
        ("lpos l a rank 9223372036854775807", None),
        ("lpos l a count 0", None),
        ("lpos l a count 5", None),
        ("lpos l a count -1", Some("ERR COUNT can't be negative")),
        ("lpos l a count x", Some("ERR COUNT can't be negative")),
        ("lpos l a maxlen 0", None),
        ("lpos l a maxlen 10", None),
        ("lpos l a maxlen -1", Some("ERR MAXLEN can't be negative")),
        ("lpos l a maxlen x", Some("ERR MAXLEN can't be negative")),
        ("lpos l a rank 1 count 2 maxlen 3", None),
        ("lpos l a rank 2 rank 3", None),
        ("lpos l a foo", Some("ERR syntax error")),
        ("lpos l a rank", Some("ERR syntax error")),
        ("lpos l a count", Some("ERR syntax error")),
        ("lpos l a rank 0 foo", Some("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")),
        ("lpos l a foo rank 0", Some("ERR syntax error")),
        ("lpos l a rank 0 count -1", Some("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")),
        ("lpos l a count -1 rank 0", Some("ERR COUNT can't be negative")),
        ("lpos l", Some("ERR wrong number of arguments for 'lpos' command")),
        ("lmove a b left right", None),
        ("lmove a b RIGHT left", None),
        ("lmove a b up left", Some("ERR syntax error")),
        ("lmove a b left up", Some("ERR syntax error")),
        ("lmove a b up up", Some("ERR syntax error")),
        ("lmove a b left", Some("ERR wrong number of arguments for 'lmove' command")),
        ("rpoplpush a b", None),
        ("rpoplpush a", Some("ERR wrong number of arguments for 'rpoplpush' command")),
        ("blpop a 0", None),
        ("blpop a b 1", None),
        ("blpop a 0.5", None),
        ("blpop a 0.001", None),
        ("blpop a 0.0001", None),
        ("blpop a -1", Some("ERR timeout is negative")),
        ("blpop a x", Some("ERR timeout is not a float or out of range")),
        ("blpop a 1e3", None),
        ("blpop a inf", Some("ERR timeout is negative")),
        ("blpop a +inf", Some("ERR timeout is negative")),
        ("blpop a nan", Some("ERR timeout is not a float or out of range")),
        ("blpop a 9223372036854775807", Some("ERR timeout is negative")),
        ("blpop a 9223372036854775", None),
        ("blpop a 9223372036854776", Some("ERR timeout is negative")),
        ("blpop a 9223372036854775.807", None),
        ("blpop a 1e20", Some("ERR timeout is negative")),
        ("blpop a", Some("ERR wrong number of arguments for 'blpop' command")),
        ("blpop a 0x10", None),
        ("blpop a -0", None),
        ("blpop a -0.0001", None),
        ("brpop a b 0.1", None),
        ("blmove a b left right 0.1", None),
        ("blmove a b left right x", Some("ERR timeout is not a float or out of range")),
        ("blmove a b left right -1", Some("ERR timeout is negative")),
        ("blmove a b up right 0.1", Some("ERR syntax error")),
        ("blmove a b up right x", Some("ERR syntax error")),
        ("blmove a b left right", Some("ERR wrong number of arguments for 'blmove' command")),
        ("brpoplpush a b 0.1", None),
        ("brpoplpush a b x", Some("ERR timeout is not a float or out of range")),
        ("brpoplpush a b -1", Some("ERR timeout is negative")),
        ("brpoplpush a b", Some("ERR wrong number of arguments for 'brpoplpush' command")),
        ("lindex l x", None), // WRONGTYPE Operation against a key holding the wrong kind of value
        ("lset l x v", None), // WRONGTYPE Operation against a key holding the wrong kind of value
        ("lrange l x 1", Some("ERR value is not an integer or out of range")),
        ("lrem l x v", Some("ERR value is not an integer or out of range")),
        ("ltrim l x 1", Some("ERR value is not an integer or out of range")),
        ("lpos l a rank 0", Some("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")),
        ("linsert l middle p v", Some("ERR syntax error")),
        ("lpop l x", Some("ERR value is out of range, must be positive")),
        ("blpop l x", Some("ERR timeout is not a float or out of range")),
        ("lindex l x", None),
        ("lset l x v", None), // ERR no such key
    // Finite for Redis's long double, out of range once converted.
    ("blpop a 1e999", Some("ERR timeout is negative")),
    ("blpop a -1e999", Some("ERR timeout is negative")),
];

/// Replies with a list under the key.
#[rustfmt::skip]
const LIST_EXISTING_CASES: &[(&str, Option<&str>)] = &[
        ("lindex l x", Some("ERR value is not an integer or out of range")),
        ("lset l x v", Some("ERR value is not an integer or out of range")),
        ("lindex l 9223372036854775808", Some("ERR value is not an integer or out of range")),
        ("lpop l x", Some("ERR value is out of range, must be positive")),
];

#[test]
fn list_redis_cases() {
    check(LIST_CASES);
    check_existing(LIST_EXISTING_CASES);
}

fn timeout(line: &str) -> Option<u64> {
    match ok(line) {
        Command::BPop { timeout_ms, .. } | Command::BLMove { timeout_ms, .. } => timeout_ms,
        c => panic!("not blocking: {c:?}"),
    }
}

#[test]
fn list_commands() {
    for (line, left, xx, name) in [
        ("lpush l a b", true, false, "lpush"),
        ("rpush l a b", false, false, "rpush"),
        ("lpushx l a b", true, true, "lpushx"),
        ("RPUSHX l a b", false, true, "rpushx"),
    ] {
        let c = ok(line);
        assert_eq!(
            c,
            Command::ListPush {
                key: b("l"),
                values: vec![b("a"), b("b")],
                left,
                xx
            }
        );
        assert_eq!(c.name(), name);
        assert!(c.is_write());
    }
    assert_eq!(
        ok("lpop l"),
        Command::ListPop {
            key: b("l"),
            left: true,
            count: None
        }
    );
    assert_eq!(
        ok("rpop l 0"),
        Command::ListPop {
            key: b("l"),
            left: false,
            count: Some(0)
        }
    );
    assert_eq!(ok("rpop l").name(), "rpop");
    assert_eq!(
        ok("lrange l 0 -1"),
        Command::LRange {
            key: b("l"),
            start: 0,
            stop: -1
        }
    );
    assert_eq!(
        ok("ltrim l 1 -2"),
        Command::LTrim {
            key: b("l"),
            start: 1,
            stop: -2
        }
    );
    assert_eq!(ok("llen l"), Command::LLen(b("l")));
    assert_eq!(
        ok("lindex l -1"),
        Command::LIndex {
            key: b("l"),
            index: Ok(-1)
        }
    );
    assert_eq!(
        ok("lset l 2 v"),
        Command::LSet {
            key: b("l"),
            index: Ok(2),
            value: b("v")
        }
    );
    assert_eq!(
        ok("linsert l BEFORE p v"),
        Command::LInsert {
            key: b("l"),
            before: true,
            pivot: b("p"),
            value: b("v")
        }
    );
    assert_eq!(
        ok("lrem l -2 v"),
        Command::LRem {
            key: b("l"),
            count: -2,
            value: b("v")
        }
    );
    assert_eq!(
        ok("lpos l e"),
        Command::LPos {
            key: b("l"),
            element: b("e"),
            rank: 1,
            count: None,
            maxlen: 0
        }
    );
    assert_eq!(
        ok("lpos l e RANK -2 count 0 maxlen 9 rank 3"),
        Command::LPos {
            key: b("l"),
            element: b("e"),
            rank: 3,
            count: Some(0),
            maxlen: 9
        }
    );
    let c = ok("lmove a b right LEFT");
    assert_eq!(
        c,
        Command::LMove {
            name: "lmove",
            src: b("a"),
            dst: b("b"),
            from: ListEnd::Right,
            to: ListEnd::Left
        }
    );
    assert_eq!(c.keys(), vec![&b("a"), &b("b")]);
    assert_eq!(c.key(), None);
    assert_eq!(
        ok("rpoplpush a b"),
        Command::LMove {
            name: "rpoplpush",
            src: b("a"),
            dst: b("b"),
            from: ListEnd::Right,
            to: ListEnd::Left
        }
    );
    assert_eq!(
        ok("blmove a b left left 1.5"),
        Command::BLMove {
            name: "blmove",
            src: b("a"),
            dst: b("b"),
            from: ListEnd::Left,
            to: ListEnd::Left,
            timeout_ms: Some(1500)
        }
    );
    assert_eq!(
        ok("brpoplpush a b 0"),
        Command::BLMove {
            name: "brpoplpush",
            src: b("a"),
            dst: b("b"),
            from: ListEnd::Right,
            to: ListEnd::Left,
            timeout_ms: None
        }
    );
    let c = ok("brpop a b 2");
    assert_eq!(
        c,
        Command::BPop {
            keys: vec![b("a"), b("b")],
            left: false,
            timeout_ms: Some(2000)
        }
    );
    assert_eq!(c.keys(), vec![&b("a"), &b("b")]);
    assert_eq!(c.name(), "brpop");
    assert!(c.is_write());
    assert_eq!(ok("blpop a 0").name(), "blpop");
    // Seconds × 1000, rounded up; 0 (and what rounds up to 0) is forever.
    assert_eq!(timeout("blpop a 0"), None);
    assert_eq!(timeout("blpop a -0"), None);
    assert_eq!(timeout("blpop a -0.0009"), None);
    assert_eq!(timeout("blpop a 0.0001"), Some(1));
    assert_eq!(timeout("blpop a 0.0009"), Some(1));
    assert_eq!(timeout("blpop a 0.001"), Some(1));
    assert_eq!(timeout("blpop a 0x10"), Some(16_000));
    assert_eq!(timeout("blpop a 1e3"), Some(1_000_000));
    assert_eq!(
        timeout("blpop a 9223372036854775"),
        Some(9_223_372_036_854_775_000)
    );
    for (line, write) in [
        ("lrange l 0 1", false),
        ("lindex l 0", false),
        ("lpos l a", false),
        ("llen l", false),
        ("lset l 0 v", true),
        ("linsert l after p v", true),
        ("ltrim l 0 1", true),
        ("lrem l 0 v", true),
        ("lmove a b left right", true),
        ("blmove a b left right 0", true),
    ] {
        assert_eq!(ok(line).is_write(), write, "{line}");
    }
}

#[rustfmt::skip]
const TX_PUBSUB_CASES: &[(&str, Option<&str>)] = &[
        ("multi x", Some("ERR wrong number of arguments for 'multi' command")),
        ("exec x", Some("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command")),
        ("discard x", Some("ERR wrong number of arguments for 'discard' command")),
        ("watch", Some("ERR wrong number of arguments for 'watch' command")),
        ("watch a", None),
        ("watch a b", None),
        ("unwatch x", Some("ERR wrong number of arguments for 'unwatch' command")),
        ("unwatch", None),
        ("subscribe", Some("ERR wrong number of arguments for 'subscribe' command")),
        ("psubscribe", Some("ERR wrong number of arguments for 'psubscribe' command")),
        ("unsubscribe a", None),
        ("punsubscribe a", None),
        ("publish c", Some("ERR wrong number of arguments for 'publish' command")),
        ("publish c m", None),
        ("publish c m x", Some("ERR wrong number of arguments for 'publish' command")),
        ("pubsub", Some("ERR wrong number of arguments for 'pubsub' command")),
        ("pubsub channels", None),
        ("pubsub channels a*", None),
        ("pubsub channels a b", Some("ERR unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB HELP.")),
        ("pubsub numsub", None),
        ("pubsub numsub a b", None),
        ("pubsub numpat", None),
        ("pubsub numpat x", Some("ERR wrong number of arguments for 'pubsub|numpat' command")),
        ("pubsub help", None),
        ("pubsub help x", Some("ERR wrong number of arguments for 'pubsub|help' command")),
        ("pubsub foo", Some("ERR unknown subcommand 'foo'. Try PUBSUB HELP.")),
    ("EXEC x", Some("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command")),
    ("PubSub CHANNELS a b", Some("ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.")),
];

#[test]
fn tx_and_pubsub_redis_cases() {
    check(TX_PUBSUB_CASES);
    // Sharded pub/sub (SSUBSCRIBE, PUBSUB SHARD*) is not implemented.
    assert_eq!(
        err("pubsub shardchannels"),
        "ERR unknown subcommand 'shardchannels'. Try PUBSUB HELP."
    );
}

#[test]
fn tx_and_pubsub_commands() {
    assert_eq!(ok("multi"), Command::Multi);
    assert_eq!(ok("EXEC"), Command::Exec);
    assert_eq!(ok("discard"), Command::Discard);
    assert_eq!(ok("unwatch"), Command::Unwatch);
    let c = ok("watch a b");
    assert_eq!(c, Command::Watch(vec![b("a"), b("b")]));
    assert_eq!(c.keys(), vec![&b("a"), &b("b")]);
    assert_eq!(c.key(), None);
    assert_eq!(
        ok("subscribe a b"),
        Command::Subscribe(vec![b("a"), b("b")])
    );
    assert_eq!(ok("psubscribe a*"), Command::PSubscribe(vec![b("a*")]));
    assert_eq!(ok("unsubscribe"), Command::Unsubscribe(vec![]));
    assert_eq!(ok("punsubscribe a*"), Command::PUnsubscribe(vec![b("a*")]));
    assert_eq!(
        ok("publish c m"),
        Command::Publish {
            channel: b("c"),
            message: b("m")
        }
    );
    assert_eq!(ok("pubsub channels"), Command::PubSubChannels(None));
    assert_eq!(
        ok("pubsub channels a*"),
        Command::PubSubChannels(Some(b("a*")))
    );
    assert_eq!(ok("pubsub numsub"), Command::PubSubNumSub(vec![]));
    assert_eq!(
        ok("pubsub numsub a b"),
        Command::PubSubNumSub(vec![b("a"), b("b")])
    );
    assert_eq!(ok("pubsub numpat"), Command::PubSubNumPat);
    assert_eq!(ok("pubsub help"), Command::PubSubHelp);
    for (line, name) in [
        ("multi", "multi"),
        ("exec", "exec"),
        ("discard", "discard"),
        ("watch a", "watch"),
        ("unwatch", "unwatch"),
        ("subscribe a", "subscribe"),
        ("psubscribe a", "psubscribe"),
        ("unsubscribe", "unsubscribe"),
        ("punsubscribe", "punsubscribe"),
        ("publish c m", "publish"),
        ("pubsub channels", "pubsub|channels"),
        ("pubsub numsub", "pubsub|numsub"),
        ("pubsub numpat", "pubsub|numpat"),
        ("pubsub help", "pubsub|help"),
    ] {
        let c = ok(line);
        assert_eq!(c.name(), name, "{line}");
        assert!(!c.is_write(), "{line}");
        assert_eq!(c.key(), None, "{line}");
    }
    assert_eq!(ok("publish c m").keys(), Vec::<&Bytes>::new());
}

/// One valid request per table entry (subcommands included).
const EXAMPLES: &[&str] = &[
    "client setname x",
    "client getname",
    "client id",
    "client list",
    "client info",
    "client no-evict on",
    "client help",
    "client setinfo lib-name x",
    "client no-touch off",
    "command count",
    "command docs",
    "command info",
    "command list",
    "command help",
    "config get x",
    "config set x y",
    "config resetstat",
    "config help",
    "object encoding k",
    "object freq k",
    "object idletime k",
    "object refcount k",
    "object help",
    "pubsub channels",
    "pubsub numsub a",
    "pubsub numpat",
    "pubsub help",
    "ping",
    "echo x",
    "hello",
    "auth p",
    "quit",
    "reset",
    "select 0",
    "command",
    "info",
    "dbsize",
    "flushall",
    "flushdb",
    "time",
    "keys *",
    "scan 0",
    "get k",
    "set k v",
    "mget a b",
    "mset a 1 b 2",
    "setnx k v",
    "getset k v",
    "getdel k",
    "append k v",
    "strlen k",
    "incr k",
    "decr k",
    "incrby k 1",
    "decrby k 1",
    "incrbyfloat k 1",
    "setex k 1 v",
    "psetex k 1 v",
    "sadd s a",
    "srem s a",
    "smembers s",
    "sismember s a",
    "scard s",
    "del a b",
    "unlink a b",
    "exists a b",
    "type k",
    "expire k 1",
    "pexpire k 1",
    "ttl k",
    "pttl k",
    "persist k",
    "hset h f v",
    "hsetnx h f v",
    "hget h f",
    "hmget h f",
    "hmset h f v",
    "hgetall h",
    "hdel h f",
    "hexists h f",
    "hlen h",
    "hkeys h",
    "hvals h",
    "hstrlen h f",
    "hincrby h f 1",
    "hincrbyfloat h f 1",
    "hscan h 0",
    "hrandfield h",
    "zadd z 1 m",
    "zincrby z 1 m",
    "zrem z m",
    "zscore z m",
    "zmscore z m",
    "zcard z",
    "zcount z 0 1",
    "zrange z 0 1",
    "zrangestore d z 0 1",
    "zrangebyscore z 0 1",
    "zrevrange z 0 1",
    "zrevrangebyscore z 1 0",
    "zrangebylex z - +",
    "zrevrangebylex z + -",
    "zrank z m",
    "zrevrank z m",
    "zpopmin z",
    "zpopmax z",
    "zremrangebyscore z 0 1",
    "zremrangebyrank z 0 1",
    "zremrangebylex z - +",
    "zlexcount z - +",
    "zscan z 0",
    "zrandmember z",
    "zunionstore d 2 a b",
    "zinterstore d 2 a b",
    "zdiffstore d 2 a b",
    "smismember s a",
    "spop s",
    "srandmember s",
    "sinter a b",
    "sunion a b",
    "sdiff a b",
    "sinterstore d a b",
    "sunionstore d a b",
    "sdiffstore d a b",
    "smove a b m",
    "sscan s 0",
    "sintercard 2 a b",
    "getrange k 0 1",
    "setrange k 0 v",
    "getex k",
    "msetnx a 1 b 2",
    "setbit k 0 1",
    "getbit k 0",
    "bitcount k",
    "expireat k 1",
    "pexpireat k 1",
    "expiretime k",
    "pexpiretime k",
    "rename a b",
    "renamenx a b",
    "copy a b",
    "randomkey",
    "touch a b",
    "lpush l a",
    "rpush l a",
    "lpushx l a",
    "rpushx l a",
    "lpop l",
    "rpop l",
    "lrange l 0 1",
    "llen l",
    "lindex l 0",
    "lset l 0 v",
    "linsert l before p v",
    "lrem l 0 v",
    "ltrim l 0 1",
    "lpos l a",
    "lmove a b left right",
    "rpoplpush a b",
    "blpop a b 0",
    "brpop a b 0",
    "blmove a b left right 0",
    "brpoplpush a b 0",
    "multi",
    "exec",
    "discard",
    "watch a b",
    "unwatch",
    "subscribe a",
    "psubscribe a",
    "unsubscribe",
    "punsubscribe",
    "publish c m",
    "crdt.links",
    "crdt.pause",
    "crdt.resume",
    "crdt.digest",
    "crdt.group members",
];

/// Variants shared by several commands that report one canonical name.
const CANONICAL_NAMES: &[(&str, &str)] = &[
    ("incr", "incrby"),
    ("decr", "incrby"),
    ("decrby", "incrby"),
    ("psetex", "setex"),
];

#[test]
fn examples_cover_the_table_and_agree_with_it() {
    let mut covered = std::collections::HashSet::new();
    for line in EXAMPLES {
        let c = ok(line);
        let args: Vec<&str> = line.split(' ').collect();
        let spec = crate::table::lookup(args[0].as_bytes()).expect(line);
        let spec = match args.get(1) {
            Some(sub) if !spec.subcommands.is_empty() => {
                spec.subcommand(sub.as_bytes()).expect(line)
            }
            _ => spec,
        };
        covered.insert(spec.name);
        let want = CANONICAL_NAMES
            .iter()
            .find(|(n, _)| *n == spec.name)
            .map_or(spec.name, |(_, canonical)| canonical);
        assert_eq!(c.name(), want, "{line}");
        assert_eq!(c.is_write(), spec.flags.contains(&"write"), "{line}");
        // keys() agrees with the legacy key positions, except where they
        // cannot describe the keys (numkeys-style commands).
        if spec.first_key > 0 && !spec.flags.contains(&"movablekeys") {
            let last = if spec.last_key < 0 {
                args.len() as i32 + spec.last_key
            } else {
                spec.last_key
            };
            let want: Vec<Bytes> = (spec.first_key..=last)
                .step_by(spec.step as usize)
                .map(|i| b(args[i as usize]))
                .collect();
            assert_eq!(c.keys(), want.iter().collect::<Vec<_>>(), "{line}");
            assert_eq!(
                c.key().is_some(),
                want.len() == 1 && !line.starts_with("watch"),
                "{line}"
            );
        }
    }
    for spec in crate::table::COMMANDS {
        if spec.subcommands.is_empty() {
            assert!(covered.contains(spec.name), "no example for {}", spec.name);
        }
        for s in spec.subcommands {
            assert!(covered.contains(s.name), "no example for {}", s.name);
        }
    }
}
