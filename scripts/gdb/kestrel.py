# Kestrel gdb helpers: `source scripts/gdb/kestrel.py`, then `help kestrel`.
#
# Reads the kernel's own structures through its debug info (names, enum
# values and array bounds come from DWARF, so a new field or class does not
# need an edit here):
#   k::(anon)::g_cpus[]            base/percpu.cpp   per-hart block (hal::HartHead first)
#   sched::detail::(anon)::g_sched[] sched/scheduler.cpp run queue, inbox, counters (CpuSched)
#   k::ipi::(anon)::g_targets[]    base/ipi.cpp        pending bits and the resched chain
#   sched::(anon)::g_task_mem[]    sched/task_pool.cpp task slots, g_used[] says which live
# Restated here (constexpr values have no debug info): the task state word's
# packing (sched/task_state.hpp: bits 0-7 state, 8-15 reason, 32-63
# transitions) and hal::kHartMagic (hal/riscv64/hart_head.hpp).
#
# Output is one fact per line, "key=value" words, so scripts can parse it
# (scripts/tests/gdb_debug.sh does).

import gdb

MAX_WALK = 4096  # list walks stop here: memory may be corrupt while debugging
HART_MAGIC = 0x4B45535452454C31  # "KESTREL1"


def _sym(name):
    s = gdb.lookup_static_symbol(name) or gdb.lookup_global_symbol(name)
    if s is None:
        try:
            s = gdb.lookup_symbol(name)[0]
        except gdb.error:
            s = None
    if s is None:
        raise gdb.GdbError("kestrel: symbol %s not found (kernel built without -g?)" % name)
    return s.value()


def _g_cpus():
    return _sym("k::(anonymous namespace)::g_cpus")


def _g_sched():
    return _sym("sched::detail::(anonymous namespace)::g_sched")


def _g_targets():
    return _sym("k::ipi::(anonymous namespace)::g_targets")


def atom(v):
    """The value inside a std::atomic<T> (any nesting of libstdc++ bases)."""
    for _ in range(8):
        t = v.type.strip_typedefs()
        if t.code not in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
            return v
        fields = [f for f in t.fields() if hasattr(f, "bitpos")]  # skip statics
        if not fields:
            return v
        v = v[fields[0]]
    return v


def u(v):
    return int(atom(v))


def _enum_names(type_name):
    """{value: short name} of an enum, from the debug info."""
    try:
        t = gdb.lookup_type(type_name).strip_typedefs()
    except gdb.error:
        return {}
    return {int(f.enumval): f.name.split("::")[-1] for f in t.fields()}


def _name(names, value):
    return names.get(value, "?%d" % value)


def _array_len(v):
    lo, hi = v.type.strip_typedefs().range()
    return hi - lo + 1


def _string(p):
    try:
        if int(p) == 0:
            return ""
        raw = bytes(gdb.selected_inferior().read_memory(int(p), 64))
        return raw.split(b"\0", 1)[0].decode("ascii", "replace")
    except gdb.error:
        return "<bad %#x>" % int(p)


def cpu_count():
    n = int(_sym("k::(anonymous namespace)::g_cpu_count"))
    return max(0, min(n, _array_len(_g_cpus())))


def _task_ptr_type():
    return gdb.lookup_type("sched::Task").pointer()


def list_nodes(lst):
    """Element pointers of a k::IntrusiveList, front to back (links
    point at the elements themselves)."""
    elem_ptr = lst["head_"].type
    p = lst["head_"]
    out = []
    while int(p) != 0 and len(out) < MAX_WALK:
        out.append(p)
        p = p.dereference()["link"]["next"].cast(elem_ptr)
    return out


def task_state(task):
    word = u(task["state"]["word_"])
    states = _enum_names("sched::TaskState")
    reasons = _enum_names("sched::BlockReason")
    st = _name(states, word & 0xFF)
    reason = word >> 8 & 0xFF
    if st == "Blocked":
        st += "{%s}" % _name(reasons, reason)
    return st, word >> 32


def task_brief(p):
    t = p.dereference()
    st, _ = task_state(t)
    return "#%d %s %s on_cpu=%d qos=%s%s" % (
        int(t["id"]), _string(t["name"]) or "-", st, u(t["on_cpu"]),
        _name(_enum_names("sched::Qos"), int(t["qos"])), " pinned" if bool(t["pinned"]) else "")


def task_lines(p):
    t = p.dereference()
    st, transitions = task_state(t)
    on_cpu = u(t["on_cpu"])
    return [
        "task #%d %s at %#x" % (int(t["id"]), _string(t["name"]) or "-", int(p)),
        "  state=%s transitions=%d" % (st, transitions),
        "  on_cpu=%d%s" % (on_cpu, " (registers live on cpu%d)" % (on_cpu - 1) if on_cpu else
                           " (switched out)"),
        "  refs=%d home_cpu=%d last_cpu=%d qos=%s pinned=%d idle=%d preempt_off=%d" % (
            u(t["refs"]), u(t["home_cpu"]), u(t["last_cpu"]),
            _name(_enum_names("sched::Qos"), int(t["qos"])), bool(t["pinned"]),
            bool(t["idle"]), int(t["preempt_off"])),
        "  runs=%d preempts=%d saved ra=%#x sp=%#x stack=[%#x,%#x)" % (
            u(t["ctx"]["run"]), u(t["preempts"]), int(t["ctx"]["ra"]), int(t["ctx"]["sp"]),
            int(t["stack_lo"]), int(t["stack_hi"])),
        "  linked=%d" % (int(t["link"]["owner"]) != 0),
    ]


def live_tasks():
    mem = _sym("sched::(anonymous namespace)::g_task_mem")
    used = _sym("sched::(anonymous namespace)::g_used")
    out = []
    for i in range(_array_len(used)):
        if bool(used[i]):
            out.append(mem[i].address.cast(_task_ptr_type()))
    return out


def find_task(arg):
    """A Task* from an expression, '#N' (task id, searched in the pool),
    'cpuN' (that hart's current task) or 'current' (the selected thread's)."""
    arg = arg.strip()
    if not arg:
        raise gdb.GdbError("usage: kestrel task <Task* expression | #id | cpuN | current>")
    if arg == "current" or (arg.startswith("cpu") and arg[3:].isdigit()):
        c = selected_cpu() if arg == "current" else int(arg[3:])
        if c is None or not 0 <= c < _array_len(_g_sched()):
            raise gdb.GdbError("kestrel: no cpu for %s" % arg)
        p = atom(_g_sched()[c]["current"])
        if int(p) == 0:
            raise gdb.GdbError("kestrel: cpu%d runs no task yet" % c)
        return p.cast(_task_ptr_type())
    if arg.startswith("#"):
        want = int(arg[1:], 0)
        for p in live_tasks():
            if int(p.dereference()["id"]) == want:
                return p
        raise gdb.GdbError("kestrel: no live task #%d" % want)
    v = gdb.parse_and_eval(arg)
    if v.type.strip_typedefs().code != gdb.TYPE_CODE_PTR:
        v = v.address if v.address is not None else v
    return v.cast(_task_ptr_type())


def thread_cpus():
    """{cpu: gdb thread number}: each QEMU hart (a gdb thread) mapped to the
    per-cpu block its tp names."""
    blocks = _g_cpus()
    base = int(blocks[0].address)
    size = blocks[0].type.sizeof
    out = {}
    inf = gdb.selected_inferior()
    cur = gdb.selected_thread()
    try:
        for th in inf.threads():
            th.switch()
            tp = int(gdb.parse_and_eval("$tp")) & 0xFFFFFFFFFFFFFFFF
            off = tp - base
            if 0 <= off < size * _array_len(blocks) and off % size == 0:
                out[off // size] = th.num
    finally:
        if cur is not None:
            cur.switch()
    return out


def selected_cpu():
    tp = int(gdb.parse_and_eval("$tp")) & 0xFFFFFFFFFFFFFFFF
    blocks = _g_cpus()
    base = int(blocks[0].address)
    size = blocks[0].type.sizeof
    off = tp - base
    if 0 <= off < size * _array_len(blocks) and off % size == 0:
        return off // size
    return None


def _cpu_args(arg):
    arg = arg.strip()
    if arg:
        c = int(gdb.parse_and_eval(arg))
        if not 0 <= c < _array_len(_g_cpus()):
            raise gdb.GdbError("kestrel: no cpu %d" % c)
        return [c]
    return list(range(cpu_count()))


class Kestrel(gdb.Command):
    """Kestrel kernel state. Subcommands: harts, cpu, rq, inbox, task, tasks, ipi."""

    def __init__(self):
        super().__init__("kestrel", gdb.COMMAND_DATA, gdb.COMPLETE_NONE, True)


class Harts(gdb.Command):
    """Each hart's per-cpu block and scheduler state: kestrel harts [CPU]."""

    def __init__(self):
        super().__init__("kestrel harts", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        states = _enum_names("k::CpuState")
        blocks, scheds = _g_cpus(), _g_sched()
        threads = thread_cpus()
        print("cpus=%d" % cpu_count())
        for c in _cpu_args(arg):
            b, s = blocks[c], scheds[c]
            h = b["head"]
            cur = atom(s["current"])
            if int(cur) == 0:
                cur_s = "none"
            elif bool(cur.dereference()["idle"]):
                cur_s = "idle"
            else:
                cur_s = "#%d/%s" % (int(cur.dereference()["id"]), _string(cur.dereference()["name"]))
            print("cpu%d hart=%d state=%s magic=%s gdb-thread=%s block=%#x" % (
                c, int(h["hart_id"]), _name(states, u(b["state"])),
                "ok" if int(h["magic"]) == HART_MAGIC else "bad(%#x)" % int(h["magic"]),
                threads.get(c, "-"), int(b.address)))
            print("  stack=[%#x,%#x) boot-stack=[%#x,%#x) irq_depth=%d cpuid_fallbacks=%d"
                  " timer=%s" % (int(h["stack_lo"]), int(h["stack_hi"]), int(b["boot_stack_lo"]),
                                 int(b["boot_stack_hi"]), int(h["irq_depth"]),
                                 u(b["cpuid_fallbacks"]), "sstc" if bool(b["timer_sstc"]) else "sbi"))
            print("  current=%s queued=%d inbox=%d need_resched=%d offline_req=%d ticks=%d "
                  "switches=%d preempts=%d steals=%d stolen=%d" % (
                      cur_s, u(s["queued_hint"]), u(s["inbox"]["pending_"]), u(s["need_resched"]),
                      u(s["offline_req"]), u(s["tick_count"]), u(s["switches"]),
                      u(s["preempts"]), u(s["steals"]), u(s["stolen"])))


class Cpu(gdb.Command):
    """The cpu (per-cpu block) of the selected gdb thread, through its tp."""

    def __init__(self):
        super().__init__("kestrel cpu", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        c = selected_cpu()
        if c is None:
            print("thread=%d cpu=none (tp does not name a per-cpu block)"
                  % gdb.selected_thread().num)
            return
        print("thread=%d cpu=%d hart=%d" % (gdb.selected_thread().num, c,
                                            int(_g_cpus()[c]["head"]["hart_id"])))


class RunQueue(gdb.Command):
    """Run queue(s) by QoS class, highest first: kestrel rq [CPU]."""

    def __init__(self):
        super().__init__("kestrel rq", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        qos = _enum_names("sched::Qos")
        for c in _cpu_args(arg):
            rq = _g_sched()[c]["rq"]
            lists = rq["lists_"]
            n = _array_len(lists)
            sizes = [int(lists[i]["size_"]) for i in range(n)]
            print("cpu%d rq total=%d bitmap=%#x lock-owner=%#x %s" % (
                c, sum(sizes), int(rq["bitmap_"]), u(_g_sched()[c]["rq_lock"]["owner_"]),
                " ".join("%s=%d" % (_name(qos, i), sizes[i]) for i in reversed(range(n)))))
            for i in reversed(range(n)):
                nodes = list_nodes(lists[i])
                if len(nodes) != sizes[i]:
                    print("  %s: WARNING walked %d nodes, size_ says %d" % (
                        _name(qos, i), len(nodes), sizes[i]))
                for p in nodes:
                    print("  %s: %s" % (_name(qos, i), task_brief(p)))


class InboxCmd(gdb.Command):
    """Inbox(es) of remote wake-ups: kestrel inbox [CPU]."""

    def __init__(self):
        super().__init__("kestrel inbox", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        for c in _cpu_args(arg):
            ib = _g_sched()[c]["inbox"]
            st = ib["stats_"]
            nodes = list_nodes(ib["list_"])
            print("cpu%d inbox %s pending=%d size=%d pushed=%d taken=%d kept=%d parked=%d" % (
                c, "closed" if bool(ib["closed_"]) else "open", u(ib["pending_"]),
                int(ib["list_"]["size_"]), int(st["pushed"]), int(st["taken"]),
                int(st["kept"]), int(st["parked"])))
            for p in nodes:
                print("  %s" % task_brief(p))


class TaskCmd(gdb.Command):
    """A task's state, on_cpu and context: kestrel task <Task* expr | #id | cpuN | current>."""

    def __init__(self):
        super().__init__("kestrel task", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        for line in task_lines(find_task(arg)):
            print(line)


class Tasks(gdb.Command):
    """Every live task in the pool, one line each."""

    def __init__(self):
        super().__init__("kestrel tasks", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        ts = live_tasks()
        print("tasks=%d" % len(ts))
        for p in ts:
            print("  %s" % task_brief(p))


class Ipi(gdb.Command):
    """Resched IPI chain per target: request -> sent -> trapped -> acked."""

    def __init__(self):
        super().__init__("kestrel ipi", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        targets = _g_targets()
        print("rejected invalid=%d offline=%d" % (
            u(_sym("k::ipi::(anonymous namespace)::g_rejected_invalid")),
            u(_sym("k::ipi::(anonymous namespace)::g_rejected_offline"))))
        for c in _cpu_args(arg):
            t = targets[c]
            ch = t["chain"]
            print("cpu%d ipi pending=%#x requested=%d sent=%d trapped=%d acked=%d coalesced=%d "
                  "send_failed=%d" % (c, u(t["pending"]), u(ch["requested"]), u(ch["sent"]),
                                      u(ch["trapped"]), u(ch["acked"]), u(ch["coalesced"]),
                                      u(ch["send_failed"])))


Kestrel()
Harts()
Cpu()
RunQueue()
InboxCmd()
TaskCmd()
Tasks()
Ipi()
