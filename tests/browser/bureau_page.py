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
THU = "2026-12-03"  # the figures' day; W1 also has a few days before (its trend)
TREND = {"2026-11-30": 2, "2026-12-01": 5, "2026-12-02": 3}
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
    docs = [figure_doc("W1", THU, 1, 8), figure_doc("W2", THU, 3, 8),
            figure_doc("J1", THU, 2, 10)]
    docs += [figure_doc("W1", d, i % 2, 8, n) for i, (d, n) in enumerate(TREND.items())]
    for d in docs:
        st, _, raw = bl.send(c, b, b.schools[d["school"]["code"]], d)
        assert st == 201, raw
    return port, c


def figure_doc(code, day, illness, students, screens=1):
    d = bl.summary_doc(code, day, 1)
    d["absences"]["by_cause"]["illness"] = illness
    d["population"]["student"], d["population"]["total"] = students, students + 1
    d["fevers"]["screens"] = screens
    d["checks"]["morning"]["done"] = 5 + screens % 4
    return d


def notices_on_request(b, c, folder, stop):
    """A notice of W1 uploaded whenever the page's test asks (a file send-N in
    folder; done-N when it is in): the live notices, with the page open."""
    import time
    sent = set()
    while not stop.is_set():
        for name in os.listdir(folder):
            if name.startswith("send-") and name not in sent:
                n = int(name[5:])
                st, _, raw = bl.send(c, b, b.schools["W1"], bl.notice_doc("W1", 10 + n, THU))
                with open(os.path.join(folder, "done-%d" % n), "w") as f:
                    f.write("%d %s" % (st, raw[:200]))
                sent.add(name)
        time.sleep(0.05)


def main():
    env = run.tools()
    if env is None:
        return 1
    import threading
    with bl.Bureau() as b:
        port, c = stand(b)
        signals = os.path.join(b.dir, "signals")
        os.mkdir(signals)
        stop = threading.Event()
        helper = threading.Thread(target=notices_on_request, args=(b, c, signals, stop))
        helper.start()
        env.update(GS_BPAGE_URL="https://127.0.0.1:%d/" % port,
                   GS_BPAGE_CA=b.certs["ca"], GS_BPAGE_DAY=FRI, GS_BPAGE_THU=THU,
                   GS_BPAGE_SIGNALS=signals,
                   GS_BPAGE_USERS=json.dumps({u[0]: u[3] for u in USERS}),
                   GS_BPAGE_SERVER_CERT=b.certs["server"])
        try:
            rc = subprocess.run([env["GS_NODE"], os.path.join(HERE, "bureau_page.js")],
                                cwd=HERE, env=env).returncode
        finally:
            stop.set()
            helper.join()
        if rc:
            gslib.failures += 1  # keeps the stand's folder (logs) for a look
    return 1 if rc else 0


if __name__ == "__main__":
    sys.exit(main())
