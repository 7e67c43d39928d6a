#!/usr/bin/env bash
# user/user.ld refuses a program with a static constructor (RFC-0026 "User programs": crt0
# runs none, so one would silently never run). Links user/tests/ctor.cpp twice with the user
# programs' flags: without its constructor it must link; with it the link must fail with the
# script's message.
#   user_ld_test.sh <user.ld> <ctor.cpp> <compiler and flags...>
set -uo pipefail
ld_script=$1 src=$2
shift 2
out=$(mktemp -d "${TMPDIR:-/tmp}/user-ld.XXXXXX")
trap 'rm -rf -- "$out"' EXIT
flags=(-ffreestanding -fno-exceptions -fno-rtti -fno-use-cxa-atexit -fno-threadsafe-statics
    -fno-pic -mcmodel=medany -march=rv64imac -mabi=lp64 -nostdlib -static -Wl,--build-id=none
    -Wl,--gc-sections "-Wl,-T,$ld_script")
if ! "$@" "${flags[@]}" -DNO_CTOR -o "$out/plain.elf" "$src" >"$out/plain.log" 2>&1; then
    echo "user-ld: FAIL: the control (no constructor) did not link:"
    sed 's/^/  | /' "$out/plain.log"
    exit 1
fi
if "$@" "${flags[@]}" -o "$out/ctor.elf" "$src" >"$out/ctor.log" 2>&1; then
    echo "user-ld: FAIL: a program with a static constructor linked"
    exit 1
fi
if ! grep -q 'user programs have no static constructors' "$out/ctor.log"; then
    echo "user-ld: FAIL: the link failed, but not with user.ld's message:"
    sed 's/^/  | /' "$out/ctor.log"
    exit 1
fi
echo "user-ld: a static constructor is refused at link time; the control links"
