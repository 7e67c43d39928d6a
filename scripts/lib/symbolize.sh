# shellcheck shell=bash
# KPANIC symbolizer shared by the gate (scripts/qemu-test.sh) and scripts/boot.sh.
# Source it; it defines functions only and changes no shell options.
#
#   kestrel_addr2line             -> prints the addr2line to use ($ADDR2LINE, default
#                                    riscv64-linux-gnu-addr2line from
#                                    binutils-riscv64-linux-gnu); returns 1 if it is missing
#   kestrel_symbolize ELF         -> filter stdin to stdout, one output line per input line:
#
#     KPANIC:   #N 0x<addr>                    (a backtrace frame: a return address)
#       -> KPANIC:   #N 0x<addr> <func> at <file>:<line>[ (inlined into <func> at <file>:<line>)...]
#     KPANIC: hart .. sepc 0x<pc> stval .. reason: ..   (the panic line)
#       -> the same line + " [sepc: <func> at <file>:<line>...]"
#
# A frame's address is a return address, so it is looked up at address-1 (inside the call
# instruction, i.e. the line of the call); sepc is the trapping instruction itself and is
# looked up as is, also where it shows as a frame (the trap entry records it as its frame's
# return address, so it is frame #0 of a trap's backtrace). Addresses stay printed as the kernel printed them. Every other line, a
# line addr2line cannot resolve ("??"), and every line when addr2line is missing, passes
# unchanged (the caller says that it is missing). A trailing \r stays at the end of the line.
# Source paths are printed relative to the repository when they are inside it.

KESTREL_SYM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"

kestrel_addr2line() {
    local a=${ADDR2LINE:-riscv64-linux-gnu-addr2line}
    command -v -- "$a" >/dev/null 2>&1 || return 1
    printf '%s\n' "$a"
}

# _kestrel_sym_path PATH -> PATH with "dir/../" folded away, relative to the repository
# when inside it (meson's objects name their sources "build/../kernel/x.cpp").
_kestrel_sym_path() {
    local p=$1
    while [[ $p =~ ^(.*/)?([^/]+)/\.\./(.*)$ && ${BASH_REMATCH[2]} != .. ]]; do
        p=${BASH_REMATCH[1]}${BASH_REMATCH[3]}
    done
    p=${p#"$KESTREL_SYM_ROOT"/}
    while [[ $p == ../* ]]; do p=${p#../}; done
    printf '%s' "$p"
}

# _kestrel_sym_lookup A2L ELF ADDR -> prints "<func> at <file>:<line>[ (inlined into ...)]"
# ("<func> (no line info)" for a symbol without debug lines), or nothing when addr2line
# knows nothing about ADDR.
_kestrel_sym_lookup() {
    local a2l=$1 elf=$2 addr=$3 fn loc where out="" n=0
    while IFS= read -r fn && IFS= read -r loc; do
        [[ $fn == "??" && $loc == "??:"* ]] && continue
        loc=${loc% (discriminator *)}
        if [[ $loc == "??:"* ]]; then
            where="$fn (no line info)"
        else
            where="$fn at $(_kestrel_sym_path "$loc")"
        fi
        if ((n == 0)); then
            out=$where
        else
            out+=" (inlined into $where)"
        fi
        n=$((n + 1))
    done < <("$a2l" -f -i -C -e "$elf" "$addr" 2>/dev/null)
    printf '%s' "$out"
}

kestrel_symbolize() {
    local elf=$1 a2l line cr body addr sym re_frame re_pc sepc=-1
    if ! a2l=$(kestrel_addr2line); then
        cat
        return 0
    fi
    re_frame='^KPANIC:   #[0-9]+ (0x[0-9a-fA-F]+)$'
    re_pc='^KPANIC: hart .* sepc (0x[0-9a-fA-F]+) '
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line != KPANIC:* ]]; then
            printf '%s\n' "$line"
            continue
        fi
        body=${line%$'\r'}
        cr=${line:${#body}}
        sym=""
        if [[ $body =~ $re_frame ]]; then
            addr=$((BASH_REMATCH[1]))
            # The trap's own frame carries sepc: the faulting instruction, not a return address.
            ((addr == sepc)) || addr=$((addr - 1))
            if ((addr > 0)); then
                sym=$(_kestrel_sym_lookup "$a2l" "$elf" "$(printf '0x%x' "$addr")")
            fi
            [[ -n $sym ]] && body+=" $sym"
        elif [[ $body =~ $re_pc ]]; then
            sepc=$((BASH_REMATCH[1]))
            sym=$(_kestrel_sym_lookup "$a2l" "$elf" "${BASH_REMATCH[1]}")
            [[ -n $sym ]] && body+=" [sepc: $sym]"
        fi
        printf '%s%s\n' "$body" "$cr"
    done
}
