// Parsing `kfault=`: which mechanism this boot breaks on purpose.
#include "base/fault.hpp"

#include "base/console.hpp"
#include "base/ipi.hpp"
#include "dtb/dtb.hpp"

namespace k::fault {

namespace {

struct Entry {
    Fault fault;
    const char* name;
};
constexpr Entry kFaults[] = {
    {Fault::NoPreempt, "no-preempt"},
    {Fault::IpiDrop, "ipi-drop"},
    {Fault::StackOverflow, "stack-overflow"},
    {Fault::BadTrap, "bad-trap"},
    {Fault::HartStartFail, "hart-start-fail"},
    {Fault::Hang, "hang"},
    {Fault::RequeueEarly, "requeue-before-save"},
    {Fault::WakeIgnoresOnCpu, "wake-ignores-on-cpu"},
    {Fault::CtxLoseReg, "ctx-lose-reg"},
    {Fault::EarlyRelease, "early-release"},
    {Fault::LostWakeup, "lost-wakeup"},
    {Fault::LostWakeSignal, "lost-wake-signal"},
    {Fault::EarlyOnline, "early-online"},
    {Fault::InboxesClosed, "inboxes-closed"},
    {Fault::LateArrival, "late-arrival"},
    {Fault::LateJoin, "late-join"},
    {Fault::TextWrite, "text-write"},
    {Fault::StackGuardPage, "stack-guard-page"},
    {Fault::SatpSkip, "satp-skip"},
    {Fault::NoShootdown, "no-shootdown"},
    {Fault::MaskAfterLoad, "mask-after-load"},
    {Fault::RfenceError, "rfence-error"},
    {Fault::SpaceDoubleRelease, "space-double-release"},
    {Fault::SpaceRetainFree, "space-retain-free"},
    {Fault::UaccessKernel, "uaccess-kernel"},
    {Fault::NoHandoff, "no-handoff"},
    {Fault::DestroyNoWake, "destroy-no-wake"},
    {Fault::ReplyAnyCall, "reply-any-call"},
    {Fault::FastpathDropBadge, "fastpath-drop-badge"},
    {Fault::SharedSkipFlush, "shared-skip-flush"},
    {Fault::FpNoSave, "fp-no-save"},
    {Fault::FpNoZero, "fp-no-zero"},
    {Fault::TimeStrand, "time-strand"},
    {Fault::TimeStaleBit, "time-stale-bit"},
    {Fault::TimeLate, "time-late"},
    {Fault::TimeKillJoin, "time-kill-join"},
    {Fault::TimeTimeoutWins, "time-timeout-wins"},
    {Fault::TimeTicking, "time-ticking"},
    {Fault::IrqLostUnbound, "irq-lost-unbound"},
    {Fault::IrqMaskAll, "irq-mask-all"},
    {Fault::IrqBootStuck, "irq-boot-stuck"},
    {Fault::ShellNoCap, "shell-nocap"},
    {Fault::ShellSilentPark, "shell-silent-park"},
    {Fault::ConsoleSplit, "console-split"},
};

} // namespace

void init(const char* bootargs) {
    const char* value;
    std::size_t len;
    if (!bootargs || !dtb::bootarg_value(bootargs, "kfault", value, len)) return;
    for (const Entry& e : kFaults)
        if (dtb::bootarg_value_is(value, len, e.name)) g_active = e.fault;
    if (g_active == Fault::None) {
        println("KINIT: kfault: unknown fault ignored");
        return;
    }
    println("KINIT: kfault=", name(g_active), ": this boot is a counterfactual and must fail");
    if (g_active == Fault::IpiDrop) ipi::force_send_failure(true);
}

const char* name(Fault f) {
    for (const Entry& e : kFaults)
        if (e.fault == f) return e.name;
    return "none";
}

} // namespace k::fault
