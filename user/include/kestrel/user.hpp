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

// Helpers: the length of a NUL-terminated string; write one to the console.
size_t str_len(const char* s);
int64_t print(const char* s);

} // namespace kestrel

// main(argc, argv): argv holds argc NUL-terminated strings (spawn's args); its return value is
// the task's exit code.
int main(int argc, char** argv);
