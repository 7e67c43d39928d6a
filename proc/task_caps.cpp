// Task capabilities (RFC-0028): what they name is the process record; task_kill, task_wait.
#include "ipc/ipc_calls.hpp"
#include "proc/process_record.hpp"

namespace k::user {

// The parent's task capability to p in `slot` (kNoCap: none asked). False when the slot was
// filled meanwhile; the capability's reference on p is then not taken.
bool give_task_cap(Process* parent, std::uint64_t slot, Process& p) {
    if (slot == kestrel::kNoCap || !parent) return true;
    process_get(p); // the capability's, taken before it can be seen
    ::ipc::CapError e;
    {
        k::ipc::SpaceGuard g(parent->caps);
        e = parent->caps.table.insert(slot, ::ipc::ObjectType::Task, &p.task, ::ipc::Rights::all());
    }
    if (e == ::ipc::CapError::Ok) return true;
    p.refs.fetch_sub(1, std::memory_order_relaxed); // never the last: the parent's link holds
    return false;
}

std::int64_t task_kill(k::ipc::TaskObject& obj) {
    Process& p = *static_cast<Process*>(obj.process);
    {
        k::SpinGuard g(p.lock);
        if (p.dead || p.kill.load(std::memory_order_relaxed)) return 0;
        p.kill.store(true, std::memory_order_release);
        p.status = kestrel::WaitStatus{kestrel::WaitKind::Killed, 0, 0};
    }
    kill_threads(p, nullptr);
    return 0;
}

std::int64_t task_wait(k::ipc::TaskObject& obj, kestrel::WaitStatus& out) {
    bool killed = false;
    const bool before = join_process(*static_cast<Process*>(obj.process), out, killed);
    if (killed) return static_cast<std::int64_t>(kestrel::Error::Destroyed); // the caller ends next
    return before ? 0 : 1;
}

void process_ref(Process& p) {
    process_get(p);
}

void process_unref(Process& p) {
    put(p);
}

void task_object_get(k::ipc::TaskObject& t) {
    process_ref(*static_cast<Process*>(t.process));
}

void task_object_put(k::ipc::TaskObject& t) {
    process_unref(*static_cast<Process*>(t.process));
}

} // namespace k::user
