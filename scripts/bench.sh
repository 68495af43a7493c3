#!/usr/bin/env bash
# scripts/bench.sh: Meridian against redis-server on this machine, same client, same load.
#
#   scripts/bench.sh                 # full run (a few minutes after the release build)
#   BENCH_QUICK=1 scripts/bench.sh   # smoke run: small N, 100k keys, one round (~1 min)
#
# What it does (see docs/performance.md):
#   1. builds target/release/meridian (cargo build --release; a no-op when up to date),
#      starts `meridian dev --regions 1` and `redis-server --save '' --appendonly no`
#      on free loopback ports;
#   2. throughput: redis-benchmark -c 50 -r 100000 -t set,get,incr,sadd,hset,zadd,lpush,lpop
#      at -P 1 and -P 16,
#      each line run against redis then Meridian back to back (the order alternates from
#      round to round), median of the rounds, ratio meridian/redis;
#   3. memory, one case per type, each on freshly started servers: BENCH_KEYS small
#      strings (SET key:%07d xxx), BENCH_COLL_KEYS hashes of 10 fields and BENCH_COLL_KEYS
#      sets of 10 members, loaded with redis-cli --pipe, DBSIZE checked, RSS (VmRSS) delta
#      per key for both, and redis's INFO used_memory delta per key;
#   4. prints a summary and exits 0 (non-zero only if something failed to run).
#
# Environment (all optional):
#   BENCH_QUICK=1        small sizes: N1=20000, N16=200000, KEYS=100000, ROUNDS=1, TIMEOUT=20
#   BENCH_N1=200000      requests per redis-benchmark run at -P 1
#   BENCH_N16=1000000    requests per redis-benchmark run at -P 16
#   BENCH_ROUNDS=3       rounds per line (the median is reported)
#   BENCH_CLIENTS=50     redis-benchmark -c
#   BENCH_RANDOM=100000  redis-benchmark -r (key space)
#   BENCH_TESTS=set,get,incr,sadd,hset,zadd,lpush,lpop
#   BENCH_PIPELINES="1 16"
#   BENCH_KEYS=1000000   string keys loaded for the memory measurement
#   BENCH_COLL_KEYS=100000  hashes (and sets) of 10 elements loaded for it
#   BENCH_MEMORY="strings hashes sets"   which memory cases to run
#   BENCH_SHARDS=        meridian --shards (empty: Meridian's default)
#   BENCH_REGIONS=1      meridian dev --regions: with 2 or more, the load goes to region 1
#                        while the others replicate it (in the same process, on the same
#                        cores), so the ratios include the cost of a linked group; the
#                        memory phase is skipped then (the process holds every region)
#   BENCH_SKIP_BUILD=1   do not run cargo build (the binary must exist)
#   BENCH_SKIP_THROUGHPUT=1 / BENCH_SKIP_MEMORY=1   skip a phase
#   BENCH_TIMEOUT=120    seconds allowed for one redis-benchmark run (or one --pipe load);
#                        a run that times out is reported as an upper bound "<n/timeout"
#                        and is not repeated in later rounds
#   MERIDIAN_BIN=target/release/meridian   REDIS_SERVER=redis-server
#   BENCH_OUT=           also write the summary to this file
#
# Needs redis-server, redis-benchmark and redis-cli (Debian: apt-get install redis-server
# redis-tools), awk, and coreutils `timeout`.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
    : "${BENCH_N1:=20000}" "${BENCH_N16:=200000}" "${BENCH_KEYS:=100000}" "${BENCH_COLL_KEYS:=20000}" "${BENCH_ROUNDS:=1}" "${BENCH_TIMEOUT:=20}"
fi
N1="${BENCH_N1:-200000}"
N16="${BENCH_N16:-1000000}"
ROUNDS="${BENCH_ROUNDS:-3}"
CLIENTS="${BENCH_CLIENTS:-50}"
RANDOM_KEYS="${BENCH_RANDOM:-100000}"
TESTS="${BENCH_TESTS:-set,get,incr,sadd,hset,zadd,lpush,lpop}"
PIPELINES="${BENCH_PIPELINES:-1 16}"
KEYS="${BENCH_KEYS:-1000000}"
COLL_KEYS="${BENCH_COLL_KEYS:-100000}"
MEM_CASES="${BENCH_MEMORY:-strings hashes sets}"
SHARDS="${BENCH_SHARDS:-}"
REGIONS="${BENCH_REGIONS:-1}"
[[ "$REGIONS" =~ ^[1-5]$ ]] || { echo "bench: BENCH_REGIONS must be 1 to 5" >&2; exit 1; }
TMO="${BENCH_TIMEOUT:-120}"
MERIDIAN_BIN="${MERIDIAN_BIN:-$ROOT/target/release/meridian}"
REDIS_SERVER="${REDIS_SERVER:-redis-server}"

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------------------------------
# Prerequisites
missing=()
for t in "$REDIS_SERVER" redis-benchmark redis-cli awk timeout; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if ((${#missing[@]})); then
    echo "bench: missing: ${missing[*]}" >&2
    echo "bench: on Debian/Ubuntu: apt-get install redis-server redis-tools" >&2
    exit 1
fi
((KEYS <= 9999999)) || die "BENCH_KEYS must be < 10,000,000 (keys are key:%07d)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/meridian-bench.XXXXXX")"
MERIDIAN_PID=""
REDIS_PID=""
MERIDIAN_PORT=""
REDIS_PORT=""

stop_pid() { # pid: SIGTERM, wait up to 10 s, then SIGKILL
    local pid="$1" i
    [[ -n "$pid" ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
stop_servers() {
    stop_pid "$MERIDIAN_PID"; MERIDIAN_PID=""
    stop_pid "$REDIS_PID"; REDIS_PID=""
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_servers
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------
# Build
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    command -v cargo >/dev/null 2>&1 || die "cargo not found (or set BENCH_SKIP_BUILD=1)"
    log "cargo build --release (a few minutes the first time)"
    cargo build --release --quiet
fi
[[ -x "$MERIDIAN_BIN" ]] || die "$MERIDIAN_BIN not found; run cargo build --release"

# ---------------------------------------------------------------------------------------
# Ports and servers
port_busy() { # port -> 0 if something listens on it (TCP or UDP)
    local p="$1"
    if command -v ss >/dev/null 2>&1; then
        ss -Htuln 2>/dev/null | awk '{print $5}' | grep -Eq "[:.]$p\$"
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null
    fi
}
pick_port() { # a free port p in 20000..39999 with p..p+REGIONS-1 and their +10000
    # (Meridian's QUIC ports) free too
    local p i j busy
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 20000))
        [[ "$p" == "$MERIDIAN_PORT" || "$p" == "$REDIS_PORT" ]] && continue
        busy=""
        for ((j = 0; j < REGIONS; j++)); do
            if port_busy $((p + j)) || port_busy $((p + j + 10000)); then busy=1; break; fi
        done
        [[ -z "$busy" ]] && { echo "$p"; return 0; }
    done
    die "no free port found"
}
wait_pong() { # port pid name
    local i
    for ((i = 0; i < 300; i++)); do
        kill -0 "$2" 2>/dev/null || return 1
        [[ "$(timeout 2 redis-cli -p "$1" PING 2>/dev/null || true)" == PONG ]] && return 0
        sleep 0.1
    done
    return 1
}
start_meridian() {
    local try
    for try in 1 2 3; do
        MERIDIAN_PORT="$(pick_port)"
        local args=(dev --regions "$REGIONS" --base-port "$MERIDIAN_PORT")
        [[ -n "$SHARDS" ]] && args+=(--shards "$SHARDS")
        RUST_LOG="${RUST_LOG:-warn}" "$MERIDIAN_BIN" "${args[@]}" >"$WORK/meridian.log" 2>&1 &
        MERIDIAN_PID=$!
        wait_pong "$MERIDIAN_PORT" "$MERIDIAN_PID" && return 0
        stop_pid "$MERIDIAN_PID"; MERIDIAN_PID=""
        log "meridian did not start on port $MERIDIAN_PORT (try $try):"
        tail -n 5 "$WORK/meridian.log" >&2 || true
    done
    die "meridian failed to start"
}
start_redis() {
    local try
    for try in 1 2 3; do
        REDIS_PORT="$(pick_port)"
        "$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
            --daemonize no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
        REDIS_PID=$!
        wait_pong "$REDIS_PORT" "$REDIS_PID" && return 0
        stop_pid "$REDIS_PID"; REDIS_PID=""
        log "redis-server did not start on port $REDIS_PORT (try $try):"
        tail -n 5 "$WORK/redis.log" >&2 || true
    done
    die "redis-server failed to start"
}
BANNER_SHOWN=""
start_servers() {
    start_redis
    start_meridian
    log "redis-server pid $REDIS_PID on :$REDIS_PORT; meridian pid $MERIDIAN_PID on :$MERIDIAN_PORT"
    if [[ -z "$BANNER_SHOWN" ]]; then
        BANNER_SHOWN=1
        out "meridian started as: $(grep -m1 'dev group' "$WORK/meridian.log" || echo '?')"
        out ""
    fi
}
alive() { # pid name
    kill -0 "$1" 2>/dev/null || { tail -n 20 "$WORK/$2.log" >&2 || true; die "$2 died"; }
}

# ---------------------------------------------------------------------------------------
# Helpers
SUMMARY="$WORK/summary.txt"
: >"$SUMMARY"
out() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }

median() { # numbers as args -> median
    printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {
        if (NR == 0) { print 0; exit }
        if (NR % 2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
fmt_int() { awk -v x="$1" 'BEGIN { printf "%.0f", x }'; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
info_field() { # port field
    timeout 10 redis-cli -p "$1" INFO memory | tr -d '\r' | awk -F: -v f="$2" '$1 == f {print $2}'
}

# One redis-benchmark run; prints "TEST rps" lines (upper-case test names), or
# "TEST TIMEOUT" when it did not finish within BENCH_TIMEOUT, "TEST FAIL" on another error.
ERRLOG="$WORK/bench-errors.log"
: >"$ERRLOG"
run_bench() { # port name pipeline requests test
    local port="$1" name="$2" pipe="$3" n="$4" test="$5" raw="$WORK/raw.csv" rc=0
    local up
    up="$(tr '[:lower:]' '[:upper:]' <<<"$test")"
    timeout "$TMO" redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" -n "$n" \
        -r "$RANDOM_KEYS" -P "$pipe" -t "$test" --csv >"$raw" 2>"$WORK/raw.err" || rc=$?
    if ((rc == 124)); then
        log "redis-benchmark against $name ($test, -P $pipe, -n $n) did not finish in ${TMO}s"
        echo "$name $test -P $pipe: did not finish $n requests in ${TMO}s (timeout)" >>"$ERRLOG"
        echo "$up TIMEOUT"
        return 0
    elif ((rc != 0)); then
        log "redis-benchmark against $name ($test, -P $pipe) failed (exit $rc)"
        cat "$WORK/raw.err" "$raw" >&2 || true
        echo "$name $test -P $pipe: redis-benchmark exit $rc" >>"$ERRLOG"
        echo "$up FAIL"
        return 0
    fi
    # Anything on stderr, or a non-CSV line on stdout, is kept and reported at the end
    # (e.g. "Error from server: ..." or a CONFIG warning).
    if [[ -s "$WORK/raw.err" ]] || grep -qv '^"' "$raw"; then
        { cat "$WORK/raw.err"; grep -v '^"' "$raw" || true; } | tr -d '\r' | grep -v '^[[:space:]]*$' |
            sed "s/^/$name $test -P $pipe: /" >>"$ERRLOG" || true
    fi
    awk -F'","' 'NR > 1 && /^"/ { gsub(/"/, "", $1); gsub(/"/, "", $2); print toupper($1), $2 }' "$raw"
}

# A cell of the table from the values of the rounds: the median, or "<X" (an upper bound,
# n requests / timeout) if a round timed out, or "FAIL".
cell() { # n values...
    local n="$1" v nums=()
    shift
    for v in "$@"; do
        case "$v" in
            TIMEOUT) awk -v n="$n" -v t="$TMO" 'BEGIN { printf "<%.0f\n", n / t }'; return ;;
            FAIL) echo FAIL; return ;;
            *) nums+=("$v") ;;
        esac
    done
    ((${#nums[@]})) || { echo "n/a"; return; }
    fmt_int "$(median "${nums[@]}")"
}
cell_ratio() { # meridian-cell redis-cell
    case "$1$2" in
        *FAIL* | *n/a*) echo "n/a" ;;
        \<*) if [[ "$2" == \<* ]]; then echo "n/a"; else echo "<$(ratio "${1#<}" "$2")"; fi ;;
        *\<*) echo "n/a" ;;
        *) ratio "$1" "$2" ;;
    esac
}

# ---------------------------------------------------------------------------------------
# Machine
out "== Meridian vs redis-server ($(date -u +%Y-%m-%dT%H:%MZ))"
out "machine: nproc $(nproc), $(awk -F': ' '/^model name/ {m=$2} /^cpu family/ {f=$2} /^model\t/ {d=$2} END {printf "%s (family %s model %s)", m, f, d}' /proc/cpuinfo), $(awk '/^MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
out "redis:   $("$REDIS_SERVER" --version | awk '{print $3, $4}'); client: $(redis-benchmark --version 2>/dev/null | head -n1 || echo redis-benchmark)"
out "meridian: $("$MERIDIAN_BIN" --version 2>/dev/null || echo '?'), $REGIONS region(s) (load on region 1), --shards ${SHARDS:-not given (default)}"
out ""

# ---------------------------------------------------------------------------------------
# Throughput
THROUGHPUT_ROWS=()
if [[ "${BENCH_SKIP_THROUGHPUT:-0}" != 1 ]]; then
    start_servers
    out "-- throughput: redis-benchmark -c $CLIENTS -r $RANDOM_KEYS, -n $N1 at -P 1 / $N16 at -P 16, median of $ROUNDS round(s)"
    out "   (each run starts from an empty keyspace; \"<X\": the run did not finish in ${TMO}s, so X = n/${TMO}s bounds it)"
    IFS=',' read -r -a test_list <<<"$TESTS"
    declare -A VALS GAVE_UP
    round_no=0
    for ((round = 1; round <= ROUNDS; round++)); do
        for pipe in $PIPELINES; do
            if [[ "$pipe" == 1 ]]; then n="$N1"; else n="$N16"; fi
            for test in "${test_list[@]}"; do
                round_no=$((round_no + 1))
                # Alternate which server goes first so drift and noise are shared.
                if ((round_no % 2)); then order=(redis meridian); else order=(meridian redis); fi
                for who in "${order[@]}"; do
                    key="$who|$test|$pipe"
                    # A line that timed out once is not run again: the bound stands.
                    [[ -n "${GAVE_UP[$key]:-}" ]] && continue
                    if [[ "$who" == redis ]]; then port="$REDIS_PORT"; else port="$MERIDIAN_PORT"; fi
                    timeout 60 redis-cli -p "$port" FLUSHALL >/dev/null
                    while read -r _ rps; do
                        VALS[$key]+="$rps "
                        [[ "$rps" == TIMEOUT || "$rps" == FAIL ]] && GAVE_UP[$key]=1
                    done < <(run_bench "$port" "$who" "$pipe" "$n" "$test")
                    if [[ "$who" == redis ]]; then alive "$REDIS_PID" redis; else alive "$MERIDIAN_PID" meridian; fi
                done
                log "round $round/$ROUNDS: $test -P $pipe: redis ${VALS[redis|$test|$pipe]:-} | meridian ${VALS[meridian|$test|$pipe]:-}"
            done
        done
    done
    out "$(printf '%-6s %8s %14s %14s %10s' test pipeline redis_ops/s meridian_ops/s mer/redis)"
    for pipe in $PIPELINES; do
        if [[ "$pipe" == 1 ]]; then n="$N1"; else n="$N16"; fi
        for test in "${test_list[@]}"; do
            # shellcheck disable=SC2086
            r="$(cell "$n" ${VALS[redis|$test|$pipe]:-})"
            # shellcheck disable=SC2086
            m="$(cell "$n" ${VALS[meridian|$test|$pipe]:-})"
            rr="$(cell_ratio "$m" "$r")"
            out "$(printf '%-6s %8s %14s %14s %10s' "$test" "$pipe" "$r" "$m" "$rr")"
            THROUGHPUT_ROWS+=("$test -P $pipe: $rr")
        done
    done
    if ((ROUNDS > 1)); then
        out "rounds (ops/s):"
        for pipe in $PIPELINES; do
            for test in "${test_list[@]}"; do
                out "$(printf '  %-5s -P %-3s redis: %s| meridian: %s' "$test" "$pipe" "${VALS[redis|$test|$pipe]:-}" "${VALS[meridian|$test|$pipe]:-}")"
            done
        done
    fi
    out ""
    stop_servers
fi

# ---------------------------------------------------------------------------------------
# Memory
# One case per data type, each on freshly started servers (so neither allocator reuses what
# an earlier case freed): the RSS delta of loading the case, per key.
gen_load() { # kind count -> RESP on stdout
    awk -v n="$2" -v kind="$1" 'BEGIN {
        for (i = 0; i < n; i++) {
            k = sprintf("key:%07d", i)
            if (kind == "strings") {
                printf "*3\r\n$3\r\nSET\r\n$11\r\n%s\r\n$3\r\nxxx\r\n", k
            } else if (kind == "hashes") {
                printf "*22\r\n$4\r\nHSET\r\n$11\r\n%s\r\n", k
                for (f = 0; f < 10; f++) printf "$7\r\nfield:%d\r\n$7\r\nvalue:%d\r\n", f, f
            } else {
                printf "*12\r\n$4\r\nSADD\r\n$11\r\n%s\r\n", k
                for (f = 0; f < 10; f++) printf "$8\r\nmember:%d\r\n", f
            }
        }
    }'
}
memory_case() { # kind count description -> sets MEM_ROW
    local kind="$1" n="$2" desc="$3" who port pid
    start_servers
    out "-- memory: $desc, loaded with redis-cli --pipe"
    local proto="$WORK/load-$kind.resp"
    gen_load "$kind" "$n" >"$proto"
    declare -A RSS0 RSS1 UM0 UM1 DBS
    for who in redis meridian; do
        if [[ "$who" == redis ]]; then port="$REDIS_PORT"; pid="$REDIS_PID"; else port="$MERIDIAN_PORT"; pid="$MERIDIAN_PID"; fi
        timeout 60 redis-cli -p "$port" FLUSHALL >/dev/null
        sleep 1
        RSS0[$who]="$(rss_kb "$pid")"
        UM0[$who]="$(info_field "$port" used_memory)"
        t0=$(date +%s.%N)
        if ! timeout "$TMO" redis-cli -p "$port" --pipe <"$proto" >"$WORK/pipe-$who.log" 2>&1; then
            cat "$WORK/pipe-$who.log" >&2
            die "redis-cli --pipe into $who failed"
        fi
        t1=$(date +%s.%N)
        log "$who: $(tail -n 1 "$WORK/pipe-$who.log" | tr -d '\r') ($(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s)"
        if grep -q 'errors: [1-9]' "$WORK/pipe-$who.log"; then
            tr -d '\r' <"$WORK/pipe-$who.log" | sed "s/^/$who --pipe: /" >>"$ERRLOG"
        fi
        alive "$pid" "$who"
        DBS[$who]="$(timeout 30 redis-cli -p "$port" DBSIZE | tr -d '\r')"
        sleep 2 # let any background work (Meridian's shards, the backlog) settle
        RSS1[$who]="$(rss_kb "$pid")"
        UM1[$who]="$(info_field "$port" used_memory)"
        [[ "${DBS[$who]}" == "$n" ]] || log "WARNING: $who DBSIZE ${DBS[$who]} != $n"
    done
    per_key() { awk -v a="$1" -v b="$2" -v k="$3" -v s="$4" 'BEGIN { printf "%.1f", (b - a) * s / k }'; }
    local r_rss m_rss r_um
    r_rss="$(per_key "${RSS0[redis]}" "${RSS1[redis]}" "$n" 1024)"
    m_rss="$(per_key "${RSS0[meridian]}" "${RSS1[meridian]}" "$n" 1024)"
    r_um="$(per_key "${UM0[redis]}" "${UM1[redis]}" "$n" 1)"
    out "$(printf '%-9s %9s %12s %12s %16s %18s' server DBSIZE 'RSS before' 'RSS after' 'RSS B/key' 'used_memory B/key')"
    out "$(printf '%-9s %9s %9s KiB %9s KiB %16s %18s' redis "${DBS[redis]}" "${RSS0[redis]}" "${RSS1[redis]}" "$r_rss" "$r_um")"
    out "$(printf '%-9s %9s %9s KiB %9s KiB %16s %18s' meridian "${DBS[meridian]}" "${RSS0[meridian]}" "${RSS1[meridian]}" "$m_rss" "(= RSS)")"
    out "bytes/key ratio meridian/redis: $(ratio "$m_rss" "$r_rss") (RSS deltas), $(ratio "$m_rss" "$r_um") (meridian RSS vs redis used_memory)"
    out ""
    stop_servers
    MEM_ROWS+=("$kind: $(ratio "$m_rss" "$r_rss")")
}
MEM_ROWS=()
if [[ "$REGIONS" != 1 && "${BENCH_SKIP_MEMORY:-0}" != 1 ]]; then
    log "memory phase skipped: BENCH_REGIONS=$REGIONS (the process holds every region)"
elif [[ "${BENCH_SKIP_MEMORY:-0}" != 1 ]]; then
    for kind in ${MEM_CASES}; do
        case "$kind" in
            strings) memory_case strings "$KEYS" "$KEYS string keys, SET key:%07d xxx (3-byte values)" ;;
            hashes) memory_case hashes "$COLL_KEYS" "$COLL_KEYS hashes of 10 fields, HSET key:%07d field:0 value:0 ... field:9 value:9" ;;
            sets) memory_case sets "$COLL_KEYS" "$COLL_KEYS sets of 10 members, SADD key:%07d member:0 ... member:9" ;;
            *) die "unknown BENCH_MEMORY case: $kind" ;;
        esac
    done
fi

# ---------------------------------------------------------------------------------------
# Summary
out "-- summary (targets: throughput >= redis on every line; bytes/key <= 1.5x redis)"
below=()
for row in "${THROUGHPUT_ROWS[@]}"; do
    r="${row##*: }"
    r="${r#<}"
    [[ "$r" != n/a ]] && awk -v x="$r" 'BEGIN { exit !(x < 1.0) }' && below+=("${row}")
done
if ((${#THROUGHPUT_ROWS[@]})); then
    if ((${#below[@]})); then
        out "throughput below redis on ${#below[@]} of ${#THROUGHPUT_ROWS[@]} lines: $(printf '%s; ' "${below[@]}")"
    else
        out "throughput: at or above redis on every line"
    fi
fi
for row in "${MEM_ROWS[@]}"; do
    r="${row##*: }"
    if awk -v x="$r" 'BEGIN { exit !(x <= 1.5) }'; then
        out "memory ${row%%:*}: ${r}x redis per key (target <= 1.5x): met"
    else
        out "memory ${row%%:*}: ${r}x redis per key (target <= 1.5x): NOT met"
    fi
done
if [[ -s "$ERRLOG" ]]; then
    out "client messages (errors/warnings seen during the runs):"
    awk '!seen[$0]++' "$ERRLOG" | head -n 40 | sed 's/^/  /' | tee -a "$SUMMARY"
else
    out "no errors or warnings from redis-benchmark / redis-cli"
fi
if [[ -n "${BENCH_OUT:-}" ]]; then
    cp "$SUMMARY" "$BENCH_OUT"
fi
exit 0
