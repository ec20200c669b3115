"""The documents' schema checker in C (daemon/documents/docschema.c, which the
bureau's collector uses) agrees with python3-jsonschema on the schemas in
config/schema/ (issue 15): thousands of valid documents generated from the schemas
themselves, and mutations of them (members removed and added, wrong types, values
just outside their bounds, strings that break their patterns), each judged by both;
every disagreement is printed and fails the test.

One difference is on purpose: JSON Schema says patterns are ECMA-262 expressions,
where `$` matches only at the end of the text; Python's `re` also matches it before
a final newline, so stock python3-jsonschema accepts a school code "T001\n". The C
checker follows the specification. The reference here is python3-jsonschema with
its `pattern` keyword evaluated the ECMA way (`$` as `\Z`), and the test counts the
documents where only that quirk separates stock python3-jsonschema from C."""
import copy
import json
import os
import random
import re
import string
import subprocess

import jsonschema

import gslib
from gslib import check

TOOL = os.path.join(gslib.BUILD, "docschema_check")
# Every version the collector accepts (doc_schemas.h), by docschema_check's name;
# the frozen version 1 of the summary with fewer documents (it does not change).
SCHEMAS = {"summary": "config/schema/summary.schema.json",
           "notice": "config/schema/notice.schema.json",
           "summary-v1": "config/schema/summary-v1.schema.json"}
PER_KIND = int(os.environ.get("GS_DIFF_DOCS", "1500"))
PER_VERSION = {"summary-v1": max(1, PER_KIND // 3)}

rng = random.Random(20261206)


def rand_text(chars, lo, hi):
    return "".join(rng.choice(chars) for _ in range(rng.randint(lo, hi)))


CODE_CHARS = string.ascii_letters + string.digits + "_-"
# One generator per pattern the schemas use: a new pattern fails the test until it
# has one here (so the generated documents keep covering every pattern).
PATTERNS = {
    "^[A-Za-z0-9_-]{1,31}$": lambda: rand_text(CODE_CHARS, 1, 31),
    "^[A-Za-z0-9_.-]{1,31}$": lambda: rand_text(CODE_CHARS + ".", 1, 31),
    "^[0-9a-f]{64}$": lambda: rand_text("0123456789abcdef", 64, 64),
    "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$":
        lambda: "%04d-%02d-%02d" % (rng.randint(2000, 2099), rng.randint(1, 12), rng.randint(1, 31)),
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$":
        lambda: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (
            rng.randint(2000, 2099), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
            rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999)),
    "^[A-Za-z0-9_-]{1,31}/referral/[1-9][0-9]*$":
        lambda: "%s/referral/%d" % (rand_text(CODE_CHARS, 1, 31), rng.randint(1, 10**6)),
    "^([01][0-9]|2[0-3]):[0-5][0-9]$":
        lambda: "%02d:%02d" % (rng.randint(0, 23), rng.randint(0, 59)),
    "^[A-Za-z0-9_-]{1,31}/alert/[1-9][0-9]*$":
        lambda: "%s/alert/%d" % (rand_text(CODE_CHARS, 1, 31), rng.randint(1, 10**6)),
}


class Gen:
    def __init__(self, root):
        self.root = root

    def resolve(self, s):
        while "$ref" in s:
            s = self.root["$defs"][s["$ref"].split("/")[-1]]
        return s

    def value(self, s, depth=0):
        s = self.resolve(s)
        if "const" in s:
            return copy.deepcopy(s["const"])
        if "enum" in s:
            return copy.deepcopy(rng.choice(s["enum"]))
        if "oneOf" in s:
            return self.value(rng.choice(s["oneOf"]), depth + 1)
        t = s.get("type")
        if isinstance(t, list):
            t = rng.choice(t)
        return getattr(self, "gen_" + t)(s, depth)

    def gen_object(self, s, depth):
        out = {}
        for k, sub in s.get("properties", {}).items():
            if k in s.get("required", []) or rng.random() < 0.5:
                out[k] = self.value(sub, depth + 1)
        return out

    def gen_array(self, s, depth):
        n = rng.randint(s.get("minItems", 0), s.get("minItems", 0) + 3)
        return [self.value(s["items"], depth + 1) for _ in range(n)]

    def gen_string(self, s, depth):
        if "pattern" in s:
            return PATTERNS[s["pattern"]]()
        return rand_text(string.ascii_letters + "测试一年级班 ", s.get("minLength", 0), 12)

    def gen_integer(self, s, depth):
        lo = s.get("minimum", 0)
        return rng.randint(int(lo), int(s.get("maximum", lo + 5000)))

    def gen_number(self, s, depth):
        lo, hi = s.get("minimum", 0), s.get("maximum", 100)
        return round(rng.uniform(lo, hi), rng.choice([0, 1, 2, 3]))

    def gen_null(self, s, depth):
        return None

    def gen_boolean(self, s, depth):
        return rng.random() < 0.5


ODD_VALUES = [None, True, False, 0, -1, 1.5, 2.0, 1e300, -0.0, "", "x", "测", [], [1], {}, {"a": 1},
              "2026-02-30", "2026-13-01", 24.99, 45.01, 25, 45, 0.999, 1.0001, 10**15]


def paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from paths(v, prefix + (i,))


def mutate(doc):
    doc = copy.deepcopy(doc)
    where = rng.choice(list(paths(doc)))
    if not where:
        return rng.choice(ODD_VALUES)
    parent = doc
    for p in where[:-1]:
        parent = parent[p]
    last = where[-1]
    how = rng.randrange(5)
    if how == 0 and isinstance(parent, dict):
        del parent[last]
    elif how == 1 and isinstance(parent, dict):
        parent[rand_text(string.ascii_lowercase, 1, 8)] = rng.choice(ODD_VALUES)
    elif how == 2 and isinstance(parent[last], str):
        s = parent[last]
        parent[last] = rng.choice([s + "x", s[:-1], "é" + s, s.upper(), " " + s, s + "\n"])
    elif how == 3 and isinstance(parent[last], (int, float)) and not isinstance(parent[last], bool):
        parent[last] = rng.choice([parent[last] + 1, parent[last] - 1, parent[last] + 0.5,
                                   -parent[last], float(parent[last])])
    else:
        parent[last] = rng.choice(ODD_VALUES)
    return doc


def ecma(pattern):
    return pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern


def ecma_pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not re.search(ecma(pattern), instance):
        yield jsonschema.ValidationError("%r does not match %r" % (instance, pattern))


EcmaValidator = jsonschema.validators.extend(jsonschema.Draft202012Validator,
                                             {"pattern": ecma_pattern})


def run_tool(kind, docs):
    text = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    r = subprocess.run([TOOL, kind], input=text.encode(), stdout=subprocess.PIPE, check=True)
    return r.stdout.decode().splitlines()


def main():
    total = {"valid": 0, "invalid": 0, "disagree": 0, "quirk": 0}
    for kind, rel in SCHEMAS.items():
        schema = json.load(open(os.path.join(gslib.SOURCE, rel), encoding="utf-8"))
        validator = EcmaValidator(schema)
        stock = jsonschema.Draft202012Validator(schema)
        gen = Gen(schema)
        n = PER_VERSION.get(kind, PER_KIND)
        good = [gen.value(schema) for _ in range(n)]
        bad = [mutate(rng.choice(good)) for _ in range(n * 2)]
        docs = good + bad
        verdicts = run_tool(kind, docs)
        check(len(verdicts) == len(docs), "%s: the C checker judged every document" % kind)
        disagree, other = [], []
        for d, v in zip(docs, verdicts):
            py = validator.is_valid(d)
            total["valid" if py else "invalid"] += 1
            if py != (v == "valid"):
                disagree.append((d, v, py))
            if stock.is_valid(d) != py:
                total["quirk"] += 1
                if py or "\\n" not in json.dumps(d):
                    other.append(d)
        check(not other, "%s: only a final newline separates stock python3-jsonschema from its "
              "ECMA reading (%d other differences)" % (kind, len(other)))
        check(all(validator.is_valid(d) for d in good),
              "%s: the %d generated documents are valid for python3-jsonschema" % (kind, len(good)))
        for d, v, py in disagree[:5]:
            print("  disagree: python %s, C %r: %s" % (py, v, json.dumps(d, ensure_ascii=False)[:300]))
        total["disagree"] += len(disagree)
        check(not disagree, "%s: C and python3-jsonschema agree on all %d documents (%d disagree)"
              % (kind, len(docs), len(disagree)))
    print("figure: documents_valid %d" % total["valid"])
    print("figure: documents_invalid %d" % total["invalid"])
    print("figure: python_newline_quirk %d" % total["quirk"])
    gslib.finish()


if __name__ == "__main__":
    main()
