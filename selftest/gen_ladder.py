#!/usr/bin/env python3
"""Turns selftest/ladder.txt (the one ordered list of markers) into the
kernel's test order, so the kernel and scripts/qemu-test.sh cannot drift."""
import sys

PREFIX, SUFFIX = "KSELFTEST: ", " ok"
SKIP = ("KSELFTEST: summary", "KSELFTEST: end")
# all: every boot; smp: SMP >= 2; virt: where the DTB describes the interrupt controller the
# kernel drives (QEMU virt's PLIC; the gate requires these on virt only); virt-smp: both.
SCOPES = ("all", "smp", "virt", "virt-smp")


def main(src, dst):
    rows = []
    for n, raw in enumerate(open(src, encoding="utf-8"), 1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        scope, _, marker = line.partition(" ")
        if scope not in SCOPES:
            sys.exit(f"{src}:{n}: scope must be one of {', '.join(SCOPES)}, got {scope!r}")
        if not marker.startswith(PREFIX) or marker.startswith(SKIP):
            continue
        if not marker.endswith(SUFFIX):
            sys.exit(f"{src}:{n}: selftest markers end in ' ok': {marker!r}")
        name = marker[len(PREFIX):-len(SUFFIX)]
        smp = "true" if scope in ("smp", "virt-smp") else "false"
        irq = "true" if scope in ("virt", "virt-smp") else "false"
        rows.append(f'    {{"{name}", {smp}, {irq}}},')
    with open(dst, "w", encoding="utf-8") as out:
        out.write("// Generated from selftest/ladder.txt by selftest/gen_ladder.py.\n")
        out.write("#pragma once\n\nnamespace k::selftest {\n\n")
        out.write("struct LadderEntry {\n    const char* name;\n    bool smp_only;\n"
                  "    bool needs_irq; // runs only where the kernel drives an interrupt controller\n};\n\n")
        out.write("inline constexpr LadderEntry kLadder[] = {\n")
        out.write("\n".join(rows) + "\n};\n\n} // namespace k::selftest\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
