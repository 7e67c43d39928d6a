// ipcbench: the user-mode rows of the instruction-count benchmark (RFC-0023), spawned by the
// kernel's mode=bench driver. Figures are retired instructions (U-mode rdinstret under QEMU
// -icount shift=0; machine-wide, so a cross-hart row counts every hart), never time.
//
// argv (client): "harts=N" "batches=B" "iters=I". Rows, in the kernel's KBENCH format:
//   null_syscall        one FrameCount ecall round trip (the loop's few instructions included)
//   timed_wait_expiry   one notify_wait_timed(0) that blocks and expires (RFC-0030)
//   ipc_call_local      one call + reply_recv round trip, server process on the client's hart
//   notify_wake         half a signal/notify_wait ping-pong with that server: a signal, the
//                       signaller's own wait, the woken waiter running (same hart)
//   ipc_call_remote     as ipc_call_local, server on another hart (N >= 2)
//   notify_wake_remote  as notify_wake, with the server on another hart (N >= 2)
//   page_object         one 4 KiB page moved through a shared 1 MiB memory object: written
//                       here, read there, a notification each way per 1 MiB (same hart)
//   page_ipc            one 4 KiB page moved as 8 calls of 64 words to the server (same hart)
//   yield_user          one yield between two threads of this process on one hart
//   yield_user_fp       the same, both threads writing an f register before each yield
//   irq_wake            an interrupt to its driver (issue 20): a store raises the UART's
//                       transmit-empty interrupt (source 10, routed to this hart), the kernel
//                       takes it, masks the source and signals the notification, and this
//                       thread's notify_wait returns the badge (same hart)
//   irq_wake_remote     the same with the source routed to another hart: that hart takes the
//                       interrupt and wakes this thread, blocked in notify_wait (N >= 2)
// argv (server): "server"; slot 0 holds its endpoint (spawn's cap).
// Exit status 0 only if every row was measured with the placement it claims.
#include <kestrel/user.hpp>

using kestrel::IpcMsg;
using kestrel::Line;
using kestrel::Sys;

namespace {

// Labels of the client -> server protocol.
enum Label : uint64_t {
    kPing = 1,      // reply at once (the measured round trip)
    kWhere = 2,     // reply with MR0 = the server's hart
    kGive = 3,      // carries a capability (caps = 1), lands in the server's next slot
    kNotify = 4,    // reply, then MR0 rounds of notify_wait(slot 2), signal(slot 1)
    kQuit = 5,      // reply, then exit(0)
    kFill = 6,      // fill every empty slot with a new endpoint; reply MR0 = how many
    kMapObject = 7, // map the memory object given last, read-only, at kSrvObject; MR0 = result
    kSinkData = 8,  // 4 registers and 60 buffered words of a page (the page_ipc row)
    kDrain = 9,     // reply, then MR0 rounds of: wait B, read the whole object, signal A
};

// Memory objects (issue 19): the page_object row's 1 MiB object and the page_ipc row's pages.
constexpr uint64_t kObjPages = kestrel::kMaxMemoryPages;
constexpr uint64_t kObjWords = kObjPages * kestrel::kPageSize / 8;
constexpr uint64_t kCliObject = 0x30000000, kSrvObject = 0x31000000;
constexpr uint64_t kSrvSink = 0x32000000, kCliSource = 0x33000000; // one page each

// Client slots.
constexpr uint64_t kNoteA = 1; // the client waits on it, servers signal it
constexpr uint64_t kNoteB = 2; // servers wait on it, the client signals it
constexpr uint64_t kFirstEp = 3;
// Server slots: 0 the endpoint, then the given capabilities in order (1: A, 2: B).
constexpr uint64_t kSrvNoteA = 1, kSrvNoteB = 2;

constexpr uint32_t kMaxBatches = 15;

inline uint64_t instret() {
    uint64_t v;
    asm volatile("rdinstret %0" : "=r"(v));
    return v;
}

// A one-argument ecall, inline (the wrappers live in another unit).
inline int64_t ecall1(Sys n, uint64_t x0) {
    register uint64_t a0 asm("a0") = x0;
    register uint64_t a7 asm("a7") = static_cast<uint64_t>(n);
    asm volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
    return static_cast<int64_t>(a0);
}

// An IPC ecall with a tag and no buffer: a0 slot, a1 tag; MR0 in and out; a2..a6 clobbered.
inline int64_t ecall_ipc(Sys n, uint64_t slot, uint64_t& tag, uint64_t& mr0) {
    register uint64_t a0 asm("a0") = slot;
    register uint64_t a1 asm("a1") = tag;
    register uint64_t a2 asm("a2") = mr0;
    register uint64_t a3 asm("a3") = 0;
    register uint64_t a4 asm("a4") = 0;
    register uint64_t a5 asm("a5") = 0;
    register uint64_t a6 asm("a6") = 0;
    register uint64_t a7 asm("a7") = static_cast<uint64_t>(n);
    asm volatile("ecall"
                 : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4), "+r"(a5), "+r"(a6)
                 : "r"(a7)
                 : "memory");
    tag = a1;
    mr0 = a2;
    return static_cast<int64_t>(a0);
}

// notify_wait inline: a0 = 0 and the word in a1 (a2..a6 come back clobbered).
inline int64_t ecall_wait(uint64_t slot) {
    uint64_t word = 0, mr0 = 0;
    return ecall_ipc(Sys::NotifyWait, slot, word, mr0);
}

bool starts(const char* s, const char* p) {
    while (*p)
        if (*s++ != *p++) return false;
    return true;
}

// Fills every empty slot from `from` up with a new endpoint: how many it made.
uint64_t fill_space(uint64_t from) {
    uint64_t made = 0;
    for (uint64_t slot = from; slot < kestrel::kCapSlots; ++slot)
        if (kestrel::endpoint_create(slot) == 0) ++made;
    return made;
}

// Deletes the endpoints fill_space(from) made (every slot from `from` up).
void unfill_space(uint64_t from) {
    for (uint64_t slot = from; slot < kestrel::kCapSlots; ++slot)
        (void)kestrel::cap_delete(slot);
}

// ---- server -------------------------------------------------------------

volatile uint64_t g_sink_sum; // the drained words' sum: the reads are real
uint64_t g_sink_at = 0;       // the word of kSrvSink the next message's MR0 goes to
uint64_t* sink() {
    return reinterpret_cast<uint64_t*>(kSrvSink);
}

int server() {
    IpcMsg m;
    uint64_t next_slot = 1;
    // Every receive may take a page_ipc message: its buffer is where that message's words go.
    if (kestrel::map(kSrvSink, kestrel::kPageSize, kestrel::ProtRead | kestrel::ProtWrite) != 0)
        return 15;
    int64_t r = kestrel::recv(0, m, sink() + g_sink_at + 4, next_slot);
    for (;;) {
        if (r < 0) return 10;
        switch (kestrel::tag_label(m.tag)) {
        case kPing: {
            // The hot loop: answer and take the next call in one ecall until a non-ping.
            uint64_t tag = kestrel::make_tag(0, 0), mr0 = 0;
            for (;;) {
                tag = kestrel::make_tag(0, 0);
                r = ecall_ipc(Sys::ReplyRecv, 0, tag, mr0);
                if (r < 0 || kestrel::tag_label(tag) != kPing) break;
            }
            m.tag = tag;
            m.mr[0] = mr0;
            continue; // the message that ended the loop (reply_recv took no capability)
        }
        case kWhere:
            m.tag = kestrel::make_tag(0, 1);
            m.mr[0] = static_cast<uint64_t>(kestrel::current_cpu());
            (void)kestrel::reply(m);
            break;
        case kGive:
            if (kestrel::tag_caps(m.tag) != 1) return 11;
            ++next_slot;
            m.tag = kestrel::make_tag(0, 0);
            (void)kestrel::reply(m);
            break;
        case kNotify: {
            const uint64_t rounds = m.mr[0];
            m.tag = kestrel::make_tag(0, 0);
            (void)kestrel::reply(m);
            for (uint64_t i = 0; i < rounds; ++i) {
                if (ecall_wait(kSrvNoteB) != 0) return 12;
                if (ecall1(Sys::Signal, kSrvNoteA) != 0) return 13;
            }
            break;
        }
        case kQuit:
            m.tag = kestrel::make_tag(0, 0);
            (void)kestrel::reply(m);
            return 0;
        case kFill:
            m.tag = kestrel::make_tag(0, 1);
            m.mr[0] = fill_space(next_slot + 1);
            (void)kestrel::reply(m);
            break;
        case kMapObject:
            m.mr[0] = static_cast<uint64_t>(
                kestrel::mem_map(next_slot - 1, kSrvObject, 0, kObjPages, kestrel::ProtRead));
            m.tag = kestrel::make_tag(0, 1);
            (void)kestrel::reply(m);
            break;
        case kSinkData: {
            // The page_ipc row: each message's 60 buffered words were written by the kernel
            // where the page's next 64 words go; MR0..MR3 are stored before them.
            uint64_t at = g_sink_at;
            while (r >= 0 && kestrel::tag_label(m.tag) == kSinkData) {
                for (uint64_t i = 0; i < 4; ++i)
                    sink()[at + i] = m.mr[i];
                at = (at + kestrel::kMaxIpcLength) % (kestrel::kPageSize / 8);
                m.tag = kestrel::make_tag(0, 0);
                r = kestrel::reply_recv(0, m, sink() + at + 4);
            }
            g_sink_at = at;
            continue; // the message that ended the loop
        }
        case kDrain: {
            const uint64_t rounds = m.mr[0];
            m.tag = kestrel::make_tag(0, 0);
            (void)kestrel::reply(m);
            const auto* w = reinterpret_cast<const volatile uint64_t*>(kSrvObject);
            for (uint64_t i = 0; i < rounds; ++i) {
                if (ecall_wait(kSrvNoteB) != 0) return 12;
                uint64_t sum = 0;
                for (uint64_t k = 0; k < kObjWords; ++k)
                    sum += w[k];
                g_sink_sum = sum;
                if (ecall1(Sys::Signal, kSrvNoteA) != 0) return 13;
            }
            break;
        }
        default:
            return 14;
        }
        r = kestrel::recv(0, m, sink() + g_sink_at + 4, next_slot);
    }
}

// ---- client -------------------------------------------------------------

int64_t g_harts = 1;
uint32_t g_batches = 7, g_iters = 1000;
// "fill_tasks=N": the rows name N live tasks (the kernel keeps them blocked meanwhile), and
// both capability spaces are full of endpoints while the IPC rows are measured.
uint32_t g_fill_tasks = 0;
bool g_failed = false;

void fail(const char* what, int64_t v) {
    Line().put("KBENCH: FAIL ipcbench: ").put(what).put(" (").put(v).put(")").done();
    g_failed = true;
}

struct Server {
    int64_t id = 0;    // task id
    uint64_t ep = 0;   // the client's slot of its endpoint
    int64_t hart = -1; // where it answered from
};

int64_t ask(uint64_t ep, uint64_t label, uint64_t mr0 = 0, uint64_t caps = 0, uint64_t mr3 = 0) {
    IpcMsg m;
    m.tag = kestrel::make_tag(label, 4, caps);
    m.mr[0] = mr0;
    m.mr[3] = mr3;
    const int64_t r = kestrel::call(ep, m);
    return r < 0 ? r : static_cast<int64_t>(m.mr[0]);
}

void stop(Server& s) {
    if (s.id <= 0) return;
    (void)ask(s.ep, kQuit);
    kestrel::WaitStatus st{};
    const int64_t r = kestrel::wait(s.id, &st);
    if (r < 0 || st.kind != kestrel::WaitKind::Exited || st.code != 0)
        fail("server did not exit cleanly", r < 0 ? r : st.code);
    (void)kestrel::cap_delete(s.ep);
    s.id = 0;
}

// Spawns servers (each on the next hart in turn) until one answers from `want_local` ? the
// client's hart : another one; the others are stopped. Gives it both notifications.
bool find_server(bool want_local, uint64_t& next_ep, Server& out) {
    static const char kArgs[] = "server";
    for (int64_t tries = 0; tries < 2 * g_harts + 2; ++tries) {
        Server s;
        s.ep = next_ep++;
        if (kestrel::endpoint_create(s.ep) != 0) {
            fail("endpoint_create", static_cast<int64_t>(s.ep));
            return false;
        }
        s.id = kestrel::spawn("ipcbench", 8, kArgs, sizeof kArgs, s.ep);
        if (s.id <= 0) {
            fail("spawn of a server", s.id);
            return false;
        }
        s.hart = ask(s.ep, kWhere);
        const int64_t me = kestrel::current_cpu();
        if (s.hart >= 0 && (s.hart == me) == want_local) {
            if (ask(s.ep, kGive, 0, 1, kNoteA) < 0 || ask(s.ep, kGive, 0, 1, kNoteB) < 0) {
                fail("giving the notifications", 0);
                stop(s);
                return false;
            }
            out = s;
            return true;
        }
        stop(s);
    }
    fail(want_local ? "no server on the client's hart" : "no server on another hart", g_harts);
    return false;
}

// Batch functions: run `iters` operations, return instructions per operation.
using BatchFn = uint64_t (*)(void* ctx, uint32_t iters);

struct Ctx {
    Server* s = nullptr;
    bool local = true;
    int64_t errors = 0;
};

uint64_t null_batch(void* ctx, uint32_t iters) {
    auto* c = static_cast<Ctx*>(ctx);
    const uint64_t t0 = instret();
    for (uint32_t i = 0; i < iters; ++i)
        if (ecall1(Sys::FrameCount, 0) < 0) ++c->errors;
    const uint64_t t1 = instret();
    return (t1 - t0) / iters;
}

// timed_wait_expiry (RFC-0030): a notify_wait_timed with timeout 0 on a notification nobody
// signals: it blocks, its timer entry is due at once, the timer interrupt fires it, the wait
// withdraws and returns TimedOut. From the ecall to its return, the idle hart's wfi included.
constexpr uint64_t kTimedNote = 59;
uint64_t timed_expiry_batch(void* ctx, uint32_t iters) {
    auto* c = static_cast<Ctx*>(ctx);
    uint64_t w = 0;
    const uint64_t t0 = instret();
    for (uint32_t i = 0; i < iters; ++i)
        if (kestrel::notify_wait_timed(kTimedNote, w, 0) != kestrel::code(kestrel::Error::TimedOut))
            ++c->errors;
    const uint64_t t1 = instret();
    return (t1 - t0) / iters;
}

uint64_t call_batch(void* ctx, uint32_t iters) {
    auto* c = static_cast<Ctx*>(ctx);
    const uint64_t ep = c->s->ep;
    const uint64_t t0 = instret();
    for (uint32_t i = 0; i < iters; ++i) {
        uint64_t tag = kestrel::make_tag(kPing, 1), mr0 = i;
        if (ecall_ipc(Sys::Call, ep, tag, mr0) != 0) ++c->errors;
    }
    const uint64_t t1 = instret();
    return (t1 - t0) / iters;
}

// Two wake-ups per round: the server's (signal B) and the client's (signal A).
uint64_t notify_batch(void* ctx, uint32_t iters) {
    auto* c = static_cast<Ctx*>(ctx);
    if (ask(c->s->ep, kNotify, iters) < 0) {
        ++c->errors;
        return 0;
    }
    const uint64_t t0 = instret();
    for (uint32_t i = 0; i < iters; ++i) {
        if (ecall1(Sys::Signal, kNoteB) != 0) ++c->errors;
        if (ecall_wait(kNoteA) != 0) ++c->errors;
    }
    const uint64_t t1 = instret();
    return (t1 - t0) / (2 * uint64_t{iters});
}

// Yield between this thread and a partner thread of the same process, pinned to this hart:
// half a round (one yield, one switch). With `fp`, both write an f register before every
// yield, so each switch saves and loads their f registers (RFC-0027 "Floating point").
bool g_yield_fp = false, g_yield_stop = false, g_partner_done = false;

void touch_fp(uint64_t v) {
    asm volatile("fmv.d.x f0, %0" ::"r"(v) : "f0");
}

void yield_partner(void*) {
    for (uint64_t i = 0; !__atomic_load_n(&g_yield_stop, __ATOMIC_ACQUIRE); ++i) {
        if (g_yield_fp) touch_fp(i);
        (void)kestrel::yield();
    }
    __atomic_store_n(&g_partner_done, true, __ATOMIC_RELEASE);
    kestrel::exit(0);
}

uint64_t yield_batch(void* ctx, uint32_t iters) {
    auto* c = static_cast<Ctx*>(ctx);
    const bool fp = g_yield_fp;
    const uint64_t t0 = instret();
    for (uint32_t i = 0; i < iters; ++i) {
        if (fp) touch_fp(i);
        if (ecall1(Sys::Yield, 0) != 0) ++c->errors;
    }
    const uint64_t t1 = instret();
    return (t1 - t0) / (2 * uint64_t{iters});
}

// page_ipc: one 4 KiB page per op, as 8 calls of 64 words (4 registers, 60 buffered) to the
// server's sink, which keeps them in a page of its own.
uint64_t page_ipc_batch(void* ctx, uint32_t iters) {
    auto* c = static_cast<Ctx*>(ctx);
    const auto* src = reinterpret_cast<const uint64_t*>(kCliSource);
    constexpr uint64_t kPerPage = kestrel::kPageSize / 8 / kestrel::kMaxIpcLength; // 8
    const uint64_t t0 = instret();
    for (uint32_t i = 0; i < iters; ++i)
        for (uint64_t k = 0; k < kPerPage; ++k) {
            const uint64_t* part = src + k * kestrel::kMaxIpcLength;
            IpcMsg m;
            m.tag = kestrel::make_tag(kSinkData, kestrel::kMaxIpcLength);
            for (uint64_t j = 0; j < 4; ++j)
                m.mr[j] = part[j];
            if (kestrel::call(c->s->ep, m, const_cast<uint64_t*>(part + 4)) != 0) ++c->errors;
        }
    const uint64_t t1 = instret();
    return (t1 - t0) / iters;
}

// page_object: rounds of 1 MiB (256 pages) written into the shared object, the server told
// (signal B), reading all of it and answering (signal A); per page. iters pages, rounded up to
// whole rounds.
uint64_t page_object_batch(void* ctx, uint32_t iters) {
    auto* c = static_cast<Ctx*>(ctx);
    const uint64_t rounds = (iters + kObjPages - 1) / kObjPages;
    if (ask(c->s->ep, kDrain, rounds) < 0) {
        ++c->errors;
        return 0;
    }
    auto* w = reinterpret_cast<volatile uint64_t*>(kCliObject);
    const uint64_t t0 = instret();
    for (uint64_t r = 0; r < rounds; ++r) {
        for (uint64_t k = 0; k < kObjWords; ++k)
            w[k] = r ^ k;
        if (ecall1(Sys::Signal, kNoteB) != 0) ++c->errors;
        if (ecall_wait(kNoteA) != 0) ++c->errors;
    }
    const uint64_t t1 = instret();
    return (t1 - t0) / (rounds * kObjPages);
}

// Both sides where the row says, checked before the warm-up and after every batch.
bool placed(const Ctx& c, const char* op) {
    if (!c.s) return true;
    const int64_t me = kestrel::current_cpu(), srv = ask(c.s->ep, kWhere);
    if (srv >= 0 && (srv == me) == c.local) return true;
    Line()
        .put("KBENCH: FAIL ipcbench: ")
        .put(op)
        .put(": client on hart ")
        .put(me)
        .put(", server on hart ")
        .put(srv)
        .done();
    g_failed = true;
    return false;
}

void report(const char* op, uint32_t tasks, BatchFn fn, Ctx& c) {
    uint64_t per_op[kMaxBatches];
    const uint32_t n = g_batches;
    if (!placed(c, op)) return;
    (void)fn(&c, g_iters); // warm-up
    for (uint32_t b = 0; b < n; ++b) {
        per_op[b] = fn(&c, g_iters);
        if (!placed(c, op)) return;
    }
    if (c.errors != 0) {
        fail(op, c.errors);
        return;
    }
    for (uint32_t i = 1; i < n; ++i) // insertion sort: n <= 15
        for (uint32_t j = i; j > 0 && per_op[j - 1] > per_op[j]; --j) {
            const uint64_t t = per_op[j];
            per_op[j] = per_op[j - 1];
            per_op[j - 1] = t;
        }
    Line()
        .put("KBENCH: op=")
        .put(op)
        .put(" harts=")
        .put(g_harts)
        .put(" tasks=")
        .put(static_cast<int64_t>(g_fill_tasks != 0 ? g_fill_tasks : tasks))
        .put(" rq=0 median=")
        .put(static_cast<int64_t>(per_op[n / 2]))
        .put(" min=")
        .put(static_cast<int64_t>(per_op[0]))
        .put(" max=")
        .put(static_cast<int64_t>(per_op[n - 1]))
        .put(" batches=")
        .put(static_cast<int64_t>(n))
        .put(" iters=")
        .put(static_cast<int64_t>(g_iters))
        .done();
}

// ---- interrupts (issue 20) -------------------------------------------------
// ipcbench is a root process (the kernel spawns it): slot 63 holds the Platform capability.
constexpr uint64_t kIrqDev = 50, kIrqSrc = 51, kIrqNote = 52;
constexpr uint64_t kIrqUartVa = 0x3900'0000, kUartSource = 10;
int64_t g_irq_cpu = -1; // where the source is routed for the batch

volatile uint8_t* bench_uart() {
    return reinterpret_cast<volatile uint8_t*>(kIrqUartVa);
}

// The UART quiet and the source unmasked again: the PLIC keeps the level's last high pending
// until a claim, so an ack may bring one stale delivery, which is drained and acked once more.
bool irq_settle() {
    bench_uart()[1] = 0;
    (void)bench_uart()[2];
    for (int round = 0; round < 3; ++round) {
        if (kestrel::irq_ack(kIrqSrc) != 0) return false;
        uint64_t w = 0;
        (void)kestrel::notify_poll(kIrqNote, w);
        const int64_t st = kestrel::irq_status(kIrqSrc);
        if (st >= 0 && (st & 1) == 0 && w == 0) return true;
    }
    return false;
}

// Whether a process still lists thread `tid` (proc_info, RFC-0032).
bool thread_listed(int64_t tid) {
    for (uint64_t i = 0; i < kestrel::kMaxProcesses; ++i) {
        kestrel::ProcInfo pi{};
        if (kestrel::proc_info(i, &pi) != 1) continue;
        for (const kestrel::ThreadInfo& t : pi.thread)
            if (static_cast<int64_t>(t.id) == tid) return true;
    }
    return false;
}

uint64_t irq_batch(void* ctx, uint32_t iters) {
    auto* c = static_cast<Ctx*>(ctx);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < iters; ++i) {
        const uint64_t t0 = instret();
        bench_uart()[1] = 2; // transmit holding empty: raised at once
        if (ecall_wait(kIrqNote) != 0) ++c->errors;
        sum += instret() - t0;
        if (!irq_settle()) ++c->errors;
    }
    const bool remote = g_irq_cpu != kestrel::current_cpu();
    if (remote == c->local) ++c->errors; // the row's placement held to its end
    return sum / iters;
}

// The two rows, when the Platform capability and the UART can be had; a line otherwise.
void irq_rows() {
    const int64_t dev = kestrel::device_get(kestrel::kPlatformSlot, "ns16550a", 8, kIrqDev);
    if (dev != static_cast<int64_t>(kUartSource) || kestrel::device_map(kIrqDev, kIrqUartVa) != 1 ||
        kestrel::irq_get(kestrel::kPlatformSlot, kUartSource, kIrqSrc) != 0 ||
        kestrel::notification_create(kIrqNote) != 0 ||
        kestrel::irq_bind(kIrqSrc, kIrqNote, 1) < 0 || !irq_settle()) {
        Line().put("KLOG: ipcbench: no interrupt rows (device_get ").put(dev).put(")").done();
    } else {
        Ctx c{nullptr, true, 0};
        g_irq_cpu = kestrel::current_cpu();
        if (kestrel::irq_route(kIrqSrc, static_cast<uint64_t>(g_irq_cpu)) == 0)
            report("irq_wake", 1, &irq_batch, c);
        if (g_harts >= 2) {
            Ctx r{nullptr, false, 0};
            g_irq_cpu = (kestrel::current_cpu() + 1) % g_harts;
            if (kestrel::irq_route(kIrqSrc, static_cast<uint64_t>(g_irq_cpu)) == 0)
                report("irq_wake_remote", 1, &irq_batch, r);
        }
    }
    (void)kestrel::mem_unmap(kIrqUartVa, 4096);
    const uint64_t slots[] = {kIrqSrc, kIrqNote, kIrqDev};
    for (const uint64_t slot : slots)
        (void)kestrel::cap_delete(slot);
}

// The two yield rows: a partner thread on a stack at kYieldStack, ended after each row.
constexpr uint64_t kYieldStack = 0x38000000, kYieldStackBytes = 4 * 4096;
void yield_rows() {
    if (kestrel::map(kYieldStack, kYieldStackBytes, kestrel::ProtRead | kestrel::ProtWrite) != 0) {
        fail("map of the yield partner's stack", 0);
        return;
    }
    for (int round = 0; round < 2; ++round) {
        const bool fp = round == 1;
        g_yield_fp = fp;
        __atomic_store_n(&g_yield_stop, false, __ATOMIC_RELEASE);
        __atomic_store_n(&g_partner_done, false, __ATOMIC_RELEASE);
        const int64_t id = kestrel::thread_create(
            &yield_partner, reinterpret_cast<void*>(kYieldStack + kYieldStackBytes), nullptr,
            kestrel::ThreadPinned);
        if (id <= 0) {
            fail("thread_create of the yield partner", id);
            break;
        }
        Ctx none;
        report(fp ? "yield_user_fp" : "yield_user", 2, &yield_batch, none);
        __atomic_store_n(&g_yield_stop, true, __ATOMIC_RELEASE);
        while (!__atomic_load_n(&g_partner_done, __ATOMIC_ACQUIRE))
            (void)kestrel::yield();
        // Its thread gone (it has left its stack for the kernel's exit) before the stack is
        // unmapped or taken by the next one, 5 s at most. (This waited on joiners(id), which
        // takes a task id, not a thread's: it returned at once, and the unmap could come while
        // the partner still stood on its stack; the shell's `bench` hit it, RFC-0032.)
        const int64_t deadline = kestrel::time_us() + 5'000'000;
        while (thread_listed(id) && kestrel::time_us() < deadline)
            (void)kestrel::sleep_us(1000);
    }
    (void)kestrel::unmap(kYieldStack, kYieldStackBytes);
}

// The two page rows with the local server: the object created, mapped here and there.
void page_rows(Ctx& c) {
    constexpr uint64_t kObjSlot = 60;
    const int64_t made = kestrel::mem_create(kObjSlot, kObjPages);
    if (made != 0 ||
        kestrel::mem_map(kObjSlot, kCliObject, 0, kObjPages,
                         kestrel::ProtRead | kestrel::ProtWrite) != 0 ||
        ask(c.s->ep, kGive, 0, 1, kObjSlot) < 0 || ask(c.s->ep, kMapObject) != 0 ||
        kestrel::map(kCliSource, kestrel::kPageSize, kestrel::ProtRead | kestrel::ProtWrite) != 0) {
        fail("memory object setup", made);
        return;
    }
    report("page_object", 2, &page_object_batch, c);
    report("page_ipc", 2, &page_ipc_batch, c);
    (void)kestrel::unmap(kCliSource, kestrel::kPageSize);
    (void)kestrel::mem_unmap(kCliObject, kObjPages * kestrel::kPageSize);
    (void)kestrel::cap_delete(kObjSlot);
}

// With fill_tasks=: the server's space and the client's (from `from` up) filled.
void fill_both(Server& s, uint64_t from) {
    if (g_fill_tasks == 0) return;
    const int64_t theirs = ask(s.ep, kFill);
    const uint64_t ours = fill_space(from);
    Line()
        .put("KLOG: ipcbench: capability spaces filled: server ")
        .put(theirs)
        .put(" slots, client ")
        .put(static_cast<int64_t>(ours))
        .put(" slots")
        .done();
    if (theirs <= 0 || ours == 0) fail("filling the capability spaces", theirs);
}
void unfill_both(uint64_t from) {
    if (g_fill_tasks != 0) unfill_space(from);
}

int client() {
    const uint64_t t0 = instret(); // traps (illegal instruction) if scounteren.IR is clear
    if (kestrel::notification_create(kNoteA) != 0 || kestrel::notification_create(kNoteB) != 0) {
        fail("notification_create", 0);
        return 1;
    }
    const int64_t me = kestrel::current_cpu();
    Ctx none;
    report("null_syscall", 1, &null_batch, none);
    if (kestrel::notification_create(kTimedNote) == 0) {
        report("timed_wait_expiry", 1, &timed_expiry_batch, none);
        (void)kestrel::cap_delete(kTimedNote);
    } else {
        fail("notification_create for timed_wait_expiry", 0);
    }
    irq_rows();

    uint64_t next_ep = kFirstEp;
    Server local, remote;
    if (find_server(true, next_ep, local)) {
        Line()
            .put("KLOG: ipcbench: client on hart ")
            .put(me)
            .put(", local server (task ")
            .put(local.id)
            .put(") on hart ")
            .put(local.hart)
            .done();
        Ctx c{&local, true, 0};
        fill_both(local, next_ep);
        report("ipc_call_local", 2, &call_batch, c);
        report("notify_wake", 2, &notify_batch, c);
        if (g_fill_tasks == 0) page_rows(c); // before the server has a full space
        stop(local);
        unfill_both(next_ep);
    }
    if (g_harts >= 2 && !g_failed && find_server(false, next_ep, remote)) {
        Line()
            .put("KLOG: ipcbench: client on hart ")
            .put(kestrel::current_cpu())
            .put(", remote server (task ")
            .put(remote.id)
            .put(") on hart ")
            .put(remote.hart)
            .done();
        Ctx c{&remote, false, 0};
        fill_both(remote, next_ep);
        report("ipc_call_remote", 2, &call_batch, c);
        report("notify_wake_remote", 2, &notify_batch, c);
        stop(remote);
        unfill_both(next_ep);
    }
    // Last: from the FP row on, this thread has floating-point state, which every switch to
    // it then loads (RFC-0027 "Floating point in user threads"); the rows above are without.
    if (!g_failed) yield_rows();
    Line()
        .put("KLOG: ipcbench: ")
        .put(g_failed ? "failed" : "done")
        .put(", instructions in all ")
        .put(static_cast<int64_t>(instret() - t0))
        .done();
    return g_failed ? 1 : 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc >= 1 && starts(argv[0], "server")) return server();
    for (int i = 0; i < argc; ++i) {
        if (starts(argv[i], "harts=")) g_harts = kestrel::parse_int(argv[i] + 6);
        if (starts(argv[i], "batches="))
            g_batches = static_cast<uint32_t>(kestrel::parse_int(argv[i] + 8));
        if (starts(argv[i], "iters="))
            g_iters = static_cast<uint32_t>(kestrel::parse_int(argv[i] + 6));
        if (starts(argv[i], "fill_tasks="))
            g_fill_tasks = static_cast<uint32_t>(kestrel::parse_int(argv[i] + 11));
    }
    if (g_harts < 1 || g_batches < 1 || g_batches > kMaxBatches || g_iters < 1) {
        fail("bad arguments", argc);
        return 2;
    }
    return client();
}
