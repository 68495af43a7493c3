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
