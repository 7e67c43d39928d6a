// What a blocked task waits for: the kind of wait (a name and the test of its condition) and
// the object, published by the sleeper with its Blocked, so that the lost-wake-up monitor
// (sched/wake_monitor.hpp) can ask of any sleeper whether its wake is overdue.
#pragma once

#include "base/panic.hpp"
#include "base/spin_lock.hpp"
#include "sched/task.hpp"

namespace sched {

// A kind of wait. `holds` answers "is the condition that ends this wait true now?" from
// atomics only, without a lock: the monitor calls it from a timer interrupt, and the object
// may be changing meanwhile (the monitor discards an answer unless the task's state word was
// the same before and after it). It must not change anything, and, since the wait may end
// while it runs, it may read only memory that stays mapped: the object itself and objects of
// the kernel's static pools and slabs, never a pointer read from a stack frame.
struct WaitKind {
    const char* name;
    bool (*holds)(const void* object);
};

// Panics naming the task and the wait (sched/wake_monitor.cpp).
[[noreturn, gnu::cold]] void block_outside_lock(const Task& me, const char* wait);
[[noreturn, gnu::cold]] void block_refused(const Task& me, const char* wait);
[[noreturn, gnu::cold]] void sleeper_read_early(const char* wait);

// The waker's half of the protocol: it reads who sleeps only once the condition it wakes them
// for holds, in the critical section that set it (under the lock the sleeper published under;
// the fields are k::Guarded, so that part is checked at every access). Call where the sleeper
// is read, with the condition as that critical section sees it: a waker that reads its
// sleepers first and sets the condition in a later critical section, where a sleeper that
// arrives in between is never woken, panics here on its first run, naming the wait.
inline void expect_condition_set(bool holds, const char* wait) {
    if (!holds) [[unlikely]]
        sleeper_read_early(wait);
}

// The one way to publish Blocked (RFC-0021 "Sleep and wake-up"): with the wait's kind and
// object, while holding `waker_lock`, the lock under which every waker of this wait reads who
// sleeps. Published there, "about to sleep" is seen by every waker that sets the condition
// after the sleeper's last look at it. Panics, naming the kind, when `waker_lock` is not held
// by this hart (a sleeper that decides under the lock and publishes after it: the lost
// wake-up, wherever it is written), or when `me` is not running.
inline void block_on(Task& me, BlockReason reason, const WaitKind& kind, const void* object,
                     const k::SpinLock& waker_lock) {
    if (!waker_lock.held_by_me()) [[unlikely]]
        block_outside_lock(me, kind.name);
    // Release, paired with the monitor's acquire: a monitor that reads these of a later block
    // also sees the transitions before it, so its second read of the state word differs and
    // it never pairs one block's kind with another's object.
    me.wait_kind.store(&kind, std::memory_order_release);
    me.wait_object.store(object, std::memory_order_release);
    if (me.state.block(reason) != Transition::Ok) block_refused(me, kind.name);
}

} // namespace sched
