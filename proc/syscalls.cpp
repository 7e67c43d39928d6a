// The system calls (user/include/kestrel/syscall.hpp is their contract): one handler per
// number, arguments in a0..a5, the result in a0.
#include "proc/syscalls.hpp"

#include "base/console.hpp"
#include "base/panic.hpp"
#include "base/percpu.hpp"
#include "base/time.hpp"
#include "hal_cpu.hpp"
#include "ipc/cap_space.hpp"
#include "ipc/ipc_calls.hpp"
#include "ipc/memory_object.hpp"
#include "ipc/objects.hpp"
#include "irq/device.hpp"
#include "irq/irq.hpp"
#include "mm/frames.hpp"
#include "mm/user_space.hpp"
#include "proc/hart_calls.hpp"
#include "proc/images.hpp"
#include "proc/process.hpp"
#include "sched/scheduler.hpp"
#include "sched/timer.hpp"
#include "trap/user_copy.hpp"

namespace k::user {

namespace {

using kestrel::Error;
using kestrel::Sys;

std::uint64_t arg(const hal::TrapFrame& tf, unsigned i) {
    return tf.x[10 + i];
}

std::int64_t sys_console_write(const Thread& me, const hal::TrapFrame& tf) {
    const std::uint64_t buf = arg(tf, 0), len = arg(tf, 1);
    if (len > kestrel::kMaxConsoleWrite) return kestrel::code(Error::BadLength);
    char text[kestrel::kMaxConsoleWrite];
    if (const std::int64_t e = uaccess::copy_in(text, buf, len); e != 0) return e;
    console::write_bytes(text, len, reinterpret_cast<console::Writer>(&me));
    return static_cast<std::int64_t>(len);
}

std::int64_t sys_spawn(Thread& me, const hal::TrapFrame& tf) {
    const std::uint64_t name = arg(tf, 0), name_len = arg(tf, 1);
    const std::uint64_t args = arg(tf, 2), args_len = arg(tf, 3);
    if (name_len == 0 || name_len > kestrel::kMaxImageName) return kestrel::code(Error::BadLength);
    if (args_len > kestrel::kMaxArgBytes) return kestrel::code(Error::BadLength);
    char n[kestrel::kMaxImageName];
    char a[kestrel::kMaxArgBytes];
    if (const std::int64_t e = uaccess::copy_in(n, name, name_len); e != 0) return e;
    if (const std::int64_t e = uaccess::copy_in(a, args, args_len); e != 0) return e;
    std::uint64_t strings = 0;
    for (std::uint64_t i = 0; i < args_len; ++i)
        strings += a[i] == '\0' ? 1 : 0;
    if ((args_len > 0 && a[args_len - 1] != '\0') || strings > kestrel::kMaxArgs)
        return kestrel::code(Error::BadArgument);
    const elf::Image* image = find_image(n, name_len);
    if (!image) return kestrel::code(Error::NoImage);
    return spawn(me.process, *image, a, args_len, arg(tf, 4), arg(tf, 5));
}

std::int64_t sys_await(Thread& me, const hal::TrapFrame& tf, bool reap) {
    const std::uint64_t status = arg(tf, 1);
    // A bad status pointer is refused before anything blocks or is reaped: the range check,
    // then a write of an empty status (an unmapped or read-only page in the user half passes
    // the range check; found by the fuzzer, where wait reaped a child and lost its status).
    kestrel::WaitStatus st{};
    if (const std::int64_t e = uaccess::copy_out(status, &st, sizeof st); e != 0) return e;
    const std::int64_t r = await(me.process, static_cast<std::int64_t>(arg(tf, 0)), reap, st);
    if (r < 0) return r;
    if (const std::int64_t e = uaccess::copy_out(status, &st, sizeof st); e != 0) return e;
    return reap ? 0 : r;
}

std::int64_t sys_thread_create(Thread& me, const hal::TrapFrame& tf) {
    const std::uint64_t entry = arg(tf, 0), stack_top = arg(tf, 1);
    const std::uint64_t flags = arg(tf, 3);
    const std::uint64_t hart = (flags >> 8) & 0xffff; // 0: the caller's, else hart + 1
    if (stack_top % 16 != 0 || entry % 2 != 0 || (flags & ~kestrel::kThreadFlagsMask) ||
        (hart != 0 && (flags & kestrel::ThreadPinned) == 0) ||
        (hart != 0 && (hart > cpu_count() || !cpu_online(static_cast<std::uint32_t>(hart - 1)))))
        return kestrel::code(Error::BadArgument);
    if (!uaccess::user_range(entry, 2) || stack_top < 16 ||
        !uaccess::user_range(stack_top - 16, 16))
        return kestrel::code(Error::BadPointer);
    return thread_create(*me.process, entry, stack_top, arg(tf, 2), tf.x[3], tf.x[4],
                         (flags & kestrel::ThreadPinned) != 0,
                         hart != 0 ? static_cast<std::uint32_t>(hart - 1) : current_cpu());
}

std::int64_t sys_sleep(Thread& me, const hal::TrapFrame& tf) {
    const std::uint64_t us = arg(tf, 0);
    if (us > kestrel::kMaxSleepUs) return kestrel::code(Error::BadArgument);
    // Blocked on the thread's completion word until its timer entry fires (sched/timer.hpp,
    // RFC-0030): no cpu meanwhile. A kill posts kKilled there and ends the sleep at once.
    const std::uint64_t deadline = time::deadline_in_us(us);
    const Process* p = me.process;
    while (time::now() < deadline && !killed(*p)) {
        if (sched::timed_wait(me.ipc.done, deadline, ipc::kTimer) & ipc::kKilled) break;
    }
    return 0;
}

// recv_timed, call_timed, notify_wait_timed: the IPC call with a deadline from t0 (µs).
std::int64_t sys_timed(Thread& me, hal::TrapFrame& tf, Sys n) {
    const std::uint64_t us = tf.x[5];
    if (us > kestrel::kMaxSleepUs) return kestrel::code(Error::BadArgument);
    const std::uint64_t deadline = time::deadline_in_us(us);
    if (n == Sys::RecvTimed) return ipc::receive(me.ipc, tf, true, deadline);
    if (n == Sys::CallTimed) return ipc::call(me.ipc, tf, deadline);
    return ipc::notify_wait(me.ipc, tf, deadline);
}

std::int64_t sys_task(Thread& me, const hal::TrapFrame& tf, bool kill) {
    const std::uint64_t status = arg(tf, 1);
    kestrel::WaitStatus st{}; // a bad status pointer is refused before anything blocks
    if (!kill) {
        if (const std::int64_t e = uaccess::copy_out(status, &st, sizeof st); e != 0) return e;
    }
    const ipc::Found f = ipc::lookup(*me.ipc.caps, arg(tf, 0), ::ipc::ObjectType::Task,
                                     kill ? ::ipc::Rights::send() : ::ipc::Rights::receive());
    if (f.error != 0) return f.error;
    auto& task = *static_cast<ipc::TaskObject*>(f.cap.object);
    std::int64_t r = 0;
    if (kill) {
        r = task_kill(task);
    } else {
        r = task_wait(task, st);
        if (const std::int64_t e = uaccess::copy_out(status, &st, sizeof st); r >= 0 && e != 0)
            r = e;
    }
    ipc::task_put(task); // the lookup's reference
    return r;
}

// mem_create(slot, pages): the object, then its first capability (kestrel/syscall.hpp).
std::int64_t sys_mem_create(Thread& me, const hal::TrapFrame& tf) {
    const std::uint64_t slot = arg(tf, 0), pages = arg(tf, 1);
    if (const std::int64_t e = ipc::check_free(*me.ipc.caps, slot); e != 0) return e;
    if (pages == 0 || pages > kestrel::kMaxMemoryPages) return kestrel::code(Error::BadLength);
    Error err = Error::NoMemory;
    ipc::MemoryObject* m = ipc::memory_alloc(static_cast<std::uint32_t>(pages), err);
    if (!m) return kestrel::code(err);
    const std::int64_t r = ipc::insert(*me.ipc.caps, slot, ::ipc::ObjectType::Memory, *m);
    if (r != 0) ipc::put(*m); // another thread filled the slot meanwhile
    return r;
}

// mem_map(slot, va, first, pages, prot): the mapping takes a reference of its own, which the
// space gives back after the flush of mem_unmap or at its release.
std::int64_t sys_mem_map(Thread& me, const hal::TrapFrame& tf) {
    const std::uint64_t va = arg(tf, 1), first = arg(tf, 2), pages = arg(tf, 3), prot = arg(tf, 4);
    if ((prot & ~std::uint64_t{kestrel::ProtRead | kestrel::ProtWrite}) != 0 ||
        !(prot & kestrel::ProtRead))
        return kestrel::code(Error::BadArgument);
    const ::ipc::Rights needed = (prot & kestrel::ProtWrite)
                                     ? ::ipc::Rights::receive() | ::ipc::Rights::send()
                                     : ::ipc::Rights::receive();
    const ipc::Found f = ipc::lookup(*me.ipc.caps, arg(tf, 0), ::ipc::ObjectType::Memory, needed);
    if (f.error != 0) return f.error;
    auto& m = *static_cast<ipc::MemoryObject*>(f.cap.object);
    std::int64_t r = kestrel::code(Error::BadLength);
    if (pages != 0 && first < m.pages && pages <= m.pages - first) {
        ipc::get(m); // the mapping's
        r = uspace::map_shared(*space_of(*me.process), va, &m.frames[first], pages, prot, &m,
                               &ipc::drop_mapping);
        if (r != 0) ipc::put(m);
    }
    ipc::put(m); // the lookup's
    return r;
}

// device_get(platform, compat, len, dst): the name copied in, then the record (irq/device.hpp).
std::int64_t sys_device_get(Thread& me, const hal::TrapFrame& tf) {
    const std::uint64_t compat = arg(tf, 1), len = arg(tf, 2);
    if (len == 0 || len > kestrel::kMaxCompatible) return kestrel::code(Error::BadLength);
    char name[kestrel::kMaxCompatible];
    if (const std::int64_t e = uaccess::copy_in(name, compat, len); e != 0) return e;
    return irq::device_get(*me.ipc.caps, arg(tf, 0), name, len, arg(tf, 3));
}

std::int64_t sys_object_count(std::uint64_t kind) {
    switch (kind) {
    case 0:
        return ipc::free_endpoints();
    case 1:
        return ipc::free_notifications();
    case 2:
        return free_processes();
    case 3:
        return free_threads();
    case 4:
        return ipc::free_memory_objects();
    case 5:
        return irq::free_handlers();
    case 6:
        return irq::free_devices();
    default:
        return kestrel::code(Error::BadArgument);
    }
}

} // namespace

std::int64_t syscall(Thread& me, hal::TrapFrame& tf) {
    // A syscall runs with interrupts on (RFC-0027 invariant 3): a tick must be able to preempt
    // a long call, and a blocking call must not sleep with them off.
    if (!hal::Cpu::irq_enabled()) [[unlikely]]
        k::panic("syscall entered with interrupts off");
    Process* p = me.process;
    switch (static_cast<Sys>(tf.x[17])) {
    case Sys::Exit:
        thread_exit(kestrel::WaitKind::Exited, static_cast<std::int32_t>(arg(tf, 0)), 0);
    case Sys::Yield:
        (void)sched::yield();
        return 0;
    case Sys::ConsoleWrite:
        return sys_console_write(me, tf);
    case Sys::Spawn:
        return sys_spawn(me, tf);
    case Sys::Wait:
        return sys_await(me, tf, true);
    case Sys::ThreadCreate:
        return sys_thread_create(me, tf);
    case Sys::Map:
        return uspace::map(*space_of(*p), arg(tf, 0), arg(tf, 1), arg(tf, 2));
    case Sys::Unmap:
        return uspace::unmap(*space_of(*p), arg(tf, 0), arg(tf, 1));
    case Sys::Sleep:
        return sys_sleep(me, tf);
    case Sys::CurrentCpu:
        return current_cpu();
    case Sys::Time:
        return static_cast<std::int64_t>(time::to_us(time::now()));
    case Sys::Join:
        return sys_await(me, tf, false);
    case Sys::FrameCount:
        return static_cast<std::int64_t>(frames::free_count());
    case Sys::Joiners:
        return joiners(p, static_cast<std::int64_t>(arg(tf, 0)));
    case Sys::EndpointCreate:
        return ipc::create(*me.ipc.caps, arg(tf, 0), ::ipc::ObjectType::Endpoint);
    case Sys::NotificationCreate:
        return ipc::create(*me.ipc.caps, arg(tf, 0), ::ipc::ObjectType::Notification);
    case Sys::CapMint:
        return ipc::mint(*me.ipc.caps, arg(tf, 0), arg(tf, 1), arg(tf, 2), arg(tf, 3));
    case Sys::CapCopy:
        return ipc::mint(*me.ipc.caps, arg(tf, 0), arg(tf, 1), arg(tf, 2), 0);
    case Sys::CapDelete:
        return ipc::remove(*me.ipc.caps, arg(tf, 0));
    case Sys::Send:
        return ipc::send(me.ipc, tf, true);
    case Sys::NbSend:
        return ipc::send(me.ipc, tf, false);
    case Sys::Recv:
        return ipc::receive(me.ipc, tf, true);
    case Sys::Poll:
        return ipc::receive(me.ipc, tf, false);
    case Sys::Call:
        return ipc::call(me.ipc, tf);
    case Sys::Reply:
        return ipc::reply(me.ipc, tf);
    case Sys::ReplyRecv:
        return ipc::reply_receive(me.ipc, tf);
    case Sys::Signal:
        return ipc::signal(me.ipc, tf);
    case Sys::NotifyWait:
        return ipc::notify_wait(me.ipc, tf);
    case Sys::RecvTimed:
    case Sys::CallTimed:
    case Sys::NotifyWaitTimed:
        return sys_timed(me, tf, static_cast<Sys>(tf.x[17]));
    case Sys::NotifyPoll:
        return ipc::notify_poll(me.ipc, tf);
    case Sys::ObjectCount:
        return sys_object_count(arg(tf, 0));
    case Sys::TaskKill:
        return sys_task(me, tf, true);
    case Sys::TaskWait:
        return sys_task(me, tf, false);
    case Sys::MemCreate:
        return sys_mem_create(me, tf);
    case Sys::MemMap:
        return sys_mem_map(me, tf);
    case Sys::MemUnmap:
        return uspace::unmap_shared(*space_of(*p), arg(tf, 0), arg(tf, 1));
    case Sys::IrqGet:
        return irq::get(*me.ipc.caps, arg(tf, 0), arg(tf, 1), arg(tf, 2));
    case Sys::IrqBind:
        return irq::bind(*me.ipc.caps, arg(tf, 0), arg(tf, 1), arg(tf, 2));
    case Sys::IrqAck:
        return irq::ack(*me.ipc.caps, arg(tf, 0));
    case Sys::IrqRoute:
        return irq::route(*me.ipc.caps, arg(tf, 0), arg(tf, 1));
    case Sys::DeviceGet:
        return sys_device_get(me, tf);
    case Sys::DeviceMap:
        return irq::device_map(*me.ipc.caps, *space_of(*p), arg(tf, 0), arg(tf, 1));
    case Sys::IrqStatus:
        return irq::status(*me.ipc.caps, arg(tf, 0));
    // The shell's calls (issue 20, RFC-0032).
    case Sys::ProcInfo:
        return sys_proc_info(tf);
    case Sys::HartInfo:
        return sys_hart_info(tf);
    case Sys::HartOffline:
        return sys_hart_control(me, tf, false);
    case Sys::HartOnline:
        return sys_hart_control(me, tf, true);
    }
    return kestrel::code(Error::BadNumber);
}

} // namespace k::user
