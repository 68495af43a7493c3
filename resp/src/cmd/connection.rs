//! Connection commands: PING, ECHO, HELLO, AUTH, QUIT, RESET, SELECT and
//! the CLIENT subcommands.

use bytes::Bytes;

use super::{is_kw, CmdError, Command};
use crate::num;

/// `args` is arity-checked by the caller against the command table.
pub(super) fn parse(name: &'static str, args: Vec<Bytes>) -> Result<Command, CmdError> {
    let argc = args.len();
    let mut it = args.into_iter();
    it.next(); // command name
    if name.starts_with("client|") {
        it.next(); // subcommand name
    }
    let mut next = || it.next().unwrap_or_default();
    Ok(match name {
        "ping" => {
            // Table arity is -1; Redis's pingCommand itself caps it at 2.
            if argc > 2 {
                return Err(CmdError::arity("ping"));
            }
            Command::Ping(if argc == 2 { Some(next()) } else { None })
        }
        "echo" => Command::Echo(next()),
        "hello" => {
            let rest: Vec<Bytes> = std::iter::from_fn(|| Some(next())).take(argc - 1).collect();
            parse_hello(rest)?
        }
        "auth" => match argc {
            2 => Command::Auth {
                username: None,
                password: next(),
            },
            3 => Command::Auth {
                username: Some(next()),
                password: next(),
            },
            _ => return Err(CmdError::syntax()),
        },
        "quit" => Command::Quit,
        "reset" => Command::Reset,
        "select" => Command::Select(next()),
        "client|setname" => Command::ClientSetName(next()),
        "client|getname" => Command::ClientGetName,
        "client|id" => Command::ClientId,
        "client|setinfo" => {
            let attr = next();
            let value = next();
            parse_setinfo(attr, value)?
        }
        "client|list" => {
            // TYPE/ID filters are not supported; reject rather than
            // silently return an unfiltered list.
            if argc != 2 {
                return Err(CmdError::syntax());
            }
            Command::ClientList
        }
        "client|info" => Command::ClientInfo,
        "client|no-evict" => Command::ClientNoEvict(on_off(&next())?),
        "client|no-touch" => Command::ClientNoTouch(on_off(&next())?),
        _ => Command::ClientHelp,
    })
}

fn on_off(arg: &[u8]) -> Result<bool, CmdError> {
    if is_kw(arg, "on") {
        Ok(true)
    } else if is_kw(arg, "off") {
        Ok(false)
    } else {
        Err(CmdError::syntax())
    }
}

/// HELLO [protover [AUTH user pass] [SETNAME name]], as Redis 7's
/// helloCommand: the version is checked first, then options left to
/// right with repeats allowed (last wins).
fn parse_hello(rest: Vec<Bytes>) -> Result<Command, CmdError> {
    let mut protover = None;
    let mut auth = None;
    let mut setname = None;
    let mut it = rest.into_iter();
    if let Some(v) = it.next() {
        let ver = num::parse_i64(&v).ok_or_else(|| {
            CmdError::new("ERR Protocol version is not an integer or out of range")
        })?;
        if !(2..=3).contains(&ver) {
            return Err(CmdError::new("NOPROTO unsupported protocol version"));
        }
        protover = Some(ver as u8);
    }
    let opts: Vec<Bytes> = it.collect();
    let mut j = 0;
    while j < opts.len() {
        let more = opts.len() - j - 1;
        let opt = &opts[j];
        if is_kw(opt, "auth") && more >= 2 {
            auth = Some((opts[j + 1].clone(), opts[j + 2].clone()));
            j += 3;
        } else if is_kw(opt, "setname") && more >= 1 {
            setname = Some(opts[j + 1].clone());
            j += 2;
        } else {
            return Err(CmdError::Err(format!(
                "ERR Syntax error in HELLO option '{}'",
                super::error_text(opt)
            )));
        }
    }
    Ok(Command::Hello {
        protover,
        auth,
        setname,
    })
}

/// CLIENT SETINFO (Redis 7.2): only lib-name / lib-ver, and values made
/// of printable non-space ASCII.
fn parse_setinfo(attr: Bytes, value: Bytes) -> Result<Command, CmdError> {
    if !is_kw(&attr, "lib-name") && !is_kw(&attr, "lib-ver") {
        return Err(CmdError::Err(format!(
            "ERR Unrecognized option '{}'",
            super::error_text(&attr)
        )));
    }
    if value.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::Err(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            super::error_text(&attr)
        )));
    }
    Ok(Command::ClientSetInfo { attr, value })
}
