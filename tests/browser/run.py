#!/usr/bin/env python3
"""CTest's entry to the browser tests (tests/browser/README.md): checks that
Debian's Chromium is there, installs playwright-core from the lockfile when
node_modules is missing (`npm ci`; no browser is downloaded), then runs each
*.test.js with node. The tests print "ok"/"FAIL" lines and "N passed, N failed".

Environment: GS_BUILD_DIR, GS_SOURCE_DIR (set by CTest), GS_ARTIFACTS (where the
screenshots go; default BUILD/browser-artifacts), GS_CHROMIUM (default
/usr/bin/chromium)."""
import fcntl
import glob
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def find_tools(npm_log=None):
    """Chromium, node and playwright-core (npm ci when missing, one at a time: the
    browser tests and `make demo` may both want it): (the environment for node
    (GS_CHROMIUM, GS_NODE, GS_ARTIFACTS), None), or (None, why they cannot be had).
    npm_log: a file for npm's output (default: this program's output)."""
    chromium = os.environ.get("GS_CHROMIUM", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        return None, "%s not found: install Debian's chromium (.ci/packages)" % chromium
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        return None, "node and npm (Node.js 20 or later) are not on PATH"
    with open(os.path.join(HERE, ".npm-ci.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
            print("# npm ci in %s (playwright-core, no browser download)" % HERE, flush=True)
            r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE,
                               env=dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1"),
                               stdout=npm_log, stderr=subprocess.STDOUT if npm_log else None)
            if r.returncode != 0:
                return None, "npm ci in %s failed (exit %d%s)" % (
                    HERE, r.returncode, ", see %s" % npm_log.name if npm_log else "")
    build = os.environ.get("GS_BUILD_DIR", os.path.join(HERE, "../../build"))
    env = dict(os.environ, GS_CHROMIUM=chromium, GS_NODE=node)
    env.setdefault("GS_ARTIFACTS", os.path.join(build, "browser-artifacts"))
    return env, None


def tools():
    """find_tools(), its reason printed as a FAIL line: the environment or None."""
    env, why = find_tools()
    if env is None:
        print("FAIL - " + why)
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
