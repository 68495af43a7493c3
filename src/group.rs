//! `meridian group …`: operator commands that talk to a running region over RESP, like
//! `redis-cli` would. Only `status` exists in this release (see docs/operations.md).

use std::fmt::Write as _;
use std::time::Duration;

/// One peer line of `INFO crdt` (`peer<N>:k=v,…`).
#[derive(Debug, Default, PartialEq)]
pub struct PeerRow {
    pub peer: String,
    pub fields: Vec<(String, String)>,
}

/// The value of field `k`, or `-` when the node did not report it.
fn field<'a>(fields: &'a [(String, String)], k: &str) -> &'a str {
    fields
        .iter()
        .find(|(f, _)| f == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or("-")
}

impl PeerRow {
    fn get(&self, k: &str) -> &str {
        field(&self.fields, k)
    }
}

/// What `INFO crdt` says about the region and its peers.
#[derive(Debug, Default, PartialEq)]
pub struct Status {
    pub fields: Vec<(String, String)>,
    pub peers: Vec<PeerRow>,
}

impl Status {
    /// Parses the `INFO crdt` text.
    pub fn parse(info: &str) -> Status {
        let mut s = Status::default();
        for line in info.lines().map(str::trim) {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k.strip_prefix("peer") {
                Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
                    s.peers.push(PeerRow {
                        peer: id.to_string(),
                        fields: v
                            .split(',')
                            .filter_map(|kv| kv.split_once('='))
                            .map(|(a, b)| (a.to_string(), b.to_string()))
                            .collect(),
                    })
                }
                _ => s.fields.push((k.to_string(), v.to_string())),
            }
        }
        s
    }

    fn get(&self, k: &str) -> &str {
        field(&self.fields, k)
    }

    /// The human-readable report.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let healthy = match self.get("geo_replication_healthy") {
            "1" => "yes",
            "0" => "NO",
            other => other,
        };
        let _ = writeln!(
            out,
            "region {} (id {}): geo-replication healthy: {healthy}, paused: {}, members: {}",
            self.get("region_name"),
            self.get("region_id"),
            if self.get("paused") == "1" {
                "yes"
            } else {
                "no"
            },
            self.peers.len() + 1
        );
        let _ = writeln!(
            out,
            "entries: {}, backlog: {} bytes, pending GC: {} keys",
            self.get("entries"),
            self.get("backlog_bytes"),
            self.get("pending_gc")
        );
        let cols = [
            ("peer", 4),
            ("name", 24),
            ("link_state", 16),
            ("lag_ops", 9),
            ("lag_ms", 8),
            ("backlog_bytes", 14),
            ("pending_gc", 11),
            ("connects", 8),
        ];
        for (c, w) in cols {
            let _ = write!(out, "{c:<w$} ");
        }
        out = out.trim_end().to_string();
        out.push('\n');
        for p in &self.peers {
            let mut line = String::new();
            for (c, w) in cols {
                let v = if c == "peer" {
                    p.peer.as_str()
                } else {
                    p.get(c)
                };
                let _ = write!(line, "{v:<w$} ");
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `meridian group status`: connects to `endpoint` and prints the region's view of the
/// group. Errors are for the operator, naming the endpoint.
pub fn status(endpoint: &str, password: Option<&str>) -> Result<String, String> {
    let url = match password {
        Some(p) => format!("redis://:{p}@{endpoint}/"),
        None => format!("redis://{endpoint}/"),
    };
    let client = redis::Client::open(url).map_err(|e| format!("{endpoint}: {e}"))?;
    let mut con = client
        .get_connection_with_timeout(Duration::from_secs(5))
        .map_err(|e| format!("cannot reach a Meridian node at {endpoint}: {e}"))?;
    con.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| format!("{endpoint}: {e}"))?;
    let info: String = redis::cmd("INFO")
        .arg("crdt")
        .query(&mut con)
        .map_err(|e| format!("{endpoint}: INFO crdt: {e}"))?;
    let s = Status::parse(&info);
    if s.get("region_id") == "-" {
        return Err(format!(
            "{endpoint} answered INFO without a crdt section: not a Meridian node?"
        ));
    }
    Ok(s.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders_info_crdt() {
        let info = "# CRDT\r\nregion_id:1\r\nregion_name:eu\r\npaused:0\r\ngeo_replication_healthy:0\r\nentries:3\r\nbacklog_bytes:120\r\npending_gc:1\r\npeer2:name=us,addr=127.0.0.1:1,link_state=connecting,lag_ops=4,lag_ms=900,backlog_bytes=120,pending_gc=1,connects=1,full_syncs_needed=0\r\n";
        let s = Status::parse(info);
        assert_eq!(s.peers.len(), 1);
        assert_eq!(s.peers[0].get("lag_ops"), "4");
        let r = s.render();
        assert!(
            r.starts_with("region eu (id 1): geo-replication healthy: NO"),
            "{r}"
        );
        let row = r.lines().last().unwrap_or_default();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cells,
            ["2", "us", "connecting", "4", "900", "120", "1", "1"]
        );
    }
}
