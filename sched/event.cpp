// Event: the no-lost-wake-up sleep used by selftests and, later, IPC.
#include "sched/event.hpp"

#include "base/jitter.hpp"
#include "base/panic.hpp"
#include "sched/cpu_sched.hpp"
#include "sched/wait_channel.hpp"

namespace sched {

namespace {
bool event_holds(const void* e) {
    return static_cast<const Event*>(e)->signalled();
}
constexpr WaitKind kEventWait{"event", &event_holds};
} // namespace

void Event::wait() {
    Task* me = current();
    // A wake may be stale (meant for an earlier sleep of this task), so the
    // condition, not the wake, ends the wait.
    for (;;) {
        {
            k::SpinGuard g(lock_);
            if (signalled_.get()) break;
            waiter_.set(me);
            block_on(*me, BlockReason::Event, kEventWait, this, lock_);
        }
        k::jitter::point(k::jitter::Site::Block, me);
        hal::Cpu::irq_push();
        while (me->state.state() != TaskState::Running)
            (void)detail::schedule();
        hal::Cpu::irq_pop();
    }
    k::SpinGuard g(lock_);
    waiter_.set(nullptr);
}

Event::Signalled Event::signal(std::uint32_t cpu) {
    // Masked from the read of the waiter to its wake: a waker preempted in between would leave
    // its sleeper Blocked with the condition set, which the lost-wake-up monitor judges lost
    // after its grace period.
    hal::Cpu::irq_push();
    TaskRef w;
    {
        // A waiter seen under the lock is still inside wait() (it clears
        // waiter_ under the lock before leaving), so it can be counted.
        k::SpinGuard g(lock_);
        signalled_.set(1);
        expect_condition_set(signalled_.get() != 0, kEventWait.name);
        w = TaskRef(waiter_.get());
    }
    const Signalled r = w ? wake_signalled(*w, cpu) : Signalled::NoWaiter;
    hal::Cpu::irq_pop();
    return r;
}

namespace {

// The condition is set: a waiter left asleep would never wake. It goes where
// it may run instead, and the refusal is reported.
Signalled wake_anywhere(Task& w, Signalled refused) {
    switch (wake(w)) {
    case WakeResult::Woken:
    case WakeResult::Parked:
        return refused;
    case WakeResult::NotBlocked:
        return Signalled::NotBlocked;
    case WakeResult::InvalidCpu:
    case WakeResult::Pinned:
        break;
    }
    k::panic("signal: a wake to the waiter's own hart was refused");
}

} // namespace

Signalled wake_signalled(Task& w, std::uint32_t cpu) {
    switch (wake(w, cpu)) {
    case WakeResult::Woken:
        return Signalled::Woken;
    case WakeResult::NotBlocked:
        return Signalled::NotBlocked;
    case WakeResult::Parked:
        return Signalled::Parked;
    case WakeResult::InvalidCpu:
        return wake_anywhere(w, Signalled::InvalidCpu);
    case WakeResult::Pinned:
        return wake_anywhere(w, Signalled::Pinned);
    }
    return Signalled::NotBlocked;
}

} // namespace sched
