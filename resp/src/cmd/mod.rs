//! Typed commands: the single dispatch point from argument vectors to
//! [`Command`] values.
//!
//! Parsing follows Redis 7's order of checks — unknown command, unknown
//! subcommand, arity (from the command table), then command-specific
//! options — so error replies are byte-identical to Redis's. One file per
//! command family keeps the option parsing next to the family it serves.

use bytes::Bytes;

use crate::num;
use crate::table::{self, CommandSpec};

mod connection;
mod crdt;
mod keys;
mod server;
mod set;
mod string;

/// A command rejected during parsing; the text is the full Redis error
/// reply ("ERR …", "NOPROTO …") without the leading '-'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    Err(String),
}

impl CmdError {
    /// The full error text to send after '-'.
    pub fn text(&self) -> &str {
        match self {
            CmdError::Err(s) => s,
        }
    }

    pub(crate) fn new(s: impl Into<String>) -> Self {
        CmdError::Err(s.into())
    }

    pub(crate) fn syntax() -> Self {
        CmdError::new("ERR syntax error")
    }

    pub(crate) fn not_int() -> Self {
        CmdError::new("ERR value is not an integer or out of range")
    }

    pub(crate) fn arity(name: &str) -> Self {
        CmdError::Err(format!(
            "ERR wrong number of arguments for '{name}' command"
        ))
    }
}

impl std::fmt::Display for CmdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for CmdError {}

/// SET's NX / XX condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetCond {
    Nx,
    Xx,
}

/// SET / SETEX expiry, already converted to milliseconds and validated
/// to be > 0 (the executor adds the clock for `RelMs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetExpiry {
    RelMs(i64),
    AtMs(i64),
}

/// EXPIRE's NX / XX / GT / LT condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireCond {
    Nx,
    Xx,
    Gt,
    Lt,
}

/// EXPIRE / PEXPIRE time in milliseconds relative to now; may be <= 0
/// (which deletes the key, as in Redis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireAt {
    RelMs(i64),
}

/// Every command Meridian understands, fully parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    // connection.rs
    Ping(Option<Bytes>),
    Echo(Bytes),
    Hello {
        protover: Option<u8>,
        auth: Option<(Bytes, Bytes)>,
        setname: Option<Bytes>,
    },
    Auth {
        username: Option<Bytes>,
        password: Bytes,
    },
    Quit,
    Reset,
    /// Raw argument: the executor produces SELECT's replies.
    Select(Bytes),
    ClientSetName(Bytes),
    ClientGetName,
    ClientId,
    ClientSetInfo {
        attr: Bytes,
        value: Bytes,
    },
    ClientList,
    ClientInfo,
    ClientNoEvict(bool),
    ClientNoTouch(bool),
    ClientHelp,
    // server.rs
    Command,
    CommandCount,
    CommandDocs(Vec<Bytes>),
    CommandInfo(Vec<Bytes>),
    CommandList,
    CommandHelp,
    ConfigGet(Vec<Bytes>),
    ConfigSet(Vec<(Bytes, Bytes)>),
    ConfigResetStat,
    ConfigHelp,
    Info(Vec<Bytes>),
    Dbsize,
    FlushAll,
    FlushDb,
    Time,
    Keys(Bytes),
    Scan {
        cursor: u64,
        pattern: Option<Bytes>,
        count: usize,
        kind: Option<Bytes>,
    },
    // crdt.rs
    CrdtLinks,
    CrdtPause,
    CrdtResume,
    CrdtDigest,
    // string.rs
    Get(Bytes),
    Set {
        key: Bytes,
        value: Bytes,
        expiry: Option<SetExpiry>,
        cond: Option<SetCond>,
        get: bool,
        keepttl: bool,
    },
    MGet(Vec<Bytes>),
    MSet(Vec<(Bytes, Bytes)>),
    SetNx {
        key: Bytes,
        value: Bytes,
    },
    GetSet {
        key: Bytes,
        value: Bytes,
    },
    GetDel(Bytes),
    Append {
        key: Bytes,
        value: Bytes,
    },
    Strlen(Bytes),
    /// INCR, DECR, INCRBY and DECRBY.
    IncrBy {
        key: Bytes,
        by: i64,
    },
    /// `by` is always finite.
    IncrByFloat {
        key: Bytes,
        by: f64,
    },
    /// SETEX (seconds converted) and PSETEX; `ms` > 0.
    SetEx {
        key: Bytes,
        value: Bytes,
        ms: i64,
    },
    // set.rs
    SAdd {
        key: Bytes,
        members: Vec<Bytes>,
    },
    SRem {
        key: Bytes,
        members: Vec<Bytes>,
    },
    SMembers(Bytes),
    SIsMember {
        key: Bytes,
        member: Bytes,
    },
    SCard(Bytes),
    // keys.rs
    Del(Vec<Bytes>),
    Unlink(Vec<Bytes>),
    Exists(Vec<Bytes>),
    Type(Bytes),
    /// EXPIRE (seconds converted) and PEXPIRE.
    Expire {
        key: Bytes,
        at: ExpireAt,
        cond: Option<ExpireCond>,
    },
    Ttl {
        key: Bytes,
        ms: bool,
    },
    Persist(Bytes),
}

/// Longest command name we bother to match; longer ones are unknown.
const MAX_NAME: usize = 32;

impl Command {
    /// Parses a request (`args[0]` is the command name, any case).
    pub fn parse(args: Vec<Bytes>) -> Result<Command, CmdError> {
        let Some(name) = args.first() else {
            // The framer never yields empty requests; be defensive anyway.
            return Err(unknown_command(&[]));
        };
        let Some(top) = lookup_top(name) else {
            return Err(unknown_command(&args));
        };
        let spec: &'static CommandSpec = if !top.subcommands.is_empty() && args.len() >= 2 {
            match top.subcommand(&args[1]) {
                Some(s) => s,
                None => return Err(unknown_subcommand(&args)),
            }
        } else {
            top
        };
        if !spec.arity_ok(args.len()) {
            return Err(CmdError::arity(spec.name));
        }
        dispatch(spec.name, args)
    }

    /// The single key of a single-key command; `None` for connection,
    /// server and multi-key commands.
    pub fn key(&self) -> Option<&Bytes> {
        match self {
            Self::Get(k)
            | Self::GetDel(k)
            | Self::Strlen(k)
            | Self::SMembers(k)
            | Self::SCard(k)
            | Self::Type(k)
            | Self::Persist(k) => Some(k),
            Self::Set { key, .. }
            | Self::SetNx { key, .. }
            | Self::GetSet { key, .. }
            | Self::Append { key, .. }
            | Self::IncrBy { key, .. }
            | Self::IncrByFloat { key, .. }
            | Self::SetEx { key, .. }
            | Self::SAdd { key, .. }
            | Self::SRem { key, .. }
            | Self::SIsMember { key, .. }
            | Self::Expire { key, .. }
            | Self::Ttl { key, .. } => Some(key),
            _ => None,
        }
    }

    /// Lowercase command name for statistics ("set", "client|setname").
    /// Commands that share a variant report the variant's canonical name
    /// (INCR/DECR/DECRBY → "incrby", PSETEX → "setex", PEXPIRE →
    /// "expire"), except TTL/PTTL which are told apart.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ping(_) => "ping",
            Self::Echo(_) => "echo",
            Self::Hello { .. } => "hello",
            Self::Auth { .. } => "auth",
            Self::Quit => "quit",
            Self::Reset => "reset",
            Self::Select(_) => "select",
            Self::ClientSetName(_) => "client|setname",
            Self::ClientGetName => "client|getname",
            Self::ClientId => "client|id",
            Self::ClientSetInfo { .. } => "client|setinfo",
            Self::ClientList => "client|list",
            Self::ClientInfo => "client|info",
            Self::ClientNoEvict(_) => "client|no-evict",
            Self::ClientNoTouch(_) => "client|no-touch",
            Self::ClientHelp => "client|help",
            Self::Command => "command",
            Self::CommandCount => "command|count",
            Self::CommandDocs(_) => "command|docs",
            Self::CommandInfo(_) => "command|info",
            Self::CommandList => "command|list",
            Self::CommandHelp => "command|help",
            Self::ConfigGet(_) => "config|get",
            Self::ConfigSet(_) => "config|set",
            Self::ConfigResetStat => "config|resetstat",
            Self::ConfigHelp => "config|help",
            Self::Info(_) => "info",
            Self::Dbsize => "dbsize",
            Self::FlushAll => "flushall",
            Self::FlushDb => "flushdb",
            Self::Time => "time",
            Self::Keys(_) => "keys",
            Self::Scan { .. } => "scan",
            Self::CrdtLinks => "crdt.links",
            Self::CrdtPause => "crdt.pause",
            Self::CrdtResume => "crdt.resume",
            Self::CrdtDigest => "crdt.digest",
            Self::Get(_) => "get",
            Self::Set { .. } => "set",
            Self::MGet(_) => "mget",
            Self::MSet(_) => "mset",
            Self::SetNx { .. } => "setnx",
            Self::GetSet { .. } => "getset",
            Self::GetDel(_) => "getdel",
            Self::Append { .. } => "append",
            Self::Strlen(_) => "strlen",
            Self::IncrBy { .. } => "incrby",
            Self::IncrByFloat { .. } => "incrbyfloat",
            Self::SetEx { .. } => "setex",
            Self::SAdd { .. } => "sadd",
            Self::SRem { .. } => "srem",
            Self::SMembers(_) => "smembers",
            Self::SIsMember { .. } => "sismember",
            Self::SCard(_) => "scard",
            Self::Del(_) => "del",
            Self::Unlink(_) => "unlink",
            Self::Exists(_) => "exists",
            Self::Type(_) => "type",
            Self::Expire { .. } => "expire",
            Self::Ttl { ms: false, .. } => "ttl",
            Self::Ttl { ms: true, .. } => "pttl",
            Self::Persist(_) => "persist",
        }
    }
}

/// Top-level lookup only: "client|setname" typed as a name is unknown.
fn lookup_top(name: &[u8]) -> Option<&'static CommandSpec> {
    if name.len() > MAX_NAME || name.contains(&b'|') {
        return None;
    }
    table::lookup(name)
}

/// Routes an arity-checked request to its family's parser by the
/// table's canonical (lowercase, full) name.
fn dispatch(name: &'static str, args: Vec<Bytes>) -> Result<Command, CmdError> {
    match name {
        "get" | "set" | "mget" | "mset" | "setnx" | "getset" | "getdel" | "append" | "strlen"
        | "incr" | "decr" | "incrby" | "decrby" | "incrbyfloat" | "setex" | "psetex" => {
            string::parse(name, args)
        }
        "sadd" | "srem" | "smembers" | "sismember" | "scard" => set::parse(name, args),
        "del" | "unlink" | "exists" | "type" | "expire" | "pexpire" | "ttl" | "pttl"
        | "persist" => keys::parse(name, args),
        "crdt.links" | "crdt.pause" | "crdt.resume" | "crdt.digest" => crdt::parse(name, args),
        _ if name.starts_with("client") => connection::parse(name, args),
        "ping" | "echo" | "hello" | "auth" | "quit" | "reset" | "select" => {
            connection::parse(name, args)
        }
        _ => server::parse(name, args),
    }
}

/// Appends at most `max` bytes of `s`, stopping at NUL like C's "%.*s".
fn push_c_str(out: &mut Vec<u8>, s: &[u8], max: usize) {
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    out.extend_from_slice(&s[..s.len().min(max)]);
}

/// Turns bytes into error text: invalid UTF-8 is replaced, and CR/LF
/// become spaces as Redis's addReplyErrorFormat does.
fn error_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect()
}

/// "ERR unknown command 'NAME', with args beginning with: 'a' 'b' ",
/// including Redis's 128-byte truncation of the name and argument list.
fn unknown_command(args: &[Bytes]) -> CmdError {
    let mut out = b"ERR unknown command '".to_vec();
    if let Some(name) = args.first() {
        push_c_str(&mut out, name, 128);
    }
    out.extend_from_slice(b"', with args beginning with: ");
    let mut list: Vec<u8> = Vec::new();
    for a in args.iter().skip(1) {
        if list.len() >= 128 {
            break;
        }
        let room = 128 - list.len();
        list.push(b'\'');
        push_c_str(&mut list, a, room);
        list.extend_from_slice(b"' ");
    }
    out.extend_from_slice(&list);
    CmdError::Err(error_text(&out))
}

/// "ERR unknown subcommand 'x'. Try CLIENT HELP."
fn unknown_subcommand(args: &[Bytes]) -> CmdError {
    let mut out = b"ERR unknown subcommand '".to_vec();
    if let Some(sub) = args.get(1) {
        push_c_str(&mut out, sub, 128);
    }
    out.extend_from_slice(b"'. Try ");
    if let Some(name) = args.first() {
        push_c_str(&mut out, &name.to_ascii_uppercase(), usize::MAX);
    }
    out.extend_from_slice(b" HELP.");
    CmdError::Err(error_text(&out))
}

/// Parses an integer argument with Redis's rules and error text.
pub(crate) fn int_arg(b: &[u8]) -> Result<i64, CmdError> {
    num::parse_i64(b).ok_or_else(CmdError::not_int)
}

/// Case-insensitive comparison against a lowercase ASCII keyword.
#[inline]
pub(crate) fn is_kw(arg: &[u8], kw: &str) -> bool {
    arg.eq_ignore_ascii_case(kw.as_bytes())
}

#[cfg(test)]
mod tests;
