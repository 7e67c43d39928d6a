#!/usr/bin/env bash
# Install the Debian (bookworm) packages the project needs, idempotently.
# Does nothing (beyond checking) when everything is already installed.
set -euo pipefail

packages=(
    qemu-system-misc       # qemu-system-riscv64
    opensbi                # fw_dynamic.bin
    meson
    ninja-build
    catch2                 # host unit tests
    g++-riscv64-linux-gnu  # kernel cross compiler
    binutils-riscv64-linux-gnu # riscv64-linux-gnu-addr2line: symbolized KPANIC backtraces
    device-tree-compiler   # dtc
    libfdt-dev             # libfdt: the DTB reader's oracle in the host tests
    g++                    # host tests (brings libasan/libubsan/libtsan)
    python3                # scripts/test.sh parses meson's testlog.json
    gnuplot-nox            # scripts/bench.sh: the scaling plot
    gdb-multiarch          # scripts/debug.sh (QEMU gdbstub) and the gdb-debug test
    clang                  # the second compiler (cross/riscv64-clang.ini)
    expect                 # scripts/tests/shell_expect.sh: the shell typed into through the console
)

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps: dpkg-query not found: not a Debian system? Install: ${packages[*]}" >&2
    exit 1
fi

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
    echo "deps: all ${#packages[@]} packages present"
    exit 0
fi

sudo=()
if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "deps: missing packages: ${missing[*]}; not root and no sudo: install them as root" >&2
        exit 1
    fi
fi

echo "deps: missing: ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"

still=()
for p in "${missing[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || still+=("$p")
done
if ((${#still[@]} > 0)); then
    echo "deps: still missing after install: ${still[*]}" >&2
    exit 1
fi
echo "deps: installed: ${missing[*]}"
