"""gatescreend --check-config on the shipped configs and on broken ones."""
import os
import shutil
import subprocess
import sys

import gslib
from gslib import check


def run(*args):
    return subprocess.run([gslib.DAEMON, *args], capture_output=True, text=True, timeout=20)


path = os.path.join(gslib.SOURCE, "config", "demo.conf")
r = run("--check-config", path)
check(r.returncode == 0 and r.stdout.strip() == "configuration OK",
      "demo.conf: configuration OK (%s)" % r.stderr.strip())

# The reference config names the bureau's files in /etc/gatescreen. --check-config runs
# the start's own checks on them (issue 16, item 13): where they are not installed it
# says so, file by file, as the start would; installed, it is OK.
UPSTREAM_FILES = ("bureau-ca.pem", "client.pem", "client.key", "token", "pseudonym.key")
with open(os.path.join(gslib.SOURCE, "config", "gatescreen.conf"), encoding="utf-8") as f:
    reference = f.read()
if not any(os.path.exists("/etc/gatescreen/" + n) for n in UPSTREAM_FILES):
    r = run("--check-config", os.path.join(gslib.SOURCE, "config", "gatescreen.conf"))
    named = sorted(n for n in UPSTREAM_FILES if "/etc/gatescreen/%s: cannot" % n in r.stderr)
    check(r.returncode == 2 and "configuration OK" not in r.stdout and
          named == sorted(UPSTREAM_FILES) and len(r.stderr.splitlines()) == len(named),
          "gatescreen.conf without the bureau's files installed: each named, not OK (%s)"
          % r.stderr.strip().splitlines())
d, conf = gslib.scratch(reference.replace("/etc/gatescreen/", ""))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import https_receiver as hr  # noqa: E402
certs = hr.make_certs(os.path.join(d, "certs"))
hr.write_secrets(d)
for name, src in (("bureau-ca.pem", "ca"), ("client.pem", "client"), ("client.key", "client.key")):
    shutil.copy(certs[src], os.path.join(d, name))
r = run("--check-config", conf)
check(r.returncode == 0 and r.stdout.strip() == "configuration OK",
      "gatescreen.conf with its files installed: configuration OK (%s)" % r.stderr.strip())

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
