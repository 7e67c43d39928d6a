# shellcheck shell=bash
# Shared helpers for the Kestrel scripts. Source it; it defines functions only
# (plus KESTREL_ROOT and KESTREL_FW) and changes no shell options.
#
#   kestrel_root                 -> prints the repository root
#   kestrel_parse_duration STR   -> prints whole seconds; returns 1 if malformed
#   kestrel_ladder_normalize F O -> writes "scope<TAB>marker" lines of ladder F
#                                   to O; returns 2 with a message if malformed
#   kestrel_configure BUILD_DIR [SETUP_ARGS...]
#                                -> meson setup (or --reconfigure) only if needed;
#                                   SETUP_ARGS default: --cross-file cross/riscv64.ini
#   kestrel_count_testlog FILE...-> prints "N passed, N failed[, N skipped]"
#                                   over meson testlog.json files; returns 1 if
#                                   any test failed or none ran
#   kestrel_qemu_cmd ARRAY QEMU SMP KERNEL FW [BOOTARGS] [MACHINE]
#                                -> the QEMU command line of every MTTCG boot
#                                   (bench.sh boots under -icount with its own)
#   kestrel_copy_tree DEST [REGEX]
#                                -> copies the files git knows of (new untracked ones
#                                   too), those matching REGEX if given, into DEST
#   kestrel_stop_pid PID         -> TERM, up to 3 s, then KILL the child PID of
#                                   this shell, and reap it (empty PID: nothing)

KESTREL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
# shellcheck disable=SC2034 # used by the sourcing scripts
KESTREL_FW_DEFAULT=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
# Boot-line words that run the user ladder's two volume tests light: the seed scenario 100
# rounds (of 1000) and the syscall fuzzer 10000 calls (of 100000). For the boots whose point is
# elsewhere (the counterfactual cases, the late and phantom hart, the fast-path differential);
# meson.build's machine and DTB lanes use the same idea with 200 rounds.
# shellcheck disable=SC2034 # used by the sourcing scripts
KESTREL_LIGHT_LADDER='user_rounds=100 fuzz_calls=10000'


kestrel_root() {
    printf '%s\n' "$KESTREL_ROOT"
}

# Accepts "90", "90s", "2m", "1h"; positive whole numbers only.
kestrel_parse_duration() {
    local s=$1 n unit
    if [[ ! $s =~ ^([0-9]+)([smh]?)$ ]]; then
        return 1
    fi
    n=$((10#${BASH_REMATCH[1]}))
    unit=${BASH_REMATCH[2]}
    case $unit in
        m) n=$((n * 60)) ;;
        h) n=$((n * 3600)) ;;
    esac
    ((n > 0)) || return 1
    printf '%s\n' "$n"
}

# Ladder format: one entry per line, "<scope> <marker-prefix>", scope is "all"
# (every boot), "smp" (only at SMP>=2), "virt" (required only on QEMU virt, whose DTB describes
# the PLIC and the ns16550a UART the interrupt and console-driver tests need; elsewhere the
# kernel and init skip them) or "virt-smp" (both conditions). Blank lines and lines whose first
# non-blank character is '#' are ignored. The marker is the rest of the line
# after the scope word and the blank(s) following it, trailing whitespace and
# \r stripped. The last entry is the final marker and must have scope "all".
kestrel_ladder_normalize() {
    local in=$1 out=$2 line scope marker lineno=0 n=0 last_scope=""
    if [[ ! -r $in ]]; then
        echo "ladder: cannot read $in" >&2
        return 2
    fi
    : >"$out"
    while IFS= read -r line || [[ -n $line ]]; do
        lineno=$((lineno + 1))
        line=${line%$'\r'}
        # strip leading and trailing whitespace
        line="${line#"${line%%[![:space:]]*}"}"
        line="${line%"${line##*[![:space:]]}"}"
        [[ -z $line || $line == \#* ]] && continue
        if [[ ! $line =~ ^([A-Za-z-]+)[[:space:]]+(.+)$ ]]; then
            echo "ladder: $in:$lineno: expected '<all|smp|virt|virt-smp> <marker>': $line" >&2
            return 2
        fi
        scope=${BASH_REMATCH[1]}
        marker=${BASH_REMATCH[2]}
        case $scope in
            all | smp | virt | virt-smp) ;;
            *)
                echo "ladder: $in:$lineno: unknown scope '$scope' (want all, smp, virt or virt-smp)" >&2
                return 2
                ;;
        esac
        if [[ $marker == *$'\t'* ]]; then
            echo "ladder: $in:$lineno: tab inside marker" >&2
            return 2
        fi
        printf '%s\t%s\n' "$scope" "$marker" >>"$out"
        n=$((n + 1))
        last_scope=$scope
    done <"$in"
    if ((n == 0)); then
        echo "ladder: $in has no markers" >&2
        return 2
    fi
    if [[ $last_scope != all ]]; then
        echo "ladder: $in: the last (final) marker must have scope 'all'" >&2
        return 2
    fi
}

# Configure BUILD_DIR for the cross build unless it already is configured.
# ninja regenerates by itself when meson.build files change, so an already
# configured tree is left alone.
kestrel_configure() {
    local b=$1
    shift
    local args=("$@")
    ((${#args[@]} > 0)) || args=(--cross-file cross/riscv64.ini)
    if [[ -f $b/build.ninja && -f $b/meson-private/coredata.dat ]]; then
        return 0
    fi
    if [[ -f $b/meson-private/coredata.dat ]]; then
        echo "+ meson setup --reconfigure $b"
        (cd "$KESTREL_ROOT" && meson setup --reconfigure "$b")
    else
        echo "+ meson setup ${args[*]} $b"
        (cd "$KESTREL_ROOT" && meson setup "${args[@]}" "$b")
    fi
}

kestrel_count_testlog() {
    python3 - "$@" <<'PY'
import json, os, sys
passed = failed = skipped = 0
bad = []
lines = []
for path in sys.argv[1:]:
    # With several logs, a failure names its build directory.
    tag = " [%s]" % os.path.basename(os.path.dirname(os.path.dirname(path))) if len(sys.argv) > 2 else ""
    try:
        with open(path, encoding="utf-8") as f:
            lines += [(raw, tag) for raw in f.readlines()]
    except OSError:
        pass
for raw, tag in lines:
    raw = raw.strip()
    if not raw:
        continue
    try:
        t = json.loads(raw)
    except ValueError:
        continue
    if not isinstance(t, dict) or "result" not in t:
        continue
    r = str(t.get("result", "")).upper()
    if r in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif r == "SKIP":
        skipped += 1
    else:
        failed += 1
        bad.append("%s (%s)%s" % (t.get("name", "?"), r, tag))
for b in bad:
    print("failed: " + b)
line = "%d passed, %d failed" % (passed, failed)
if skipped:
    line += ", %d skipped" % skipped
print(line)
sys.exit(1 if failed or passed + failed == 0 else 0)
PY
}

# The QEMU command line of the gate, boot.sh, debug.sh, counterfactual.sh and phantom_hart.sh
# (bench.sh boots under -icount with its own; torture.sh goes through the gate):
#   kestrel_qemu_cmd ARRAY_NAME QEMU SMP KERNEL FIRMWARE [BOOTARGS] [MACHINE]
# MACHINE is virt (default), virt-aplic (-machine virt,aia=aplic), spike or sifive_u; the
# caller validates it.
kestrel_qemu_cmd() {
    local -n _cmd=$1
    local qemu=$2 smp=$3 kernel=$4 fw=$5 bootargs=${6:-} machine=${7:-virt}
    [[ $machine == virt-aplic ]] && machine=virt,aia=aplic
    # shellcheck disable=SC2054 # tcg,thread=multi is one argument
    _cmd=("$qemu" -machine "$machine" -smp "$smp" -m 256M -nographic
        -bios "$fw" -kernel "$kernel" -accel tcg,thread=multi -no-reboot)
    if [[ -n $bootargs ]]; then
        _cmd+=(-append "$bootargs")
    fi
}

# The host side of the console UART (issue 20, RFC-0031 "The console driver"): the ladder's
# `console driver input` test reads what is typed there. Makes the fifo FIFO (QEMU's stdin) and
# starts a feeder that writes FILE (default selftest/console_input.txt) into it once LOG shows
# MARKER (default the marker of the test before it: OpenSBI's UART set-up drops bytes typed at
# power-on; later ones wait in QEMU while the UART's receive side is full). Sets
# KESTREL_FEEDER_PID (stop it with kestrel_stop_pid when QEMU has ended).
#   kestrel_serial_feeder FIFO LOG [MARKER] [FILE]
kestrel_serial_feeder() {
    local fifo=$1 log=$2 marker=${3:-SELFTEST: irq freed with last capability}
    local file=${4:-$KESTREL_ROOT/selftest/console_input.txt}
    mkfifo -- "$fifo" || return 1
    (
        until grep -qF -- "$marker" "$log" 2>/dev/null; do sleep 0.2; done
        cat -- "$file"
    ) >"$fifo" &
    KESTREL_FEEDER_PID=$!
}

# Stop a child this shell started, by its PID only, and reap it: the gate's and
# debug.sh's QEMU. TERM first, KILL if it is still there after 3 s.
kestrel_stop_pid() {
    local pid=$1 i
    [[ -n $pid ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 30; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

# The checkers' scratch copies (scripts/tests/layers_test.sh, doc_paths_test.sh): every file
# git tracks or would track (untracked, not ignored), as it is in the working tree; a file
# deleted from the working tree is skipped.
kestrel_copy_tree() {
    local dest=$1 regex=${2:-} f
    { git -C "$KESTREL_ROOT" ls-files; git -C "$KESTREL_ROOT" ls-files --others --exclude-standard; } |
        grep -E -- "${regex:-.}" | sort -u |
        while IFS= read -r f; do
            [[ -f "$KESTREL_ROOT/$f" ]] || continue
            mkdir -p "$dest/$(dirname "$f")"
            cp "$KESTREL_ROOT/$f" "$dest/$f"
        done
}
