//! RESP2/RESP3 codec, typed Redis commands and reply encoding for Meridian.
//!
//! The layering follows mini-redis: `frame` turns bytes into argument
//! vectors (with "need more bytes" as an ordinary result), `cmd` turns
//! argument vectors into one typed [`Command`], and `reply` encodes answers.
//! Everything here is pure and allocation-conscious because it sits on the
//! per-request hot path.

pub mod cmd;
pub mod frame;
pub mod glob;
pub mod num;
pub mod reply;
pub mod slot;
pub mod table;

pub use cmd::{
    Aggregate, BitRange, CmdError, Command, ExpireAt, ExpireCond, GetExTtl, LexBound, ListEnd,
    ScanOpts, ScoreBound, ScoreCmp, SetCond, SetExpiry, SetOp, ZRangeBy,
};
pub use frame::{parse_request, FrameError, Limits};
pub use glob::glob_match;
pub use reply::ReplyWriter;
pub use slot::key_slot;

/// Wire protocol version negotiated by HELLO (RESP2 until a client asks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Resp2,
    Resp3,
}
