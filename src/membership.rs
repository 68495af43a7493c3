//! The region's side of group membership: the `CRDT.GROUP` commands, the state file that
//! keeps the membership table across restarts, and following the table (the node's
//! member list, log messages when this region is removed or unlinked).
//!
//! The table itself and how it spreads live in `georep::members`; this module decides
//! what each operator command may do here and what it does to the region's data.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use actors::Node;
use bytes::Bytes;
use crdt::RegionId;
use georep::members::{Member, MemberState, Members};
use georep::Geo;
use serde::{Deserialize, Serialize};

/// What the state file holds.
#[derive(Serialize, Deserialize)]
struct StateFile {
    #[serde(default)]
    members: Vec<Member>,
}

/// Reads the membership table kept by an earlier run (`Ok(None)`: no file yet).
pub fn load(path: &Path) -> Result<Option<Members>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let f: StateFile = toml::from_str(&text)
        .map_err(|e| format!("{}: not a group state file: {e}", path.display()))?;
    Ok(Some(Members::from_records(f.members)))
}

/// Writes the table: to a temporary file first, then renamed over the old one, so a crash
/// leaves either the old table or the new one.
fn save(path: &Path, members: &Members) -> Result<(), String> {
    let body = toml::to_string(&StateFile {
        members: members.records().cloned().collect(),
    })
    .map_err(|e| e.to_string())?;
    let text = format!(
        "# Meridian: this region's view of its replication group's membership.\n\
         # Written by the node on every change (meridian group ...); do not edit while it runs.\n{body}"
    );
    let tmp = path.with_extension("toml.tmp");
    let write = || -> std::io::Result<()> {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Makes the rename itself durable; not every filesystem allows it.
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    };
    write().map_err(|e| format!("{}: {e}", path.display()))
}

/// The standing of region `me` in `members`, as `INFO crdt` names it.
pub fn standing(members: &Members, me: RegionId) -> &'static str {
    match members.state_of(me.0) {
        None => "standalone",
        Some(s) => s.as_str(),
    }
}

/// Membership of one region: the node, its geo endpoint (none without `[tls]`), and
/// where the table is kept.
pub struct Group {
    /// Itself, for the task that hands over a leaving region's last writes.
    this: Weak<Group>,
    node: Node,
    geo: OnceLock<Geo>,
    state_file: Option<PathBuf>,
    /// One membership command at a time.
    busy: tokio::sync::Mutex<()>,
    /// The table as last followed (for the node's member list and the log messages).
    last: Mutex<Members>,
    /// Why the last change could not be written to the state file (cleared by a success).
    save_error: Mutex<Option<String>>,
}

impl Group {
    pub fn new(node: Node, state_file: Option<PathBuf>) -> Arc<Group> {
        Arc::new_cyclic(|this| Group {
            this: this.clone(),
            node,
            geo: OnceLock::new(),
            state_file,
            busy: tokio::sync::Mutex::new(()),
            last: Mutex::new(Members::new()),
            save_error: Mutex::new(None),
        })
    }

    /// Connects the geo endpoint and follows its table from now on.
    pub fn set_geo(&self, geo: Geo) {
        let m = geo.members();
        let _ = self.geo.set(geo);
        self.follow(&m);
    }

    fn me(&self) -> RegionId {
        self.node.config().region
    }

    /// This region's id.
    pub fn region(&self) -> RegionId {
        self.me()
    }

    /// The table now (empty without a geo endpoint).
    pub fn members(&self) -> Members {
        self.geo.get().map(|g| g.members()).unwrap_or_default()
    }

    /// Follows a new table: persists it, gives the node its members, and says clearly when
    /// this region's own standing changed.
    fn follow(&self, m: &Members) {
        let me = self.me();
        // HLC receive rule: a change made here later is stamped above every record seen.
        if let Some(max) = m.records().map(|r| r.stamp).max() {
            self.node.clock().observe(crdt::Hlc(max));
        }
        let before = {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::replace(&mut *last, m.clone())
        };
        if let Some(path) = &self.state_file {
            let saved = save(path, m);
            if let Err(e) = &saved {
                tracing::error!(error = %e, "cannot persist the group membership; the change holds until this process stops");
            }
            *self.save_error.lock().unwrap_or_else(|p| p.into_inner()) = saved.err();
        }
        let regions: Vec<RegionId> = if m.is_member(me.0) {
            m.active().map(|r| RegionId(r.id)).collect()
        } else {
            vec![me]
        };
        self.node.set_regions(regions);
        let (was, now) = (before.get(me.0), m.get(me.0));
        if was.map(|r| r.state) == now.map(|r| r.state) {
            return;
        }
        let leaving = |r: Option<&Member>| r.is_some_and(|r| r.state == MemberState::Leaving);
        if leaving(now) {
            if let Some(g) = self.this.upgrade() {
                tokio::spawn(g.hand_over());
            }
        } else if leaving(was) {
            let node = self.node.clone();
            tokio::spawn(async move {
                node.fence(false).await;
            });
        }
        match now {
            Some(r) if r.state == MemberState::Unlinked => tracing::error!(
                by = r.by,
                "this region was force-unlinked from its replication group by region {}: the group refuses it from now on, and its writes the group had not received are not part of the group's data. Run `meridian group purge` on it, then add it again (`meridian group add`) to rejoin as a new member",
                r.by
            ),
            Some(r) if r.state == MemberState::Removed => tracing::warn!(
                by = r.by,
                "this region was removed from its replication group by region {}: it keeps its data and serves it as a standalone region",
                r.by
            ),
            Some(r) if r.state == MemberState::Leaving => tracing::warn!(
                by = r.by,
                "this region is being removed from its replication group (by region {}): it refuses writes until every member has acknowledged its last ones, then leaves the group and keeps its data as a standalone region",
                r.by
            ),
            Some(r) if r.state == MemberState::Active => tracing::info!(
                members = m.active().count(),
                "this region is an active member of a replication group"
            ),
            _ => tracing::info!("this region is standalone (not in a replication group)"),
        }
    }

    /// A graceful remove, this region's side: fence the node (no more writes, nothing more
    /// appended to the logs), wait until every member has acknowledged everything up to
    /// the logs' heads, then mark this region `removed`. The others learn it when they next
    /// dial it (it refuses them with its own record); they hold all of its writes.
    async fn hand_over(self: Arc<Group>) {
        let Some(geo) = self.geo.get() else { return };
        let me = self.me().0;
        let heads = self.node.fence(true).await;
        let mut waiting_since = std::time::Instant::now();
        loop {
            let m = geo.members();
            if m.state_of(me) != Some(MemberState::Leaving) {
                // Decided otherwise meanwhile (force-unlinked): no longer fenced.
                self.node.fence(false).await;
                return;
            }
            let links = geo.links().await;
            // Each peer has acknowledged the heads (acks, not just sent: after a snapshot
            // the offsets count once the peer confirms it installed it), and its own
            // stream to us is up, so a snapshot this region needs (it restarted with empty
            // memory) is known; and none is wanted or under way here.
            let behind: Vec<String> = m
                .peers(me)
                .filter(|p| {
                    !links.iter().any(|l| {
                        l.peer == p.id
                            && l.state == georep::LinkState::Connected
                            && l.inbound_connected
                            && l.acked.len() == heads.len()
                            && l.acked.iter().zip(&heads).all(|(a, h)| a >= h)
                    })
                })
                .map(|p| p.name.clone())
                .collect();
            if behind.is_empty() && geo.sync_idle() {
                let stamp = self.stamp();
                let done = geo.change_members(|t| match t.get(me) {
                    Some(r) if r.state == MemberState::Leaving => {
                        let r = Member {
                            state: MemberState::Removed,
                            stamp,
                            by: me,
                            ..r.clone()
                        };
                        t.merge_record(r);
                        Ok(())
                    }
                    _ => Err("no longer leaving".to_string()),
                });
                if done.is_ok() {
                    tracing::warn!(
                        "left the replication group: every member has all of this region's writes; it is standalone now and takes writes again"
                    );
                    self.node.fence(false).await;
                }
                return;
            }
            if waiting_since.elapsed() >= Duration::from_secs(10) {
                waiting_since = std::time::Instant::now();
                let mut waiting_for = behind;
                if !geo.sync_idle() {
                    waiting_for.push("this region's own full sync".into());
                }
                tracing::warn!(
                    waiting_for = %waiting_for.join(", "),
                    "leaving the replication group: still waiting for members to acknowledge this region's last writes (writes stay refused; force-unlink this region from another member to stop waiting)"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `CRDT.GROUP <subcommand> [args]`.
    pub async fn command(&self, args: Vec<Bytes>) -> Result<Vec<String>, String> {
        let text: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let Some((sub, rest)) = text.split_first() else {
            return Err("wrong number of arguments for 'crdt.group' command".into());
        };
        let _one = self.busy.lock().await;
        let r = self.run(sub, rest).await;
        let unsaved = self
            .save_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match (r, unsaved) {
            (Ok(_), Some(e)) => Err(format!(
                "the change is in force but was not saved, so a restart would undo it: {e}"
            )),
            (r, _) => r,
        }
    }

    async fn run(&self, sub: &str, rest: &[String]) -> Result<Vec<String>, String> {
        let arity = |n: usize| -> Result<(), String> {
            if rest.len() == n {
                Ok(())
            } else {
                Err(format!(
                    "wrong number of arguments for 'crdt.group|{}' command",
                    sub.to_ascii_lowercase()
                ))
            }
        };
        match sub.to_ascii_uppercase().as_str() {
            "MEMBERS" => {
                arity(0)?;
                Ok(self.members().records().map(|r| r.to_string()).collect())
            }
            "SELF" => {
                arity(0)?;
                let m = self.members();
                Ok(vec![format!(
                    "{},{},{},{},{}",
                    self.me().0,
                    self.node.config().name,
                    self.self_addr()?,
                    standing(&m, self.me()),
                    m.peers(self.me().0).count()
                )])
            }
            "CREATE" => {
                arity(0)?;
                self.create()
            }
            "ADD" => {
                arity(3)?;
                self.add(&rest[0], &rest[1], &rest[2])
            }
            "JOIN" => {
                if rest.is_empty() {
                    return Err("wrong number of arguments for 'crdt.group|join' command".into());
                }
                self.join(rest).await
            }
            "REMOVE" => {
                arity(1)?;
                self.leave(&rest[0], MemberState::Removed).await
            }
            "FORCE-UNLINK" => {
                arity(1)?;
                self.leave(&rest[0], MemberState::Unlinked).await
            }
            "PURGE" => {
                arity(0)?;
                self.purge().await
            }
            "FLUSH" => {
                arity(0)?;
                let m = self.members();
                if m.state_of(self.me().0) != Some(MemberState::Active) {
                    return Err(not_a_member_msg(&m, self.me()));
                }
                let n = self.node.flush_group().await;
                tracing::warn!(keys = n, "group flush: every key deleted here, and the deletes replicate to every member");
                Ok(vec![n.to_string()])
            }
            other => Err(format!(
                "unknown subcommand '{other}'. Try MEMBERS, SELF, CREATE, ADD, JOIN, REMOVE, FORCE-UNLINK, PURGE, FLUSH"
            )),
        }
    }

    fn geo(&self) -> Result<&Geo, String> {
        self.geo.get().ok_or_else(|| {
            "this region has no [tls] and [geo] configuration: it cannot be in a replication group"
                .to_string()
        })
    }

    /// The address other members dial to reach this region: `[geo] advertise`, else the
    /// endpoint's own address, which must then be a specific one.
    fn self_addr(&self) -> Result<SocketAddr, String> {
        let a = self.geo()?.advertised();
        if a.ip().is_unspecified() {
            return Err(format!(
                "the geo endpoint listens on {a}, which other members cannot dial: set [geo] advertise to the address they reach it at"
            ));
        }
        Ok(a)
    }

    fn stamp(&self) -> u64 {
        self.node.clock().tick().0
    }

    /// `CREATE`: this region founds a group of one; its data is the group's.
    fn create(&self) -> Result<Vec<String>, String> {
        let geo = self.geo()?;
        let me = self.me();
        let name = self.node.config().name.clone();
        let addr = self.self_addr()?;
        let stamp = self.stamp();
        geo.change_members(|m| {
            match m.state_of(me.0) {
                Some(MemberState::Active | MemberState::Leaving) => {
                    return Err(format!(
                        "this region is already a member of a group of {} member(s)",
                        m.active().count()
                    ))
                }
                Some(MemberState::Unlinked) => return Err(unlinked_msg()),
                _ => {}
            }
            // A new group: records of an earlier group (this region was removed from it)
            // must not make it link with that group's members again.
            *m = Members::from_records([Member {
                id: me.0,
                name,
                addr,
                state: MemberState::Active,
                stamp,
                by: me.0,
            }]);
            Ok(())
        })?;
        tracing::info!("created a replication group with this region as its first member");
        Ok(Vec::new())
    }

    /// `ADD id name addr`: a new member; answers the table (for the new member's `JOIN`).
    fn add(&self, id: &str, name: &str, addr: &str) -> Result<Vec<String>, String> {
        let geo = self.geo()?;
        let me = self.me();
        let id: u8 = id
            .parse()
            .ok()
            .filter(|&i| i != 0)
            .ok_or_else(|| format!("region id {id:?} must be between 1 and 255"))?;
        let addr: SocketAddr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IP:port address"))?;
        let new = format!("{id},{name},{addr},active,0,0").parse::<Member>()?;
        let stamp = self.stamp();
        let table = geo.change_members(|m| {
            if m.state_of(me.0) != Some(MemberState::Active) {
                return Err(not_a_member_msg(m, me));
            }
            if id == me.0 {
                return Err("a region cannot add itself".into());
            }
            m.check_add(&new)?;
            if m.get(id).is_some_and(|r| {
                r.state == MemberState::Active && r.name == new.name && r.addr == new.addr
            }) {
                // Already a member as given: adding again is a no-op (a retried command).
                return Ok(m.clone());
            }
            m.merge_record(Member {
                stamp,
                by: me.0,
                ..new
            });
            Ok(m.clone())
        })?;
        tracing::info!(
            region = id,
            %name,
            %addr,
            "added a member to the replication group; it takes a full sync of the group's data"
        );
        Ok(table.records().map(|r| r.to_string()).collect())
    }

    /// `JOIN record…`: this region becomes a member of the group the records describe. Its
    /// data is discarded; the first member to connect sends it the group's.
    async fn join(&self, records: &[String]) -> Result<Vec<String>, String> {
        let geo = self.geo()?;
        let me = self.me();
        let table = Members::from_records(
            records
                .iter()
                .map(|r| r.parse::<Member>())
                .collect::<Result<Vec<_>, _>>()?,
        );
        let mine = table.get(me.0).ok_or_else(|| {
            format!(
                "the group's table has no record of this region (id {})",
                me.0
            )
        })?;
        let addr = self.self_addr()?;
        if mine.state != MemberState::Active
            || mine.name != self.node.config().name
            || mine.addr != addr
        {
            return Err(format!(
                "the group's record of region {} ({mine}) is not this region as an active member (this region: {}, geo endpoint {addr})",
                me.0,
                self.node.config().name,
            ));
        }
        let current = geo.members();
        match current.state_of(me.0) {
            Some(MemberState::Unlinked) => return Err(unlinked_msg()),
            Some(s) if s.is_member() && current.peers(me.0).next().is_some() => {
                if current.get(me.0) == Some(mine) {
                    // Already joined with this very record (a retried command).
                    geo.merge_members(&table);
                    return Ok(Vec::new());
                }
                return Err(format!(
                    "this region is already linked with {} member(s) of a group: remove it from that group first",
                    current.peers(me.0).count()
                ));
            }
            _ => {}
        }
        self.node.purge().await;
        geo.restart_streams(
            crate::wiring::incarnation(me.0),
            Some("joined a replication group: taking the group's data".to_string()),
        );
        // The group's table replaces ours (records of an earlier group must not make this
        // region link with that group); anything newer reaches us from the members.
        geo.change_members(|m| {
            *m = table.clone();
            Ok(())
        })?;
        tracing::warn!(
            members = table.active().count(),
            "joined a replication group: this region's earlier data was discarded; it takes the group's data from the first member that connects"
        );
        Ok(Vec::new())
    }

    /// `REMOVE name|id` (graceful: every link up) and `FORCE-UNLINK name|id` (the member is
    /// away; it is refused from now on).
    async fn leave(&self, who: &str, state: MemberState) -> Result<Vec<String>, String> {
        let geo = self.geo()?;
        let me = self.me();
        let current = geo.members();
        if current.state_of(me.0) != Some(MemberState::Active) {
            return Err(not_a_member_msg(&current, me));
        }
        let target = current
            .active()
            .find(|r| r.name == who || r.id.to_string() == who)
            .cloned()
            .ok_or_else(|| format!("{who} is not an active member of this group"))?;
        if target.id == me.0 {
            return Err(
                "run this on another member: a region cannot remove or unlink itself".into(),
            );
        }
        if state == MemberState::Removed {
            // Both directions: the member's own stream to us is up only if it joined.
            let down: Vec<String> = geo
                .links()
                .await
                .into_iter()
                .filter(|l| l.state != georep::LinkState::Connected || !l.inbound_connected)
                .map(|l| format!("{} ({})", l.name, l.peer))
                .collect();
            if !down.is_empty() {
                return Err(format!(
                    "a graceful remove needs every member online; not connected: {}. Use FORCE-UNLINK for a member that is down",
                    down.join(", ")
                ));
            }
        }
        if state == MemberState::Removed && target.state == MemberState::Leaving {
            // Already being removed (a retried command).
            return Ok(Vec::new());
        }
        // A graceful remove marks the member `leaving`: it stops taking writes, waits until
        // every member has its last ones, then marks itself `removed`.
        let state = match state {
            MemberState::Removed => MemberState::Leaving,
            s => s,
        };
        let stamp = self.stamp();
        geo.change_members(|m| {
            m.merge_record(Member {
                state,
                stamp,
                by: me.0,
                ..target.clone()
            });
            Ok(())
        })?;
        match state {
            MemberState::Unlinked => tracing::warn!(
                region = target.id,
                name = %target.name,
                "force-unlinked a member: the group stops keeping metadata for it and refuses it from now on; its writes the group had not received are lost"
            ),
            _ => tracing::info!(
                region = target.id,
                name = %target.name,
                "removing a member from the group: it hands over its last writes to every member, then leaves"
            ),
        }
        Ok(Vec::new())
    }

    /// `PURGE`: a region outside any group (removed, force-unlinked, or standalone) drops
    /// all its data and its membership, ready to be added to a group as a new member.
    async fn purge(&self) -> Result<Vec<String>, String> {
        let me = self.me();
        if let Some(geo) = self.geo.get() {
            let current = geo.members();
            if current.is_member(me.0) && current.peers(me.0).next().is_some() {
                return Err(format!(
                    "this region is an active member of a group with {} other member(s): remove it (group remove) or force-unlink it from another member first",
                    current.peers(me.0).count()
                ));
            }
        }
        self.node.purge().await;
        if let Some(geo) = self.geo.get() {
            geo.restart_streams(crate::wiring::incarnation(me.0), None);
            geo.change_members(|m| {
                *m = Members::new();
                Ok(())
            })?;
        }
        tracing::warn!("purged: this region's data and group membership were dropped");
        Ok(Vec::new())
    }
}

impl georep::MembershipHook for Group {
    fn changed(&self, members: &Members) {
        self.follow(members);
    }

    fn stamp(&self) -> u64 {
        Group::stamp(self)
    }
}

fn unlinked_msg() -> String {
    "this region was force-unlinked from its group: purge it first (meridian group purge)".into()
}

fn not_a_member_msg(m: &Members, me: RegionId) -> String {
    match m.state_of(me.0) {
        Some(MemberState::Unlinked) => unlinked_msg(),
        Some(MemberState::Removed) => {
            "this region was removed from its group: add it to a group from one of its members"
                .into()
        }
        Some(MemberState::Leaving) => {
            "this region is leaving its group (a graceful remove is handing over its last writes)"
                .into()
        }
        _ => "this region is not in a replication group: run `meridian group create` on it first, or add it to a group".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_file_round_trips_and_a_broken_one_is_named() {
        let dir = std::env::temp_dir().join(format!("meridian-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("r.group.toml");
        assert_eq!(load(&path), Ok(None));
        let m = Members::from_records([
            "1,eu,127.0.0.1:17001,active,5,1"
                .parse::<Member>()
                .expect("rec"),
            "3,ap,127.0.0.3:17003,unlinked,9,1"
                .parse::<Member>()
                .expect("rec"),
        ]);
        save(&path, &m).expect("save");
        assert_eq!(load(&path), Ok(Some(m)));
        std::fs::write(&path, "members = 3").expect("write");
        let e = load(&path).expect_err("broken");
        assert!(e.contains("not a group state file"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
