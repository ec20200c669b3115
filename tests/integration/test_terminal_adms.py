"""ZKTeco ADMS (iClock push) terminals against the real daemon (issue 18). The peer
is tests/integration/adms_peer.py, a terminal written from the public protocol
description, not from our code. Checks: the handshake's options block (and a Date
header, which ADMS terminals set their clocks from); the heartbeat's OK; another
SN from the terminal's address, or its SN from another address, is 403; ATTLOG
lines with temperature and mask in the configured columns are decided (green,
red) into the same ledger; a record sent again (also after a restart) is recorded
once; an unreadable line is skipped, the rest taken; a terminal with other
columns and a scale (36.5 written 365); a terminal never heard from goes offline
after its offline_after (amber blink, "offline" on the gates page) and online with
its heartbeat; a clock an hour behind is logged once and shown on the gates page,
and cleared when it is right again. Then the same against gatescreen-sim's ADMS
terminal (drivers/sim/sim_adms.c): handshake and heartbeats keep it online, its
punches are decided, a punch it sends twice is recorded once, silent it goes
offline and its queued punches come as one upload when it is back, and a punch
made while the daemon is down is sent again until it is taken."""
import datetime
import http.client
import json
import os

import gslib
from gslib import check
from adms_peer import Terminal

PASSWORD = "gates-password-1"
ROSTER = """\
external_id,kind,name,grade,class,card,active
S1,student,张三,一年级,一年级1班,1001,1
S2,student,李四,一年级,一年级1班,1002,1
S3,student,王五,一年级,一年级1班,1003,1
"""
SN_A, SN_B = "CKJK201960001", "CKJK201960002"


def config(port, web_port, zone, now):
    start = now - datetime.timedelta(minutes=5)
    end = now + datetime.timedelta(minutes=30)
    return """\
[school]
code = ADMS
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

[web]
enabled = yes
listen = 127.0.0.1
port = %d

[terminals]
listen = 127.0.0.1:%d
request_timeout = 2s
max_clock_skew = 30s

[lane a]
gate = 东门
indicator = test
[lane b]
gate = 北门
indicator = test

[terminal zk-a]
kind = zkteco-adms
mode = push
address = 127.0.0.1
serial = %s
lane = a

[terminal zk-b]
kind = zkteco-adms
address = 127.0.0.4
serial = %s
lane = b
temperature_column = 6
temperature_scale = 10
mask_column = 0
offline_after = 2s

[lane c]
gate = 西门
indicator = test

[terminal zk-sim]
kind = zkteco-adms
address = 127.0.0.6
serial = SIMADMS0001
lane = c
offline_after = 2s
""" % (zone, gslib.hhmm(start), gslib.hhmm(end), web_port, port, SN_A, SN_B)


class Gate:
    def __init__(self):
        self.zone, self.now = gslib.school_zone(9)
        self.offset_h = round((self.now - datetime.datetime.now(datetime.timezone.utc))
                              .total_seconds() / 3600)
        self.port, self.web_port = gslib.free_port(), gslib.free_port()
        self.dir, self.conf = gslib.scratch(config(self.port, 0, self.zone, self.now))
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(config(self.port, self.web_port, self.zone, self.now))
        self.db = os.path.join(self.dir, "ledger.db")
        self.lights = os.path.join(self.dir, "lights.log")
        self.lights_seen = gslib.Lights(self.lights)
        self.cookie = None

    def q(self, sql, args=()):
        return gslib.db_query(self.db, sql, args)

    def next_light(self, lane, pred, timeout=5.0):
        return self.lights_seen.next(lane, pred, timeout)

    def next_decision(self, lane, timeout=5.0):
        return self.lights_seen.next(lane, timeout=timeout)

    def start(self):
        dm = gslib.Daemon(self.conf)
        check(dm.wait_for("ready:") and dm.wait_for("terminals: listening"),
              "daemon up with its terminals' listener: " + dm.text()[-800:])
        return dm

    def lanes(self):
        """The gates page's lanes (GET /api/v1/gates as the gate role), by name."""
        c = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=10)
        if not self.cookie:
            c.request("POST", "/api/v1/login", json.dumps({"name": "gate1", "password": PASSWORD}),
                      {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            self.cookie = r.getheader("Set-Cookie", "").split(";")[0]
        c.request("GET", "/api/v1/gates", headers={"Cookie": self.cookie})
        r = c.getresponse()
        doc = json.loads(r.read().decode())
        c.close()
        return {ln["name"]: ln for ln in doc["lanes"]}


def rows(g):
    return g.q("SELECT r.body_centi, r.outcome, t.employee_no, t.device_time, t.mask, t.major,"
               " t.minor FROM readings r JOIN terminal_events t ON t.reading_id = r.id"
               " ORDER BY r.id")


def main():
    g = Gate()
    roster = os.path.join(g.dir, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    check(gslib.cli(g.conf, "roster", "import", roster).returncode == 0, "roster imported")
    r = gslib.cli(g.conf, "user", "add", "gate1", "--role", "gate", input_text=PASSWORD + "\n")
    check(r.returncode == 0, "user gate1 added " + r.stderr)
    dm = g.start()
    a = Terminal(g.port, SN_A, "127.0.0.1", g.offset_h)

    # The handshake: the options block for this SN, and a Date header to set a clock by.
    status, text, headers = a.handshake()
    check(status == 200 and a.options.get("_first") == "GET OPTION FROM: %s" % SN_A
          and a.options.get("Realtime") == "1" and "Delay" in a.options,
          "handshake answered with the options block (%r %r)" % (status, text[:200]))
    check("Date" in headers, "... with a Date header (%r)" % headers)
    check(a.heartbeat() == (200, "OK\n"), "heartbeat answered OK")

    # A path of another firmware's protocol: 404, and the log says so.
    check(a.request("GET", "/iclock/registry?SN=%s" % SN_A)[0] == 404, "/iclock/registry is 404")
    check(dm.wait_for("[terminal zk-a] asked GET /iclock/registry, not an ADMS request"),
          "... and logged")

    # Only its SN from its address.
    wrong = Terminal(g.port, "BOGUS0001", "127.0.0.1", g.offset_h)
    check(wrong.heartbeat()[0] == 403, "another SN from zk-a's address is 403")
    check(dm.wait_for("sent SN BOGUS0001, not its serial"), "... and logged")
    stranger = Terminal(g.port, SN_A, "127.0.0.5", g.offset_h)
    check(stranger.upload([Terminal.record("S1", a.local_time(), temp="36.5")], tries=1)[0] == 403,
          "zk-a's SN from another address is 403")

    # A known person at a normal temperature, mask on: green, one row.
    first = a.local_time()
    line1 = Terminal.record("S1", first, mask=True, temp="36.5")
    check(a.upload([line1]) == (200, "OK: 1\n"), "ATTLOG record answered OK: 1")
    ln = g.next_decision("a")
    check(ln is not None and ln["lamp"] == "green" and ln["outcome"] == "admit",
          "S1 at 36.5 shows green (got %r)" % ln)
    got = rows(g)
    check(got == [(3650, "admit", "S1", first, "yes", 0, 15)],
          "one admit row at 36.50 with PIN, terminal time, mask, status and verify (got %r)" % got)

    # A fever: red and a flag.
    check(a.upload([Terminal.record("S2", a.local_time(), mask=False, temp="38.2")])[0] == 200,
          "fever record answered")
    ln = g.next_decision("a")
    check(ln is not None and ln["lamp"] == "red" and ln["outcome"] == "fever",
          "S2 at 38.2 shows red (got %r)" % ln)

    # The terminal sends the first record again with a new one (it saw no answer,
    # say), and a line we cannot read: two taken, the repeat recorded once.
    bad = "S3\tyesterday\t0\t15"
    line3 = Terminal.record("S3", a.local_time(), temp="36.7")
    status, text = a.upload([line1, bad, line3])
    check(status == 200 and text == "OK: 2\n", "batch with a bad line: OK: 2 (%r %r)"
          % (status, text))
    check(dm.wait_for("ATTLOG line 2: time \"yesterday\""), "the bad line is logged with why")
    ln = g.next_decision("a")
    check(ln is not None and ln["person"] == "S3", "the next light is S3's (got %r)" % ln)
    check(g.q("SELECT count(*) FROM readings")[0][0] == 3, "the repeat made no row")

    # A backlog (the terminal kept punches while it could not reach us): a line of two
    # hours ago is decided at its own time and recorded, not shown; a line of yesterday
    # is neither; the line of now is shown. All three answered as taken.
    past, yday = a.local_time(-7200), a.local_time(-26 * 3600)
    before = g.q("SELECT count(*) FROM readings")[0][0]
    status, text = a.upload([Terminal.record("S1", past, temp="36.4"),
                             Terminal.record("S2", yday, temp="36.5"),
                             Terminal.record("S3", a.local_time(7), temp="36.5")])
    check((status, text) == (200, "OK: 3\n"), "backlog of three answered OK: 3 (%r %r)"
          % (status, text))
    ln = g.next_decision("a")
    check(ln is not None and ln["person"] == "S3" and ln["body"] == "36.50",
          "the lane shows the line of now only (got %r)" % ln)
    check(dm.wait_for("[terminal zk-a] uploaded 1 line(s) of an earlier day (the oldest %s)"
                      % yday), "the line of yesterday is logged, not taken")
    late = "SELECT r.at_ms FROM readings r JOIN terminal_events t ON t.reading_id = r.id" \
           " WHERE t.device_time = ?"
    check(gslib.wait_until(lambda: len(g.q(late, (past,))) == 1, 3.0), "the line of two hours "
          "ago is recorded")
    at_ms = g.q(late, (past,))[0][0]
    now_ms = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000)
    check(abs(at_ms - (now_ms - 7200000)) < 10000, "... at its own time (%d s ago)"
          % ((now_ms - at_ms) // 1000))
    check(g.q("SELECT count(*) FROM terminal_events WHERE device_time = ?", (yday,))[0][0] == 0
          and g.q("SELECT count(*) FROM readings")[0][0] == before + 2,
          "the line of yesterday made no row")
    check(g.lights_seen.next("a", lambda ln: ln["person"] == "S1", 0.5) is None,
          "no light for the line of two hours ago")

    # An ATTLOG line with no temperature (a terminal without the thermal module);
    # a few seconds on: the same PIN in the same second is the same punch.
    check(a.upload([Terminal.record("S1", a.local_time(3), columns=4)])[0] == 200,
          "a record without temperature answered")
    ln = g.next_decision("a")
    check(ln is not None and ln["outcome"] != "admit",
          "no temperature is not an admit (got %r)" % ln)
    # Other tables are acknowledged and make nothing.
    check(a.upload(["OPLOG 4\t0\t%s\t0\t0\t0\t0" % a.local_time()], table="OPERLOG")
          == (200, "OK\n"), "an OPERLOG upload is acknowledged")

    # zk-b has not been heard from: offline after 2 s, lane b blinks amber, the page says so.
    check(dm.wait_for("[terminal zk-b] not heard from"), "zk-b offline is logged")
    ln = g.next_light("b", lambda ln: ln["blink"] == "1" and ln["lamp"] == "amber")
    check(ln is not None, "lane b blinks amber (got %r)" % ln)
    lanes = g.lanes()
    check(lanes["b"]["device_state"] == "offline" and lanes["a"]["device_state"] == "ok",
          "the gates page: b offline, a ok (%r)" % {k: v["device_state"] for k, v in lanes.items()})
    b = Terminal(g.port, SN_B, "127.0.0.4", g.offset_h)
    check(b.heartbeat() == (200, "OK\n"), "zk-b's heartbeat answered")
    check(dm.wait_for("[terminal zk-b] is heard from again"), "zk-b back is logged")
    check(gslib.wait_until(lambda: g.lanes()["b"]["device_state"] == "ok", 3.0),
          "the gates page: b ok again")
    ln = g.next_light("b", lambda ln: ln["blink"] == "0")
    check(ln is not None, "lane b stops blinking (got %r)" % ln)
    # zk-b writes its temperature in column 6 in tenths.
    line = "\t".join(["S3", b.local_time(), "0", "15", "0", "365"])
    check(b.upload([line]) == (200, "OK: 1\n"), "zk-b's record answered")
    ln = g.next_decision("b")
    check(ln is not None and ln["outcome"] == "admit", "365 in column 6 admitted (got %r)" % ln)
    check(g.q("SELECT body_centi FROM readings ORDER BY id DESC LIMIT 1")[0][0] == 3650,
          "... as 36.50")
    # Kept alive by its heartbeats past offline_after.
    for _ in range(3):
        gslib.wait_until(lambda: False, 1.0)
        b.heartbeat()
    check(g.lanes()["b"]["device_state"] == "ok" and
          dm.text().count("[terminal zk-b] not heard from") == 1,
          "heartbeats every second keep zk-b online past offline_after")

    # A clock an hour behind: logged once for two records, shown on the page, cleared.
    for pin in ("S1", "S2"):
        check(a.upload([Terminal.record(pin, a.local_time(-3600), temp="36.6")])[0] == 200,
              "record from a clock an hour behind answered")
    check(dm.wait_for("[terminal zk-a]'s clock is 36"), "the skew is logged")
    skew = g.lanes()["a"]["clock_skew_s"]
    check(isinstance(skew, int) and abs(skew + 3600) < 10, "the page shows it (%r)" % skew)
    check(a.upload([Terminal.record("S3", a.local_time(), temp="36.6")])[0] == 200,
          "an on-time record answered")
    check(dm.wait_for("[terminal zk-a]'s clock is within max_clock_skew again"),
          "the clock's return is logged")
    lines = [x for x in dm.text().splitlines() if "[terminal zk-a]'s clock is 36" in x]
    check(len(lines) == 1 and "behind ours" in lines[0], "logged once (%r)" % lines)
    check(gslib.wait_until(lambda: g.lanes()["a"]["clock_skew_s"] is None, 3.0),
          "the page clears it")

    # gatescreen-sim as a terminal: it handshakes and heartbeats every 500 ms.
    sim = gslib.Sim(g.conf, "--adms", "zk-sim", "--adms-heartbeat", "500ms", "-v")
    check(sim.wait_ready(), "simulator ready: " + open(g.conf + ".sim.err").read()[-300:])
    simlog = lambda: open(g.conf + ".sim.err", encoding="utf-8").read()
    check(gslib.wait_until(lambda: "adms zk-sim: handshake answered 200" in simlog(), 5.0),
          "the simulator's handshake answered 200")
    check(sim.cmd("punch zk-sim S1 36.6 mask=1") == "ok", "punch S1 taken by the simulator")
    ln = g.next_decision("c")
    check(ln is not None and ln["outcome"] == "admit" and ln["person"] == "S1"
          and ln["body"] == "36.60", "the simulator's S1 at 36.6 admitted on lane c (got %r)" % ln)
    check(sim.cmd("punch zk-sim S3 36.7 dup") == "ok", "punch S3, sent twice")
    check(gslib.wait_until(lambda: "adms zk-sim: sent a line again: 200 OK: 1" in simlog(), 5.0),
          "the simulator sent S3's line again, answered OK: 1")
    sim_rows = "SELECT count(*) FROM terminal_events WHERE terminal = 'zk-sim'"
    check(gslib.wait_until(lambda: g.q(sim_rows)[0][0] == 2, 3.0) and
          g.q("SELECT count(*) FROM terminal_events WHERE terminal = 'zk-sim'"
              " AND employee_no = 'S3'")[0][0] == 1, "... and recorded once")
    check(g.q("SELECT mask FROM terminal_events WHERE terminal = 'zk-sim' AND employee_no = 'S1'")
          == [("yes",)], "the simulator's mask flag recorded")
    # (It may have gone offline before the simulator started: the daemon started first.)
    offline_logs = dm.text().count("[terminal zk-sim] not heard from")
    gslib.wait_until(lambda: False, 2.5)
    check(dm.text().count("[terminal zk-sim] not heard from") == offline_logs and
          g.lanes()["c"]["device_state"] == "ok",
          "heartbeats keep the simulator online past offline_after")
    # Silent (off the network): offline; its punches wait and come as one upload.
    check(sim.cmd("silent zk-sim on") == "ok", "the simulator goes silent")
    check(dm.wait_for("[terminal zk-sim] not heard from", 5.0, offline_logs + 1),
          "silent: offline")
    check(g.next_light("c", lambda ln: ln["blink"] == "1") is not None, "lane c blinks amber")
    check(sim.cmd("punch zk-sim S2 36.5") == "ok" and sim.cmd("punch zk-sim S1 36.4 skew=2") == "ok",
          "two punches while silent")
    check(sim.cmd("silent zk-sim off") == "ok", "the simulator is back")
    check(dm.wait_for("[terminal zk-sim] is heard from again", 5.0, offline_logs + 1),
          "online again")
    check(gslib.wait_until(lambda: "adms zk-sim: uploaded 2 line(s): 200 OK: 2" in simlog(), 5.0),
          "the two punches came as one upload")
    check(gslib.wait_until(lambda: g.q(sim_rows)[0][0] == 4, 3.0), "... both recorded")

    rc, _ = dm.stop()
    check(rc == 0, "daemon stopped cleanly")

    # A punch while the daemon is down is sent again until it is taken.
    check(sim.cmd("punch zk-sim S2 36.6 skew=5") == "ok", "punch while the daemon is down")
    check(gslib.wait_until(lambda: "adms zk-sim: uploaded 1 line(s): -1" in simlog(), 5.0),
          "the simulator's upload finds no server")

    # After a restart the same record is still a repeat; a new one is recorded.
    before = g.q("SELECT count(*) FROM readings")[0][0]
    dm = g.start()
    g.lights_seen.skip_all()
    check(a.upload([line1])[0] == 200, "repeat after restart answered")
    check(a.upload([Terminal.record("S2", a.local_time(), temp="36.4")])[0] == 200,
          "new record after restart answered")
    ln = g.next_decision("a")
    check(ln is not None and ln["person"] == "S2",
          "the next light is S2's: the repeat after the restart showed nothing (got %r)" % ln)
    check(gslib.wait_until(lambda: g.q(sim_rows)[0][0] == 5, 5.0),
          "the simulator's punch made while the daemon was down is recorded after it")
    after = g.q("SELECT count(*) FROM readings")[0][0]
    check(after == before + 2, "the repeat after the restart made no row (%d -> %d: the "
          "new record and the simulator's)" % (before, after))
    sim.cmd("quit")
    try:
        sim_rc = sim.proc.wait(10)
    except Exception:
        sim_rc = None
    check(sim_rc == 0, "the simulator quits cleanly with its terminal thread (%r)" % sim_rc)
    rc, _ = dm.stop()
    check(rc == 0, "daemon stopped cleanly again")
    gslib.finish()


if __name__ == "__main__":
    main()
