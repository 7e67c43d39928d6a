// sifive,test0 finisher or HTIF (when the DTB has one), SBI system reset, and
// parking when none of them took effect.
#include "base/shutdown.hpp"

#include "base/console.hpp"
#include "base/ipi.hpp"
#include "base/time.hpp"
#include "hal_cpu.hpp"
#include "sbi.hpp"

namespace k {

namespace {
std::uint64_t g_test_base = 0; // written once at boot
std::uint64_t g_htif_base = 0;
// After the last request, how long the run may take to end before we say it did not.
constexpr std::uint64_t kEffectWaitUs = 1'000'000;
} // namespace

void shutdown_init(std::uint64_t test_device_base, std::uint64_t htif_base) {
    g_test_base = test_device_base;
    g_htif_base = htif_base;
}

void shutdown(bool success) {
    if (g_test_base) {
        // 0x5555: exit 0; 0x3333 | code << 16: exit with `code`.
        auto* reg = reinterpret_cast<volatile std::uint32_t*>(g_test_base);
        *reg = success ? 0x5555u : (0x3333u | (1u << 16));
    }
    if (g_htif_base) {
        // The node's reg is fromhost; tohost follows it (as OpenSBI and QEMU
        // lay them out). Device 0 command 0 with bit 0 set: "exit with
        // payload >> 1". The low word first: QEMU acts on the high word.
        auto* tohost = reinterpret_cast<volatile std::uint32_t*>(g_htif_base + 8);
        tohost[0] = success ? 1u : 3u;
        tohost[1] = 0;
    }
    const hal::sbi::Ret r = hal::sbi::system_reset(
        hal::sbi::kResetShutdown, success ? hal::sbi::kReasonNone : hal::sbi::kReasonFailure);
    // A device write may end QEMU a little later than it returns: give it time
    // before saying that nothing happened.
    (void)time::wait_until(time::deadline_in_us(kEffectWaitUs), [] { return false; });
    hal::csr::clear_sstatus(hal::csr::kSstatusSie);
    println("KLOG: shutdown (", success ? "pass" : "fail",
            ") did not take effect (SBI SRST: ", hal::sbi::error_name(r.error),
            "); parking every hart");
    (void)ipi::stop_others();
    for (;;)
        hal::wait_for_interrupt();
}

} // namespace k
