//! Request decoder tests: golden frames, split points, error texts, and
//! property tests (no panics, nothing consumed on "need more", round-trip).

use bytes::{Bytes, BytesMut};
use meridian_resp::{parse_request, FrameError, Limits};
use proptest::prelude::*;

fn args(v: &[&[u8]]) -> Vec<Bytes> {
    v.iter().map(|a| Bytes::copy_from_slice(a)).collect()
}

fn parse_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, FrameError> {
    let mut buf = BytesMut::from(input);
    let mut out = Vec::new();
    while let Some(req) = parse_request(&mut buf, &Limits::default())? {
        out.push(req);
    }
    Ok(out)
}

fn err(input: &[u8]) -> String {
    let mut buf = BytesMut::from(input);
    loop {
        match parse_request(&mut buf, &Limits::default()) {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("no error for {:?}", String::from_utf8_lossy(input)),
            Err(FrameError::Protocol(s)) => return s,
        }
    }
}

fn encode(req: &[Bytes]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", req.len()).into_bytes();
    for a in req {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[test]
fn single_multibulk() {
    let mut buf = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"[..]);
    let r = parse_request(&mut buf, &Limits::default()).expect("ok");
    assert_eq!(r, Some(args(&[b"GET", b"key"])));
    assert!(buf.is_empty());
}

#[test]
fn pipelined_frames_and_leftover() {
    let input =
        b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\nPING\r\n*2\r\n$3\r\nGET";
    let mut buf = BytesMut::from(&input[..]);
    let l = Limits::default();
    assert_eq!(
        parse_request(&mut buf, &l).expect("1"),
        Some(args(&[b"PING"]))
    );
    assert_eq!(
        parse_request(&mut buf, &l).expect("2"),
        Some(args(&[b"SET", b"k", b""]))
    );
    assert_eq!(
        parse_request(&mut buf, &l).expect("3"),
        Some(args(&[b"PING"]))
    );
    assert_eq!(parse_request(&mut buf, &l).expect("4"), None);
    assert_eq!(&buf[..], b"*2\r\n$3\r\nGET");
}

#[test]
fn binary_safe_bulk() {
    let got = parse_all(b"*2\r\n$3\r\nSET\r\n$4\r\n\r\n\0\xff\r\n").expect("ok");
    assert_eq!(got, vec![args(&[b"SET", b"\r\n\0\xff"])]);
}

#[test]
fn empty_requests_are_skipped() {
    let got = parse_all(b"\r\n\n   \r\n*0\r\n*-1\r\nPING\r\n*-5\r\n").expect("ok");
    assert_eq!(got, vec![args(&[b"PING"])]);
    let mut buf = BytesMut::from(&b"*0\r\n"[..]);
    assert_eq!(
        parse_request(&mut buf, &Limits::default()).expect("ok"),
        None
    );
    assert!(buf.is_empty());
}

#[test]
fn every_split_point_is_incomplete_then_identical() {
    let input: &[u8] =
        b"*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$11\r\nhello world\r\nSET  \"a b\" 'c'\r\n*1\r\n$4\r\nPING\r\n";
    let whole = parse_all(input).expect("whole");
    assert_eq!(whole.len(), 3);
    for split in 0..input.len() {
        let mut buf = BytesMut::from(&input[..split]);
        let mut got = Vec::new();
        let l = Limits::default();
        while let Some(r) = parse_request(&mut buf, &l).expect("prefix") {
            got.push(r);
        }
        let before = buf.len();
        assert_eq!(parse_request(&mut buf, &l).expect("again"), None);
        assert_eq!(buf.len(), before, "consumed on None at split {split}");
        buf.extend_from_slice(&input[split..]);
        while let Some(r) = parse_request(&mut buf, &l).expect("rest") {
            got.push(r);
        }
        assert_eq!(got, whole, "split at {split}");
        assert!(buf.is_empty());
    }
}

#[test]
fn inline_basic_and_quotes() {
    assert_eq!(parse_all(b"PING\r\n").expect("ok"), vec![args(&[b"PING"])]);
    assert_eq!(parse_all(b"PING\n").expect("ok"), vec![args(&[b"PING"])]);
    assert_eq!(
        parse_all(b"  set  key   value \r\n").expect("ok"),
        vec![args(&[b"set", b"key", b"value"])]
    );
    assert_eq!(
        parse_all(b"set \"a b\" 'c d'\r\n").expect("ok"),
        vec![args(&[b"set", b"a b", b"c d"])]
    );
    assert_eq!(
        parse_all(b"set \"\\x41\\n\\t\\\"\\q\" 'it\\'s'\r\n").expect("ok"),
        vec![args(&[b"set", b"A\n\t\"q", b"it's"])]
    );
    assert_eq!(
        parse_all(b"echo \"\" ''\r\n").expect("ok"),
        vec![args(&[b"echo", b"", b""])]
    );
    // A quote may start mid-token, as in sdssplitargs.
    assert_eq!(
        parse_all(b"echo ab\"c d\"\r\n").expect("ok"),
        vec![args(&[b"echo", b"abc d"])]
    );
    // "\x" without hex digits is a plain escape of 'x'.
    assert_eq!(
        parse_all(b"echo \"\\xZZ\"\r\n").expect("ok"),
        vec![args(&[b"echo", b"xZZ"])]
    );
    // Vertical tab does not split tokens (only space, \t, \r, \n do).
    assert_eq!(
        parse_all(b"echo a\x0bb\r\n").expect("ok"),
        vec![args(&[b"echo", b"a\x0bb"])]
    );
}

#[test]
fn inline_unbalanced_quotes() {
    let want = "Protocol error: unbalanced quotes in request";
    assert_eq!(err(b"set \"abc\r\n"), want);
    assert_eq!(err(b"set 'abc\r\n"), want);
    assert_eq!(err(b"set \"a\"b\r\n"), want);
    assert_eq!(err(b"set 'a'b\r\n"), want);
}

#[test]
fn protocol_error_texts() {
    assert_eq!(err(b"*abc\r\n"), "Protocol error: invalid multibulk length");
    assert_eq!(err(b"*\r\n"), "Protocol error: invalid multibulk length");
    assert_eq!(
        err(b"*1048577\r\n"),
        "Protocol error: invalid multibulk length"
    );
    assert_eq!(
        err(b"*1\r\n+foo\r\n"),
        "Protocol error: expected '$', got '+'"
    );
    assert_eq!(err(b"*1\r\n\r\n"), "Protocol error: expected '$', got ' '");
    assert_eq!(err(b"*1\r\n$-1\r\n"), "Protocol error: invalid bulk length");
    assert_eq!(err(b"*1\r\n$x\r\n"), "Protocol error: invalid bulk length");
    assert_eq!(
        err(b"*1\r\n$536870913\r\n"),
        "Protocol error: invalid bulk length"
    );
    let big = vec![b'a'; 64 * 1024 + 1];
    assert_eq!(err(&big), "Protocol error: too big inline request");
    let mut mb = b"*".to_vec();
    mb.extend_from_slice(&big);
    assert_eq!(err(&mb), "Protocol error: too big mbulk count string");
    let mut bb = b"*1\r\n$".to_vec();
    bb.extend_from_slice(&big);
    assert_eq!(err(&bb), "Protocol error: too big bulk count string");
    assert_eq!(
        err(b"*1\r\n$3\r\nfooXY"),
        "Protocol error: bulk data not terminated by CRLF"
    );
}

#[test]
fn big_inline_with_newline_is_fine() {
    // Redis only rejects an inline request when no newline is buffered.
    let mut line = vec![b'a'; 70 * 1024];
    line.extend_from_slice(b"\r\n");
    let got = parse_all(&line).expect("ok");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0][0].len(), 70 * 1024);
}

#[test]
fn custom_limits() {
    let l = Limits {
        proto_max_bulk_len: 3,
        max_multibulk_len: 2,
        max_inline_len: 8,
    };
    let mut b = BytesMut::from(&b"*1\r\n$4\r\nabcd\r\n"[..]);
    assert!(parse_request(&mut b, &l).is_err());
    let mut b = BytesMut::from(&b"*3\r\n"[..]);
    assert!(parse_request(&mut b, &l).is_err());
    let mut b = BytesMut::from(&b"*2\r\n$3\r\nabc\r\n$0\r\n\r\n"[..]);
    assert_eq!(
        parse_request(&mut b, &l).expect("ok"),
        Some(args(&[b"abc", b""]))
    );
    let mut b = BytesMut::from(&b"aaaaaaaaa"[..]);
    assert!(parse_request(&mut b, &l).is_err());
}

#[test]
fn huge_count_does_not_preallocate() {
    // A large declared count with no data must just wait for more bytes.
    let mut b = BytesMut::from(&b"*1048576\r\n"[..]);
    assert_eq!(parse_request(&mut b, &Limits::default()).expect("ok"), None);
    let mut b = BytesMut::from(&b"*1\r\n$536870912\r\n"[..]);
    assert_eq!(parse_request(&mut b, &Limits::default()).expect("ok"), None);
}

proptest! {
    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut buf = BytesMut::from(&data[..]);
        let l = Limits { max_inline_len: 64, ..Limits::default() };
        for _ in 0..data.len() + 1 {
            let before = buf.clone();
            match parse_request(&mut buf, &l) {
                Ok(Some(_)) => {}
                Ok(None) => {
                    // Only empty requests may have been consumed: parsing
                    // again consumes nothing and the rest is a suffix.
                    prop_assert!(before.ends_with(&buf));
                    let again = buf.clone();
                    prop_assert_eq!(parse_request(&mut buf, &l).ok(), Some(None));
                    prop_assert_eq!(&again[..], &buf[..]);
                    break;
                }
                Err(_) => break,
            }
        }
    }

    #[test]
    fn random_protocolish_never_panic(parts in proptest::collection::vec(
        prop_oneof![
            Just(&b"*"[..]), Just(&b"$"[..]), Just(&b"\r\n"[..]), Just(&b"\r"[..]),
            Just(&b"\n"[..]), Just(&b"1"[..]), Just(&b"2"[..]), Just(&b"-1"[..]),
            Just(&b"0"[..]), Just(&b"\""[..]), Just(&b"'"[..]), Just(&b"\\"[..]),
            Just(&b"x"[..]), Just(&b" "[..]), Just(&b"\\x4"[..]), Just(&b"\0"[..]),
        ], 0..64)) {
        let data: Vec<u8> = parts.concat();
        let mut buf = BytesMut::from(&data[..]);
        let l = Limits::default();
        while let Ok(Some(_)) = parse_request(&mut buf, &l) {}
    }

    #[test]
    fn multibulk_round_trip(reqs in proptest::collection::vec(
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..14), 1..6)) {
        let reqs: Vec<Vec<Bytes>> = reqs
            .into_iter()
            .map(|r| r.into_iter().map(Bytes::from).collect())
            .collect();
        let wire: Vec<u8> = reqs.iter().flat_map(|r| encode(r)).collect();
        prop_assert_eq!(parse_all(&wire).expect("valid"), reqs.clone());
        // Byte-by-byte feeding yields the same requests.
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for &b in &wire {
            buf.extend_from_slice(&[b]);
            while let Some(r) = parse_request(&mut buf, &Limits::default()).expect("valid") {
                got.push(r);
            }
        }
        prop_assert_eq!(got, reqs);
    }
}
