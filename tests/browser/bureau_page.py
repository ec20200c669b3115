#!/usr/bin/env python3
"""The bureau's page in headless Chromium (tests/browser/README.md, "The bureau's
page"): this script makes the stand with the integration tests' bureaulib (a private
PostgreSQL, the real gatescreen-bureaud with [page], schools in two counties with a
late report, two missing and two notices, users from `gatescreen-bureau user add`),
then runs bureau_page.js with node, which drives the page. Exit status: node's."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import bureaulib as bl  # noqa: E402
import gslib  # noqa: E402
import run  # noqa: E402  (tests/browser/run.py: Chromium, node, playwright-core)

FRI = "2026-12-04"
USERS = [("王科长", "county", "魏都区", "county-password-1"),
         ("city1", "city", None, "city-password-1"),
         ("admin1", "admin", None, "admin-password-1")]


def stand(b):
    port = bl.free_port()
    with open(b.conf, "a", encoding="utf-8") as f:
        f.write("\n[page]\nlisten = 127.0.0.1:%d\ntls_cert = %s\ntls_key = %s\n"
                % (port, b.certs["server"], b.certs["server.key"]))
    for code, county in (("W1", "魏都区"), ("W2", "魏都区"), ("J1", "建安区")):
        b.enrol(code, county=county)
    for name, role, county, pw in USERS:
        args = [bl.BCLI, "-c", b.conf, "user", "add", name, "--role", role]
        args += ["--county", county] if county else []
        subprocess.run(args, input=pw + "\n", text=True, check=True, capture_output=True)
    c = b.collector()
    st, _, raw = bl.send(c, b, b.schools["W1"], bl.summary_doc("W1", FRI, 1))
    assert st == 201, raw
    for code in ("W1", "J1"):
        st, _, raw = bl.send(c, b, b.schools[code], bl.notice_doc(code, 1, FRI))
        assert st == 201, raw
    return port


def main():
    env = run.tools()
    if env is None:
        return 1
    with bl.Bureau() as b:
        port = stand(b)
        env.update(GS_BPAGE_URL="https://127.0.0.1:%d/" % port,
                   GS_BPAGE_CA=b.certs["ca"], GS_BPAGE_DAY=FRI,
                   GS_BPAGE_USERS=json.dumps({u[0]: u[3] for u in USERS}),
                   GS_BPAGE_SERVER_CERT=b.certs["server"])
        rc = subprocess.run([env["GS_NODE"], os.path.join(HERE, "bureau_page.js")], cwd=HERE,
                            env=env).returncode
        if rc:
            gslib.failures += 1  # keeps the stand's folder (logs) for a look
    return 1 if rc else 0


if __name__ == "__main__":
    sys.exit(main())
