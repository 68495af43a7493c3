//! The running membership of one endpoint: the table (see [`crate::members`]), the `Link`
//! actor of every active peer, and what happens when the table changes (links started and
//! stopped, the owner told so it can persist the table and reconfigure its shards).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use actix::{Actor, Addr};
use actix_rt::ArbiterHandle;
use tokio::sync::watch;

use crate::link::{self, Link, LinkShared};
use crate::members::{Member, MemberState, Members};
use crate::{PeerSpec, RegionId};

/// Told of every change of the membership table, with the table after it (under the
/// registry's lock, so calls come in the order of the changes).
pub trait MembershipHook: Send + Sync + 'static {
    fn changed(&self, members: &Members);
    /// A stamp from the region's clock for a record the registry writes by itself (0: none;
    /// the registry then stamps just above the table's newest record).
    fn stamp(&self) -> u64 {
        0
    }
}

/// The table and the links that follow it.
pub(crate) struct Registry {
    me: RegionId,
    members: Mutex<Members>,
    tx: watch::Sender<Members>,
    links: RwLock<BTreeMap<RegionId, (PeerSpec, Addr<Link>)>>,
    shared: OnceLock<Arc<LinkShared>>,
    arbiter: ArbiterHandle,
    hook: Option<Arc<dyn MembershipHook>>,
    paused: Arc<AtomicBool>,
    stopped: AtomicBool,
}

impl Registry {
    pub(crate) fn new(
        me: RegionId,
        members: Members,
        hook: Option<Arc<dyn MembershipHook>>,
        paused: Arc<AtomicBool>,
    ) -> Registry {
        let (tx, _) = watch::channel(members.clone());
        Registry {
            me,
            members: Mutex::new(members),
            tx,
            links: RwLock::new(BTreeMap::new()),
            shared: OnceLock::new(),
            arbiter: actix_rt::Arbiter::current(),
            hook,
            paused,
            stopped: AtomicBool::new(false),
        }
    }

    /// Starts the links of the table's peers (once the shared link state exists).
    pub(crate) fn start(&self, shared: Arc<LinkShared>) {
        let _ = self.shared.set(shared);
        let m = self.lock();
        self.reconcile(&m);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Members> {
        self.members.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn me(&self) -> RegionId {
        self.me
    }

    /// The table now.
    pub(crate) fn members(&self) -> Members {
        self.lock().clone()
    }

    /// Wakes on every change (links send the new table to their peer).
    pub(crate) fn subscribe(&self) -> watch::Receiver<Members> {
        self.tx.subscribe()
    }

    /// The link of active peer `id`.
    pub(crate) fn link(&self, id: RegionId) -> Option<Addr<Link>> {
        if id == self.me {
            return None;
        }
        let links = self.links.read().unwrap_or_else(|p| p.into_inner());
        links.get(&id).map(|(_, a)| a.clone())
    }

    /// Every link, ordered by peer id.
    pub(crate) fn links(&self) -> Vec<Addr<Link>> {
        let links = self.links.read().unwrap_or_else(|p| p.into_inner());
        links.values().map(|(_, a)| a.clone()).collect()
    }

    /// Whether `region` may link with this one: both are active members of our table, and
    /// the dialer's own record (from its `Hello`) is not older than ours: a region that was
    /// added but has not joined yet, or that was unlinked and re-added without a purge,
    /// still holds an older record of itself, and is refused (its data was not replaced).
    /// `Err` is the reason.
    pub(crate) fn admits(&self, region: RegionId, its_own: Option<&Member>) -> Result<(), String> {
        let m = self.lock();
        if !m.is_member(self.me) {
            return Err(format!(
                "region {} is not an active member of a replication group (its state: {})",
                self.me,
                m.state_of(self.me).map_or("standalone", |s| s.as_str())
            ));
        }
        let Some(ours) = m.get(region) else {
            return Err(format!("region {region} is not a member of this group"));
        };
        match ours.state {
            MemberState::Unlinked => Err(format!(
                "region {region} ({}) was force-unlinked from the group by region {}: its \
                 identity is refused; purge it (meridian group purge) and add it again as a new member",
                ours.name, ours.by
            )),
            MemberState::Removed => Err(format!(
                "region {region} ({}) was removed from the group by region {}",
                ours.name, ours.by
            )),
            MemberState::Active if its_own.is_none_or(|r| r.version() < ours.version()) => {
                Err(format!(
                    "region {region} ({}) has not joined the group yet: its own membership record \
                     is older than the group's (run meridian group add for it; a region that was \
                     force-unlinked must be purged first)",
                    ours.name
                ))
            }
            MemberState::Active => Ok(()),
            // Being removed: it was linked (a graceful remove needs every link up), and its
            // own record may still be the active one it had.
            MemberState::Leaving if its_own.is_some_and(|r| r.state.is_member()) => Ok(()),
            MemberState::Leaving => Err(format!(
                "region {region} ({}) is leaving the group and has not joined it",
                ours.name
            )),
        }
    }

    /// Merges a table from a peer that is an active member (the caller checked). Returns
    /// whether ours changed. A peer's record can take this region out of the group
    /// (removed, force-unlinked) but never make it an active member: joining discards the
    /// region's data, so only the region itself does it (the operator's `JOIN`).
    pub(crate) fn merge(&self, other: &Members, from: RegionId) -> bool {
        let mut m = self.lock();
        let prev = m.clone();
        let before = m.state_of(self.me);
        let other = Members::from_records(
            other
                .records()
                .filter(|r| r.is_valid())
                .filter(|r| {
                    r.id != self.me || !r.state.is_member() || before.is_some_and(|s| s.is_member())
                })
                .cloned(),
        );
        if !m.merge(&other) {
            return false;
        }
        self.enforce_limits(&mut m);
        let after = m.state_of(self.me);
        if before != after {
            if let Some(r) = m.get(self.me) {
                tracing::warn!(
                    by = r.by,
                    via = from,
                    state = r.state.as_str(),
                    "this region's membership was changed by another member"
                );
            }
        }
        self.changed(&prev, &m);
        true
    }

    /// Takes, from a peer that refused us, only what it says of this region and of itself:
    /// that we were removed or force-unlinked, or that it left the group (a region that
    /// leaves gracefully marks itself removed). Its other records are not trusted: it may
    /// belong to another group.
    pub(crate) fn learn_from_refusal(&self, other: &Members, from: RegionId) -> bool {
        let fates: Vec<Member> = [self.me, from]
            .into_iter()
            .filter_map(|id| other.get(id))
            .filter(|r| r.is_valid() && !r.state.is_member())
            .cloned()
            .collect();
        !fates.is_empty() && self.merge(&Members::from_records(fates), from)
    }

    /// What to tell a refused dialer: our table if it was removed or force-unlinked (so
    /// it learns it), our own record if we are not a member (so it learns we left), else
    /// nothing.
    pub(crate) fn for_refused(&self, dialer: RegionId) -> Vec<Member> {
        let m = self.lock();
        if matches!(
            m.state_of(dialer),
            Some(MemberState::Removed | MemberState::Unlinked)
        ) {
            m.records().cloned().collect()
        } else if !m.is_member(self.me) {
            m.get(self.me).cloned().into_iter().collect()
        } else {
            Vec::new()
        }
    }

    /// Applies a local change; on success the new table spreads to every peer.
    pub(crate) fn change<R>(
        &self,
        f: impl FnOnce(&mut Members) -> Result<R, String>,
    ) -> Result<R, String> {
        let mut m = self.lock();
        let mut next = m.clone();
        let r = f(&mut next)?;
        self.enforce_limits(&mut next);
        if next != *m {
            let prev = std::mem::replace(&mut *m, next);
            self.changed(&prev, &m);
        }
        Ok(r)
    }

    /// Two changes made at the same time through different members can put the group over
    /// its limits (see [`Members::over_limits`]); every member that sees it unlinks the
    /// same members.
    fn enforce_limits(&self, m: &mut Members) {
        if m.over_limits().is_empty() {
            return;
        }
        let now = self.hook.as_ref().map_or(0, |h| h.stamp());
        for r in m.enforce_limits(self.me, now) {
            tracing::error!(
                region = r.id,
                name = %r.name,
                "a member was added at the same time as another through a different member, past the group's limit of five or under a name already in use: it is unlinked (purge it and add it again once there is room)"
            );
        }
    }

    fn changed(&self, prev: &Members, m: &Members) {
        self.reconcile(m);
        self.tx.send_replace(m.clone());
        if let Some(h) = &self.hook {
            h.changed(m);
        }
        // Members that left: the survivors may hold different prefixes of their streams.
        // Every connection handshakes again, and a survivor that is behind takes a
        // snapshot of one that is ahead (see `proto::departed_ahead`).
        let left: Vec<RegionId> = prev
            .active()
            .filter(|r| r.id != self.me && !m.is_member(r.id))
            .map(|r| r.id)
            .collect();
        if !left.is_empty() && m.is_member(self.me) {
            tracing::info!(
                ?left,
                "members left the group: every geo-link handshakes again, so the survivors end up holding the same of their writes"
            );
            for l in self.links() {
                l.do_send(link::Renew);
            }
        }
    }

    /// Makes the links match the table: a link per active peer while this region is an
    /// active member, none otherwise.
    fn reconcile(&self, m: &Members) {
        let Some(shared) = self.shared.get() else {
            return;
        };
        let stopped = self.stopped.load(Ordering::SeqCst);
        let wanted: BTreeMap<RegionId, PeerSpec> = if m.is_member(self.me) && !stopped {
            m.peers(self.me)
                .map(|p| {
                    (
                        p.id,
                        PeerSpec {
                            id: p.id,
                            name: p.name.clone(),
                            addr: p.addr,
                        },
                    )
                })
                .collect()
        } else {
            BTreeMap::new()
        };
        let mut links = self.links.write().unwrap_or_else(|p| p.into_inner());
        let gone: Vec<RegionId> = links
            .iter()
            .filter(|(id, (spec, _))| {
                wanted
                    .get(id)
                    .is_none_or(|w| w.addr != spec.addr || w.name != spec.name)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            if let Some((spec, addr)) = links.remove(&id) {
                tracing::info!(peer = id, name = %spec.name, "geo-link stopped: no longer a peer");
                addr.do_send(link::Stop);
            }
        }
        for (id, spec) in wanted {
            if links.contains_key(&id) {
                continue;
            }
            tracing::info!(peer = id, name = %spec.name, addr = %spec.addr, "geo-link to a member");
            let paused = self.paused.load(Ordering::SeqCst);
            let sh = shared.clone();
            let s = spec.clone();
            let addr = Link::start_in_arbiter(&self.arbiter, move |_| Link::new(s, sh, paused));
            links.insert(id, (spec, addr));
        }
    }

    /// Stops every link for good (endpoint shutdown).
    pub(crate) fn stop(&self) -> Vec<Addr<Link>> {
        self.stopped.store(true, Ordering::SeqCst);
        let mut links = self.links.write().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *links)
            .into_values()
            .map(|(_, a)| a)
            .collect()
    }
}
