//! Commands the proxy answers itself: connection state (PING, HELLO, AUTH, CLIENT, …),
//! server introspection (COMMAND, CONFIG GET, INFO, DBSIZE), whole-keyspace commands (KEYS,
//! SCAN, FLUSHALL) and the CRDT.* admin commands.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use resp::{Command, Protocol, ReplyWriter};

use super::Conn;
use crate::shard::{shard_first_slot, Dbsize, Digest, Flush, Keys, ScanSlots, SLOTS};

/// The Redis version Meridian answers to (clients use it for feature detection).
pub const REDIS_VERSION: &str = "7.0.15";

/// Commands that must see every earlier reply settled, or change how later ones are encoded.
pub(crate) fn is_barrier(cmd: &Command) -> bool {
    matches!(
        cmd,
        Command::Hello { .. }
            | Command::Auth { .. }
            | Command::Reset
            | Command::Info(_)
            | Command::Dbsize
            | Command::RandomKey
            | Command::Keys(_)
            | Command::Scan { .. }
            | Command::FlushAll
            | Command::FlushDb
            | Command::CrdtLinks
            | Command::CrdtPause
            | Command::CrdtResume
            | Command::CrdtDigest
            | Command::CrdtGroup(_)
    )
}

impl Conn {
    fn with_client(&self, f: impl FnOnce(&mut crate::node::ClientEntry)) {
        let mut clients = self
            .node
            .inner
            .clients
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(c) = clients.get_mut(&self.id) {
            f(c);
        }
    }

    fn check_password(
        &self,
        username: Option<&Bytes>,
        password: &[u8],
    ) -> Result<(), &'static str> {
        let Some(expected) = &self.node.inner.cfg.password else {
            return Err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        };
        let user_ok = username.is_none_or(|u| &u[..] == b"default");
        if user_ok && expected.as_bytes() == password {
            Ok(())
        } else {
            Err("WRONGPASS invalid username-password pair or user is disabled.")
        }
    }

    /// Commands answered at once, without touching the keyspace.
    pub(crate) fn immediate(&mut self, cmd: Command, w: &mut ReplyWriter) {
        match cmd {
            Command::Ping(None) => w.simple("PONG"),
            Command::Ping(Some(m)) | Command::Echo(m) => w.bulk(&m),
            Command::Quit => {
                self.quit = true;
                w.ok();
            }
            Command::Select(db) => match resp::num::parse_i64(&db) {
                None => w.error("ERR value is not an integer or out of range"),
                Some(0) => w.ok(),
                Some(_) => w.error("ERR DB index is out of range"),
            },
            Command::ClientSetName(name) => {
                if name.iter().any(|&c| c <= b' ' || c > b'~') {
                    w.error(
                        "ERR Client names cannot contain spaces, newlines or special characters.",
                    );
                } else {
                    let name = (!name.is_empty()).then_some(name);
                    self.with_client(|c| c.name = name);
                    w.ok();
                }
            }
            Command::ClientGetName => {
                let mut name = None;
                self.with_client(|c| name = c.name.clone());
                match name {
                    Some(n) => w.bulk(&n),
                    None => w.null(),
                }
            }
            Command::ClientId => w.int(self.id as i64),
            Command::ClientSetInfo { attr, value } => {
                let attr = attr.to_ascii_lowercase();
                if value.iter().any(|c| !(b'!'..=b'~').contains(c)) {
                    w.error(&format!(
                        "ERR {} cannot contain spaces, newlines or special characters.",
                        String::from_utf8_lossy(&attr)
                    ));
                } else if attr == b"lib-name" {
                    self.with_client(|c| c.lib_name = Some(value));
                    w.ok();
                } else if attr == b"lib-ver" {
                    self.with_client(|c| c.lib_ver = Some(value));
                    w.ok();
                } else {
                    w.error(&format!(
                        "ERR Unrecognized option '{}'",
                        String::from_utf8_lossy(&attr)
                    ));
                }
            }
            Command::ClientList => {
                let clients = self
                    .node
                    .inner
                    .clients
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                let mut s = String::new();
                for (id, c) in clients.iter() {
                    s.push_str(&client_line(*id, c));
                    s.push('\n');
                }
                drop(clients);
                w.verbatim("txt", s.as_bytes());
            }
            Command::ClientInfo => {
                let clients = self
                    .node
                    .inner
                    .clients
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                let line = clients
                    .get(&self.id)
                    .map(|c| client_line(self.id, c))
                    .unwrap_or_default();
                drop(clients);
                w.verbatim("txt", format!("{line}\n").as_bytes());
            }
            Command::ClientNoEvict(_) | Command::ClientNoTouch(_) => w.ok(),
            Command::ClientHelp => help(
                w,
                "CLIENT",
                &[
                    "GETNAME",
                    "SETNAME <name>",
                    "ID",
                    "INFO",
                    "LIST",
                    "SETINFO <LIB-NAME|LIB-VER> <value>",
                    "NO-EVICT (ON|OFF)",
                    "NO-TOUCH (ON|OFF)",
                ],
            ),
            Command::Command => resp::table::write_info_reply(w, &[]),
            Command::CommandCount => w.int(resp::table::COMMANDS.len() as i64),
            Command::CommandInfo(names) => resp::table::write_info_reply(w, &names),
            Command::CommandDocs(names) => resp::table::write_docs_reply(w, &names),
            Command::CommandList => resp::table::write_list_reply(w),
            Command::CommandHelp => help(
                w,
                "COMMAND",
                &[
                    "(no subcommand)",
                    "COUNT",
                    "DOCS [<command-name> ...]",
                    "INFO [<command-name> ...]",
                    "LIST",
                ],
            ),
            Command::ConfigGet(patterns) => {
                let table = self.config_table();
                let hits: Vec<&(String, String)> = table
                    .iter()
                    .filter(|(name, _)| {
                        patterns
                            .iter()
                            .any(|p| resp::glob_match(p, name.as_bytes(), true))
                    })
                    .collect();
                w.map(hits.len());
                for (n, v) in hits {
                    w.bulk(n.as_bytes());
                    w.bulk(v.as_bytes());
                }
            }
            Command::ConfigSet(pairs) => {
                let name = pairs
                    .first()
                    .map(|p| String::from_utf8_lossy(&p.0).into_owned())
                    .unwrap_or_default();
                w.error(&format!(
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - Meridian is configured through its TOML file"
                ));
            }
            Command::ConfigResetStat => w.ok(),
            Command::ConfigHelp => help(
                w,
                "CONFIG",
                &["GET <pattern>", "SET <directive> <value>", "RESETSTAT"],
            ),
            Command::Time => {
                let ms = self.node.inner.clock.now_ms();
                let (s, us) = (ms / 1000, (ms % 1000) * 1000);
                w.array(2);
                w.bulk(s.to_string().as_bytes());
                w.bulk(us.to_string().as_bytes());
            }
            other => {
                tracing::error!(
                    cmd = other.name(),
                    "command reached the proxy's immediate path"
                );
                w.error("ERR internal error: unrouted command");
            }
        }
    }

    /// Commands that run after the batch so far has been executed.
    pub(crate) async fn barrier(&mut self, cmd: Command, w: &mut ReplyWriter<'_>) {
        let inner = self.node.inner.clone();
        match cmd {
            Command::Auth { username, password } => {
                match self.check_password(username.as_ref(), &password) {
                    Ok(()) => {
                        self.authed = true;
                        w.ok();
                    }
                    Err(e) => w.error(e),
                }
            }
            Command::Hello {
                protover,
                auth,
                setname,
            } => {
                if let Some((user, pass)) = &auth {
                    if let Err(e) = self.check_password(Some(user), pass) {
                        return w.error(e);
                    }
                    self.authed = true;
                }
                if !self.authed {
                    return w.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
                }
                if let Some(p) = protover {
                    self.proto = if p == 3 {
                        Protocol::Resp3
                    } else {
                        Protocol::Resp2
                    };
                }
                let proto = self.proto;
                self.with_client(|c| {
                    c.resp = if proto == Protocol::Resp3 { 3 } else { 2 };
                    if let Some(n) = &setname {
                        c.name = Some(n.clone());
                    }
                });
                let mut w = ReplyWriter::new(w_out(w), self.proto);
                w.map(7);
                w.bulk(b"server");
                w.bulk(b"redis");
                w.bulk(b"version");
                w.bulk(REDIS_VERSION.as_bytes());
                w.bulk(b"proto");
                w.int(if self.proto == Protocol::Resp3 { 3 } else { 2 });
                w.bulk(b"id");
                w.int(self.id as i64);
                w.bulk(b"mode");
                w.bulk(b"standalone");
                w.bulk(b"role");
                w.bulk(b"master");
                w.bulk(b"modules");
                w.array(0);
            }
            Command::Reset => {
                self.tx = None;
                self.unwatch();
                self.leave_pubsub();
                self.proto = Protocol::Resp2;
                self.authed = inner.cfg.password.is_none();
                self.with_client(|c| {
                    c.name = None;
                    c.resp = 2;
                });
                ReplyWriter::new(w_out(w), Protocol::Resp2).simple("RESET");
            }
            Command::RandomKey => {
                // Ask the shards in turn, from a random one, until one has a key.
                let n = inner.shards.len();
                // Each shard picks its key at random; which shard goes first only needs to vary.
                let start = (inner.clock.tick().0 as usize ^ self.id as usize) % n.max(1);
                let mut found: Option<bytes::BytesMut> = None;
                for i in 0..n {
                    let exec = crate::shard::Exec {
                        proto: self.proto,
                        cmds: vec![(0, Command::RandomKey)],
                    };
                    if let Ok(r) = inner.shards[(start + i) % n].send(exec).await {
                        if !r.out.starts_with(b"$-1") && !r.out.starts_with(b"_") {
                            found = Some(r.out);
                            break;
                        }
                    }
                }
                match found {
                    Some(bytes) => w.raw(&bytes),
                    None => w.null(),
                }
            }
            Command::Dbsize => {
                let mut total = 0;
                for s in &inner.shards {
                    total += s.send(Dbsize).await.unwrap_or(0);
                }
                w.int(total as i64);
            }
            Command::Keys(pattern) => {
                let mut all = Vec::new();
                for s in &inner.shards {
                    if let Ok(keys) = s
                        .send(Keys {
                            pattern: pattern.clone(),
                        })
                        .await
                    {
                        all.extend(keys);
                    }
                }
                w.array(all.len());
                for k in all {
                    w.bulk(&k);
                }
            }
            Command::Scan {
                cursor,
                pattern,
                count,
                kind,
            } => {
                if cursor >= SLOTS as u64 {
                    // A cursor we never handed out: Redis answers an empty, finished scan.
                    w.array(2);
                    w.bulk(b"0");
                    w.array(0);
                    return;
                }
                let n = inner.shards.len() as u16;
                let slot = cursor as u16;
                let shard = inner.slot_map[slot as usize];
                let end = shard_first_slot(shard + 1, n).min(SLOTS as u32);
                let res = inner.shards[shard as usize]
                    .send(ScanSlots {
                        from_slot: slot as u32,
                        end_slot: end,
                        count,
                        pattern,
                        kind,
                    })
                    .await;
                let (next, keys) = res.unwrap_or((SLOTS as u32, Vec::new()));
                let next = if next >= SLOTS as u32 { 0 } else { next };
                w.array(2);
                w.bulk(next.to_string().as_bytes());
                w.array(keys.len());
                for k in keys {
                    w.bulk(&k);
                }
            }
            Command::FlushAll | Command::FlushDb => {
                if self.node.linked() {
                    w.error("ERR FLUSHALL and FLUSHDB are refused while the region is linked to other regions: use the operator's group flush");
                } else {
                    for s in &inner.shards {
                        let _ = s.send(Flush).await;
                    }
                    w.ok();
                }
            }
            Command::Info(sections) => {
                let text = self.info(&sections).await;
                w.verbatim("txt", text.as_bytes());
            }
            Command::CrdtLinks => {
                let links = self.node.links().await;
                let waiting = if links.is_empty() {
                    Default::default()
                } else {
                    self.node.shard_stats().await.gc_waiting_on
                };
                w.array(links.len());
                for l in links {
                    w.map(15);
                    w.bulk(b"peer");
                    w.int(l.peer as i64);
                    w.bulk(b"name");
                    w.bulk(l.name.as_bytes());
                    w.bulk(b"addr");
                    w.bulk(l.addr.as_bytes());
                    w.bulk(b"state");
                    w.bulk(l.state.as_bytes());
                    for (k, v) in [
                        ("lag_ops", l.lag_ops),
                        ("lag_ms", l.lag_ms),
                        ("backlog_bytes", l.backlog_bytes),
                        ("pending_gc", waiting.get(&l.peer).copied().unwrap_or(0)),
                        ("sent_ops", l.sent_ops),
                        ("acked_ops", l.acked_ops),
                        ("received_ops", l.received_ops),
                        ("connects", l.connects),
                        ("full_syncs_needed", l.full_syncs_needed),
                        ("inbound_connected", l.inbound_connected as u64),
                    ] {
                        w.bulk(k.as_bytes());
                        w.int(v as i64);
                    }
                    w.bulk(b"last_error");
                    w.bulk(l.last_error.unwrap_or_default().as_bytes());
                }
            }
            Command::CrdtPause | Command::CrdtResume => match inner.geo.get() {
                Some(g) => {
                    if matches!(cmd, Command::CrdtPause) {
                        g.pause();
                    } else {
                        g.resume();
                    }
                    w.ok();
                }
                None => w.error("ERR this region has no peers"),
            },
            Command::CrdtGroup(args) => match inner.geo.get() {
                Some(g) => match g.group(args).await {
                    Ok(lines) if lines.is_empty() => w.ok(),
                    Ok(lines) => {
                        w.array(lines.len());
                        for l in lines {
                            w.bulk(l.as_bytes());
                        }
                    }
                    Err(e) => w.error(&format!("ERR {e}")),
                },
                None => w.error("ERR this node does not manage group membership"),
            },
            Command::CrdtDigest => {
                let mut acc = 0u64;
                for s in &inner.shards {
                    acc ^= s.send(Digest).await.unwrap_or(0);
                }
                w.bulk(format!("{acc:016x}").as_bytes());
            }
            other => self.immediate(other, w),
        }
    }

    fn config_table(&self) -> Vec<(String, String)> {
        let cfg = &self.node.inner.cfg;
        let kv = |k: &str, v: String| (k.to_string(), v);
        vec![
            kv("bind", cfg.bind.ip().to_string()),
            kv("port", cfg.bind.port().to_string()),
            kv("databases", "1".into()),
            kv("maxclients", cfg.max_clients.to_string()),
            kv("maxmemory", "0".into()),
            kv("maxmemory-policy", "noeviction".into()),
            kv("save", "".into()),
            kv("appendonly", "no".into()),
            kv("appendfsync", "everysec".into()),
            kv("timeout", "0".into()),
            kv("tcp-keepalive", "300".into()),
            kv(
                "protected-mode",
                if cfg.protected_mode { "yes" } else { "no" }.into(),
            ),
            kv("requirepass", cfg.password.clone().unwrap_or_default()),
            kv(
                "proto-max-bulk-len",
                cfg.limits.proto_max_bulk_len.to_string(),
            ),
            kv(
                "client-query-buffer-limit",
                cfg.query_buffer_limit.to_string(),
            ),
            kv("cluster-enabled", "no".into()),
            kv("io-threads", cfg.shards.to_string()),
            kv("hz", "10".into()),
            kv("loglevel", "notice".into()),
            kv("lua-time-limit", "5000".into()),
            kv("slowlog-log-slower-than", "10000".into()),
            kv("slowlog-max-len", "128".into()),
            kv("notify-keyspace-events", "".into()),
            kv("repl-backlog-size", cfg.backlog_bytes.to_string()),
        ]
    }

    async fn info(&self, sections: &[Bytes]) -> String {
        let inner = &self.node.inner;
        let want = |name: &str| {
            sections.is_empty()
                || sections.iter().any(|s| {
                    s.eq_ignore_ascii_case(name.as_bytes())
                        || s.eq_ignore_ascii_case(b"all")
                        || s.eq_ignore_ascii_case(b"everything")
                        || (s.eq_ignore_ascii_case(b"default"))
                })
        };
        let stats = self.node.shard_stats().await;
        let cfg = &inner.cfg;
        let mut s = String::new();
        let uptime = inner.started.elapsed().as_secs();
        if want("server") {
            let _ = write!(
                s,
                "# Server\r\nredis_version:{REDIS_VERSION}\r\nmeridian_version:{}\r\nredis_mode:standalone\r\nos:{}\r\narch_bits:64\r\nprocess_id:{}\r\nrun_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\nhz:10\r\nexecutable:meridian\r\n\r\n",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS,
                std::process::id(),
                inner.run_id,
                cfg.bind.port(),
                uptime / 86400
            );
        }
        if want("clients") {
            let n = inner.clients.lock().map(|c| c.len()).unwrap_or(0);
            let _ = write!(
                s,
                "# Clients\r\nconnected_clients:{n}\r\nmaxclients:{}\r\nblocked_clients:0\r\n\r\n",
                cfg.max_clients
            );
        }
        if want("memory") {
            let rss = rss_bytes();
            let _ = write!(
                s,
                "# Memory\r\nused_memory:{rss}\r\nused_memory_human:{:.2}M\r\nused_memory_rss:{rss}\r\nmaxmemory:0\r\nmaxmemory_policy:noeviction\r\nmem_allocator:mimalloc\r\nused_memory_note:used_memory is the process resident set size\r\n\r\n",
                rss as f64 / (1 << 20) as f64
            );
        }
        if want("stats") {
            let st = &inner.stats;
            let _ = write!(
                s,
                "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\n\r\n",
                st.connections.load(Ordering::Relaxed),
                st.commands.load(Ordering::Relaxed),
                st.net_input.load(Ordering::Relaxed),
                st.net_output.load(Ordering::Relaxed),
                st.rejected.load(Ordering::Relaxed),
                stats.expired_keys,
                stats.keyspace_hits,
                stats.keyspace_misses,
                inner.hub.channels(None).len(),
                inner.hub.numpat()
            );
        }
        if want("replication") {
            s.push_str("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\r\n");
        }
        if want("keyspace") {
            s.push_str("# Keyspace\r\n");
            if stats.keys > 0 {
                let _ = write!(
                    s,
                    "db0:keys={},expires={},avg_ttl=0\r\n",
                    stats.keys, stats.expires
                );
            }
            s.push_str("\r\n");
        }
        if want("crdt") {
            let links = self.node.links().await;
            let h = self.node.replication_health(&links);
            let _ = write!(
                s,
                "# CRDT\r\nregion_id:{}\r\nregion_name:{}\r\ngroup_state:{}\r\ngroup_members:{}\r\nclock_hlc:{}\r\nlinked_regions:{}\r\npaused:{}\r\ngeo_replication_healthy:{}\r\nbacklog_bytes:{}\r\nentries:{}\r\npending_gc:{}\r\ncollected_gc:{}\r\ncollected_leftovers:{}\r\nremote_ops_applied:{}\r\nremote_ops_duplicate:{}\r\nremote_ops_bad:{}\r\nfull_syncs_installed:{}\r\n",
                cfg.region.0,
                cfg.name,
                h.state,
                h.members,
                inner.clock.current().0,
                links.len(),
                h.paused as u8,
                h.healthy as u8,
                stats.backlog_bytes,
                stats.entries,
                stats.gc_pending,
                stats.gc_collected,
                stats.gc_leftover_ops,
                stats.remote_ops,
                stats.duplicate_ops,
                stats.bad_remote_ops,
                inner.stats.full_syncs_installed.load(Ordering::Relaxed)
            );
            for l in &links {
                let _ = write!(
                    s,
                    "peer{}:name={},addr={},link_state={},lag_ops={},lag_ms={},backlog_bytes={},pending_gc={},connects={},full_syncs_needed={}\r\n",
                    l.peer,
                    l.name,
                    l.addr,
                    l.state,
                    l.lag_ops,
                    l.lag_ms,
                    l.backlog_bytes,
                    stats.gc_waiting_on.get(&l.peer).copied().unwrap_or(0),
                    l.connects,
                    l.full_syncs_needed
                );
            }
            s.push_str("\r\n");
        }
        s
    }
}

/// The output buffer behind a reply writer (HELLO and RESET switch protocol mid-reply).
fn w_out<'a>(w: &'a mut ReplyWriter<'_>) -> &'a mut bytes::BytesMut {
    w.buffer()
}

pub(crate) fn help(w: &mut ReplyWriter, name: &str, lines: &[&str]) {
    w.array(lines.len() + 1);
    w.simple(&format!(
        "{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        w.simple(l);
    }
}

fn client_line(id: u64, c: &crate::node::ClientEntry) -> String {
    let name = c
        .name
        .as_ref()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    let lib_name = c
        .lib_name
        .as_ref()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    let lib_ver = c
        .lib_ver
        .as_ref()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    format!(
        "id={id} addr={} laddr={} fd=-1 name={name} age={} idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=NULL user=default redir=-1 resp={} lib-name={lib_name} lib-ver={lib_ver}",
        c.addr,
        c.laddr,
        c.since.elapsed().as_secs(),
        c.resp
    )
}

/// Resident set size of this process, from /proc (0 where unavailable).
pub(crate) fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}
