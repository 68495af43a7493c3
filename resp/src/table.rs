//! The command table behind COMMAND, COMMAND COUNT/INFO/DOCS/LIST.
//!
//! Entries carry Redis 7's metadata (arity, flags, key positions, ACL
//! categories, docs) so clients that introspect the server — redis-cli's
//! hints, cluster-aware clients computing key positions — behave as they
//! do against Redis. The data for Redis commands was generated from a real
//! redis-server 7.0.15 (`COMMAND INFO` / `COMMAND DOCS`); CLIENT SETINFO
//! and CLIENT NO-TOUCH follow Redis 7.2; CRDT.* are Meridian's own.
//! The argument arity here is also what `Command::parse` enforces.

use bytes::Bytes;

use crate::reply::ReplyWriter;

/// Static description of one command or subcommand.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lowercase full name ("get", "client|setname").
    pub name: &'static str,
    /// Redis arity: N = exactly N args (incl. name), -N = at least N.
    pub arity: i32,
    pub flags: &'static [&'static str],
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// ACL categories ("@string", …).
    pub acl: &'static [&'static str],
    pub summary: &'static str,
    pub since: &'static str,
    pub group: &'static str,
    pub complexity: &'static str,
    /// Flags of the (single) key spec, e.g. ["RW", "access", "update"].
    /// Addition to the agreed API: needed for Redis 7's key-spec reply.
    pub key_flags: &'static [&'static str],
    /// Command tips ("nondeterministic_output", …). Addition to the API.
    pub tips: &'static [&'static str],
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    /// Whether `argc` arguments (including the name) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        if a >= 0 {
            argc == a as usize
        } else {
            argc >= a.unsigned_abs() as usize
        }
    }

    /// Finds a subcommand by its bare name ("setname"), any case.
    pub fn subcommand(&self, sub: &[u8]) -> Option<&'static CommandSpec> {
        let prefix = self.name.len() + 1;
        self.subcommands.iter().find(|s| {
            s.name.len() > prefix && s.name.as_bytes()[prefix..].eq_ignore_ascii_case(sub)
        })
    }
}

/// Looks up a command ("get") or a subcommand by full name
/// ("client|setname"), case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    if let Some(bar) = name.iter().position(|&c| c == b'|') {
        let parent = lookup(&name[..bar])?;
        return parent.subcommand(&name[bar + 1..]);
    }
    COMMANDS
        .iter()
        .find(|s| s.name.as_bytes().eq_ignore_ascii_case(name))
}

/// Writes one COMMAND INFO entry in Redis 7's layout: name, arity, flags
/// (set), first key, last key, step, ACL categories (set), tips (set),
/// key specs (array of maps), subcommands (array of entries).
pub fn write_info(w: &mut ReplyWriter, spec: &CommandSpec) {
    w.array(10);
    w.bulk(spec.name.as_bytes());
    w.int(i64::from(spec.arity));
    w.set(spec.flags.len());
    for f in spec.flags {
        w.simple(f);
    }
    w.int(i64::from(spec.first_key));
    w.int(i64::from(spec.last_key));
    w.int(i64::from(spec.step));
    w.set(spec.acl.len());
    for c in spec.acl {
        w.simple(c);
    }
    w.set(spec.tips.len());
    for t in spec.tips {
        w.bulk(t.as_bytes());
    }
    // Redis 7.0 sends key specs as a set, and "no subcommands" as an
    // empty set but a non-empty list as an array; mirror it byte for byte.
    if spec.first_key > 0 {
        w.set(1);
        write_key_spec(w, spec);
    } else {
        w.set(0);
    }
    if spec.subcommands.is_empty() {
        w.set(0);
    } else {
        w.array(spec.subcommands.len());
    }
    for s in spec.subcommands {
        write_info(w, s);
    }
}

/// The legacy (first, last, step) triple expressed as one Redis 7 key
/// spec: begin at index `first`, then a range whose `lastkey` is relative
/// to it (negative values count from the end).
fn write_key_spec(w: &mut ReplyWriter, spec: &CommandSpec) {
    w.map(3);
    w.bulk(b"flags");
    w.set(spec.key_flags.len());
    for f in spec.key_flags {
        w.simple(f);
    }
    w.bulk(b"begin_search");
    w.map(2);
    w.bulk(b"type");
    w.bulk(b"index");
    w.bulk(b"spec");
    w.map(1);
    w.bulk(b"index");
    w.int(i64::from(spec.first_key));
    w.bulk(b"find_keys");
    w.map(2);
    w.bulk(b"type");
    w.bulk(b"range");
    w.bulk(b"spec");
    w.map(3);
    w.bulk(b"lastkey");
    let last = if spec.last_key < 0 {
        spec.last_key
    } else {
        spec.last_key - spec.first_key
    };
    w.int(i64::from(last));
    w.bulk(b"keystep");
    w.int(i64::from(spec.step));
    w.bulk(b"limit");
    w.int(0);
}

/// Writes the COMMAND DOCS value for one spec: a map of summary, since,
/// group, complexity and (for containers) subcommands → their docs.
/// Like Redis's `addReplyCommandDocs`, the caller writes the name key.
/// Argument descriptions are omitted (Redis allows that; redis-cli then
/// simply shows no hints).
pub fn write_docs(w: &mut ReplyWriter, spec: &CommandSpec) {
    let has_subs = !spec.subcommands.is_empty();
    w.map(4 + usize::from(has_subs));
    w.bulk(b"summary");
    w.bulk(spec.summary.as_bytes());
    w.bulk(b"since");
    w.bulk(spec.since.as_bytes());
    w.bulk(b"group");
    w.bulk(spec.group.as_bytes());
    w.bulk(b"complexity");
    w.bulk(spec.complexity.as_bytes());
    if has_subs {
        w.bulk(b"subcommands");
        w.map(spec.subcommands.len());
        for s in spec.subcommands {
            w.bulk(s.name.as_bytes());
            write_docs(w, s);
        }
    }
}

/// Full reply to `COMMAND INFO [name …]` (all commands when `names` is
/// empty, as `COMMAND` does); unknown names yield nulls like Redis.
pub fn write_info_reply(w: &mut ReplyWriter, names: &[Bytes]) {
    if names.is_empty() {
        w.array(COMMANDS.len());
        for s in COMMANDS {
            write_info(w, s);
        }
        return;
    }
    w.array(names.len());
    for n in names {
        match lookup(n) {
            Some(s) => write_info(w, s),
            None => w.null_array(),
        }
    }
}

/// Full reply to `COMMAND DOCS [name …]`: a map name → docs; unknown
/// names are skipped, as Redis does.
pub fn write_docs_reply(w: &mut ReplyWriter, names: &[Bytes]) {
    if names.is_empty() {
        w.map(COMMANDS.len());
        for s in COMMANDS {
            w.bulk(s.name.as_bytes());
            write_docs(w, s);
        }
        return;
    }
    let found: Vec<&CommandSpec> = names.iter().filter_map(|n| lookup(n)).collect();
    w.map(found.len());
    for s in found {
        w.bulk(s.name.as_bytes());
        write_docs(w, s);
    }
}

/// Full reply to `COMMAND LIST`: every command name (subcommands are not
/// listed, matching Redis).
pub fn write_list_reply(w: &mut ReplyWriter) {
    w.array(COMMANDS.len());
    for s in COMMANDS {
        w.bulk(s.name.as_bytes());
    }
}

static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "client|setname",
        arity: 3,
        flags: &["noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow", "@connection"],
        summary: "Set the current connection name",
        since: "2.6.9",
        group: "connection",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "client|getname",
        arity: 2,
        flags: &["noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow", "@connection"],
        summary: "Get the current connection name",
        since: "2.6.9",
        group: "connection",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "client|id",
        arity: 2,
        flags: &["noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow", "@connection"],
        summary: "Returns the client ID for the current connection",
        since: "5.0.0",
        group: "connection",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "client|list",
        arity: -2,
        flags: &["admin", "noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@admin", "@slow", "@dangerous", "@connection"],
        summary: "Get the list of client connections",
        since: "2.4.0",
        group: "connection",
        complexity: "O(N) where N is the number of client connections",
        key_flags: &[],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    CommandSpec {
        name: "client|info",
        arity: 2,
        flags: &["noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow", "@connection"],
        summary: "Returns information about the current client connection.",
        since: "6.2.0",
        group: "connection",
        complexity: "O(1)",
        key_flags: &[],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    CommandSpec {
        name: "client|no-evict",
        arity: 3,
        flags: &["admin", "noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@admin", "@slow", "@dangerous", "@connection"],
        summary: "Set client eviction mode for the current connection",
        since: "7.0.0",
        group: "connection",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "client|help",
        arity: 2,
        flags: &["loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow", "@connection"],
        summary: "Show helpful text about the different subcommands",
        since: "5.0.0",
        group: "connection",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "client|setinfo",
        arity: 4,
        flags: &["noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow", "@connection"],
        summary: "Set client or connection specific info",
        since: "7.2.0",
        group: "connection",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "client|no-touch",
        arity: 3,
        flags: &["noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow", "@connection"],
        summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys",
        since: "7.2.0",
        group: "connection",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
];

static COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "command|count",
        arity: 2,
        flags: &["loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow", "@connection"],
        summary: "Get total number of Redis commands",
        since: "2.8.13",
        group: "server",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "command|docs",
        arity: -2,
        flags: &["loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow", "@connection"],
        summary: "Get array of specific Redis command documentation",
        since: "7.0.0",
        group: "server",
        complexity: "O(N) where N is the number of commands to look up",
        key_flags: &[],
        tips: &["nondeterministic_output_order"],
        subcommands: &[],
    },
    CommandSpec {
        name: "command|info",
        arity: -2,
        flags: &["loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow", "@connection"],
        summary: "Get array of specific Redis command details, or all when no argument is given.",
        since: "2.8.13",
        group: "server",
        complexity: "O(N) where N is the number of commands to look up",
        key_flags: &[],
        tips: &["nondeterministic_output_order"],
        subcommands: &[],
    },
    CommandSpec {
        name: "command|list",
        arity: -2,
        flags: &["loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow", "@connection"],
        summary: "Get an array of Redis command names",
        since: "7.0.0",
        group: "server",
        complexity: "O(N) where N is the total number of Redis commands",
        key_flags: &[],
        tips: &["nondeterministic_output_order"],
        subcommands: &[],
    },
    CommandSpec {
        name: "command|help",
        arity: 2,
        flags: &["loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow", "@connection"],
        summary: "Show helpful text about the different subcommands",
        since: "5.0.0",
        group: "server",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
];

static CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "config|get",
        arity: -3,
        flags: &["admin", "noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@admin", "@slow", "@dangerous"],
        summary: "Get the values of configuration parameters",
        since: "2.0.0",
        group: "server",
        complexity: "O(N) when N is the number of configuration parameters provided",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "config|set",
        arity: -4,
        flags: &["admin", "noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@admin", "@slow", "@dangerous"],
        summary: "Set configuration parameters to the given values",
        since: "2.0.0",
        group: "server",
        complexity: "O(N) when N is the number of configuration parameters provided",
        key_flags: &[],
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        subcommands: &[],
    },
    CommandSpec {
        name: "config|resetstat",
        arity: 2,
        flags: &["admin", "noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@admin", "@slow", "@dangerous"],
        summary: "Reset the stats returned by INFO",
        since: "2.0.0",
        group: "server",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "config|help",
        arity: 2,
        flags: &["loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow"],
        summary: "Show helpful text about the different subcommands",
        since: "5.0.0",
        group: "server",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
];

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: &["fast"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@fast", "@connection"],
        summary: "Ping the server",
        since: "1.0.0",
        group: "connection",
        complexity: "O(1)",
        key_flags: &[],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        subcommands: &[],
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: &["loading", "stale", "fast"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@fast", "@connection"],
        summary: "Echo the given string",
        since: "1.0.0",
        group: "connection",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "hello",
        arity: -1,
        flags: &["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@fast", "@connection"],
        summary: "Handshake with Redis",
        since: "6.0.0",
        group: "connection",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "auth",
        arity: -2,
        flags: &["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@fast", "@connection"],
        summary: "Authenticate to the server",
        since: "1.0.0",
        group: "connection",
        complexity: "O(N) where N is the number of passwords defined for the user",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "quit",
        arity: -1,
        flags: &["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@fast", "@connection"],
        summary: "Close the connection",
        since: "1.0.0",
        group: "connection",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "reset",
        arity: 1,
        flags: &["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@fast", "@connection"],
        summary: "Reset the connection",
        since: "6.2.0",
        group: "connection",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "select",
        arity: 2,
        flags: &["loading", "stale", "fast"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@fast", "@connection"],
        summary: "Change the selected database for the current connection",
        since: "1.0.0",
        group: "connection",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "client",
        arity: -2,
        flags: &[],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow"],
        summary: "A container for client connection commands",
        since: "2.4.0",
        group: "connection",
        complexity: "Depends on subcommand.",
        key_flags: &[],
        tips: &[],
        subcommands: CLIENT_SUBCOMMANDS,
    },
    CommandSpec {
        name: "command",
        arity: -1,
        flags: &["loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow", "@connection"],
        summary: "Get array of Redis command details",
        since: "2.8.13",
        group: "server",
        complexity: "O(N) where N is the total number of Redis commands",
        key_flags: &[],
        tips: &["nondeterministic_output_order"],
        subcommands: COMMAND_SUBCOMMANDS,
    },
    CommandSpec {
        name: "config",
        arity: -2,
        flags: &[],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow"],
        summary: "A container for server configuration commands",
        since: "2.0.0",
        group: "server",
        complexity: "Depends on subcommand.",
        key_flags: &[],
        tips: &[],
        subcommands: CONFIG_SUBCOMMANDS,
    },
    CommandSpec {
        name: "info",
        arity: -1,
        flags: &["loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@slow", "@dangerous"],
        summary: "Get information and statistics about the server",
        since: "1.0.0",
        group: "server",
        complexity: "O(1)",
        key_flags: &[],
        tips: &["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
        subcommands: &[],
    },
    CommandSpec {
        name: "dbsize",
        arity: 1,
        flags: &["readonly", "fast"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@keyspace", "@read", "@fast"],
        summary: "Return the number of keys in the selected database",
        since: "1.0.0",
        group: "server",
        complexity: "O(1)",
        key_flags: &[],
        tips: &["request_policy:all_shards", "response_policy:agg_sum"],
        subcommands: &[],
    },
    CommandSpec {
        name: "flushall",
        arity: -1,
        flags: &["write"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@keyspace", "@write", "@slow", "@dangerous"],
        summary: "Remove all keys from all databases",
        since: "1.0.0",
        group: "server",
        complexity: "O(N) where N is the total number of keys in all databases",
        key_flags: &[],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        subcommands: &[],
    },
    CommandSpec {
        name: "flushdb",
        arity: -1,
        flags: &["write"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@keyspace", "@write", "@slow", "@dangerous"],
        summary: "Remove all keys from the current database",
        since: "1.0.0",
        group: "server",
        complexity: "O(N) where N is the number of keys in the selected database",
        key_flags: &[],
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        subcommands: &[],
    },
    CommandSpec {
        name: "time",
        arity: 1,
        flags: &["loading", "stale", "fast"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@fast"],
        summary: "Return the current server time",
        since: "2.6.0",
        group: "server",
        complexity: "O(1)",
        key_flags: &[],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    CommandSpec {
        name: "keys",
        arity: 2,
        flags: &["readonly"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@keyspace", "@read", "@slow", "@dangerous"],
        summary: "Find all keys matching the given pattern",
        since: "1.0.0",
        group: "generic",
        complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
        key_flags: &[],
        tips: &["request_policy:all_shards", "nondeterministic_output_order"],
        subcommands: &[],
    },
    CommandSpec {
        name: "scan",
        arity: -2,
        flags: &["readonly"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@keyspace", "@read", "@slow"],
        summary: "Incrementally iterate the keys space",
        since: "2.8.0",
        group: "generic",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        key_flags: &[],
        tips: &["nondeterministic_output", "request_policy:special"],
        subcommands: &[],
    },
    CommandSpec {
        name: "get",
        arity: 2,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@read", "@string", "@fast"],
        summary: "Get the value of a key",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        key_flags: &["RO", "access"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "set",
        arity: -3,
        flags: &["write", "denyoom"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@write", "@string", "@slow"],
        summary: "Set the string value of a key",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        key_flags: &["RW", "access", "update", "variable_flags"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "mget",
        arity: -2,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: -1,
        step: 1,
        acl: &["@read", "@string", "@fast"],
        summary: "Get the values of all the given keys",
        since: "1.0.0",
        group: "string",
        complexity: "O(N) where N is the number of keys to retrieve.",
        key_flags: &["RO", "access"],
        tips: &["request_policy:multi_shard"],
        subcommands: &[],
    },
    CommandSpec {
        name: "mset",
        arity: -3,
        flags: &["write", "denyoom"],
        first_key: 1,
        last_key: -1,
        step: 2,
        acl: &["@write", "@string", "@slow"],
        summary: "Set multiple keys to multiple values",
        since: "1.0.1",
        group: "string",
        complexity: "O(N) where N is the number of keys to set.",
        key_flags: &["OW", "update"],
        tips: &["request_policy:multi_shard", "response_policy:all_succeeded"],
        subcommands: &[],
    },
    CommandSpec {
        name: "setnx",
        arity: 3,
        flags: &["write", "denyoom", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@write", "@string", "@fast"],
        summary: "Set the value of a key, only if the key does not exist",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        key_flags: &["OW", "insert"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "getset",
        arity: 3,
        flags: &["write", "denyoom", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@write", "@string", "@fast"],
        summary: "Set the string value of a key and return its old value",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        key_flags: &["RW", "access", "update"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "getdel",
        arity: 2,
        flags: &["write", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@write", "@string", "@fast"],
        summary: "Get the value of a key and delete the key",
        since: "6.2.0",
        group: "string",
        complexity: "O(1)",
        key_flags: &["RW", "access", "delete"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "append",
        arity: 3,
        flags: &["write", "denyoom", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@write", "@string", "@fast"],
        summary: "Append a value to a key",
        since: "2.0.0",
        group: "string",
        complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
        key_flags: &["RW", "insert"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "strlen",
        arity: 2,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@read", "@string", "@fast"],
        summary: "Get the length of the value stored in a key",
        since: "2.2.0",
        group: "string",
        complexity: "O(1)",
        key_flags: &["RO"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "incr",
        arity: 2,
        flags: &["write", "denyoom", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@write", "@string", "@fast"],
        summary: "Increment the integer value of a key by one",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        key_flags: &["RW", "access", "update"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "decr",
        arity: 2,
        flags: &["write", "denyoom", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@write", "@string", "@fast"],
        summary: "Decrement the integer value of a key by one",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        key_flags: &["RW", "access", "update"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "incrby",
        arity: 3,
        flags: &["write", "denyoom", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@write", "@string", "@fast"],
        summary: "Increment the integer value of a key by the given amount",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        key_flags: &["RW", "access", "update"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "decrby",
        arity: 3,
        flags: &["write", "denyoom", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@write", "@string", "@fast"],
        summary: "Decrement the integer value of a key by the given number",
        since: "1.0.0",
        group: "string",
        complexity: "O(1)",
        key_flags: &["RW", "access", "update"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "incrbyfloat",
        arity: 3,
        flags: &["write", "denyoom", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@write", "@string", "@fast"],
        summary: "Increment the float value of a key by the given amount",
        since: "2.6.0",
        group: "string",
        complexity: "O(1)",
        key_flags: &["RW", "access", "update"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "setex",
        arity: 4,
        flags: &["write", "denyoom"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@write", "@string", "@slow"],
        summary: "Set the value and expiration of a key",
        since: "2.0.0",
        group: "string",
        complexity: "O(1)",
        key_flags: &["OW", "update"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "psetex",
        arity: 4,
        flags: &["write", "denyoom"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@write", "@string", "@slow"],
        summary: "Set the value and expiration in milliseconds of a key",
        since: "2.6.0",
        group: "string",
        complexity: "O(1)",
        key_flags: &["OW", "update"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "sadd",
        arity: -3,
        flags: &["write", "denyoom", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@write", "@set", "@fast"],
        summary: "Add one or more members to a set",
        since: "1.0.0",
        group: "set",
        complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        key_flags: &["RW", "insert"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "srem",
        arity: -3,
        flags: &["write", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@write", "@set", "@fast"],
        summary: "Remove one or more members from a set",
        since: "1.0.0",
        group: "set",
        complexity: "O(N) where N is the number of members to be removed.",
        key_flags: &["RW", "delete"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "smembers",
        arity: 2,
        flags: &["readonly"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@read", "@set", "@slow"],
        summary: "Get all the members in a set",
        since: "1.0.0",
        group: "set",
        complexity: "O(N) where N is the set cardinality.",
        key_flags: &["RO", "access"],
        tips: &["nondeterministic_output_order"],
        subcommands: &[],
    },
    CommandSpec {
        name: "sismember",
        arity: 3,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@read", "@set", "@fast"],
        summary: "Determine if a given value is a member of a set",
        since: "1.0.0",
        group: "set",
        complexity: "O(1)",
        key_flags: &["RO"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "scard",
        arity: 2,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@read", "@set", "@fast"],
        summary: "Get the number of members in a set",
        since: "1.0.0",
        group: "set",
        complexity: "O(1)",
        key_flags: &["RO"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "del",
        arity: -2,
        flags: &["write"],
        first_key: 1,
        last_key: -1,
        step: 1,
        acl: &["@keyspace", "@write", "@slow"],
        summary: "Delete a key",
        since: "1.0.0",
        group: "generic",
        complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
        key_flags: &["RM", "delete"],
        tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        subcommands: &[],
    },
    CommandSpec {
        name: "unlink",
        arity: -2,
        flags: &["write", "fast"],
        first_key: 1,
        last_key: -1,
        step: 1,
        acl: &["@keyspace", "@write", "@fast"],
        summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
        since: "4.0.0",
        group: "generic",
        complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
        key_flags: &["RM", "delete"],
        tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        subcommands: &[],
    },
    CommandSpec {
        name: "exists",
        arity: -2,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: -1,
        step: 1,
        acl: &["@keyspace", "@read", "@fast"],
        summary: "Determine if a key exists",
        since: "1.0.0",
        group: "generic",
        complexity: "O(N) where N is the number of keys to check.",
        key_flags: &["RO"],
        tips: &["request_policy:multi_shard", "response_policy:agg_sum"],
        subcommands: &[],
    },
    CommandSpec {
        name: "type",
        arity: 2,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@keyspace", "@read", "@fast"],
        summary: "Determine the type stored at key",
        since: "1.0.0",
        group: "generic",
        complexity: "O(1)",
        key_flags: &["RO"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "expire",
        arity: -3,
        flags: &["write", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@keyspace", "@write", "@fast"],
        summary: "Set a key's time to live in seconds",
        since: "1.0.0",
        group: "generic",
        complexity: "O(1)",
        key_flags: &["RW", "update"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "pexpire",
        arity: -3,
        flags: &["write", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@keyspace", "@write", "@fast"],
        summary: "Set a key's time to live in milliseconds",
        since: "2.6.0",
        group: "generic",
        complexity: "O(1)",
        key_flags: &["RW", "update"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "ttl",
        arity: 2,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@keyspace", "@read", "@fast"],
        summary: "Get the time to live for a key in seconds",
        since: "1.0.0",
        group: "generic",
        complexity: "O(1)",
        key_flags: &["RO", "access"],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    CommandSpec {
        name: "pttl",
        arity: 2,
        flags: &["readonly", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@keyspace", "@read", "@fast"],
        summary: "Get the time to live for a key in milliseconds",
        since: "2.6.0",
        group: "generic",
        complexity: "O(1)",
        key_flags: &["RO", "access"],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    CommandSpec {
        name: "persist",
        arity: 2,
        flags: &["write", "fast"],
        first_key: 1,
        last_key: 1,
        step: 1,
        acl: &["@keyspace", "@write", "@fast"],
        summary: "Remove the expiration from a key",
        since: "2.2.0",
        group: "generic",
        complexity: "O(1)",
        key_flags: &["RW", "update"],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "crdt.links",
        arity: 1,
        flags: &["admin", "noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@admin", "@slow", "@dangerous"],
        summary: "List the replication links to remote regions and their state",
        since: "0.1.0",
        group: "server",
        complexity: "O(1)",
        key_flags: &[],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
    CommandSpec {
        name: "crdt.pause",
        arity: 1,
        flags: &["admin", "noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@admin", "@slow", "@dangerous"],
        summary: "Pause outbound replication to remote regions",
        since: "0.1.0",
        group: "server",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "crdt.resume",
        arity: 1,
        flags: &["admin", "noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@admin", "@slow", "@dangerous"],
        summary: "Resume outbound replication to remote regions",
        since: "0.1.0",
        group: "server",
        complexity: "O(1)",
        key_flags: &[],
        tips: &[],
        subcommands: &[],
    },
    CommandSpec {
        name: "crdt.digest",
        arity: 1,
        flags: &["admin", "noscript", "loading", "stale"],
        first_key: 0,
        last_key: 0,
        step: 0,
        acl: &["@admin", "@slow", "@dangerous"],
        summary: "Return a digest of the local dataset for convergence checks",
        since: "0.1.0",
        group: "server",
        complexity: "O(N) where N is the number of keys",
        key_flags: &[],
        tips: &["nondeterministic_output"],
        subcommands: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Protocol;
    use bytes::BytesMut;

    #[test]
    fn lookup_any_case_and_subcommands() {
        assert_eq!(lookup(b"GET").map(|s| s.arity), Some(2));
        assert_eq!(lookup(b"set").map(|s| s.arity), Some(-3));
        assert_eq!(
            lookup(b"Client|SetName").map(|s| s.name),
            Some("client|setname")
        );
        assert_eq!(lookup(b"client|nope").map(|s| s.name), None);
        assert!(lookup(b"nope").is_none());
        assert!(lookup(b"crdt.links").is_some());
        assert!(lookup(b"client|setinfo").is_some());
    }

    #[test]
    fn names_are_lowercase_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for s in COMMANDS {
            assert_eq!(s.name, s.name.to_ascii_lowercase());
            assert!(seen.insert(s.name), "duplicate {}", s.name);
            for sub in s.subcommands {
                assert!(sub.name.starts_with(&format!("{}|", s.name)));
            }
        }
    }

    #[test]
    fn info_matches_redis_bytes() {
        // Captured from redis-server 7.0.15 (`HELLO 3`, `COMMAND INFO get`).
        let mut out = BytesMut::new();
        let mut w = ReplyWriter::new(&mut out, Protocol::Resp3);
        write_info(&mut w, lookup(b"get").expect("get"));
        let want: &[u8] = b"*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n";
        assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(want));
        out.clear();
        let mut w = ReplyWriter::new(&mut out, Protocol::Resp3);
        write_info(&mut w, lookup(b"mset").expect("mset"));
        let want: &[u8] = b"*10\r\n$4\r\nmset\r\n:-3\r\n~2\r\n+write\r\n+denyoom\r\n:1\r\n:-1\r\n:2\r\n~3\r\n+@write\r\n+@string\r\n+@slow\r\n~2\r\n$26\r\nrequest_policy:multi_shard\r\n$29\r\nresponse_policy:all_succeeded\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:2\r\n$5\r\nlimit\r\n:0\r\n~0\r\n";
        assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(want));
    }

    #[test]
    fn docs_layout() {
        let mut out = BytesMut::new();
        let mut w = ReplyWriter::new(&mut out, Protocol::Resp2);
        write_docs_reply(
            &mut w,
            &[Bytes::from_static(b"get"), Bytes::from_static(b"nope")],
        );
        let want: &[u8] = b"*2\r\n$3\r\nget\r\n*8\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n";
        assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(want));
    }
}
