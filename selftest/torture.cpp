// mode=torture: the torture run.
#include "kernel/console.hpp"
#include "kernel/shutdown.hpp"
#include "selftest/selftest.hpp"

namespace k::selftest {

void run_torture() {
    println("KTORTURE: FAIL not built yet");
    shutdown(false);
}

} // namespace k::selftest
