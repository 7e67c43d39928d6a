// Test helper: true when `fn` ends the process through k::panic (abort) in a child.
#pragma once

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace testing_harts {

// The host k::panic aborts; fork so the test process survives it.
template <typename Fn>
bool panics(Fn fn) {
    const pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        // Catch2's SIGABRT handler would print a report from the child.
        std::signal(SIGABRT, SIG_DFL);
        const int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        fn();
        _exit(0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return false;
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

} // namespace testing_harts
