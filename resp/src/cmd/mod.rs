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
mod hash;
mod keys;
mod list;
mod pubsub;
mod server;
mod set;
mod string;
mod tx;
mod zset;

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

/// EXPIRE* time in milliseconds; may be <= 0 or in the past (which
/// deletes the key, as in Redis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireAt {
    /// EXPIRE / PEXPIRE: relative to now (the executor adds the clock
    /// and refuses an overflowing sum).
    RelMs(i64),
    /// EXPIREAT / PEXPIREAT: Unix time.
    AtMs(i64),
}

/// MATCH / COUNT options of HSCAN, SSCAN and ZSCAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOpts {
    pub pattern: Option<Bytes>,
    /// At least 1.
    pub count: usize,
}

/// ZADD's GT / LT condition (compatible with XX, not with NX).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreCmp {
    Gt,
    Lt,
}

/// One end of a score range: "1.5", "(1.5" (exclusive), "-inf", "+inf".
/// `value` is never NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreBound {
    pub value: f64,
    pub exclusive: bool,
}

/// One end of a lexicographic range: "-", "+", "[a" (inclusive), "(a".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    Min,
    Max,
    Incl(Bytes),
    Excl(Bytes),
}

/// The range of a ZRANGE-family or ZREMRANGEBY* command, always in
/// (min, max) / (start, stop) order whatever the argument order was.
#[derive(Debug, Clone, PartialEq)]
pub enum ZRangeBy {
    Rank { start: i64, stop: i64 },
    Score { min: ScoreBound, max: ScoreBound },
    Lex { min: LexBound, max: LexBound },
}

/// ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    Union,
    Inter,
    Diff,
}

/// AGGREGATE of ZUNIONSTORE / ZINTERSTORE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Min,
    Max,
}

/// What GETEX does to the key's TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetExTtl {
    /// No option: a plain GET.
    Keep,
    Persist,
    /// Validated like SET's expiry (> 0, no overflow when scaled); the
    /// executor still refuses a relative time that overflows once the
    /// clock is added ("ERR invalid expire time in 'getex' command").
    Set(SetExpiry),
}

/// BITCOUNT's range: byte (or, with `bit`, bit) indexes, negative from
/// the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BitRange {
    pub start: i64,
    pub end: i64,
    pub bit: bool,
}

/// An end of a list (LMOVE's LEFT / RIGHT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListEnd {
    Left,
    Right,
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
    /// `CRDT.GROUP <subcommand> [args]`: membership of the replication group (the
    /// subcommand and its arguments, as sent; the node that owns the group checks them).
    CrdtGroup(Vec<Bytes>),
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
    MSetNx(Vec<(Bytes, Bytes)>),
    /// `ttl` carries the time-value error Redis reports only for an
    /// existing string key (see [`Command::HScan`]).
    GetEx {
        key: Bytes,
        ttl: Result<GetExTtl, CmdError>,
    },
    GetRange {
        key: Bytes,
        start: i64,
        end: i64,
    },
    /// `offset` >= 0; the size limit is checked at execution.
    SetRange {
        key: Bytes,
        offset: u64,
        value: Bytes,
    },
    /// `offset` < 2^32.
    SetBit {
        key: Bytes,
        offset: u64,
        bit: bool,
    },
    /// `offset` < 2^32.
    GetBit {
        key: Bytes,
        offset: u64,
    },
    /// `range` is `None` for the whole string; an error in it is
    /// reported only for an existing string key (see [`Command::HScan`]).
    BitCount {
        key: Bytes,
        range: Result<Option<BitRange>, CmdError>,
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
    SMIsMember {
        key: Bytes,
        members: Vec<Bytes>,
    },
    /// `None` count: a single member (bulk reply).
    SPop {
        key: Bytes,
        count: Option<usize>,
    },
    /// `count` is never i64::MIN; negative means "may repeat".
    SRandMember {
        key: Bytes,
        count: Option<i64>,
    },
    /// SINTER, SUNION, SDIFF, and with `dest` their *STORE forms.
    SCombine {
        op: SetOp,
        keys: Vec<Bytes>,
        dest: Option<Bytes>,
    },
    SMove {
        src: Bytes,
        dst: Bytes,
        member: Bytes,
    },
    /// See [`Command::HScan`] for why the option error is carried.
    SScan {
        key: Bytes,
        cursor: u64,
        opts: Result<ScanOpts, CmdError>,
    },
    /// `keys` is non-empty; `limit` 0 means no limit.
    SInterCard {
        keys: Vec<Bytes>,
        limit: usize,
    },
    // keys.rs
    Del(Vec<Bytes>),
    Unlink(Vec<Bytes>),
    Exists(Vec<Bytes>),
    Type(Bytes),
    /// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (seconds converted); `name`
    /// is the command sent, for "invalid expire time in '{name}' command".
    Expire {
        name: &'static str,
        key: Bytes,
        at: ExpireAt,
        cond: Option<ExpireCond>,
    },
    Ttl {
        key: Bytes,
        ms: bool,
    },
    Persist(Bytes),
    Touch(Vec<Bytes>),
    /// EXPIRETIME, and PEXPIRETIME (`ms`).
    ExpireTime {
        key: Bytes,
        ms: bool,
    },
    /// RENAME, and RENAMENX (`nx`); the keys may be equal.
    Rename {
        src: Bytes,
        dst: Bytes,
        nx: bool,
    },
    /// `db` is any i32 (only the executor knows which exist); when it is
    /// absent or 0, `src` != `dst`.
    Copy {
        src: Bytes,
        dst: Bytes,
        db: Option<i32>,
        replace: bool,
    },
    RandomKey,
    ObjectEncoding(Bytes),
    ObjectFreq(Bytes),
    ObjectIdleTime(Bytes),
    ObjectRefCount(Bytes),
    ObjectHelp,
    // hash.rs
    /// HSET, and HMSET (`hmset`: same effect, but replies +OK).
    HSet {
        key: Bytes,
        pairs: Vec<(Bytes, Bytes)>,
        hmset: bool,
    },
    HSetNx {
        key: Bytes,
        field: Bytes,
        value: Bytes,
    },
    HGet {
        key: Bytes,
        field: Bytes,
    },
    HMGet {
        key: Bytes,
        fields: Vec<Bytes>,
    },
    HGetAll(Bytes),
    HDel {
        key: Bytes,
        fields: Vec<Bytes>,
    },
    HExists {
        key: Bytes,
        field: Bytes,
    },
    HLen(Bytes),
    HKeys(Bytes),
    HVals(Bytes),
    HStrlen {
        key: Bytes,
        field: Bytes,
    },
    HIncrBy {
        key: Bytes,
        field: Bytes,
        by: i64,
    },
    /// `by` is always finite.
    HIncrByFloat {
        key: Bytes,
        field: Bytes,
        by: f64,
    },
    /// Redis validates MATCH/COUNT only once the key exists and has the
    /// right type (a missing key gets an empty scan even with bad
    /// options), so an option error is carried for the executor to send
    /// after those checks.
    HScan {
        key: Bytes,
        cursor: u64,
        opts: Result<ScanOpts, CmdError>,
    },
    /// `count` is in ±i64::MAX (±i64::MAX/2 with `withvalues`); negative
    /// means "may repeat"; `None` means a single field (bulk reply).
    HRandField {
        key: Bytes,
        count: Option<i64>,
        withvalues: bool,
    },
    // zset.rs
    /// `cond` and `cmp` are never NX together with GT/LT; with `incr`
    /// there is exactly one pair. Scores are never NaN.
    ZAdd {
        key: Bytes,
        cond: Option<SetCond>,
        cmp: Option<ScoreCmp>,
        ch: bool,
        incr: bool,
        members: Vec<(f64, Bytes)>,
    },
    /// `by` is never NaN (it may be infinite).
    ZIncrBy {
        key: Bytes,
        by: f64,
        member: Bytes,
    },
    ZRem {
        key: Bytes,
        members: Vec<Bytes>,
    },
    ZScore {
        key: Bytes,
        member: Bytes,
    },
    ZMScore {
        key: Bytes,
        members: Vec<Bytes>,
    },
    ZCard(Bytes),
    ZCount {
        key: Bytes,
        min: ScoreBound,
        max: ScoreBound,
    },
    ZLexCount {
        key: Bytes,
        min: LexBound,
        max: LexBound,
    },
    /// ZRANGE, ZRANGESTORE (`store` = destination, `key` = source),
    /// ZRANGEBYSCORE, ZREVRANGE, ZREVRANGEBYSCORE, ZRANGEBYLEX and
    /// ZREVRANGEBYLEX; `name` is the command sent. `limit` is
    /// (offset, count), a negative count meaning "all"; always `None` for
    /// rank ranges. `withscores` is never set with a lex range or `store`.
    ZRange {
        name: &'static str,
        key: Bytes,
        by: ZRangeBy,
        rev: bool,
        limit: Option<(i64, i64)>,
        withscores: bool,
        store: Option<Bytes>,
    },
    /// ZRANK, and ZREVRANK (`rev`).
    ZRank {
        key: Bytes,
        member: Bytes,
        rev: bool,
    },
    /// ZPOPMIN, and ZPOPMAX (`max`); `None` count means a flat reply of
    /// one pair, `Some` (>= 0) a reply sized by the count.
    ZPop {
        key: Bytes,
        max: bool,
        count: Option<usize>,
    },
    /// ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX (by `by`).
    ZRemRange {
        key: Bytes,
        by: ZRangeBy,
    },
    /// See [`Command::HScan`] for why the option error is carried.
    ZScan {
        key: Bytes,
        cursor: u64,
        opts: Result<ScanOpts, CmdError>,
    },
    /// As [`Command::HRandField`].
    ZRandMember {
        key: Bytes,
        count: Option<i64>,
        withscores: bool,
    },
    /// ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE: `keys` is non-empty,
    /// `weights` has one (non-NaN) entry per key (1.0 by default); ZDIFF
    /// always has the defaults.
    ZStore {
        op: SetOp,
        dest: Bytes,
        keys: Vec<Bytes>,
        weights: Vec<f64>,
        aggregate: Aggregate,
    },
    // list.rs
    /// LPUSH, RPUSH (`left` false), LPUSHX, RPUSHX (`xx`: only if the
    /// list exists).
    ListPush {
        key: Bytes,
        values: Vec<Bytes>,
        left: bool,
        xx: bool,
    },
    /// LPOP, and RPOP (`left` false); `None` count: one element (bulk
    /// reply), `Some` (>= 0): an array.
    ListPop {
        key: Bytes,
        left: bool,
        count: Option<usize>,
    },
    LRange {
        key: Bytes,
        start: i64,
        stop: i64,
    },
    LLen(Bytes),
    /// Redis reads the index only after finding a list under the key, so
    /// a bad index ("ERR value is not an integer or out of range") is
    /// carried for the executor to send after the existence/type checks.
    LIndex {
        key: Bytes,
        index: Result<i64, CmdError>,
    },
    /// As [`Command::LIndex`], including "ERR no such key" coming first.
    LSet {
        key: Bytes,
        index: Result<i64, CmdError>,
        value: Bytes,
    },
    LInsert {
        key: Bytes,
        before: bool,
        pivot: Bytes,
        value: Bytes,
    },
    LRem {
        key: Bytes,
        count: i64,
        value: Bytes,
    },
    LTrim {
        key: Bytes,
        start: i64,
        stop: i64,
    },
    /// `rank` is never 0 (1 by default); `count`: `None` = single reply,
    /// `Some(0)` = all matches; `maxlen` 0 = no limit.
    LPos {
        key: Bytes,
        element: Bytes,
        rank: i64,
        count: Option<usize>,
        maxlen: usize,
    },
    /// LMOVE, and RPOPLPUSH (RIGHT, LEFT); `name` is the command sent.
    LMove {
        name: &'static str,
        src: Bytes,
        dst: Bytes,
        from: ListEnd,
        to: ListEnd,
    },
    /// BLMOVE, and BRPOPLPUSH (RIGHT, LEFT). `timeout_ms`: `None` blocks
    /// forever; huge values must be saturated when the clock is added.
    BLMove {
        name: &'static str,
        src: Bytes,
        dst: Bytes,
        from: ListEnd,
        to: ListEnd,
        timeout_ms: Option<u64>,
    },
    /// BLPOP, and BRPOP (`left` false); `keys` is non-empty; timeout as
    /// in [`Command::BLMove`].
    BPop {
        keys: Vec<Bytes>,
        left: bool,
        timeout_ms: Option<u64>,
    },
    // tx.rs
    Multi,
    Exec,
    Discard,
    /// Non-empty.
    Watch(Vec<Bytes>),
    Unwatch,
    // pubsub.rs
    /// Non-empty.
    Subscribe(Vec<Bytes>),
    /// Non-empty.
    PSubscribe(Vec<Bytes>),
    /// Empty means all channels.
    Unsubscribe(Vec<Bytes>),
    /// Empty means all patterns.
    PUnsubscribe(Vec<Bytes>),
    Publish {
        channel: Bytes,
        message: Bytes,
    },
    /// Optional glob pattern.
    PubSubChannels(Option<Bytes>),
    PubSubNumSub(Vec<Bytes>),
    PubSubNumPat,
    PubSubHelp,
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
            // Redis rejects a malformed EXEC by aborting the transaction,
            // even outside MULTI, with the reason inside the text.
            if spec.name == "exec" {
                return Err(CmdError::new(
                    "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command",
                ));
            }
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
            | Self::Persist(k)
            | Self::HGetAll(k)
            | Self::HLen(k)
            | Self::HKeys(k)
            | Self::HVals(k)
            | Self::ZCard(k)
            | Self::LLen(k)
            | Self::ObjectEncoding(k)
            | Self::ObjectFreq(k)
            | Self::ObjectIdleTime(k)
            | Self::ObjectRefCount(k) => Some(k),
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
            | Self::Ttl { key, .. }
            | Self::HSet { key, .. }
            | Self::HSetNx { key, .. }
            | Self::HGet { key, .. }
            | Self::HMGet { key, .. }
            | Self::HDel { key, .. }
            | Self::HExists { key, .. }
            | Self::HStrlen { key, .. }
            | Self::HIncrBy { key, .. }
            | Self::HIncrByFloat { key, .. }
            | Self::HScan { key, .. }
            | Self::HRandField { key, .. }
            | Self::ExpireTime { key, .. }
            | Self::ListPush { key, .. }
            | Self::ListPop { key, .. }
            | Self::LRange { key, .. }
            | Self::LIndex { key, .. }
            | Self::LSet { key, .. }
            | Self::LInsert { key, .. }
            | Self::LRem { key, .. }
            | Self::LTrim { key, .. }
            | Self::LPos { key, .. }
            | Self::GetEx { key, .. }
            | Self::GetRange { key, .. }
            | Self::SetRange { key, .. }
            | Self::SetBit { key, .. }
            | Self::GetBit { key, .. }
            | Self::BitCount { key, .. }
            | Self::SMIsMember { key, .. }
            | Self::SPop { key, .. }
            | Self::SRandMember { key, .. }
            | Self::SScan { key, .. }
            | Self::ZAdd { key, .. }
            | Self::ZIncrBy { key, .. }
            | Self::ZRem { key, .. }
            | Self::ZScore { key, .. }
            | Self::ZMScore { key, .. }
            | Self::ZCount { key, .. }
            | Self::ZLexCount { key, .. }
            | Self::ZRank { key, .. }
            | Self::ZPop { key, .. }
            | Self::ZRemRange { key, .. }
            | Self::ZScan { key, .. }
            | Self::ZRandMember { key, .. }
            | Self::ZRange {
                key, store: None, ..
            } => Some(key),
            _ => None,
        }
    }

    /// Lowercase command name for statistics ("set", "client|setname").
    /// Commands that share a variant report the variant's canonical name
    /// (INCR/DECR/DECRBY → "incrby", PSETEX → "setex") unless the
    /// variant records which one was sent (TTL/PTTL, the EXPIRE family,
    /// HSET/HMSET, the ZRANGE family, …).
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
            Self::CrdtGroup(_) => "crdt.group",
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
            Self::Expire { name, .. } => name,
            Self::Ttl { ms: false, .. } => "ttl",
            Self::Ttl { ms: true, .. } => "pttl",
            Self::Persist(_) => "persist",
            Self::Touch(_) => "touch",
            Self::ExpireTime { ms: false, .. } => "expiretime",
            Self::ExpireTime { ms: true, .. } => "pexpiretime",
            Self::Rename { nx: false, .. } => "rename",
            Self::Rename { nx: true, .. } => "renamenx",
            Self::Copy { .. } => "copy",
            Self::RandomKey => "randomkey",
            Self::ObjectEncoding(_) => "object|encoding",
            Self::ObjectFreq(_) => "object|freq",
            Self::ObjectIdleTime(_) => "object|idletime",
            Self::ObjectRefCount(_) => "object|refcount",
            Self::ObjectHelp => "object|help",
            Self::MSetNx(_) => "msetnx",
            Self::GetEx { .. } => "getex",
            Self::GetRange { .. } => "getrange",
            Self::SetRange { .. } => "setrange",
            Self::SetBit { .. } => "setbit",
            Self::GetBit { .. } => "getbit",
            Self::BitCount { .. } => "bitcount",
            Self::SMIsMember { .. } => "smismember",
            Self::SPop { .. } => "spop",
            Self::SRandMember { .. } => "srandmember",
            Self::SCombine { op, dest, .. } => match (op, dest.is_some()) {
                (SetOp::Inter, false) => "sinter",
                (SetOp::Union, false) => "sunion",
                (SetOp::Diff, false) => "sdiff",
                (SetOp::Inter, true) => "sinterstore",
                (SetOp::Union, true) => "sunionstore",
                (SetOp::Diff, true) => "sdiffstore",
            },
            Self::SMove { .. } => "smove",
            Self::SScan { .. } => "sscan",
            Self::SInterCard { .. } => "sintercard",
            Self::ListPush { left, xx, .. } => match (left, xx) {
                (true, false) => "lpush",
                (false, false) => "rpush",
                (true, true) => "lpushx",
                (false, true) => "rpushx",
            },
            Self::ListPop { left: true, .. } => "lpop",
            Self::ListPop { left: false, .. } => "rpop",
            Self::LRange { .. } => "lrange",
            Self::LLen(_) => "llen",
            Self::LIndex { .. } => "lindex",
            Self::LSet { .. } => "lset",
            Self::LInsert { .. } => "linsert",
            Self::LRem { .. } => "lrem",
            Self::LTrim { .. } => "ltrim",
            Self::LPos { .. } => "lpos",
            Self::LMove { name, .. } | Self::BLMove { name, .. } => name,
            Self::BPop { left: true, .. } => "blpop",
            Self::BPop { left: false, .. } => "brpop",
            Self::Multi => "multi",
            Self::Exec => "exec",
            Self::Discard => "discard",
            Self::Watch(_) => "watch",
            Self::Unwatch => "unwatch",
            Self::Subscribe(_) => "subscribe",
            Self::PSubscribe(_) => "psubscribe",
            Self::Unsubscribe(_) => "unsubscribe",
            Self::PUnsubscribe(_) => "punsubscribe",
            Self::Publish { .. } => "publish",
            Self::PubSubChannels(_) => "pubsub|channels",
            Self::PubSubNumSub(_) => "pubsub|numsub",
            Self::PubSubNumPat => "pubsub|numpat",
            Self::PubSubHelp => "pubsub|help",
            Self::HSet { hmset: false, .. } => "hset",
            Self::HSet { hmset: true, .. } => "hmset",
            Self::HSetNx { .. } => "hsetnx",
            Self::HGet { .. } => "hget",
            Self::HMGet { .. } => "hmget",
            Self::HGetAll(_) => "hgetall",
            Self::HDel { .. } => "hdel",
            Self::HExists { .. } => "hexists",
            Self::HLen(_) => "hlen",
            Self::HKeys(_) => "hkeys",
            Self::HVals(_) => "hvals",
            Self::HStrlen { .. } => "hstrlen",
            Self::HIncrBy { .. } => "hincrby",
            Self::HIncrByFloat { .. } => "hincrbyfloat",
            Self::HScan { .. } => "hscan",
            Self::HRandField { .. } => "hrandfield",
            Self::ZAdd { .. } => "zadd",
            Self::ZIncrBy { .. } => "zincrby",
            Self::ZRem { .. } => "zrem",
            Self::ZScore { .. } => "zscore",
            Self::ZMScore { .. } => "zmscore",
            Self::ZCard(_) => "zcard",
            Self::ZCount { .. } => "zcount",
            Self::ZLexCount { .. } => "zlexcount",
            Self::ZRange { name, .. } => name,
            Self::ZRank { rev: false, .. } => "zrank",
            Self::ZRank { rev: true, .. } => "zrevrank",
            Self::ZPop { max: false, .. } => "zpopmin",
            Self::ZPop { max: true, .. } => "zpopmax",
            Self::ZRemRange { by, .. } => match by {
                ZRangeBy::Rank { .. } => "zremrangebyrank",
                ZRangeBy::Score { .. } => "zremrangebyscore",
                ZRangeBy::Lex { .. } => "zremrangebylex",
            },
            Self::ZScan { .. } => "zscan",
            Self::ZRandMember { .. } => "zrandmember",
            Self::ZStore { op, .. } => match op {
                SetOp::Union => "zunionstore",
                SetOp::Inter => "zinterstore",
                SetOp::Diff => "zdiffstore",
            },
        }
    }

    /// Every key the command touches, in argument order (duplicates
    /// kept), so the executor can check that they share a hash slot.
    /// Empty for keyless commands.
    pub fn keys(&self) -> Vec<&Bytes> {
        if let Some(k) = self.key() {
            return vec![k];
        }
        match self {
            Self::MGet(ks)
            | Self::Del(ks)
            | Self::Unlink(ks)
            | Self::Exists(ks)
            | Self::Touch(ks)
            | Self::Watch(ks) => ks.iter().collect(),
            Self::Rename { src, dst, .. } | Self::Copy { src, dst, .. } => vec![src, dst],
            Self::MSet(pairs) | Self::MSetNx(pairs) => pairs.iter().map(|(k, _)| k).collect(),
            Self::SCombine { keys, dest, .. } => dest.iter().chain(keys).collect(),
            Self::SInterCard { keys, .. } => keys.iter().collect(),
            Self::SMove { src, dst, .. }
            | Self::LMove { src, dst, .. }
            | Self::BLMove { src, dst, .. } => vec![src, dst],
            Self::BPop { keys, .. } => keys.iter().collect(),
            Self::ZRange {
                key,
                store: Some(dest),
                ..
            } => vec![dest, key],
            Self::ZStore { dest, keys, .. } => std::iter::once(dest).chain(keys).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the command may modify data: the table's "write" flag of
    /// the command actually sent (HSET and HMSET alike).
    pub fn is_write(&self) -> bool {
        table::lookup(self.name().as_bytes()).is_some_and(|s| s.flags.contains(&"write"))
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
        "get" | "set" | "mget" | "mset" | "msetnx" | "setnx" | "getset" | "getdel" | "getex"
        | "append" | "strlen" | "incr" | "decr" | "incrby" | "decrby" | "incrbyfloat" | "setex"
        | "psetex" | "getrange" | "setrange" | "setbit" | "getbit" | "bitcount" => {
            string::parse(name, args)
        }
        "sadd" | "srem" | "smembers" | "sismember" | "smismember" | "scard" | "spop"
        | "srandmember" | "sinter" | "sunion" | "sdiff" | "sinterstore" | "sunionstore"
        | "sdiffstore" | "smove" | "sscan" | "sintercard" => set::parse(name, args),
        "hset" | "hmset" | "hsetnx" | "hget" | "hmget" | "hgetall" | "hdel" | "hexists"
        | "hlen" | "hkeys" | "hvals" | "hstrlen" | "hincrby" | "hincrbyfloat" | "hscan"
        | "hrandfield" => hash::parse(name, args),
        _ if name.starts_with('z') => zset::parse(name, args),
        "lpush" | "rpush" | "lpushx" | "rpushx" | "lpop" | "rpop" | "lrange" | "llen"
        | "lindex" | "lset" | "linsert" | "lrem" | "ltrim" | "lpos" | "lmove" | "rpoplpush"
        | "blpop" | "brpop" | "blmove" | "brpoplpush" => list::parse(name, args),
        "del" | "unlink" | "exists" | "touch" | "type" | "expire" | "pexpire" | "expireat"
        | "pexpireat" | "ttl" | "pttl" | "expiretime" | "pexpiretime" | "persist" | "rename"
        | "renamenx" | "copy" | "randomkey" | "object|help" | "object|encoding" | "object|freq"
        | "object|idletime" | "object|refcount" => keys::parse(name, args),
        "crdt.links" | "crdt.pause" | "crdt.resume" | "crdt.digest" | "crdt.group" => {
            crdt::parse(name, args)
        }
        "multi" | "exec" | "discard" | "watch" | "unwatch" => tx::parse(name, args),
        "subscribe" | "psubscribe" | "unsubscribe" | "punsubscribe" | "publish"
        | "pubsub|channels" | "pubsub|numsub" | "pubsub|numpat" | "pubsub|help" => {
            pubsub::parse(name, args)
        }
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

/// MATCH/COUNT options of a key's HSCAN/SSCAN/ZSCAN, as Redis's
/// `scanGenericCommand`: left to right, repeats allowed (last wins),
/// COUNT must be an integer >= 1; TYPE is SCAN-only, so a syntax error.
pub(crate) fn key_scan_opts(opts: &[Bytes]) -> Result<ScanOpts, CmdError> {
    let mut out = ScanOpts {
        pattern: None,
        count: 10,
    };
    let mut i = 0;
    while i < opts.len() {
        let (o, arg) = match opts.get(i + 1) {
            Some(arg) => (&opts[i], arg),
            None => return Err(CmdError::syntax()),
        };
        if is_kw(o, "count") {
            let n = int_arg(arg)?;
            if n < 1 {
                return Err(CmdError::syntax());
            }
            out.count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if is_kw(o, "match") {
            out.pattern = Some(arg.clone());
        } else {
            return Err(CmdError::syntax());
        }
        i += 2;
    }
    Ok(out)
}

/// A COUNT that must be >= 0 (ZPOPMIN, LPOP, SPOP …): Redis's
/// `getPositiveLongFromObjectOrReply`, whose one text also covers
/// "not an integer".
pub(crate) fn positive_count(b: &[u8]) -> Result<usize, CmdError> {
    match num::parse_i64(b) {
        Some(n) if n >= 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => Err(CmdError::new("ERR value is out of range, must be positive")),
    }
}

/// "ERR unknown subcommand or wrong number of arguments for 'x'. Try
/// PUBSUB HELP.", Redis's `addReplySubcommandSyntaxError`, for a
/// container's own argument checks beyond the table's arity.
fn subcommand_syntax(args: &[Bytes]) -> CmdError {
    let mut out = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
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
