#!/usr/bin/env python3
"""Check ND-JSON ECS documents against Elastic's own field definitions.

  validate.py ecs_fields.json REPORT.ndjson

ecs_fields.json is made by extract.js from the @elastic/ecs npm package
(EcsFlat). Every field of every document must be an ECS field of the right
type (arrays only where ECS makes the field one), or sit in the custom
namespace vmdrift.*; event.kind, event.category, event.type and
event.outcome take only their allowed values, and each event.type must be
one its event.category expects. ecs.version must be the definitions'. Prints
each problem with its line; exit 1 if any.
"""
import json
import re
import sys

CUSTOM = "vmdrift"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
STRINGS = {"keyword", "constant_keyword", "wildcard", "match_only_text", "text", "ip", "version"}
NUMBERS = {"float", "scaled_float", "half_float", "double"}
INTEGERS = {"long", "unsigned_long", "integer", "short", "byte"}


def flatten(obj, prefix=""):
    for k, v in obj.items():
        name = prefix + k
        if isinstance(v, dict):
            yield from flatten(v, name + ".")
        else:
            yield name, v


def type_ok(t, v):
    if t in STRINGS:
        return isinstance(v, str)
    if t in INTEGERS:
        return isinstance(v, int) and not isinstance(v, bool)
    if t in NUMBERS:
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "date":
        return isinstance(v, str) and DATE.match(v) is not None
    if t == "boolean":
        return isinstance(v, bool)
    return False


def check(doc, fields, version):
    bad = []
    seen = dict(flatten(doc))
    for name in ("@timestamp", "ecs.version", "event.kind", "event.category", "event.type", "message"):
        if name not in seen:
            bad.append("%s missing" % name)
    if seen.get("ecs.version") != version:
        bad.append("ecs.version %r, the definitions are %s" % (seen.get("ecs.version"), version))
    for name, v in seen.items():
        if name.split(".")[0] == CUSTOM:
            continue
        f = fields.get(name)
        if f is None:
            bad.append("%s is no ECS field" % name)
            continue
        values = v if isinstance(v, list) else [v]
        if isinstance(v, list) and not f.get("array"):
            bad.append("%s is an array; ECS has one value" % name)
        for x in values:
            if not type_ok(f["type"], x):
                bad.append("%s: %r is no %s" % (name, x, f["type"]))
            elif "allowed" in f and x not in f["allowed"]:
                bad.append("%s: %r is none of its allowed values" % (name, x))
    cats = seen.get("event.category", [])
    types = seen.get("event.type", [])
    expected = fields["event.category"].get("expected_event_types", {})
    for t in types if isinstance(types, list) else [types]:
        if not any(t in expected.get(c, []) for c in (cats if isinstance(cats, list) else [cats])):
            bad.append("event.type %r is expected by none of event.category %r" % (t, cats))
    return bad


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        defs = json.load(f)
    version = defs["source"].split()[-1]
    problems = 0
    docs = 0
    with open(sys.argv[2]) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except ValueError as e:
                print("line %d: not JSON: %s" % (n, e))
                problems += 1
                continue
            docs += 1
            for p in check(doc, defs["fields"], version):
                print("line %d: %s" % (n, p))
                problems += 1
    if not docs:
        print("no documents")
        problems += 1
    print("%d documents, %d problems (%s)" % (docs, problems, defs["source"]))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
