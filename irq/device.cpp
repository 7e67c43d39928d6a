// Device records: one per DTB device node, at most one capability holder at a time; the
// console UART handed over to its holder and taken back with the record's last reference.
#include "irq/device.hpp"

#include "irq/platform_scope.hpp"

#include "base/console.hpp"
#include "base/panic.hpp"
#include "base/ref_count.hpp"
#include "base/spin_lock.hpp"
#include "ipc/objects.hpp"
#include "mm/page_table.hpp"

#include <atomic>

namespace k::irq {

namespace {

using kestrel::Error;

static_assert(dtb::kMaxDeviceNodes == kestrel::kMaxDevices,
              "a restricted Platform badge (1..kMaxDevices) can name every node the kernel lists");

struct Device : ipc::ForeignObject {
    std::atomic<std::uint32_t> refs{0};     // capabilities' one + mappings + operations
    std::uint64_t pages[kMaxDevicePages]{}; // fixed at devices_init
    std::uint32_t count = 0;                // pages; 0: the kernel keeps the node
    std::uint32_t irq = 0;
    bool console = false; // the kernel's console UART: handed over while held
    dtb::DeviceNode node{};
};

k::SpinLock g_lock{"devices"};
Device g_devices[dtb::kMaxDeviceNodes];
std::uint32_t g_device_count = 0; // written once by devices_init
std::atomic<std::uint32_t> g_held{0};
ipc::ForeignObject g_platform; // never freed: its hooks count nothing

// Nodes the kernel drives or that no user driver may reach.
constexpr const char* kKept[] = {"riscv,clint0",      "sifive,clint0",   "sifive,test0",
                                 "ucb,htif0",         "syscon-poweroff", "syscon-reboot",
                                 "sifive,plic-1.0.0", "riscv,plic0",     "riscv,aplic"};

std::size_t str_len(const char* s) {
    std::size_t n = 0;
    while (s[n])
        ++n;
    return n;
}

bool overlaps(std::uint64_t a, std::uint64_t an, std::uint64_t b, std::uint64_t bn) {
    return a < b + bn && b < a + an;
}

void device_get_ref(ipc::ForeignObject& o) {
    if (static_cast<Device&>(o).refs.fetch_add(1, std::memory_order_relaxed) == 0)
        panic("irq: get of a free device record");
}

void device_put_ref(ipc::ForeignObject& o) {
    Device& d = static_cast<Device&>(o);
    if (k::drop_unless_last(d.refs)) return;
    bool back = false;
    {
        k::SpinGuard g(g_lock);
        back = d.console;
        if (d.refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
            g_held.fetch_sub(1, std::memory_order_relaxed);
    }
    if (back) {
        console::take_back();
        println("KINIT: console: the UART is back with the kernel");
    }
}

void drop_mapping(void* owner) {
    device_put_ref(*static_cast<Device*>(owner));
}

void platform_ref(ipc::ForeignObject&) {}

} // namespace

void devices_init(const dtb::IrqInfo& info, const dtb::Platform& p) {
    g_platform.get = &platform_ref;
    g_platform.put = &platform_ref;
    g_device_count = info.device_count;
    for (std::uint32_t i = 0; i < info.device_count; ++i) {
        const dtb::DeviceNode& n = info.devices[i];
        Device& d = g_devices[i];
        d.get = &device_get_ref;
        d.put = &device_put_ref;
        d.node = n;
        d.irq = n.irq;
        bool kept = n.base % mm::kPageSize != 0 ||
                    n.size > std::uint64_t{kMaxDevicePages} * mm::kPageSize ||
                    (info.controller != dtb::IrqController::None &&
                     overlaps(n.base, n.size, info.base, info.size));
        for (const char* c : kKept)
            kept = kept || dtb::compatible_with(n, c, str_len(c));
        for (std::uint32_t m = 0; m < p.memory_count; ++m)
            kept = kept || overlaps(n.base, n.size, p.memory[m].base, p.memory[m].size);
        for (std::uint32_t m = 0; m < p.reserved_count; ++m)
            kept = kept || overlaps(n.base, n.size, p.reserved[m].base, p.reserved[m].size);
        d.console =
            !(p.defaulted & dtb::kNoUart) && p.uart_base >= n.base && p.uart_base < n.base + n.size;
        if (kept) continue;
        d.count = static_cast<std::uint32_t>((n.size + mm::kPageSize - 1) / mm::kPageSize);
        for (std::uint32_t pg = 0; pg < d.count; ++pg)
            d.pages[pg] = n.base + pg * mm::kPageSize;
    }
}

std::int64_t give_platform(ipc::CapSpace& caps, std::uint64_t slot) {
    return ipc::insert(caps, slot, ::ipc::ObjectType::Platform, g_platform);
}

std::int64_t device_get(ipc::CapSpace& caps, std::uint64_t platform, const char* compat,
                        std::uint64_t len, std::uint64_t dst) {
    const ipc::Found f =
        ipc::lookup(caps, platform, ::ipc::ObjectType::Platform, ::ipc::Rights::none());
    if (f.error != 0) return f.error;
    if (const std::int64_t e = ipc::check_free(caps, dst); e != 0) return e;
    // Only the nodes the capability's badge names (all for the root's, badge 0); any other
    // node is NoDevice, as one the DTB lacks.
    Device* d = nullptr;
    for (std::uint32_t i = 0; i < g_device_count && !d; ++i)
        if (scope_has_node(f.cap.badge, i, g_device_count) &&
            dtb::compatible_with(g_devices[i].node, compat, len))
            d = &g_devices[i];
    if (!d) return kestrel::code(Error::NoDevice);
    if (d->count == 0) return kestrel::code(Error::KernelOwned);
    {
        k::SpinGuard g(g_lock);
        if (d->refs.load(std::memory_order_relaxed) != 0) return kestrel::code(Error::InUse);
        d->refs.store(1, std::memory_order_relaxed);
        g_held.fetch_add(1, std::memory_order_relaxed);
    }
    if (d->console) {
        console::hand_over();
        println("KINIT: console: the UART is handed to a user driver; kernel lines go "
                "through SBI");
    }
    const std::int64_t r = ipc::insert(caps, dst, ::ipc::ObjectType::Device, *d);
    if (r != 0) {
        device_put_ref(*d);
        return r;
    }
    return d->irq;
}

std::int64_t device_map(ipc::CapSpace& caps, uspace::UserSpace& space, std::uint64_t slot,
                        std::uint64_t va) {
    const ipc::Found f = ipc::lookup(caps, slot, ::ipc::ObjectType::Device, ::ipc::Rights::none());
    if (f.error != 0) return f.error;
    Device& d = *static_cast<Device*>(static_cast<ipc::ForeignObject*>(f.cap.object));
    device_get_ref(d); // the mapping's
    std::int64_t r = uspace::map_shared(space, va, d.pages, d.count,
                                        kestrel::ProtRead | kestrel::ProtWrite, &d, &drop_mapping);
    if (r != 0)
        device_put_ref(d);
    else
        r = d.count;
    device_put_ref(d); // the lookup's
    return r;
}

bool platform_allows_source(std::uint64_t badge, std::uint64_t source) {
    const std::uint32_t node = scope_node(badge, g_device_count);
    return scope_has_source(badge, source, node == kNoNode ? 0 : g_devices[node].irq);
}

std::uint32_t free_devices() {
    return g_device_count - g_held.load(std::memory_order_relaxed);
}

} // namespace k::irq
