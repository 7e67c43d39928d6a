// User address spaces in the kernel (RFC-0026 "User address spaces"): a fixed slab of
// counted spaces, each an mm::AddressSpace over the frame pool with its ASID, the satp switch
// of the context switch, and map/unmap with the TLB shootdown before frames are reused.
#pragma once

#include "csr.hpp"
#include "elf/elf.hpp"
#include "elf/image.hpp"
#include "mm/address_space.hpp"
#include "mm/kernel_space.hpp"

#include <cstdint>

namespace k::uspace {

inline constexpr std::uint32_t kMaxSpaces = 256;

class UserSpace; // opaque: reached only through the functions below

// A new, empty space with one reference (the caller's), its own root borrowing the kernel's
// root entries, and a private ASID (or the shared ASID 0 when none is left). Null when no slot
// or no frame for the root is left (the syscall's NoMemory); then nothing is leaked.
UserSpace* create();

// clang-format off
enum class [[nodiscard]] LoadError : std::uint8_t {
    None,
    BadImage, // the validator refused it, or a segment cannot be placed (kernel range, overlap)
    NoMemory, // no frame left; nothing of the image stays mapped
};
// clang-format on
struct [[nodiscard]] Loaded {
    LoadError error;
    elf::ElfError elf;       // why BadImage, when the validator refused it (else Ok)
    mm::SpaceError space;    // why BadImage/NoMemory, when mapping failed (else None)
    std::uint64_t entry;     // the first user pc; 0 unless error == None
    std::uint64_t image_end; // first byte above the highest segment (page-aligned)
};
// Validates `image` (elf::validate, default limits) and maps it into `s`, which no hart may
// have loaded yet (a fresh space from create()).
Loaded load(UserSpace& s, const elf::Image& image);

// References: every thread of a task holds one, and spawn while it sets the task up.
void retain(UserSpace& s);
// Drops one; the last one frees the ASID, gives every frame back (and every shared mapping's
// claim, through its drop) and frees the slot. It
// flushes nothing: entries tagged with the ASID match only while a satp holds it, and whoever
// gets the ASID next flushes it on each hart at its first load there (activate_slow). Only
// after every task of the space was switched out for the last time: no hart may still have its
// satp loaded (checked: a panic names the breach).
void release(UserSpace* s);
// A hart (re)started with the kernel's root in satp (kspace::activate_this_hart): it has no
// user space loaded, whatever it had when it stopped.
void hart_started(std::uint32_t cpu);

// The scheduler, on `cpu` (the calling hart's index) with interrupts off, just before it
// switches to a task: its space (nullptr for a kernel task: the kernel's satp). Loads satp
// only when it differs from what the hart has (fast path: csrr, compare, branch); the first
// load of a space on a cpu marks the cpu in the space's may-cache mask and flushes the ASID
// there; with the shared ASID 0 every load flushes the whole TLB.
void activate(std::uint32_t cpu, UserSpace* next);
// The slow half of activate(): satp holds something else than `want`.
void activate_slow(std::uint32_t cpu, UserSpace* next, std::uint64_t want);
// activate() for the switch path, inlined: the task's own copy of its space's satp
// (Task::satp) spares the call and the load through the space. One CSR read and a compare
// when the root is right already (between two kernel tasks, or two threads of one space).
inline void activate_switch(std::uint32_t cpu, UserSpace* next, std::uint64_t next_satp) {
    const std::uint64_t want = next ? next_satp : kspace::g_satp;
    if (hal::csr::read_satp() == want) [[likely]]
        return;
    activate_slow(cpu, next, want);
}

// The syscalls (user/include/kestrel/syscall.hpp): 0 or a negative kestrel::Error.
// map: addr page-aligned, len > 0 whole pages, prot ProtRead[|ProtWrite], all inside the user
// half and outside the kernel's root entries: BadArgument, BadLength, BadPointer, Exists,
// NoMemory (nothing mapped on any error).
std::int64_t map(UserSpace& s, std::uint64_t va, std::uint64_t len, std::uint64_t prot);
// unmap: every page mapped by map(): BadArgument, BadLength, NotMapped (nothing unmapped).
// Every cpu in the space's mask is flushed before a frame goes back to the pool.
std::int64_t unmap(UserSpace& s, std::uint64_t va, std::uint64_t len);

// Frames a space maps but does not own (issue 19: a memory object's, mapped by many spaces).
// Each mapping holds a claim of its owner's, given back by drop(owner) once no hart of this
// space can reach the frames through it: after unmap_shared's flush, or at the space's
// release (whose ASID no hart uses again before flushing it).
inline constexpr std::uint32_t kMaxSharedMaps = kestrel::kMaxMemoryMaps; // per space
using DropFn = void (*)(void* owner);
// Maps pas[0..n) at va with prot (ProtRead[|ProtWrite]) and records (owner, drop): the claim
// is the space's from here. 0, or BadArgument (va unaligned, prot), BadLength (n = 0),
// BadPointer (outside the user half, the kernel's range), Exists (a page is mapped), Limit
// (kMaxSharedMaps mappings), NoMemory (a table page): then nothing is mapped and the claim is
// still the caller's.
std::int64_t map_shared(UserSpace& s, std::uint64_t va, const std::uint64_t* pas, std::uint64_t n,
                        std::uint64_t prot, void* owner, DropFn drop);
// Unmaps the one mapping map_shared made at exactly [va, va + len): every cpu in the space's
// mask is flushed, then drop(owner) runs. 0, or NotMapped (no such mapping; nothing changed).
std::int64_t unmap_shared(UserSpace& s, std::uint64_t va, std::uint64_t len);

// The kernel writing into a space (a new task's stack: argc/argv), under the space's lock.
mm::SpaceError write(UserSpace& s, std::uint64_t va, const void* src, std::uint64_t len);
// Every page of [va, va + len) a user page with R (and W): the checked copies' range test.
bool user_accessible(UserSpace& s, std::uint64_t va, std::uint64_t len, bool write);
// A page of [va, va + len) lies in a root entry borrowed from the kernel (its identity map of
// RAM, and today its MMIO in root entry 0): no user mapping can go there.
bool kernel_range(UserSpace& s, std::uint64_t va, std::uint64_t len);
// The translation of va (under the lock); for tests and fault reports.
mm::Translation translate(UserSpace& s, std::uint64_t va);

std::uint64_t satp(const UserSpace& s);
std::uint16_t asid(const UserSpace& s);      // 0: the shared ASID (flush on every load)
std::uint64_t cpus_mask(const UserSpace& s); // bit c: cpu c may cache its translations
std::uint64_t user_pages(UserSpace& s);      // leaves mapped
std::uint64_t free_spaces();                 // slots free, kMaxSpaces when none is in use

// Counts since boot (relaxed; for logs and tests).
struct Stats {
    std::uint64_t loads;        // satp loads by activate() (the slow path)
    std::uint64_t asid_flushes; // first loads of a space on a cpu (sfence.vma by ASID)
    std::uint64_t shootdowns;   // unmap chunks and releases that had other cpus to flush
    std::uint64_t remote_cpus;  // cpus those flushed by SBI RFENCE
    std::uint64_t skipped;      // shootdowns skipped by kfault=no-shootdown
};
Stats stats();

} // namespace k::uspace
