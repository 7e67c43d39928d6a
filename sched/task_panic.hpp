// The scheduler's panics that name a task: one line, "sched: <what>: task <name> #<id> ...",
// built in a k::LineBuffer and kept in this hart's reason buffer (a panic's reason must outlive
// the frame that built it; one buffer per hart, so two harts that fail at once keep theirs).
#pragma once

#include "base/format.hpp"
#include "sched/task.hpp"

#include <cstdint>

namespace sched {

// Starts the line: "sched: <what>: task <name> #<id>".
void task_panic_begin(k::LineBuffer& l, const char* what, const Task& t);
// Panics with the line of `l` (this hart's buffer, `cpu` taken modulo k::kMaxCpus).
[[noreturn, gnu::cold]] void task_panic_end(const k::LineBuffer& l, std::uint32_t cpu);

// "sched: <what>: task <name> #<id> <a> <va>, <b> <vb>".
[[noreturn, gnu::cold, gnu::noinline]] void task_panic(const char* what, const Task& t,
                                                       std::uint32_t cpu, const char* a,
                                                       std::uint64_t va, const char* b,
                                                       std::uint64_t vb);

} // namespace sched
