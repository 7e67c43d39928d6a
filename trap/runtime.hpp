// The trap runtime: the exception handlers the dispatcher consults. Any hart
// reads it; only the boot hart may change it (RFC-0022), until a per-hart
// trap authority exists.
#pragma once

#include "hal_cpu.hpp"
#include "trap/boot_hart_only.hpp"
#include "trap_frame.hpp"

#include <atomic>
#include <cstdint>

namespace k::trap {

inline constexpr std::uint32_t kExceptionCauses = 16;

// Returns true when it handled the exception (sepc adjusted as needed).
using ExceptionHandler = bool (*)(hal::TrapFrame& tf);

struct Runtime {
    std::atomic<ExceptionHandler> handlers[kExceptionCauses] = {};
    mutable std::atomic<std::uint64_t> handled{0};

    void set(std::uint32_t cause, ExceptionHandler h) {
        if (cause < kExceptionCauses) handlers[cause].store(h, std::memory_order_release);
    }
    ExceptionHandler get(std::uint64_t cause) const {
        return cause < kExceptionCauses ? handlers[cause].load(std::memory_order_acquire) : nullptr;
    }
};

BootHartOnly<Runtime>& runtime_gate();

// The mutable handle, boot hart (cpu 0) only; the caller's cpu is resolved
// by the validated cpu-id path, never taken on trust.
// A caller whose identity came only from the BOOT fallback (no valid tp,
// sp in no known stack) is not trusted to be the boot hart.
std::uint32_t trusted_cpu();
std::uint32_t trusted_cpu_for(std::uintptr_t tp, std::uintptr_t sp);

template <typename Fn>
Access with_runtime_mut(Fn&& fn) {
    return runtime_gate().with_mut(trusted_cpu(), static_cast<Fn&&>(fn));
}

const Runtime& runtime();

// Boot: the kernel's own exception handlers (breakpoint: count and step over).
Access install_kernel_handlers();
std::uint64_t breakpoints();
std::uint64_t runtime_denied();

} // namespace k::trap
