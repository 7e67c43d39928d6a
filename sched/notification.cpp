// Notification: the sleep/wake protocol of Event, reusable, with a word.
#include "sched/notification.hpp"

#include "base/fault.hpp"
#include "base/jitter.hpp"
#include "base/panic.hpp"
#include "sched/cpu_sched.hpp"
#include "sched/wait_channel.hpp"

namespace sched {

namespace {
bool notification_holds(const void* n) {
    return static_cast<const Notification*>(n)->pending() != 0;
}
constexpr WaitKind kNotificationWait{"notification", &notification_holds};
} // namespace

std::uint64_t Notification::wait(Task& self, Task* handoff_to, const WaitKind* kind,
                                 const void* object) {
    Task* me = &self;
    if (!kind) {
        kind = &kNotificationWait;
        object = this;
    }
    WonWake pending(handoff_to);
    for (;;) {
        // With a task to hand over, interrupts stay masked from before our Blocked is
        // published to the handoff: a tick in between would switch us out for good while that
        // task, Ready and on no queue, waited for us to run it (found by the benchmark: a
        // call that never came back, once in a few runs).
        const bool masked = pending.get() != nullptr;
        if (masked) hal::Cpu::irq_push();
        bool sleep_unlocked = false;
        std::uint64_t w = 0;
        {
            k::SpinGuard g(lock_);
            w = word_.get();
            if (w != 0) {
                word_.set(0);
                waiter_.set(nullptr);
            } else {
                Task* other = waiter_.get();
                if (other && other != me) k::panic("notification: a second waiter");
                waiter_.set(me);
                if (k::fault::is(k::fault::Fault::LostWakeup)) {
                    sleep_unlocked = true; // the classic bug: decide, unlock, then sleep
                } else {
                    block_on(*me, BlockReason::Event, *kind, object, lock_);
                }
            }
        }
        if (w != 0) {
            if (masked) hal::Cpu::irq_pop();
            return w; // pending's destructor queues a task not handed over
        }
        k::jitter::point(k::jitter::Site::Block, me);
        if (sleep_unlocked) block_on(*me, BlockReason::Event, *kind, object, lock_);
        if (!masked) hal::Cpu::irq_push();
        if (pending.get() && detail::handoff(*pending.get(), me)) (void)pending.take();
        if (Task* t = pending.take()) enqueue_woken(*t);
        while (me->state.state() != TaskState::Running)
            (void)detail::schedule();
        hal::Cpu::irq_pop();
        // The word, not the wake, ends the wait: a wake may be stale.
    }
}

TaskRef Notification::post(std::uint64_t bits) {
    k::SpinGuard g(lock_);
    word_.set(word_.get() | bits);
    expect_condition_set(word_.get() != 0, kNotificationWait.name);
    return TaskRef(waiter_.get());
}

void Notification::clear(std::uint64_t bits) {
    k::SpinGuard g(lock_);
    word_.set(word_.get() & ~bits);
}

Signalled Notification::signal(std::uint64_t bits, std::uint32_t cpu) {
    hal::Cpu::irq_push(); // to the wake, as Event::signal
    TaskRef w;
    if (k::fault::is(k::fault::Fault::LostWakeSignal)) [[unlikely]] {
        // The waker's side of the classic bug: who sleeps is read before the condition is
        // set, outside the lock; a sleeper arriving in between is never woken.
        w = TaskRef(waiter_.racy());
        k::jitter::point(k::jitter::Site::Wake, w.get());
        k::SpinGuard g(lock_);
        word_.set(word_.get() | bits);
    } else {
        k::SpinGuard g(lock_);
        word_.set(word_.get() | bits);
        // A waiter seen under the lock is inside wait() (it clears waiter_
        // under the lock before it returns), so it can be counted.
        expect_condition_set(word_.get() != 0, kNotificationWait.name);
        w = TaskRef(waiter_.get());
    }
    const Signalled r = w ? wake_signalled(*w, cpu) : Signalled::NoWaiter;
    hal::Cpu::irq_pop();
    return r;
}

} // namespace sched
