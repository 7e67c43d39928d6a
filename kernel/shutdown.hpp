// Ending the run: the verdict reaches QEMU's exit status, then SBI SRST.
#pragma once

#include <cstdint>

namespace k {

void shutdown_init(std::uint64_t test_device_base);
[[noreturn]] void shutdown(bool success);

} // namespace k
