// A Platform capability's scope (RFC-0031 "Restricted Platform capabilities"): what its badge
// lets device_get and irq_get take. Badge 0 (the root's capability, which the kernel makes
// unbadged) names every device node and every interrupt source. A badge b > 0, chosen once by
// cap_mint, names device node b - 1 of the kernel's device list (DTB document order, at most
// dtb::kMaxDeviceNodes) and that node's interrupt only; a b past the list names nothing.
// Refusals outside the scope are NoDevice (irq/device.cpp, irq/irq.cpp). Portable: host-tested
// in irq/tests/platform_scope_test.cpp.
#pragma once

#include <cstdint>

namespace k::irq {

inline constexpr std::uint32_t kNoNode = ~0u;

// The one node a badge names (an index below `count`), or kNoNode: badge 0 (every node, no
// single one) or a badge past the list.
[[nodiscard]] constexpr std::uint32_t scope_node(std::uint64_t badge, std::uint32_t count) {
    return badge == 0 || badge > count ? kNoNode : static_cast<std::uint32_t>(badge - 1);
}

// Device node `index` of `count` is within the scope of `badge`.
[[nodiscard]] constexpr bool scope_has_node(std::uint64_t badge, std::uint32_t index,
                                            std::uint32_t count) {
    return index < count && (badge == 0 || scope_node(badge, count) == index);
}

// Interrupt source `source` is within the scope of `badge`, whose node's interrupt is
// `node_irq` (0: the node has none, or the badge names no node). Badge 0: every source.
[[nodiscard]] constexpr bool scope_has_source(std::uint64_t badge, std::uint64_t source,
                                              std::uint32_t node_irq) {
    return badge == 0 || (node_irq != 0 && source == node_irq);
}

} // namespace k::irq
