// The interrupt facts of a device tree: the platform interrupt controller (PLIC: its registers,
// its sources and each hart's S-mode context; an APLIC is only recognised) and the device nodes
// a driver may be given (registers and interrupt). Portable like the rest of dtb/.
#pragma once

#include "dtb/dtb.hpp"

#include <cstdint>

namespace dtb {

inline constexpr std::uint32_t kMaxIrqContexts = 64;   // S-mode contexts kept (one per hart)
inline constexpr std::uint32_t kMaxDeviceNodes = 32;   // device nodes kept; more: devices_dropped
inline constexpr std::uint32_t kMaxPlicSources = 1023; // the PLIC spec's bound on riscv,ndev

enum class IrqController : std::uint8_t {
    None,  // no interrupt controller node the kernel knows
    Plic,  // sifive,plic-1.0.0 / riscv,plic0
    Aplic, // riscv,aplic (QEMU -M virt,aia=aplic): recognised, not driven
};

// One device node with registers: the first reg entry and its interrupt (0: none, or not one
// cell). `name`, `compatible` (the first string) and `compat_list` (every string, each
// NUL-terminated, compat_len bytes in all) point into the blob.
struct DeviceNode {
    const char* name;
    const char* compatible;
    const char* compat_list;
    std::uint32_t compat_len;
    std::uint64_t base, size;
    std::uint32_t irq;
};

// The S-mode context of one hart: which PLIC context index its external interrupt is.
struct IrqContext {
    std::uint32_t hart_id;
    std::uint32_t context;
};

struct IrqInfo {
    IrqController controller;
    std::uint64_t base, size; // the controller's first reg entry
    std::uint32_t sources;    // riscv,ndev (1..kMaxPlicSources): sources 1..sources exist
    IrqContext contexts[kMaxIrqContexts];
    std::uint32_t context_count;
    DeviceNode devices[kMaxDeviceNodes]; // document order; the controllers themselves excluded
    std::uint32_t device_count;
    std::uint32_t devices_dropped;
    const char* refused; // the first reason a controller fact was refused, "" when none
};

// Reads the blob's interrupt facts. Anything but Ok: `out` is empty (controller None). A PLIC
// whose reg, riscv,ndev (4 bytes, 1..kMaxPlicSources) or interrupts-extended (pairs of cells,
// every phandle a cpu's interrupt controller) is unusable is refused: controller None and the
// reason in `refused`. An S context is a pair whose cause is 9 (supervisor external).
Status parse_irq(const void* blob, std::size_t size, IrqInfo& out);

// The first device node with compatible string `compat` (any of its strings), or nullptr.
const DeviceNode* find_device(const IrqInfo& info, const char* compat);
// Whether `node` lists the compatible string [s, s + len) (len bytes, no NUL needed).
bool compatible_with(const DeviceNode& node, const char* s, std::size_t len);

} // namespace dtb
