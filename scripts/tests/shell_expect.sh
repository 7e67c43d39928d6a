#!/usr/bin/env bash
# The shell end to end through QEMU's console with a real terminal program (expect), as a
# person would type it (issue 20, RFC-0032): boots mode=shell, waits for the prompt, types
# commands into the UART byte by byte and checks the answers, including a hart taken offline
# while a `run` job is busy on it and one pinned to it. Every byte goes through the user-space
# console driver (user/console, RFC-0031): init hands it the UART and its interrupt, and the
# shell reads through it (user/init/shell_mode.cpp).
#
#   scripts/tests/shell_expect.sh [kernel.elf]     SMP=2 by default (SMP >= 2)
#
# Environment: SMP, QEMU, OPENSBI_FW, RUN_TIMEOUT (seconds per expectation, default 60).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=../lib/ladder.sh
source "$here/../lib/ladder.sh"
kernel=${1:-$KESTREL_ROOT/build/kernel.elf}
SMP=${SMP:-2}
if ! command -v expect >/dev/null; then
    echo "shell-expect: expect is not installed (scripts/deps.sh installs it)" >&2
    exit 2
fi
if ((SMP < 2)); then
    echo "shell-expect: SMP must be 2 or more (hart 1 goes offline)" >&2
    exit 2
fi
kestrel_qemu_cmd cmd "${QEMU:-qemu-system-riscv64}" "$SMP" "$kernel" \
    "${OPENSBI_FW:-$KESTREL_FW_DEFAULT}" "mode=shell"
log=$(mktemp /tmp/kestrel-shell-expect.XXXXXX)
echo "shell-expect: ${cmd[*]} (log: $log)"
rc=0
# One QEMU, under the lock every boot takes (the host has 2 cores).
flock /tmp/kestrel-qemu.lock expect -f - -- "${cmd[@]}" >"$log" 2>&1 <<'EXPECT' || rc=$?
set timeout [expr {[info exists env(RUN_TIMEOUT)] ? $env(RUN_TIMEOUT) : 60}]
# Type as a person would: a byte every 10 ms (the UART's receive FIFO holds 16).
set send_slow {1 0.01}
log_user 1
spawn -noecho {*}$argv
proc fail {why} { puts "\nshell-expect: FAIL $why"; exit 1 }
proc prompt {} {
    expect {
        "kestrel> " {}
        "console driver did not start" { fail "the console driver did not start" }
        "KPANIC" { fail "kernel panic" }
        timeout { fail "no prompt" }
        eof { fail "QEMU ended" }
    }
}
# Types `line` and a CR, then waits for `want` and the next prompt.
proc cmd {line want} {
    send -s -- "$line\r"
    expect {
        -ex $want {}
        "KPANIC" { fail "kernel panic after '$line'" }
        timeout { fail "'$line': no '$want'" }
        eof { fail "QEMU ended after '$line'" }
    }
    prompt
}
prompt
cmd "help" "commands:"
cmd "harts" "hart 1 online"
cmd "run busy" "\] task "
cmd "run busy" "\] task "
cmd "run busy pin=1" "\] task "
# busy creates its pinned thread after it starts: `ps` until that thread is listed, so that
# hart 1 goes offline with it there (a thread created for an offline hart is refused).
set listed 0
for {set i 0} {$i < 50 && !$listed} {incr i} {
    send -s -- "ps\r"
    expect {
        "pinned thread" { set listed 1; prompt }
        "kestrel> " { after 100 }
        "KPANIC" { fail "kernel panic after 'ps'" }
        timeout { fail "'ps': no prompt" }
        eof { fail "QEMU ended after 'ps'" }
    }
}
if {!$listed} { fail "busy's pinned thread never appeared in ps" }
cmd "offline 1" "hart 1 offline, 1 pinned task(s) parked"
cmd "offline 1" "offline 1: HartState"
cmd "ps" "h1 pinned thread"
cmd "online 1" "hart 1 online"
cmd "pz\x7fs" " shell "
cmd "frobnicate" "unknown command 'frobnicate'"
cmd "offline 0" "offline 0: BootHart"
cmd "run nosuchimage" "NoImage"
cmd "kill %1" "busy killed"
cmd "fuzz 5 500" "fuzz exited 0 (ok)"
send -s -- "shutdown\r"
expect {
    "shutdown: bye" {}
    timeout { fail "no bye" }
}
expect {
    eof {}
    timeout { fail "QEMU did not power off" }
}
set st [wait]
exit [lindex $st 3]
EXPECT
cat "$log"
case $rc in
0) echo "shell-expect: PASS" ;;
*) echo "shell-expect: FAIL (expect exited $rc)" ;;
esac
exit "$rc"
