// Typed slab of tasks and their kernel stacks: no general heap.
#pragma once

#include "sched/task.hpp"

#include <cstdint>

namespace sched {

inline constexpr std::uint32_t kMaxTasks = 1024;
inline constexpr std::uint32_t kTaskStackSize = 16384;
inline constexpr std::uint32_t kTaskStackGuard = 512; // bottom band, never a legal sp
// Below each stack: a page the kernel's Sv39 space leaves unmapped, so an overflow past the
// band is a page fault (the band stays as the second line, checked at switch-out).
inline constexpr std::uint32_t kTaskStackGuardPage = 4096;
inline constexpr std::uint32_t kTaskStackSlot = kTaskStackGuardPage + kTaskStackSize;
static_assert(kTaskStackSlot % 4096 == 0);
static_assert(kTaskStackGuard > TF_SIZE, "the band absorbs the first trap-frame store");

// Slot i (< kMaxTasks) of the slab, live or not (a free slot holds its last task's final
// state, or zeroes): for monitors that read atomics only.
const Task& task_slot(std::uint32_t i);

// Returns a constructed task with a guarded stack, or nullptr when the pool is empty.
Task* task_alloc();
std::uint32_t task_pool_free();
std::uint64_t task_pool_reclaimed();

inline constexpr std::uint64_t kGuardPattern = 0x5354414b47554152ull; // "STAKGUAR"

[[noreturn]] void stack_guard_overwritten();

// Panics when the guard band of t's stack was written (overflow caught at
// switch-out). Inline: the switch path runs it on every switch.
inline void check_stack_guard(const Task& t) {
    if (t.idle) return;
    const auto* w = reinterpret_cast<const std::uint64_t*>(t.stack_lo - kTaskStackGuard);
    // The top word of the band is the first one an overflow reaches.
    if (w[kTaskStackGuard / 8 - 1] != kGuardPattern || w[0] != kGuardPattern)
        stack_guard_overwritten();
}

// Where the stack guard pages are: kMaxTasks pages, kTaskStackSlot bytes apart.
std::uintptr_t task_stack_guard_first();

// KDUMP line per live task (diagnostics after a stall).
void dump_tasks();

} // namespace sched
