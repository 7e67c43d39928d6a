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

// Flushes this hart's translations of one address (all ASIDs).
inline void flush_page(std::uintptr_t va) {
    asm volatile("sfence.vma %0, zero" ::"r"(va) : "memory");
}

} // namespace hal::mmu
