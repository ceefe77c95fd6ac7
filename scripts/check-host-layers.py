#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check the layering of the host driver's source files.

usage: scripts/check-host-layers.py [--warn-only] [--layers F=N,...] [DIR]

DIR (default drivers/nvme/host) holds the C files.  Two graphs are built:

  references  a.c -> b.c when a.c uses an identifier (function or variable)
              that b.c defines with external linkage;
  includes    a -> b.h when a has #include "b.h" and b.h is in DIR.

Any cycle in either graph fails the check (exit 1), printed as
"a.c -> b.c -> a.c" with the identifiers that make each reference.  When
LAYERS below is not empty (or --layers gives one), every .c file must have
a layer and may reference only files of its own layer or lower ones.
--warn-only prints the same and exits 0.
"""

import os
import re
import sys

# file -> layer number; a file may reference files of its own layer or of
# lower layers only (Documentation/design.md draws them).  Empty: no layer
# check, only the cycle checks.
LAYERS = {
    'nvme_rdma_trace.c': 0,
    'nvme_rdma_cm.c': 1,
    'nvme_rdma_mr.c': 1,
    'nvme_rdma_queue.c': 2,
    'nvme_rdma_error.c': 3,
    'nvme_rdma_stats.c': 3,
    'nvme_rdma_cmd.c': 4,
    'nvme_rdma_setup.c': 5,
    'nvme_rdma_recovery.c': 6,
    'nvme_rdma_ctrl.c': 7,
    'nvme_rdma_main.c': 8,
    'nvme_rdma_fault.c': 9,
}

# Comments, string and character literals, preprocessor lines (with their
# continuations): what the definition and reference scans must not see.
_LEXEMES = re.compile(r'''
      (?P<comment> /\*.*?\*/ | //[^\n]* )
    | (?P<string> "(?:\\.|[^"\\\n])*" | '(?:\\.|[^'\\\n])*' )
    | (?P<pp> ^[ \t]*\#(?:\\\n|[^\n])* )
''', re.S | re.M | re.X)
_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.M)
_COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
_IDENT = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
# Words that may stand before a declarator's name and are no name.
_NOT_NAMES = {
    'const', 'volatile', 'unsigned', 'signed', 'int', 'long', 'short',
    'char', 'void', 'bool', 'struct', 'union', 'enum', 'inline',
    '__read_mostly', '__initdata', '__exitdata', '__ro_after_init',
    '__percpu', '__rcu', '__iomem', '__user', '__maybe_unused',
    '__always_unused', '__attribute__', 'extern', 'register',
}


def strip_code(text):
    """Blank comments, literals and preprocessor lines, keeping newlines."""
    def blank(m):
        return re.sub(r'[^\n]', ' ', m.group(0))
    return _LEXEMES.sub(blank, text)


def top_level(code):
    """Yield (kind, text) for each top-level construct of stripped code:
    ('func', header) for a brace body whose header ends in a parameter
    list, ('decl', text) for a statement ending in ';' at depth 0 (brace
    contents of an initialiser or type body left out)."""
    depth = 0
    chunk = []
    pending_func = None
    for ch in code:
        if ch == '{':
            if depth == 0:
                head = ''.join(chunk).strip()
                if head.endswith(')') and '=' not in head:
                    pending_func = head
                    chunk = []
                else:
                    chunk.append(' ')
            depth += 1
        elif ch == '}':
            depth -= 1
            if depth == 0 and pending_func is not None:
                yield 'func', pending_func
                pending_func = None
                chunk = []
        elif depth == 0:
            if ch == ';':
                yield 'decl', ''.join(chunk).strip()
                chunk = []
            else:
                chunk.append(ch)


def _paren_depth_split(text, sep):
    out, cur, depth = [], [], 0
    for ch in text:
        if ch in '([':
            depth += 1
        elif ch in ')]':
            depth -= 1
        if ch == sep and depth == 0:
            out.append(''.join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append(''.join(cur))
    return out


def _strip_attributes(text):
    prev = None
    while prev != text:
        prev = text
        text = re.sub(r'__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)', ' ',
                      text)
    return text


def func_name(head):
    """Name of a function definition from its header, or None."""
    head = _strip_attributes(head)
    depth = 0
    for i in range(len(head) - 1, -1, -1):
        if head[i] == ')':
            depth += 1
        elif head[i] == '(':
            depth -= 1
            if depth == 0:
                m = re.search(r'([A-Za-z_][A-Za-z0-9_]*)\s*$', head[:i])
                return m.group(1) if m else None
    return None


def external_definitions(code):
    """Identifiers a stripped C file defines with external linkage."""
    names = set()
    for kind, text in top_level(code):
        words = set(_IDENT.findall(text))
        if 'static' in words or 'typedef' in words or 'extern' in words:
            continue
        if kind == 'func':
            name = func_name(text)
            if name:
                names.add(name)
            continue
        text = _strip_attributes(text)
        # A prototype, or a macro invocation such as MODULE_LICENSE(...).
        if re.search(r'\)\s*$', text.split('=')[0]):
            continue
        if not re.match(r'\s*[A-Za-z_]', text):
            continue
        for i, decl in enumerate(_paren_depth_split(text, ',')):
            decl = decl.split('=')[0]
            decl = re.sub(r'\[[^\]]*\]', ' ', decl)
            idents = [w for w in _IDENT.findall(decl) if w not in _NOT_NAMES]
            # The first declarator needs a type before its name.
            if idents and (i > 0 or len(_IDENT.findall(decl)) > 1):
                names.add(idents[-1])
    return names


def find_cycles(graph):
    """(component, cycle) for each strongly connected component with more
    than one node, in a stable order: the component's sorted nodes and one
    shortest cycle through its first node (first node repeated last)."""
    index, low, onstack, stack, sccs = {}, {}, set(), [], []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        onstack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in onstack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                onstack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            strong(v)

    cycles = []
    for comp in sorted(sccs):
        members = set(comp)
        start = comp[0]
        # Shortest way back to start, breadth first inside the component.
        prev = {start: None}
        queue = [start]
        end = None
        while queue and end is None:
            v = queue.pop(0)
            for w in sorted(graph.get(v, ())):
                if w == start:
                    end = v
                    break
                if w in members and w not in prev:
                    prev[w] = v
                    queue.append(w)
        path = [start]
        v = end
        while v != start:
            path.append(v)
            v = prev[v]
        path.append(start)
        path = [start] + list(reversed(path[1:-1])) + [start]
        cycles.append((comp, path))
    return cycles


def parse_layers(arg):
    layers = {}
    for item in arg.split(','):
        if not item:
            continue
        name, _, num = item.partition('=')
        layers[name.strip()] = int(num)
    return layers


def main(argv):
    warn_only = False
    layers = dict(LAYERS)
    args = []
    it = iter(argv)
    for a in it:
        if a == '--warn-only':
            warn_only = True
        elif a == '--layers':
            layers = parse_layers(next(it, ''))
        elif a.startswith('--layers='):
            layers = parse_layers(a[len('--layers='):])
        elif a.startswith('-'):
            print(__doc__.strip().splitlines()[2], file=sys.stderr)
            return 2
        else:
            args.append(a)
    if len(args) > 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    top = args[0] if args else 'drivers/nvme/host'
    files = sorted(f for f in os.listdir(top)
                   if f.endswith(('.c', '.h')) and not f.endswith('.mod.c'))
    raw = {}
    for f in files:
        with open(os.path.join(top, f), encoding='utf-8',
                  errors='replace') as fh:
            raw[f] = fh.read()
    code = {f: strip_code(raw[f]) for f in files}
    sources = [f for f in files if f.endswith('.c')]

    defs = {f: external_definitions(code[f]) for f in sources}
    owner = {}
    for f in sources:
        for name in defs[f]:
            owner.setdefault(name, f)

    refs, why = {f: set() for f in sources}, {}
    for f in sources:
        for name in set(_IDENT.findall(code[f])):
            g = owner.get(name)
            if g and g != f and name not in defs[f]:
                refs[f].add(g)
                why.setdefault((f, g), set()).add(name)

    incs = {f: set() for f in files}
    for f in files:
        for inc in _INCLUDE.findall(_COMMENT.sub('', raw[f])):
            inc = os.path.normpath(inc)
            if inc in raw:
                incs[f].add(inc)

    problems = 0
    for comp, cyc in find_cycles(refs):
        problems += 1
        print('reference cycle: ' + ' -> '.join(cyc))
        if len(comp) > len(cyc) - 1:
            print('  all of these reach each other: ' + ' '.join(comp))
        for a, b in zip(cyc, cyc[1:]):
            names = sorted(why[(a, b)])
            more = ' ...' if len(names) > 4 else ''
            print('  %s -> %s: %s%s' % (a, b, ', '.join(names[:4]), more))
    for comp, cyc in find_cycles(incs):
        problems += 1
        print('include cycle: ' + ' -> '.join(cyc))

    if layers:
        for f in sources:
            if f not in layers:
                problems += 1
                print('layers: %s has no layer in the table' % f)
        for f in sources:
            for g in sorted(refs[f]):
                if f in layers and g in layers and layers[g] > layers[f]:
                    problems += 1
                    print('layers: %s (layer %d) references %s (layer %d): %s'
                          % (f, layers[f], g, layers[g],
                             ', '.join(sorted(why[(f, g)]))))

    if problems:
        print('check-host-layers: %d problem(s) in %s%s'
              % (problems, top, ' (warning only)' if warn_only else ''))
        return 0 if warn_only else 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
