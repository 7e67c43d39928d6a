// Supervisor CSR access for RV64.
#pragma once

#include <cstdint>

namespace hal::csr {

inline constexpr std::uint64_t kSstatusSie = 1ul << 1;
inline constexpr std::uint64_t kSstatusSpie = 1ul << 5;
inline constexpr std::uint64_t kSstatusSpp = 1ul << 8;
inline constexpr std::uint64_t kSstatusFs = 3ul << 13;
inline constexpr std::uint64_t kSstatusSum = 1ul << 18;

inline constexpr std::uint64_t kIntSoft = 1ul << 1;
inline constexpr std::uint64_t kIntTimer = 1ul << 5;
inline constexpr std::uint64_t kIntExt = 1ul << 9;

// scounteren: U-mode may read cycle (CY), time (TM), instret (IR); M-mode's mcounteren must
// allow it too (OpenSBI delegates all three).
inline constexpr std::uint64_t kCounterenIr = 1ul << 2;

inline constexpr std::uint64_t kCauseInterrupt = 1ul << 63;
inline constexpr std::uint64_t kIrqSoft = 1;
inline constexpr std::uint64_t kIrqTimer = 5;
inline constexpr std::uint64_t kIrqExt = 9;

#define HAL_CSR_RW(name)                                                                           \
    inline std::uint64_t read_##name() {                                                           \
        std::uint64_t v;                                                                           \
        asm volatile("csrr %0, " #name : "=r"(v));                                                 \
        return v;                                                                                  \
    }                                                                                              \
    inline void write_##name(std::uint64_t v) {                                                    \
        asm volatile("csrw " #name ", %0" ::"r"(v));                                               \
    }                                                                                              \
    inline void set_##name(std::uint64_t v) {                                                      \
        asm volatile("csrs " #name ", %0" ::"r"(v));                                               \
    }                                                                                              \
    inline void clear_##name(std::uint64_t v) {                                                    \
        asm volatile("csrc " #name ", %0" ::"r"(v));                                               \
    }

HAL_CSR_RW(sstatus)
HAL_CSR_RW(sie)
HAL_CSR_RW(sip)
HAL_CSR_RW(stvec)
HAL_CSR_RW(sscratch)
HAL_CSR_RW(sepc)
HAL_CSR_RW(scause)
HAL_CSR_RW(stval)
HAL_CSR_RW(satp)
HAL_CSR_RW(scounteren)
#undef HAL_CSR_RW

// Lets U-mode on this hart read instret (rdinstret); true if the bit stuck (scounteren is WARL).
inline bool enable_user_instret() {
    set_scounteren(kCounterenIr);
    return (read_scounteren() & kCounterenIr) != 0;
}

// Sstc's stimecmp (0x14d), named by number so older assemblers accept it.
inline void write_stimecmp(std::uint64_t v) {
    asm volatile("csrw 0x14d, %0" ::"r"(v));
}

inline std::uint64_t read_time() {
    std::uint64_t v;
    asm volatile("rdtime %0" : "=r"(v));
    return v;
}

inline std::uint64_t read_instret() {
    std::uint64_t v;
    asm volatile("rdinstret %0" : "=r"(v));
    return v;
}

// Clear-and-return-old of sstatus bits in one instruction (no check-then-clear race).
inline std::uint64_t swap_clear_sstatus(std::uint64_t bits) {
    std::uint64_t old;
    asm volatile("csrrc %0, sstatus, %1" : "=r"(old) : "r"(bits) : "memory");
    return old;
}

inline std::uint64_t swap_clear_sip(std::uint64_t bits) {
    std::uint64_t old;
    asm volatile("csrrc %0, sip, %1" : "=r"(old) : "r"(bits) : "memory");
    return old;
}

} // namespace hal::csr
