#!/usr/bin/env bash
# The second QEMU lane (issue 21): QEMU 10 and OpenSBI 1.5 from Debian's bookworm-backports,
# unpacked beside the system's QEMU 7.2 and OpenSBI 1.1 instead of installed over them.
#
#   scripts/lane-qemu10.sh [DIR]     (default: build/lanes/qemu10)
#
# Downloads qemu-system-riscv, qemu-system-common, qemu-system-data and opensbi, as the
# archive's bookworm-backports suite has them today, with apt-get (a private sources list and
# state directory under DIR: the system's apt configuration is not touched), and unpacks them
# with dpkg -x into DIR/root. Idempotent: a DIR/root that already runs is kept. Prints the two
# paths the gate takes:
#   QEMU=DIR/root/usr/bin/qemu-system-riscv64
#   OPENSBI_FW=DIR/root/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
dir=${1:-$here/../build/lanes/qemu10}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
qemu=$dir/root/usr/bin/qemu-system-riscv64
fw=$dir/root/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
packages=(qemu-system-riscv qemu-system-common qemu-system-data opensbi)

if [[ -x $qemu && -r $fw ]] && "$qemu" --version >/dev/null 2>&1; then
    echo "lane-qemu10: present: $("$qemu" --version | head -n1)"
    echo "QEMU=$qemu"
    echo "OPENSBI_FW=$fw"
    exit 0
fi

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r $keyring ]] || { echo "lane-qemu10: $keyring missing (package debian-archive-keyring)" >&2; exit 1; }
apt_dir=$dir/apt
rm -rf -- "$apt_dir" "$dir/root"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs" "$dir/root"
echo "deb [signed-by=$keyring] http://deb.debian.org/debian bookworm-backports main" \
    >"$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/none"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Debug::NoLocking=1
    -o APT::Sandbox::User=root)
echo "lane-qemu10: apt-get update (bookworm-backports only, private state in $apt_dir)"
apt-get "${apt_opts[@]}" -q update >"$apt_dir/update.log" 2>&1 ||
    { cat "$apt_dir/update.log" >&2; echo "lane-qemu10: apt-get update failed" >&2; exit 1; }
# The backports version of each, not the installed one: ask for the suite explicitly.
(cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" -q download \
    "${packages[@]/%//bookworm-backports}" >"$apt_dir/download.log" 2>&1) ||
    { cat "$apt_dir/download.log" >&2; echo "lane-qemu10: apt-get download failed" >&2; exit 1; }
for deb in "$apt_dir"/debs/*.deb; do
    dpkg -x "$deb" "$dir/root"
done
if ! "$qemu" --version >/dev/null 2>&1 || [[ ! -r $fw ]]; then
    echo "lane-qemu10: the unpacked QEMU does not run here (missing libraries?):" >&2
    ldd "$qemu" | grep 'not found' >&2 || true
    exit 1
fi
echo "lane-qemu10: unpacked $(cd "$apt_dir/debs" && ls) into $dir/root"
echo "lane-qemu10: $("$qemu" --version | head -n1)"
echo "QEMU=$qemu"
echo "OPENSBI_FW=$fw"
