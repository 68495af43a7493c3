//! Property tests: no input makes the parsers panic, and the integer
//! parser agrees with a canonical-form reference.

use bytes::Bytes;
use meridian_resp::num::{parse_f64, parse_i64};
use meridian_resp::{glob_match, key_slot, Command};
use proptest::prelude::*;

fn word() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..12),
        prop::sample::select(vec![
            "set",
            "get",
            "ex",
            "px",
            "exat",
            "pxat",
            "nx",
            "xx",
            "gt",
            "lt",
            "get",
            "keepttl",
            "client",
            "setname",
            "config",
            "set",
            "command",
            "docs",
            "scan",
            "match",
            "count",
            "type",
            "hello",
            "auth",
            "expire",
            "pexpire",
            "0",
            "1",
            "-1",
            "10",
            "9223372036854775807",
            "-9223372036854775808",
            "inf",
            "1.5",
            "",
            // Families added later: command names and option words.
            "hset",
            "hrandfield",
            "hscan",
            "withvalues",
            "zadd",
            "zincrby",
            "zrange",
            "zrangestore",
            "zrevrangebyscore",
            "zrangebylex",
            "zunionstore",
            "zrandmember",
            "byscore",
            "bylex",
            "rev",
            "limit",
            "withscores",
            "weights",
            "aggregate",
            "ch",
            "incr",
            "(1",
            "[a",
            "+",
            "-",
            "-inf",
            "+inf",
            "sintercard",
            "spop",
            "srandmember",
            "getex",
            "persist",
            "setbit",
            "bitcount",
            "bit",
            "expireat",
            "copy",
            "db",
            "replace",
            "object",
            "encoding",
            "lpos",
            "rank",
            "maxlen",
            "lmove",
            "left",
            "right",
            "blpop",
            "blmove",
            "0.001",
            "1e999",
            "exec",
            "watch",
            "pubsub",
            "channels",
            "9223372036854775",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

proptest! {
    #[test]
    fn command_parse_never_panics(args in proptest::collection::vec(word(), 0..8)) {
        let args: Vec<Bytes> = args.into_iter().map(Bytes::from).collect();
        if let Ok(cmd) = Command::parse(args) {
            // Every parsed command has a table-backed name.
            prop_assert!(meridian_resp::table::lookup(cmd.name().as_bytes()).is_some());
            let _ = (cmd.keys(), cmd.is_write(), cmd.key());
        }
    }

    #[test]
    fn parse_i64_matches_canonical(s in "-?[0-9]{0,21}|[ +]?[0-9a-z.]{0,5}") {
        let want = s.parse::<i64>().ok().filter(|v| v.to_string() == s);
        prop_assert_eq!(parse_i64(s.as_bytes()), want);
    }

    #[test]
    fn parse_i64_roundtrip(v in any::<i64>()) {
        prop_assert_eq!(parse_i64(v.to_string().as_bytes()), Some(v));
    }

    #[test]
    fn parse_f64_never_panics(b in proptest::collection::vec(any::<u8>(), 0..40)) {
        if let Some(v) = parse_f64(&b) {
            prop_assert!(!v.is_nan());
        }
    }

    #[test]
    fn parse_f64_roundtrip(v in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
        prop_assert_eq!(parse_f64(format!("{v:e}").as_bytes()), Some(v));
        prop_assert_eq!(parse_f64(meridian_resp::num::format_double(v).as_bytes()), Some(v));
    }

    #[test]
    fn glob_never_panics(p in proptest::collection::vec(
        prop::sample::select(b"ab*?[]^-\\".to_vec()), 0..24),
        s in proptest::collection::vec(prop::sample::select(b"ab-]".to_vec()), 0..24),
        nocase in any::<bool>()) {
        let _ = glob_match(&p, &s, nocase);
        // A pattern without special characters matches only itself.
        let lit: Vec<u8> = s.iter().copied().filter(|c| c.is_ascii_alphabetic()).collect();
        prop_assert!(glob_match(&lit, &lit, false));
    }

    #[test]
    fn slot_in_range(k in proptest::collection::vec(any::<u8>(), 0..64)) {
        prop_assert!(key_slot(&k) < 16384);
    }
}
