// User address spaces: the slab, ASIDs, activation and shootdowns.
#include "kernel/mm/user_space.hpp"

#include "csr.hpp"
#include "hal_cpu.hpp"
#include "kernel/fault.hpp"
#include "kernel/memory_boot.hpp"
#include "kernel/mm/asid_allocator.hpp"
#include "kernel/mm/frames.hpp"
#include "kernel/mm/kernel_space.hpp"
#include "kernel/panic.hpp"
#include "kernel/percpu.hpp"
#include "mmu.hpp"
#include "sbi.hpp"
#include "user/include/kestrel/syscall.hpp"

namespace k::uspace {

namespace {

UserSpace g_spaces[kMaxSpaces];
k::SpinLock g_lock{"uspaces"};
mm::AsidAllocator g_asids;      // guarded by g_lock
std::uint64_t g_asid_words[16]; // 1024 ASIDs: more than kMaxSpaces
bool g_asids_ready = false;     // guarded by g_lock
std::atomic<std::uint32_t> g_free{kMaxSpaces};

constexpr std::int64_t err(kestrel::Error e) {
    return static_cast<std::int64_t>(e);
}

// Every cpu in `cpus` forgets the ASID's translations of [va, va + len) (len 0: all of them).
// Interrupts stay masked throughout, so "this cpu" stays this cpu (SBI's RFENCE is carried by
// M-mode IPIs, which S-mode masking does not hold up).
void shootdown(const UserSpace& s, std::uint64_t cpus, std::uint64_t va, std::uint64_t len) {
    hal::Cpu::irq_push();
    const std::uint32_t self = current_cpu_masked();
    if (cpus & (std::uint64_t{1} << self)) hal::mmu::flush_asid(s.asid);
    cpus &= ~(std::uint64_t{1} << self);
    for (std::uint32_t c = 0; cpus != 0; ++c, cpus >>= 1) {
        if (!(cpus & 1)) continue;
        const hal::sbi::Ret r = hal::sbi::remote_sfence_vma_asid(
            std::uint64_t{1}, cpu_block(c).head.hart_id, va, len, s.asid);
        if (r.error != 0) k::panic("uspace: SBI remote_sfence_vma_asid failed");
    }
    hal::Cpu::irq_pop();
}

} // namespace

UserSpace* create() {
    UserSpace* s = nullptr;
    {
        k::SpinGuard g(g_lock);
        if (!g_asids_ready) {
            g_asids.init(memory_figures().asid_bits, g_asid_words, 16);
            g_asids_ready = true;
        }
        for (UserSpace& c : g_spaces) {
            if (c.refs.load(std::memory_order_relaxed) != 0) continue;
            c.refs.store(1, std::memory_order_relaxed);
            c.asid = g_asids.alloc();
            s = &c;
            break;
        }
    }
    if (!s) return nullptr;
    s->as = mm::AddressSpace(frames::source(), mm::PhysWindow{0});
    s->cpus.store(0, std::memory_order_relaxed);
    if (s->as.init(kspace::table()) != mm::SpaceError::None) {
        k::SpinGuard g(g_lock);
        if (s->asid) (void)g_asids.free(s->asid);
        s->refs.store(0, std::memory_order_relaxed);
        return nullptr;
    }
    s->satp = s->as.satp(s->asid);
    g_free.fetch_sub(1, std::memory_order_relaxed);
    return s;
}

void retain(UserSpace& s) {
    s.refs.fetch_add(1, std::memory_order_relaxed);
}

void release(UserSpace* s) {
    if (!s || s->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    // Nobody runs on it: flush what any cpu may still cache under its ASID, then free.
    shootdown(*s, s->cpus.load(std::memory_order_acquire), 0, 0);
    s->as.destroy();
    k::SpinGuard g(g_lock);
    if (s->asid) (void)g_asids.free(s->asid);
    s->satp = 0;
    g_free.fetch_add(1, std::memory_order_relaxed);
}

mm::SpaceError load(UserSpace& s, const elf::Plan& plan, const unsigned char* image,
                    std::size_t size) {
    k::SpinGuard g(s.lock);
    return s.as.load(plan, image, size);
}

mm::SpaceError write(UserSpace& s, std::uint64_t va, const void* src, std::uint64_t len) {
    k::SpinGuard g(s.lock);
    return s.as.write(va, src, len);
}

std::int64_t map(UserSpace& s, std::uint64_t va, std::uint64_t len, std::uint64_t prot) {
    using E = kestrel::Error;
    if (prot != kestrel::ProtRead && prot != (kestrel::ProtRead | kestrel::ProtWrite))
        return err(E::BadArgument);
    const std::uint64_t flags = mm::pte::kR | ((prot & kestrel::ProtWrite) ? mm::pte::kW : 0);
    k::SpinGuard g(s.lock);
    switch (s.as.map_anon(va, len, flags)) {
    case mm::SpaceError::None:
        return 0;
    case mm::SpaceError::BadAlign:
    case mm::SpaceError::BadPerms:
        return err(E::BadArgument);
    case mm::SpaceError::BadLength:
        return err(E::BadLength);
    case mm::SpaceError::OutOfRange:
    case mm::SpaceError::KernelRange:
        return err(E::BadPointer);
    case mm::SpaceError::Overlap:
        return err(E::Exists);
    default:
        return err(E::NoMemory);
    }
}

std::int64_t unmap(UserSpace& s, std::uint64_t va, std::uint64_t len) {
    using E = kestrel::Error;
    k::SpinGuard g(s.lock);
    const mm::SpaceError e = s.as.unmap(va, len, [&](std::uint64_t at, std::uint64_t n) {
        shootdown(s, s.cpus.load(std::memory_order_seq_cst), at, n);
    });
    switch (e) {
    case mm::SpaceError::None:
        return 0;
    case mm::SpaceError::BadAlign:
        return err(E::BadArgument);
    case mm::SpaceError::BadLength:
        return err(E::BadLength);
    default:
        return err(E::NotMapped);
    }
}

bool kernel_range(const UserSpace& s, std::uint64_t va, std::uint64_t len) {
    return s.as.kernel_range(va, len);
}

void activate(std::uint32_t cpu, UserSpace* next) {
    const std::uint64_t satp = next ? next->satp : kspace::satp_value();
    // The CSR itself, not a per-cpu copy: a restarted hart comes back with the kernel's root.
    const std::uint64_t loaded = hal::csr::read_satp();
    if (loaded == satp) [[likely]]
        return;
    // The seed's bug on purpose: the next user thread runs on the previous one's root.
    if (next && loaded != kspace::satp_value() && fault::is(fault::Fault::SatpSkip)) return;
    if (next) {
        const std::uint64_t bit = std::uint64_t{1} << cpu;
        const bool first = (next->cpus.fetch_or(bit, std::memory_order_seq_cst) & bit) == 0;
        // ASID 0 is shared (no ASIDs, or all taken): nothing of another space may survive.
        if (next->asid == 0 || first) {
            hal::mmu::write_satp(satp);
            return;
        }
    }
    hal::mmu::switch_satp(satp);
}

std::uint32_t free_spaces() {
    return g_free.load(std::memory_order_relaxed);
}

} // namespace k::uspace
