// mode=bench: instruction counts per kernel operation (RFC-0023).
//
// Under `qemu-system-riscv64 -icount shift=0`, rdinstret counts retired
// instructions, deterministically (../shared/LESSONS.md): every figure here
// is instructions, never time. With several harts the counter is the
// machine's, so a cross-hart figure counts every hart's instructions between
// its two reads (sender, receiver, firmware); same-hart figures are taken on
// one busy hart while the others sleep in wfi.
#pragma once

#include <cstdint>

namespace k::selftest::bench {

inline constexpr std::uint32_t kMaxBatches = 15;

struct Plan {
    std::uint32_t batches = 7;  // 1..kMaxBatches; the median of these is reported
    std::uint32_t iters = 1000; // operations per batch
    bool short_run = false;     // `bench=short`: fewer batches and task counts
    bool probe_only = false;    // `bench=probe`: only the counter probe, then shut down
};

// Instructions per operation over the batches of one measurement.
struct Figure {
    std::uint64_t median = 0, min = 0, max = 0;
    std::uint32_t batches = 0, iters = 0;
};

// One batch: runs `iters` operations and returns the instructions they took
// in all, divided by how many operations the batch did (>= 1).
using BatchFn = std::uint64_t (*)(void* ctx, std::uint32_t iters);

// Median, min and max of n per-operation figures (sorts them in place; n <= kMaxBatches).
Figure summarize(std::uint64_t* per_op, std::uint32_t n, std::uint32_t iters);

// Runs `plan.batches` batches of `fn` after one warm-up batch.
Figure measure(const Plan& plan, BatchFn fn, void* ctx);

// Prints one KBENCH row: `KBENCH: op=<op> harts=<n> tasks=<k> rq=<r> median=...`.
void report(const char* op, std::uint32_t tasks, std::uint32_t rq, const Figure& f);

// Instructions retired (machine-wide under -icount).
std::uint64_t instret();

// The operation groups (selftest/bench_ops.cpp). Each prints its rows and
// returns false if it could not set itself up (a verdict line says why).
bool same_hart_ops(const Plan& plan, std::uint32_t live_tasks);
bool run_queue_ops(const Plan& plan);
bool cross_hart_ops(const Plan& plan);
bool timer_irq_op(const Plan& plan);

} // namespace k::selftest::bench
