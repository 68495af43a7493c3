//! Group membership: who the members of the replication group are, as a small CRDT.
//!
//! Each region id has one record (name, geo address, state) written with a stamp (the
//! writer's HLC) and the writer's id; two records of one id merge by keeping the one with
//! the greater `(stamp, by)`. So every member that has seen the same records holds the same
//! table whatever the order they came in, and a record is final until a later change of
//! the same id. Members exchange their whole table (at most a handful of records) when a
//! link connects and whenever it changes, so a change made in one region reaches every
//! member that any member can reach, and a member that was away learns it when it returns.
//!
//! Records from the configuration file carry stamp 0: any change made at run time wins.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::RegionId;

/// The most members a group may have.
pub const MAX_MEMBERS: usize = 5;

/// Where a region stands in the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MemberState {
    /// A member: linked with every other active member.
    Active,
    /// Being removed gracefully (`group remove`): still a member (linked, counted), but it
    /// takes no more writes; once every member has acknowledged its last one, it marks
    /// itself `Removed`.
    Leaving,
    /// Left the group gracefully (`group remove`): it keeps its data as a standalone region.
    Removed,
    /// Force-unlinked while it was away: refused from then on, until it is purged and
    /// added again.
    Unlinked,
}

impl MemberState {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberState::Active => "active",
            MemberState::Leaving => "leaving",
            MemberState::Removed => "removed",
            MemberState::Unlinked => "unlinked",
        }
    }

    /// Whether a region in this state is in the group (linked, counted): active or leaving.
    pub fn is_member(self) -> bool {
        matches!(self, MemberState::Active | MemberState::Leaving)
    }

    fn parse(s: &str) -> Option<MemberState> {
        match s {
            "active" => Some(MemberState::Active),
            "leaving" => Some(MemberState::Leaving),
            "removed" => Some(MemberState::Removed),
            "unlinked" => Some(MemberState::Unlinked),
            _ => None,
        }
    }
}

/// One region's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: RegionId,
    pub name: String,
    /// Its geo-replication (QUIC) endpoint.
    pub addr: SocketAddr,
    pub state: MemberState,
    /// When the record was written (the writer's HLC; 0 for the configuration file's).
    pub stamp: u64,
    /// Which region wrote it (0 for the configuration file).
    pub by: RegionId,
}

impl Member {
    /// What decides between two records of one region: the later `(stamp, writer)`.
    pub fn version(&self) -> (u64, RegionId) {
        (self.stamp, self.by)
    }

    /// Whether a record from a peer is well-formed (a real id, a name that fits the text
    /// form); others are ignored.
    pub fn is_valid(&self) -> bool {
        self.id != 0
            && !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    }
}

impl fmt::Display for Member {
    /// `id,name,addr,state,stamp,by`: the form `CRDT.GROUP` commands carry records in.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{},{},{},{},{},{}",
            self.id,
            self.name,
            self.addr,
            self.state.as_str(),
            self.stamp,
            self.by
        )
    }
}

impl std::str::FromStr for Member {
    type Err = String;

    fn from_str(s: &str) -> Result<Member, String> {
        let parts: Vec<&str> = s.split(',').collect();
        let [id, name, addr, state, stamp, by] = parts[..] else {
            return Err(format!(
                "member record {s:?} must be id,name,addr,state,stamp,by"
            ));
        };
        let id: RegionId = id
            .parse()
            .ok()
            .filter(|&i| i != 0)
            .ok_or_else(|| format!("member record {s:?}: bad region id"))?;
        let m = Member {
            id,
            name: name.to_string(),
            addr: addr
                .parse()
                .map_err(|_| format!("member record {s:?}: bad address"))?,
            state: MemberState::parse(state)
                .ok_or_else(|| format!("member record {s:?}: bad state"))?,
            stamp: stamp
                .parse()
                .map_err(|_| format!("member record {s:?}: bad stamp"))?,
            by: by
                .parse()
                .map_err(|_| format!("member record {s:?}: bad writer id"))?,
        };
        if !m.is_valid() {
            return Err(format!("member record {s:?}: bad region name"));
        }
        Ok(m)
    }
}

/// The membership table: one record per region id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Members {
    records: BTreeMap<RegionId, Member>,
}

impl Members {
    pub fn new() -> Members {
        Members::default()
    }

    /// A table from records (merged, so duplicates of one id keep the latest).
    pub fn from_records(records: impl IntoIterator<Item = Member>) -> Members {
        let mut m = Members::new();
        for r in records {
            m.merge_record(r);
        }
        m
    }

    /// Keeps `r` if it is newer than what the table holds for its id. Returns whether the
    /// table changed.
    pub fn merge_record(&mut self, r: Member) -> bool {
        match self.records.get(&r.id) {
            Some(old) if old.version() >= r.version() => false,
            _ => {
                self.records.insert(r.id, r);
                true
            }
        }
    }

    /// Merges another table in. Returns whether this one changed.
    pub fn merge(&mut self, other: &Members) -> bool {
        let mut changed = false;
        for r in other.records.values() {
            changed |= self.merge_record(r.clone());
        }
        changed
    }

    pub fn get(&self, id: RegionId) -> Option<&Member> {
        self.records.get(&id)
    }

    pub fn records(&self) -> impl Iterator<Item = &Member> {
        self.records.values()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The members (active or leaving), ordered by id.
    pub fn active(&self) -> impl Iterator<Item = &Member> {
        self.records.values().filter(|m| m.state.is_member())
    }

    /// Whether region `id` is a member (active or leaving).
    pub fn is_member(&self, id: RegionId) -> bool {
        self.state_of(id).is_some_and(MemberState::is_member)
    }

    /// The members other than `me`.
    pub fn peers(&self, me: RegionId) -> impl Iterator<Item = &Member> {
        self.active().filter(move |m| m.id != me)
    }

    /// The state of region `id`, if the table has a record of it.
    pub fn state_of(&self, id: RegionId) -> Option<MemberState> {
        self.records.get(&id).map(|m| m.state)
    }

    /// Members that two changes made at the same time through different members put over
    /// the group's limits: past [`MAX_MEMBERS`], or a name already taken. Every member
    /// decides the same from the same table: members leaving come first, then active ones
    /// in the order they were added (`(stamp, writer)`, then id); each is kept if there is
    /// room and its name is free.
    pub fn over_limits(&self) -> Vec<RegionId> {
        let mut candidates: Vec<&Member> = self.active().collect();
        candidates.sort_by_key(|m| (m.state != MemberState::Leaving, m.version(), m.id));
        let mut kept: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for m in candidates {
            if kept.len() < MAX_MEMBERS && !kept.contains(&m.name.as_str()) {
                kept.push(&m.name);
            } else {
                out.push(m.id);
            }
        }
        out.sort_unstable();
        out
    }

    /// Unlinks, as written by `by` at stamp `now` (or just above the table's newest record
    /// if that is later), the members over the group's limits (see
    /// [`Members::over_limits`]), so the table holds at most five members with distinct
    /// names for good (a member unlinked this way must be purged and added again, like one
    /// force-unlinked). Returns them.
    pub fn enforce_limits(&mut self, by: RegionId, now: u64) -> Vec<Member> {
        let over = self.over_limits();
        if over.is_empty() {
            return Vec::new();
        }
        let newest = self.records.values().map(|r| r.stamp).max().unwrap_or(0);
        let stamp = now.max(newest + 1);
        let mut out = Vec::new();
        for id in over {
            if let Some(r) = self.records.get(&id).cloned() {
                let r = Member {
                    state: MemberState::Unlinked,
                    stamp,
                    by,
                    ..r
                };
                self.merge_record(r.clone());
                out.push(r);
            }
        }
        out
    }

    /// Checks that `new` may become an active member: a free id and name, and room.
    pub fn check_add(&self, new: &Member) -> Result<(), String> {
        for m in self.active() {
            if m.id == new.id {
                if m.state == MemberState::Leaving {
                    return Err(format!(
                        "region {} ({}) is leaving the group: add it again once it is removed (and purged)",
                        m.id, m.name
                    ));
                }
                if m.name == new.name && m.addr == new.addr {
                    return Ok(());
                }
                return Err(format!(
                    "region id {} is already the member {} ({})",
                    m.id, m.name, m.addr
                ));
            }
            if m.name == new.name {
                return Err(format!(
                    "the name {} is already taken by member {}",
                    m.name, m.id
                ));
            }
        }
        if self.active().count() >= MAX_MEMBERS {
            return Err(format!(
                "the group is full: it has {MAX_MEMBERS} members, the most a group can have"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: u8, state: MemberState, stamp: u64, by: u8) -> Member {
        Member {
            id,
            name: format!("r{id}"),
            addr: SocketAddr::from(([127, 0, 0, 1], 9000 + id as u16)),
            state,
            stamp,
            by,
        }
    }

    #[test]
    fn merge_keeps_the_latest_record_whatever_the_order() {
        let a = rec(3, MemberState::Active, 10, 1);
        let u = rec(3, MemberState::Unlinked, 20, 2);
        let again = rec(3, MemberState::Active, 30, 1);
        let orders = [
            vec![a.clone(), u.clone(), again.clone()],
            vec![again.clone(), u.clone(), a.clone()],
            vec![u.clone(), again.clone(), a.clone()],
        ];
        for o in orders {
            let m = Members::from_records(o);
            assert_eq!(m.get(3), Some(&again));
        }
        // Equal stamps: the writer id decides, the same way everywhere.
        let x = rec(4, MemberState::Active, 5, 1);
        let y = rec(4, MemberState::Removed, 5, 2);
        assert_eq!(
            Members::from_records([x.clone(), y.clone()]),
            Members::from_records([y.clone(), x])
        );
        let mut m = Members::from_records([y.clone()]);
        assert!(!m.merge_record(y), "an equal record changes nothing");
    }

    #[test]
    fn a_sixth_member_is_refused_and_ids_and_names_stay_unique() {
        let m = Members::from_records((1..=5).map(|i| rec(i, MemberState::Active, 0, 0)));
        let err = m
            .check_add(&rec(6, MemberState::Active, 1, 1))
            .expect_err("sixth");
        assert!(err.contains("full"), "{err}");
        // Re-adding a member as it is is fine (idempotent).
        assert!(m.check_add(&rec(2, MemberState::Active, 1, 1)).is_ok());
        let mut other = rec(2, MemberState::Active, 1, 1);
        other.addr = SocketAddr::from(([127, 0, 0, 2], 1));
        assert!(m.check_add(&other).is_err());
        let mut named = rec(7, MemberState::Active, 1, 1);
        named.name = "r1".into();
        let m4 = Members::from_records((1..=4).map(|i| rec(i, MemberState::Active, 0, 0)));
        assert!(m4.check_add(&named).unwrap_err().contains("name"));
        // A member that left frees its place.
        let mut m5 = m.clone();
        m5.merge_record(rec(5, MemberState::Unlinked, 9, 1));
        assert!(m5.check_add(&rec(6, MemberState::Active, 10, 1)).is_ok());
        assert_eq!(m5.peers(1).map(|p| p.id).collect::<Vec<_>>(), [2, 3, 4]);
    }

    #[test]
    fn a_leaving_member_is_still_a_member_and_cannot_be_added_again() {
        let mut m = Members::from_records((1..=3).map(|i| rec(i, MemberState::Active, 0, 0)));
        m.merge_record(rec(3, MemberState::Leaving, 5, 1));
        assert!(m.is_member(3));
        assert_eq!(m.peers(1).map(|p| p.id).collect::<Vec<_>>(), [2, 3]);
        let err = m
            .check_add(&rec(3, MemberState::Active, 6, 1))
            .expect_err("leaving");
        assert!(err.contains("leaving"), "{err}");
        // It marks itself removed once it has handed its writes over.
        m.merge_record(rec(3, MemberState::Removed, 9, 3));
        assert!(!m.is_member(3));
        let t = rec(3, MemberState::Leaving, 5, 1).to_string();
        assert_eq!(t, "3,r3,127.0.0.1:9003,leaving,5,1");
        assert_eq!(t.parse::<Member>(), Ok(rec(3, MemberState::Leaving, 5, 1)));
    }

    #[test]
    fn members_added_at_once_past_the_limits_are_unlinked_the_same_way_everywhere() {
        let four = (1..=4).map(|i| rec(i, MemberState::Active, 0, 0));
        // Two members each added one more, at the same time (each saw four).
        let x = rec(5, MemberState::Active, 100, 1);
        let y = rec(6, MemberState::Active, 90, 2);
        let mut a = Members::from_records(four.clone().chain([x.clone()]));
        let mut b = Members::from_records(four.clone().chain([y.clone()]));
        assert!(a.over_limits().is_empty() && b.over_limits().is_empty());
        a.merge_record(y.clone());
        b.merge_record(x.clone());
        // The later add goes, whichever member decides it.
        assert_eq!(a.over_limits(), [5]);
        assert_eq!(b.over_limits(), [5]);
        let unlinked = a.enforce_limits(1, 0);
        assert_eq!(unlinked.len(), 1);
        b.enforce_limits(2, 500);
        a.merge(&b);
        b.merge(&a);
        assert_eq!(a, b);
        assert_eq!(a.state_of(5), Some(MemberState::Unlinked));
        assert_eq!(a.active().count(), MAX_MEMBERS);
        assert!(a.over_limits().is_empty());
        // A name taken twice: the later record goes; a leaving member keeps its place.
        let mut dup = rec(7, MemberState::Active, 50, 3);
        dup.name = "r2".into();
        let mut m = Members::from_records([
            rec(1, MemberState::Active, 0, 0),
            rec(2, MemberState::Leaving, 80, 1),
            dup,
        ]);
        assert_eq!(m.over_limits(), [7]);
        m.enforce_limits(1, 0);
        assert_eq!(m.state_of(7), Some(MemberState::Unlinked));
        assert_eq!(m.state_of(2), Some(MemberState::Leaving));
    }

    #[test]
    fn records_round_trip_through_text_and_bad_text_is_refused() {
        let r = rec(3, MemberState::Unlinked, 123, 2);
        let t = r.to_string();
        assert_eq!(t, "3,r3,127.0.0.1:9003,unlinked,123,2");
        assert_eq!(t.parse::<Member>(), Ok(r));
        for bad in [
            "",
            "0,r,127.0.0.1:1,active,1,1",
            "1,,127.0.0.1:1,active,1,1",
            "1,r,nowhere,active,1,1",
            "1,r,127.0.0.1:1,gone,1,1",
            "1,r,127.0.0.1:1,active,x,1",
            "1,r,127.0.0.1:1,active,1,1,extra",
            "1,r s,127.0.0.1:1,active,1,1",
        ] {
            assert!(bad.parse::<Member>().is_err(), "{bad:?}");
        }
    }
}
