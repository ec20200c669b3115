"""Hikvision terminals in `mode = stream` against the real daemon (issue 18): the
daemon holds GET /ISAPI/Event/notification/alertStream open with HTTP Digest and
reads the multipart stream. The peer is hik_peer.AlertStream, written from public
examples, not from our code (Python's http.server, Digest from RFC 7616). Checks: no
[terminals] listen is needed; a JSON event (with its JPEG) is green with a ledger
row; an XML event without Content-Length is a fever, red; heartbeats record
nothing; a repeated serialNo makes no second row; a terminal that drops the stream
is reconnected and its next event recorded; a wrong password is logged (401) and
retried with backoff while the other terminal works; the daemon stops promptly with
streams open."""
import datetime
import os
import time

import gslib
import hik_peer
from gslib import check

ROSTER = """\
external_id,kind,name,grade,class,card,active
S1,student,张三,一年级,一年级1班,1001,1
S2,student,李四,一年级,一年级1班,1002,1
S3,student,王五,一年级,一年级1班,1003,1
"""


def config(zone, now, ok, bad, pw, badpw):
    start = now - datetime.timedelta(minutes=5)
    end = now + datetime.timedelta(minutes=30)
    return """\
[school]
code = STRM
name = 测试学校
timezone = %s

[ledger]
database = ledger.db

[daemon]
indicator_log = lights.log

[windows]
morning = %s-%s
days = mon-sun

[screening]
threshold = 37.3
hold_admit = 300ms
hold_fever = 600ms
buzzer = 200ms

[lane a]
gate = 东门
indicator = test
[lane b]
gate = 北门
indicator = test

[terminal face-s]
kind = hikvision-isapi
mode = stream
address = %s
isapi_port = %d
lane = a
user = admin
password_file = %s

[terminal face-w]
kind = hikvision-isapi
mode = stream
address = %s
isapi_port = %d
lane = b
user = admin
password_file = %s
""" % (zone, gslib.hhmm(start), gslib.hhmm(end), ok.host, ok.port, pw, bad.host, bad.port,
       badpw)


def secret(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, 0o600)
    return path


class Lights:
    def __init__(self, path):
        self.path, self.seen = path, 0

    def next(self, lane, timeout=5.0):
        found = []

        def scan():
            for i, ln in enumerate(gslib.read_lights(self.path)):
                if i >= self.seen and ln["lane"] == lane and ln["latency_us"] != "-1":
                    found.append((i, ln))
                    return True
            return False
        if not gslib.wait_until(scan, timeout):
            return None
        self.seen = found[0][0] + 1
        return found[0][1]


def run(ok, bad, label):
    """One daemon against the terminal `ok` (right password) and `bad` (wrong one)."""
    zone, now = gslib.school_zone(9)
    d, conf = gslib.scratch("")
    pw = secret(d, "face-s.pw", "terminal-pw")
    badpw = secret(d, "face-w.pw", "not-the-password")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(config(zone, now, ok, bad, pw, badpw))
    roster = os.path.join(d, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    r = gslib.cli(conf, "roster", "import", roster)
    check(r.returncode == 0, "%s: roster imported: %s" % (label, r.stderr))
    db = os.path.join(d, "ledger.db")
    lights = Lights(os.path.join(d, "lights.log"))
    q = lambda sql: gslib.db_query(db, sql)

    dm = gslib.Daemon(conf)
    check(dm.wait_for("ready:") and dm.wait_for("[terminal face-s]: alertStream open"),
          "%s: daemon up, stream open without a [terminals] listener: %s"
          % (label, dm.text()[-600:]))
    check("listening on" not in dm.text(), "%s: no listener started" % label)

    ok.send_json(201, "S1", 36.5)
    ln = lights.next("a")
    check(ln is not None and ln["lamp"] == "green" and ln["person"] == "S1",
          "%s: S1 at 36.5 from the stream (JSON + JPEG) shows green (got %r)" % (label, ln))
    ok.send_xml(202, "S2", 38.4, abnormal=True)
    ln = lights.next("a")
    check(ln is not None and ln["lamp"] == "red" and ln["outcome"] == "fever",
          "%s: S2 at 38.4 (XML, no Content-Length) shows red (got %r)" % (label, ln))
    rows = q("SELECT t.terminal, t.serial, r.body_centi FROM readings r"
             " JOIN terminal_events t ON t.reading_id = r.id ORDER BY r.id")
    check(rows == [("face-s", 201, 3650), ("face-s", 202, 3840)],
          "%s: two ledger rows with their serials and temperatures (%r)" % (label, rows))

    ok.send_json(201, "S1", 36.5)  # the same serialNo again
    ok.send_json(203, "S3", 36.6)
    ln = lights.next("a")
    check(ln is not None and ln["person"] == "S3",
          "%s: the next light is S3's, the repeat showed nothing (got %r)" % (label, ln))
    n = q("SELECT count(*) FROM terminal_events WHERE serial = 201")[0][0]
    check(n == 1, "%s: serial 201 recorded once (%d)" % (label, n))

    # The terminal drops the stream (a reboot): opened again, the next event recorded.
    before = ok.connections
    ok.drop()
    check(dm.wait_for("alertStream ended"), "%s: the end is logged" % label)
    check(gslib.wait_until(lambda: ok.connections > before, 10.0),
          "%s: the stream is opened again (%d connections)" % (label, ok.connections))
    ok.send_json(204, "S1", 36.4)
    ln = lights.next("a")
    check(ln is not None and ln["person"] == "S1" and ln["body"] == "36.40",
          "%s: an event after the reconnect is decided (got %r)" % (label, ln))

    # The other terminal refuses our password: logged, retried with backoff, nothing more.
    check(dm.wait_for("[terminal face-w] refused user admin"),
          "%s: the 401 is logged: %s" % (label, dm.text()[-400:]))
    time.sleep(2.5)
    check(2 <= bad.refused <= 10, "%s: the wrong password is retried with backoff, not hammered "
          "(%d 401s in about 3 s)" % (label, bad.refused))
    gslib.figure("%s_refused_in_3s" % label, bad.refused)

    t0 = time.monotonic()
    rc, _ = dm.stop()
    took = time.monotonic() - t0
    check(rc == 0 and "stopped cleanly" in dm.text() and took < 3.0,
          "%s: stops cleanly with a stream open (%.2f s)" % (label, took))
    gslib.figure("%s_stop_s" % label, round(took, 2))


def main():
    ok = hik_peer.AlertStream("127.0.0.6")
    bad = hik_peer.AlertStream("127.0.0.7")
    run(ok, bad, "python_peer")
    ok.close()
    bad.close()
    gslib.finish()


if __name__ == "__main__":
    main()
