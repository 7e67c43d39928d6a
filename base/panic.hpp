// Fatal error: prints KPANIC with a backtrace, stops every hart, exits non-zero.
#pragma once

namespace k {

[[noreturn]] void panic(const char* reason);

} // namespace k
