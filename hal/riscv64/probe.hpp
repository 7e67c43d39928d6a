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

// Trap path: an illegal-instruction trap at a probe pc resumes at its fixup. Read-only
// table, so any hart may use it at any time. Returns true when it redirected sepc.
inline bool apply_fixup(TrapFrame& tf) {
    for (const HalFixup* f = __kfixup_start; f != __kfixup_end; ++f) {
        if (f->pc == tf.sepc) {
            tf.sepc = f->fixup;
            return true;
        }
    }
    return false;
}

} // namespace hal
