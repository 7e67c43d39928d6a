// Ending the run: the verdict reaches QEMU's exit status, then SBI SRST; when
// nothing ends the machine, one line says so and every hart parks.
#pragma once

#include <cstdint>

namespace k {

// Physical addresses from the DTB, 0 when absent: the sifive,test0 finisher
// and the HTIF tohost register (ucb,htif0).
void shutdown_init(std::uint64_t test_device_base, std::uint64_t htif_base);
[[noreturn]] void shutdown(bool success);

} // namespace k
