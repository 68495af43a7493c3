//! Meridian's TOML configuration, parsed into types that cannot hold invalid states.
//!
//! A node is started from one file (`meridian server --config FILE`). Parsing happens in
//! two steps: `serde` reads the file into a raw mirror of its syntax (unknown fields are
//! refused, so a typo is an error rather than a silently ignored setting), then
//! [`Config::from_raw`] checks every rule that spans fields (unique region ids, at most
//! five regions, TLS present when there are peers) and builds the typed [`Config`].
//! Every error names the field it is about, e.g. `peers[1].id: region id 2 is used twice`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The largest number of regions in one replication group.
pub const MAX_REGIONS: usize = 5;
/// The most shards one node may run; each shard is an actor with its own thread share.
pub const MAX_SHARDS: u16 = 256;

/// A configuration error, naming the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {reason}")]
    Io { path: String, reason: String },
    /// The file is not valid TOML or does not fit the schema (toml's message names the key).
    #[error("{0}")]
    Syntax(String),
    /// A value is well-formed but not allowed.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// A region id: 1 to 255. On an exact HLC tie the smaller id wins, so ids are part of the
/// conflict rules and must be unique in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionId(u8);

impl RegionId {
    /// Makes a region id, refusing 0 (reserved to mean "no region" in the CRDT metadata).
    pub fn new(id: u8) -> Option<RegionId> {
        (id != 0).then_some(RegionId(id))
    }
    /// The raw id.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for RegionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A region name: 1 to 64 characters of `[A-Za-z0-9._-]`, used as the TLS server name of the
/// region's certificate, so it must be a valid DNS-like label sequence.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegionName(String);

impl RegionName {
    /// Checks and wraps a name.
    pub fn parse(field: &str, name: &str) -> Result<RegionName, ConfigError> {
        let ok_chars = name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
        if name.is_empty() || name.len() > 64 || !ok_chars {
            return Err(invalid(
                field,
                format!("region name {name:?} must be 1 to 64 characters of A-Z a-z 0-9 . _ -"),
            ));
        }
        Ok(RegionName(name.to_string()))
    }
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a node writes persistence files. Persistence is a later issue; only `none` exists now,
/// and a config asking for anything else is refused rather than silently ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// Memory only: a restarted node comes back empty.
    None,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// The whole, validated configuration of one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Which region this node belongs to.
    pub region: Region,
    /// The client-facing RESP server.
    pub server: Server,
    /// Client input limits, as Redis's `proto-max-bulk-len` and friends.
    pub limits: Limits,
    /// Geo-replication settings (QUIC endpoint, backlog).
    pub geo: Geo,
    /// The other regions of the group (0 to 4).
    pub peers: Vec<PeerRegion>,
    /// Certificates for mutual TLS between regions; required when there are peers.
    pub tls: Option<TlsFiles>,
    /// Persistence mode.
    pub persistence: Persistence,
    /// Log format.
    pub log_format: LogFormat,
    /// Address of the Prometheus `/metrics` HTTP endpoint, if enabled.
    pub metrics: Option<SocketAddr>,
    /// Where the node keeps the group's membership (`[group] state_file`; by default
    /// `<region name>.group.toml` beside the config file). `None` only for config text
    /// parsed without a file (nothing is persisted then).
    pub group_state_file: Option<PathBuf>,
}

/// This node's region identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// Unique id in the group.
    pub id: RegionId,
    /// Unique name in the group (the TLS server name of its certificate).
    pub name: RegionName,
}

/// The client-facing server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Address of the RESP (TCP) listener.
    pub bind: SocketAddr,
    /// Number of shard actors; hash slots are spread evenly over them.
    pub shards: u16,
    /// When set, clients must `AUTH` (or `HELLO … AUTH`) with this password.
    pub password: Option<String>,
    /// Redis's protected mode: without a password, refuse clients from non-loopback addresses.
    pub protected_mode: bool,
    /// Most simultaneous client connections.
    pub max_clients: usize,
}

/// Limits on what a client may send, with Redis's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest bulk string (`proto-max-bulk-len`), 512 MiB by default.
    pub proto_max_bulk_len: usize,
    /// Largest unprocessed input per client (`client-query-buffer-limit`), 1 GiB by default.
    pub client_query_buffer_limit: usize,
}

/// Geo-replication settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Geo {
    /// Address of this region's QUIC (UDP) endpoint.
    pub listen: SocketAddr,
    /// The address other members dial to reach this endpoint, when `listen` is not it
    /// (e.g. `listen = "0.0.0.0:17001"`); it goes into the group's membership table.
    pub advertise: Option<SocketAddr>,
    /// Bytes of replication backlog kept per shard for peers that fall behind.
    pub backlog_bytes: usize,
    /// Largest batch of deltas in one message.
    pub batch_max_bytes: usize,
    /// Longest a sender waits to fill a batch.
    pub batch_max_delay: Duration,
    /// Heartbeat interval on idle links.
    pub heartbeat: Duration,
}

/// Another region of the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRegion {
    /// Its id.
    pub id: RegionId,
    /// Its name (must match its certificate).
    pub name: RegionName,
    /// Its QUIC endpoint.
    pub addr: SocketAddr,
}

/// Paths of the PEM files for mutual TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The group's CA certificate: peers must chain to it.
    pub ca: PathBuf,
    /// This region's certificate (chain).
    pub cert: PathBuf,
    /// This region's private key.
    pub key: PathBuf,
    /// SHA-256 fingerprints of certificates that are refused even though they chain to the
    /// CA (a region's certificate that leaked, or a removed region's).
    pub revoked: Vec<[u8; 32]>,
}

// ---- raw syntax ---------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    region: RawRegion,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    limits: RawLimits,
    geo: Option<RawGeo>,
    #[serde(default)]
    peers: Vec<RawPeer>,
    tls: Option<RawTls>,
    #[serde(default)]
    persistence: RawPersistence,
    #[serde(default)]
    log: RawLog,
    metrics: Option<RawMetrics>,
    group: Option<RawGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    state_file: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    listen: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    id: i64,
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    bind: Option<String>,
    shards: Option<i64>,
    password: Option<String>,
    protected_mode: Option<bool>,
    max_clients: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    proto_max_bulk_len: Option<i64>,
    client_query_buffer_limit: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGeo {
    listen: String,
    advertise: Option<String>,
    backlog_bytes: Option<i64>,
    batch_max_bytes: Option<i64>,
    batch_max_delay_ms: Option<i64>,
    heartbeat_ms: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeer {
    id: i64,
    name: String,
    addr: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    #[serde(default)]
    revoked: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPersistence {
    mode: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLog {
    format: Option<String>,
}

// ---- checks -------------------------------------------------------------------------------

fn region_id(field: &str, id: i64) -> Result<RegionId, ConfigError> {
    u8::try_from(id)
        .ok()
        .and_then(RegionId::new)
        .ok_or_else(|| invalid(field, format!("region id {id} must be between 1 and 255")))
}

fn addr(field: &str, text: &str) -> Result<SocketAddr, ConfigError> {
    text.parse().map_err(|_| {
        invalid(
            field,
            format!("{text:?} is not an IP:port address (e.g. \"127.0.0.1:7001\")"),
        )
    })
}

/// Parses a SHA-256 fingerprint: 64 hex digits, optionally in `:`-separated pairs (as
/// `openssl x509 -fingerprint -sha256` prints it), any case.
pub fn fingerprint(text: &str) -> Option<[u8; 32]> {
    let hex: Vec<u8> = text.bytes().filter(|&b| b != b':').collect();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

fn in_range(
    field: &str,
    value: Option<i64>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ConfigError> {
    let v = value.unwrap_or(default);
    if v < min || v > max {
        return Err(invalid(
            field,
            format!("{v} is out of range ({min} to {max})"),
        ));
    }
    Ok(v)
}

/// The defaults used by `meridian dev` and by a config that leaves a field out.
pub mod defaults {
    /// Default number of shards per node.
    pub const SHARDS: u16 = 2;
    /// Default backlog per shard: 64 MiB.
    pub const BACKLOG_BYTES: usize = 64 << 20;
    /// Default batch size limit: 256 KiB.
    pub const BATCH_MAX_BYTES: usize = 256 << 10;
    /// Default batch delay: 2 ms.
    pub const BATCH_MAX_DELAY_MS: u64 = 2;
    /// Default heartbeat: 500 ms.
    pub const HEARTBEAT_MS: u64 = 500;
    /// Redis's `proto-max-bulk-len`.
    pub const PROTO_MAX_BULK_LEN: usize = 512 << 20;
    /// Redis's `client-query-buffer-limit`.
    pub const CLIENT_QUERY_BUFFER_LIMIT: usize = 1 << 30;
    /// Redis's `maxclients`.
    pub const MAX_CLIENTS: usize = 10_000;
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut cfg = Config::parse(&text)?;
        if cfg.group_state_file.is_none() {
            let dir = path.parent().unwrap_or(Path::new("."));
            cfg.group_state_file = Some(dir.join(format!("{}.group.toml", cfg.region.name)));
        }
        Ok(cfg)
    }

    /// Parses and validates config text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string()))?;
        Config::from_raw(raw)
    }

    fn from_raw(raw: RawConfig) -> Result<Config, ConfigError> {
        let region = Region {
            id: region_id("region.id", raw.region.id)?,
            name: RegionName::parse("region.name", &raw.region.name)?,
        };
        let server = Server {
            bind: addr(
                "server.bind",
                raw.server.bind.as_deref().unwrap_or("127.0.0.1:6379"),
            )?,
            shards: in_range(
                "server.shards",
                raw.server.shards,
                defaults::SHARDS.into(),
                1,
                MAX_SHARDS.into(),
            )? as u16,
            password: match raw.server.password {
                Some(p) if p.is_empty() => {
                    return Err(invalid(
                        "server.password",
                        "must not be empty (leave it out for no password)",
                    ))
                }
                other => other,
            },
            protected_mode: raw.server.protected_mode.unwrap_or(true),
            max_clients: in_range(
                "server.max_clients",
                raw.server.max_clients,
                defaults::MAX_CLIENTS as i64,
                1,
                1_000_000,
            )? as usize,
        };
        let limits = Limits {
            proto_max_bulk_len: in_range(
                "limits.proto_max_bulk_len",
                raw.limits.proto_max_bulk_len,
                defaults::PROTO_MAX_BULK_LEN as i64,
                1024,
                1 << 40,
            )? as usize,
            client_query_buffer_limit: in_range(
                "limits.client_query_buffer_limit",
                raw.limits.client_query_buffer_limit,
                defaults::CLIENT_QUERY_BUFFER_LIMIT as i64,
                1 << 20,
                1 << 40,
            )? as usize,
        };
        let mut peers = Vec::with_capacity(raw.peers.len());
        for (i, p) in raw.peers.iter().enumerate() {
            let peer = PeerRegion {
                id: region_id(&format!("peers[{i}].id"), p.id)?,
                name: RegionName::parse(&format!("peers[{i}].name"), &p.name)?,
                addr: addr(&format!("peers[{i}].addr"), &p.addr)?,
            };
            if peer.id == region.id || peers.iter().any(|q: &PeerRegion| q.id == peer.id) {
                return Err(invalid(
                    format!("peers[{i}].id"),
                    format!("region id {} is used twice", peer.id),
                ));
            }
            if peer.name == region.name || peers.iter().any(|q: &PeerRegion| q.name == peer.name) {
                return Err(invalid(
                    format!("peers[{i}].name"),
                    format!("region name {:?} is used twice", peer.name.as_str()),
                ));
            }
            peers.push(peer);
        }
        if peers.len() + 1 > MAX_REGIONS {
            return Err(invalid(
                "peers",
                format!(
                    "a group has at most {MAX_REGIONS} regions; this config lists {}",
                    peers.len() + 1
                ),
            ));
        }
        let geo_given = raw.geo.is_some();
        let geo = match raw.geo {
            Some(g) => Geo {
                listen: addr("geo.listen", &g.listen)?,
                advertise: match &g.advertise {
                    Some(a) => {
                        let a = addr("geo.advertise", a)?;
                        if a.ip().is_unspecified() || a.port() == 0 {
                            return Err(invalid(
                                "geo.advertise",
                                "must be an address other members can dial (not 0.0.0.0, ::, or port 0)",
                            ));
                        }
                        Some(a)
                    }
                    None => None,
                },
                backlog_bytes: in_range(
                    "geo.backlog_bytes",
                    g.backlog_bytes,
                    defaults::BACKLOG_BYTES as i64,
                    4096,
                    1 << 40,
                )? as usize,
                batch_max_bytes: in_range(
                    "geo.batch_max_bytes",
                    g.batch_max_bytes,
                    defaults::BATCH_MAX_BYTES as i64,
                    1024,
                    64 << 20,
                )? as usize,
                batch_max_delay: Duration::from_millis(in_range(
                    "geo.batch_max_delay_ms",
                    g.batch_max_delay_ms,
                    defaults::BATCH_MAX_DELAY_MS as i64,
                    0,
                    1000,
                )? as u64),
                heartbeat: Duration::from_millis(in_range(
                    "geo.heartbeat_ms",
                    g.heartbeat_ms,
                    defaults::HEARTBEAT_MS as i64,
                    10,
                    60_000,
                )? as u64),
            },
            None if peers.is_empty() => Geo {
                // A lone region needs no QUIC endpoint address; this placeholder is never bound.
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                advertise: None,
                backlog_bytes: defaults::BACKLOG_BYTES,
                batch_max_bytes: defaults::BATCH_MAX_BYTES,
                batch_max_delay: Duration::from_millis(defaults::BATCH_MAX_DELAY_MS),
                heartbeat: Duration::from_millis(defaults::HEARTBEAT_MS),
            },
            None => {
                return Err(invalid(
                    "geo",
                    "a [geo] section with `listen` is required when peers are listed",
                ))
            }
        };
        let tls = match raw.tls {
            Some(t) => {
                let mut revoked = Vec::with_capacity(t.revoked.len());
                for (i, f) in t.revoked.iter().enumerate() {
                    revoked.push(fingerprint(f).ok_or_else(|| {
                        invalid(
                            format!("tls.revoked[{i}]"),
                            format!(
                                "{f:?} is not a SHA-256 fingerprint (64 hex digits, `:` between pairs allowed)"
                            ),
                        )
                    })?);
                }
                Some(TlsFiles {
                    ca: t.ca,
                    cert: t.cert,
                    key: t.key,
                    revoked,
                })
            }
            None => None,
        };
        if tls.is_some() && !geo_given {
            return Err(invalid(
                "geo",
                "a [geo] section with `listen` is required with [tls] (the region's QUIC endpoint, for links)",
            ));
        }
        if !peers.is_empty() && tls.is_none() {
            return Err(invalid(
                "tls",
                "a [tls] section (ca, cert, key) is required when peers are listed: links use mutual TLS",
            ));
        }
        let persistence = match raw.persistence.mode.as_deref() {
            None | Some("none") => Persistence::None,
            Some(other) => {
                return Err(invalid(
                    "persistence.mode",
                    format!("{other:?} is not supported yet; the only mode is \"none\""),
                ))
            }
        };
        let log_format = match raw.log.format.as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "log.format",
                    format!("{other:?} must be \"text\" or \"json\""),
                ))
            }
        };
        let metrics = match raw.metrics {
            Some(m) => Some(addr("metrics.listen", &m.listen)?),
            None => None,
        };
        let group_state_file = raw.group.and_then(|g| g.state_file);
        if group_state_file
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            return Err(invalid("group.state_file", "must not be empty"));
        }
        Ok(Config {
            group_state_file,
            metrics,
            region,
            server,
            limits,
            geo,
            peers,
            tls,
            persistence,
            log_format,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        [region]
        id = 1
        name = "eu-west"
        [server]
        bind = "127.0.0.1:7001"
        shards = 4
        [geo]
        listen = "127.0.0.1:17001"
        [tls]
        ca = "ca.pem"
        cert = "eu.pem"
        key = "eu.key"
        [[peers]]
        id = 2
        name = "us-east"
        addr = "127.0.0.1:17002"
    "#;

    fn err(text: &str) -> String {
        Config::parse(text)
            .expect_err("config should be refused")
            .to_string()
    }

    #[test]
    fn good_config_parses_with_defaults() {
        let c = Config::parse(GOOD).expect("valid");
        assert_eq!(c.region.id.get(), 1);
        assert_eq!(c.server.shards, 4);
        assert_eq!(c.geo.backlog_bytes, defaults::BACKLOG_BYTES);
        assert_eq!(c.peers.len(), 1);
        assert!(c.server.protected_mode);
        assert_eq!(c.limits.proto_max_bulk_len, 512 << 20);
    }

    #[test]
    fn metrics_endpoint_is_optional_and_checked() {
        assert_eq!(Config::parse(GOOD).expect("valid").metrics, None);
        let c = Config::parse(&format!("{GOOD}\n[metrics]\nlisten = \"127.0.0.1:9121\"\n"))
            .expect("valid");
        assert_eq!(c.metrics, Some("127.0.0.1:9121".parse().expect("addr")));
        let e = err(&format!("{GOOD}\n[metrics]\nlisten = \"nine\"\n"));
        assert!(e.starts_with("metrics.listen:"), "{e}");
    }

    #[test]
    fn revoked_fingerprints_are_parsed_and_checked() {
        let fp = "AB:".repeat(31) + "CD";
        let c = Config::parse(&GOOD.replace(
            "key = \"eu.key\"",
            &format!(
                "key = \"eu.key\"\nrevoked = [\"{fp}\", \"{}\"]",
                "0f".repeat(32)
            ),
        ))
        .expect("valid");
        let t = c.tls.expect("tls");
        assert_eq!(t.revoked.len(), 2);
        assert_eq!(t.revoked[0][0], 0xAB);
        assert_eq!(t.revoked[0][31], 0xCD);
        assert_eq!(t.revoked[1], [0x0f; 32]);
        let e = err(&GOOD.replace(
            "key = \"eu.key\"",
            "key = \"eu.key\"\nrevoked = [\"AB:CD\"]",
        ));
        assert!(e.starts_with("tls.revoked[0]:"), "{e}");
    }

    #[test]
    fn unknown_field_is_named() {
        let e = err(&GOOD.replace("shards = 4", "shardz = 4"));
        assert!(e.contains("shardz"), "{e}");
    }

    #[test]
    fn duplicate_region_id_is_named() {
        let e = err(&GOOD.replace("id = 2", "id = 1"));
        assert_eq!(e, "peers[0].id: region id 1 is used twice");
    }

    #[test]
    fn region_id_zero_is_refused() {
        let e = err(&GOOD.replace("id = 1\n", "id = 0\n"));
        assert!(e.starts_with("region.id:"), "{e}");
    }

    #[test]
    fn bad_address_is_named() {
        let e = err(&GOOD.replace("127.0.0.1:17002", "localhost"));
        assert!(e.starts_with("peers[0].addr:"), "{e}");
    }

    #[test]
    fn six_regions_are_refused() {
        let mut text = GOOD.to_string();
        for id in 3..=6 {
            text.push_str(&format!(
                "[[peers]]\nid = {id}\nname = \"r{id}\"\naddr = \"127.0.0.1:1700{id}\"\n"
            ));
        }
        let e = err(&text);
        assert!(e.starts_with("peers: a group has at most 5 regions"), "{e}");
    }

    #[test]
    fn peers_without_tls_are_refused() {
        let start = GOOD.find("[tls]").expect("tls section");
        let end = GOOD.find("[[peers]]").expect("peers");
        let text = format!("{}{}", &GOOD[..start], &GOOD[end..]);
        assert!(err(&text).starts_with("tls:"));
    }

    #[test]
    fn shards_out_of_range_are_named() {
        let e = err(&GOOD.replace("shards = 4", "shards = 0"));
        assert_eq!(e, "server.shards: 0 is out of range (1 to 256)");
    }

    #[test]
    fn group_state_file_defaults_beside_the_config_and_tls_needs_geo() {
        let dir = std::env::temp_dir().join(format!("meridian-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("eu.toml");
        std::fs::write(&path, GOOD).expect("write");
        let c = Config::load(&path).expect("valid");
        assert_eq!(c.group_state_file, Some(dir.join("eu-west.group.toml")));
        std::fs::write(
            &path,
            format!("{GOOD}\n[group]\nstate_file = \"/var/lib/m/eu.toml\"\n"),
        )
        .expect("write");
        let c = Config::load(&path).expect("valid");
        assert_eq!(
            c.group_state_file,
            Some(PathBuf::from("/var/lib/m/eu.toml"))
        );
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            err(&format!("{GOOD}\n[group]\nstate_file = \"\"\n")).starts_with("group.state_file:")
        );
        let adv = GOOD.replace(
            "listen = \"127.0.0.1:17001\"",
            "listen = \"0.0.0.0:17001\"\nadvertise = \"10.1.2.3:17001\"",
        );
        assert_eq!(
            Config::parse(&adv).expect("valid").geo.advertise,
            Some("10.1.2.3:17001".parse().expect("addr"))
        );
        let bad = adv.replace("10.1.2.3:17001", "0.0.0.0:17001");
        assert!(err(&bad).starts_with("geo.advertise:"), "{}", err(&bad));
        // A lone region with [tls] can be added to a group later: it needs its endpoint.
        let start = GOOD.find("[geo]").expect("geo");
        let end = GOOD.find("[tls]").expect("tls");
        let peers = GOOD.find("[[peers]]").expect("peers");
        let text = format!("{}{}", &GOOD[..start], &GOOD[end..peers]);
        assert!(err(&text).starts_with("geo:"), "{}", err(&text));
        let lone = format!("{}{}", &GOOD[..peers], "");
        assert!(Config::parse(&lone).expect("valid").peers.is_empty());
    }

    #[test]
    fn lone_region_needs_no_geo_or_tls() {
        let c = Config::parse("[region]\nid = 3\nname = \"solo\"\n").expect("valid");
        assert!(c.peers.is_empty());
        assert_eq!(c.server.bind.port(), 6379);
    }

    #[test]
    fn missing_file_is_reported_with_its_path() {
        let e = Config::load(Path::new("/nonexistent/meridian.toml")).expect_err("missing");
        assert!(e.to_string().contains("/nonexistent/meridian.toml"));
    }
}
