#!/usr/bin/env python3
"""Checks JSON documents against deployctl's schemas (Sources/DeployKit/Output/Schemas).

Usage: check-json.py SCHEMA FILE...    SCHEMA is a name (status, events, …); FILE holds one
JSON document, or with SCHEMA events one per line. Prints every violation; exit 1 if any.
"""
import json, pathlib, sys
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

schemas = pathlib.Path(__file__).resolve().parents[2] / "Sources/DeployKit/Output/Schemas"
registry = Registry().with_resources(
    (document["$id"], Resource.from_contents(document))
    for document in (json.loads(path.read_text()) for path in schemas.glob("*.schema.json")))
name, files = sys.argv[1], sys.argv[2:]
schema = json.loads((schemas / f"{name}.schema.json").read_text())
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema, registry=registry)
bad = 0
for file in files:
    text = pathlib.Path(file).read_text()
    documents = [line for line in text.splitlines() if line.strip()] if name == "events" else [text]
    for number, document in enumerate(documents, 1):
        for error in validator.iter_errors(json.loads(document)):
            bad += 1
            where = "/".join(str(p) for p in error.absolute_path) or "(top)"
            print(f"{file}:{number}: {where}: {error.message[:300]}")
sys.exit(1 if bad else 0)
