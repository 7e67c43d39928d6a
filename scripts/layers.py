#!/usr/bin/env python3
"""The layer check: every #include between Kestrel's top-level rooms must point down.

layers.txt at the repository root is the one place the order of the rooms lives (bottom
first), with its `deny` rules (sideways includes forbidden even when the order allows them),
its `generated` files, its `upcall`s and its `runtime`. This script reads it and checks every
C/C++/assembly source under the root:

  - an #include "..." (or <...> that resolves to a project file) may name only a file of its
    own room or of a room listed earlier;
  - no include may match a `deny <from-glob> <to-glob>` rule;
  - every #include "..." must resolve (as the compilers resolve it) inside the root, and an
    include must name a file (no computed `#include MACRO`);
  - a project header must not be included with angle brackets (<sched/task.hpp>);
  - every source file must stand in a room.

With --link BUILD_DIR it also checks what no include shows: every symbol an object of the
kernel (BUILD_DIR/compile_commands.json, target kernel.elf) takes from another object must be
defined in its own room or one below, unless layers.txt names it as an `upcall` from that
room to that room (the HAL's entry points, the boot task) or as `runtime` (memcpy and kin,
which the compiler calls from anywhere). An `upcall` that no object makes any more is an
error too, so the list stays the list of what really calls up. NM names the nm to use
(default riscv64-linux-gnu-nm).

Errors are printed compiler-style (path:line: ...), then `layers: FAIL <k> violation(s)`
(exit 1); a clean tree prints `layers: ok (...)` (exit 0). Usage errors and a malformed
layers.txt exit 2. --rooms prints the rooms in order, one a line (the build's list).

  scripts/layers.py [--root DIR] [--counts] [--link BUILD_DIR] [--rooms]
"""
import argparse
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict

SOURCE_EXTS = ('.cpp', '.hpp', '.h', '.c', '.S', '.inc', '.cc', '.hh', '.cxx', '.hxx', '.ipp',
               '.tcc', '.inl')
NOT_ROOMS = {'docs', 'tasks', 'scripts', 'cross'}  # hold no C/C++ and are not checked
HAL_DIRS = ('hal/riscv64', 'hal/host')              # one of them is on the include path
ANGLE_DIRS = ('user/include',) + HAL_DIRS           # project directories the builds put on -I
COMMENT = re.compile(r'/\*.*?\*/')
INCLUDE = re.compile(r'^\s*#\s*include\b\s*(.*)$')
QUOTED = re.compile(r'^"([^"]+)"')
ANGLED = re.compile(r'^<([^>]+)>')


def usage_error(msg):
    print(f'layers: {msg}', file=sys.stderr)
    sys.exit(2)


def glob_re(pattern):
    """A path glob: `**` matches any number of components (even none), `*` and `?` stay
    within one component, a leading `!` negates the whole pattern."""
    negate = pattern.startswith('!')
    parts = pattern.lstrip('!').split('/')
    out = ''
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == '**':
            out += '.*' if last else '(?:[^/]+/)*'
            continue
        out += ''.join('[^/]*' if c == '*' else '[^/]' if c == '?' else re.escape(c)
                       for c in part)
        out += '' if last else '/'
    rx = re.compile(out + r'\Z')
    return lambda path: bool(rx.match(path)) != negate


def parse_layers(path):
    """Returns (rooms in order, deny rules, generated headers by file name)."""
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.read().splitlines()
    except OSError as e:
        usage_error(f'cannot read {path}: {e.strerror}')
    rooms, denies, generated, upcalls, runtime = [], [], {}, {}, set()
    for num, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith('#'):
            continue
        # The first colon followed by a space ends the head (a C++ symbol has `::` in it).
        split = re.search(r':(?=\s|$)', text)
        head = text[:split.start()] if split else text
        colon = ':' if split else ''
        reason = text[split.end():] if split else ''
        words = head.split()
        if not colon or not reason.strip() or not words:
            usage_error(f'layers.txt:{num}: malformed line (want `<room>: <why>`, '
                        f'`deny <from> <to>: <why>` or `generated <file> <room>: <why>`): {text}')
        if words[0] == 'upcall':
            if len(words) < 4:
                usage_error(f'layers.txt:{num}: `upcall <from> <to> <symbol>...: <why>`: {text}')
            for sym in words[3:]:
                upcalls[(words[1], words[2], sym)] = num
            continue
        if words[0] == 'runtime':
            runtime.update(words[1:])
            continue
        if words[0] in ('deny', 'generated'):
            if len(words) != 3:
                usage_error(f'layers.txt:{num}: `{words[0]}` takes two words before the colon: {text}')
            if words[0] == 'deny':
                denies.append((glob_re(words[1]), glob_re(words[2]), text))
            else:
                generated[words[1]] = (words[2], num)
        elif len(words) != 1 or '/' in words[0]:
            usage_error(f'layers.txt:{num}: a room is one top-level directory name: {text}')
        elif words[0] in rooms:
            usage_error(f'layers.txt:{num}: room `{words[0]}` is listed twice')
        else:
            rooms.append(words[0])
    for name, (room, num) in generated.items():
        if room not in rooms:
            usage_error(f'layers.txt:{num}: generated {name}: `{room}` is not a room')
    for (a, b, sym), num in upcalls.items():
        if a not in rooms or b not in rooms:
            usage_error(f'layers.txt:{num}: upcall {a} {b} {sym}: not two rooms')
    return rooms, denies, generated, upcalls, runtime


def source_files(root):
    """Every source under root (relative, '/'-separated), sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        top = rel_dir == '.'
        dirnames[:] = sorted(d for d in dirnames if not d.startswith('.') and not (
            top and (d.startswith('build') or d in NOT_ROOMS)))
        for name in filenames:
            if name.endswith(SOURCE_EXTS):
                found.append(name if top else f'{rel_dir}/{name}'.replace(os.sep, '/'))
    return sorted(found)


def resolve(root, src, name, generated):
    """The including file src sees "name" as: a root-relative path, ('generated', room),
    ('outside', path) or None if nothing matches."""
    def rel_if_file(base):
        full = os.path.normpath(os.path.join(root, base, name))
        return os.path.relpath(full, root).replace(os.sep, '/') if os.path.isfile(full) else None

    hit = rel_if_file(os.path.dirname(src)) or rel_if_file('')
    if not hit and '/' not in name:
        own = [h for h in HAL_DIRS if src.startswith(h + '/')]
        for hal in own + [h for h in HAL_DIRS if h not in own]:
            hit = rel_if_file(hal)
            if hit:
                break
    if hit:
        return ('outside', hit) if hit.startswith('../') or hit == '..' else hit
    gen = generated.get(os.path.basename(name))
    return ('generated', gen[0]) if gen else None


def resolve_angled(root, name):
    """<name> as a project file in a directory the builds put on the include path, or None."""
    for d in ANGLE_DIRS:
        full = os.path.join(root, d, name)
        if os.path.isfile(full):
            return f'{d}/{name}'
    return None


def logical_lines(text):
    """(line number, text) with backslash continuations joined and /* */ comments on a line
    dropped."""
    out, buf, start = [], '', 0
    for num, line in enumerate(text.splitlines(), 1):
        if not buf:
            start = num
        if line.endswith('\\'):
            buf += line[:-1]
            continue
        out.append((start, COMMENT.sub(' ', buf + line)))
        buf = ''
    if buf:
        out.append((start, COMMENT.sub(' ', buf)))
    return out


def nm_symbols(nm, obj):
    """(defined global names, undefined names) of an object, demangled, parameters dropped."""
    try:
        text = subprocess.run([nm, '-C', obj], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        usage_error(f'{nm} -C {obj}: {e}')
    defined, undefined = set(), set()
    for line in text.splitlines():
        parts = line.split(None, 2) if not line.startswith(' ') else ['', *line.split(None, 1)]
        if len(parts) < 3:
            continue
        kind, name = parts[1], parts[2].split('(')[0].strip()
        if kind == 'U':
            undefined.add(name)
        elif kind.isupper() or kind in 'uvw':
            defined.add(name)
    return defined, undefined


def check_link(root, build, layer, generated, upcalls, runtime):
    """Errors for symbols that kernel objects take from a room above their own."""
    try:
        with open(os.path.join(build, 'compile_commands.json'), encoding='utf-8') as f:
            commands = json.load(f)
    except (OSError, ValueError) as e:
        usage_error(f'--link {build}: no readable compile_commands.json ({e})')
    nm = os.environ.get('NM', 'riscv64-linux-gnu-nm')
    objects = []  # (source, room, defined, undefined)
    for c in commands:
        if os.path.basename(os.path.dirname(c['output'])) != 'kernel.elf.p':
            continue  # another target's object (host tests, user programs)
        full = os.path.normpath(os.path.join(c['directory'], c['file']))
        src = os.path.relpath(full, root).replace(os.sep, '/')
        room = src.split('/')[0]
        if src.startswith('../') or os.path.commonpath([full, build]) == build:  # generated
            gen = generated.get(os.path.basename(c['file']))
            room = gen[0] if gen else None
        if room not in layer:
            usage_error(f'--link: {c["file"]} stands in no room (add a `generated` line?)')
        obj = c['output'] if os.path.isabs(c['output']) else os.path.join(c['directory'], c['output'])
        objects.append((src, room, *nm_symbols(nm, obj)))
    if not objects:
        usage_error(f'--link {build}: no kernel.elf objects in compile_commands.json')
    definers = defaultdict(set)
    where = {}
    for src, room, defined, _ in objects:
        for sym in defined:
            definers[sym].add(room)
            where.setdefault((sym, room), src)
    errors, used = [], set()
    for src, room, _, undefined in sorted(objects):
        for sym in sorted(undefined):
            rooms = definers.get(sym)
            if not rooms or sym in runtime or any(layer[r] <= layer[room] for r in rooms):
                continue  # libgcc, the C runtime, or defined at or below
            for up in sorted(rooms, key=layer.get):
                if (room, up, sym) in upcalls:
                    used.add((room, up, sym))
                    continue
                errors.append(f'{src}: calls up: {sym} is defined in {up} ({layer[up]}, '
                              f'{where[(sym, up)]}) and {room} is layer {layer[room]}; not an '
                              f'`upcall {room} {up}` of layers.txt')
    for key, num in sorted(upcalls.items(), key=lambda kv: kv[1]):
        if key not in used:
            errors.append(f'layers.txt:{num}: upcall {" ".join(key)}: no object makes this call '
                          f'any more; remove it')
    return errors, len(objects)


def main():
    ap = argparse.ArgumentParser(description='Check that #includes point down the rooms of layers.txt.')
    ap.add_argument('--root', default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help='repository root (default: the parent of scripts/)')
    ap.add_argument('--counts', action='store_true',
                    help='also print include counts between rooms, product code and test code')
    ap.add_argument('--link', metavar='BUILD_DIR',
                    help="also check the kernel objects' symbols against the order")
    ap.add_argument('--rooms', action='store_true', help='print the rooms in order and stop')
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    if not os.path.isdir(root):
        usage_error(f'--root {args.root}: not a directory')
    rooms, denies, generated, upcalls, runtime = parse_layers(os.path.join(root, 'layers.txt'))
    if args.rooms:
        print('\n'.join(rooms))
        return 0
    layer = {room: i for i, room in enumerate(rooms, 1)}

    def may_use(room):  # "hal, user, dtb, elf and itself"
        names = rooms[:layer[room] - 1] + ['itself']
        return ' and '.join([', '.join(names[:-1]), names[-1]] if len(names) > 1 else names)

    errors, counts = [], {False: Counter(), True: Counter()}
    files = source_files(root)
    between = 0
    for src in files:
        room = src.split('/')[0]
        if '/' not in src or room not in layer:
            where = 'the root level' if '/' not in src else f'`{room}` is not a room of layers.txt'
            errors.append(f'{src}:1: not in any room: {where}')
            continue
        is_test = '/tests/' in f'/{src}' or room == 'selftest'
        with open(os.path.join(root, src), encoding='utf-8', errors='replace') as f:
            lines = logical_lines(f.read())
        for num, line in lines:
            if line.lstrip().startswith('//'):
                continue
            include = INCLUDE.match(line)
            if not include:
                continue
            rest = include.group(1).strip()
            angled, quoted = ANGLED.match(rest), QUOTED.match(rest)
            if angled and angled.group(1).split('/')[0] in layer:
                name = angled.group(1)
                errors.append(f'{src}:{num}: #include <{name}>: project header included with angle '
                              f'brackets: {name.split("/")[0]} is a room; write #include "{name}"')
                continue
            if angled:
                target = resolve_angled(root, angled.group(1))
                if not target:
                    continue  # a system header
                name, what = angled.group(1), f'{src}:{num}: #include <{angled.group(1)}>'
            elif quoted:
                name = quoted.group(1)
                what = f'{src}:{num}: #include "{name}"'
                target = resolve(root, src, name, generated)
            else:
                errors.append(f'{src}:{num}: #include {rest}: names no file (a computed include '
                              f'cannot be checked)')
                continue
            if target is None:
                errors.append(f'{what}: unresolved: not beside the file, not under the root, '
                              f'not in {" or ".join(HAL_DIRS)} and not a generated header')
                continue
            if target[0] == 'outside':
                errors.append(f'{what}: outside the repository: resolves to {target[1]}')
                continue
            if target[0] == 'generated':
                to_room, target = target[1], f'{target[1]}/{os.path.basename(name)}'
            else:
                to_room = target.split('/')[0]
            if to_room not in layer:
                errors.append(f'{what}: not in any room: {target} is outside the rooms of layers.txt')
                continue
            if layer[to_room] > layer[room]:
                errors.append(f'{what}: points up: {room} ({layer[room]}) may use only '
                              f'{may_use(room)}; {to_room} is layer {layer[to_room]}')
            for from_glob, to_glob, rule in denies:
                if from_glob(src) and to_glob(target):
                    errors.append(f'{what}: denied: {rule}')
            if to_room != room:
                between += 1
                counts[is_test][(room, to_room)] += 1

    objects = 0
    if args.link:
        link_errors, objects = check_link(root, os.path.abspath(args.link), layer, generated,
                                          upcalls, runtime)
        errors += link_errors
    for error in errors:
        print(error)
    if args.counts:
        for is_test, title in ((False, 'product code'), (True, 'test code (*/tests/*, selftest/)')):
            print(f'\nIncludes between rooms, {title}:\n\n| from | to | includes |\n|---|---|---|')
            for (a, b), n in sorted(counts[is_test].items(), key=lambda kv: (layer[kv[0][0]], layer[kv[0][1]])):
                print(f'| {a} | {b} | {n} |')
        print()
    if errors:
        print(f'layers: FAIL {len(errors)} violation(s)')
        return 1
    linked = f', {objects} kernel objects linked down' if args.link else ''
    print(f'layers: ok ({len(files)} files, {between} includes between rooms, {len(rooms)} rooms'
          f'{linked})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
