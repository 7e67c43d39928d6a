// mode=shell (RFC-0032): instead of the ladder, the boot task starts init with "mode=shell";
// init starts the console's server and the shell, and ends when the shell does (`shutdown`).
// The machine then powers off: with success when init exited 0.
#include "base/console.hpp"
#include "base/percpu.hpp"
#include "base/shutdown.hpp"
#include "proc/images.hpp"
#include "proc/process.hpp"
#include "selftest/selftest.hpp"
#include "selftest/user_run.hpp"

namespace k::selftest {

void run_shell() {
    const elf::Image* init = k::user::find_image("init", 4);
    char args[64];
    std::size_t n = 0;
    for (const char c : "mode=shell")
        args[n++] = c; // with its NUL
    n = put_arg(args, n, "cpus=", online_count());
    const std::int64_t id = init ? k::user::spawn(nullptr, *init, args, n) : -1;
    println("KLOG: shell mode: init is task ", id);
    kestrel::WaitStatus st{};
    const bool ok = id > 0 && k::user::await(nullptr, id, true, st) >= 0 &&
                    st.kind == kestrel::WaitKind::Exited && st.code == 0;
    println("KLOG: shell mode: init ended (kind ", static_cast<std::uint32_t>(st.kind), " code ",
            st.code, "); powering off");
    shutdown(ok);
}

} // namespace k::selftest
