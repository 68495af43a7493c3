//! `meridian`: the binary. Subcommands `dev` (a whole group in one process), `server` (one
//! region from a config file) and `certs` (a throwaway group CA and region certificates).
//! It wires a region: the actors' node (shards and client connections) and the georep links.

mod group;
mod membership;
mod wiring;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "meridian",
    version,
    about = "Active-active geo-replicated data store speaking the Redis protocol"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Runs a whole replication group on loopback in one process, for development.
    Dev {
        /// Number of regions (1 to 5).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=5))]
        regions: u8,
        /// RESP port of region 1; region i listens on base + i - 1, its QUIC endpoint on
        /// base + 10000 + i - 1.
        #[arg(long, default_value_t = 7001)]
        base_port: u16,
        /// Shards per region.
        #[arg(long, default_value_t = config::defaults::SHARDS, value_parser = clap::value_parser!(u16).range(1..=256))]
        shards: u16,
        /// Log as JSON lines.
        #[arg(long)]
        json_logs: bool,
        /// Serve Prometheus metrics: region i on this port + i - 1 (GET /metrics).
        #[arg(long)]
        metrics_base_port: Option<u16>,
    },
    /// Runs one region from a TOML config file.
    Server {
        /// The config file (see docs/meridian.example.toml).
        #[arg(long)]
        config: PathBuf,
    },
    /// Operator commands on a running group, through any node of a region.
    Group {
        #[command(subcommand)]
        cmd: GroupCmd,
    },
    /// Writes a throwaway group CA and one certificate per region (PEM), for test groups.
    Certs {
        /// Directory to write ca.pem, region-<id>.pem and region-<id>.key into.
        #[arg(long)]
        out: PathBuf,
        /// Region ids, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        regions: Vec<u8>,
    },
}

/// The node a group command talks to.
#[derive(clap::Args)]
struct NodeArgs {
    /// A node of the region to act on, HOST:PORT (its RESP address).
    #[arg(long, default_value = "127.0.0.1:7001")]
    node: String,
    /// The nodes' password, if they have one.
    #[arg(long, env = "MERIDIAN_PASSWORD")]
    password: Option<String>,
}

#[derive(Subcommand)]
enum GroupCmd {
    /// The region's view of the group: health, and per peer link state, lag in ops and
    /// ms, backlog bytes and keys whose garbage collection waits for the peer.
    Status {
        /// A node of the region, HOST:PORT (its RESP address).
        #[arg(long, alias = "node", default_value = "127.0.0.1:7001")]
        endpoint: String,
        /// The node's password, if it has one.
        #[arg(long, env = "MERIDIAN_PASSWORD")]
        password: Option<String>,
    },
    /// Makes the region (--node) the first member of a new group; its data is the group's.
    Create {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Adds a region to the group of --node. The new region's own data is discarded: it
    /// receives a full sync of the group's data, then the live stream.
    Add {
        #[command(flatten)]
        node: NodeArgs,
        /// The new region's name (as in its config).
        #[arg(long)]
        region: String,
        /// The new region's RESP address, HOST:PORT.
        #[arg(long)]
        endpoint: String,
    },
    /// Removes a member gracefully (every member online): it stops taking writes, hands
    /// its last ones over to every member, then leaves and keeps its data, standalone.
    /// Waits until it has left.
    Remove {
        #[command(flatten)]
        node: NodeArgs,
        /// The member's name or id.
        #[arg(long)]
        region: String,
        /// How long to wait for the member to hand over its writes and leave (seconds).
        #[arg(long, default_value_t = 60)]
        wait: u64,
    },
    /// Removes a member that is down: the others stop keeping metadata for it, and refuse
    /// it from now on. Its writes they had not received are lost. To come back it must be
    /// purged and added again.
    ForceUnlink {
        #[command(flatten)]
        node: NodeArgs,
        /// The member's name or id.
        #[arg(long)]
        region: String,
    },
    /// Drops all data and group membership of the region at --node (one that was removed
    /// or force-unlinked), so it can be added to a group again.
    Purge {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Empties every member: deletes every key the region at --node holds, and the deletes
    /// replicate to every member (a write made elsewhere that --node had not received yet
    /// survives, as with DEL).
    Flush {
        #[command(flatten)]
        node: NodeArgs,
    },
    /// The group's membership table as the region at --node holds it.
    Members {
        #[command(flatten)]
        node: NodeArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Dev {
            regions,
            base_port,
            shards,
            json_logs,
            metrics_base_port,
        } => {
            wiring::init_logs(json_logs);
            run(wiring::dev(regions, base_port, shards, metrics_base_port))
        }
        Cmd::Server { config } => {
            let cfg = match config::Config::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("meridian: {}: {e}", config.display());
                    return ExitCode::from(2);
                }
            };
            wiring::init_logs(matches!(cfg.log_format, config::LogFormat::Json));
            run(wiring::server(cfg))
        }
        Cmd::Group { cmd } => {
            let (what, res) = match cmd {
                GroupCmd::Status { endpoint, password } => {
                    ("status", group::status(&endpoint, password.as_deref()))
                }
                GroupCmd::Create { node } => (
                    "create",
                    group::create(&node.node, node.password.as_deref()),
                ),
                GroupCmd::Add {
                    node,
                    region,
                    endpoint,
                } => (
                    "add",
                    group::add(&node.node, node.password.as_deref(), &region, &endpoint),
                ),
                GroupCmd::Remove { node, region, wait } => (
                    "remove",
                    group::remove(
                        &node.node,
                        node.password.as_deref(),
                        &region,
                        std::time::Duration::from_secs(wait),
                    ),
                ),
                GroupCmd::ForceUnlink { node, region } => (
                    "force-unlink",
                    group::leave(
                        &node.node,
                        node.password.as_deref(),
                        "FORCE-UNLINK",
                        &region,
                    ),
                ),
                GroupCmd::Purge { node } => {
                    ("purge", group::purge(&node.node, node.password.as_deref()))
                }
                GroupCmd::Flush { node } => {
                    ("flush", group::flush(&node.node, node.password.as_deref()))
                }
                GroupCmd::Members { node } => (
                    "members",
                    group::members(&node.node, node.password.as_deref()),
                ),
            };
            match res {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("meridian group {what}: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::Certs { out, regions } => match wiring::write_certs(&out, &regions) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("meridian certs: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Runs an async entry point on an actix system until it finishes or Ctrl-C.
fn run(
    fut: impl std::future::Future<Output = Result<Vec<wiring::Region>, String>> + 'static,
) -> ExitCode {
    let sys = actix_rt::System::new();
    let res = sys.block_on(async move {
        let regions = fut.await?;
        let ctrl_c = tokio::signal::ctrl_c();
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| e.to_string())?;
        tokio::select! {
            _ = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        }
        wiring::Region::shutdown_all(&regions).await;
        Ok::<(), String>(())
    });
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("meridian: {e}");
            ExitCode::FAILURE
        }
    }
}
