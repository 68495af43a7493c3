//! The actix actors of one Meridian node: shards that own hash slots and execute commands,
//! the proxy that serves client connections, and the node that wires them.
//!
//! Only `resp` sees client bytes; this crate sees typed commands. Time enters only through
//! [`clock::Clock`].

pub mod clock;
pub mod metrics;
pub mod node;
pub mod proxy;
pub mod pubsub;
pub mod repl;
pub mod shard;

pub use node::{GeoControl, LinkInfo, Node, NodeConfig, ReplicationHealth};
