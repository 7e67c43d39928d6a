// Test helper: true when `fn` ends the process through k::panic (abort) in a child.
#pragma once

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
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

// True when `fn` ends the process through k::panic and the report (the host panic writes it
// to stderr) contains `reason`: a panic, and the one the test expects.
template <typename Fn>
bool panics_with(Fn fn, const char* reason) {
    int fds[2];
    if (pipe(fds) != 0) return false;
    const pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        std::signal(SIGABRT, SIG_DFL);
        close(fds[0]);
        const int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 1);
        dup2(fds[1], 2);
        fn();
        _exit(0);
    }
    close(fds[1]);
    std::string report;
    char buf[512];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
        report.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return false;
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT &&
           report.find(reason) != std::string::npos;
}

} // namespace testing_harts
