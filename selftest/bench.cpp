// mode=bench: the instruction-count benchmark (RFC-0023).
#include "kernel/console.hpp"
#include "kernel/shutdown.hpp"
#include "selftest/selftest.hpp"

namespace k::selftest {

void run_bench() {
    println("KBENCH: FAIL not built yet");
    shutdown(false);
}

} // namespace k::selftest
