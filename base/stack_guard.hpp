// Kernel stacks and the unmapped page below each: the one place that says where a guard page is.
#pragma once

#include <cstdint>

namespace k {

// `count` pages at first, first + stride, ...: each stays unmapped (a stack's guard page). The
// kernel's address space (mm/kernel_space.hpp) leaves them out; the per-hart stacks
// (base/percpu.hpp) and the task stacks (sched/task_pool.hpp) say where theirs are.
struct GuardPages {
    std::uintptr_t first;  // page-aligned
    std::uintptr_t stride; // bytes, a multiple of 4096
    std::uint32_t count;
};

// The guard page of a stack whose lowest legal sp is `stack_lo` (its guard band's bottom): the
// 4 KiB page below the page that holds stack_lo.
constexpr std::uintptr_t guard_page_below(std::uintptr_t stack_lo) {
    return (stack_lo & ~std::uintptr_t{4095}) - 4096;
}

} // namespace k
