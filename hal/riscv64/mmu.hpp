// Installing satp with sfence.vma (RISC-V privileged spec v1.12 §4.1.11, §4.2.1). Plain
// reads of satp are hal::csr::read_satp().
#pragma once

#include <cstdint>

namespace hal::mmu {

// Installs a root and flushes this hart's whole TLB. The fence before orders the page-table
// stores before the walk that may follow (§4.2.1: sfence.vma orders them for this hart).
inline void write_satp(std::uint64_t v) {
    asm volatile("sfence.vma\n\tcsrw satp, %0\n\tsfence.vma" ::"r"(v) : "memory");
}

// Installs a root without any flush: for an ASID whose cached entries on this hart are known
// to be current (§4.1.11: a satp write orders nothing and flushes nothing).
inline void load_satp(std::uint64_t v) {
    asm volatile("csrw satp, %0" ::"r"(v) : "memory");
}

// Flushes this hart's whole TLB, global entries included.
inline void flush_all() {
    asm volatile("sfence.vma" ::: "memory");
}

// Flushes this hart's translations of one address (all ASIDs).
inline void flush_page(std::uintptr_t va) {
    asm volatile("sfence.vma %0, zero" ::"r"(va) : "memory");
}

// Flushes this hart's non-global translations of `asid` (rs1 = x0: every address). The ASID
// sits in a register: with x0 as rs2 the fence would cover every ASID instead (§4.2.1).
inline void flush_asid(std::uint64_t asid) {
    asm volatile("sfence.vma zero, %0" ::"r"(asid) : "memory");
}

// Flushes this hart's non-global translation of `va` in `asid`.
inline void flush_page_asid(std::uintptr_t va, std::uint64_t asid) {
    asm volatile("sfence.vma %0, %1" ::"r"(va), "r"(asid) : "memory");
}

} // namespace hal::mmu
