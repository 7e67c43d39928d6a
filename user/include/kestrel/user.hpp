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
int64_t spawn(const char* name, size_t name_len, const char* args, size_t args_len);
int64_t wait(int64_t child, WaitStatus* status);
int64_t thread_create(void (*entry)(void*), void* stack_top, void* arg);
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

// Helpers: the length of a NUL-terminated string; write one to the console.
size_t str_len(const char* s);
int64_t print(const char* s);
// Decimal value of a NUL-terminated string of digits (an optional leading '-'); 0 otherwise.
int64_t parse_int(const char* s);

// One console line built piece by piece, written as one console_write by done().
class Line {
  public:
    Line& put(const char* s);
    Line& put(int64_t v);
    void done(); // appends '\n' and writes the line
  private:
    char buf_[200];
    size_t len_ = 0;
};

} // namespace kestrel

// main(argc, argv): argv holds argc NUL-terminated strings (spawn's args); its return value is
// the task's exit code.
int main(int argc, char** argv);
