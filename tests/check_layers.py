#!/usr/bin/env python3
"""The layers of HACKING.md, checked: every #include "x.h" in a library
folder must name a header of the folder itself or of a folder it may depend
on. Exits 1 naming each file and include that breaks a layer, or a header
that two folders both define."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALLOWED = {
    "common": set(),
    "policy": {"common"},
    "fim/collect": {"common"},
    "fim/collect/walker": {"fim/collect", "common"},
    "fim/collect/guest": {"fim/collect", "common"},
    "fim/analyse": {"fim/collect", "policy", "common"},
    "baseline": {"fim/collect", "policy", "common"},
    "reporters": {"common"},
    "fim/pipeline": {"fim/analyse", "fim/collect", "baseline", "reporters", "policy", "common"},
    "cli": {"fim/pipeline", "fim/analyse", "fim/collect", "baseline", "reporters", "policy", "common"},
}

# Headers generated at build time, and the folder whose script makes them.
GENERATED = {"vd_invisible.h": "common"}

owner = dict(GENERATED)
bad = []
for folder in ALLOWED:
    d = os.path.join(ROOT, folder)
    for f in sorted(os.listdir(d)):
        if f.endswith(".h"):
            if f in owner:
                bad.append(f"{f}: defined in both {owner[f]}/ and {folder}/")
            owner[f] = folder
for folder, allowed in ALLOWED.items():
    d = os.path.join(ROOT, folder)
    for f in sorted(os.listdir(d)):
        if not f.endswith((".c", ".h")):
            continue
        with open(os.path.join(d, f), encoding="utf-8") as fp:
            for lineno, line in enumerate(fp, 1):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not m:
                    continue
                inc = os.path.basename(m.group(1))
                to = owner.get(inc)
                if to is None:
                    bad.append(f"{folder}/{f}:{lineno}: includes \"{inc}\", which no library folder defines")
                elif to != folder and to not in allowed:
                    bad.append(f"{folder}/{f}:{lineno}: includes \"{inc}\" from {to}/; "
                               f"{folder}/ may only use {', '.join(sorted(allowed)) or 'nothing'}")
if bad:
    print("\n".join(bad))
    sys.exit(1)
print(f"layers hold: {sum(len(os.listdir(os.path.join(ROOT, f))) for f in ALLOWED)} files checked")
