// Event: the no-lost-wake-up sleep used by selftests and, later, IPC.
#include "sched/event.hpp"

#include "kernel/panic.hpp"
#include "sched/cpu_sched.hpp"

namespace sched {

void Event::wait() {
    Task* me = current();
    waiter_.store(me, std::memory_order_seq_cst);
    // A wake may be stale (meant for an earlier sleep of this task), so the
    // condition, not the wake, ends the wait.
    while (!signalled()) {
        if (me->state.block(BlockReason::Event) != Transition::Ok) k::panic("event: cannot block");
        // Signalled meanwhile: undo the sleep, unless a waker already won the
        // wake, in which case it is queueing us and we must switch out once.
        if (signalled() && me->state.unblock_self() == Transition::Ok) break;
        hal::Cpu::irq_push();
        while (me->state.state() != TaskState::Running)
            (void)detail::schedule();
        hal::Cpu::irq_pop();
    }
    waiter_.store(nullptr, std::memory_order_relaxed);
}

void Event::signal(std::uint32_t cpu) {
    signalled_.store(1, std::memory_order_seq_cst);
    if (Task* w = waiter_.load(std::memory_order_seq_cst)) (void)wake(*w, cpu);
}

} // namespace sched
