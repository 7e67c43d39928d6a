// The user runtime: ecall wrappers over the syscall ABI (kestrel/syscall.hpp) and a few helpers.
#pragma once

#include <kestrel/syscall.hpp>

#include <stddef.h>
#include <stdint.h>

namespace kestrel {

// Each wrapper returns the call's a0: >= 0 on success, a negative Error otherwise.
[[noreturn]] void exit(int32_t code);
int64_t yield();
int64_t console_write(const char* buf, size_t len);
// cap: a slot whose capability the child gets in its slot 0 (kNoCap: none).
// task_dst: an empty slot that gets a task capability to the child (kNoCap: none).
int64_t spawn(const char* name, size_t name_len, const char* args, size_t args_len,
              uint64_t cap = kNoCap, uint64_t task_dst = kNoCap);
int64_t wait(int64_t child, WaitStatus* status);
int64_t thread_create(void (*entry)(void*), void* stack_top, void* arg, uint64_t flags = 0);
int64_t map(uint64_t addr, uint64_t len, uint64_t prot);
int64_t unmap(uint64_t addr, uint64_t len);
int64_t sleep_us(uint64_t us);
int64_t current_cpu();
int64_t time_us();
int64_t join(int64_t task, WaitStatus* status);
int64_t frame_count();
int64_t joiners(int64_t task); // 0: the caller's own task
// Any call number with up to four arguments (for tests of the kernel's refusals).
int64_t raw_call(uint64_t number, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0,
                 uint64_t a3 = 0);
// Any call number with a0..a6 in `regs`; the kernel's a0..a6 come back in `regs` (a0 is also
// the result). For the fuzzer and the IPC wrappers.
int64_t raw_call7(uint64_t number, uint64_t regs[7]);
// raw_call7 with t0 (x5) set too (the timed IPC calls' timeout).
int64_t raw_call7_t0(uint64_t number, uint64_t regs[7], uint64_t t0);

// Capabilities and IPC (kestrel/syscall.hpp, RFC-0028).
int64_t endpoint_create(uint64_t slot);
int64_t notification_create(uint64_t slot);
int64_t cap_mint(uint64_t src, uint64_t dst, uint64_t rights, uint64_t badge);
int64_t cap_copy(uint64_t src, uint64_t dst, uint64_t rights);
int64_t cap_delete(uint64_t slot);
int64_t object_count(uint64_t kind); // 0 endpoints, 1 notifications, 2 processes, 3 threads
int64_t task_kill(uint64_t slot);
int64_t task_wait(uint64_t slot, WaitStatus* status);
// Memory objects (issue 19): pages of zeroed frames; mapped at va, pages [first, first+pages).
int64_t mem_create(uint64_t slot, uint64_t pages);
int64_t mem_map(uint64_t slot, uint64_t va, uint64_t first, uint64_t pages, uint64_t prot);
int64_t mem_unmap(uint64_t va, uint64_t len);
// Interrupts and devices (issue 20, RFC-0031).
int64_t irq_get(uint64_t platform, uint64_t source, uint64_t dst);
int64_t irq_bind(uint64_t irq, uint64_t notification, uint64_t badge);
int64_t irq_ack(uint64_t irq);
int64_t irq_route(uint64_t irq, uint64_t cpu);
int64_t irq_status(uint64_t irq);
int64_t device_get(uint64_t platform, const char* compat, uint64_t len, uint64_t dst);
int64_t device_map(uint64_t device, uint64_t va);
// Introspection and hart control (issue 20, RFC-0032; kestrel/syscall.hpp).
int64_t proc_info(uint64_t index, ProcInfo* out);
int64_t hart_info(uint64_t hart, HartInfo* out);
int64_t hart_offline(uint64_t slot, uint64_t hart); // slot: a HartControl capability
int64_t hart_online(uint64_t slot, uint64_t hart);

// One message's registers: the tag, MR0..MR3 and, received, the sender's badge.
struct IpcMsg {
    uint64_t tag = 0;
    uint64_t mr[kMessageRegisters] = {};
    uint64_t badge = 0;
};
// The sending calls read m (and tag_length(m.tag) - 4 words of buf); the receiving ones
// overwrite m (and buf). Each returns a0.
int64_t send(uint64_t slot, const IpcMsg& m, const uint64_t* buf = nullptr);
int64_t nb_send(uint64_t slot, const IpcMsg& m, const uint64_t* buf = nullptr);
int64_t recv(uint64_t slot, IpcMsg& m, uint64_t* buf = nullptr, uint64_t cap_dst = kNoCap);
int64_t poll(uint64_t slot, IpcMsg& m, uint64_t* buf = nullptr, uint64_t cap_dst = kNoCap);
int64_t call(uint64_t slot, IpcMsg& m, uint64_t* buf = nullptr);
int64_t reply(const IpcMsg& m, const uint64_t* buf = nullptr);
int64_t reply_recv(uint64_t slot, IpcMsg& m, uint64_t* buf = nullptr);
int64_t signal(uint64_t slot);
int64_t notify_wait(uint64_t slot, uint64_t& word);
int64_t notify_poll(uint64_t slot, uint64_t& word);
// Timed waits (RFC-0030): as recv, call and notify_wait, returning TimedOut once
// `timeout_us` (0..kMaxSleepUs) passed without a completion; 0 takes only what is there.
int64_t recv_timed(uint64_t slot, IpcMsg& m, uint64_t timeout_us, uint64_t* buf = nullptr,
                   uint64_t cap_dst = kNoCap);
int64_t call_timed(uint64_t slot, IpcMsg& m, uint64_t timeout_us, uint64_t* buf = nullptr);
int64_t notify_wait_timed(uint64_t slot, uint64_t& word, uint64_t timeout_us);

// Helpers: the length of a NUL-terminated string; write one to the console.
size_t str_len(const char* s);
int64_t print(const char* s);
// Decimal value of a NUL-terminated string of digits (an optional leading '-'); 0 otherwise.
int64_t parse_int(const char* s);
// Writes v in decimal (a leading '-' when negative) to out, which holds kIntChars bytes, with
// no NUL; returns the characters written (1..20).
inline constexpr size_t kIntChars = 20;
size_t format_int(int64_t v, char* out);

// One console line built piece by piece, written as one console_write by done().
class Line {
  public:
    Line& put(const char* s);
    Line& put(int64_t v);
    Line& hex(uint64_t v); // "0x" and 16 hex digits
    void done();           // appends '\n' and writes the line
  private:
    char buf_[200];
    size_t len_ = 0;
};

} // namespace kestrel

// main(argc, argv): argv holds argc NUL-terminated strings (spawn's args); its return value is
// the task's exit code.
int main(int argc, char** argv);
