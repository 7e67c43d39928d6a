// SBI calls used by the kernel (OpenSBI 1.1 implements SBI 1.0).
#pragma once

#include <cstdint>

namespace hal::sbi {

struct Ret {
    long error; // 0 = success, negative SBI error code
    long value;
};

enum class Ext : long {
    LegacyPutchar = 0x01,
    Base = 0x10,
    Time = 0x54494d45,
    Ipi = 0x735049,
    Rfence = 0x52464e43,
    Hsm = 0x48534d,
    Srst = 0x53525354,
};

enum class HartState : long { Started = 0, Stopped = 1, StartPending = 2, StopPending = 3 };

Ret call(Ext ext, long fid, unsigned long a0 = 0, unsigned long a1 = 0, unsigned long a2 = 0,
         unsigned long a3 = 0, unsigned long a4 = 0);

bool probe(Ext ext);
void legacy_putchar(char c);
Ret set_timer(std::uint64_t deadline);
// hart_mask is relative to hart_mask_base, as the SBI IPI extension defines.
Ret send_ipi(unsigned long hart_mask, unsigned long hart_mask_base);
Ret hart_start(unsigned long hart_id, std::uintptr_t start, std::uintptr_t opaque);
Ret hart_stop();
Ret hart_status(unsigned long hart_id);
// SBI v1.0 §8.5 (RFENCE, FID 2): the harts of the mask execute sfence.vma for [start,
// start + size) of `asid` before the call returns; size 0 (or -1) means every address.
Ret remote_sfence_vma_asid(unsigned long hart_mask, unsigned long hart_mask_base,
                           std::uint64_t start, std::uint64_t size, std::uint16_t asid);
Ret system_reset(std::uint32_t type, std::uint32_t reason);
// RFENCE (SBI spec v1.0 §8): the harts of hart_mask (relative to hart_mask_base, as for IPIs)
// execute sfence.vma for [start, start + size) (size ~0ul: everything), in every ASID (fid 1)
// or in `asid` only (fid 2, SFENCE.VMA with that ASID: global entries stay). The call returns
// after the remote harts did it (OpenSBI waits for each one's acknowledgement).
Ret remote_sfence_vma(unsigned long hart_mask, unsigned long hart_mask_base, unsigned long start,
                      unsigned long size);
Ret remote_sfence_vma_asid(unsigned long hart_mask, unsigned long hart_mask_base,
                           unsigned long start, unsigned long size, unsigned long asid);

inline constexpr std::uint32_t kResetShutdown = 0;
inline constexpr std::uint32_t kReasonNone = 0;
inline constexpr std::uint32_t kReasonFailure = 1;

const char* error_name(long error);

} // namespace hal::sbi
