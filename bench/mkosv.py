#!/usr/bin/env python3
"""Write N OSV records shaped like Debian's (osv.dev's DEBIAN-CVE-* and DSA-*
exports: details text, aliases, references, one affected entry per Debian
release with an ECOSYSTEM range and an explicit versions list) into DIR, one
file per record, as an unpacked all.zip is. Package names are the source
packages of a real dpkg status file, so the records hit real installed
packages; deterministic (seeded).

  mkosv.py STATUS DIR N
"""
import json, os, random, sys

status, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(12)
srcs = {}
pkg = src = ver = None
for line in open(status, encoding="utf-8", errors="replace").read().split("\n") + [""]:
    if not line:
        if pkg and ver:
            name, _, sv = (src or pkg).partition(" ")
            srcs[name] = sv.strip("()") or ver
        pkg = src = ver = None
    elif line.startswith("Package: "):
        pkg = line[9:]
    elif line.startswith("Source: "):
        src = line[8:]
    elif line.startswith("Version: "):
        ver = line[9:]
names = sorted(srcs)
# plus names no guest has: most of a real feed is about other packages
others = ["pkg%04d" % i for i in range(3000)]
os.makedirs(out, exist_ok=True)
words = "buffer overflow use after free in the parser allows remote attackers to cause a denial of service " \
        "or possibly execute arbitrary code via a crafted file when processing untrusted input".split()
for i in range(n):
    name = rnd.choice(names) if rnd.random() < 0.3 else rnd.choice(others)
    cur = srcs.get(name, "1.%d-1" % rnd.randint(0, 9))
    cve = "CVE-%d-%d" % (rnd.randint(2015, 2026), rnd.randint(1000, 99999))
    rid = ("DSA-%d-1" % (1000 + i)) if i % 10 == 0 else "DEBIAN-" + cve + "-%d" % i
    affected = []
    for rel in ("Debian:11", "Debian:12", "Debian:13"):
        fixed = cur + ("+deb12u%d" % rnd.randint(1, 9) if rnd.random() < 0.5 else "")
        if rnd.random() < 0.4:
            fixed = None  # not fixed yet
        ev = [{"introduced": "0"}] + ([{"fixed": fixed}] if fixed else [])
        affected.append({
            "package": {"ecosystem": rel, "name": name, "purl": "pkg:deb/debian/%s?arch=source" % name},
            "ranges": [{"type": "ECOSYSTEM", "events": ev}],
            "versions": ["%s~%d" % (cur, k) for k in range(rnd.randint(0, 12))],
            "ecosystem_specific": {"urgency": rnd.choice(["low", "medium", "high", "not yet assigned", "unimportant"])},
            "database_specific": {"source": "https://storage.googleapis.com/debian-osv/%s.json" % rid},
        })
    rec = {
        "schema_version": "1.6.0", "id": rid, "modified": "2026-11-0%dT12:00:00Z" % rnd.randint(1, 9),
        "published": "2024-0%d-01T00:00:00Z" % rnd.randint(1, 9), "aliases": [cve],
        "summary": " ".join(rnd.choice(words) for _ in range(8)),
        "details": " ".join(rnd.choice(words) for _ in range(rnd.randint(20, 120))),
        "affected": affected,
        "references": [{"type": "ADVISORY", "url": "https://security-tracker.debian.org/tracker/" + cve}] +
                      [{"type": "WEB", "url": "https://example.org/%d/%d" % (i, k)} for k in range(rnd.randint(1, 6))],
    }
    if rnd.random() < 0.3:
        rec["severity"] = [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:%s/S:U/C:H/I:%s/A:N" % (
            rnd.choice("NR"), rnd.choice("HLN"))}]
    with open(os.path.join(out, rid + ".json"), "w") as f:
        json.dump(rec, f, indent=2)
