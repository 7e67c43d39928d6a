#!/usr/bin/env python3
"""The document path check: no document may name a repository path that does not exist.

Documents: README.md, every *.md under docs/ and tasks/, and every README*.md elsewhere. The
tree is what `git ls-files` lists (tracked and untracked, not ignored) and the working tree
still holds; outside a git work tree (a scratch copy), a walk of the directory.

A token is a word of a line, inside backticks or bare (whitespace, backticks, quotes,
brackets, parentheses, `|` and `=` separate words). It names a repository path when it holds
a `/` and its first component is a top-level entry of the tree (base, dtb, ..., meson.build,
.ci). First it loses a leading `./` and markdown emphasis (`*`, `_`), trailing punctuation
(`.,;:!?`), an `#anchor` and a `:line`, `:line-line` or `:N` suffix. Then:

  - with a `*`, `?` or `{a,b}` brace list it is a glob and must match an existing file or
    directory (`*` may cross `/`): `kernel/task_faults.*`, `mm/user_space.{hpp,cpp}`;
  - ending in `/` it must be an existing directory;
  - otherwise it must be an existing file or directory.

Skipped, by rule:
  - placeholders: a token holding `<`, `>` or `...`, or a component with a word made only of
    `N`s (`RFC-NNNN-*.md`, `smpN`);
  - build outputs: a first component starting with `build` (`build/`, `build-clang/`), and
    every word after `ninja` on its line (`ninja -C build elf/elf_tests` names targets);
  - anything whose first component is no top-level entry: `../shared/...` (outside the
    repository), and paths relative to a subdirectory's README (`regen.sh`, `tests/fixtures/`);
  - history: a document may name paths that are gone on purpose by listing them in a comment
    `<!-- doc-paths: gone kernel/ipc/ hal/riscv64/context_check.cpp -->`; those tokens are not
    checked in that document.

Prints `<doc>:<line>: names <token>, which does not exist` for each stale path, then
`doc-paths: ok (<N> documents, <M> paths)` (exit 0) or `doc-paths: FAIL <k> stale path(s)`
(exit 1). Usage errors exit 2.

  scripts/doc_paths.py [--root DIR]
"""
import argparse
import fnmatch
import os
import re
import subprocess
import sys

SEPARATORS = re.compile(r'[\s`"\'()\[\]|=]+')
PLACEHOLDER_N = re.compile(r'(?<![A-Za-z])N+(?![A-Za-z])')
LINE_SUFFIX = re.compile(r':(?:\d+(?:-\d+)?|N)$')
BRACES = re.compile(r'\{([^{}]*)\}')
GONE = re.compile(r'<!--\s*doc-paths:\s*gone\s+(.*?)-->', re.S)


def tree_files(root):
    """Every file of the tree, relative to root, with `/` separators."""
    git = ['git', '-C', root]
    try:
        top = subprocess.run(git + ['rev-parse', '--show-toplevel'], capture_output=True,
                             text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        top = None
    if top and os.path.realpath(top) == os.path.realpath(root):
        out = subprocess.run(git + ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
                             capture_output=True, check=True).stdout.decode()
        return sorted(n for n in set(out.split('\0')) if n and os.path.isfile(os.path.join(root, n)))
    files = []
    for here, dirs, names in os.walk(root):
        rel = os.path.relpath(here, root)
        dirs[:] = [d for d in dirs if d != '.git' and not (rel == '.' and d.startswith('build'))]
        files += [os.path.normpath(os.path.join(rel, n)).replace(os.sep, '/') for n in names]
    return sorted(files)


def is_document(path):
    name = path.rsplit('/', 1)[-1]
    if path == 'README.md' or (name.startswith('README') and name.endswith('.md')):
        return True
    return path.endswith('.md') and path.split('/', 1)[0] in ('docs', 'tasks')


def expand_braces(pattern):
    m = BRACES.search(pattern)
    if not m:
        return [pattern]
    head, tail = pattern[:m.start()], pattern[m.end():]
    return [p for alt in m.group(1).split(',') for p in expand_braces(head + alt + tail)]


def clean(word):
    word = word.lstrip('*_')
    word = word[2:] if word.startswith('./') else word
    word = word.split('#', 1)[0]
    while True:
        before = word
        word = LINE_SUFFIX.sub('', word.rstrip('.,;:!?'))
        if word.endswith('**') or word.endswith('_'):
            word = word.rstrip('*_')
        if word == before:
            return word


def skipped(token, top):
    first = token.split('/', 1)[0]
    if first not in top or first.startswith('build'):
        return True
    if '<' in token or '>' in token or '...' in token:
        return True
    return any(PLACEHOLDER_N.search(part) for part in token.split('/'))


def exists(token, files, dirs):
    if any(c in token for c in '*?{'):
        pool = dirs if token.endswith('/') else files | dirs
        return any(fnmatch.filter(pool, p.rstrip('/')) for p in expand_braces(token))
    if token.endswith('/'):
        return token.rstrip('/') in dirs
    return token in files or token in dirs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    ap.add_argument('--root', default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    root = ap.parse_args().root
    if not os.path.isdir(root):
        print(f'doc-paths: {root} is not a directory', file=sys.stderr)
        sys.exit(2)
    listing = tree_files(root)
    files = set(listing)
    dirs = {f.rsplit('/', i)[0] for f in listing for i in range(1, f.count('/') + 1)}
    top = {f.split('/', 1)[0] for f in listing}
    docs = [f for f in listing if is_document(f)]
    stale = checked = 0
    for doc in docs:
        with open(os.path.join(root, doc), encoding='utf-8', errors='replace') as fh:
            text = fh.read()
        gone = {clean(w) for m in GONE.finditer(text) for w in m.group(1).split()}
        for lineno, line in enumerate(text.splitlines(), 1):
            for word in SEPARATORS.split(line):
                if word == 'ninja':
                    break  # the rest of the line names build targets
                token = clean(word)
                if '/' not in token or token in gone or skipped(token, top):
                    continue
                checked += 1
                if not exists(token, files, dirs):
                    print(f'{doc}:{lineno}: names {token}, which does not exist')
                    stale += 1
    if stale:
        print(f'doc-paths: FAIL {stale} stale path(s)')
        sys.exit(1)
    print(f'doc-paths: ok ({len(docs)} documents, {checked} paths)')


if __name__ == '__main__':
    main()
