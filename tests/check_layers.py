#!/usr/bin/env python3
"""The layers, checked against the build itself: the allowed dependencies of
each library come from CMake's target_link_libraries (transitively), each
folder belongs to the library that compiles its sources, and every
#include "x.h" in a library folder, in the walker (only the files its own
source list names) and in tests/ must name a header of a library the file
may use. The library graph must have no cycle. Exits 1 naming each file and
include that breaks a layer."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Headers generated at build time, and the library whose folder makes them.
GENERATED = {"vd_invisible.h": "vd_common", "vd_secrets_yar.h": "vd_analyse"}
bad = []


def cmake_files():
    for dp, dn, fn in os.walk(ROOT):
        dn[:] = [d for d in dn if not d.startswith(("build", ".")) and d not in ("corpus", "guest", "fuzz")]
        if "CMakeLists.txt" in fn:
            yield dp, open(os.path.join(dp, "CMakeLists.txt"), encoding="utf-8").read()


def calls(text, name):
    """The argument lists of every call name(...) in a CMake file."""
    for m in re.finditer(r"\b%s\s*\(([^)]*)\)" % name, text):
        yield m.group(1).split()


lib_dirs, deps, exe_srcs = {}, {}, {}
for d, text in cmake_files():
    for args in calls(text, "add_library"):
        lib = args[0]
        srcs = [a for a in args[1:] if a.endswith(".c")]
        lib_dirs[lib] = sorted({os.path.normpath(os.path.join(d, os.path.dirname(s))) for s in srcs})
    for args in calls(text, "add_executable"):
        exe_srcs[args[0]] = [os.path.normpath(os.path.join(d, a)) for a in args[1:] if a.endswith(".c")]
    for args in calls(text, "target_link_libraries"):
        deps.setdefault(args[0], set()).update(a for a in args[1:] if a.startswith("vd_"))

# no cycle among the libraries
state = {}


def visit(lib, path):
    if state.get(lib) == 1:
        bad.append("library cycle: " + " -> ".join(path + [lib]))
        return
    if state.get(lib) == 2:
        return
    state[lib] = 1
    for d in sorted(deps.get(lib, ())):
        visit(d, path + [lib])
    state[lib] = 2


for lib in sorted(lib_dirs):
    visit(lib, [])


def closure(lib):
    out, todo = set(), [lib]
    while todo:
        x = todo.pop()
        for d in deps.get(x, ()):
            if d not in out:
                out.add(d)
                todo.append(d)
    return out


TESTS = os.path.join(ROOT, "tests")
lib_dirs.pop("vd_testhelpers", None)  # the tests' own helpers: no layer


def lib_of_dir(d):
    return next((lib for lib, ds in lib_dirs.items() if d in ds), None)


# The layers in order: the top-level CMakeLists.txt adds the folders bottom
# to top, and a library may link only libraries of folders added before its
# own (no upward or sideways edge).
top = open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8").read()
order = [a[0] for a in calls(top, "add_subdirectory") if a[0] != "tests"]
rank = {}
for lib, dirs in lib_dirs.items():
    tops = {os.path.relpath(d, ROOT).split(os.sep)[0] for d in dirs}
    if len(tops) != 1 or next(iter(tops)) not in order:
        bad.append(f"{lib}: its sources are not in one layer folder of the top-level CMakeLists.txt ({sorted(tops)})")
        continue
    rank[lib] = order.index(next(iter(tops)))
for lib in sorted(rank):
    for d in sorted(deps.get(lib, ())):
        if d in rank and rank[d] >= rank[lib]:
            bad.append(f"{lib} links {d}: {order[rank[d]]}/ is not below {order[rank[lib]]}/ in the layer order "
                       f"({', '.join(order)})")


def check(path, allowed, who):
    """Every #include "..." of path: a library's public header with its
    folder ("collect/vd_source.h"), a private one (*_int.h) bare from its own
    folder, or a header of a folder that is no library (cli/, tests/)."""
    rel = os.path.relpath(path, ROOT)
    here = os.path.dirname(path)
    in_tests = rel.startswith("tests" + os.sep)
    with open(path, encoding="utf-8") as fp:
        for lineno, line in enumerate(fp, 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m:
                continue
            inc = m.group(1)
            if inc in GENERATED:
                to = GENERATED[inc]
            else:
                target = os.path.join(ROOT, inc) if "/" in inc else os.path.join(here, inc)
                if in_tests and not os.path.exists(target):
                    target = os.path.join(TESTS, inc)  # the helpers' include directory
                if not os.path.exists(target):
                    bad.append(f"{rel}:{lineno}: includes \"{inc}\", which is no header of this tree (a library's "
                               f"header is included with its folder, as \"collect/vd_source.h\")")
                    continue
                to = lib_of_dir(os.path.dirname(target))
                if to is None:
                    continue  # a header of its own folder that no library compiles (cli/, tests' helpers)
                private = inc.endswith("_int.h")
                if "/" not in inc and not private:
                    bad.append(f"{rel}:{lineno}: includes \"{inc}\" without its folder: "
                               f"\"{os.path.relpath(target, ROOT)}\"")
                elif private and os.path.dirname(target) != here and not in_tests:
                    bad.append(f"{rel}:{lineno}: includes \"{inc}\", private to {os.path.relpath(os.path.dirname(target), ROOT)}/")
            if to not in allowed:
                bad.append(f"{rel}:{lineno}: includes \"{inc}\" of {to}; {who} may only use "
                           f"{', '.join(sorted(allowed))}")


n = 0
for lib, dirs in sorted(lib_dirs.items()):
    if lib == "vd_testhelpers":
        continue
    allowed = closure(lib) | {lib}
    for d in dirs:
        for f in sorted(os.listdir(d)):
            if f.endswith((".c", ".h")):
                check(os.path.join(d, f), allowed, lib)
                n += 1
# the walker: a static program of the sources it names, of collect/ and the
# layers below it
walker = exe_srcs.get("vmdrift-walker", [])
walker_allowed = closure("vd_collect") | {"vd_collect"}
for src in walker:
    lib = next((l for l, ds in lib_dirs.items() if os.path.dirname(src) in ds), None)
    if lib not in walker_allowed and not src.endswith("walker.c"):
        bad.append(f"{os.path.relpath(src, ROOT)}: in the walker's sources, but of {lib or 'no library'}")
    check(src, walker_allowed, "the walker")
    n += 1
# tests: any library, never the CLI (it is tested through the program)
test_allowed = set(lib_dirs)
for dp, dn, fn in os.walk(os.path.join(ROOT, "tests")):
    dn[:] = [d for d in dn if d != "corpus"]
    for f in sorted(fn):
        if f.endswith((".c", ".h")):
            check(os.path.join(dp, f), test_allowed, "a test")
            n += 1
if bad:
    print("\n".join(bad))
    sys.exit(1)
print(f"layers hold: {len(lib_dirs)} libraries in {len(order)} folders ({' < '.join(order)}), no cycle, "
      f"no upward edge, {n} files checked")
