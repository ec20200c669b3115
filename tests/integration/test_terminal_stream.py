"""Hikvision terminals in `mode = stream` against the real daemon (issue 18): the
daemon holds GET /ISAPI/Event/notification/alertStream open with HTTP Digest and
reads the multipart stream. The peer is hik_peer.AlertStream, written from public
examples, not from our code (Python's http.server, Digest from RFC 7616). Checks: no
[terminals] listen is needed; a JSON event (with its JPEG) is green with a ledger
row; an XML event without Content-Length is a fever, red; heartbeats record
nothing; a repeated serialNo makes no second row; a terminal that drops the stream
is reconnected and its next event recorded; a wrong password is logged (401) and
retried with backoff while the other terminal works, and so does one that accepts
the connection and never answers; a reload leaves the streams open; the daemon stops
promptly with streams open and a connection hanging. The same run against gatescreen-sim's stream terminal (its own
config copy, where the second terminal's password is the right one). Then the
simulator's push terminals against the daemon's listener: JSON and multipart with
a JPEG, a repeated event recorded once, and pushes sent before the daemon was up
delivered by the simulator's retries."""
import os
import signal
import socket
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


def config(zone, now, ok, bad, pw, badpw, listen=None, hang=None):
    return gslib.gate_config_head("STRM", zone, now) + """\

%s
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
offline_after = 3s

[terminal face-w]
kind = hikvision-isapi
mode = stream
address = %s
isapi_port = %d
lane = b
user = admin
password_file = %s
offline_after = 2s
%s""" % (
       "[terminals]\nlisten = 127.0.0.1:%d\n" % listen if listen else "",
       ok.host, ok.port, pw, bad.host, bad.port, badpw,
       (PUSH_TERMINAL % (pw,) if listen else "") + (HANG_TERMINAL % (hang, pw) if hang else ""))


HANG_TERMINAL = """
[lane h]
gate = 南门
indicator = test
[terminal face-h]
kind = hikvision-isapi
mode = stream
address = 127.0.0.11
isapi_port = %d
lane = h
user = admin
password_file = %s
"""


PUSH_TERMINAL = """
[lane c]
gate = 西门
indicator = test
[terminal face-p]
kind = hikvision-isapi
address = 127.0.0.10
lane = c
user = admin
password_file = %s
"""


class SimPeer:
    """gatescreen-sim's stream terminal, with hik_peer.AlertStream's methods."""

    def __init__(self, sim, name, host, port):
        self.sim, self.name, self.host, self.port = sim, name, host, port
        self.refused = None  # not observable from outside

    @property
    def connections(self):
        with open(self.sim.err.name, encoding="utf-8", errors="replace") as f:
            return f.read().count("terminal %s: alertStream opened" % self.name)

    def send(self, line):
        r = self.sim.cmd(line)
        check(r == "ok", "simulator: %s -> %s" % (line, r))

    def send_json(self, serial, emp, temp, abnormal=False, fmt=""):
        self.send("face %s id=%s temp=%.1f serial=%d%s%s" % (
            self.name, emp, temp, serial, fmt, " abnormal" if abnormal else ""))

    def send_xml(self, serial, emp, temp, abnormal=False):
        self.send_json(serial, emp, temp, abnormal, " as=xml")

    def drop(self):
        self.send("face-drop %s" % self.name)


def secret(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, 0o600)
    return path


def setup(label):
    zone, now = gslib.school_zone(9)
    d, conf = gslib.scratch("")
    pw = secret(d, "face-s.pw", "terminal-pw")
    badpw = secret(d, "face-w.pw", "not-the-password")
    return d, conf, pw, badpw, zone, now


def run(ok, bad, label, made=None, hang=None):
    """One daemon against the terminal `ok` (right password) and `bad` (wrong one), and
    `hang`'s port if given: a terminal that accepts the connection and never answers."""
    d, conf, pw, badpw, zone, now = made or setup(label)
    with open(conf, "w", encoding="utf-8") as f:
        f.write(config(zone, now, ok, bad, pw, badpw, hang=hang))
    roster = os.path.join(d, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    r = gslib.cli(conf, "roster", "import", roster)
    check(r.returncode == 0, "%s: roster imported: %s" % (label, r.stderr))
    db = os.path.join(d, "ledger.db")
    lights = gslib.Lights(os.path.join(d, "lights.log"))
    q = lambda sql: gslib.db_query(db, sql)

    dm = gslib.Daemon(conf)
    check(dm.wait_for("ready:") and dm.wait_for("[terminal face-s]: alertStream open"),
          "%s: daemon up, stream open without a [terminals] listener: %s"
          % (label, dm.text()[-600:]))
    check("listening on" not in dm.text(), "%s: no listener started" % label)
    # Online and offline: the terminal whose stream we cannot open (its password is
    # wrong) is offline after its 2 s, its lane blinking amber; the one whose stream
    # sends heartbeat parts stays online past its 3 s without a single event.
    blink = lambda ln: ln["blink"] == "1" and ln["lamp"] == "amber"
    ln = lights.next("b", blink, timeout=8.0)
    check(ln is not None and "[terminal face-w] not heard from" in dm.text(),
          "%s: a stream terminal never heard from is offline: lane b blinks amber (%r)"
          % (label, ln))
    check(lights.next("a", blink, timeout=4.0) is None and
          "[terminal face-s] not heard from" not in dm.text(),
          "%s: heartbeat parts keep a stream terminal online for 4 s without an event" % label)
    lights.skip_all()

    ok.send_json(201, "S1", 36.5)
    ln = lights.next("a")
    check(ln is not None and ln["lamp"] == "green" and ln["person"] == "S1",
          "%s: S1 at 36.5 from the stream (JSON + JPEG) shows green (got %r)" % (label, ln))
    ok.send_xml(202, "S2", 38.4, abnormal=True)
    ln = lights.next("a")
    check(ln is not None and ln["lamp"] == "red" and ln["outcome"] == "fever",
          "%s: S2 at 38.4 (XML; the Python peer sends no Content-Length) shows red (got %r)" % (label, ln))
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

    # A burst (a queue of people at a busy terminal): every event recorded, once.
    if label == "python_peer":
        shown = lambda: sum(1 for ln in gslib.read_lights(lights.path)
                            if ln["lane"] == "a" and ln["latency_us"] != "-1")
        before_burst = shown()
        t0 = time.monotonic()
        for serial in range(1000, 1100):
            ok.send_json(serial, "S%d" % (1 + serial % 3), 36.6)
        burst = "SELECT count(*) FROM terminal_events WHERE serial BETWEEN 1000 AND 1099"
        check(gslib.wait_until(lambda: q(burst)[0][0] == 100, 10.0),
              "%s: a burst of 100 events (each with a JPEG) recorded once each (%d)"
              % (label, q(burst)[0][0]))
        check(gslib.wait_until(lambda: shown() == before_burst + 100, 10.0),
              "%s: ... and each shown once (%d)" % (label, shown() - before_burst))
        gslib.figure("stream_burst_100_s", round(time.monotonic() - t0, 2))
        lights.skip_all()

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
    if bad.refused is not None:
        time.sleep(2.5)
        check(2 <= bad.refused <= 10, "%s: the wrong password is retried with backoff, not "
              "hammered (%d 401s in about 3 s)" % (label, bad.refused))
        gslib.figure("%s_refused_in_3s" % label, bad.refused)

    # A reload (SIGHUP) leaves the streams as they are: terminals need a restart.
    before = ok.connections
    dm.send(signal.SIGHUP)
    check(dm.wait_for("reload: configuration"), "%s: reloaded" % label)
    ok.send_json(205, "S2", 36.7)
    ln = lights.next("a")
    check(ln is not None and ln["person"] == "S2" and ok.connections == before,
          "%s: after a reload the same stream goes on (got %r, %d connections)"
          % (label, ln, ok.connections))

    t0 = time.monotonic()
    rc, _ = dm.stop()
    took = time.monotonic() - t0
    check(rc == 0 and "stopped cleanly" in dm.text() and took < 3.0,
          "%s: stops cleanly with a stream open%s (%.2f s)"
          % (label, " and a terminal that never answers" if hang else "", took))
    gslib.figure("%s_stop_s" % label, round(took, 2))


def simulator_stream():
    """The same against gatescreen-sim: it reads a copy of the config in which the
    second terminal has the right password, so the daemon's is still refused."""
    made = setup("simulator")
    d, conf, pw, badpw, zone, now = made
    ok = SimPeer(None, "face-s", "127.0.0.8", gslib.free_port())
    bad = SimPeer(None, "face-w", "127.0.0.9", gslib.free_port())
    simconf = os.path.join(d, "sim.conf")
    with open(simconf, "w", encoding="utf-8") as f:
        f.write(config(zone, now, ok, bad, pw, pw))
    sim = gslib.Sim(simconf)
    check(sim.wait_ready(), "simulator up")
    ok.sim = bad.sim = sim
    run(ok, bad, "simulator", made)
    sim.kill(signal.SIGTERM)


def simulator_push():
    """gatescreen-sim's push terminal against the daemon's listener."""
    d, conf, pw, badpw, zone, now = setup("push")
    port = gslib.free_port()
    ok = SimPeer(None, "face-s", "127.0.0.8", gslib.free_port())
    bad = SimPeer(None, "face-w", "127.0.0.9", gslib.free_port())
    with open(conf, "w", encoding="utf-8") as f:
        f.write(config(zone, now, ok, bad, pw, pw, listen=port))
    roster = os.path.join(d, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    check(gslib.cli(conf, "roster", "import", roster).returncode == 0, "push: roster imported")
    sim = gslib.Sim(conf)
    check(sim.wait_ready(), "push: simulator up")
    peer = SimPeer(sim, "face-p", "127.0.0.10", 0)
    # Sent before the daemon listens: the simulator sends again each second.
    peer.send("face face-p id=S1 temp=36.5 serial=301 as=json")
    time.sleep(1.2)
    db = os.path.join(d, "ledger.db")
    lights = gslib.Lights(os.path.join(d, "lights.log"))
    dm = gslib.Daemon(conf)
    check(dm.wait_for("ready:"), "push: daemon up")
    ln = lights.next("c", timeout=8.0)
    check(ln is not None and ln["person"] == "S1" and ln["lamp"] == "green",
          "push: the event sent before the daemon was up arrives by a retry (got %r)" % ln)
    check("sending it again" in open(sim.err.name, encoding="utf-8").read(),
          "push: the simulator logged its retry")
    peer.send("face face-p id=S2 temp=38.6 serial=302 abnormal")  # multipart + JPEG
    ln = lights.next("c")
    check(ln is not None and ln["person"] == "S2" and ln["lamp"] == "red",
          "push: multipart with a JPEG, a fever, red (got %r)" % ln)
    peer.send("face face-p id=S3 temp=36.6 serial=303 repeat=3")
    ln = lights.next("c")
    check(ln is not None and ln["person"] == "S3", "push: S3 decided (got %r)" % ln)
    q = "SELECT count(*) FROM terminal_events WHERE terminal = 'face-p' AND serial = 303"
    time.sleep(0.5)
    n = gslib.db_query(db, q)[0][0]
    check(n == 1 and lights.next("c", timeout=0.5) is None,
          "push: an event sent three times is recorded and shown once (%d)" % n)
    rc, _ = dm.stop()
    check(rc == 0, "push: daemon stopped")
    sim.kill(signal.SIGTERM)


def main():
    ok = hik_peer.AlertStream("127.0.0.6")
    bad = hik_peer.AlertStream("127.0.0.7")
    # A terminal that takes the connection (the kernel's backlog) and never answers:
    # the other terminals' events are decided meanwhile, and the stop does not wait.
    hang = socket.socket()
    hang.bind(("127.0.0.11", 0))
    hang.listen(4)
    run(ok, bad, "python_peer", hang=hang.getsockname()[1])
    hang.close()
    ok.close()
    bad.close()
    simulator_stream()
    simulator_push()
    gslib.finish()


if __name__ == "__main__":
    main()
