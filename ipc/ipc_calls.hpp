// The IPC system calls on endpoints and notifications, and the IPC side of a thread's life
// (RFC-0028). Registers: kestrel/syscall.hpp "IPC registers".
#pragma once

#include "ipc/ipc_thread.hpp"
#include "trap_frame.hpp"

#include <cstdint>

namespace k::ipc {

// Each runs for the calling user thread `t` with the registers of `tf` and returns a0 (0, 1
// for a delivered nb_send or poll, or a negative kestrel::Error); the receiving calls also
// write a1..a6. They may block (not nb_send, poll, reply, signal, notify_poll).
std::int64_t send(IpcThread& t, hal::TrapFrame& tf, bool block);
// `deadline` (ticks of the time CSR; ~0: none): a blocked receive, call or notify_wait that
// has not completed by then withdraws and returns TimedOut (RFC-0030 "Timeouts").
std::int64_t receive(IpcThread& t, hal::TrapFrame& tf, bool block,
                     std::uint64_t deadline = ~std::uint64_t{0});
std::int64_t call(IpcThread& t, hal::TrapFrame& tf, std::uint64_t deadline = ~std::uint64_t{0});
std::int64_t reply(IpcThread& t, hal::TrapFrame& tf);
std::int64_t reply_receive(IpcThread& t, hal::TrapFrame& tf);
std::int64_t signal(IpcThread& t, hal::TrapFrame& tf);
std::int64_t notify_wait(IpcThread& t, hal::TrapFrame& tf,
                         std::uint64_t deadline = ~std::uint64_t{0});
std::int64_t notify_poll(IpcThread& t, hal::TrapFrame& tf);

// The thread ends (not blocked in IPC): its reply capability dies, so a caller waiting on it
// gets ServerGone, and no reply reaches its record any more.
void thread_end(IpcThread& t);
// Another thread of the process faulted: `t` leaves any IPC wait (kKilled).
void kill(IpcThread& t);

} // namespace k::ipc
