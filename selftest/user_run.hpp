// Running a user program from a kernel selftest: its argument block, its records' return.
#pragma once

#include "ipc/fastpath.hpp"

#include <cstddef>
#include <cstdint>

namespace k::selftest {

// Appends "name<v>\0" (v in decimal) to buf at `at` and returns the new end; buf must have
// room (a spawn args block, kestrel::kMaxArgBytes at most).
std::size_t put_arg(char* buf, std::size_t at, const char* name, std::uint64_t v);

// A number from the bootargs (`key=N`, decimal, at most 19 digits), else `fallback`.
std::uint64_t bootarg_number(const char* key, std::uint64_t fallback);

// Prints how many of the Calls and ReplyRecvs since `since` took the IPC fast path, as
// `KLOG: ipc fast path over <what>: call F of N (P %), reply_recv F of N (P %)`.
void say_fastpath_share(const char* what, const ipc::fastpath::Counts& since);

// What a user program takes and must give back: free frames, address spaces, endpoint,
// notification, process and thread records.
struct UserRecords {
    std::uint64_t frames = 0;
    std::uint32_t spaces = 0, endpoints = 0, notifications = 0, processes = 0, threads = 0;

    static UserRecords now();
    bool operator==(const UserRecords&) const = default;
};

// Waits (kEventuallyUs at most) until the records read as `before` again (a reaped
// process's anchor makes its last switch just after the wait returns), prints them as one
// `KLOG: <what>: ...` line and returns whether all came back.
bool records_back(const char* what, const UserRecords& before);

} // namespace k::selftest
