//! `meridian`: the binary. Subcommands `dev` (a whole group in one process), `server` (one
//! region from a config file) and `certs` (a throwaway group CA and region certificates).
//! It wires a region: the actors' node (shards and client connections) and the georep links.

mod group;
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

#[derive(Subcommand)]
enum GroupCmd {
    /// The region's view of the group: health, and per peer link state, lag in ops and
    /// ms, backlog bytes and keys whose garbage collection waits for the peer.
    Status {
        /// A node of the region, HOST:PORT (its RESP address).
        #[arg(long, default_value = "127.0.0.1:7001")]
        endpoint: String,
        /// The node's password, if it has one.
        #[arg(long, env = "MERIDIAN_PASSWORD")]
        password: Option<String>,
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
        Cmd::Group {
            cmd: GroupCmd::Status { endpoint, password },
        } => match group::status(&endpoint, password.as_deref()) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("meridian group status: {e}");
                ExitCode::FAILURE
            }
        },
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
