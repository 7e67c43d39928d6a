// The trap runtime instance and its boot-hart gate.
#include "trap/runtime.hpp"

#include "base/percpu.hpp"

namespace k::trap {

namespace {
BootHartOnly<Runtime> g_runtime{0};
}

BootHartOnly<Runtime>& runtime_gate() {
    return g_runtime;
}

std::uint32_t trusted_cpu_for(std::uintptr_t tp, std::uintptr_t sp) {
    const k::CpuIdResult r = cpu_id_probe(tp, sp);
    return r.path == k::CpuIdPath::Boot ? kUntrustedCpu : r.cpu;
}

std::uint32_t trusted_cpu() {
    return trusted_cpu_for(hal::read_tp(), hal::read_sp());
}
const Runtime& runtime() {
    return g_runtime.get();
}
std::uint64_t runtime_denied() {
    return g_runtime.denied();
}

} // namespace k::trap

namespace k::trap {

namespace {

std::atomic<std::uint64_t> g_breakpoints{0};

// A kernel `ebreak`: counted and stepped over (2 bytes when compressed).
bool on_breakpoint(hal::TrapFrame& tf) {
    const auto insn = *reinterpret_cast<const std::uint16_t*>(tf.sepc);
    tf.sepc += (insn & 3) == 3 ? 4 : 2;
    g_breakpoints.fetch_add(1, std::memory_order_relaxed);
    return true;
}

} // namespace

Access install_kernel_handlers() {
    return with_runtime_mut([](Runtime& r) { r.set(3, &on_breakpoint); });
}

std::uint64_t breakpoints() {
    return g_breakpoints.load(std::memory_order_relaxed);
}

} // namespace k::trap
