// The system-call ABI shared by the kernel and user programs: numbers, error codes, limits.
// Freestanding: only <stdint.h> (GCC's own under -ffreestanding), so user code needs no libc.
#pragma once

#include <stdint.h>

// Calling convention (RISC-V, `ecall` from U-mode; the kernel returns to sepc + 4):
//   a7      the call number (Sys);
//   a0..a5  arguments, in the order each call lists them;
//   a0      the result: >= 0 on success (its meaning per call), a negative Error otherwise.
// Every other register is preserved across the call, as the RISC-V psABI treats a callee
// (so the wrappers only clobber a0 and "memory"), except for the IPC calls (Send .. ReplyRecv,
// NotifyWait, NotifyPoll), which also return in a1..a6 (see "IPC registers" below). Numbers
// and codes are stable once landed; new calls take the next number, new errors the next
// negative value.
//
// IPC registers (RFC-0028): in  a0 the capability slot, a1 the tag (MessageTag word), a2..a5
// message registers MR0..MR3, a6 the buffer (0: none; length - 4 words of it are sent);
//                           out a0 the result, a1 the received tag, a2..a5 MR0..MR3, a6 the
// sender's badge. The receive calls take in a1 the slot that a transferred capability lands
// in (kNoCap: none; a capability sent to a receiver without one is not moved, and the tag it
// gets says caps = 0) and in a6 the buffer the words beyond MR3 are written to.
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
    // a4 (cap): a slot of the caller whose capability is copied, with the same rights and
    // badge, into the child's slot 0 before it runs; kNoCap for none. A capability error of
    // that slot (SlotOutOfRange, EmptySlot, CountOverflow) refuses the spawn.
    // a5 (task_dst): an empty slot of the caller that gets a task capability to the child
    // (Send: task_kill, Receive: task_wait); kNoCap for none. SlotOutOfRange, SlotOccupied
    // refuse the spawn.
    Spawn = 3,
    // wait(child, status): blocks until child (a task id from spawn, of the caller's task)
    // has ended, writes a WaitStatus to `status` and reaps it. Returns 0. NoChild,
    // BadPointer.
    Wait = 4,
    // thread_create(entry, stack_top, arg, flags): a new thread in the caller's address space,
    // starting at entry(arg) with sp = stack_top (16-byte aligned, inside the user half, in
    // memory the caller mapped), on the caller's hart. flags: 0, or ThreadPinned (it runs
    // only on that hart: never stolen or moved), with pin_hart(h) to name another hart.
    // Returns its thread id (> 0). BadPointer, BadArgument (alignment, unknown flags, a hart
    // that is not online), NoMemory, Limit.
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

    // --- Capabilities (RFC-0028). A slot is a capability address in the caller's space:
    // [0, kCapSlots); any other value is SlotOutOfRange. Rights are a set of Right bits.
    // endpoint_create(slot): a new endpoint, its first capability (all rights, unbadged) in
    // the empty `slot`. Returns 0. SlotOutOfRange, SlotOccupied, NoMemory.
    EndpointCreate = 14,
    // notification_create(slot): as endpoint_create, for a notification (word 0).
    NotificationCreate = 15,
    // cap_mint(src, dst, rights, badge): a capability in the empty `dst` naming src's object,
    // with `rights` (a subset of src's) and `badge` (non-zero: only on an unbadged endpoint,
    // notification or Platform capability; 0: src's own; a Platform badge b names device node
    // b - 1 only, RFC-0031). Returns 0. SlotOutOfRange, EmptySlot,
    // InvalidRights, RightsEscalation, NotBadgeable, BadgeAlreadySet, SlotOccupied,
    // CountOverflow.
    CapMint = 16,
    // cap_copy(src, dst, rights): cap_mint without a new badge.
    CapCopy = 17,
    // cap_delete(slot): empties `slot`. The last capability to an endpoint or notification
    // destroys it: every task blocked on it returns Destroyed. Returns 0. SlotOutOfRange,
    // EmptySlot.
    CapDelete = 18,

    // --- IPC (registers above). Each returns 0 or an error in a0 unless it says otherwise.
    // The capability must be an endpoint's (WrongType) with the right named (MissingRight).
    // send: blocks until a receiver takes the message (Send right). A tag with caps = 1
    // transfers the capability in slot MR3 (a5) only when the capability has Grant; without
    // Grant the message goes without it and the receiver's tag says caps = 0; the receiver's
    // MR3 then holds the slot it landed in. A bad slot in MR3 refuses the send with its
    // capability error. BadLength (tag
    // length above kMaxIpcLength), BadTag, BadPointer (buffer), Destroyed.
    Send = 19,
    // nb_send: as send, but never blocks: returns 1 when a receiver took it, 0 when none waited.
    NbSend = 20,
    // recv(slot, cap_dst, ..., buffer): blocks until a sender comes (Receive right); out as
    // above, the badge in a6. Destroyed.
    Recv = 21,
    // poll: as recv without blocking: returns 1 with a message, 0 (and a1 = 0) without one.
    Poll = 22,
    // call: send with Send right, then block for the reply (out registers as recv, badge 0).
    // ServerGone when the receiver ends, or drops the reply, without replying.
    Call = 23,
    // reply(-, tag, MR0..3, buffer): answers the last call this thread received (the thread's
    // one-shot reply capability, then gone). NoCaller (no call to answer, or the caller has
    // ended). A reply carries no capability (BadTag).
    Reply = 24,
    // reply_recv(slot, tag, MR0..3, buffer): reply (its error, if any, is dropped, as in seL4)
    // then recv on `slot` (cap_dst: kNoCap). The server loop.
    ReplyRecv = 25,
    // signal(slot): ORs the capability's badge (1 if unbadged) into the notification's word
    // and wakes a waiter (Send right). Returns 0.
    Signal = 26,
    // notify_wait(slot): blocks until the word is non-zero, then takes it (Receive right):
    // a0 = 0, a1 = the word. Destroyed; Busy (another thread already waits on it).
    NotifyWait = 27,
    // notify_poll(slot): the word, taken, in a1 (0: nothing was pending); a0 = 0.
    NotifyPoll = 28,
    // object_count(kind): free records now, for leak checks: kind 0 endpoints, 1
    // notifications, 2 processes, 3 threads, 4 memory objects, 5 interrupt source records, 6
    // device records (issue 20). BadArgument (another kind).
    ObjectCount = 29,
    // task_kill(slot): ends the task the task capability names (Send right), as a fault
    // would: its waiters get WaitKind::Killed. Its threads leave at their next kernel entry
    // or exit (a tick at the latest); one blocked in IPC or sleep is woken for it. Returns 0
    // (also for a task that has ended already).
    TaskKill = 30,
    // task_wait(slot, status): join() through a task capability (Receive right): blocks until
    // the task has ended and writes its WaitStatus; does not reap. Returns 1 when it blocked,
    // 0 when the task had ended already. BadPointer.
    TaskWait = 31,

    // --- Memory objects (issue 19, RFC-0028 "Memory objects"). A memory object capability's
    // Receive right allows mapping it readable, Send writable (seL4's Read and Write).
    // mem_create(slot, pages): a new object of `pages` zeroed 4 KiB frames (1..kMaxMemoryPages),
    // its first capability (all rights) in the empty `slot`. Returns 0. BadLength, Limit (no
    // object record left), NoMemory, SlotOutOfRange, SlotOccupied.
    MemCreate = 32,
    // mem_map(slot, va, first, pages, prot): maps pages [first, first + pages) of the object at
    // va (4 KiB aligned) with prot (ProtRead, optionally ProtWrite; never execute). Returns 0.
    // The slot's errors (WrongType for another type), MissingRight (prot above the rights),
    // BadArgument (va unaligned, prot), BadLength (pages 0 or past the object's end),
    // BadPointer (outside the user half), Exists (a page of the range is mapped), Limit
    // (kMaxMemoryMaps mappings in this space), NoMemory (a page-table page).
    MemMap = 33,
    // mem_unmap(va, len): unmaps the mapping mem_map made at exactly [va, va + len): every hart
    // that may cache the space is flushed before the call returns. Returns 0. NotMapped (no
    // such mapping; nothing changed).
    MemUnmap = 34,

    // --- Timed waits (RFC-0030 "Timeouts"). The registers of recv, call and notify_wait,
    // with the timeout in t0 (x5), in microseconds (0..kMaxSleepUs, else BadArgument): a wait
    // still blocked when it expires leaves its queue and returns TimedOut. 0: only what is
    // there already (a sender queued, a word pending) is taken. A message that matched the
    // wait before it expired is delivered, never lost: a timed-out wait took nothing.
    // A call that times out while its reply is awaited returns TimedOut; the server's reply
    // then gets NoCaller.
    RecvTimed = 35,
    CallTimed = 36,
    NotifyWaitTimed = 37,

    // --- Interrupts and devices (issue 20, RFC-0031). The root process (init) holds a Platform
    // capability in slot kPlatformSlot; Irq and Device capabilities are made from it. An Irq
    // capability names one interrupt source of the platform's controller; the kernel masks a
    // source when it fires, signals the bound notification and leaves it masked until
    // irq_ack. The last Irq capability's removal masks the source and frees it; a Device's
    // frees the device (and gives a handed-over console UART back to the kernel).
    // irq_get(platform, source, dst): an Irq capability for `source` (1..the controller's
    // sources) in the empty `dst`; the source is unmasked and routed to the caller's hart. An
    // interrupt that arrives before irq_bind is latched, masked, and delivered at bind; so is
    // one the boot left pending. Returns 0. The slots' errors (WrongType: `platform` is no
    // Platform capability), NoDevice (no interrupt controller the kernel drives, or a
    // restricted Platform capability whose node's interrupt is not `source`), BadArgument
    // (source out of range), InUse (the source has an Irq capability already).
    IrqGet = 38,
    // irq_bind(irq, notification, badge): binds the source to the notification (its capability
    // needs Send): each delivery ORs `badge` into its word (0: the notification capability's
    // badge, 1 if it has none). A latched interrupt is delivered now. Returns 1 when it
    // delivered one, else 0. The slots' errors, InUse (bound already).
    IrqBind = 39,
    // irq_ack(irq): unmasks the source after a delivery (a pending level fires again).
    // Returns 0 (also when it was not masked).
    IrqAck = 40,
    // irq_route(irq, cpu): delivers the source to logical cpu `cpu` (online). A cpu going
    // offline moves its sources to an online one, with a line. Returns 0. BadArgument.
    IrqRoute = 41,
    // device_get(platform, compat, len, dst): a Device capability in the empty `dst` for the
    // DTB device node whose first compatible string is the `len` bytes at `compat`
    // (1..kMaxCompatible). Never memory, the interrupt controller, the timer (clint) or the
    // reset device; the console UART only by handing it over (the kernel's console moves to
    // SBI until the device is freed). Returns the node's interrupt (0: none). BadPointer,
    // BadLength, NoDevice (no such node, or none among those a restricted Platform
    // capability names: badge b, node b - 1 of the kernel's list), KernelOwned, InUse (a
    // Device capability to it exists).
    DeviceGet = 42,
    // device_map(device, va): maps the device's register pages at va (4 KiB aligned),
    // readable and writable, never executable, uncached (RFC-0031 "Device memory"). Returns
    // the number of pages. The slot's errors, mem_map's errors (BadArgument, BadPointer,
    // Exists, Limit, NoMemory). Unmapped with mem_unmap.
    DeviceMap = 43,
    // irq_status(irq): the source's state: bit 0 masked, bit 1 latched, bit 2 bound, bits
    // 8..15 the logical cpu it is routed to, bits 16..47 its source number; the slot's errors.
    IrqStatus = 44,

    // --- Introspection and hart control (issue 20, the shell; RFC-0032).
    // proc_info(index, buf): the process in slot `index` (0..kMaxProcesses-1) of the kernel's
    // table, written to buf as a ProcInfo. Returns 1 (buf written), 0 (an empty slot; buf
    // untouched). BadArgument (index >= kMaxProcesses: the end of a walk), BadPointer (buf).
    // A process's slot is its id % kMaxProcesses. A racy snapshot: states and harts change.
    ProcInfo = 45,
    // hart_info(hart, buf): hart `hart` (0..kMaxHarts-1) as a HartInfo in buf. Returns 1, or 0
    // for an index past the harts this machine has (buf untouched). BadArgument (hart >=
    // kMaxHarts), BadPointer (buf).
    HartInfo = 46,
    // hart_offline(slot, hart): takes hart `hart` offline (its unpinned threads move to other
    // harts; pinned ones stay parked on it until it is back) through the HartControl
    // capability in `slot` (Send right). Returns the number of tasks parked on it (>= 0).
    // The slot's errors (WrongType, MissingRight, ...), BadArgument (no such hart), BootHart
    // (the boot hart never goes offline: it is also the last online one), HartState (already
    // offline), Busy (another hot-plug request is in progress, or the hart did not stop in
    // time: it stays online).
    HartOffline = 47,
    // hart_online(slot, hart): brings an offline hart back (its parked tasks run again).
    // Returns 0. The slot's errors, BadArgument, BootHart, HartState (already online), Busy.
    HartOnline = 48,
};

// The number of calls; numbers are dense in [0, kSysCount).
inline constexpr uint64_t kSysCount = 49;

// Interrupts and devices: the root process's Platform capability, the longest compatible.
inline constexpr uint64_t kPlatformSlot = 63;
inline constexpr uint64_t kMaxCompatible = 64;
// Device nodes the kernel lists (DTB order): a restricted Platform capability's badge is
// 1..kMaxDevices (node badge - 1; RFC-0031).
inline constexpr uint64_t kMaxDevices = 32;

// Memory objects: pages per object; mappings of objects per address space.
inline constexpr uint64_t kMaxMemoryPages = 256; // 1 MiB
inline constexpr uint64_t kMaxMemoryMaps = 16;

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
    // Capabilities (one code per reason the capability table gives, RFC-0028 "Errors").
    SlotOutOfRange = -12,   // a slot >= kCapSlots
    EmptySlot = -13,        // the slot holds no capability
    SlotOccupied = -14,     // the destination slot holds one
    WrongType = -15,        // the capability names another kind of object
    MissingRight = -16,     // the capability lacks the right the call needs
    BadgeAlreadySet = -17,  // mint: a badge on a badged capability
    RightsEscalation = -18, // mint, copy: rights the source does not have
    NotBadgeable = -19,     // mint: a badge on a capability that cannot carry one
    InvalidRights = -20,    // rights bits outside Send | Receive | Grant
    CountOverflow = -21,    // mint, copy: the object has 2^32 - 1 capabilities
    // IPC.
    BadTag = -22,     // reserved tag bits set, or caps above 1 (a reply: above 0)
    Destroyed = -23,  // the endpoint or notification was destroyed (before or while blocked)
    NoCaller = -24,   // reply: no call to answer, or its caller has ended
    ServerGone = -25, // call: the receiver ended or dropped the reply without replying
    Busy = -26,       // notify_wait: another thread already waits on that notification
    TimedOut = -27,   // a timed wait's timeout expired before it completed (RFC-0030)
    // Interrupts and devices (issue 20).
    NoDevice = -28,    // no such interrupt controller, source or device node
    InUse = -29,       // the source or device has its capability already; bound already
    KernelOwned = -30, // device_get: a node the kernel keeps (memory, controllers, reset)
    // Hart control (issue 20).
    BootHart = -31,  // hart_offline/online: the boot hart stays online (RFC-0032)
    HartState = -32, // hart_offline of an offline hart, hart_online of an online one
};

inline constexpr int64_t kErrorMin = -32; // the most negative Error value

// An error as the value a0 carries.
constexpr int64_t code(Error e) {
    return static_cast<int64_t>(e);
}

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
    case Error::SlotOutOfRange:
        return "SlotOutOfRange";
    case Error::EmptySlot:
        return "EmptySlot";
    case Error::SlotOccupied:
        return "SlotOccupied";
    case Error::WrongType:
        return "WrongType";
    case Error::MissingRight:
        return "MissingRight";
    case Error::BadgeAlreadySet:
        return "BadgeAlreadySet";
    case Error::RightsEscalation:
        return "RightsEscalation";
    case Error::NotBadgeable:
        return "NotBadgeable";
    case Error::InvalidRights:
        return "InvalidRights";
    case Error::CountOverflow:
        return "CountOverflow";
    case Error::BadTag:
        return "BadTag";
    case Error::Destroyed:
        return "Destroyed";
    case Error::NoCaller:
        return "NoCaller";
    case Error::ServerGone:
        return "ServerGone";
    case Error::Busy:
        return "Busy";
    case Error::TimedOut:
        return "TimedOut";
    case Error::NoDevice:
        return "NoDevice";
    case Error::InUse:
        return "InUse";
    case Error::KernelOwned:
        return "KernelOwned";
    case Error::BootHart:
        return "BootHart";
    case Error::HartState:
        return "HartState";
    }
    return "unknown";
}

// proc_info()'s record (RFC-0032). Thread states: ThreadReady, ThreadRunning, ThreadBlocked,
// ThreadExited (the kernel's task states, in that order).
inline constexpr uint64_t kMaxProcesses = 128;  // slots of the kernel's process table
inline constexpr uint64_t kMaxHarts = 64;       // hart_info's index bound
inline constexpr uint64_t kProcInfoThreads = 8; // threads a ProcInfo lists (the first ones)
enum ThreadState : uint32_t { ThreadReady, ThreadRunning, ThreadBlocked, ThreadExited };
struct ThreadInfo {
    uint32_t id;     // the thread's task id
    uint32_t hart;   // the hart it runs on or last ran on (its home)
    uint32_t state;  // a ThreadState
    uint32_t pinned; // 1: it runs only on `hart`
};
struct ProcInfo {
    uint32_t id;      // the task id spawn returned
    uint32_t parent;  // its parent's id, 0: the kernel's or orphaned
    uint32_t threads; // live threads (ThreadInfo for the first kProcInfoThreads)
    uint32_t dead;    // 1: ended, not yet reaped
    char name[16];    // its image's name, NUL-terminated (cut to 15 bytes)
    ThreadInfo thread[kProcInfoThreads];
};
static_assert(sizeof(ProcInfo) == 160, "ProcInfo is part of the ABI");
// hart_info()'s record. state: a HartState value; only HartOnline takes work.
enum HartStateValue : uint32_t {
    HartAbsent,
    HartStarting,
    HartOnline,
    HartOffline,
    HartJoining,
    HartStopping
};
struct HartInfo {
    uint32_t state;
    uint32_t queued;        // tasks in its run queue and inbox now
    uint64_t switches;      // context switches on it since boot
    uint64_t ipis_sent;     // resched IPIs sent to it
    uint64_t ipis_received; // of those, taken in its trap handler
    uint64_t steals;        // steal attempts it made
    uint64_t stolen;        // tasks it stole
    uint64_t ticks;         // timer ticks it took
};
static_assert(sizeof(HartInfo) == 56, "HartInfo is part of the ABI");

// thread_create()'s flags.
enum ThreadFlags : uint64_t { ThreadPinned = 1 };
// ThreadPinned's hart, when not the caller's: bits 8..23 hold the hart + 1.
constexpr uint64_t pin_hart(uint64_t hart) {
    return ThreadPinned | ((hart + 1) & 0xffff) << 8;
}
inline constexpr uint64_t kThreadFlagsMask = 0xffff01;

// Prot bits for map().
enum Prot : uint64_t { ProtRead = 1, ProtWrite = 2 };

// wait()'s result. kind Exited: code is the exit code. kind Faulted: code is the scause
// exception code of the fault (RISC-V privileged spec, supervisor cause values: 0..15, e.g.
// 2 illegal instruction, 12/13/15 instruction/load/store page fault) and addr its stval.
// kind Killed: task_kill ended it (code 0, addr 0).
enum class WaitKind : uint32_t { Exited = 0, Faulted = 1, Killed = 2 };
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

// Capabilities and IPC (RFC-0028; ipc/ holds the kernel's copies of these numbers and
// static_asserts that they agree).
inline constexpr uint64_t kCapSlots = 64;        // slots in a task's capability space
inline constexpr uint64_t kNoCap = ~uint64_t{0}; // "no slot" (a receive's cap_dst)
enum Right : uint64_t { RightSend = 1, RightReceive = 2, RightGrant = 4 };
inline constexpr uint64_t kRightsAll = 7;
inline constexpr uint64_t kMessageRegisters = 4; // MR0..MR3, in a2..a5
inline constexpr uint64_t kMaxIpcLength = 64;    // words per message: 4 in registers, 60 buffered
// The tag word (seL4's layout): label in bits 63..12, caps in 8..7, length in 6..0.
constexpr uint64_t make_tag(uint64_t label, uint64_t length, uint64_t caps = 0) {
    return (label << 12) | ((caps & 3) << 7) | (length & 0x7f);
}
constexpr uint64_t tag_label(uint64_t tag) {
    return tag >> 12;
}
constexpr uint64_t tag_length(uint64_t tag) {
    return tag & 0x7f;
}
constexpr uint64_t tag_caps(uint64_t tag) {
    return (tag >> 7) & 3;
}

} // namespace kestrel
