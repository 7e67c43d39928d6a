// The TLB shootdown, causally (RFC-0026 "The shootdown"): a reader hart warms its TLB with a
// user page, another hart unmaps it and maps a fresh frame there; the reader must then see the
// new frame. With kfault=no-shootdown (no SBI RFENCE) its stale entry keeps reading the old one.
// The second test warms the TLB inside the reader's activate(), right after its satp load (as
// hardware may walk there): with kfault=mask-after-load (the cpu's bit set only after that) the
// unmap misses the reader and its stale entry reads the old frame. The third does the first
// with a shared frame (issue 19): mapped in two spaces, unmapped from the reader's by
// unmap_shared.
#include "base/console.hpp"
#include "base/jitter.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "csr.hpp"
#include "hal_cpu.hpp"
#include "mm/frames.hpp"
#include "mm/kernel_space.hpp"
#include "mm/user_space.hpp"
#include "selftest/hook_scope.hpp"
#include "selftest/selftest.hpp"
#include "selftest/tlb_probe.hpp"
#include "selftest/util.hpp"

#include <atomic>

namespace k::selftest {

namespace {

using namespace tlb_probe;
constexpr std::uint64_t kPhaseUs = 5'000'000; // any handshake step, host delays included

enum Phase : std::uint32_t { Start, Warm, Swapped, Done };
// Where the reader warms its TLB: after activate() returned, or inside it (the jitter site
// Site::SatpLoaded, where the hart may first walk the space's tables).
enum class WarmAt { AfterLoad, InLoad };

struct Shared {
    WarmAt at = WarmAt::AfterLoad;
    // X is a shared frame (uspace::map_shared, issue 19's memory objects), mapped in the
    // reader's space and in a second one, and the writer's unmap is unmap_shared: the frame
    // stays (the second space still maps it) and still holds A.
    bool object = false;
    uspace::UserSpace* space = nullptr;
    std::atomic<std::uint32_t> phase{Start};
    // Reader results (written before phase Done).
    bool warmed_in_load = false;
    std::uint32_t reader_cpu = 0, warm_hits = 0;
    std::uint64_t reads = 0, stale = 0, other = 0, see_us = 0, satp_after = 0;
    bool saw_b = false;
    // Writer results (written before phase Swapped).
    std::int64_t unmap_rc = 1, map_rc = 1;
    std::uint64_t pa_old = 0, pa_new = 0;
    std::uint64_t held[kHoldMax] = {};
    std::uint32_t nheld = 0;
};

// Waits (interrupts off: no yield, no wfi) until phase reaches `p`; false after kPhaseUs.
bool spin_for(const Shared& sh, Phase p) {
    const std::uint64_t end = time::now() + time::from_us(kPhaseUs);
    while (sh.phase.load(std::memory_order_acquire) < p)
        if (time::now() >= end) return false;
    return true;
}

// Reads X (A) kWarmReads times, SUM set, and tells the writer; then waits for its swap.
bool warm_then_wait(Shared& sh) {
    hal::csr::set_sstatus(hal::csr::kSstatusSum); // S-mode may read U pages only with SUM
    auto* x = reinterpret_cast<volatile std::uint64_t*>(kX);
    for (std::uint32_t i = 0; i < kWarmReads; ++i)
        sh.warm_hits += *x == kA ? 1 : 0;
    sh.phase.store(Warm, std::memory_order_release);
    // X is not read while the writer swaps it (its entry is briefly invalid: a page fault).
    return spin_for(sh, Swapped);
}

// The reader of WarmAt::InLoad, warming inside activate() at Site::SatpLoaded, once.
std::atomic<Shared*> g_in_load{nullptr};
bool g_swapped_in_load = false; // written by the hook on the reader's hart

void in_load_hook(jitter::Site s, const void* subject) {
    HookScope::chained(s, subject);
    if (s != jitter::Site::SatpLoaded) return;
    Shared* sh = g_in_load.load(std::memory_order_acquire);
    if (!sh || subject != sh->space) return;
    if (!g_in_load.compare_exchange_strong(sh, nullptr, std::memory_order_acq_rel)) return;
    sh->warmed_in_load = true;
    // Interrupts are off in activate(). SUM stays set for the reader: QEMU flushes a hart's
    // TLB whenever sstatus.SUM changes, which would hide a stale entry.
    g_swapped_in_load = warm_then_wait(*sh);
}

// Ours in jitter::g_hook for the life of the test, the previous one chained; it acts only for
// WarmAt::InLoad (g_in_load set).
class InLoadHook final {
  public:
    explicit InLoadHook(Shared& sh) {
        if (sh.at == WarmAt::InLoad) g_in_load.store(&sh, std::memory_order_release);
    }
    ~InLoadHook() { g_in_load.store(nullptr, std::memory_order_release); }
    InLoadHook(const InLoadHook&) = delete;
    InLoadHook& operator=(const InLoadHook&) = delete;

  private:
    HookScope scope_{&in_load_hook};
};

// Pinned on its cpu with interrupts off (no tick, no migration, no satp switch by the
// scheduler): only an sfence.vma, local or by RFENCE, can drop its TLB entry for X.
void reader(Shared& sh) {
    hal::Cpu::irq_push();
    sh.reader_cpu = current_cpu();
    g_swapped_in_load = false;
    uspace::activate(sh.reader_cpu, sh.space);
    // SUM is set from the warm-up to the end (set again, it changes nothing).
    const bool swapped = sh.at == WarmAt::InLoad ? g_swapped_in_load : warm_then_wait(sh);
    auto* x = reinterpret_cast<volatile std::uint64_t*>(kX);
    if (swapped) {
        const std::uint64_t t0 = time::now(), end = t0 + time::from_us(kSeeUs);
        for (;;) {
            const std::uint64_t v = *x;
            ++sh.reads;
            if (v == kB) {
                sh.saw_b = true;
                sh.see_us = time::to_us(time::now() - t0);
                break;
            }
            (v == kA ? sh.stale : sh.other) += 1;
            if (time::now() >= end) break;
        }
    }
    hal::csr::clear_sstatus(hal::csr::kSstatusSum);
    uspace::activate(sh.reader_cpu, nullptr);
    sh.satp_after = hal::csr::read_satp();
    hal::Cpu::irq_pop();
    sh.phase.store(Done, std::memory_order_release);
}

// On another cpu: unmap X (the shootdown), keep the old frame out of the pool with A in it (a
// stale entry then reads A, not a zeroed or reused frame), map a fresh frame at X holding B.
void writer(Shared& sh) {
    if (!await(kPhaseUs, [&] { return sh.phase.load(std::memory_order_acquire) >= Warm; })) return;
    sh.pa_old = uspace::translate(*sh.space, kX).pa;
    sh.unmap_rc = sh.object ? uspace::unmap_shared(*sh.space, kX, mm::kPageSize)
                            : uspace::unmap(*sh.space, kX, mm::kPageSize);
    // The pool hands out the lowest free frame from the word it last freed into: the old frame
    // comes back within a word's worth of allocations. (A shared frame is not the pool's.)
    bool have_old = sh.object;
    while (sh.nheld < kHoldMax && !have_old) {
        const mm::FrameResult f = frames::alloc();
        if (f.error != mm::FrameError::None) break;
        sh.held[sh.nheld++] = f.pa;
        have_old = f.pa == sh.pa_old;
    }
    if (have_old) *reinterpret_cast<volatile std::uint64_t*>(sh.pa_old) = kA;
    sh.map_rc = uspace::map(*sh.space, kX, mm::kPageSize, kestrel::ProtRead | kestrel::ProtWrite);
    if (sh.map_rc == 0) (void)uspace::write(*sh.space, kX, &kB, sizeof kB);
    sh.pa_new = uspace::translate(*sh.space, kX).pa;
    sh.phase.store(Swapped, std::memory_order_release);
}

// The shared frame's claims: one per mapping, given back by unmap_shared and by the second
// space's release.
std::atomic<std::uint32_t> g_claims_back{0};
void claim_back(void*) {
    g_claims_back.fetch_add(1, std::memory_order_relaxed);
}

// Maps `frame` (holding A) at X in the reader's space and in `second`, as a memory object of
// one page would be; 0 when both maps worked.
std::int64_t map_object(Shared& sh, uspace::UserSpace& second, std::uint64_t frame) {
    *reinterpret_cast<volatile std::uint64_t*>(frame) = kA;
    std::int64_t r =
        uspace::map_shared(second, kX, &frame, 1, kestrel::ProtRead, nullptr, &claim_back);
    if (r == 0)
        r = uspace::map_shared(*sh.space, kX, &frame, 1, kestrel::ProtRead | kestrel::ProtWrite,
                               nullptr, &claim_back);
    return r;
}

Result shootdown_test(WarmAt at, bool object = false) {
    const OnlineCpus on = online_cpus();
    KCHECK(on.count >= 2);
    const std::uint64_t frames0 = frames::free_count();
    const std::uint64_t spaces0 = uspace::free_spaces();
    const uspace::Stats st0 = uspace::stats();
    Shared sh;
    sh.at = at;
    sh.object = object;
    sh.space = uspace::create();
    KCHECK(sh.space != nullptr);
    uspace::UserSpace* second = object ? uspace::create() : nullptr;
    const mm::FrameResult obj = object ? frames::alloc() : mm::FrameResult{};
    g_claims_back.store(0, std::memory_order_relaxed);
    Result r = Result::pass();
    if (object && (!second || obj.error != mm::FrameError::None)) {
        r = Result::fail("no second space or no frame for the object");
    } else if (object ? map_object(sh, *second, obj.pa) != 0
                      : (uspace::map(*sh.space, kX, mm::kPageSize,
                                     kestrel::ProtRead | kestrel::ProtWrite) != 0 ||
                         uspace::write(*sh.space, kX, &kA, sizeof kA) != mm::SpaceError::None)) {
        r = Result::fail("could not map the test page");
    } else {
        const std::uint32_t rcpu = on.last_secondary();
        const std::uint32_t wcpu = on.after(rcpu);
        auto rfn = [&] { reader(sh); };
        auto release = [&] { /* the reader ends by itself within 2 * kPhaseUs */ };
        Thunk<decltype(rfn)> rt{rfn};
        {
            InLoadHook hook(sh); // InLoad: the reader's only load of the space calls it once
            TaskScope scope(release);
            if (scope.spawn(rt, sched::SpawnOptions{sched::Qos::Normal, rcpu, true, "tlb reader"})
                    .error != sched::SpawnError::None) {
                r = Result::fail("could not spawn the reader");
            } else if (!run_on(wcpu, [&] { writer(sh); })) {
                r = Result::fail("could not run the writer");
            }
            (void)await(4 * kPhaseUs,
                        [&] { return sh.phase.load(std::memory_order_acquire) == Done; });
        }
        if (r.ok) {
            const bool in_mask = (uspace::cpus_mask(*sh.space) >> sh.reader_cpu) & 1;
            if (sh.phase.load() != Done)
                r = Result::fail("the reader did not finish");
            else if (sh.reader_cpu != rcpu || !in_mask)
                r = Result::fail("the reader ran elsewhere or is not in the space's cpu mask");
            else if ((at == WarmAt::InLoad) != sh.warmed_in_load)
                r = Result::fail("the reader did not warm where the test asked");
            else if (sh.warm_hits != kWarmReads)
                r = Result::fail("the reader did not read A");
            else if (sh.unmap_rc != 0 || sh.map_rc != 0)
                r = Result::fail("unmap or map failed");
            else if (sh.pa_new == sh.pa_old)
                r = Result::fail("X got its old frame back");
            else if (sh.satp_after != kspace::satp_value())
                r = Result::fail("the reader hart kept the user satp");
            else if (sh.stale != 0 || !sh.saw_b)
                r = Result::fail("stale translation: the reader kept reading the unmapped frame");
        }
    }
    const std::uint16_t asid = uspace::asid(*sh.space);
    uspace::release(sh.space); // the ASID is flushed where it is next loaded, not here
    if (second) {
        if (r.ok && *reinterpret_cast<volatile std::uint64_t*>(obj.pa) != kA)
            r = Result::fail("the object's frame changed: the shared frame was reused");
        uspace::release(second); // gives its claim back
        if (r.ok && g_claims_back.load() != 2)
            r = Result::fail("a shared mapping's claim did not come back (or came twice)");
    }
    if (obj.error == mm::FrameError::None && object) (void)frames::free(obj.pa);
    for (std::uint32_t i = 0; i < sh.nheld; ++i)
        (void)frames::free(sh.held[i]);
    const uspace::Stats st1 = uspace::stats();
    println("KLOG: tlb: asid ", asid, at == WarmAt::InLoad ? ", warmed in load" : "",
            ", reader cpu", sh.reader_cpu, sh.saw_b ? " saw B after " : " never saw B in ",
            sh.reads, " reads, ", sh.see_us, " us, stale=", sh.stale, " other=", sh.other,
            " shootdowns=", st1.shootdowns - st0.shootdowns,
            " remote cpus=", st1.remote_cpus - st0.remote_cpus,
            " skipped=", st1.skipped - st0.skipped, " frames start=", frames0,
            " end=", frames::free_count());
    if (!r.ok) return r;
    KCHECK(frames::free_count() == frames0);
    KCHECK(uspace::free_spaces() == spaces0);
    return Result::pass();
}

} // namespace

KSELFTEST(TLB0001, "tlb shootdown") {
    return shootdown_test(WarmAt::AfterLoad);
}

// RFC-0026 "ASIDs": the cpu's bit is in the mask before the hart loads satp, so an unmap that
// runs while the hart first walks the space (here: inside activate(), just after the load)
// flushes it too.
KSELFTEST(TLB0002, "tlb mask before walk") {
    return shootdown_test(WarmAt::InLoad);
}

// Issue 19: a frame mapped in two spaces, as a memory object's is (uspace::map_shared). The
// reader's space unmaps it (unmap_shared) while the second space keeps it; the reader must
// then see the fresh frame mapped at X. kfault=shared-skip-flush (unmap_shared leaves the
// reader's hart out of its RFENCE): its stale entry keeps reading the object's frame.
KSELFTEST(TLB0003, "tlb shootdown of a shared frame") {
    return shootdown_test(WarmAt::AfterLoad, true);
}

} // namespace k::selftest
