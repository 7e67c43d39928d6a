#!/usr/bin/env python3
"""Turns selftest/ladder.txt (the one ordered list of markers) into the
kernel's test order, so the kernel and scripts/qemu-test.sh cannot drift."""
import sys

PREFIX, SUFFIX = "KSELFTEST: ", " ok"
SKIP = ("KSELFTEST: summary", "KSELFTEST: end")


def main(src, dst):
    rows = []
    for n, raw in enumerate(open(src, encoding="utf-8"), 1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        scope, _, marker = line.partition(" ")
        if scope not in ("all", "smp"):
            sys.exit(f"{src}:{n}: scope must be 'all' or 'smp', got {scope!r}")
        if not marker.startswith(PREFIX) or marker.startswith(SKIP):
            continue
        if not marker.endswith(SUFFIX):
            sys.exit(f"{src}:{n}: selftest markers end in ' ok': {marker!r}")
        name = marker[len(PREFIX):-len(SUFFIX)]
        rows.append(f'    {{"{name}", {"true" if scope == "smp" else "false"}}},')
    with open(dst, "w", encoding="utf-8") as out:
        out.write("// Generated from selftest/ladder.txt by selftest/gen_ladder.py.\n")
        out.write("#pragma once\n\nnamespace k::selftest {\n\n")
        out.write("struct LadderEntry {\n    const char* name;\n    bool smp_only;\n};\n\n")
        out.write("inline constexpr LadderEntry kLadder[] = {\n")
        out.write("\n".join(rows) + "\n};\n\n} // namespace k::selftest\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
