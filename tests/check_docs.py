#!/usr/bin/env python3
"""The README and the docs, checked as a reader would use them from a fresh
clone: every relative link names a file of the tree, every script a command
names exists, and the README keeps exactly two set-up commands (one that
installs, builds and runs the demo, one that runs all tests) and fits on a
few screens. Exit 1 with each problem and its line."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
problems = []


def check_links(rel):
    path = os.path.join(ROOT, rel)
    base = os.path.dirname(path)
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    fence = False
    for n, line in enumerate(lines, 1):
        if line.startswith("```"):
            fence = not fence
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            t = target.split("#", 1)[0]
            if not os.path.exists(os.path.normpath(os.path.join(base, t))):
                problems.append(f"{rel}:{n}: link to {target}: no such file")
        # commands a reader runs: bash scripts/..., bash bench/..., python3 tests/...
        for script in re.findall(r"\b(?:bash|python3|sh)\s+((?:scripts|bench|tests)/[\w./-]+)", line):
            if not os.path.exists(os.path.join(ROOT, script)):
                problems.append(f"{rel}:{n}: {script}: no such script")
    return lines


readme = check_links("README.md")
check_links("HACKING.md")
for name in sorted(os.listdir(os.path.join(ROOT, "docs"))):
    if name.endswith(".md"):
        check_links(os.path.join("docs", name))

# the set-up section: exactly two commands, the demo's and the tests'
try:
    start = next(i for i, l in enumerate(readme) if l.startswith("## Set up"))
    block_start = next(i for i in range(start, len(readme)) if readme[i].startswith("```"))
    block_end = next(i for i in range(block_start + 1, len(readme)) if readme[i].startswith("```"))
    cmds = [l.split("#", 1)[0].strip() for l in readme[block_start + 1:block_end]]
    cmds = [c for c in cmds if c]
    if cmds != ["bash scripts/demo.sh", "bash scripts/test.sh"]:
        problems.append(f"README.md:{block_start + 2}: the set-up commands are {cmds}, not the demo's and the tests'")
except StopIteration:
    problems.append("README.md: no '## Set up' section with a command block")
if len(readme) > 220:
    problems.append(f"README.md: {len(readme)} lines: more than a few screens (220); move detail to docs/")

for p in problems:
    print(p)
print(f"docs: {len(problems)} problems")
sys.exit(1 if problems else 0)
