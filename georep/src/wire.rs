//! Wire messages of a geo-link and their framing (u32 big-endian length + rmp-serde payload).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::RegionId;

/// Protocol version carried in `Hello`; bumped on incompatible changes.
pub const VERSION: u32 = 5;
/// Largest frame either side accepts; bigger ones are a protocol error. A batch frame
/// holds at least one whole op, and one op can carry a 512 MB value under a key as long
/// (Redis's proto-max-bulk-len), so the bound is 2 GiB; frames are read as they arrive
/// (see `link::read_frame`), so what a peer makes us allocate follows what it sends.
pub const MAX_FRAME: usize = 1 << 31;
/// Largest handshake frame (`Hello`, `HelloAck`, `Refused`): read before the peer's
/// identity is checked. A `Hello` of a region with the most shards still fits.
pub const MAX_HANDSHAKE_FRAME: usize = 16 << 20;
/// A snapshot chunk travels in pieces of at most this many bytes (a chunk holding one
/// big entry is as big as the entry).
pub const SNAPSHOT_PIECE: usize = 16 << 20;
/// ALPN of the geo-link.
pub const ALPN: &[u8] = b"meridian-geo/1";

/// QUIC application close codes.
pub mod code {
    /// Clean shutdown of the endpoint or link.
    pub const DONE: u32 = 0;
    /// The peer broke the protocol (bad frame, gap, unexpected message).
    pub const PROTOCOL: u32 = 1;
    /// Replication is paused on the closing side.
    pub const PAUSED: u32 = 2;
    /// The handshake was refused.
    pub const REFUSED: u32 = 3;
    /// A newer connection from the same origin replaced this one.
    pub const REPLACED: u32 = 4;
}

/// Every message of the link. The dialer sends `Hello`, then (if the acceptor asked for
/// one) a full snapshot as `SnapshotBegin`, `SnapshotChunk`s and `SnapshotEnd`, then
/// `Batch`es; the acceptor answers `HelloAck` (or `Refused`) then `Ack`s. A dialer whose
/// log no longer holds what the acceptor needs sends `NeedsSync` and closes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg {
    Hello {
        version: u32,
        region: RegionId,
        incarnation: u64,
        shards: u16,
        /// Incarnations of the *acceptor* the dialer has received ops from (its own data
        /// may hold writes of an earlier process of the acceptor).
        seen: Vec<u64>,
        /// The dialer's membership table (see [`crate::members`]).
        members: Vec<crate::members::Member>,
        /// What the dialer's state holds of other regions' streams: `(region, shard, stamp
        /// of the last op held)`; the acceptor compares it for members that left (see
        /// [`crate::proto::departed_ahead`]).
        held: Vec<(RegionId, u16, u64)>,
    },
    Batch {
        shard: u16,
        first_offset: u64,
        ops: Vec<(u64, Bytes)>,
    },
    HelloAck {
        /// Per shard of the dialer: the next offset the acceptor expects, or 0 when it
        /// does not know the offset but only the stamp it has everything up to (`after`).
        resume: Vec<u64>,
        /// Per shard: with `resume` 0, stream from the first op stamped above this.
        after: Vec<u64>,
        /// The acceptor wants a full snapshot before the stream.
        snapshot: bool,
    },
    /// Starts a full snapshot: `chunks` chunks follow, then `SnapshotEnd`.
    SnapshotBegin {
        meta: crate::SnapshotMeta,
        chunks: u64,
    },
    /// Part of a snapshot chunk; `more`: the chunk continues in the next frame.
    SnapshotChunk {
        data: Bytes,
        more: bool,
    },
    SnapshotEnd,
    /// The dialer cannot resume the acceptor's stream (its log was trimmed): the acceptor
    /// needs a full snapshot.
    NeedsSync {
        reason: String,
    },
    /// The acceptor refuses the connection; `members` is its membership table (empty
    /// when the refusal is not about membership), so a region that was removed or
    /// force-unlinked learns it.
    Refused {
        reason: String,
        members: Vec<crate::members::Member>,
    },
    /// The dialer's membership table changed.
    Members {
        members: Vec<crate::members::Member>,
    },
    Ack {
        shard: u16,
        next_offset: u64,
    },
}

/// Why a frame could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("frame of {0} bytes exceeds the {MAX_FRAME} byte limit")]
    TooLarge(usize),
    #[error("encode: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
    #[error("decode: {0}")]
    Decode(#[from] rmp_serde::decode::Error),
}

/// Encodes `msg` as one frame: length prefix plus payload.
pub fn encode(msg: &Msg) -> Result<Vec<u8>, WireError> {
    let mut buf = vec![0u8; 4];
    rmp_serde::encode::write(&mut buf, msg)?;
    let len = buf.len() - 4;
    if len > MAX_FRAME {
        return Err(WireError::TooLarge(len));
    }
    buf[..4].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(buf)
}

/// Checks a received length prefix before anything is allocated for it.
pub fn check_len(prefix: [u8; 4]) -> Result<usize, WireError> {
    let len = u32::from_be_bytes(prefix) as usize;
    if len > MAX_FRAME {
        return Err(WireError::TooLarge(len));
    }
    Ok(len)
}

/// Decodes one payload (without its length prefix).
pub fn decode(payload: &[u8]) -> Result<Msg, WireError> {
    Ok(rmp_serde::from_slice(payload)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let msgs = vec![
            Msg::Hello {
                version: VERSION,
                region: 3,
                incarnation: 42,
                shards: 4,
                seen: vec![7, 9],
                members: vec![member()],
                held: vec![(2, 0, 77), (2, 1, 78)],
            },
            Msg::Batch {
                shard: 1,
                first_offset: 7,
                ops: vec![(5 << 16, Bytes::from_static(b"set a 1")), (6, Bytes::new())],
            },
            Msg::HelloAck {
                resume: vec![1, 0, 3],
                after: vec![0, 77, 0],
                snapshot: false,
            },
            Msg::SnapshotBegin {
                meta: crate::SnapshotMeta {
                    offsets: vec![4, 5],
                    received: vec![(2, 0, 99)],
                    origin_shards: vec![(2, 1)],
                    seen: vec![(2, vec![1, 2])],
                },
                chunks: 3,
            },
            Msg::SnapshotChunk {
                data: Bytes::from_static(b"chunk"),
                more: true,
            },
            Msg::SnapshotEnd,
            Msg::NeedsSync {
                reason: "trimmed".into(),
            },
            Msg::Refused {
                reason: "x".into(),
                members: vec![member()],
            },
            Msg::Members {
                members: vec![member(), member()],
            },
            Msg::Ack {
                shard: 2,
                next_offset: 9,
            },
        ];
        for m in msgs {
            let f = encode(&m).expect("encode");
            let len = check_len([f[0], f[1], f[2], f[3]]).expect("len");
            assert_eq!(len, f.len() - 4);
            assert_eq!(decode(&f[4..]).expect("decode"), m);
        }
    }

    fn member() -> crate::members::Member {
        crate::members::Member {
            id: 4,
            name: "eu-west".into(),
            addr: "127.0.0.4:7000".parse().expect("addr"),
            state: crate::members::MemberState::Unlinked,
            stamp: 77,
            by: 2,
        }
    }

    #[test]
    fn oversize_and_garbage_refused() {
        assert!(check_len((MAX_FRAME as u32 + 1).to_be_bytes()).is_err());
        assert!(decode(&[0xc1, 0xff, 0x00]).is_err());
        assert!(decode(&[]).is_err());
    }
}
