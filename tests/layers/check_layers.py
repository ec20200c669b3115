"""The layers of the tree (docs/design.md, "Layers"): every #include "..." in the
product code goes to a header of its own layer or of a layer below it. The CMake
libraries enforce the same at compile time (a layer only sees the folders of the
layers it links); this test states the rule in one table and names the offending
line when it breaks. Exits non-zero on any violation."""
import os
import re
import sys

SOURCE = os.environ.get("GS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))

# layer -> (folder, the layers directly below it that it may include)
LAYERS = {
    "config_types": ("config", []),          # config/config.h only: the types
    "core": ("daemon/core", ["config_types"]),
    "runtime": ("daemon/runtime", ["core"]),
    "config": ("config", ["runtime"]),       # the parser: everything in config/ but config.h
    "documents": ("daemon/documents", ["core"]),  # the bureau's documents: schemas
    "drivers": ("drivers", ["runtime"]),
    "ledger": ("daemon/ledger", ["runtime"]),
    "upstream": ("daemon/upstream", ["ledger"]),
    "gate": ("daemon/gate", ["drivers", "upstream"]),
    "web": ("daemon/web", ["gate"]),
    "cli": ("daemon/cli", ["upstream", "config"]),
    "gatescreend": ("daemon/gatescreend", ["web", "config"]),
    "sim": ("drivers/sim", ["drivers", "config"]),
    "enrol": ("bureau/enrol", ["runtime"]),  # the bureau's CA and schools' credentials
    # The bureau's programs (docs/bureau.md): beside the school's, sharing only the
    # core, the runtime and the documents.
    "bcommon": ("bureau/common", ["runtime"]),
    "bstore": ("bureau/store", ["bcommon"]),
    "bcli": ("bureau/cli", ["bstore", "enrol"]),
    "collector": ("bureau/collector", ["bstore", "documents"]),
    "bpage": ("bureau/page", ["collector"]),  # the bureau's page: shares GET /v1/missing's code
    "bureaud": ("bureau/bureaud", ["collector", "bpage"]),
}


def layer_of(rel):
    if rel == "config/config.h":
        return "config_types"
    best = None
    for name, (folder, _) in LAYERS.items():
        if name == "config_types":
            continue
        if os.path.dirname(rel) == folder and (best is None or len(folder) > len(LAYERS[best][0])):
            best = name
    return best


def below(name, seen=None):
    """The layers `name` may include: itself and everything under it."""
    seen = set() if seen is None else seen
    if name not in seen:
        seen.add(name)
        for dep in LAYERS[name][1]:
            below(dep, seen)
    return seen


def headers():
    out = {}
    for name, (folder, _) in LAYERS.items():
        for f in os.listdir(os.path.join(SOURCE, folder)):
            if f.endswith(".h"):
                rel = folder + "/" + f
                out.setdefault(f, set()).add(layer_of(rel))
    return out


def main():
    where = headers()
    bad, files = [], 0
    for name, (folder, _) in LAYERS.items():
        for f in sorted(os.listdir(os.path.join(SOURCE, folder))):
            rel = folder + "/" + f
            if not f.endswith((".c", ".h")) or layer_of(rel) != name:
                continue
            files += 1
            allowed = below(name)
            with open(os.path.join(SOURCE, rel), encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    m = re.match(r'#include "([^"]+)"', line)
                    if not m:
                        continue
                    owners = where.get(os.path.basename(m.group(1)), set())
                    if not owners & allowed:
                        bad.append("%s:%d: %s (layer %s) includes %s (layer %s)" % (
                            rel, n, rel, name, m.group(1), "/".join(sorted(owners)) or "?"))
    for b in bad:
        print(b)
    print("%d files checked, %d includes going up or out" % (files, len(bad)))
    print("%d passed, %d failed" % (0 if bad else 1, 1 if bad else 0))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
