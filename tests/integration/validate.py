#!/usr/bin/python3
"""Validate JSON or YAML documents against a JSON Schema (draft 2020-12)
with the python3-jsonschema package: a second, independent validator for
what the tools read and write. Usage: validate.py SCHEMA FILE...
Exit 0 when every file validates; messages name the file and the path."""
import json
import sys

import jsonschema
import yaml


def load(path):
    with open(path, encoding="utf-8") as f:
        if path.endswith((".yaml", ".yml")):
            return yaml.safe_load(f)
        return json.load(f)


def main():
    if len(sys.argv) < 3:
        print("usage: validate.py SCHEMA FILE...", file=sys.stderr)
        return 64
    schema = load(sys.argv[1])
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    bad = 0
    for path in sys.argv[2:]:
        for e in validator.iter_errors(load(path)):
            where = "/".join(str(p) for p in e.absolute_path)
            print(f"{path}: /{where}: {e.message}", file=sys.stderr)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
