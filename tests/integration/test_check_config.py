"""gatescreend --check-config on the shipped configs and on broken ones."""
import os
import subprocess

import gslib
from gslib import check


def run(*args):
    return subprocess.run([gslib.DAEMON, *args], capture_output=True, text=True, timeout=20)


for name in ("gatescreen.conf", "demo.conf"):
    path = os.path.join(gslib.SOURCE, "config", name)
    r = run("--check-config", path)
    check(r.returncode == 0 and r.stdout.strip() == "configuration OK",
          "%s: configuration OK (%s)" % (name, r.stderr.strip()))

r = run("-c", os.path.join(gslib.SOURCE, "config", "demo.conf"), "--check-config")
check(r.returncode == 0 and "configuration OK" in r.stdout, "-c FILE --check-config")

bad = gslib.BASE_CONFIG + """
[screening]
threshold = 37.3x
hold_admit = 2

[device ir-2]
bus = nosuchbus
lane = east-1
"""
d, conf = gslib.scratch(bad)
r = run("--check-config", conf)
errs = [l for l in r.stderr.splitlines() if l.startswith(conf + ":")]
check(r.returncode == 2, "broken config: exit status 2")
check("configuration OK" not in r.stdout, "broken config: not OK")
check(len(errs) >= 4, "all errors reported, each as FILE:LINE (%d)" % len(errs))
for l in errs:
    print("     " + l)
lines = bad.splitlines()
def line_of(text):
    return lines.index(text) + 1
check(any(l.startswith("%s:%d:" % (conf, line_of("threshold = 37.3x"))) for l in errs),
      "threshold error on its line")
check(any(l.startswith("%s:%d:" % (conf, line_of("bus = nosuchbus"))) for l in errs),
      "unknown bus reference on its line")
gslib.finish()
