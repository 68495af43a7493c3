//! Tiny blocking RESP server over std::net, for poking the codec with
//! redis-cli / redis-benchmark (`cargo run -p meridian-resp --example
//! mini_server -- 6400`). Only what the codec needs to be exercised:
//! HELLO, PING, ECHO, COMMAND*, GET/SET on a HashMap; it is not Meridian.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;

use bytes::{Bytes, BytesMut};
use meridian_resp::{parse_request, table, Command, Limits, Protocol, ReplyWriter};

fn main() -> std::io::Result<()> {
    let port = std::env::args().nth(1).unwrap_or_else(|| "6400".into());
    let listener = TcpListener::bind(format!("127.0.0.1:{port}"))?;
    let mut db: HashMap<Bytes, Bytes> = HashMap::new();
    for stream in listener.incoming() {
        let mut s = stream?;
        let mut inbuf = BytesMut::with_capacity(16 * 1024);
        let mut proto = Protocol::Resp2;
        let mut chunk = [0u8; 16 * 1024];
        'conn: loop {
            let n = match s.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            inbuf.extend_from_slice(&chunk[..n]);
            let mut out = BytesMut::new();
            loop {
                let args = match parse_request(&mut inbuf, &Limits::default()) {
                    Ok(Some(a)) => a,
                    Ok(None) => break,
                    Err(e) => {
                        let mut w = ReplyWriter::new(&mut out, proto);
                        w.error(&format!("ERR {e}"));
                        let _ = s.write_all(&out);
                        break 'conn;
                    }
                };
                let cmd = Command::parse(args);
                let mut w = ReplyWriter::new(&mut out, proto);
                match cmd {
                    Err(e) => w.error(e.text()),
                    Ok(Command::Ping(None)) => w.simple("PONG"),
                    Ok(Command::Ping(Some(m))) | Ok(Command::Echo(m)) => w.bulk(&m),
                    Ok(Command::Hello { protover, .. }) => {
                        if protover == Some(3) {
                            proto = Protocol::Resp3;
                        } else if protover == Some(2) {
                            proto = Protocol::Resp2;
                        }
                        let mut w = ReplyWriter::new(&mut out, proto);
                        w.map(3);
                        w.bulk(b"server");
                        w.bulk(b"meridian");
                        w.bulk(b"proto");
                        w.int(if proto == Protocol::Resp3 { 3 } else { 2 });
                        w.bulk(b"mode");
                        w.bulk(b"standalone");
                    }
                    Ok(Command::Command) => table::write_info_reply(&mut w, &[]),
                    Ok(Command::CommandInfo(n)) => table::write_info_reply(&mut w, &n),
                    Ok(Command::CommandDocs(n)) => table::write_docs_reply(&mut w, &n),
                    Ok(Command::CommandList) => table::write_list_reply(&mut w),
                    Ok(Command::CommandCount) => w.int(table::COMMANDS.len() as i64),
                    Ok(Command::Get(k)) => match db.get(&k) {
                        Some(v) => w.bulk(v),
                        None => w.null(),
                    },
                    Ok(Command::Set { key, value, .. }) => {
                        db.insert(key, value);
                        w.ok();
                    }
                    Ok(Command::IncrByFloat { by, .. }) => {
                        w.bulk(meridian_resp::num::format_float_human(by).as_bytes())
                    }
                    Ok(Command::Quit) => {
                        w.ok();
                        let _ = s.write_all(&out);
                        break 'conn;
                    }
                    Ok(other) => w.error(&format!("ERR '{}' not in mini_server", other.name())),
                }
            }
            if s.write_all(&out).is_err() {
                break;
            }
        }
    }
    Ok(())
}
