#!/usr/bin/env python3
"""Fails when a crate's top-level modules import each other in a cycle.

For every `src/` folder given, each top-level module (`src/x.rs` or `src/x/`) is a node and every
`crate::y` a file of module x names (in `use` lines, grouped `use crate::{y, z}` or inline paths)
is an edge x -> y. The modules are then sorted so that each comes after everything it uses; when
that is impossible the script prints one cycle, names the files that make its edges, and exits 1.
On success it prints the layers, lowest first.
"""

import os
import re
import sys
from collections import defaultdict

CRATE_PATH = re.compile(r"\bcrate::(\{|[A-Za-z_][A-Za-z0-9_]*)")
IDENT = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def grouped(text, start):
    """The names right inside the braces of `crate::{...}` beginning at `start`."""
    depth, item_start, names = 0, start + 1, []
    for i in range(start, len(text)):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                names.append(text[item_start:i])
                break
        elif c == "," and depth == 1:
            names.append(text[item_start:i])
            item_start = i + 1
    out = []
    for item in names:
        m = IDENT.match(item)
        if m:
            out.append(m.group(1))
    return out


def modules_of(src):
    tops = {}
    for entry in sorted(os.listdir(src)):
        path = os.path.join(src, entry)
        if os.path.isdir(path):
            tops[entry] = path
        elif entry.endswith(".rs") and entry not in ("lib.rs", "main.rs"):
            tops[entry[:-3]] = path
    return tops


def files_of(path):
    if os.path.isfile(path):
        yield path
        return
    for root, _, files in os.walk(path):
        for f in sorted(files):
            if f.endswith(".rs"):
                yield os.path.join(root, f)
    parent_file = path + ".rs"
    if os.path.isfile(parent_file):
        yield parent_file


def edges_of(src):
    tops = modules_of(src)
    edges = defaultdict(lambda: defaultdict(set))
    for name, path in tops.items():
        for f in files_of(path):
            with open(f, encoding="utf-8") as fh:
                text = strip_comments(fh.read())
            for m in CRATE_PATH.finditer(text):
                if m.group(1) == "{":
                    targets = grouped(text, m.start(1))
                else:
                    targets = [m.group(1)]
                for t in targets:
                    if t in tops and t != name:
                        edges[name][t].add(os.path.relpath(f, src))
    return tops, edges


def find_cycle(nodes, edges):
    state = {n: 0 for n in nodes}  # 0 new, 1 on the path, 2 done
    path = []

    def visit(n):
        state[n] = 1
        path.append(n)
        for m in sorted(edges[n]):
            if state[m] == 1:
                return path[path.index(m):] + [m]
            if state[m] == 0:
                found = visit(m)
                if found:
                    return found
        path.pop()
        state[n] = 2
        return None

    for n in sorted(nodes):
        if state[n] == 0:
            found = visit(n)
            if found:
                return found
    return None


def layers(nodes, edges):
    placed, order = set(), []
    while len(placed) < len(nodes):
        layer = sorted(n for n in nodes if n not in placed and set(edges[n]) <= placed)
        if not layer:
            return None
        order.append(layer)
        placed.update(layer)
    return order


def check(src):
    tops, edges = edges_of(src)
    order = layers(tops, edges)
    if order is not None:
        print(f"{src}: no cycles; layers, lowest first:")
        for i, layer in enumerate(order):
            print(f"  {i}: {' '.join(layer)}")
        return True
    cycle = find_cycle(tops, edges)
    print(f"{src}: the top-level modules import each other in a cycle:", file=sys.stderr)
    print("  " + " -> ".join(cycle), file=sys.stderr)
    for a, b in zip(cycle, cycle[1:]):
        files = sorted(edges[a][b])
        print(f"  {a} -> {b}: {', '.join(files)}", file=sys.stderr)
    return False


def main(args):
    if not args:
        print("usage: check-layers.py <crate src dir>...", file=sys.stderr)
        return 2
    ok = True
    for src in args:
        ok = check(src) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
