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

// Installs a root whose ASID this hart holds no stale translations of (an ASID is flushed
// everywhere before it is reused): no flush (§4.1.11: the ASID tags the TLB entries).
inline void switch_satp(std::uint64_t v) {
    asm volatile("csrw satp, %0" ::"r"(v) : "memory");
}

// Flushes this hart's translations of one ASID (global mappings stay, §4.2.1).
inline void flush_asid(std::uint16_t asid) {
    asm volatile("sfence.vma zero, %0" ::"r"(static_cast<std::uint64_t>(asid)) : "memory");
}

// Flushes this hart's translations of one address (all ASIDs).
inline void flush_page(std::uintptr_t va) {
    asm volatile("sfence.vma %0, zero" ::"r"(va) : "memory");
}

} // namespace hal::mmu
