//! End-to-end tests of the `meridian` binary: real processes, real RESP clients, real QUIC
//! geo-links between regions on loopback.
//!
//! One test binary (modules below) so that linking stays fast. Every test picks its own
//! free ports and kills its processes on drop, so tests can run in parallel (`cargo nextest`).

mod conflicts;
mod conflicts_types;
mod dev;
mod differential;
mod faults;
mod gc;
mod harness;
mod health;
mod membership;
mod relay;
mod servers;
mod sync;
mod tx_pubsub;
