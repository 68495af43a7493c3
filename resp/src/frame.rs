//! Request decoding (client → server) with Redis 7's exact rules.
//!
//! Requests are either multibulk (`*<n>\r\n$<len>\r\n<bytes>\r\n…`) or
//! inline (a text line split like `sdssplitargs`). Like mini-redis, an
//! incomplete frame is a normal outcome (`Ok(None)`) and nothing is
//! consumed until a whole request is buffered. Validation runs once over
//! the headers, then the frame is split off the buffer and arguments are
//! sliced out of it without copying: the only allocation is the `Vec`.

use std::fmt;

use bytes::{Buf, Bytes, BytesMut};

use crate::num::parse_i64;

/// Size limits, defaults identical to Redis 7's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted bulk argument (`proto-max-bulk-len`).
    pub proto_max_bulk_len: u64,
    /// Largest accepted multibulk element count.
    pub max_multibulk_len: i64,
    /// Largest inline request / header line without a terminator
    /// (`PROTO_INLINE_MAX_SIZE`).
    pub max_inline_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            proto_max_bulk_len: 512 * 1024 * 1024,
            max_multibulk_len: 1024 * 1024,
            max_inline_len: 64 * 1024,
        }
    }
}

/// A fatal framing error: Redis replies `-ERR <text>` and closes the
/// connection. The text excludes the "ERR " prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    Protocol(String),
}

impl FrameError {
    fn proto(s: &str) -> Self {
        FrameError::Protocol(s.to_string())
    }

    /// The message without the "ERR " prefix.
    pub fn text(&self) -> &str {
        match self {
            FrameError::Protocol(s) => s,
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for FrameError {}

/// Decodes one complete request from the front of `buf`, removing its
/// bytes. `Ok(None)` means more bytes are needed and nothing was consumed
/// (except empty requests — blank inline lines, `*0`, `*-1` — which are
/// consumed and skipped, as Redis does).
pub fn parse_request(
    buf: &mut BytesMut,
    limits: &Limits,
) -> Result<Option<Vec<Bytes>>, FrameError> {
    loop {
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        if first == b'*' {
            // Remember the first few argument ranges during validation so
            // typical commands need a single pass over the headers.
            let mut ranges = [(0usize, 0usize); SMALL];
            let mut n = 0usize;
            let scan = scan_multibulk(buf, limits, |s, e| {
                if let Some(r) = ranges.get_mut(n) {
                    *r = (s, e);
                }
                n += 1;
            })?;
            let scan = match scan {
                Scan::Complete { len, argc } if argc <= SMALL => Scan::Small { len, argc, ranges },
                other => other,
            };
            match scan {
                Scan::Incomplete => return Ok(None),
                Scan::Empty(n) => buf.advance(n),
                Scan::Complete { len, argc } => {
                    let frame = buf.split_to(len).freeze();
                    let mut args = Vec::with_capacity(argc);
                    // Second walk over already-validated headers; it
                    // cannot fail, but stays on the checked code path so
                    // no input can make it panic.
                    scan_multibulk(&frame, limits, |s, e| args.push(frame.slice(s..e)))?;
                    return Ok(Some(args));
                }
                Scan::Small { len, argc, ranges } => {
                    let frame = buf.split_to(len).freeze();
                    let args = ranges[..argc]
                        .iter()
                        .map(|&(s, e)| frame.slice(s..e))
                        .collect();
                    return Ok(Some(args));
                }
            }
        } else {
            let Some(nl) = find(buf, 0, b'\n') else {
                if buf.len() > limits.max_inline_len {
                    return Err(FrameError::proto("Protocol error: too big inline request"));
                }
                return Ok(None);
            };
            let end = if nl > 0 && buf[nl - 1] == b'\r' {
                nl - 1
            } else {
                nl
            };
            let frame = buf.split_to(nl + 1).freeze();
            let args = split_args(&frame, end)?;
            if !args.is_empty() {
                return Ok(Some(args));
            }
        }
    }
}

/// Requests with at most this many arguments are decoded in one pass.
const SMALL: usize = 8;

enum Scan {
    Incomplete,
    /// Complete, with the argument ranges already collected.
    Small {
        len: usize,
        argc: usize,
        ranges: [(usize, usize); SMALL],
    },
    /// An empty multibulk (`*0`, `*-1`) of this many bytes.
    Empty(usize),
    Complete {
        len: usize,
        argc: usize,
    },
}

#[inline]
fn find(buf: &[u8], from: usize, c: u8) -> Option<usize> {
    buf.get(from..)?
        .iter()
        .position(|&b| b == c)
        .map(|i| i + from)
}

/// Walks a multibulk request at the start of `buf` following Redis's
/// `processMultibulkBuffer`, calling `on_arg(start, end)` for each bulk.
/// Like Redis, header lines end at the first `\r` and the byte after it is
/// skipped unchecked; bulk payloads must be followed by `\r\n`.
fn scan_multibulk(
    buf: &[u8],
    limits: &Limits,
    mut on_arg: impl FnMut(usize, usize),
) -> Result<Scan, FrameError> {
    let Some(cr) = find(buf, 0, b'\r') else {
        if buf.len() > limits.max_inline_len {
            return Err(FrameError::proto(
                "Protocol error: too big mbulk count string",
            ));
        }
        return Ok(Scan::Incomplete);
    };
    if cr + 2 > buf.len() {
        return Ok(Scan::Incomplete);
    }
    let count = match parse_i64(&buf[1..cr]) {
        Some(n) if n <= limits.max_multibulk_len => n,
        _ => {
            return Err(FrameError::proto(
                "Protocol error: invalid multibulk length",
            ))
        }
    };
    let mut pos = cr + 2;
    if count <= 0 {
        return Ok(Scan::Empty(pos));
    }
    let argc = count as usize;
    for _ in 0..argc {
        let Some(cr) = find(buf, pos, b'\r') else {
            if buf.len() - pos > limits.max_inline_len {
                return Err(FrameError::proto(
                    "Protocol error: too big bulk count string",
                ));
            }
            return Ok(Scan::Incomplete);
        };
        if cr + 2 > buf.len() {
            return Ok(Scan::Incomplete);
        }
        if buf[pos] != b'$' {
            // Redis sanitises CR/LF in error replies to spaces.
            let got = match buf[pos] {
                b'\r' | b'\n' => ' ',
                c => char::from(c),
            };
            return Err(FrameError::Protocol(format!(
                "Protocol error: expected '$', got '{got}'"
            )));
        }
        let len = match parse_i64(&buf[pos + 1..cr]) {
            Some(n) if n >= 0 && (n as u64) <= limits.proto_max_bulk_len => n as usize,
            _ => return Err(FrameError::proto("Protocol error: invalid bulk length")),
        };
        pos = cr + 2;
        if buf.len() - pos < len.saturating_add(2) {
            return Ok(Scan::Incomplete);
        }
        if &buf[pos + len..pos + len + 2] != b"\r\n" {
            // Redis skips these two bytes blindly; accepting garbage would
            // desynchronise the stream, so we reject it.
            return Err(FrameError::proto(
                "Protocol error: bulk data not terminated by CRLF",
            ));
        }
        on_arg(pos, pos + len);
        pos += len + 2;
    }
    Ok(Scan::Complete { len: pos, argc })
}

/// `isspace` in the C locale.
#[inline]
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Characters that end an unquoted token in `sdssplitargs` (note: a
/// narrower set than `isspace`, so "a\x0bb" is one token, as in Redis).
#[inline]
fn ends_token(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn unbalanced() -> FrameError {
    FrameError::proto("Protocol error: unbalanced quotes in request")
}

/// Port of Redis's `sdssplitargs` over `frame[..end]`. Plain tokens are
/// zero-copy slices; only quoted tokens (which may contain escapes) are
/// built into fresh buffers. Redis works on C strings, so a NUL byte ends
/// the line.
fn split_args(frame: &Bytes, end: usize) -> Result<Vec<Bytes>, FrameError> {
    let n = frame[..end].iter().position(|&c| c == 0).unwrap_or(end);
    let l = &frame[..n];
    let at = |i: usize| l.get(i).copied().unwrap_or(0);
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < n && is_space(l[p]) {
            p += 1;
        }
        if p >= n {
            return Ok(args);
        }
        let start = p;
        let mut q = p;
        while q < n && !ends_token(l[q]) && l[q] != b'"' && l[q] != b'\'' {
            q += 1;
        }
        if q >= n || ends_token(l[q]) {
            args.push(frame.slice(start..q));
            p = q;
            continue;
        }
        // Slow path: quotes somewhere in the token.
        let mut cur = l[start..q].to_vec();
        p = q;
        let (mut inq, mut insq) = (false, false);
        loop {
            let c = at(p);
            let mut done = false;
            if inq {
                if c == b'\\' && at(p + 1) == b'x' {
                    if let (Some(h), Some(lo)) = (hex_val(at(p + 2)), hex_val(at(p + 3))) {
                        cur.push(h * 16 + lo);
                        p += 3;
                    } else {
                        // "\x" without two hex digits: plain escape of 'x'.
                        p += 1;
                        cur.push(b'x');
                    }
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        o => o,
                    });
                } else if c == b'"' {
                    // A closing quote must be followed by space or the end.
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(unbalanced());
                    }
                    done = true;
                } else if c == 0 {
                    return Err(unbalanced());
                } else {
                    cur.push(c);
                }
            } else if insq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(unbalanced());
                    }
                    done = true;
                } else if c == 0 {
                    return Err(unbalanced());
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    _ => cur.push(c),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
            if done {
                break;
            }
        }
        args.push(Bytes::from(cur));
    }
}
