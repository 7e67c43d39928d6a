// ecall wrappers: a7 = number, a0..a2 = arguments, a0 = result (kestrel/syscall.hpp).
#include <kestrel/user.hpp>

namespace kestrel {

namespace {

int64_t call(Sys n, uint64_t x0 = 0, uint64_t x1 = 0, uint64_t x2 = 0, uint64_t x3 = 0) {
    register uint64_t a0 asm("a0") = x0;
    register uint64_t a1 asm("a1") = x1;
    register uint64_t a2 asm("a2") = x2;
    register uint64_t a3 asm("a3") = x3;
    register uint64_t a7 asm("a7") = static_cast<uint64_t>(n);
    asm volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a3), "r"(a7) : "memory");
    return static_cast<int64_t>(a0);
}

uint64_t addr(const void* p) {
    return reinterpret_cast<uint64_t>(p);
}

} // namespace

void exit(int32_t code) {
    static_cast<void>(call(Sys::Exit, static_cast<uint64_t>(static_cast<int64_t>(code))));
    for (;;) // exit does not return; should it, spin rather than run off the end
        static_cast<void>(call(Sys::Yield));
}

int64_t yield() {
    return call(Sys::Yield);
}

int64_t console_write(const char* buf, size_t len) {
    return call(Sys::ConsoleWrite, addr(buf), len);
}

int64_t spawn(const char* name, size_t name_len, const char* args, size_t args_len, uint64_t cap,
              uint64_t task_dst) {
    uint64_t r[7] = {addr(name), name_len, addr(args), args_len, cap, task_dst, 0};
    return raw_call7(static_cast<uint64_t>(Sys::Spawn), r);
}

int64_t wait(int64_t child, WaitStatus* status) {
    return call(Sys::Wait, static_cast<uint64_t>(child), addr(status));
}

int64_t thread_create(void (*entry)(void*), void* stack_top, void* arg, uint64_t flags) {
    return call(Sys::ThreadCreate, reinterpret_cast<uint64_t>(entry), addr(stack_top), addr(arg),
                flags);
}

int64_t map(uint64_t a, uint64_t len, uint64_t prot) {
    return call(Sys::Map, a, len, prot);
}

int64_t unmap(uint64_t a, uint64_t len) {
    return call(Sys::Unmap, a, len);
}
int64_t sleep_us(uint64_t us) {
    return call(Sys::Sleep, us);
}
int64_t current_cpu() {
    return call(Sys::CurrentCpu);
}
int64_t time_us() {
    return call(Sys::Time);
}
int64_t join(int64_t task, WaitStatus* status) {
    return call(Sys::Join, static_cast<uint64_t>(task), addr(status));
}
int64_t frame_count() {
    return call(Sys::FrameCount);
}
int64_t joiners(int64_t task) {
    return call(Sys::Joiners, static_cast<uint64_t>(task));
}
int64_t raw_call(uint64_t number, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3) {
    return call(static_cast<Sys>(number), a0, a1, a2, a3);
}

// raw_call7 with t0 (x5) = `t0` as well: the timed IPC calls (RFC-0030).
int64_t raw_call7_t0(uint64_t number, uint64_t regs[7], uint64_t t0v) {
    register uint64_t a0 asm("a0") = regs[0];
    register uint64_t a1 asm("a1") = regs[1];
    register uint64_t a2 asm("a2") = regs[2];
    register uint64_t a3 asm("a3") = regs[3];
    register uint64_t a4 asm("a4") = regs[4];
    register uint64_t a5 asm("a5") = regs[5];
    register uint64_t a6 asm("a6") = regs[6];
    register uint64_t a7 asm("a7") = number;
    register uint64_t t0 asm("t0") = t0v;
    asm volatile("ecall"
                 : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4), "+r"(a5), "+r"(a6)
                 : "r"(a7), "r"(t0)
                 : "memory");
    regs[0] = a0;
    regs[1] = a1;
    regs[2] = a2;
    regs[3] = a3;
    regs[4] = a4;
    regs[5] = a5;
    regs[6] = a6;
    return static_cast<int64_t>(a0);
}

int64_t raw_call7(uint64_t number, uint64_t regs[7]) {
    register uint64_t a0 asm("a0") = regs[0];
    register uint64_t a1 asm("a1") = regs[1];
    register uint64_t a2 asm("a2") = regs[2];
    register uint64_t a3 asm("a3") = regs[3];
    register uint64_t a4 asm("a4") = regs[4];
    register uint64_t a5 asm("a5") = regs[5];
    register uint64_t a6 asm("a6") = regs[6];
    register uint64_t a7 asm("a7") = number;
    asm volatile("ecall"
                 : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4), "+r"(a5), "+r"(a6)
                 : "r"(a7)
                 : "memory");
    regs[0] = a0;
    regs[1] = a1;
    regs[2] = a2;
    regs[3] = a3;
    regs[4] = a4;
    regs[5] = a5;
    regs[6] = a6;
    return static_cast<int64_t>(a0);
}

int64_t endpoint_create(uint64_t slot) {
    return call(Sys::EndpointCreate, slot);
}
int64_t notification_create(uint64_t slot) {
    return call(Sys::NotificationCreate, slot);
}
int64_t cap_mint(uint64_t src, uint64_t dst, uint64_t rights, uint64_t badge) {
    return call(Sys::CapMint, src, dst, rights, badge);
}
int64_t cap_copy(uint64_t src, uint64_t dst, uint64_t rights) {
    return call(Sys::CapCopy, src, dst, rights);
}
int64_t cap_delete(uint64_t slot) {
    return call(Sys::CapDelete, slot);
}
int64_t object_count(uint64_t kind) {
    return call(Sys::ObjectCount, kind);
}
int64_t task_kill(uint64_t slot) {
    return call(Sys::TaskKill, slot);
}
int64_t task_wait(uint64_t slot, WaitStatus* status) {
    return call(Sys::TaskWait, slot, addr(status));
}
int64_t mem_create(uint64_t slot, uint64_t pages) {
    return call(Sys::MemCreate, slot, pages);
}
int64_t mem_map(uint64_t slot, uint64_t va, uint64_t first, uint64_t pages, uint64_t prot) {
    uint64_t regs[7] = {slot, va, first, pages, prot, 0, 0};
    return raw_call7(static_cast<uint64_t>(Sys::MemMap), regs);
}
int64_t mem_unmap(uint64_t va, uint64_t len) {
    return call(Sys::MemUnmap, va, len);
}
int64_t irq_get(uint64_t platform, uint64_t source, uint64_t dst) {
    return call(Sys::IrqGet, platform, source, dst);
}
int64_t irq_bind(uint64_t irq, uint64_t notification, uint64_t badge) {
    return call(Sys::IrqBind, irq, notification, badge);
}
int64_t irq_ack(uint64_t irq) {
    return call(Sys::IrqAck, irq);
}
int64_t irq_route(uint64_t irq, uint64_t cpu) {
    return call(Sys::IrqRoute, irq, cpu);
}
int64_t irq_status(uint64_t irq) {
    return call(Sys::IrqStatus, irq);
}
int64_t device_get(uint64_t platform, const char* compat, uint64_t len, uint64_t dst) {
    return call(Sys::DeviceGet, platform, addr(compat), len, dst);
}
int64_t device_map(uint64_t device, uint64_t va) {
    return call(Sys::DeviceMap, device, va);
}
int64_t proc_info(uint64_t index, ProcInfo* out) {
    return call(Sys::ProcInfo, index, addr(out));
}
int64_t hart_info(uint64_t hart, HartInfo* out) {
    return call(Sys::HartInfo, hart, addr(out));
}
int64_t hart_offline(uint64_t slot, uint64_t hart) {
    return call(Sys::HartOffline, slot, hart);
}
int64_t hart_online(uint64_t slot, uint64_t hart) {
    return call(Sys::HartOnline, slot, hart);
}

namespace {

// An IPC call: a0 = slot (or cap_dst's slot for the receive side), a1 = tag (or cap_dst),
// a2..a5 = MRs, a6 = buffer; the out registers land in m.
int64_t ipc(Sys n, uint64_t slot, uint64_t a1, IpcMsg& m, const uint64_t* buf, bool out) {
    uint64_t r[7] = {slot, a1, m.mr[0], m.mr[1], m.mr[2], m.mr[3], addr(buf)};
    const int64_t res = raw_call7(static_cast<uint64_t>(n), r);
    if (out && res >= 0) {
        m.tag = r[1];
        for (uint64_t i = 0; i < kMessageRegisters; ++i)
            m.mr[i] = r[2 + i];
        m.badge = r[6];
    }
    return res;
}

} // namespace

int64_t send(uint64_t slot, const IpcMsg& m, const uint64_t* buf) {
    IpcMsg copy = m;
    return ipc(Sys::Send, slot, m.tag, copy, buf, false);
}
int64_t nb_send(uint64_t slot, const IpcMsg& m, const uint64_t* buf) {
    IpcMsg copy = m;
    return ipc(Sys::NbSend, slot, m.tag, copy, buf, false);
}
int64_t recv(uint64_t slot, IpcMsg& m, uint64_t* buf, uint64_t cap_dst) {
    return ipc(Sys::Recv, slot, cap_dst, m, buf, true);
}
int64_t poll(uint64_t slot, IpcMsg& m, uint64_t* buf, uint64_t cap_dst) {
    return ipc(Sys::Poll, slot, cap_dst, m, buf, true);
}
int64_t call(uint64_t slot, IpcMsg& m, uint64_t* buf) {
    return ipc(Sys::Call, slot, m.tag, m, buf, true);
}
int64_t reply(const IpcMsg& m, const uint64_t* buf) {
    IpcMsg copy = m;
    return ipc(Sys::Reply, 0, m.tag, copy, buf, false);
}
int64_t reply_recv(uint64_t slot, IpcMsg& m, uint64_t* buf) {
    return ipc(Sys::ReplyRecv, slot, m.tag, m, buf, true);
}
int64_t signal(uint64_t slot) {
    return call(Sys::Signal, slot);
}
int64_t notify_wait(uint64_t slot, uint64_t& word) {
    uint64_t r[7] = {slot, 0, 0, 0, 0, 0, 0};
    const int64_t res = raw_call7(static_cast<uint64_t>(Sys::NotifyWait), r);
    word = res == 0 ? r[1] : 0;
    return res;
}
int64_t recv_timed(uint64_t slot, IpcMsg& m, uint64_t timeout_us, uint64_t* buf, uint64_t cap_dst) {
    uint64_t r[7] = {slot, cap_dst, m.mr[0], m.mr[1], m.mr[2], m.mr[3], addr(buf)};
    const int64_t res = raw_call7_t0(static_cast<uint64_t>(Sys::RecvTimed), r, timeout_us);
    if (res >= 0) {
        m.tag = r[1];
        for (uint64_t i = 0; i < kMessageRegisters; ++i)
            m.mr[i] = r[2 + i];
        m.badge = r[6];
    }
    return res;
}
int64_t call_timed(uint64_t slot, IpcMsg& m, uint64_t timeout_us, uint64_t* buf) {
    uint64_t r[7] = {slot, m.tag, m.mr[0], m.mr[1], m.mr[2], m.mr[3], addr(buf)};
    const int64_t res = raw_call7_t0(static_cast<uint64_t>(Sys::CallTimed), r, timeout_us);
    if (res >= 0) {
        m.tag = r[1];
        for (uint64_t i = 0; i < kMessageRegisters; ++i)
            m.mr[i] = r[2 + i];
        m.badge = r[6];
    }
    return res;
}
int64_t notify_wait_timed(uint64_t slot, uint64_t& word, uint64_t timeout_us) {
    uint64_t r[7] = {slot, 0, 0, 0, 0, 0, 0};
    const int64_t res = raw_call7_t0(static_cast<uint64_t>(Sys::NotifyWaitTimed), r, timeout_us);
    word = res == 0 ? r[1] : 0;
    return res;
}
int64_t notify_poll(uint64_t slot, uint64_t& word) {
    uint64_t r[7] = {slot, 0, 0, 0, 0, 0, 0};
    const int64_t res = raw_call7(static_cast<uint64_t>(Sys::NotifyPoll), r);
    word = res == 0 ? r[1] : 0;
    return res;
}

size_t format_int(int64_t v, char* out) {
    char tmp[kIntChars];
    size_t n = 0, k = 0;
    uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do {
        tmp[n++] = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) out[k++] = '-';
    while (n > 0)
        out[k++] = tmp[--n];
    return k;
}

int64_t parse_int(const char* s) {
    const bool neg = *s == '-';
    if (neg) ++s;
    int64_t v = 0;
    for (; *s >= '0' && *s <= '9'; ++s)
        v = v * 10 + (*s - '0');
    return neg ? -v : v;
}

Line& Line::put(const char* s) {
    while (*s && len_ < sizeof buf_ - 1)
        buf_[len_++] = *s++;
    return *this;
}

Line& Line::put(int64_t v) {
    char digits[kIntChars];
    const size_t n = format_int(v, digits);
    for (size_t i = 0; i < n && len_ < sizeof buf_ - 1; ++i)
        buf_[len_++] = digits[i];
    return *this;
}

Line& Line::hex(uint64_t v) {
    put("0x");
    for (int shift = 60; shift >= 0 && len_ < sizeof buf_ - 1; shift -= 4)
        buf_[len_++] = "0123456789abcdef"[(v >> shift) & 0xf];
    return *this;
}

void Line::done() {
    buf_[len_++] = '\n';
    console_write(buf_, len_);
    len_ = 0;
}

size_t str_len(const char* s) {
    size_t n = 0;
    while (s[n])
        ++n;
    return n;
}

int64_t print(const char* s) {
    return console_write(s, str_len(s));
}

} // namespace kestrel

// crt0's _start tail-calls this with the kernel's argc and argv.
extern "C" [[noreturn]] void kestrel_start(int argc, char** argv) {
    kestrel::exit(main(argc, argv));
}
