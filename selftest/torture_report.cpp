// mode=torture: end checks, counts and the verdict.
//
// lost: a wake owed to a sleeper that never came, a token issued but neither
//   consumed nor still in its doorbell, a step or spawn never completed or
//   joined, a hart taken offline and never back.
// duplicated: a step entered twice at once, a token consumed that was not
//   issued (or twice), a child run more than once or with another's exit
//   value, a task returned to the pool more often than spawned, a queued
//   task still held by a hart (handshake monitor).
// leaked: task-pool slots, run-queue or inbox entries, online harts not back
//   at their start values once everything was joined.
// corrupt: a callee-saved register changed across a switch, a sleep ended
//   before its deadline.
#include "selftest/torture_report.hpp"

#include "base/console.hpp"
#include "base/percpu.hpp"
#include "base/shutdown.hpp"
#include "base/time.hpp"
#include "sched/task_pool.hpp"
#include "selftest/util.hpp"

namespace k::selftest::torture {

namespace {

std::uint64_t ld(const std::atomic<std::uint64_t>& a) {
    return a.load(std::memory_order_relaxed);
}

std::uint64_t excess(std::uint64_t a, std::uint64_t b) {
    return a > b ? a - b : 0;
}

std::uint64_t op(const Torture& t, Op o) {
    return ld(t.n.ops[static_cast<std::uint32_t>(o)]);
}

std::uint64_t all_ops(const Torture& t) {
    std::uint64_t n = 0;
    for (std::uint32_t o = 0; o < static_cast<std::uint32_t>(Op::Count); ++o)
        n += ld(t.n.ops[o]);
    return n;
}

struct Verdict {
    std::uint64_t lost = 0, duplicated = 0, leaked = 0, corrupt = 0;
    std::uint64_t lost_tokens = 0, dup_tokens = 0, pool_leak = 0, queue_leak = 0;
};

// Everything joined: the books must balance exactly.
void balance(const Torture& t, const Report& rep, Verdict& v) {
    // Every issued token was consumed or still waits in its doorbell.
    for (std::uint32_t i = 0; i < t.count; ++i) {
        const Slot& s = t.slots[i];
        const std::uint64_t issued = s.issued.load(), rung = s.note.pending();
        v.lost_tokens += static_cast<std::uint64_t>(__builtin_popcountll(issued & ~rung));
        v.dup_tokens += static_cast<std::uint64_t>(__builtin_popcountll(rung & ~issued));
    }
    const std::uint64_t started = all_ops(t) - op(t, Op::Exit);
    const std::uint64_t spawned = ld(t.n.spawned), joined = ld(t.n.joins);
    const std::uint64_t sleeps_ended = ld(t.n.sleeps) + ld(t.n.sleeps_cancelled);
    v.lost += v.lost_tokens + excess(started, ld(t.n.steps_done)) + excess(spawned, joined) +
              excess(op(t, Op::Sleep), sleeps_ended) + excess(rep.hp_offline, rep.hp_online);
    v.duplicated += v.dup_tokens + excess(ld(t.n.steps_done), started) + excess(joined, spawned) +
                    excess(sleeps_ended, op(t, Op::Sleep));
    // Slots return on the final switch-out, possibly a moment after the join.
    (void)await(kEventuallyUs, [&] { return sched::task_pool_free() >= rep.pool_free_start; });
    const std::uint32_t free_end = sched::task_pool_free();
    const std::uint64_t reclaimed = sched::task_pool_reclaimed() - rep.reclaimed_start;
    v.pool_leak = excess(rep.pool_free_start, free_end) + excess(spawned, reclaimed);
    v.duplicated += excess(free_end, rep.pool_free_start) + excess(reclaimed, spawned);
    for (std::uint32_t c = 0; c < cpu_count(); ++c) {
        const sched::CpuStats st = sched::stats(c);
        v.queue_leak += st.queued + st.inbox;
    }
    v.leaked += v.pool_leak + v.queue_leak + excess(rep.harts, online_count());
}

} // namespace

void finish(Torture& t, Report& rep) {
    Verdict v;
    v.lost = rep.lost_wakes + ld(t.n.v_child_lost);
    v.duplicated = ld(t.n.v_dup_run) + ld(t.n.v_dup_token) + ld(t.n.v_child_dup) +
                   ld(t.n.v_child_value) + rep.worker_value_bad +
                   (rep.handshake.finding.rule != sched::HandshakeRule::Ok ? 1 : 0);
    v.corrupt = ld(t.n.v_regs) + ld(t.n.v_early_sleep);
    if (rep.wound_down) balance(t, rep, v);

    println("KTORTURE: ops yield=", op(t, Op::Yield), " spin=", op(t, Op::Spin),
            " park=", op(t, Op::Park), " sleep=", op(t, Op::Sleep), " child=", op(t, Op::Child),
            " flood=", op(t, Op::Flood), " exit=", op(t, Op::Exit),
            " steps-done=", ld(t.n.steps_done));
    println("KTORTURE: sched yields switched=", ld(t.n.yield_switched),
            " nothing=", ld(t.n.yield_nothing), " full=", ld(t.n.yield_full),
            " flood-full=", ld(t.n.flood_full), " flood-not-full=", ld(t.n.flood_not_full),
            " flood-refused=", ld(t.n.flood_refused), " flood-skipped=", ld(t.n.flood_skipped),
            " rq-full-yields=", rep.sched_yields_full, " preempted=", ld(t.n.preempted));
    println("KTORTURE: tasks spawned=", ld(t.n.spawned), " joined=", ld(t.n.joins),
            " children=", ld(t.n.children), " spawn-refused=", ld(t.n.spawn_refused),
            " exits=", ld(t.n.exits), " respawns=", ld(t.n.respawns), " pool-leak=", v.pool_leak,
            " queue-leak=", v.queue_leak);
    println("KTORTURE: wakes sent=", ld(t.n.wakes_sent), " consumed=", ld(t.n.wakes_consumed),
            " skipped=", ld(t.n.wakes_skipped), " bursts=", ld(t.n.bursts),
            " lost-tokens=", v.lost_tokens, " dup-tokens=", v.dup_tokens,
            " owed-unwoken=", rep.lost_wakes);
    println("KTORTURE: time sleeps=", ld(t.n.sleeps), " timer-fires=", ld(t.n.timer_fires),
            " late-max-us=", ld(t.n.sleep_late_max_us), " elapsed-ms=", rep.elapsed_us / 1000,
            " monitor-scans=", rep.scans, " queued-seen=", rep.queued_seen);
    println("KTORTURE: hotplug offline=", rep.hp_offline, " online=", rep.hp_online,
            " errors=", rep.hp_errors, " harts-now=", online_count(), "/", rep.harts);
    if (v.lost || v.duplicated || v.leaked || v.corrupt)
        rep.fail("lost, duplicated, leaked or corrupt");
    if (rep.hp_errors) rep.fail("hot-plug: a take_offline or bring_online failed");
    if (!rep.wound_down) rep.fail("the run did not wind down");
    println("KTORTURE: summary seed=", rep.seed, " ops=", all_ops(t),
            " migrations=", ld(t.n.migrations), " steals=", rep.steals, " offline=", rep.hp_offline,
            " lost=", v.lost, " duplicated=", v.duplicated, " leaked=", v.leaked,
            " corrupt=", v.corrupt);
    if (rep.ok()) {
        println("KTORTURE: end");
        shutdown(true);
    }
    println("KTORTURE: FAIL ", rep.failure);
    if (rep.handshake.finding.rule != sched::HandshakeRule::Ok)
        println("KDUMP: torture: monitor: task #", rep.handshake.task_id, " queued on cpu",
                rep.handshake.queued_cpu, ": ",
                sched::handshake_rule_name(rep.handshake.finding.rule), " (cpu",
                rep.handshake.finding.hart, ")");
    println("KDUMP: torture violation: ", rep.failure);
    sched::dump_state("torture violation");
    shutdown(false);
}

} // namespace k::selftest::torture
