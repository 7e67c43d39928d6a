// The system-call ABI shared by the kernel and user programs: numbers, error codes, limits.
// Freestanding: only <stdint.h> (GCC's own under -ffreestanding), so user code needs no libc.
#pragma once

#include <stdint.h>

// Calling convention (RISC-V, `ecall` from U-mode; the kernel returns to sepc + 4):
//   a7      the call number (Sys);
//   a0..a5  arguments, in the order each call lists them;
//   a0      the result: >= 0 on success (its meaning per call), a negative Error otherwise.
// Every other register is preserved across the call, as the RISC-V psABI treats a callee
// (so the wrappers only clobber a0 and "memory"). Numbers and codes are stable once landed;
// new calls take the next number, new errors the next negative value.
namespace kestrel {

enum class Sys : uint64_t {
    // exit(code): ends the calling thread; the last thread of a task ends the task, and its
    // waiter gets WaitKind::Exited with `code` (any int32; the low 32 bits of a0). No return.
    Exit = 0,
    // yield(): gives up the cpu; the caller stays ready. Returns 0.
    Yield = 1,
    // console_write(buf, len): writes len bytes (0..kMaxConsoleWrite) from buf to the
    // console as one unbroken line piece. Returns len. BadPointer, BadLength.
    ConsoleWrite = 2,
    // spawn(name, name_len, args, args_len): starts a new task, in a new address space, from
    // the embedded image `name` (1..kMaxImageName bytes, no NUL needed). `args` is args_len
    // bytes (0..kMaxArgBytes) of NUL-terminated strings, back to back, at most kMaxArgs of
    // them; the child's main gets them as argc/argv. Returns the child's task id (> 0).
    // BadPointer, BadLength, BadArgument (args not NUL-terminated or too many), NoImage,
    // BadImage (the ELF validator refused it), NoMemory, Limit.
    Spawn = 3,
    // wait(child, status): blocks until child (a task id from spawn, of the caller's task)
    // has ended, writes a WaitStatus to `status` and reaps it. Returns 0. NoChild,
    // BadPointer.
    Wait = 4,
    // thread_create(entry, stack_top, arg): a new thread in the caller's address space,
    // starting at entry(arg) with sp = stack_top (16-byte aligned, inside the user half, in
    // memory the caller mapped). Returns its thread id (> 0). BadPointer, BadArgument
    // (alignment), NoMemory, Limit.
    ThreadCreate = 5,
    // map(addr, len, prot): maps len bytes (a multiple of kPageSize, > 0) of zeroed memory at
    // addr (page-aligned, the whole range inside [kUserBase, kUserLimit)), prot a set of Prot
    // bits (Read, or Read|Write; never Execute). Returns 0. BadArgument (alignment, prot),
    // BadLength, BadPointer (outside the user half), Exists (overlaps a mapping), NoMemory.
    Map = 6,
    // unmap(addr, len): unmaps what map() mapped in [addr, addr + len) (page-aligned, every
    // page mapped by map()). Every hart that may cache the range is flushed before the frames
    // are reused. Returns 0. BadArgument, BadLength, NotMapped.
    Unmap = 7,
    // sleep(us): blocks for at least us microseconds (0..kMaxSleepUs). Returns 0.
    // BadArgument (above the bound).
    Sleep = 8,
    // current_cpu(): the logical cpu index (0..cpus-1) the caller ran on at the call; it may
    // have migrated by the time it reads the result. Returns the index.
    CurrentCpu = 9,
    // time(): microseconds since boot, monotonic, on every hart. Returns it (fits in 63 bits
    // for 292 000 years).
    Time = 10,
    // join(task, status): blocks until task (any task id spawn returned, of any caller) has
    // ended and writes its WaitStatus; it does not reap it (its parent's wait() does, and a
    // reaped task is no longer found). Returns 1 when the caller blocked until the end, 0 when
    // the task had ended already. NoChild (no such unreaped task), BadPointer.
    Join = 11,
    // frame_count(): the kernel's free physical frames (4 KiB each) now. For leak checks.
    FrameCount = 12,
    // joiners(task): how many tasks wait now (in wait or join) for the end of task (0: the
    // caller's own). Lets a task end only once its waiters are really waiting. NoChild.
    Joiners = 13,
};

// The number of calls; numbers are dense in [0, kSysCount).
inline constexpr uint64_t kSysCount = 14;

// Errors, returned negated in a0. One enum for every call.
enum class Error : int64_t {
    BadNumber = -1,   // a7 is not a Sys number
    BadPointer = -2,  // a user range outside the user half, unmapped, or faulting in the copy
    BadLength = -3,   // a length outside the call's range
    BadArgument = -4, // a value outside its range: alignment, flags, malformed args
    NoMemory = -5,    // no frames or kernel objects left; nothing was changed
    NoImage = -6,     // spawn: no embedded image has that name
    BadImage = -7,    // spawn: the image failed ELF validation (RFC-0026)
    NoChild = -8,     // wait: not a living or unreaped child of the caller
    Exists = -9,      // map: part of the range is already mapped
    NotMapped = -10,  // unmap: part of the range was not mapped by map()
    Limit = -11,      // a per-task or system bound on tasks or threads is reached
};

inline constexpr int64_t kErrorMin = -11; // the most negative Error value

// A name for an error (for logs and test messages); "unknown" outside the enum.
constexpr const char* error_name(int64_t e) {
    switch (static_cast<Error>(e)) {
    case Error::BadNumber:
        return "BadNumber";
    case Error::BadPointer:
        return "BadPointer";
    case Error::BadLength:
        return "BadLength";
    case Error::BadArgument:
        return "BadArgument";
    case Error::NoMemory:
        return "NoMemory";
    case Error::NoImage:
        return "NoImage";
    case Error::BadImage:
        return "BadImage";
    case Error::NoChild:
        return "NoChild";
    case Error::Exists:
        return "Exists";
    case Error::NotMapped:
        return "NotMapped";
    case Error::Limit:
        return "Limit";
    }
    return "unknown";
}

// Prot bits for map().
enum Prot : uint64_t { ProtRead = 1, ProtWrite = 2 };

// wait()'s result. kind Exited: code is the exit code. kind Faulted: code is the scause
// exception code of the fault (RISC-V privileged spec, supervisor cause values: 0..15, e.g.
// 2 illegal instruction, 12/13/15 instruction/load/store page fault) and addr its stval.
enum class WaitKind : uint32_t { Exited = 0, Faulted = 1 };
struct WaitStatus {
    WaitKind kind;
    int32_t code;
    uint64_t addr; // Faulted: stval (the faulting address, or 0); Exited: 0
};
static_assert(sizeof(WaitStatus) == 16, "WaitStatus is part of the ABI");

// Limits and the user address range (Sv39: the lower half is [0, 2^38)).
inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kUserBase = 0x1000;          // page 0 stays unmapped
inline constexpr uint64_t kUserLimit = 0x40'0000'0000; // 2^38, the top of Sv39's lower half
inline constexpr uint64_t kMaxConsoleWrite = 4096;     // bytes per console_write
inline constexpr uint64_t kMaxImageName = 32;          // bytes of a spawn image name
inline constexpr uint64_t kMaxArgBytes = 512;          // bytes of spawn's args block
inline constexpr uint64_t kMaxArgs = 16;               // strings in spawn's args block
inline constexpr uint64_t kMaxSleepUs = 60'000'000;    // 60 s per sleep

} // namespace kestrel
