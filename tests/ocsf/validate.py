#!/usr/bin/env python3
"""Check ND-JSON OCSF events against the OCSF schema's own definitions.

  validate.py SCHEMA_DIR REPORT.ndjson

SCHEMA_DIR holds files of the ocsf/ocsf-schema repository (dictionary.json,
categories.json, version.json, events/, objects/, profiles/), as OCSF's
server compiles them: a class or object is its "extends" chain merged, with
the attributes of the profiles it $includes; an attribute's type, array-ness
and enum come from the dictionary, overridden by the class or object.

Each event: its class_uid names a class of the schema, category_uid and
type_uid (class_uid * 100 + activity_id) agree, every attribute the class
(or an object) requires is there, every attribute is one it defines, of its
type (regex included), every enumerated value (*_id) is one of its enum, an
object's constraints (at_least_one, just_one) hold, and metadata.version is
the schema's. vendor data goes in "unmapped" (object_t). Prints each problem
with its line; exit 1 if any.
"""
import json
import os
import re
import sys


def load(root, rel):
    with open(os.path.join(root, rel)) as f:
        return json.load(f)


class Schema:
    def __init__(self, root):
        self.root = root
        d = load(root, "dictionary.json")
        self.dict = d["attributes"]
        self.types = d["types"]["attributes"]
        self.version = load(root, "version.json")["version"]
        self.categories = {k: v["uid"] for k, v in load(root, "categories.json")["attributes"].items()}
        self.classes = {}  # class_uid -> (name, attributes)
        self.raw = {}
        for dirpath, _, files in os.walk(os.path.join(root, "events")):
            for fn in files:
                c = load(dirpath, fn)
                self.raw[c["name"]] = c
        for name, c in self.raw.items():
            if "uid" not in c:
                continue
            cat = self.category_of(name)
            self.classes[self.categories[cat] * 1000 + c["uid"]] = name
        self.objects = {}
        for fn in os.listdir(os.path.join(root, "objects")):
            o = load(os.path.join(root, "objects"), fn)
            self.objects[o["name"]] = o
        self.cache = {}

    def category_of(self, name):
        c = self.raw[name]
        while "category" not in c and "extends" in c:
            c = self.raw[c["extends"]]
        return c["category"]

    def merged(self, defs, name):
        """The attributes of a class or object: its extends chain, base first, and the profiles it includes."""
        key = (id(defs), name)
        if key in self.cache:
            return self.cache[key]
        d = defs[name]
        attrs = dict(self.merged(defs, d["extends"])[0]) if d.get("extends") in defs else {}
        constraints = dict(self.merged(defs, d["extends"])[1]) if d.get("extends") in defs else {}
        own = d.get("attributes", {})
        for inc in own.get("$include", []):
            prof = load(self.root, inc)
            for k, v in prof.get("attributes", {}).items():
                # a profile's attributes: allowed; required only where the event applies it
                attrs[k] = {**attrs.get(k, {}), **v, "_profile": prof["name"]}
        for k, v in own.items():
            if k != "$include":
                attrs[k] = {**attrs.get(k, {}), **v}
        constraints.update(d.get("constraints") or {})
        self.cache[key] = (attrs, constraints)
        return attrs, constraints

    def attr(self, name, local):
        """The dictionary's definition of an attribute, with a class's or object's overrides."""
        base = dict(self.dict.get(name, {}))
        base.update({k: v for k, v in local.items() if k in ("enum", "requirement", "type", "is_array")})
        return base


# the base event's enums of these name only itself: the class's own uids are checked in check()
SELF_CHECKED = ("class_uid", "category_uid", "type_uid")


def type_ok(s, t, v):
    """v against type t: an object (dict), or a primitive with its base type and regex."""
    if t in s.objects:
        return isinstance(v, dict)
    spec = s.types.get(t, {})
    prim = spec.get("type", t)
    if prim in ("string_t",):
        ok = isinstance(v, str)
    elif prim in ("integer_t", "long_t"):
        ok = isinstance(v, int) and not isinstance(v, bool)
    elif prim == "float_t":
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
    elif prim == "boolean_t":
        ok = isinstance(v, bool)
    elif prim == "object_t":
        ok = isinstance(v, dict)
    elif prim == "json_t":
        ok = True
    else:
        return False
    if ok and "regex" in spec and isinstance(v, str):
        ok = re.match(spec["regex"], v) is not None
    return ok


def check_attrs(s, obj, attrs, constraints, where, bad, profiles=()):
    for k, a in attrs.items():
        if (isinstance(a, dict) and a.get("requirement") == "required" and k not in obj and
                a.get("_profile", None) in (None,) + tuple(profiles)):
            bad.append("%s%s: required, missing" % (where, k))
    if constraints.get("at_least_one") and not any(x in obj for x in constraints["at_least_one"]):
        bad.append("%s: needs at least one of %s" % (where.rstrip(".") or "event", constraints["at_least_one"]))
    if constraints.get("just_one") and sum(x in obj for x in constraints["just_one"]) != 1:
        bad.append("%s: needs just one of %s" % (where.rstrip(".") or "event", constraints["just_one"]))
    for k, v in obj.items():
        if k not in attrs:
            bad.append("%s%s: no attribute of this class or object" % (where, k))
            continue
        a = s.attr(k, attrs[k])
        t = a.get("type")
        if t is None:
            bad.append("%s%s: not in the dictionary" % (where, k))
            continue
        values = v if a.get("is_array") else [v]
        if a.get("is_array") and not isinstance(v, list):
            bad.append("%s%s: must be an array" % (where, k))
            continue
        for i, x in enumerate(values):
            w = "%s%s%s" % (where, k, "[%d]" % i if a.get("is_array") else "")
            if not type_ok(s, t, x):
                bad.append("%s: %r is no %s" % (w, x, t))
                continue
            if "enum" in a and str(x) not in a["enum"] and k not in SELF_CHECKED:
                bad.append("%s: %r is none of its enum %s" % (w, x, sorted(a["enum"], key=int)))
            if t in s.objects and t != "object":  # "object": free-form (unmapped)
                oattrs, ocons = s.merged(s.objects, t)
                check_attrs(s, x, oattrs, ocons, w + ".", bad, profiles)


def check(s, ev):
    bad = []
    cls = s.classes.get(ev.get("class_uid"))
    if cls is None:
        return ["class_uid %r is no class of the schema" % ev.get("class_uid")]
    attrs, cons = s.merged(s.raw, cls)
    check_attrs(s, ev, attrs, cons, "", bad, ev.get("metadata", {}).get("profiles", []))
    cat = s.categories[s.category_of(cls)]
    if ev.get("category_uid") != cat:
        bad.append("category_uid %r; %s is in category %d" % (ev.get("category_uid"), cls, cat))
    if isinstance(ev.get("activity_id"), int) and ev.get("type_uid") != ev["class_uid"] * 100 + ev["activity_id"]:
        bad.append("type_uid %r is not class_uid * 100 + activity_id" % ev.get("type_uid"))
    if ev.get("metadata", {}).get("version") != s.version:
        bad.append("metadata.version %r; the schema is %s" % (ev.get("metadata", {}).get("version"), s.version))
    return bad


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    s = Schema(sys.argv[1])
    problems = docs = 0
    classes = set()
    with open(sys.argv[2]) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                ev = json.loads(line)
            except ValueError as e:
                print("line %d: not JSON: %s" % (n, e))
                problems += 1
                continue
            docs += 1
            classes.add(s.classes.get(ev.get("class_uid"), "?"))
            for p in check(s, ev):
                print("line %d: %s" % (n, p))
                problems += 1
    if not docs:
        print("no events")
        problems += 1
    print("%d events (%s), %d problems (OCSF %s)" % (docs, ", ".join(sorted(classes)), problems, s.version))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
