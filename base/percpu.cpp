// Per-hart blocks, boot stacks and the validated cpu-id lookup.
#include "base/percpu.hpp"

#include "asm_offsets.hpp"
#include "base/cpu_id.hpp"
#include "base/jitter.hpp"
#include "base/panic.hpp"
#include "csr.hpp"

#include <cstddef>

extern "C" {
// Boot/idle stacks: a guard page (unmapped under Sv39), then the stack with a
// guard band at its bottom; entry.S uses [0].
alignas(4096) std::uint8_t k_cpu_stacks[k::kMaxCpus][KSTACK_SLOT];
static_assert(KSTACK_SLOT % 4096 == 0 && KSTACK_GUARD_PAGE == 4096);
alignas(16) std::uint8_t k_emergency_stacks[k::kMaxCpus][EMERGENCY_STACK_SIZE];
}

namespace k {

namespace {
PerCpu g_cpus[kMaxCpus];
std::uint32_t g_cpu_count = 1; // written by the boot hart before secondaries start
} // namespace

PerCpu& cpu_block(std::uint32_t cpu) {
    return g_cpus[cpu < kMaxCpus ? cpu : 0];
}

namespace {

// A hart runs on its block from Joining to Stopping, not only while Online
// (publish-last: it takes locks before it may say Online).
constexpr std::uint32_t kRunsOnBlock = 1u << static_cast<std::uint32_t>(CpuState::Joining) |
                                       1u << static_cast<std::uint32_t>(CpuState::Online) |
                                       1u << static_cast<std::uint32_t>(CpuState::Stopping);
bool runs_on_block(std::uint32_t state) {
    return state < 32 && ((kRunsOnBlock >> state) & 1u) != 0;
}

k::CpuSlot slot_of(std::uint32_t i) {
    const PerCpu& c = g_cpus[i];
    return k::CpuSlot{reinterpret_cast<std::uintptr_t>(&c), c.head.magic, c.head.stack_lo,
                      c.head.stack_hi, runs_on_block(c.state.load(std::memory_order_acquire))};
}

// Everything but the hot path: the table of every block, the counted
// fallback, then SIE back as current_cpu() found it (a tail call from there,
// so the hot path needs no frame of its own).
[[gnu::noinline]] std::uint32_t current_cpu_slow(std::uintptr_t tp, std::uintptr_t sp,
                                                 std::uint64_t sie) {
    const k::CpuIdResult r = cpu_id_probe(tp, sp);
    if (r.path != k::CpuIdPath::TpFast)
        g_cpus[r.cpu].cpuid_fallbacks.fetch_add(1, std::memory_order_relaxed);
    if (sie & hal::csr::kSstatusSie) hal::csr::set_sstatus(hal::csr::kSstatusSie);
    return r.cpu;
}

} // namespace

k::CpuIdResult cpu_id_probe(std::uintptr_t tp, std::uintptr_t sp) {
    // The hot path is fast_cpu() in current_cpu(); this is its slow path and
    // the selftests' probe: the whole table, the portable rules.
    const std::uint32_t n = g_cpu_count;
    k::CpuSlot slots[kMaxCpus];
    for (std::uint32_t i = 0; i < n; ++i)
        slots[i] = slot_of(i);
    return k::resolve_cpu_id(tp, sp, slots, n, hal::kHartMagic);
}

// cpu_id_probe's first step, inlined: the same rule (k::block_valid, as
// in tp_fast_valid) on the block tp names: false when it does not hold, else
// its index in `i` (a flag, not a kMaxCpus sentinel the caller tests again).
[[gnu::always_inline]] inline bool fast_cpu(std::uintptr_t tp, std::uintptr_t sp,
                                            std::uint32_t& i) {
    // tp names a block exactly: inside the array of online-capable blocks and
    // on a stride boundary (unsigned: a tp below the array wraps to a huge
    // offset and fails the bound). That block is then *tp itself.
    const std::uintptr_t off = tp - reinterpret_cast<std::uintptr_t>(&g_cpus[0]);
    if (off >= g_cpu_count * kPerCpuStride || (off & (kPerCpuStride - 1)) != 0) [[unlikely]]
        return false;
    // Relaxed: normally this hart's own block, whose state this hart wrote itself.
    const auto& c = *reinterpret_cast<const PerCpu*>(tp);
    if (!k::block_valid(c.head.magic, runs_on_block(c.state.load(std::memory_order_relaxed)),
                        c.head.stack_lo, c.head.stack_hi, sp, hal::kHartMagic)) [[unlikely]]
        return false;
    i = static_cast<std::uint32_t>(off / kPerCpuStride);
    return true;
}

namespace {

// current_cpu() while a hook is on the jitter sites (a selftest, `jitter=`): the same lookup out
// of line, with the site between the reads and the check (held open by `lookups under a move`).
// A tail call from there, so the hot path keeps no frame of its own.
[[gnu::noinline]] std::uint32_t current_cpu_hooked(std::uintptr_t tp, std::uintptr_t sp,
                                                   std::uint64_t sie) {
    jitter::point(jitter::Site::CpuIdLookup);
    std::uint32_t i;
    if (!fast_cpu(tp, sp, i)) return current_cpu_slow(tp, sp, sie);
    if (sie & hal::csr::kSstatusSie) hal::csr::set_sstatus(hal::csr::kSstatusSie);
    return i;
}

} // namespace

std::uint32_t current_cpu() {
    // Interrupts off for the probe (raw CSR, not irq_push: tp may be the very
    // thing that is bad): a task migrated between reading tp and reading the
    // stack bounds would otherwise see its sp outside "its" hart's stack.
    const std::uint64_t sie = hal::csr::swap_clear_sstatus(hal::csr::kSstatusSie);
    const std::uintptr_t tp = hal::read_tp();
    const std::uintptr_t sp = hal::read_sp();
    if (jitter::g_hook.load(std::memory_order_relaxed) != nullptr) [[unlikely]]
        return current_cpu_hooked(tp, sp, sie);
    std::uint32_t i;
    if (!fast_cpu(tp, sp, i)) [[unlikely]]
        return current_cpu_slow(tp, sp, sie);
    if (sie & hal::csr::kSstatusSie) hal::csr::set_sstatus(hal::csr::kSstatusSie);
    return i;
}

std::uint32_t current_cpu_masked() {
    if (hal::csr::read_sstatus() & hal::csr::kSstatusSie)
        panic("current_cpu_masked: interrupts are on");
    const std::uintptr_t tp = hal::read_tp();
    const std::uintptr_t sp = hal::read_sp();
    std::uint32_t i;
    if (!fast_cpu(tp, sp, i)) [[unlikely]]
        return current_cpu_slow(tp, sp, 0);
    return i;
}

std::uint32_t cpu_count() {
    return g_cpu_count;
}
void set_cpu_count(std::uint32_t n) {
    g_cpu_count = n <= kMaxCpus ? n : kMaxCpus;
}

bool cpu_online(std::uint32_t cpu) {
    return cpu < g_cpu_count && cpu_state(cpu) == CpuState::Online;
}

std::uint32_t online_count() {
    std::uint32_t n = 0;
    for (std::uint32_t i = 0; i < g_cpu_count; ++i)
        n += cpu_online(i) ? 1 : 0;
    return n;
}

std::uint64_t cpuid_fallback_total() {
    std::uint64_t n = 0;
    for (std::uint32_t i = 0; i < g_cpu_count; ++i)
        n += g_cpus[i].cpuid_fallbacks.load(std::memory_order_relaxed);
    return n;
}

void set_cpu_state(std::uint32_t cpu, CpuState s) {
    g_cpus[cpu].state.store(static_cast<std::uint32_t>(s), std::memory_order_release);
}

CpuState cpu_state(std::uint32_t cpu) {
    return static_cast<CpuState>(g_cpus[cpu].state.load(std::memory_order_acquire));
}

bool claim_cpu_state(std::uint32_t cpu, CpuState from, CpuState to) {
    auto expected = static_cast<std::uint32_t>(from);
    return g_cpus[cpu].state.compare_exchange_strong(expected, static_cast<std::uint32_t>(to),
                                                     std::memory_order_acq_rel);
}

void percpu_prepare(std::uint32_t cpu, std::uint32_t hart_id) {
    PerCpu& c = g_cpus[cpu];
    auto lo = reinterpret_cast<std::uintptr_t>(&k_cpu_stacks[cpu][KSTACK_GUARD_PAGE]);
    c.boot_stack_lo = lo + KSTACK_GUARD;
    c.boot_stack_hi = lo + KSTACK_SIZE;
    c.head.cpu = cpu;
    c.head.hart_id = hart_id;
    c.head.stack_lo = c.boot_stack_lo;
    c.head.stack_hi = c.boot_stack_hi;
    c.head.emergency_sp =
        reinterpret_cast<std::uintptr_t>(&k_emergency_stacks[cpu][0]) + EMERGENCY_STACK_SIZE;
    c.head.irq_depth = 0;
    c.head.irq_saved = 0;
    c.head.lock_ranks = 0;
    c.head.magic = hal::kHartMagic;
}

GuardPages cpu_stack_guard_pages() {
    return GuardPages{reinterpret_cast<std::uintptr_t>(&k_cpu_stacks[0][0]), KSTACK_SLOT, kMaxCpus};
}

void percpu_install(std::uint32_t cpu) {
    hal::write_tp(reinterpret_cast<std::uintptr_t>(&g_cpus[cpu]));
}

} // namespace k
