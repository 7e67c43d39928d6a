// The interrupt sources: records, the trap handler (claim, mask, signal, complete), the calls,
// the boot's pending sources and the offline hook (RFC-0031).
#include "irq/irq.hpp"

#include "base/console.hpp"
#include "base/fault.hpp"
#include "base/panic.hpp"
#include "base/percpu.hpp"
#include "base/ref_count.hpp"
#include "base/spin_lock.hpp"
#include "hal_cpu.hpp"
#include "ipc/call_steps.hpp"
#include "ipc/objects.hpp"
#include "irq/device.hpp"
#include "irq/plic.hpp"
#include "mm/kernel_space.hpp"
#include "sched/scheduler.hpp"
#include "trap/trap.hpp"

#include <atomic>

namespace k::irq {

namespace {

using kestrel::Error;

constexpr std::uint32_t kNoContext = ~0u;
constexpr std::uint32_t kOn = 1;      // a driven source's priority while unmasked
constexpr std::uint32_t kMaxPrio = 7; // IrqMaskAll's threshold: nothing passes

struct Source : ipc::ForeignObject {
    std::atomic<std::uint32_t> refs{0}; // the capabilities' one + operations; 0: free
    std::uint32_t id = 0;               // fixed at init
    std::uint32_t cpu = 0;              // guarded by g_lock: the logical cpu it is routed to
    bool masked = true;                 // guarded by g_lock
    bool latched = false;               // guarded by g_lock: fired (or boot-pending), unbound
    ipc::Notification* notif = nullptr; // guarded by g_lock: holds a reference while bound
    std::uint64_t badge = 0;            // guarded by g_lock
};

k::SpinLock g_lock{"irq"};
Source g_sources[kMaxSources];
std::uint32_t g_count = 0; // driven sources: 1..g_count; written once by init
dtb::IrqContext g_contexts[dtb::kMaxIrqContexts]; // written once by init
std::uint32_t g_context_count = 0;
bool g_active = false;
std::uint32_t g_boot_pending = 0;
std::atomic<std::uint32_t> g_held{0};
std::atomic<std::uint64_t> g_deliveries{0};

// The S context of logical cpu `cpu` (through its hart id), kNoContext when the DTB gave none.
std::uint32_t context_of(std::uint32_t cpu) {
    if (cpu >= kMaxCpus) return kNoContext;
    const std::uint32_t hart = cpu_block(cpu).head.hart_id;
    for (std::uint32_t i = 0; i < g_context_count; ++i)
        if (g_contexts[i].hart_id == hart) return g_contexts[i].context;
    return kNoContext;
}

void mask(Source& s, std::uint32_t ctx) { // g_lock held
    s.masked = true;
    if (fault::is(fault::Fault::IrqMaskAll))
        plic::set_threshold(ctx, kMaxPrio); // the bug: the whole context waits for this ack
    else
        plic::set_priority(s.id, 0);
}

void unmask(Source& s) { // g_lock held
    s.masked = false;
    if (fault::is(fault::Fault::IrqMaskAll)) {
        const std::uint32_t ctx = context_of(s.cpu);
        if (ctx != kNoContext) plic::set_threshold(ctx, 0);
    }
    plic::set_priority(s.id, kOn);
}

// ORs `badge` into n's word, waking its waiter (any hart). No lock held.
void deliver(ipc::Notification& n, std::uint64_t badge) {
    ipc::IpcThread* w = nullptr;
    {
        k::SpinGuard g(n.lock);
        (void)ipc::steps::signal_locked(n, badge, w);
    }
    if (w) ipc::steps::post(*w, 0);
    g_deliveries.fetch_add(1, std::memory_order_relaxed);
}

// One claimed source on context `ctx`: mask, note or signal, complete.
void handle(std::uint32_t ctx, std::uint32_t id) {
    ipc::Notification* n = nullptr;
    std::uint64_t badge = 0;
    {
        k::SpinGuard g(g_lock);
        if (id < kMaxSources && id <= g_count) {
            Source& s = g_sources[id];
            mask(s, ctx);
            if (s.refs.load(std::memory_order_relaxed) != 0 && s.notif) {
                n = s.notif;
                badge = s.badge;
                ipc::get(*n); // this delivery's
            } else if (!fault::is(fault::Fault::IrqLostUnbound)) {
                s.latched = true; // delivered by the bind to come
            }
        } else {
            plic::set_priority(id, 0); // not driven: never again
        }
        // The PLIC ignores a completion for a source not enabled on the context; a route
        // may have moved it since the claim.
        const bool on = plic::enabled(ctx, id);
        if (!on) plic::set_enabled(ctx, id, true);
        plic::complete(ctx, id);
        if (!on) plic::set_enabled(ctx, id, false);
    }
    if (n) {
        deliver(*n, badge);
        ipc::put(*n);
    }
}

void on_external() {
    const std::uint32_t ctx = context_of(current_cpu());
    if (ctx == kNoContext) return;
    while (const std::uint32_t id = plic::claim(ctx))
        handle(ctx, id);
}

void source_get(ipc::ForeignObject& o) {
    if (static_cast<Source&>(o).refs.fetch_add(1, std::memory_order_relaxed) == 0)
        panic("irq: get of a free source record");
}

// The last reference: the source is masked, unrouted and unbound, and free again.
void source_put(ipc::ForeignObject& o) {
    Source& s = static_cast<Source&>(o);
    if (k::drop_unless_last(s.refs)) return;
    ipc::Notification* n = nullptr;
    {
        k::SpinGuard g(g_lock);
        s.masked = true;
        plic::set_priority(s.id, 0);
        const std::uint32_t ctx = context_of(s.cpu);
        if (ctx != kNoContext) plic::set_enabled(ctx, s.id, false);
        s.latched = false;
        n = s.notif;
        s.notif = nullptr;
        s.badge = 0;
        if (s.refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
            g_held.fetch_sub(1, std::memory_order_relaxed);
    }
    if (n) ipc::put(*n); // the binding's
}

// A hart going offline: its sources go to the lowest other online cpu, with a line each.
void on_offline(std::uint32_t cpu) {
    std::uint32_t to = kMaxCpus;
    for (std::uint32_t c = 0; c < cpu_count() && to == kMaxCpus; ++c)
        if (c != cpu && cpu_online(c)) to = c;
    if (to == kMaxCpus) return;
    const std::uint32_t from_ctx = context_of(cpu), to_ctx = context_of(to);
    std::uint32_t moved[kMaxSources];
    std::uint32_t n = 0;
    {
        k::SpinGuard g(g_lock);
        for (std::uint32_t id = 1; id <= g_count; ++id) {
            Source& s = g_sources[id];
            if (s.refs.load(std::memory_order_relaxed) == 0 || s.cpu != cpu) continue;
            if (from_ctx != kNoContext) plic::set_enabled(from_ctx, id, false);
            if (to_ctx != kNoContext) plic::set_enabled(to_ctx, id, true);
            s.cpu = to;
            moved[n++] = id;
        }
    }
    for (std::uint32_t i = 0; i < n; ++i)
        println("KINIT: irq: cpu", cpu, " going offline: source ", moved[i], " moved to cpu", to);
}

// The Irq capability in `slot` with an operation reference, or the error.
std::int64_t find(ipc::CapSpace& caps, std::uint64_t slot, Source*& out) {
    const ipc::Found f = ipc::lookup(caps, slot, ::ipc::ObjectType::Irq, ::ipc::Rights::none());
    if (f.error != 0) return f.error;
    out = static_cast<Source*>(static_cast<ipc::ForeignObject*>(f.cap.object));
    return 0;
}

} // namespace

void init(const dtb::IrqInfo& info) {
    for (std::uint32_t i = 0; i < kMaxSources; ++i) {
        g_sources[i].id = i;
        g_sources[i].get = &source_get;
        g_sources[i].put = &source_put;
    }
    if (info.controller == dtb::IrqController::Aplic) {
        println("KINIT: irq: APLIC at ", hex(info.base),
                " not supported (only a PLIC is driven: no interrupt capabilities)");
        return;
    }
    if (info.controller != dtb::IrqController::Plic) {
        println("KINIT: irq: no interrupt controller", info.refused[0] ? " (refused: " : "",
                info.refused, info.refused[0] ? ")" : "", ": no interrupt capabilities");
        return;
    }
    plic::set_base(kspace::irq_va(info.base));
    g_count = info.sources < kMaxSources ? info.sources : kMaxSources - 1;
    g_context_count = info.context_count;
    for (std::uint32_t i = 0; i < info.context_count; ++i)
        g_contexts[i] = info.contexts[i];
    // Every source masked (priority 0) and enabled nowhere; every S context open.
    for (std::uint32_t i = 0; i < g_context_count; ++i) {
        for (std::uint32_t id = 1; id <= g_count; ++id)
            plic::set_enabled(g_contexts[i].context, id, false);
        plic::set_threshold(g_contexts[i].context, 0);
    }
    for (std::uint32_t id = 1; id <= g_count; ++id)
        plic::set_priority(id, 0);
    // What the firmware or the boot left pending (seL4#1482): claimed on this hart, latched for
    // the source's first binding, and completed, so its gateway forwards it again. Priority 0
    // before the completion: a level source that re-pends is not claimed twice here.
    const std::uint32_t ctx = context_of(current_cpu());
    if (ctx != kNoContext) {
        for (std::uint32_t id = 1; id <= g_count; ++id) {
            if (!plic::pending(id)) continue;
            plic::set_priority(id, kOn);
            plic::set_enabled(ctx, id, true);
        }
        while (const std::uint32_t id = plic::claim(ctx)) {
            plic::set_priority(id, 0);
            ++g_boot_pending;
            if (fault::is(fault::Fault::IrqBootStuck)) continue; // the bug: never completed
            if (id <= g_count) g_sources[id].latched = true;
            plic::complete(ctx, id);
        }
        for (std::uint32_t id = 1; id <= g_count; ++id)
            plic::set_enabled(ctx, id, false);
    }
    g_active = true;
    sched::set_offline_hook(&on_offline);
    trap::set_external_handler(&on_external);
    println("KINIT: irq: plic at ", hex(info.base), ", ", g_count, " sources, ", g_context_count,
            " S context(s), ", g_boot_pending, " pending at boot latched");
}

bool active() {
    return g_active;
}

void this_hart_up() {
    if (!g_active) return;
    const std::uint32_t cpu = current_cpu();
    const std::uint32_t ctx = context_of(cpu);
    if (ctx == kNoContext) return;
    k::SpinGuard g(g_lock);
    plic::set_threshold(ctx, 0);
    for (std::uint32_t id = 1; id <= g_count; ++id) {
        const Source& s = g_sources[id];
        plic::set_enabled(ctx, id, s.refs.load(std::memory_order_relaxed) != 0 && s.cpu == cpu);
    }
}

std::int64_t get(ipc::CapSpace& caps, std::uint64_t platform, std::uint64_t source,
                 std::uint64_t dst) {
    const ipc::Found f =
        ipc::lookup(caps, platform, ::ipc::ObjectType::Platform, ::ipc::Rights::none());
    if (f.error != 0) return f.error;
    ipc::foreign_put(*static_cast<ipc::ForeignObject*>(f.cap.object)); // a static record
    if (const std::int64_t e = ipc::check_free(caps, dst); e != 0) return e;
    if (!g_active) return kestrel::code(Error::NoDevice);
    if (source == 0 || source > g_count) return kestrel::code(Error::BadArgument);
    // A restricted Platform capability (badged) reaches its node's interrupt only.
    if (!platform_allows_source(f.cap.badge, source)) return kestrel::code(Error::NoDevice);
    Source& s = g_sources[source];
    {
        k::SpinGuard g(g_lock);
        if (s.refs.load(std::memory_order_relaxed) != 0) return kestrel::code(Error::InUse);
        s.refs.store(1, std::memory_order_relaxed);
        g_held.fetch_add(1, std::memory_order_relaxed);
        s.notif = nullptr;
        s.badge = 0;
        s.cpu = current_cpu();
        const std::uint32_t ctx = context_of(s.cpu);
        if (ctx != kNoContext) plic::set_enabled(ctx, s.id, true);
        if (s.latched)
            s.masked = true; // delivered at bind, then unmasked by the ack
        else
            unmask(s);
    }
    const std::int64_t r = ipc::insert(caps, dst, ::ipc::ObjectType::Irq, s);
    if (r != 0) source_put(s); // another thread filled the slot meanwhile
    return r;
}

std::int64_t bind(ipc::CapSpace& caps, std::uint64_t irq, std::uint64_t notification,
                  std::uint64_t badge) {
    Source* s = nullptr;
    if (const std::int64_t e = find(caps, irq, s); e != 0) return e;
    const ipc::Found f =
        ipc::lookup(caps, notification, ::ipc::ObjectType::Notification, ::ipc::Rights::send());
    if (f.error != 0) {
        source_put(*s);
        return f.error;
    }
    auto& n = *static_cast<ipc::Notification*>(f.cap.object);
    const std::uint64_t b = badge != 0 ? badge : (f.cap.badge != 0 ? f.cap.badge : 1);
    std::int64_t r = 0;
    {
        k::SpinGuard g(g_lock);
        if (s->notif) {
            r = kestrel::code(Error::InUse);
        } else {
            ipc::get(n); // the binding's
            s->notif = &n;
            s->badge = b;
            if (s->latched) {
                s->latched = false;
                r = 1;
            }
        }
    }
    if (r == 1) deliver(n, b);
    ipc::put(n);
    source_put(*s);
    return r;
}

std::int64_t ack(ipc::CapSpace& caps, std::uint64_t irq) {
    Source* s = nullptr;
    if (const std::int64_t e = find(caps, irq, s); e != 0) return e;
    {
        k::SpinGuard g(g_lock);
        if (s->masked && !s->latched) unmask(*s);
    }
    source_put(*s);
    return 0;
}

std::int64_t route(ipc::CapSpace& caps, std::uint64_t irq, std::uint64_t cpu) {
    Source* s = nullptr;
    if (const std::int64_t e = find(caps, irq, s); e != 0) return e;
    std::int64_t r = 0;
    if (cpu >= cpu_count() || !cpu_online(static_cast<std::uint32_t>(cpu)) ||
        context_of(static_cast<std::uint32_t>(cpu)) == kNoContext) {
        r = kestrel::code(Error::BadArgument);
    } else {
        k::SpinGuard g(g_lock);
        const std::uint32_t from = context_of(s->cpu);
        const std::uint32_t to = context_of(static_cast<std::uint32_t>(cpu));
        if (fault::is(fault::Fault::IrqMaskAll) && s->masked && from != kNoContext)
            plic::set_threshold(from, 0);
        if (from != kNoContext) plic::set_enabled(from, s->id, false);
        plic::set_enabled(to, s->id, true);
        s->cpu = static_cast<std::uint32_t>(cpu);
        if (fault::is(fault::Fault::IrqMaskAll) && s->masked) plic::set_threshold(to, kMaxPrio);
    }
    source_put(*s);
    return r;
}

std::int64_t status(ipc::CapSpace& caps, std::uint64_t irq) {
    Source* s = nullptr;
    if (const std::int64_t e = find(caps, irq, s); e != 0) return e;
    std::int64_t r = 0;
    {
        k::SpinGuard g(g_lock);
        r = (s->masked ? 1 : 0) | (s->latched ? 2 : 0) | (s->notif ? 4 : 0) |
            static_cast<std::int64_t>(s->cpu & 0xff) << 8 | static_cast<std::int64_t>(s->id) << 16;
    }
    source_put(*s);
    return r;
}

std::uint32_t free_handlers() {
    return g_count - g_held.load(std::memory_order_relaxed);
}

std::uint32_t route_of(std::uint32_t source) {
    if (source == 0 || source > g_count) return kMaxSources;
    k::SpinGuard g(g_lock);
    return g_sources[source].refs.load(std::memory_order_relaxed) != 0 ? g_sources[source].cpu
                                                                       : kMaxSources;
}

std::uint32_t boot_pending() {
    return g_boot_pending;
}

std::uint64_t deliveries() {
    return g_deliveries.load(std::memory_order_relaxed);
}

} // namespace k::irq
