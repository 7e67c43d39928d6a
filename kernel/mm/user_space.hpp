// User address spaces in the kernel (RFC-0027): a fixed slab of AddressSpace objects with
// their ASID and satp, per-hart activation, and map/unmap with the TLB shootdown.
#pragma once

#include "kernel/mm/address_space.hpp"
#include "kernel/sync/spin_lock.hpp"

#include <atomic>
#include <cstdint>

namespace k::uspace {

inline constexpr std::uint32_t kMaxSpaces = 256;

struct UserSpace {
    std::atomic<std::uint32_t> refs{0}; // 0: the slot is free
    mm::AddressSpace as;                // guarded by lock after create()
    std::uint16_t asid = 0;
    std::uint64_t satp = 0;             // fixed while refs > 0
    std::atomic<std::uint64_t> cpus{0}; // cpus that loaded it and may cache its entries
    k::SpinLock lock{"uspace"};
};

// A new space sharing the kernel's root entries, with one reference; nullptr when no slot or
// frame is left.
UserSpace* create();
void retain(UserSpace& s);
// The last reference flushes its ASID on every cpu that loaded it, frees it and the space.
// The caller's hart must not run on it any more (activate(cpu, nullptr) first).
void release(UserSpace* s);

mm::SpaceError load(UserSpace& s, const elf::Plan& plan, const unsigned char* image,
                    std::size_t size);
mm::SpaceError write(UserSpace& s, std::uint64_t va, const void* src, std::uint64_t len);
// map()/unmap() as the syscalls define them: 0 or a negative kestrel::Error.
std::int64_t map(UserSpace& s, std::uint64_t va, std::uint64_t len, std::uint64_t prot);
std::int64_t unmap(UserSpace& s, std::uint64_t va, std::uint64_t len);
bool kernel_range(const UserSpace& s, std::uint64_t va, std::uint64_t len);
inline std::uint64_t satp_of(const UserSpace& s) {
    return s.satp;
}

// Installs next's root on `cpu` (the caller's, interrupts masked) unless it is there already;
// nullptr: the kernel's root. The switch path calls it for every task it switches to.
void activate(std::uint32_t cpu, UserSpace* next);

std::uint32_t free_spaces();

} // namespace k::uspace
