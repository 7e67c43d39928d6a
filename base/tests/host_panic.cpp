// Host stand-in for k::panic: report and abort the test process.
#include "base/panic.hpp"

#include <cstdio>
#include <cstdlib>

namespace k {

void panic(const char* reason) {
    std::fprintf(stderr, "KPANIC (host): %s\n", reason);
    std::abort();
}

} // namespace k
