// The task slab: fixed arrays, a locked free stack, guard bands checked on free.
#include "sched/task_pool.hpp"

#include "base/console.hpp"
#include "base/panic.hpp"
#include "sched/task_ref.hpp"

#include <new>

namespace sched {

namespace {

alignas(Task) unsigned char g_task_mem[kMaxTasks][sizeof(Task)];
// Each slot: the guard page, then the stack (its guard band at the bottom).
alignas(4096) std::uint64_t g_stacks[kMaxTasks][kTaskStackSlot / 8];

k::SpinLock g_lock{"task pool"};
std::uint32_t g_free[kMaxTasks]; // guarded by g_lock: stack of free slot indices
std::uint32_t g_free_count = 0;  // guarded by g_lock
bool g_ready = false;            // guarded by g_lock
std::uint64_t g_reclaimed = 0;   // guarded by g_lock
bool g_used[kMaxTasks];          // guarded by g_lock
std::atomic<std::uint32_t> g_next_id{1};

void fill_guard(std::uint32_t slot) {
    std::uint64_t* w = &g_stacks[slot][kTaskStackGuardPage / 8];
    for (std::uint32_t i = 0; i < kTaskStackGuard / 8; ++i)
        w[i] = kGuardPattern;
}

std::uint32_t slot_of(const Task* t) {
    auto base = reinterpret_cast<std::uintptr_t>(&g_task_mem[0][0]);
    return static_cast<std::uint32_t>((reinterpret_cast<std::uintptr_t>(t) - base) / sizeof(Task));
}

} // namespace

Task* task_alloc() {
    std::uint32_t slot;
    {
        k::SpinGuard g(g_lock);
        if (!g_ready) {
            for (std::uint32_t i = 0; i < kMaxTasks; ++i)
                g_free[i] = kMaxTasks - 1 - i;
            g_free_count = kMaxTasks;
            g_ready = true;
        }
        if (g_free_count == 0) return nullptr;
        slot = g_free[--g_free_count];
        g_used[slot] = true;
    }
    fill_guard(slot);
    Task* t = new (&g_task_mem[slot][0]) Task();
    auto lo = reinterpret_cast<std::uintptr_t>(&g_stacks[slot][kTaskStackGuardPage / 8]);
    t->stack_lo = lo + kTaskStackGuard;
    t->stack_hi = lo + kTaskStackSize;
    t->id = g_next_id.fetch_add(1, std::memory_order_relaxed);
    return t;
}

const Task& task_slot(std::uint32_t i) {
    return *static_cast<const Task*>(static_cast<const void*>(g_task_mem[i < kMaxTasks ? i : 0]));
}

void stack_guard_overwritten() {
    k::panic("kernel stack overflow: task stack guard band overwritten");
}

void task_release(Task* t) {
    if (t->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    // Last reference: the scheduler dropped its own only after the final
    // switch-out, so no hart runs on this stack any more.
    if (t->on_cpu.load(std::memory_order_acquire) != 0) k::panic("task freed while on a cpu");
    check_stack_guard(*t);
    std::uint32_t slot = slot_of(t);
    t->~Task();
    k::SpinGuard g(g_lock);
    g_free[g_free_count++] = slot;
    g_used[slot] = false;
    ++g_reclaimed;
}

std::uintptr_t task_stack_guard_first() {
    return reinterpret_cast<std::uintptr_t>(&g_stacks[0][0]);
}

std::uint32_t task_pool_free() {
    k::SpinGuard g(g_lock);
    return g_ready ? g_free_count : kMaxTasks;
}

std::uint64_t task_pool_reclaimed() {
    k::SpinGuard g(g_lock);
    return g_reclaimed;
}

void dump_tasks() {
    // Racy by design (diagnostics after a stall): no lock, reads only.
    std::uint32_t shown = 0;
    for (std::uint32_t i = 0; i < kMaxTasks && shown < 48; ++i) {
        if (!g_used[i]) continue;
        const Task* t = static_cast<const Task*>(static_cast<const void*>(&g_task_mem[i][0]));
        k::LineBuffer l;
        l.put("KDUMP: task#");
        l.put(t->id);
        l.put(" ");
        l.put(t->name);
        l.put(" ");
        l.put(task_state_name(t->state.state()));
        l.put(" reason=");
        l.put(static_cast<std::uint32_t>(t->state.reason()));
        l.put(" on_cpu=");
        l.put(t->on_cpu.load());
        l.put(" home=");
        l.put(t->home_cpu.load());
        l.put(" refs=");
        l.put(t->refs.load());
        l.put(" linked=");
        l.put(t->link.linked());
        l.put(" runs=");
        l.put(__atomic_load_n(&t->ctx.run, __ATOMIC_RELAXED));
        k::console::write_line_forced(l);
        ++shown;
    }
}

} // namespace sched
