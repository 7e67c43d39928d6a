// Timer programming, the per-hart Sstc probe, and tick conversion.
#include "base/time.hpp"

#include "base/percpu.hpp"
#include "dtb/dtb.hpp"
#include "probe.hpp"
#include "sbi.hpp"

namespace k::time {

// The DTB reader refuses a timebase by the same range the arithmetic is exact over.
static_assert(dtb::kMinTimebaseHz == kMinTimebaseHz && dtb::kMaxTimebaseHz == kMaxTimebaseHz &&
              dtb::kDefaultTimebaseHz == kDefaultTimebaseHz);

namespace {
std::uint64_t g_hz = kDefaultTimebaseHz; // written once at boot, before secondaries
std::uint64_t g_max_ahead = ticks_from_us(kMaxArmAheadUs, kDefaultTimebaseHz);

// This hart's block; null before the boot hart installed its own (a very
// early panic), when only SBI TIME is safe.
PerCpu* self() {
    return reinterpret_cast<PerCpu*>(hal::read_tp()); // tp == the block (percpu_install)
}
bool use_sstc() {
    const PerCpu* c = self();
    return c != nullptr && c->timer_sstc;
}
} // namespace

std::uint64_t init(std::uint64_t timebase_hz) {
    if (timebase_in_range(timebase_hz)) g_hz = timebase_hz;
    g_max_ahead = ticks_from_us(kMaxArmAheadUs, g_hz);
    return g_hz;
}

std::uint64_t hz() {
    return g_hz;
}

TimerSource init_this_hart(bool isa_lists_sstc) {
    TimerSource s = TimerSource::SbiNotListed;
    if (isa_lists_sstc)
        s = hal::probe_stimecmp() == hal::Probe::Works ? TimerSource::Sstc
                                                       : TimerSource::SbiProbeFault;
    self()->timer_sstc = s == TimerSource::Sstc;
    self()->timer_probed = true;
    self()->timer_source = static_cast<std::uint32_t>(s);
    return s;
}

TimerSource source_on(std::uint32_t cpu) {
    return static_cast<TimerSource>(cpu_block(cpu).timer_source);
}

bool this_hart_has_sstc() {
    return use_sstc();
}

const char* source_name(TimerSource s) {
    switch (s) {
    case TimerSource::Sstc:
        return "sstc";
    case TimerSource::SbiNotListed:
        return "SBI TIME";
    case TimerSource::SbiProbeFault:
        return "SBI TIME (riscv,isa lists sstc but stimecmp traps: firmware left menvcfg.STCE off)";
    }
    return "?";
}

std::uint64_t from_us(std::uint64_t us) {
    return ticks_from_us(us, g_hz);
}
std::uint64_t to_us(std::uint64_t ticks) {
    return us_from_ticks(ticks, g_hz);
}
std::uint64_t deadline_in_us(std::uint64_t us) {
    return add_saturating(now(), from_us(us));
}

void arm(std::uint64_t deadline) {
    deadline = clamp_deadline(now(), deadline, g_max_ahead);
    if (use_sstc()) {
        hal::csr::write_stimecmp(deadline);
    } else {
        (void)hal::sbi::set_timer(deadline); // SBI TIME cannot fail for a valid deadline
    }
}

void disarm() {
    if (use_sstc()) {
        hal::csr::write_stimecmp(kForever);
    } else {
        (void)hal::sbi::set_timer(kForever);
    }
}

} // namespace k::time
