#!/usr/bin/env python3
"""CTest's entry to the browser tests (tests/browser/README.md): checks that
Debian's Chromium is there, installs playwright-core from the lockfile when
node_modules is missing (`npm ci`; no browser is downloaded), then runs each
*.test.js with node. The tests print "ok"/"FAIL" lines and "N passed, N failed".

Environment: GS_BUILD_DIR, GS_SOURCE_DIR (set by CTest), GS_ARTIFACTS (where the
screenshots go; default BUILD/browser-artifacts), GS_CHROMIUM (default
/usr/bin/chromium)."""
import glob
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def tools():
    """Chromium, node and playwright-core (npm ci when missing): the tests'
    environment (GS_CHROMIUM, GS_NODE, GS_ARTIFACTS), or None with a FAIL line."""
    chromium = os.environ.get("GS_CHROMIUM", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        print("FAIL - %s not found: install Debian's chromium (.ci/packages)" % chromium)
        return None
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        print("FAIL - node and npm are needed for the browser tests")
        return None
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        print("# npm ci in %s (playwright-core, no browser download)" % HERE, flush=True)
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE,
                           env=dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1"))
        if r.returncode != 0:
            print("FAIL - npm ci failed (%d)" % r.returncode)
            return None
    build = os.environ.get("GS_BUILD_DIR", os.path.join(HERE, "../../build"))
    env = dict(os.environ, GS_CHROMIUM=chromium, GS_NODE=node)
    env.setdefault("GS_ARTIFACTS", os.path.join(build, "browser-artifacts"))
    return env


def main():
    env = tools()
    if env is None:
        return 1
    rc = 0
    for test in sorted(glob.glob(os.path.join(HERE, "*.test.js"))):
        print("# node %s" % os.path.basename(test), flush=True)
        rc |= subprocess.run([env["GS_NODE"], test], cwd=HERE, env=env).returncode
    return 1 if rc else 0


if __name__ == "__main__":
    sys.exit(main())
