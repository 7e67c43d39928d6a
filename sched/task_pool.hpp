// Typed slab of tasks and their kernel stacks: no general heap.
#pragma once

#include "sched/task.hpp"

#include <cstdint>

namespace sched {

inline constexpr std::uint32_t kMaxTasks = 1024;
inline constexpr std::uint32_t kTaskStackSize = 16384;
inline constexpr std::uint32_t kTaskStackGuard = 512; // bottom band, never a legal sp
static_assert(kTaskStackGuard > TF_SIZE, "the band absorbs the first trap-frame store");

// Returns a constructed task with a guarded stack, or nullptr when the pool is empty.
Task* task_alloc();
std::uint32_t task_pool_free();
std::uint64_t task_pool_reclaimed();

// Panics when the guard band of t's stack was written (overflow caught at switch-out).
void check_stack_guard(const Task& t);

// KDUMP line per live task (diagnostics after a stall).
void dump_tasks();

} // namespace sched
