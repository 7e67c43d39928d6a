// The scheduler's panics that name a task (sched/task_panic.hpp).
#include "sched/task_panic.hpp"

#include "base/panic.hpp"
#include "base/percpu.hpp"

namespace sched {

namespace {
char g_task_reason[k::kMaxCpus][k::LineBuffer::kCapacity + 1];
} // namespace

void task_panic_begin(k::LineBuffer& l, const char* what, const Task& t) {
    l.put("sched: ");
    l.put(what);
    l.put(": task ");
    l.put(t.name);
    l.put(" #");
    l.put(t.id);
}

void task_panic_end(const k::LineBuffer& l, std::uint32_t cpu) {
    char* out = g_task_reason[cpu & (k::kMaxCpus - 1)];
    for (std::size_t i = 0; i < l.size(); ++i)
        out[i] = l.data()[i];
    out[l.size()] = '\0';
    k::panic(out);
}

void task_panic(const char* what, const Task& t, std::uint32_t cpu, const char* a, std::uint64_t va,
                const char* b, std::uint64_t vb) {
    k::LineBuffer l;
    task_panic_begin(l, what, t);
    l.put(' ');
    l.put(a);
    l.put(' ');
    l.put(va);
    l.put(", ");
    l.put(b);
    l.put(' ');
    l.put(vb);
    task_panic_end(l, cpu);
}

} // namespace sched
