"""A staggered morning (错峰上学, issue 19) through the simulator: gatescreen-sim
serves a screening unit over real Modbus TCP and the real gatescreend decides, on
a real SQLite ledger, with three arrival slots around the real clock:

  一年级        its slot ended 20 minutes ago (its sweep is due: caught up at start)
  二年级        its slot is now
  二年级2班     a class with its own slot, in 15 minutes (it wins over its grade's)

- the slot's sweep makes 一年级's missing pupils absent before the morning window
  ends, and nobody of the other slots;
- a 一年级 pupil arriving now is checked (the absence withdrawn) and counted late
  for their slot; a 二年级 pupil arriving now is on time;
- GET /api/v1/gates shows which groups are due now and how many of each came;
  the summary's arrival_slots has the same counts;
- a restart does not sweep a slot twice."""
import datetime
import http.client
import json
import os
import time

import gslib
from gslib import check

PASSWORD = "correct horse battery 9"

ROSTER = """\
external_id,kind,name,grade,class,card,active
A1,student,一甲,一年级,一年级1班,1001,1
A2,student,一乙,一年级,一年级1班,1002,1
B1,student,二甲,二年级,二年级1班,2001,1
B2,student,二乙,二年级,二年级1班,2002,1
C1,student,二丙,二年级,二年级2班,3001,1
"""


def config(bus_port, web_port, zone, now):
    t = lambda minutes: gslib.hhmm(now + datetime.timedelta(minutes=minutes))
    return """\
[school]
code = STAGGER
name = 测试学校
timezone = %s

[ledger]
database = ledger.db

[windows]
morning = %s-%s
absence_grace = 1min
days = mon-sun

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

[grade 一年级]
slot = %s-%s

[grade 二年级]
slot = %s-%s

[class 二年级2班]
slot = %s-%s
""" % (zone, t(-40), t(30), web_port, bus_port, t(-40), t(-20), t(-5), t(15), t(15), t(25))


def login(port, name):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/api/v1/login", json.dumps({"name": name, "password": PASSWORD}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    c.close()
    check(r.status == 200, "%s logs in (%d)" % (name, r.status))
    return r.getheader("Set-Cookie", "").split(";")[0]


def gates(port, cookie):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/api/v1/gates", headers={"Cookie": cookie})
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, json.loads(body) if r.status == 200 else body


def absences(db, day):
    return dict(gslib.db_query(db, "SELECT p.external_id, a.cause FROM absences a JOIN people p "
                                   "ON p.id = a.person_id WHERE a.day = ?", (day,)))


def slots_of(items):
    return {s["group"]: (s.get("state"), s["expected"], s["arrived"], s["late"]) for s in items}


def main():
    t0 = time.monotonic()
    zone, now = gslib.school_zone(9)
    today = now.strftime("%Y-%m-%d")
    web_port, bus_port = gslib.free_port(), gslib.free_port()
    d, conf = gslib.scratch(config(bus_port, web_port, zone, now))
    db = os.path.join(d, "ledger.db")
    roster = os.path.join(d, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    check(gslib.cli(conf, "roster", "import", roster).returncode == 0, "roster imported")
    r = gslib.cli(conf, "user", "add", "gate1", "--role", "gate", input_text=PASSWORD + "\n")
    check(r.returncode == 0, "gate user added %s" % r.stderr.strip())
    sim = gslib.Sim(conf)
    check(sim.wait_ready(), "simulator ready")
    dm = gslib.Daemon(conf)
    check(dm.wait_for("web: serving HTTP") and dm.wait_for("device ir-a: state ok"),
          "daemon serves HTTP, device ok")
    slot_end = gslib.hhmm(now + datetime.timedelta(minutes=-20))
    check(dm.wait_for("absence sweep for %s, slots ending %s: 2 new absences" % (today, slot_end)),
          "一年级's slot sweep ran at start (its end + grace had passed)")
    check(absences(db, today) == {"A1": "unknown", "A2": "unknown"},
          "only 一年级 is absent before the window ends: %s" % absences(db, today))

    for card, who in (("1001", "A1"), ("2001", "B1")):
        reply = sim.cmd("arrive ir-a temp=36.50 card=%s" % card)
        check(reply == "ok", "sim: %s arrives (%r)" % (who, reply))
        check(gslib.wait_until(lambda: gslib.db_query(
            db, "SELECT count(*) FROM checks c JOIN people p ON p.id = c.person_id "
                "WHERE p.external_id = ? AND c.day = ?", (who, today)) == [(1,)], 5),
              "%s checked at the gate" % who)
        time.sleep(0.4)  # the lane's hold, before the next person
    check(absences(db, today) == {"A2": "unknown"},
          "A1's slot absence withdrawn by the check: %s" % absences(db, today))

    cookie = login(web_port, "gate1")
    status, j = gates(web_port, cookie)
    got = slots_of(j.get("slots", [])) if status == 200 else {}
    want = {"一年级": ("over", 2, 1, 1), "二年级": ("due", 2, 1, 0),
            "二年级2班": ("upcoming", 1, 0, 0)}
    check(got == want, "the gates page: groups due now and how many came: %s" % got)
    r = gslib.cli(conf, "summary")
    s = json.loads(r.stdout) if r.returncode == 0 else {}
    got = {k: v[1:] for k, v in slots_of(s.get("arrival_slots", [])).items()}
    check(got == {k: v[1:] for k, v in want.items()},
          "the summary's arrival_slots: %s" % got)
    first = [x for x in s.get("arrival_slots", []) if x["group"] == "一年级"]
    check(first and first[0]["start"] == gslib.hhmm(now + datetime.timedelta(minutes=-40)) and
          first[0]["end"] == slot_end, "a slot's start and end: %s" % first)

    # Errors only: a loaded machine may make the device "degraded" (a warning).
    bad = gslib.log_lines_since(dm.text(), 0, levels=("error",))
    check(not bad, "no error in the daemon's log (a slot's sweep recorded): %s" % bad[:3])
    rc, _ = dm.stop()
    check(rc == 0, "stopped cleanly")
    dm = gslib.Daemon(conf)
    check(dm.wait_for("web: serving HTTP"), "restarted")
    time.sleep(1.5)
    check("slots ending %s" % slot_end not in dm.text(),
          "the slot's sweep is not done again after a restart")
    check(absences(db, today) == {"A2": "unknown"}, "absences unchanged by the restart")
    dm.stop()
    sim.kill()
    print("figure: seconds %.1f" % (time.monotonic() - t0))
    gslib.finish()


if __name__ == "__main__":
    main()
