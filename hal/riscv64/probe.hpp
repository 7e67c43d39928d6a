// Trap-protected probes: an instruction that may trap, with a fixup that turns the trap into
// a result. The probe pcs and their fixups live in the .kfixup table (see probe.S).
#pragma once

#include "trap_frame.hpp"

#include <cstdint>

extern "C" {
struct HalFixup {
    std::uintptr_t pc;    // the instruction that may trap
    std::uintptr_t fixup; // where execution goes instead when it does
};
extern const HalFixup __kfixup_start[], __kfixup_end[];
unsigned long hal_probe_stimecmp();
unsigned long hal_probe_illegal();
}

namespace hal {

enum class [[nodiscard]] Probe : std::uint32_t{Works, Traps};

// Writes stimecmp (Sstc) with "never": Traps when the firmware left menvcfg.STCE off, or the
// hart has no Sstc. Leaves no timer armed when it works.
inline Probe probe_stimecmp() {
    return hal_probe_stimecmp() ? Probe::Works : Probe::Traps;
}
// An all-zero instruction word, illegal everywhere: always Traps (proves the fixup path).
inline Probe probe_illegal() {
    return hal_probe_illegal() ? Probe::Works : Probe::Traps;
}

// Trap path: when tf.sepc is a pc of the table [begin, end), resumes at its fixup and returns
// true. Read-only tables, so any hart may use them at any time.
inline bool apply_fixup_from(const HalFixup* begin, const HalFixup* end, TrapFrame& tf) {
    for (const HalFixup* f = begin; f != end; ++f) {
        if (f->pc == tf.sepc) {
            tf.sepc = f->fixup;
            return true;
        }
    }
    return false;
}

// An illegal-instruction trap at a probe pc resumes at its fixup.
inline bool apply_fixup(TrapFrame& tf) {
    return apply_fixup_from(__kfixup_start, __kfixup_end, tf);
}

} // namespace hal
