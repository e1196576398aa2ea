#!/usr/bin/env python3
"""Validate an SBOM against the official JSON schemas vendored here.

    validate.py cyclonedx FILE     CycloneDX 1.5 (bom-1.5 + its spdx and jsf refs)
    validate.py spdx FILE          SPDX 2.3 (spdx-spec, schemas/spdx-schema.json)

Exit 0 when valid; 1 with every error (path: message) when not.
"""
import json
import os
import sys
import warnings

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return json.load(f)


def main():
    warnings.simplefilter("ignore", DeprecationWarning)  # RefResolver, still the API of Debian 12's jsonschema
    kind, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if kind == "cyclonedx":
        schema = load("bom-1.5.SNAPSHOT.schema.json")
        store = {}
        for n in ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"):
            s = load(n)
            store["http://cyclonedx.org/schema/" + n] = s
            if "$id" in s:
                store[s["$id"]] = s
        resolver = jsonschema.RefResolver.from_schema(schema, store=store)
        v = jsonschema.Draft7Validator(schema, resolver=resolver, format_checker=jsonschema.FormatChecker())
    elif kind == "spdx":
        schema = load("spdx-2.3.schema.json")
        v = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    else:
        sys.exit("validate.py: cyclonedx or spdx")
    errors = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
    for e in errors:
        print("%s: %s" % ("/".join(str(p) for p in e.path) or "(document)", e.message))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
