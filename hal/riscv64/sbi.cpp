// SBI ecall wrappers.
#include "sbi.hpp"

namespace hal::sbi {

Ret call(Ext ext, long fid, unsigned long a0, unsigned long a1, unsigned long a2, unsigned long a3,
         unsigned long a4) {
    register unsigned long r0 asm("a0") = a0;
    register unsigned long r1 asm("a1") = a1;
    register unsigned long r2 asm("a2") = a2;
    register unsigned long r3 asm("a3") = a3;
    register unsigned long r4 asm("a4") = a4;
    register long r6 asm("a6") = fid;
    register long r7 asm("a7") = static_cast<long>(ext);
    asm volatile("ecall"
                 : "+r"(r0), "+r"(r1)
                 : "r"(r2), "r"(r3), "r"(r4), "r"(r6), "r"(r7)
                 : "memory");
    return Ret{static_cast<long>(r0), static_cast<long>(r1)};
}

Ret remote_sfence_vma_asid(unsigned long hart_mask, unsigned long hart_mask_base,
                           std::uint64_t start, std::uint64_t size, std::uint16_t asid) {
    return call(Ext::Rfence, 2, hart_mask, hart_mask_base, start, size, asid);
}

bool probe(Ext ext) {
    Ret r = call(Ext::Base, 3, static_cast<unsigned long>(ext));
    return r.error == 0 && r.value != 0;
}

void legacy_putchar(char c) {
    call(Ext::LegacyPutchar, 0, static_cast<unsigned char>(c));
}

Ret set_timer(std::uint64_t deadline) {
    return call(Ext::Time, 0, deadline);
}

Ret send_ipi(unsigned long hart_mask, unsigned long hart_mask_base) {
    return call(Ext::Ipi, 0, hart_mask, hart_mask_base);
}

Ret hart_start(unsigned long hart_id, std::uintptr_t start, std::uintptr_t opaque) {
    return call(Ext::Hsm, 0, hart_id, start, opaque);
}

Ret hart_stop() {
    return call(Ext::Hsm, 1);
}

Ret hart_status(unsigned long hart_id) {
    return call(Ext::Hsm, 2, hart_id);
}

Ret system_reset(std::uint32_t type, std::uint32_t reason) {
    return call(Ext::Srst, 0, type, reason);
}

Ret remote_sfence_vma(unsigned long hart_mask, unsigned long hart_mask_base, unsigned long start,
                      unsigned long size) {
    return call(Ext::Rfence, 1, hart_mask, hart_mask_base, start, size);
}

Ret remote_sfence_vma_asid(unsigned long hart_mask, unsigned long hart_mask_base,
                           unsigned long start, unsigned long size, unsigned long asid) {
    return call(Ext::Rfence, 2, hart_mask, hart_mask_base, start, size, asid);
}

const char* error_name(long error) {
    switch (error) {
    case 0:
        return "success";
    case -1:
        return "failed";
    case -2:
        return "not supported";
    case -3:
        return "invalid param";
    case -4:
        return "denied";
    case -5:
        return "invalid address";
    case -6:
        return "already available";
    case -7:
        return "already started";
    case -8:
        return "already stopped";
    default:
        return "unknown error";
    }
}

} // namespace hal::sbi
