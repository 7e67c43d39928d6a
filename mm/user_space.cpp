// The user-space slab, ASIDs, the satp switch and the TLB shootdown (RFC-0026).
#include "mm/user_space.hpp"

#include "base/fault.hpp"
#include "base/jitter.hpp"
#include "base/panic.hpp"
#include "base/percpu.hpp"
#include "base/rfence_gate.hpp"
#include "base/spin_lock.hpp"
#include "csr.hpp"
#include "mm/asid_allocator.hpp"
#include "mm/frames.hpp"
#include "mm/kernel_space.hpp"
#include "mmu.hpp"
#include "sbi.hpp"

#include <atomic>

namespace k::uspace {

static_assert(kMaxCpus <= 64, "a space's cpu mask is one 64-bit word");

// A slot; its mm::AddressSpace is g_tables[slot index] (tables_of()).
class UserSpace {
  public:
    SpinLock lock{"uspace"}; // guards the slot's g_tables entry (create/load/release: sole owner)
    std::atomic<std::uint32_t> refs{0}; // threads + spawn; the slot is free at 0
    std::atomic<std::uint64_t> cpus{0}; // bit c: cpu c loaded satp since the last full flush
    std::uint64_t satp = 0;             // set by create() before the space is shared
    std::uint16_t asid = 0;             // ditto; 0: the shared ASID
    bool in_use = false;                // guarded by g_slab_lock
    struct Shared {
        std::uint64_t va = 0, len = 0; // len 0: the record is free
        void* owner = nullptr;
        DropFn drop = nullptr;
    };
    Shared shared[kMaxSharedMaps]; // guarded by lock
};

namespace {

SpinLock g_slab_lock{"uspace slab"};
UserSpace g_spaces[kMaxSpaces]; // in_use guarded by g_slab_lock
// The address spaces themselves (about 650 bytes each, mostly the borrowed-entry map) sit in
// their own array so that they stay in .bss; a UserSpace's lock name puts it in .data.
mm::AddressSpace g_tables[kMaxSpaces]; // [i] guarded by g_spaces[i].lock

mm::AddressSpace& tables_of(UserSpace& s) {
    return g_tables[&s - g_spaces];
}
std::uint32_t g_used = 0; // guarded by g_slab_lock
// The user space whose root each cpu has in satp (nullptr: the kernel's root). Written only by
// that cpu, interrupts off: in switch_to before it loads a space's root and after it loads the
// kernel's, so while satp holds a space's root the record names that space. release() reads
// every online cpu's (RFC-0026 invariant 7).
std::atomic<const UserSpace*> g_loaded[kMaxCpus] = {};
mm::AsidAllocator g_asids;  // guarded by g_slab_lock
bool g_asids_ready = false; // guarded by g_slab_lock
// ASIDs 1..kMaxSpaces are all a full slab can use.
std::uint64_t g_asid_bits[kMaxSpaces / 64 + 1]; // guarded by g_slab_lock

struct Counters {
    std::atomic<std::uint64_t> loads{0}, asid_flushes{0}, shootdowns{0}, remote_cpus{0}, skipped{0};
};
Counters g_stats;

mm::FrameResult pool_alloc(void*) {
    return frames::alloc(); // zeroed, as AddressSpace requires
}
mm::FrameError pool_free(void*, std::uint64_t pa) {
    return frames::free(pa);
}
constexpr mm::FrameSource kPool{nullptr, &pool_alloc, &pool_free};

// Sends one RFENCE to the harts of the cpus in `cpus` (never the caller's): the hart ids
// can be sparse, so they go in windows of 64 from the lowest one (the SBI hart mask).
static_assert(rfence::kCpus >= kMaxCpus, "a gate for every cpu");

void remote_flush(std::uint64_t cpus, std::uint64_t va, std::uint64_t len, std::uint16_t asid) {
    // A stopping hart is left out (base/rfence_gate.hpp); the others count as in flight.
    std::uint64_t begun = 0;
    for (std::uint64_t m = cpus; m != 0; m &= m - 1) {
        const auto c = static_cast<std::uint32_t>(__builtin_ctzll(m));
        if (rfence::begin(c)) begun |= std::uint64_t{1} << c;
    }
    cpus = begun;
    while (cpus != 0) {
        unsigned long base = ~0ul;
        for (std::uint64_t m = cpus; m != 0; m &= m - 1) {
            const auto c = static_cast<std::uint32_t>(__builtin_ctzll(m));
            if (cpu_block(c).head.hart_id < base) base = cpu_block(c).head.hart_id;
        }
        unsigned long harts = 0;
        for (std::uint64_t m = cpus; m != 0; m &= m - 1) {
            const auto c = static_cast<std::uint32_t>(__builtin_ctzll(m));
            const unsigned long h = cpu_block(c).head.hart_id;
            if (h - base >= 64) continue;
            harts |= 1ul << (h - base);
            cpus &= ~(std::uint64_t{1} << c);
        }
        // ASID 0 is shared by several spaces (and the kernel's global leaves): flush every
        // ASID for the range then.
        const hal::sbi::Ret r = asid != 0
                                    ? hal::sbi::remote_sfence_vma_asid(harts, base, va, len, asid)
                                    : hal::sbi::remote_sfence_vma(harts, base, va, len);
        // A stopped hart is left out by the firmware and flushes everything when it restarts
        // (kspace::activate_this_hart); any error means a hart may still map a frame that is
        // about to be reused.
        // kfault=rfence-error: the call's result is taken as an error.
        const long error = fault::is(fault::Fault::RfenceError) ? -1 : r.error;
        if (error != 0) panic("tlb shootdown: SBI RFENCE failed");
    }
    for (std::uint64_t m = begun; m != 0; m &= m - 1)
        rfence::end(static_cast<std::uint32_t>(__builtin_ctzll(m)));
}

void local_flush(std::uint64_t va, std::uint64_t len, std::uint16_t asid) {
    if (len > 16 * mm::kPageSize) {
        if (asid != 0)
            hal::mmu::flush_asid(asid);
        else
            hal::mmu::flush_all();
        return;
    }
    for (std::uint64_t at = va; at < va + len; at += mm::kPageSize) {
        if (asid != 0)
            hal::mmu::flush_page_asid(at, asid);
        else
            hal::mmu::flush_page(at);
    }
}

// Makes every cpu that may cache `s` forget [va, va + len): this one with sfence.vma, the
// others with SBI RFENCE, which returns once they did. Interrupts are off (the space's lock
// or release()'s sole ownership), so the caller cannot migrate meanwhile.
// `skip_one` (kfault=shared-skip-flush, unmap_shared only): the lowest other cpu is left out.
void shootdown(UserSpace& s, std::uint64_t va, std::uint64_t len, bool injectable,
               bool skip_one = false) {
    const std::uint64_t self = std::uint64_t{1} << current_cpu();
    // Orders the cleared entries before the read of the mask: a cpu that sets its bit after
    // this read walks the table after the clear (activate() sets the bit before loading).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::uint64_t mask = s.cpus.load(std::memory_order_seq_cst);
    if (mask & self) local_flush(va, len, s.asid);
    std::uint64_t others = mask & ~self;
    if (skip_one && others != 0) {
        others &= others - 1;
        g_stats.skipped.fetch_add(1, std::memory_order_relaxed);
    }
    if (others == 0) return;
    if (injectable && fault::is(fault::Fault::NoShootdown)) {
        g_stats.skipped.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    g_stats.shootdowns.fetch_add(1, std::memory_order_relaxed);
    g_stats.remote_cpus.fetch_add(static_cast<std::uint64_t>(__builtin_popcountll(others)),
                                  std::memory_order_relaxed);
    remote_flush(others, va, len, s.asid);
}

std::int64_t err(kestrel::Error e) {
    return static_cast<std::int64_t>(e);
}

// The user half as the ABI states it (kestrel::kUserBase .. kUserLimit), no wrap.
bool in_user_half(std::uint64_t va, std::uint64_t len) {
    return va >= kestrel::kUserBase && va <= kestrel::kUserLimit && len <= kestrel::kUserLimit - va;
}

// ProtRead, optionally with ProtWrite: the only protections map and map_shared take.
bool prot_ok(std::uint64_t prot) {
    return (prot & ~std::uint64_t{kestrel::ProtRead | kestrel::ProtWrite}) == 0 &&
           (prot & kestrel::ProtRead) != 0;
}

std::uint64_t leaf_flags(std::uint64_t prot) {
    return mm::pte::kR | ((prot & kestrel::ProtWrite) ? mm::pte::kW : 0);
}

// The syscall error for a refused map_anon or map_frames.
std::int64_t map_error(mm::SpaceError e) {
    switch (e) {
    case mm::SpaceError::None:
        return 0;
    case mm::SpaceError::NoFrame:
        return err(kestrel::Error::NoMemory);
    case mm::SpaceError::Overlap:
        return err(kestrel::Error::Exists);
    case mm::SpaceError::BadAlign:
    case mm::SpaceError::BadPerms:
        return err(kestrel::Error::BadArgument);
    case mm::SpaceError::BadLength:
        return err(kestrel::Error::BadLength);
    default: // OutOfRange, KernelRange (the kernel's identity map), NotReady
        return err(kestrel::Error::BadPointer);
    }
}

} // namespace

UserSpace* create() {
    UserSpace* s = nullptr;
    {
        SpinGuard g(g_slab_lock);
        if (!g_asids_ready) {
            g_asids.init(kspace::asid_bits(), g_asid_bits,
                         sizeof g_asid_bits / sizeof g_asid_bits[0]);
            g_asids_ready = true;
        }
        for (UserSpace& c : g_spaces) {
            if (c.in_use) continue;
            s = &c;
            break;
        }
        if (!s) return nullptr;
        s->in_use = true;
        ++g_used;
        s->asid = g_asids.alloc(); // 0: none left (or ASIDLEN 0): shared, flushed on load
    }
    tables_of(*s) = mm::AddressSpace(kPool, mm::PhysWindow{0});
    if (tables_of(*s).init(kspace::table()) != mm::SpaceError::None) {
        SpinGuard g(g_slab_lock);
        if (s->asid != 0) (void)g_asids.free(s->asid);
        s->asid = 0;
        s->in_use = false;
        --g_used;
        return nullptr;
    }
    s->satp = tables_of(*s).satp(s->asid);
    s->cpus.store(0, std::memory_order_relaxed);
    s->refs.store(1, std::memory_order_release);
    return s;
}

Loaded load(UserSpace& s, const elf::Image& image) {
    elf::Plan plan{};
    const elf::ElfError e = elf::validate(image.begin, image.size(), elf::Limits{}, plan);
    if (e != elf::ElfError::Ok) return Loaded{LoadError::BadImage, e, mm::SpaceError::None, 0, 0};
    mm::SpaceError m;
    {
        SpinGuard g(s.lock);
        m = tables_of(s).load(plan, image.begin, image.size());
    }
    if (m != mm::SpaceError::None) {
        const LoadError l =
            m == mm::SpaceError::NoFrame ? LoadError::NoMemory : LoadError::BadImage;
        return Loaded{l, elf::ElfError::Ok, m, 0, 0};
    }
    const elf::Segment& last = plan.segments[plan.count - 1];
    return Loaded{LoadError::None, elf::ElfError::Ok, mm::SpaceError::None, plan.entry,
                  mm::page_up(last.vaddr + last.memsz)};
}

void retain(UserSpace& s) {
    if (s.refs.fetch_add(1, std::memory_order_relaxed) == 0)
        panic("uspace: retain of a free space");
}

void release(UserSpace* s) {
    if (!s) return;
    const std::uint32_t before = s->refs.fetch_sub(1, std::memory_order_acq_rel);
    if (before == 0) panic("uspace: release of a free space");
    if (before != 1) return;
    // The caller's precondition, checked: no cpu may have this space's root in satp (a
    // process's last thread switches its hart to the kernel's root before it releases).
    for (std::uint32_t c = 0; c < cpu_count(); ++c) {
        if (cpu_online(c) && g_loaded[c].load(std::memory_order_relaxed) == s)
            panic("uspace: release of a space whose root is in a cpu's satp");
    }
    // The last reference: nobody maps, unmaps or loads it any more, and no hart has its root
    // in satp (the caller's precondition). Its ASID may still tag entries in the TLBs of the
    // harts that ran it, but no hart uses them again: an entry matches only while satp holds
    // that ASID, and whoever gets the ASID next flushes it on each hart at its first load
    // there (switch_to). So no remote flush here: a process exit costs no SBI RFENCE (which,
    // thousands of times a second on every hart, livelocked OpenSBI 1.1 under QEMU MTTCG,
    // RFC-0026; OpenSBI issue #402 reports the same under FreeBSD).
    s->cpus.store(0, std::memory_order_relaxed);
    tables_of(*s).destroy(); // not the shared frames: their claims go back below
    for (UserSpace::Shared& m : s->shared) {
        if (m.len != 0) m.drop(m.owner);
        m = UserSpace::Shared{};
    }
    SpinGuard g(g_slab_lock);
    if (s->asid != 0) (void)g_asids.free(s->asid);
    s->asid = 0;
    s->satp = 0;
    s->in_use = false;
    --g_used;
}

// The slow half of activate(): satp differs from what this hart has loaded.
[[gnu::noinline]] static void switch_to(std::uint32_t cpu, UserSpace* next, std::uint64_t want) {
    g_stats.loads.fetch_add(1, std::memory_order_relaxed);
    std::atomic<const UserSpace*>& loaded = g_loaded[cpu & (kMaxCpus - 1)];
    if (!next) {
        // The kernel's leaves are global; user entries of other ASIDs do not match ASID 0.
        hal::mmu::load_satp(want);
        loaded.store(nullptr, std::memory_order_relaxed);
        return;
    }
    loaded.store(next, std::memory_order_relaxed);
    const std::uint64_t bit = std::uint64_t{1} << cpu;
    // Set before the load (seq_cst, paired with the fence in shootdown()): an unmap that
    // misses the bit cleared its entries before this hart's first walk.
    // kfault=mask-after-load: the bit is set only after the load and the jitter site below.
    const bool late = fault::is(fault::Fault::MaskAfterLoad);
    const std::uint64_t had = late ? next->cpus.load(std::memory_order_relaxed)
                                   : next->cpus.fetch_or(bit, std::memory_order_seq_cst);
    if (next->asid == 0) {
        hal::mmu::write_satp(want); // shared ASID: another space's entries may carry it
    } else {
        hal::mmu::load_satp(want);
        if (!(had & bit)) {
            // First load here since the ASID was last flushed everywhere: drop anything a
            // former owner of the ASID (or the boot-time ASID probe) left behind.
            hal::mmu::flush_asid(next->asid);
            g_stats.asid_flushes.fetch_add(1, std::memory_order_relaxed);
        }
    }
    // From here the hart may walk the space's tables at any moment (hardware may walk ahead
    // of any access): the `tlb mask before walk` selftest walks here (RFC-0026 "ASIDs").
    jitter::point(jitter::Site::SatpLoaded, next);
    if (late) (void)next->cpus.fetch_or(bit, std::memory_order_seq_cst);
}

void hart_started(std::uint32_t cpu) {
    g_loaded[cpu & (kMaxCpus - 1)].store(nullptr, std::memory_order_relaxed);
}

void activate(std::uint32_t cpu, UserSpace* next) {
    const std::uint64_t want = next ? next->satp : kspace::satp_value();
    if (hal::csr::read_satp() == want) return;
    activate_slow(cpu, next, want);
}

void activate_slow(std::uint32_t cpu, UserSpace* next, std::uint64_t want) {
    const std::uint64_t loaded = hal::csr::read_satp();
    // The seed's bug on purpose: the next user thread runs on the previous one's root.
    if (next && loaded != kspace::satp_value() && fault::is(fault::Fault::SatpSkip)) [[unlikely]]
        return;
    switch_to(cpu, next, want);
}

std::int64_t map(UserSpace& s, std::uint64_t va, std::uint64_t len, std::uint64_t prot) {
    if (va % mm::kPageSize != 0 || !prot_ok(prot)) return err(kestrel::Error::BadArgument);
    if (len == 0 || len % mm::kPageSize != 0) return err(kestrel::Error::BadLength);
    if (!in_user_half(va, len)) return err(kestrel::Error::BadPointer);
    // A request for more frames than are free now fails before it takes (and zeroes) them
    // all with interrupts off.
    if (len / mm::kPageSize > frames::free_count()) return err(kestrel::Error::NoMemory);
    SpinGuard g(s.lock);
    return map_error(tables_of(s).map_anon(va, len, leaf_flags(prot)));
}

std::int64_t unmap(UserSpace& s, std::uint64_t va, std::uint64_t len) {
    if (va % mm::kPageSize != 0) return err(kestrel::Error::BadArgument);
    if (len == 0 || len % mm::kPageSize != 0) return err(kestrel::Error::BadLength);
    if (!in_user_half(va, len)) return err(kestrel::Error::NotMapped);
    mm::SpaceError e;
    {
        SpinGuard g(s.lock);
        e = tables_of(s).unmap(
            va, len, [&s](std::uint64_t at, std::uint64_t n) { shootdown(s, at, n, true); });
    }
    if (e == mm::SpaceError::None) return 0;
    if (e == mm::SpaceError::BadAlign) return err(kestrel::Error::BadArgument);
    if (e == mm::SpaceError::BadLength) return err(kestrel::Error::BadLength);
    return err(kestrel::Error::NotMapped); // not map() pages, the kernel's range
}

std::int64_t map_shared(UserSpace& s, std::uint64_t va, const std::uint64_t* pas, std::uint64_t n,
                        std::uint64_t prot, void* owner, DropFn drop) {
    if (va % mm::kPageSize != 0 || !prot_ok(prot)) return err(kestrel::Error::BadArgument);
    if (n == 0 || n > kestrel::kUserLimit / mm::kPageSize) return err(kestrel::Error::BadLength);
    if (!in_user_half(va, n * mm::kPageSize)) return err(kestrel::Error::BadPointer);
    SpinGuard g(s.lock);
    UserSpace::Shared* rec = nullptr;
    for (UserSpace::Shared& m : s.shared)
        if (m.len == 0) {
            rec = &m;
            break;
        }
    if (!rec) return err(kestrel::Error::Limit);
    const std::int64_t r = map_error(tables_of(s).map_frames(va, pas, n, leaf_flags(prot)));
    if (r == 0) *rec = UserSpace::Shared{va, n * mm::kPageSize, owner, drop};
    return r;
}

std::int64_t unmap_shared(UserSpace& s, std::uint64_t va, std::uint64_t len) {
    UserSpace::Shared taken;
    {
        SpinGuard g(s.lock);
        UserSpace::Shared* rec = nullptr;
        for (UserSpace::Shared& m : s.shared)
            if (m.len != 0 && m.va == va && m.len == len) {
                rec = &m;
                break;
            }
        if (!rec) return err(kestrel::Error::NotMapped);
        const bool skip = fault::is(fault::Fault::SharedSkipFlush);
        const mm::SpaceError e =
            tables_of(s).unmap_frames(va, len, [&s, skip](std::uint64_t at, std::uint64_t n) {
                shootdown(s, at, n, true, skip);
            });
        if (e != mm::SpaceError::None) panic("uspace: a recorded shared mapping is not mapped");
        taken = *rec;
        *rec = UserSpace::Shared{};
    }
    taken.drop(taken.owner); // every cpu of this space flushed: its claim may go
    return 0;
}

mm::SpaceError write(UserSpace& s, std::uint64_t va, const void* src, std::uint64_t len) {
    SpinGuard g(s.lock);
    return tables_of(s).write(va, src, len);
}

bool user_accessible(UserSpace& s, std::uint64_t va, std::uint64_t len, bool write) {
    SpinGuard g(s.lock);
    return tables_of(s).user_accessible(va, len, write);
}

bool kernel_range(UserSpace& s, std::uint64_t va, std::uint64_t len) {
    SpinGuard g(s.lock);
    return tables_of(s).kernel_range(va, len);
}

mm::Translation translate(UserSpace& s, std::uint64_t va) {
    SpinGuard g(s.lock);
    return tables_of(s).translate(va);
}

std::uint64_t satp(const UserSpace& s) {
    return s.satp;
}
std::uint16_t asid(const UserSpace& s) {
    return s.asid;
}
std::uint64_t cpus_mask(const UserSpace& s) {
    return s.cpus.load(std::memory_order_relaxed);
}
std::uint64_t user_pages(UserSpace& s) {
    SpinGuard g(s.lock);
    return tables_of(s).user_pages();
}

std::uint64_t free_spaces() {
    SpinGuard g(g_slab_lock);
    return kMaxSpaces - g_used;
}

Stats stats() {
    return Stats{g_stats.loads.load(std::memory_order_relaxed),
                 g_stats.asid_flushes.load(std::memory_order_relaxed),
                 g_stats.shootdowns.load(std::memory_order_relaxed),
                 g_stats.remote_cpus.load(std::memory_order_relaxed),
                 g_stats.skipped.load(std::memory_order_relaxed)};
}

} // namespace k::uspace
