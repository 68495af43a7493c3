//! Reply encoding (server → client) for RESP2 and RESP3.
//!
//! One writer per connection batch appends straight into the output
//! buffer; RESP3-only types degrade to their RESP2 equivalents exactly as
//! Redis does, so command code never branches on the protocol itself.

use bytes::{BufMut, BytesMut};

use crate::num;
use crate::Protocol;

/// Appends encoded replies to an output buffer.
pub struct ReplyWriter<'a> {
    out: &'a mut BytesMut,
    proto: Protocol,
}

impl<'a> ReplyWriter<'a> {
    /// Wraps `out`; replies are appended after any existing content.
    pub fn new(out: &'a mut BytesMut, proto: Protocol) -> Self {
        ReplyWriter { out, proto }
    }

    /// The protocol this writer encodes for.
    /// The buffer replies are written to (to continue with another protocol version, as
    /// HELLO does).
    pub fn buffer(&mut self) -> &mut BytesMut {
        self.out
    }

    pub fn proto(&self) -> Protocol {
        self.proto
    }

    #[inline]
    fn is3(&self) -> bool {
        self.proto == Protocol::Resp3
    }

    /// Writes `<prefix><n>\r\n` without going through `format!` (hot path).
    #[inline]
    fn header(&mut self, prefix: u8, n: i64) {
        let mut buf = [0u8; 20];
        let start = num::write_i64(n, &mut buf);
        self.out.reserve(23);
        self.out.put_u8(prefix);
        self.out.put_slice(&buf[start..]);
        self.out.put_slice(b"\r\n");
    }

    #[inline]
    fn len_header(&mut self, prefix: u8, len: usize) {
        self.header(prefix, i64::try_from(len).unwrap_or(i64::MAX));
    }

    /// Simple string `+s\r\n`. `s` must not contain CR/LF; they are
    /// replaced by spaces so a bad caller cannot break framing.
    pub fn simple(&mut self, s: &str) {
        self.line(b'+', s.as_bytes());
    }

    /// `+OK\r\n`.
    pub fn ok(&mut self) {
        self.out.put_slice(b"+OK\r\n");
    }

    /// Error `-msg\r\n`; `msg` carries its code ("ERR …", "WRONGTYPE …").
    pub fn error(&mut self, msg: &str) {
        self.line(b'-', msg.as_bytes());
    }

    fn line(&mut self, prefix: u8, s: &[u8]) {
        self.out.reserve(s.len() + 3);
        self.out.put_u8(prefix);
        if s.iter().any(|&c| c == b'\r' || c == b'\n') {
            // Same sanitising Redis applies to error strings.
            self.out.extend(
                s.iter()
                    .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
            );
        } else {
            self.out.put_slice(s);
        }
        self.out.put_slice(b"\r\n");
    }

    /// Integer `:v\r\n`.
    pub fn int(&mut self, v: i64) {
        self.header(b':', v);
    }

    /// Bulk string `$len\r\nb\r\n`.
    pub fn bulk(&mut self, b: &[u8]) {
        self.out.reserve(b.len() + 25);
        self.len_header(b'$', b.len());
        self.out.put_slice(b);
        self.out.put_slice(b"\r\n");
    }

    /// Null bulk: RESP2 `$-1`, RESP3 `_`.
    pub fn null(&mut self) {
        if self.is3() {
            self.out.put_slice(b"_\r\n");
        } else {
            self.out.put_slice(b"$-1\r\n");
        }
    }

    /// Null array: RESP2 `*-1`, RESP3 `_`.
    pub fn null_array(&mut self) {
        if self.is3() {
            self.out.put_slice(b"_\r\n");
        } else {
            self.out.put_slice(b"*-1\r\n");
        }
    }

    /// Array header `*len`; the caller writes `len` elements next.
    pub fn array(&mut self, len: usize) {
        self.len_header(b'*', len);
    }

    /// Set header: RESP3 `~len`, RESP2 `*len`.
    pub fn set(&mut self, len: usize) {
        let p = if self.is3() { b'~' } else { b'*' };
        self.len_header(p, len);
    }

    /// Map header: RESP3 `%len` (len pairs), RESP2 flat `*(2*len)`.
    pub fn map(&mut self, len: usize) {
        if self.is3() {
            self.len_header(b'%', len);
        } else {
            self.len_header(b'*', len.saturating_mul(2));
        }
    }

    /// Push header: RESP3 `>len`, RESP2 `*len`.
    pub fn push(&mut self, len: usize) {
        let p = if self.is3() { b'>' } else { b'*' };
        self.len_header(p, len);
    }

    /// Double: RESP3 `,<%.17g>`, RESP2 bulk of the same text.
    pub fn double(&mut self, v: f64) {
        let s = num::format_double(v);
        if self.is3() {
            self.line(b',', s.as_bytes());
        } else {
            self.bulk(s.as_bytes());
        }
    }

    /// Boolean: RESP3 `#t`/`#f`, RESP2 `:1`/`:0`.
    pub fn boolean(&mut self, b: bool) {
        let s: &[u8] = match (self.is3(), b) {
            (true, true) => b"#t\r\n",
            (true, false) => b"#f\r\n",
            (false, true) => b":1\r\n",
            (false, false) => b":0\r\n",
        };
        self.out.put_slice(s);
    }

    /// Verbatim string: RESP3 `=len\r\nfmt:text\r\n` (fmt is the 3-char
    /// type such as "txt"), RESP2 plain bulk of `text`.
    pub fn verbatim(&mut self, fmt: &str, text: &[u8]) {
        if !self.is3() {
            self.bulk(text);
            return;
        }
        // The format is exactly three bytes on the wire; pad/truncate a
        // malformed one rather than emit an unparseable frame.
        let mut f = [b' '; 3];
        for (d, s) in f.iter_mut().zip(fmt.bytes()) {
            *d = s;
        }
        self.out.reserve(text.len() + 30);
        self.len_header(b'=', text.len() + 4);
        self.out.put_slice(&f);
        self.out.put_u8(b':');
        self.out.put_slice(text);
        self.out.put_slice(b"\r\n");
    }

    /// Pre-encoded bytes, appended verbatim.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(proto: Protocol, f: impl FnOnce(&mut ReplyWriter)) -> Vec<u8> {
        let mut out = BytesMut::new();
        let mut w = ReplyWriter::new(&mut out, proto);
        f(&mut w);
        out.to_vec()
    }

    fn both(f: impl Fn(&mut ReplyWriter)) -> (Vec<u8>, Vec<u8>) {
        (enc(Protocol::Resp2, &f), enc(Protocol::Resp3, &f))
    }

    fn check(f: impl Fn(&mut ReplyWriter), r2: &[u8], r3: &[u8]) {
        let (a, b) = both(f);
        assert_eq!(a, r2, "RESP2: {:?}", String::from_utf8_lossy(&a));
        assert_eq!(b, r3, "RESP3: {:?}", String::from_utf8_lossy(&b));
    }

    #[test]
    fn golden() {
        check(|w| w.simple("PONG"), b"+PONG\r\n", b"+PONG\r\n");
        check(|w| w.simple("a\r\nb"), b"+a  b\r\n", b"+a  b\r\n");
        check(|w| w.ok(), b"+OK\r\n", b"+OK\r\n");
        check(
            |w| w.error("ERR bad\r\nthing"),
            b"-ERR bad  thing\r\n",
            b"-ERR bad  thing\r\n",
        );
        check(|w| w.int(0), b":0\r\n", b":0\r\n");
        check(|w| w.int(-42), b":-42\r\n", b":-42\r\n");
        check(
            |w| w.int(i64::MIN),
            b":-9223372036854775808\r\n",
            b":-9223372036854775808\r\n",
        );
        check(
            |w| w.int(i64::MAX),
            b":9223372036854775807\r\n",
            b":9223372036854775807\r\n",
        );
        check(|w| w.bulk(b"hello"), b"$5\r\nhello\r\n", b"$5\r\nhello\r\n");
        check(|w| w.bulk(b""), b"$0\r\n\r\n", b"$0\r\n\r\n");
        check(
            |w| w.bulk(b"a\r\nb"),
            b"$4\r\na\r\nb\r\n",
            b"$4\r\na\r\nb\r\n",
        );
        check(|w| w.null(), b"$-1\r\n", b"_\r\n");
        check(|w| w.null_array(), b"*-1\r\n", b"_\r\n");
        check(|w| w.array(3), b"*3\r\n", b"*3\r\n");
        check(|w| w.array(0), b"*0\r\n", b"*0\r\n");
        check(|w| w.set(2), b"*2\r\n", b"~2\r\n");
        check(|w| w.map(2), b"*4\r\n", b"%2\r\n");
        check(|w| w.push(3), b"*3\r\n", b">3\r\n");
        check(|w| w.double(1.5), b"$3\r\n1.5\r\n", b",1.5\r\n");
        check(|w| w.double(2.0), b"$1\r\n2\r\n", b",2\r\n");
        check(
            |w| w.double(0.1),
            b"$19\r\n0.10000000000000001\r\n",
            b",0.10000000000000001\r\n",
        );
        check(|w| w.double(f64::INFINITY), b"$3\r\ninf\r\n", b",inf\r\n");
        check(
            |w| w.double(f64::NEG_INFINITY),
            b"$4\r\n-inf\r\n",
            b",-inf\r\n",
        );
        check(|w| w.boolean(true), b":1\r\n", b"#t\r\n");
        check(|w| w.boolean(false), b":0\r\n", b"#f\r\n");
        check(
            |w| w.verbatim("txt", b"hi there"),
            b"$8\r\nhi there\r\n",
            b"=12\r\ntxt:hi there\r\n",
        );
        check(|w| w.raw(b"+X\r\n"), b"+X\r\n", b"+X\r\n");
    }

    #[test]
    fn appends_and_reports_proto() {
        let mut out = BytesMut::from(&b"+A\r\n"[..]);
        let mut w = ReplyWriter::new(&mut out, Protocol::Resp3);
        assert_eq!(w.proto(), Protocol::Resp3);
        w.map(1);
        w.bulk(b"k");
        w.int(1);
        assert_eq!(&out[..], b"+A\r\n%1\r\n$1\r\nk\r\n:1\r\n");
    }
}
