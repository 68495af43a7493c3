//! Lattice laws, convergence and sequential semantics of the list CRDT.

use std::collections::VecDeque;

use crdt::arbitrary_list::{apply_model, list_op, ListDelta, ListOp, ListReplica};
use crdt::{Dot, Hlc, List, RegionId, VersionVector};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

type Log = Vec<(RegionId, Hlc, ListDelta)>;

/// Runs `steps` over isolated-but-syncing replicas of `regions`: step `(r, op, sync)` makes
/// replica `r` first catch up on everything the others wrote (when `sync`), then write.
/// Returns the replicas and every delta in the order written.
fn history(
    steps: &[(u8, ListOp, bool)],
    regions: std::ops::RangeInclusive<u8>,
    seed: u64,
) -> (Vec<ListReplica>, Log) {
    let mut reps: Vec<ListReplica> = regions.map(ListReplica::new).collect();
    let n = reps.len();
    let mut log: Log = Vec::new();
    for (i, (r, op, sync)) in steps.iter().enumerate() {
        let r = *r as usize % n;
        if *sync {
            for (o, h, d) in &log {
                if *o != reps[r].region {
                    reps[r].receive(*o, *h, d);
                }
            }
        }
        if let Some((h, d)) = reps[r].write(seed + i as u64 * 2, op) {
            log.push((reps[r].region, h, d));
        }
    }
    (reps, log)
}

/// The list state made by merging every delta of `history` (in reverse: children before
/// their origins, so the orphan buffer is exercised).
fn state(
    steps: &[(u8, ListOp, bool)],
    regions: std::ops::RangeInclusive<u8>,
    seed: u64,
    reverse: bool,
) -> List {
    let (_, log) = history(steps, regions, seed);
    let mut s = List::new();
    if reverse {
        for (_, _, d) in log.iter().rev() {
            s.merge(&d.list);
        }
    } else {
        for (_, _, d) in &log {
            s.merge(&d.list);
        }
    }
    s
}

fn merged(a: &List, b: &List) -> List {
    let mut x = a.clone();
    x.merge(b);
    x
}

fn steps(max: usize) -> impl Strategy<Value = Vec<(u8, ListOp, bool)>> {
    prop::collection::vec((0u8..3, list_op(), prop::bool::weighted(0.3)), 0..max)
}

fn show(l: &List, floor: &VersionVector) -> Vec<Vec<u8>> {
    l.iter(floor).map(|v| v.to_vec()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/list_laws.txt"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn merge_is_commutative(a in steps(16), b in steps(16), ra in any::<bool>(), rb in any::<bool>()) {
        let (a, b) = (state(&a, 1..=2, 1000, ra), state(&b, 3..=5, 1003, rb));
        prop_assert_eq!(merged(&a, &b), merged(&b, &a));
    }

    #[test]
    fn merge_is_associative(a in steps(10), b in steps(10), c in steps(10)) {
        let (a, b, c) = (state(&a, 1..=2, 1000, false), state(&b, 3..=4, 1001, true), state(&c, 5..=5, 999, false));
        prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
    }

    #[test]
    fn merge_is_idempotent(a in steps(16), b in steps(16)) {
        let (a, b) = (state(&a, 1..=2, 1000, false), state(&b, 3..=5, 1000, true));
        prop_assert_eq!(merged(&a, &a), a.clone());
        let ab = merged(&a, &b);
        prop_assert_eq!(merged(&ab, &b), ab.clone());
        prop_assert_eq!(merged(&ab, &a), ab);
    }

    /// The sequence is a function of the records: merging the deltas in any order (origins
    /// after their children included) gives the same state.
    #[test]
    fn delta_order_does_not_matter(s in steps(24), order in Just(()).prop_perturb(|_, mut rng| rng.random::<u64>())) {
        let (_, log) = history(&s, 1..=3, 1000);
        let mut fwd = List::new();
        for (_, _, d) in &log {
            fwd.merge(&d.list);
        }
        // A pseudo-random permutation of the log.
        let mut idx: Vec<usize> = (0..log.len()).collect();
        let mut x = order | 1;
        for i in (1..idx.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            idx.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut shuffled = List::new();
        for &i in &idx {
            shuffled.merge(&log[i].2.list);
        }
        prop_assert_eq!(shuffled.orphan_count(), 0);
        prop_assert_eq!(&shuffled, &fwd);
        // And the state survives the wire.
        let bytes = rmp_serde::to_vec(&fwd).unwrap();
        let back: List = rmp_serde::from_slice(&bytes).unwrap();
        prop_assert_eq!(back, fwd);
    }

    /// Applying a replica's deltas one by one gives the same visible list as merging its
    /// whole state.
    #[test]
    fn delta_application_equals_state_merge(s in steps(30)) {
        let (reps, log) = history(&s, 1..=2, 1000);
        let (x, y) = (&reps[0], &reps[1]);
        let mut by_delta = x.clone();
        for (o, h, d) in &log {
            if *o == y.region {
                by_delta.receive(*o, *h, d);
            }
        }
        let mut by_state = x.clone();
        by_state.list.merge(&y.list);
        by_state.floor.merge(&y.floor);
        prop_assert_eq!(by_delta.visible(), by_state.visible());
        prop_assert_eq!(by_delta.list.len(&by_delta.floor), by_delta.visible().len());
    }

    /// Five replicas, random writes, deliveries FIFO per origin but not causal across origins,
    /// with duplicate deliveries merged again: every replica ends with the same list, also
    /// after compaction.
    #[test]
    fn five_replicas_converge_with_duplicates(
        ops in prop::collection::vec((0u8..5, list_op()), 1..40),
        schedule in prop::collection::vec((0u8..5, 0u8..5, any::<bool>()), 0..120),
    ) {
        let mut reps = run(&ops, &schedule, Mode::Duplicates);
        let first = reps[0].visible();
        for r in &reps[1..] {
            prop_assert_eq!(&r.visible(), &first);
            prop_assert_eq!(r.list.orphan_count(), 0);
        }
        for r in reps.iter_mut() {
            let f = r.floor.clone();
            r.list.compact(&f, false);
        }
        for r in &reps {
            prop_assert_eq!(&r.visible(), &first);
            prop_assert_eq!(r.list.iter(&VersionVector::new()).count(), first.len());
            prop_assert_eq!(r.list.len(&VersionVector::new()), first.len());
        }
    }

    /// The same with compaction during the run: floors turned into tombstones and stable
    /// tombstones dropped after every delivery (exactly-once FIFO delivery, as the links
    /// give). Every replica reads the same and no record is left waiting for a dropped origin.
    #[test]
    fn five_replicas_converge_with_stable_compaction(
        ops in prop::collection::vec((0u8..5, list_op()), 1..50),
        schedule in prop::collection::vec((0u8..5, 0u8..5, any::<bool>()), 0..250),
    ) {
        let mut reps = run(&ops, &schedule, Mode::Compact);
        let first = reps[0].visible();
        for r in &reps[1..] {
            prop_assert_eq!(&r.visible(), &first);
            prop_assert_eq!(r.list.orphan_count(), 0);
        }
        // Everything is delivered: once every region has acknowledged it, all stamped
        // tombstones go.
        let all: VersionVector = (1..=5).map(|r| (RegionId(r), Hlc(u64::MAX))).collect();
        for r in reps.iter_mut() {
            let f = r.floor.clone();
            r.list.compact_stable(&f, &all, false);
            prop_assert_eq!(&r.visible(), &first);
            prop_assert_eq!(r.list.check_invariants(), Ok(()));
        }
    }

    /// A single replica driven by random writes reads exactly like a plain list, with or
    /// without lone-region compaction after writes.
    #[test]
    fn sequential_semantics_match_a_plain_list(
        ops in prop::collection::vec((list_op(), any::<bool>()), 1..60),
        lone in any::<bool>(),
    ) {
        let mut r = ListReplica::new(1);
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        for (i, (op, compact)) in ops.iter().enumerate() {
            let accepted = r.write(1000 + i as u64, op).is_some();
            prop_assert_eq!(r.list.check_invariants(), Ok(()));
            prop_assert_eq!(accepted, apply_model(&mut model, op), "{:?}", op);
            if lone && *compact {
                let f = r.floor.clone();
                r.list.compact(&f, true);
                prop_assert_eq!(r.list.tombstones(), 0);
                prop_assert_eq!(r.list.check_invariants(), Ok(()));
            }
            let want: Vec<Vec<u8>> = model.iter().cloned().collect();
            prop_assert_eq!(&r.visible(), &want, "after {:?}", op);
            prop_assert_eq!(r.list.len(&r.floor), want.len());
            let back: Vec<Vec<u8>> = r.list.iter(&r.floor).rev().map(|v| v.to_vec()).collect();
            prop_assert_eq!(back, want.iter().rev().cloned().collect::<Vec<_>>());
            let n = want.len() as i64;
            for i in [0, 1, n / 2, n - 1, -1, -2, -n, n, -n - 1] {
                let expect = if i >= 0 { want.get(i as usize) } else { (n + i >= 0).then(|| &want[(n + i) as usize]) };
                prop_assert_eq!(r.list.get(&r.floor, i), expect.map(|v| &v[..]), "index {}", i);
            }
            for (a, b) in [(0, -1), (1, 2), (-3, -1), (-100, 100), (2, 1)] {
                let got: Vec<Vec<u8>> = r.list.range(&r.floor, a, b).into_iter().map(|v| v.to_vec()).collect();
                prop_assert_eq!(got, redis_range(&want, a, b), "range {} {}", a, b);
            }
        }
        if lone {
            let f = r.floor.clone();
            r.list.compact(&f, true);
            prop_assert_eq!(r.list.record_count(), model.len());
            prop_assert_eq!(r.visible(), model.iter().cloned().collect::<Vec<_>>());
        }
    }
}

fn redis_range(v: &[Vec<u8>], start: i64, stop: i64) -> Vec<Vec<u8>> {
    let n = v.len() as i64;
    let s = if start < 0 { (n + start).max(0) } else { start };
    let e = if stop < 0 { n + stop } else { stop.min(n - 1) };
    if s > e || s >= n {
        return Vec::new();
    }
    v[s as usize..=e as usize].to_vec()
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Re-deliveries are merged again; no compaction.
    Duplicates,
    /// Exactly-once delivery; compaction after every write and delivery.
    Compact,
}

const REGIONS: [RegionId; 5] = [
    RegionId(1),
    RegionId(2),
    RegionId(3),
    RegionId(4),
    RegionId(5),
];

fn compact(r: &mut ListReplica) {
    let f = r.floor.clone();
    let stable = r.stable(&REGIONS);
    r.list.compact(&f, false);
    r.list.compact_stable(&f, &stable, false);
}

/// Runs writes at five replicas. `schedule` interleaves deliveries: `(from, to, dup)`
/// delivers the next undelivered delta of `from` to `to` (with `dup` in duplicate mode:
/// re-delivers an earlier one). At the end everything is delivered.
fn run(ops: &[(u8, ListOp)], schedule: &[(u8, u8, bool)], mode: Mode) -> Vec<ListReplica> {
    let mut reps: Vec<ListReplica> = (1..=5).map(ListReplica::new).collect();
    let mut logs: Vec<Vec<(Hlc, ListDelta)>> = vec![Vec::new(); 5];
    let mut next = [[0usize; 5]; 5];
    let mut sched = schedule.iter();
    for (i, (r, o)) in ops.iter().enumerate() {
        let r = *r as usize;
        if let Some(w) = reps[r].write(1000 + i as u64 * 3 + r as u64, o) {
            w.1.list.check_invariants().unwrap();
            logs[r].push(w);
        }
        if mode == Mode::Compact {
            compact(&mut reps[r]);
        }
        reps[r].list.check_invariants().unwrap();
        for &(from, to, dup) in sched.by_ref().take(3) {
            deliver(
                &mut reps,
                &logs,
                &mut next,
                from as usize,
                to as usize,
                dup,
                mode,
            );
        }
    }
    for &(from, to, dup) in sched {
        deliver(
            &mut reps,
            &logs,
            &mut next,
            from as usize,
            to as usize,
            dup,
            mode,
        );
    }
    for from in 0..5 {
        for to in (0..5).filter(|&to| to != from) {
            while next[from][to] < logs[from].len() {
                deliver(&mut reps, &logs, &mut next, from, to, false, mode);
            }
        }
    }
    if mode == Mode::Compact {
        // Heartbeats everywhere: every region learns that everything is everywhere.
        for from in 0..5 {
            for to in (0..5).filter(|&to| to != from) {
                deliver(&mut reps, &logs, &mut next, from, to, true, mode);
            }
        }
    }
    reps
}

fn deliver(
    reps: &mut [ListReplica],
    logs: &[Vec<(Hlc, ListDelta)>],
    next: &mut [[usize; 5]; 5],
    from: usize,
    to: usize,
    dup: bool,
    mode: Mode,
) {
    if from == to {
        return;
    }
    let origin = RegionId(from as u8 + 1);
    if dup && mode == Mode::Duplicates {
        if next[from][to] > 0 {
            let (h, d) = &logs[from][next[from][to] / 2];
            reps[to].merge_raw(origin, *h, d);
            reps[to].list.check_invariants().unwrap();
        }
        return;
    }
    if dup && next[from][to] == logs[from].len() {
        // A heartbeat: `from`'s received vector, in stream after all its deltas.
        let ack = reps[from].received.clone();
        reps[to].acks.insert(origin, ack);
        if mode == Mode::Compact {
            compact(&mut reps[to]);
            reps[to].list.check_invariants().unwrap();
        }
        return;
    }
    let i = next[from][to];
    if i >= logs[from].len() {
        return;
    }
    next[from][to] += 1;
    let (h, d) = &logs[from][i];
    assert!(
        reps[to].receive(origin, *h, d),
        "a first delivery must be merged"
    );
    if mode == Mode::Compact {
        compact(&mut reps[to]);
    }
    reps[to].list.check_invariants().unwrap();
}

// ---- Named scenarios ----

fn empty() -> VersionVector {
    VersionVector::new()
}

fn vals(l: &List) -> Vec<String> {
    l.iter(&empty())
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

fn dot(r: u8, h: u64) -> Dot {
    Dot::new(r, h)
}

fn sync(a: &mut List, b: &mut List) {
    let (x, y) = (a.clone(), b.clone());
    a.merge(&y);
    b.merge(&x);
}

#[test]
fn concurrent_lpush_both_survive_in_one_order() {
    let (mut a, mut b) = (List::new(), List::new());
    a.push(&empty(), dot(1, 1), false, &[b"x"]);
    sync(&mut a, &mut b);
    let da = a.push(&empty(), dot(1, 5), true, &[b"a1", b"a2"]);
    let db = b.push(&empty(), dot(2, 5), true, &[b"b1", b"b2"]);
    a.merge(&db);
    b.merge(&da);
    assert_eq!(vals(&a), vals(&b));
    // Same stamp: the larger region goes first; each push stays contiguous.
    assert_eq!(vals(&a), ["b2", "b1", "a2", "a1", "x"]);
}

#[test]
fn concurrent_rpush_both_land_at_the_tail() {
    let (mut a, mut b) = (List::new(), List::new());
    a.push(&empty(), dot(1, 1), false, &[b"x", b"y"]);
    sync(&mut a, &mut b);
    let da = a.push(&empty(), dot(1, 7), false, &[b"a1", b"a2"]);
    let db = b.push(&empty(), dot(2, 6), false, &[b"b1"]);
    a.merge(&db);
    b.merge(&da);
    assert_eq!(vals(&a), vals(&b));
    assert_eq!(vals(&a), ["x", "y", "a1", "a2", "b1"]);
}

/// The tail rule: an RPUSH goes after the last *visible* element. A region that popped the
/// tail and pushed, and one that pushed after the same visible tail, both land at the tail.
#[test]
fn rpush_after_a_tombstone_tail_lands_at_the_tail() {
    let (mut a, mut b, mut c) = (List::new(), List::new(), List::new());
    a.push(&empty(), dot(1, 1), false, &[b"x", b"t"]);
    sync(&mut a, &mut b);
    // A pops `t` and pushes; B (still seeing `t`) pops it too and pushes; C pushes after `t`.
    c.merge(&a);
    let d1 = a.pop(&empty(), dot(1, 2), false, 1).1;
    let d2 = a.push(&empty(), dot(1, 3), false, &[b"a"]);
    let d3 = b.pop(&empty(), dot(2, 2), false, 1).1;
    let d4 = b.push(&empty(), dot(2, 4), false, &[b"b"]);
    let d5 = c.push(&empty(), dot(3, 5), false, &[b"c"]);
    for d in [&d3, &d4, &d5] {
        a.merge(d);
    }
    for d in [&d1, &d2, &d5] {
        b.merge(d);
    }
    for d in [&d4, &d2, &d3, &d1] {
        c.merge(d);
    }
    assert_eq!(vals(&a), vals(&b));
    assert_eq!(vals(&a), vals(&c));
    assert_eq!(vals(&a)[0], "x");
    assert_eq!(vals(&a).len(), 4);
}

#[test]
fn lset_vs_lset_later_wins() {
    let (mut a, mut b) = (List::new(), List::new());
    a.push(&empty(), dot(1, 1), false, &[b"x"]);
    sync(&mut a, &mut b);
    let da = a.set(&empty(), dot(1, 5), 0, b"from-a");
    let db = b.set(&empty(), dot(2, 6), 0, b"from-b");
    a.merge(&db);
    b.merge(&da);
    assert_eq!(vals(&a), ["from-b"]);
    assert_eq!(vals(&b), ["from-b"]);
    assert_eq!(a.max_dot(&empty()), Some(dot(2, 6)));
}

#[test]
fn lset_vs_remove_is_removed() {
    let (mut a, mut b) = (List::new(), List::new());
    a.push(&empty(), dot(1, 1), false, &[b"x", b"y"]);
    sync(&mut a, &mut b);
    let da = a.set(&empty(), dot(1, 5), 0, b"new");
    let db = b.remove(&empty(), dot(2, 4), &[0]);
    a.merge(&db);
    b.merge(&da);
    assert_eq!(vals(&a), ["y"]);
    assert_eq!(vals(&b), ["y"]);
    assert_eq!(a, b);
}

/// C receives B's removal of A's element before A's insert (non-causal delivery).
#[test]
fn remove_arriving_before_its_insert_still_removes() {
    let (mut a, mut b, mut c) = (List::new(), List::new(), List::new());
    let base = a.push(&empty(), dot(1, 1), false, &[b"p"]);
    b.merge(&base);
    c.merge(&base);
    let ins = a.push(&empty(), dot(1, 2), false, &[b"x"]);
    b.merge(&ins);
    let rm = b.remove(&empty(), dot(2, 3), &[1]);
    c.merge(&rm);
    assert_eq!(vals(&c), ["p"]);
    c.merge(&ins);
    assert_eq!(vals(&c), ["p"]);
    assert_eq!(c.orphan_count(), 0);
    a.merge(&rm);
    assert_eq!(vals(&a), ["p"]);
}

/// C receives B's insert after A's element before A's insert of it: it waits, invisible,
/// then lands in place.
#[test]
fn insert_whose_origin_arrives_later_lands_in_place() {
    let (mut a, mut b, mut c) = (List::new(), List::new(), List::new());
    let base = a.push(&empty(), dot(1, 1), false, &[b"p", b"q"]);
    b.merge(&base);
    c.merge(&base);
    let ins = a.insert(&empty(), dot(1, 2), 0, true, b"x");
    b.merge(&ins);
    let after_x = b.insert(&empty(), dot(2, 3), 1, true, b"y");
    assert_eq!(vals(&b), ["p", "x", "y", "q"]);
    c.merge(&after_x);
    assert_eq!(vals(&c), ["p", "q"]);
    assert_eq!(c.orphan_count(), 1);
    c.merge(&ins);
    assert_eq!(vals(&c), ["p", "x", "y", "q"]);
    assert_eq!(c.orphan_count(), 0);
    a.merge(&after_x);
    assert_eq!(a, c);
}

#[test]
fn two_regions_pop_the_same_head() {
    let (mut a, mut b) = (List::new(), List::new());
    a.push(&empty(), dot(1, 1), false, &[b"h", b"m", b"t"]);
    sync(&mut a, &mut b);
    let (va, da) = a.pop(&empty(), dot(1, 2), true, 1);
    let (vb, db) = b.pop(&empty(), dot(2, 2), true, 1);
    assert_eq!(va, vb);
    assert_eq!(&*va[0], b"h");
    a.merge(&db);
    b.merge(&da);
    assert_eq!(vals(&a), ["m", "t"]);
    assert_eq!(a, b);
    assert_eq!(a.len(&empty()), 2);
}

/// A key-level DEL floor hides what it observed, not a concurrent push; compaction turns the
/// floored records into tombstones so the floor can go.
#[test]
fn del_floor_removes_only_observed_elements() {
    let (mut a, mut b) = (List::new(), List::new());
    a.push(&empty(), dot(1, 1), false, &[b"x", b"y"]);
    sync(&mut a, &mut b);
    let mut floor = VersionVector::new();
    a.observed(&mut floor);
    let db = b.push(&empty(), dot(2, 5), false, &[b"z"]);
    a.merge(&db);
    assert_eq!(show(&a, &floor), vec![b"z".to_vec()]);
    assert_eq!(a.len(&floor), 1);
    a.compact(&floor, false);
    assert_eq!(vals(&a), ["z"]);
    a.compact(&floor, true);
    assert_eq!(a.record_count(), 1);
}

#[test]
fn linsert_before_and_after() {
    let mut l = List::new();
    let f = empty();
    l.push(&f, dot(1, 1), false, &[b"a", b"c"]);
    l.insert(&f, dot(1, 2), 1, false, b"b");
    l.insert(&f, dot(1, 3), 2, true, b"d");
    l.insert(&f, dot(1, 4), 0, false, b"0");
    assert_eq!(vals(&l), ["0", "a", "b", "c", "d"]);
    assert!(l.insert(&f, dot(1, 5), 9, true, b"no").is_empty());
    assert!(l.set(&f, dot(1, 6), 9, b"no").is_empty());
}

#[test]
fn wire_encoding_round_trips_with_orphans() {
    let (mut a, mut c) = (List::new(), List::new());
    a.push(&empty(), dot(1, 1), false, &[b"p"]);
    let ins = a.insert(&empty(), dot(1, 2), 0, true, b"x");
    let mut b = a.clone();
    let y = b.insert(&empty(), dot(2, 3), 1, true, b"y");
    b.remove(&empty(), dot(2, 4), &[0]);
    c.merge(&y);
    c.merge(&b.remove(&empty(), dot(2, 5), &[0]));
    assert!(c.orphan_count() > 0);
    for l in [&a, &b, &c, &ins] {
        let bytes = rmp_serde::to_vec(l).unwrap();
        let back: List = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(&back, l);
        assert_eq!(vals(&back), vals(l));
        assert_eq!(back.len(&empty()), l.len(&empty()));
    }
}

/// A queue (RPUSH at one region, LPOP at another) without compaction stays O(1) per op; the
/// head tombstones go once stable.
#[test]
fn long_queue_across_regions() {
    let (mut a, mut b) = (List::new(), List::new());
    let f = empty();
    let mut h = 1;
    for i in 0..20_000u32 {
        h += 1;
        let d = a.push(&f, dot(1, h), false, &[&i.to_be_bytes()[..]]);
        b.merge(&d);
        if i % 2 == 1 {
            h += 1;
            let (v, d) = b.pop(&f, dot(2, h), true, 1);
            assert_eq!(v.len(), 1);
            a.merge(&d);
        }
    }
    assert_eq!(a.len(&f), 10_000);
    assert_eq!(a, b);
    assert_eq!(a.tombstones(), 10_000);
    assert_eq!(a.get(&f, 0), Some(&10_000u32.to_be_bytes()[..]));
    let all: VersionVector = [(RegionId(1), Hlc(u64::MAX)), (RegionId(2), Hlc(u64::MAX))]
        .into_iter()
        .collect();
    a.compact_stable(&f, &all, false);
    assert_eq!(a.tombstones(), 0);
    assert_eq!(a.record_count(), 10_000);
    assert_eq!(vals(&a), vals(&b));
}

/// Stable compaction keeps a tombstone that a concurrent insert could still be placed
/// against, and the lone mode drops all.
#[test]
fn stable_compaction_keeps_what_is_not_stable() {
    let mut a = List::new();
    let f = empty();
    a.push(&f, dot(1, 1), false, &[b"x", b"y", b"z"]);
    a.remove(&f, dot(1, 2), &[1]);
    let stable: VersionVector = [(RegionId(1), Hlc(1))].into_iter().collect();
    a.compact_stable(&f, &stable, false);
    assert_eq!(a.tombstones(), 1, "the removal is not stable yet");
    let stable: VersionVector = [(RegionId(1), Hlc(2))].into_iter().collect();
    a.compact_stable(&f, &stable, false);
    assert_eq!(a.tombstones(), 0);
    assert_eq!(vals(&a), ["x", "z"]);
}

/// Regression (what the "next record kept must be stable" rule of `compact_stable` is for;
/// dropping without it failed `five_replicas_converge_with_stable_compaction`): B removes
/// `t` before seeing C's `c` (inserted after `t`), then inserts `n` after `p`. At A the
/// removal of `t` is stable but `c` is not: dropping `t` would let `n` skip past `c`.
#[test]
fn stable_compaction_keeps_a_tombstone_a_concurrent_insert_is_placed_against() {
    let f = empty();
    let (mut a, mut b, mut c) = (List::new(), List::new(), List::new());
    let base = a.push(&f, dot(1, 1), false, &[b"p", b"t"]);
    b.merge(&base);
    c.merge(&base);
    let dc = c.insert(&f, dot(3, 20), 1, true, b"c");
    a.merge(&dc);
    let rm = b.remove(&f, dot(2, 5), &[1]);
    a.merge(&rm);
    c.merge(&rm);
    // Every region has merged A:1 and B:5; C:20 has not reached B.
    let stable: VersionVector = [(RegionId(1), Hlc(1)), (RegionId(2), Hlc(5))]
        .into_iter()
        .collect();
    a.compact_stable(&f, &stable, false);
    assert_eq!(a.tombstones(), 1);
    let dn = b.insert(&f, dot(2, 6), 0, true, b"n");
    a.merge(&dn);
    c.merge(&dn);
    b.merge(&dc);
    assert_eq!(vals(&a), ["p", "n", "c"]);
    assert_eq!(vals(&b), vals(&a));
    assert_eq!(vals(&c), vals(&a));
}

/// Regression (the RPUSH tail rule; anchoring RPUSH on the last record, tombstone or not,
/// failed `five_replicas_converge_with_stable_compaction`): an RPUSH after popping the tail
/// refers to the last *visible* element, so a region that already dropped the popped
/// tombstone still places it.
#[test]
fn rpush_after_popping_the_tail_refers_to_a_visible_element() {
    let f = empty();
    let (mut a, mut c) = (List::new(), List::new());
    let base = a.push(&f, dot(1, 1), false, &[b"x", b"t"]);
    c.merge(&base);
    let pop = a.pop(&f, dot(1, 2), false, 1).1;
    let push = a.push(&f, dot(1, 3), false, &[b"z"]);
    let x = a.records().next().unwrap().id();
    assert_eq!(push.records().next().unwrap().origin(), Some(x));
    c.merge(&pop);
    // Everyone has the pop: C drops the tombstone before A's push arrives.
    let stable: VersionVector = [(RegionId(1), Hlc(2))].into_iter().collect();
    c.compact_stable(&f, &stable, false);
    assert_eq!(c.record_count(), 1);
    c.merge(&push);
    assert_eq!(c.orphan_count(), 0);
    assert_eq!(vals(&c), ["x", "z"]);
    assert_eq!(vals(&a), vals(&c));
}
