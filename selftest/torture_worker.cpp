// mode=torture: what a worker does. Each step runs one random operation with
// a register pattern live in s0..s11 (checked after it) and inside a flag
// that a second concurrent entry of the same task would find set.
#include "base/time.hpp"
#include "reg_pattern.hpp"
#include "selftest/torture.hpp"
#include "selftest/util.hpp"

namespace k::selftest::torture {

namespace {

// One child's identity and how often it ran (on the parent's stack until joined).
struct ChildRec {
    std::int64_t id = 0;
    std::atomic<std::uint32_t> ran{0};
};

void child_body(void* p) {
    auto* c = static_cast<ChildRec*>(p);
    c->ran.fetch_add(1, std::memory_order_relaxed);
    if (c->id & 1) (void)sched::yield();
    sched::exit(c->id);
}

// Joins `n` spawned children and checks each ran once and exited with its id.
void join_children(Torture& t, sched::TaskRef* refs, ChildRec* recs, std::uint32_t n) {
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::int64_t v = sched::join(refs[i]);
        refs[i].reset();
        bump(t.n.joins);
        if (v != recs[i].id) bump(t.n.v_child_value);
        const std::uint32_t ran = recs[i].ran.load(std::memory_order_relaxed);
        if (ran == 0) bump(t.n.v_child_lost);
        if (ran > 1) bump(t.n.v_child_dup);
    }
}

std::int64_t child_id(Slot& s) {
    return static_cast<std::int64_t>((static_cast<std::uint64_t>(s.index) << 40) | ++s.child_seq);
}

// Takes the tokens of a doorbell word: each must have been issued, once.
void consume(Slot& s, std::uint64_t word) {
    const std::uint64_t had = s.issued.fetch_and(~word, std::memory_order_acq_rel);
    if ((had & word) != word) bump(s.t->n.v_dup_token);
    bump(s.t->n.wakes_consumed, static_cast<std::uint64_t>(__builtin_popcountll(word)));
}

void op_yield(Torture& t) {
    switch (sched::yield()) {
    case sched::YieldResult::Switched:
        bump(t.n.yield_switched);
        break;
    case sched::YieldResult::NothingBetter:
        bump(t.n.yield_nothing);
        break;
    case sched::YieldResult::QueueFull:
        bump(t.n.yield_full);
        break;
    }
}

void op_spin(Torture& t) {
    if (spin_until_preempted(kSpinUs)) bump(t.n.preempted);
}

// A timed sleep: the controller's timer service rings kBitTimer once the
// deadline passed. Other wakes meanwhile are consumed and the wait goes on.
void op_sleep(Slot& s, std::uint64_t r) {
    Torture& t = *s.t;
    const std::uint64_t deadline = time::deadline_in_us(100 + r % kSleepMaxUs);
    s.sleep_until.store(deadline, std::memory_order_release);
    for (;;) {
        const std::uint64_t w = s.note.wait();
        consume(s, w);
        if (w & kBitTimer) {
            const std::uint64_t now = time::now();
            if (now < deadline) {
                bump(t.n.v_early_sleep);
            } else {
                const std::uint64_t late = time::to_us(now - deadline);
                std::uint64_t max = t.n.sleep_late_max_us.load(std::memory_order_relaxed);
                while (late > max && !t.n.sleep_late_max_us.compare_exchange_weak(max, late)) {
                }
            }
            bump(t.n.sleeps);
            return;
        }
        // Winding down: withdraw the deadline unless the service already took it
        // (its token then stays in the doorbell, which the end check allows).
        if (t.stop.load(std::memory_order_acquire)) {
            (void)s.sleep_until.exchange(0, std::memory_order_acq_rel);
            bump(t.n.sleeps_cancelled);
            return;
        }
    }
}

void op_child(Slot& s, std::uint64_t r) {
    Torture& t = *s.t;
    ChildRec recs[kMaxChildren];
    sched::TaskRef refs[kMaxChildren];
    std::uint32_t n = 0;
    const std::uint32_t want = 1 + static_cast<std::uint32_t>(r % kMaxChildren);
    for (std::uint32_t i = 0; i < want; ++i) {
        recs[n].id = child_id(s);
        sched::Spawned c =
            sched::spawn(&child_body, &recs[n],
                         sched::SpawnOptions{sched::Qos::Normal, some_online_cpu(r >> (8 * i)),
                                             false, "tt-child"});
        if (c.error != sched::SpawnError::None) {
            bump(t.n.spawn_refused); // pool empty or the hart just left: not a violation
            continue;
        }
        refs[n++] = static_cast<sched::TaskRef&&>(c.task);
        bump(t.n.spawned);
        bump(t.n.children);
    }
    join_children(t, refs, recs, n);
}

// Fills this hart's Normal run queue with pinned children and yields into
// it: the yield must switch, though the class is full (the pick frees the
// slot we go back to); counted apart when the fill fell short.
void op_flood(Slot& s) {
    Torture& t = *s.t;
    // Never on the controller's hart: it polls and never blocks, and a task
    // whose class queue is full keeps its hart even across ticks.
    if (sched::cpu_of_current() == kControllerCpu) {
        bump(t.n.flood_skipped);
        op_yield(t);
        return;
    }
    if (t.flood_owner.exchange(1, std::memory_order_acquire) != 0) {
        bump(t.n.flood_busy);
        op_yield(t);
        return;
    }
    ChildRec recs[kFlood];
    sched::TaskRef refs[kFlood];
    std::uint32_t n = 0;
    {
        sched::PreemptGuard stay; // no tick moves us off the hart we flood
        const std::uint32_t cpu = sched::cpu_of_current();
        for (std::uint32_t i = 0; i < kFlood; ++i) {
            recs[n].id = child_id(s);
            sched::Spawned c =
                sched::spawn(&child_body, &recs[n],
                             sched::SpawnOptions{sched::Qos::Normal, cpu, true, "tt-flood"});
            if (c.error != sched::SpawnError::None) {
                bump(t.n.flood_refused);
                continue;
            }
            refs[n++] = static_cast<sched::TaskRef&&>(c.task);
            bump(t.n.spawned);
            bump(t.n.children);
        }
        // A full own class no longer keeps the cpu: the pick frees our slot.
        if (n == kFlood && sched::yield() == sched::YieldResult::Switched)
            bump(t.n.flood_full);
        else
            bump(t.n.flood_not_full);
    }
    join_children(t, refs, recs, n);
    t.flood_owner.store(0, std::memory_order_release);
}

void step(void* p) {
    Slot& s = *static_cast<Slot*>(p);
    Torture& t = *s.t;
    const std::uint64_t r = s.rng;
    switch (s.op) {
    case Op::Yield:
        op_yield(t);
        break;
    case Op::Spin:
        op_spin(t);
        break;
    case Op::Park:
        consume(s, s.note.wait());
        break;
    case Op::Sleep:
        op_sleep(s, r);
        break;
    case Op::Child:
        op_child(s, r);
        break;
    case Op::Flood:
        op_flood(s);
        break;
    case Op::Exit:
    case Op::Count:
        break;
    }
}

Op pick_op(std::uint64_t r) {
    const std::uint32_t x = static_cast<std::uint32_t>(r % 64);
    if (x < 22) return Op::Yield;
    if (x < 28) return Op::Spin;
    if (x < 42) return Op::Park;
    if (x < 50) return Op::Sleep;
    if (x < 58) return Op::Child;
    if (x < 62) return Op::Flood;
    return Op::Exit;
}

} // namespace

std::uint32_t some_online_cpu(std::uint64_t r) {
    const std::uint32_t n = cpu_count();
    if (n < 2) return 0;
    const std::uint32_t first = 1 + static_cast<std::uint32_t>(r % (n - 1));
    for (std::uint32_t i = 0; i < n - 1; ++i) {
        const std::uint32_t c = 1 + (first - 1 + i) % (n - 1);
        if (cpu_online(c)) return c;
    }
    return kControllerCpu;
}

bool send_token(Slot& s, std::uint64_t bit, std::uint32_t cpu, bool if_quiet) {
    if (if_quiet && s.note.pending() != 0) {
        bump(s.t->n.wakes_skipped);
        return false;
    }
    if (s.issued.fetch_or(bit, std::memory_order_acq_rel) & bit) return false; // still outstanding
    bump(s.t->n.wakes_sent);
    (void)s.note.signal(bit, cpu);
    return true;
}

void worker_body(void* p) {
    Slot& s = *static_cast<Slot*>(p);
    Torture& t = *s.t;
    const std::uint32_t gen = s.gen.load(std::memory_order_acquire);
    s.rng = (t.seed ^ (0x9e3779b97f4a7c15ull * (s.index + 1))) + gen * 0x2545f4914f6cdd1dull;
    if (s.rng == 0) s.rng = 1;
    s.child_seq = 0;
    while (!t.stop.load(std::memory_order_acquire)) {
        const std::uint64_t r = next_random(s.rng);
        s.op = pick_op(r);
        bump(t.n.ops[static_cast<std::uint32_t>(s.op)]);
        if (s.op == Op::Exit) break;
        if (s.inside.exchange(1, std::memory_order_acq_rel) != 0) bump(t.n.v_dup_run);
        const std::uint32_t cpu_before = sched::cpu_of_current();
        const std::uint64_t mask =
            hal_call_with_pattern(r ^ (std::uint64_t{s.index} << 48), &step, &s);
        if (mask != 0) bump(t.n.v_regs);
        if (sched::cpu_of_current() != cpu_before) bump(t.n.migrations);
        s.inside.store(0, std::memory_order_release);
        bump(t.n.steps_done);
        // Now and then wake a peer: a cross-hart wake of a task that may be
        // switching out right now, onto a random hart.
        if ((r >> 40) % 4 == 0 && !t.stop.load(std::memory_order_relaxed)) {
            Slot& peer = t.slots[(r >> 44) % t.count];
            if (&peer != &s)
                (void)send_token(peer, 1ull << s.index, some_online_cpu(r >> 52), true);
        }
    }
    if (!t.stop.load(std::memory_order_relaxed)) bump(t.n.exits);
    s.finished.store(1, std::memory_order_release);
    sched::exit(worker_identity(s.index, gen));
}

} // namespace k::selftest::torture
