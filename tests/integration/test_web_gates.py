"""The live gates API (docs/web-api.md "Gates", daemon/web/web_gates.c) against the real
gatescreend (plain HTTP on 127.0.0.1, which the config allows on loopback) and the
real gatescreen-sim: the snapshot for staff and for the gate role (no person or
temperature), the event stream's headers, its first event at once, an event per
change of the lights (a fever through the real lane), the keepalive comment after
15 s of quiet, a closed client freeing its connection thread within a couple of
seconds, no stream without a session, and the daemon stopping promptly with
streams open (the stream ends cleanly for the client). python3 stdlib only."""
import datetime
import http.client
import json
import os
import signal
import time

import gslib
from gslib import check

PASSWORD = "gates-password-1"
ROSTER = """\
external_id,kind,name,grade,class,card,active
S1,student,张三,一年级,一年级1班,1001,1
"""


def config(bus_port, web_port, zone, now):
    start = now - datetime.timedelta(minutes=5)
    end = now + datetime.timedelta(minutes=30)
    return """\
[school]
code = GATES
name = 测试学校
timezone = %s

[ledger]
database = ledger.db

[windows]
morning = %s-%s
days = mon-sun

[screening]
hold_fever = 1s
buzzer = 300ms

[web]
enabled = yes
listen = 127.0.0.1
port = %d

[bus gw]
tcp = 127.0.0.1:%d
response_timeout = 200ms
retry_max = 1s

[lane a]
gate = 东门
indicator = console

[device ir-a]
bus = gw
unit = 1
poll = 50ms
lane = a
""" % (zone, gslib.hhmm(start), gslib.hhmm(end), web_port, bus_port)


class Client:
    """One user's session over plain HTTP."""

    def __init__(self, port, name):
        self.port = port
        self.cookie = None
        if name:
            r, body = self.request("POST", "/api/v1/login", {"name": name, "password": PASSWORD})
            check(r.status == 200, "%s logs in (%d %s)" % (name, r.status, body[:80]))
            self.cookie = r.getheader("Set-Cookie", "").split(";")[0]

    def request(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.cookie:
            headers["Cookie"] = self.cookie
        c.request(method, path, json.dumps(body) if body is not None else None, headers)
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        c.close()
        return r, data

    def stream(self, timeout=20):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        c.request("GET", "/api/v1/gates/stream", headers={"Cookie": self.cookie or ""})
        return c, c.getresponse()


def next_event(resp):
    """The next block of the stream (lines up to a blank one), as (fields, seconds)."""
    t0 = time.monotonic()
    fields = []
    while True:
        line = resp.readline()
        if not line:
            return None, time.monotonic() - t0
        line = line.decode("utf-8").rstrip("\n")
        if line == "":
            return fields, time.monotonic() - t0
        fields.append(line)


def lanes_of(fields):
    data = [f[len("data: "):] for f in fields or [] if f.startswith("data: ")]
    return json.loads(data[0])["lanes"] if data else None


def threads(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


def setup():
    zone, now = gslib.school_zone(9)
    web_port, bus_port = gslib.free_port(), gslib.free_port()
    d, conf = gslib.scratch(config(bus_port, web_port, zone, now))
    roster = os.path.join(d, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    check(gslib.cli(conf, "roster", "import", roster).returncode == 0, "roster imported")
    for name, role, cls in (("nurse1", "nurse", ()), ("gate1", "gate", ()),
                            ("teach1", "teacher", ("--class", "一年级1班"))):
        r = gslib.cli(conf, "user", "add", name, "--role", role, *cls, input_text=PASSWORD + "\n")
        check(r.returncode == 0, "user %s added %s" % (name, r.stderr.strip()))
    sim = gslib.Sim(conf)
    check(sim.wait_ready(), "simulator ready")
    dm = gslib.Daemon(conf)
    check(dm.wait_for("web: serving HTTP") and dm.wait_for("device ir-a: state ok"),
          "daemon serves HTTP, device ok")
    return web_port, sim, dm


def snapshots(nurse, gate):
    r, body = nurse.request("GET", "/api/v1/gates")
    j = json.loads(body)
    lane = j["lanes"][0] if j.get("lanes") else {}
    check(r.status == 200 and isinstance(j.get("version"), int) and len(j["lanes"]) == 1,
          "GET /api/v1/gates: one lane and a version (%s)" % body[:120])
    want = {"name", "gate", "lamp", "blink", "buzzer", "relay", "outcome", "person",
            "body_centi", "changed_ms", "device_state", "per_minute", "queue_warning",
            "clock_skew_s"}
    check(set(lane) == want, "a lane has the fields of the contract: %r" % sorted(lane))
    check(lane.get("name") == "a" and lane.get("gate") == "东门" and lane.get("device_state") == "ok",
          "lane a at 东门, device ok")
    r, body = gate.request("GET", "/api/v1/gates")
    lane = json.loads(body)["lanes"][0]
    check(r.status == 200 and "person" not in lane and "body_centi" not in lane,
          "the gate role gets no person or temperature: %r" % sorted(lane))
    r, body = Client(nurse.port, "teach1").request("GET", "/api/v1/gates")
    lane = json.loads(body)["lanes"][0]
    check(r.status == 200 and "person" not in lane and "body_centi" not in lane,
          "a teacher gets no person or temperature of the gates (every class): %r" % sorted(lane))
    r, _ = Client(nurse.port, None).request("GET", "/api/v1/gates")
    check(r.status == 401, "no session: 401")


def stream_ends_at_logout(port):
    """An open stream ends with its session: logout (also expiry, a disabled user)."""
    nurse = Client(port, "nurse1")
    c, r = nurse.stream(timeout=10)
    first, _ = next_event(r)
    check(first is not None, "a second nurse session streams")
    s, body = nurse.request("GET", "/api/v1/session")
    csrf = json.loads(body).get("csrf") if s.status == 200 else None
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/api/v1/logout", "{}", {"Content-Type": "application/json",
                                                  "Cookie": nurse.cookie, "X-CSRF-Token": csrf})
    out = conn.getresponse()
    out.read()
    t0 = time.monotonic()
    ended = False
    while time.monotonic() - t0 < 5:
        fields, _ = next_event(r)
        if fields is None:
            ended = True
            break
    check(out.status == 204 and ended and time.monotonic() - t0 < 3,
          "logout ends the open stream (%.1f s)" % (time.monotonic() - t0))
    c.close()


def stream_events(nurse, gate, sim):
    c, r = nurse.stream()
    check(r.status == 200 and r.getheader("Content-Type", "").startswith("text/event-stream"),
          "the stream is text/event-stream (%d %s)" % (r.status, r.getheader("Content-Type")))
    check(r.getheader("Cache-Control") == "no-store", "and not cached: %s" % r.getheader("Cache-Control"))
    first, took = next_event(r)
    check(first and first[0].startswith("retry: ") and "event: lanes" in first and took < 1.0,
          "the first event comes at once, with a retry hint (%.2f s): %r" % (took, first))
    gc, gr = gate.stream()
    next_event(gr)
    check(sim.cmd("arrive ir-a temp=38.20 card=1001") == "ok", "sim: S1 arrives with 38.20")
    ev, took = next_event(r)
    lanes = lanes_of(ev)
    check(lanes and lanes[0]["lamp"] == "red" and lanes[0]["person"] == "S1"
          and lanes[0]["body_centi"] == 3820 and took < 3, "an event for the fever (%.2f s)" % took)
    ev, _ = next_event(gr)
    lanes = lanes_of(ev)
    check(lanes and lanes[0]["lamp"] == "red" and "person" not in lanes[0],
          "the gate role's stream shows the light without the person")
    gc.close()
    return c, r


def keepalive(r):
    """After the fever's hold ends (buzzer off, then idle) the lane is quiet: a
    comment comes 15 s after the last write."""
    t_last = time.monotonic()
    while True:
        ev, _ = next_event(r)
        if ev is None or any(f.startswith(":") for f in ev):
            break
        t_last = time.monotonic()
    quiet = time.monotonic() - t_last
    check(ev == [": keepalive"] and 14.0 <= quiet <= 17.5,
          "a keepalive comment after %.1f s of quiet: %r" % (quiet, ev))


def closed_client(nurse, dm):
    base = threads(dm.proc.pid)
    extra = []
    for _ in range(3):
        c, r = nurse.stream()
        next_event(r)
        extra.append(c)
    with_streams = threads(dm.proc.pid)
    check(with_streams >= base + 3, "three streams, three more threads (%d -> %d)" % (base, with_streams))
    for c in extra:
        c.sock.close()
        c.close()
    ok = gslib.wait_until(lambda: threads(dm.proc.pid) <= base, 4.0, 0.1)
    check(ok, "closed clients free their threads within a few seconds (%d -> %d)"
          % (with_streams, threads(dm.proc.pid)))


def stop_with_stream(r, dm):
    rc, took = dm.stop(signal.SIGTERM)
    check(rc == 0 and took < 3.0, "the daemon stops in %.2f s with a stream open (exit %d)" % (took, rc))
    # The stream's last chunk races the server closing its sockets: either end is
    # fine (EventSource reconnects either way), what matters is that it ends.
    t0 = time.monotonic()
    try:
        how = "a clean end (%d more bytes)" % len(r.read())
    except (http.client.IncompleteRead, ConnectionError) as e:
        how = "the connection closed (%s)" % type(e).__name__
    check(time.monotonic() - t0 < 2.0, "the client sees the stream end: " + how)


def main():
    port, sim, dm = setup()
    nurse, gate = Client(port, "nurse1"), Client(port, "gate1")
    snapshots(nurse, gate)
    stream_ends_at_logout(port)
    c, r = stream_events(nurse, gate, sim)
    keepalive(r)
    closed_client(nurse, dm)
    stop_with_stream(r, dm)
    c.close()
    sim.kill(signal.SIGTERM)
    gslib.finish()


if __name__ == "__main__":
    main()
