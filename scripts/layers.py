#!/usr/bin/env python3
"""The layer check: every #include between Kestrel's top-level rooms must point down.

layers.txt at the repository root is the one place the order of the rooms lives (bottom
first), with its `deny` rules (sideways includes forbidden even when the order allows them)
and its `generated` headers. This script reads it and checks every C/C++/assembly source
under the root:

  - an #include "..." may name only a file of its own room or of a room listed earlier;
  - no include may match a `deny <from-glob> <to-glob>` rule;
  - every #include "..." must resolve (as the compilers resolve it) inside the root;
  - a project header must not be included with angle brackets (<sched/task.hpp>);
  - every source file must stand in a room.

Errors are printed compiler-style (path:line: ...), then `layers: FAIL <k> violation(s)`
(exit 1); a clean tree prints `layers: ok (...)` (exit 0). Usage errors and a malformed
layers.txt exit 2.

  scripts/layers.py [--root DIR] [--counts]
"""
import argparse
import os
import re
import sys
from collections import Counter

SOURCE_EXTS = ('.cpp', '.hpp', '.h', '.c', '.S', '.inc')
NOT_ROOMS = {'docs', 'tasks', 'scripts', 'cross'}  # hold no C/C++ and are not checked
HAL_DIRS = ('hal/riscv64', 'hal/host')              # one of them is on the include path
QUOTED = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
ANGLED = re.compile(r'^\s*#\s*include\s*<([^>]+)>')


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
    rooms, denies, generated = [], [], {}
    for num, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith('#'):
            continue
        head, colon, reason = text.partition(':')
        words = head.split()
        if not colon or not reason.strip() or not words:
            usage_error(f'layers.txt:{num}: malformed line (want `<room>: <why>`, '
                        f'`deny <from> <to>: <why>` or `generated <file> <room>: <why>`): {text}')
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
    return rooms, denies, generated


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


def main():
    ap = argparse.ArgumentParser(description='Check that #includes point down the rooms of layers.txt.')
    ap.add_argument('--root', default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    help='repository root (default: the parent of scripts/)')
    ap.add_argument('--counts', action='store_true',
                    help='also print include counts between rooms, product code and test code')
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    if not os.path.isdir(root):
        usage_error(f'--root {args.root}: not a directory')
    rooms, denies, generated = parse_layers(os.path.join(root, 'layers.txt'))
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
            lines = f.read().splitlines()
        for num, line in enumerate(lines, 1):
            if line.lstrip().startswith('//'):
                continue
            angled = ANGLED.match(line)
            if angled and angled.group(1).split('/')[0] in layer:
                name = angled.group(1)
                errors.append(f'{src}:{num}: #include <{name}>: project header included with angle '
                              f'brackets: {name.split("/")[0]} is a room; write #include "{name}"')
                continue
            quoted = QUOTED.match(line)
            if not quoted:
                continue
            name = quoted.group(1)
            what = f'{src}:{num}: #include "{name}"'
            target = resolve(root, src, name, generated)
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
    print(f'layers: ok ({len(files)} files, {between} includes between rooms, {len(rooms)} rooms)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
