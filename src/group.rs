//! `meridian group …`: operator commands that talk to running regions over RESP, like
//! `redis-cli` would: `status` renders `INFO crdt`; the membership commands send
//! `CRDT.GROUP` subcommands (see docs/operations.md).

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
            "region {} (id {}): {}, geo-replication healthy: {healthy}, paused: {}, members: {}",
            self.get("region_name"),
            self.get("region_id"),
            self.get("group_state"),
            if self.get("paused") == "1" {
                "yes"
            } else {
                "no"
            },
            self.get("group_members")
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

/// A connection to the node at `endpoint`. Errors are for the operator, naming it.
fn connect(endpoint: &str, password: Option<&str>) -> Result<redis::Connection, String> {
    let url = match password {
        Some(p) => format!("redis://:{p}@{endpoint}/"),
        None => format!("redis://{endpoint}/"),
    };
    let client = redis::Client::open(url).map_err(|e| format!("{endpoint}: {e}"))?;
    let con = client
        .get_connection_with_timeout(Duration::from_secs(5))
        .map_err(|e| format!("cannot reach a Meridian node at {endpoint}: {e}"))?;
    con.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| format!("{endpoint}: {e}"))?;
    Ok(con)
}

/// Sends `CRDT.GROUP args…` to the node at `endpoint`; the lines it answers.
fn crdt_group(
    con: &mut redis::Connection,
    endpoint: &str,
    args: &[&str],
) -> Result<Vec<String>, String> {
    let v: redis::Value = redis::cmd("CRDT.GROUP")
        .arg(args)
        .query(con)
        .map_err(|e| format!("{endpoint}: {}", server_error(&e)))?;
    match v {
        redis::Value::Okay | redis::Value::SimpleString(_) => Ok(Vec::new()),
        redis::Value::Array(items) => items
            .into_iter()
            .map(|i| redis::from_redis_value::<String>(i).map_err(|e| format!("{endpoint}: {e}")))
            .collect(),
        other => Err(format!("{endpoint}: unexpected reply {other:?}")),
    }
}

/// A server's error text without the client library's decoration.
fn server_error(e: &redis::RedisError) -> String {
    match e.detail() {
        Some(d) => d.to_string(),
        None => e.to_string(),
    }
}

/// `meridian group create`.
pub fn create(node: &str, password: Option<&str>) -> Result<String, String> {
    let mut con = connect(node, password)?;
    crdt_group(&mut con, node, &["CREATE"])?;
    let me = crdt_group(&mut con, node, &["SELF"])?;
    Ok(format!(
        "created a replication group; first member: {}\n",
        me.first().map(String::as_str).unwrap_or("?")
    ))
}

/// `meridian group add`: asks the new region who it is, adds it through `node`, and tells
/// it the group's table (it then discards its data and takes a full sync).
pub fn add(
    node: &str,
    password: Option<&str>,
    region: &str,
    endpoint: &str,
) -> Result<String, String> {
    let mut new = connect(endpoint, password)?;
    let me = crdt_group(&mut new, endpoint, &["SELF"])?;
    let line = me
        .first()
        .ok_or_else(|| format!("{endpoint}: CRDT.GROUP SELF answered nothing"))?;
    let parts: Vec<&str> = line.split(',').collect();
    let [id, name, geo, state, peers] = parts[..] else {
        return Err(format!(
            "{endpoint}: unexpected CRDT.GROUP SELF answer {line:?}"
        ));
    };
    if name != region {
        return Err(format!(
            "{endpoint} is region {name} (id {id}), not {region}"
        ));
    }
    if state == "unlinked" {
        return Err(format!(
            "region {name} was force-unlinked from a group: purge it first (meridian group purge --node {endpoint})"
        ));
    }
    if (state == "active" || state == "leaving") && peers != "0" {
        return Err(format!(
            "region {name} is a member of a group with {peers} other member(s): remove it from that group first"
        ));
    }
    let mut member = connect(node, password)?;
    let table = crdt_group(&mut member, node, &["ADD", id, name, geo])?;
    let mut args = vec!["JOIN"];
    args.extend(table.iter().map(String::as_str));
    crdt_group(&mut new, endpoint, &args)?;
    Ok(format!(
        "added region {name} (id {id}, geo {geo}) to the group of {node}; it discards its own data and receives a full sync of the group's\n"
    ))
}

/// `meridian group force-unlink`.
pub fn leave(
    node: &str,
    password: Option<&str>,
    how: &str,
    region: &str,
) -> Result<String, String> {
    let mut con = connect(node, password)?;
    crdt_group(&mut con, node, &[how, region])?;
    Ok(format!("force-unlinked {region}: the group refuses it from now on; to bring it back, purge it and add it again\n"))
}

/// `meridian group remove`: marks the member `leaving` through `node`, then waits (up to
/// `wait`) until `node` sees it `removed`: it refuses writes meanwhile, and leaves once
/// every member has acknowledged its last ones.
pub fn remove(
    node: &str,
    password: Option<&str>,
    region: &str,
    wait: Duration,
) -> Result<String, String> {
    let mut con = connect(node, password)?;
    crdt_group(&mut con, node, &["REMOVE", region])?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        let state = crdt_group(&mut con, node, &["MEMBERS"])?
            .into_iter()
            .find_map(|l| {
                let p: Vec<&str> = l.split(',').collect();
                match p[..] {
                    [id, name, _, state, _, _] if name == region || id == region => {
                        Some(state.to_string())
                    }
                    _ => None,
                }
            })
            .unwrap_or_default();
        match state.as_str() {
            "removed" => {
                return Ok(format!(
                    "removed {region} from the group: every member has all of its writes; it keeps its data as a standalone region\n"
                ))
            }
            "leaving" if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100))
            }
            "leaving" => {
                return Err(format!(
                    "{region} is still leaving after {}s: it refuses writes until every member has acknowledged its last ones (see meridian group status on it and on {node}); it leaves by itself once they have, or force-unlink it to stop waiting",
                    wait.as_secs()
                ))
            }
            other => {
                return Err(format!(
                    "{region} is {} at {node}, not leaving: the removal was overridden",
                    if other.is_empty() { "unknown" } else { other }
                ))
            }
        }
    }
}

/// `meridian group flush`.
pub fn flush(node: &str, password: Option<&str>) -> Result<String, String> {
    let mut con = connect(node, password)?;
    let n = crdt_group(&mut con, node, &["FLUSH"])?;
    Ok(format!(
        "group flush: {} key(s) deleted at {node}; every member deletes them as the deletes reach it (writes made concurrently elsewhere, not yet seen at {node}, survive)\n",
        n.first().map(String::as_str).unwrap_or("0")
    ))
}

/// `meridian group purge`.
pub fn purge(node: &str, password: Option<&str>) -> Result<String, String> {
    let mut con = connect(node, password)?;
    crdt_group(&mut con, node, &["PURGE"])?;
    Ok(format!(
        "purged the region at {node}: its data and group membership are gone\n"
    ))
}

/// `meridian group members`.
pub fn members(node: &str, password: Option<&str>) -> Result<String, String> {
    let mut con = connect(node, password)?;
    let lines = crdt_group(&mut con, node, &["MEMBERS"])?;
    let mut out = format!(
        "{:<4} {:<24} {:<24} {:<9} {:<20} {}\n",
        "id", "name", "geo", "state", "stamp", "by"
    );
    for l in lines {
        let p: Vec<&str> = l.split(',').collect();
        if let [id, name, geo, state, stamp, by] = p[..] {
            let _ = writeln!(
                out,
                "{id:<4} {name:<24} {geo:<24} {state:<9} {stamp:<20} {by}"
            );
        }
    }
    Ok(out)
}

/// `meridian group status`: connects to `endpoint` and prints the region's view of the
/// group. Errors are for the operator, naming the endpoint.
pub fn status(endpoint: &str, password: Option<&str>) -> Result<String, String> {
    let mut con = connect(endpoint, password)?;
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
        let info = "# CRDT\r\nregion_id:1\r\nregion_name:eu\r\ngroup_state:active\r\ngroup_members:2\r\npaused:0\r\ngeo_replication_healthy:0\r\nentries:3\r\nbacklog_bytes:120\r\npending_gc:1\r\npeer2:name=us,addr=127.0.0.1:1,link_state=connecting,lag_ops=4,lag_ms=900,backlog_bytes=120,pending_gc=1,connects=1,full_syncs_needed=0\r\n";
        let s = Status::parse(info);
        assert_eq!(s.peers.len(), 1);
        assert_eq!(s.peers[0].get("lag_ops"), "4");
        let r = s.render();
        assert!(
            r.starts_with(
                "region eu (id 1): active, geo-replication healthy: NO, paused: no, members: 2"
            ),
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
