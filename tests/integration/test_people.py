"""Issue 19, the school's people: health observation (健康观察) at the real gate and
on the nurse's web API, and visitors (来访登记) registered by gate staff (entered
temperature or the lane's, a fever refused and listed for the nurse, masked phones,
every refusal writing nothing). One real
daemon with the web page, gatescreen-sim over Modbus TCP, users and roster made
with the real CLI (the setup of test_web_api.py)."""
import datetime
import os
import signal
import urllib.parse
import sys

sys.path.insert(0, os.path.dirname(__file__))
import gslib  # noqa: E402
import test_web_api as wa  # noqa: E402
from gslib import check  # noqa: E402

ROSTER = """\
学号/ID,姓名,年级,班级,卡号,住校
S1,张三,一年级,一年级1班,1001,是
S2,李四,一年级,一年级1班,1002,否
S3,王五,一年级,一年级1班,1003,否
S4,赵六,一年级,一年级2班,1004,否
"""


def prepare(s):
    roster = os.path.join(s.dir, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    s.must("roster", "import", roster)
    for name, role, cls in (("nurse1", "nurse", None), ("teach1", "teacher", wa.CLASS1),
                            ("gate1", "gate", None), ("admin1", "admin", None)):
        args = ["user", "add", name, "--role", role] + (["--class", cls] if cls else [])
        r = s.cli(*args, input_text=wa.PASSWORD + "\n")
        check(r.returncode == 0, "user %s added: %s" % (name, r.stderr.strip()))


def last_reading(s):
    return s.q("SELECT p.external_id, r.outcome, r.note FROM readings r LEFT JOIN people p "
               "ON p.id = r.person_id ORDER BY r.id DESC LIMIT 1")[0]


def gate(s, sim, card, temp="36.50"):
    return wa.arrive(s, sim, "ir-a", temp, card)


def observation_refusals(s, c):
    n, t, g = c["nurse1"], c["teach1"], c["gate1"]
    before = s.q("SELECT count(*) FROM observations")
    for body, want in (({"reason": "bogus", "days": 7}, "reason must be one of risk_area"),
                       ({"reason": "risk_area", "days": 0}, "days must be a whole number"),
                       ({"reason": "risk_area", "days": "7"}, "days must be a whole number"),
                       ({"reason": "risk_area", "days": 61}, "from 1 to 60"),
                       ({"reason": "risk_area"}, "days must be"),
                       ({"days": 3}, "reason is required"),
                       ({"reason": "risk_area", "days": 3, "from": "2026-02-30"}, "from"),
                       ({"reason": "risk_area", "days": 3, "colour": 1}, "colour")):
        r = n.post("/api/v1/people/S2/observation", body)
        check(r.status == 400 and want in r.error(), "400 %r: %s" % (body, r.error()))
    r = n.post("/api/v1/people/S2/observation", {"reason": "risk_area", "days": 3}, csrf=False)
    check(r.status == 403, "without the CSRF token: %d" % r.status)
    r = g.post("/api/v1/people/S2/observation", {"reason": "risk_area", "days": 3})
    check(r.status == 403, "the gate role may not: %d" % r.status)
    r = t.post("/api/v1/people/S4/observation", {"reason": "risk_area", "days": 3})
    check(r.status == 403 and "not your class" in r.error(), "a teacher, another class: 403")
    r = n.post("/api/v1/people/NOPE/observation", {"reason": "risk_area", "days": 3})
    check(r.status == 404, "an unknown person: 404")
    check(s.q("SELECT count(*) FROM observations") == before, "refusals wrote nothing")


def observation(s, c, sim, dm):
    n, t = c["nurse1"], c["teach1"]
    to = (s.today + datetime.timedelta(days=6)).isoformat()
    r = n.post("/api/v1/people/S1/observation",
               {"reason": "close_contact", "days": 7, "note": "家长同事确诊"})
    check(r.status == 200 and r.json()["from"] == s.day and r.json()["to"] == to
          and "sends them to the nurse" in r.json()["message"],
          "the nurse puts S1 under observation for 7 days: %d %s" % (r.status, r.body[:200]))
    r = n.post("/api/v1/people/S1/observation", {"reason": "risk_area", "days": 3})
    check(r.status == 409 and "already under observation" in r.error(),
          "twice: 409 (%s)" % r.error())
    observation_refusals(s, c)
    r = s.cli("observe", "S3", "--reason", "after-illness", "--days", "3", "--by", "nurse0")
    check(r.returncode == 0 and "under observation from" in r.stdout, "the CLI too: " + r.stdout)
    # The gate: refer (the default) sends S1 to the nurse; S2 is not observed.
    check(gate(s, sim, 1001) == "see_nurse", "S1 under observation: see the nurse (amber)")
    check(last_reading(s) == ("S1", "see_nurse", "observation"), "the reading is noted")
    check(gate(s, sim, 1002) == "admit", "S2: admitted")
    check(last_reading(s)[2] == "", "no note for S2")
    check(gate(s, sim, 1003, "38.20") == "fever", "S3 with a fever: a fever first")
    r = n.get("/api/v1/observations")
    people = {p["person"]["id"]: p for p in r.json()["people"]} if r.status == 200 else {}
    check(r.status == 200 and r.json()["count"] == 2 and set(people) == {"S1", "S3"},
          "two under observation today: %s" % r.body[:300])
    s1 = people.get("S1", {})
    check(s1.get("readings") == 1 and s1.get("referred") == 1 and s1.get("last_centi") == 3650
          and s1.get("reason") == "close_contact" and s1.get("note") == "家长同事确诊",
          "S1: one reading, referred: %r" % s1)
    check(people.get("S3", {}).get("fevers") == 1, "S3: one fever")
    r = n.get("/api/v1/people/S1/observation")
    checks = r.json()["checks"] if r.status == 200 else []
    check(len(checks) == 1 and checks[0]["outcome"] == "see_nurse" and checks[0]["lane"] == "a"
          and checks[0]["temp_centi"] == 3650, "every check during it listed: %r" % checks)
    r = t.get("/api/v1/observations?class=" + urllib.parse.quote(wa.CLASS1))
    check(r.status == 200 and r.json()["count"] == 2, "the class teacher sees their class")
    r = c["gate1"].get("/api/v1/observations")
    check(r.status == 403, "the gate role does not see health data: %d" % r.status)
    r = s.cli("observations")
    check(r.returncode == 0 and "2 under observation" in r.stderr, "CLI: " + r.stderr.strip())
    # observation = note: admitted, the reading noted.
    with open(s.conf, encoding="utf-8") as f:
        text = f.read()
    with open(s.conf, "w", encoding="utf-8") as f:
        f.write(text.replace("[screening]\n", "[screening]\nobservation = note\n", 1))
    dm.proc.send_signal(signal.SIGHUP)
    check(dm.wait_for("reload: configuration"), "reloaded with observation = note")
    check(gate(s, sim, 1001) == "admit", "S1 under observation, note: admitted (green)")
    check(last_reading(s) == ("S1", "admit", "observation"), "... with the note")
    r = n.post("/api/v1/people/S1/observation/end", {})
    check(r.status == 200, "the nurse ends S1's observation: %s" % r.body[:200])
    r = n.post("/api/v1/people/S1/observation/end", {})
    check(r.status == 409 and "not under observation" in r.error(), "ending twice: 409")
    check(gate(s, sim, 1001) == "admit" and last_reading(s)[2] == "", "S1 ended: no note")
    r = n.get("/api/v1/observations")
    check(r.status == 200 and r.json()["count"] == 1, "one left under observation")


VISITOR = {"name": "陈师傅", "phone": "138 1234 5678", "organisation": "自来水公司",
           "reason": "维修水管", "host": "总务处王老师", "approved_by": "李校长"}


def visitor(c, **kw):
    body = dict(VISITOR)
    body.update(kw)
    return c.post("/api/v1/visitors", {k: v for k, v in body.items() if v is not None})


def visitor_refusals(s, c):
    g = c["gate1"]
    before = s.q("SELECT count(*) FROM visitors")
    for kw, want in (({"name": None, "temp_centi": 3660}, "name is required"),
                     ({"name": "  ", "temp_centi": 3660}, "name"),
                     ({"phone": "abc", "temp_centi": 3660}, "is not a phone number"),
                     ({"reason": None, "temp_centi": 3660}, "reason is required"),
                     ({"host": None, "temp_centi": 3660}, "host is required"),
                     ({"approved_by": None, "temp_centi": 3660}, "approved_by is required"),
                     ({}, "give either temp_centi"),
                     ({"temp_centi": 3660, "lane": "a"}, "give either temp_centi"),
                     ({"temp_centi": 2000}, "temp_centi must be an integer"),
                     ({"temp_centi": "36.6"}, "temp_centi must be an integer"),
                     ({"lane": "zz"}, "lane 'zz' is not a lane of this school (lanes: a, b)"),
                     ({"lane": "b"}, "lane b has no valid reading without a card"),
                     ({"temp_centi": 3660, "colour": "red"}, "colour")):
        r = visitor(g, **kw)
        check(r.status == 400 and want in r.error(), "400 %r: %s" % (kw, r.error()))
    r = g.post("/api/v1/visitors", dict(VISITOR, temp_centi=3660), csrf=False)
    check(r.status == 403, "without the CSRF token: %d" % r.status)
    r = visitor(c["teach1"], temp_centi=3660)
    check(r.status == 403, "a teacher may not register visitors: %d" % r.status)
    check(s.q("SELECT count(*) FROM visitors") == before, "refusals wrote nothing")


def visitors(s, c, sim):
    g, n = c["gate1"], c["nurse1"]
    r = visitor(g, temp_centi=3660)
    check(r.status == 200 and r.json()["outcome"] == "admitted"
          and r.json()["phone"] == "138 **** 5678", "gate staff register a visitor: %s" % r.body)
    r = visitor(g, name="刘女士", phone="13900001111", organisation=None,
                reason="接生病的孩子", host="一年级1班班主任", temp_centi=3780)
    check(r.status == 200 and r.json()["outcome"] == "refused"
          and "not admitted" in r.json()["message"], "a fever: refused: %s" % r.body)
    # The lane's reading: the visitor stands at lane a without a card.
    check(sim.cmd("arrive ir-a temp=36.70") == "ok", "the visitor measured at lane a")
    gslib.wait_until(lambda: s.q("SELECT count(*) FROM readings WHERE card_no IS NULL "
                                 "AND body_centi = 3670")[0][0] > 0, 5)
    r = visitor(g, name="张科长", organisation="区教育局", reason="检查", lane="a")
    check(r.status == 200 and r.json()["temp_centi"] == 3670 and
          r.json()["temp_source"] == "lane", "temperature from the lane: %s" % r.body)
    visitor_refusals(s, c)
    r = g.get("/api/v1/visitors")
    j = r.json() if r.status == 200 else {}
    check(j.get("figures") == {"registered": 3, "admitted": 2, "refused": 1},
          "the day's visitor figures: %r" % j.get("figures"))
    vs = j.get("visitors", [])
    check(len(vs) == 3 and all(v["temp_centi"] is None for v in vs)
          and vs[1]["phone"] == "139****1111", "the gate role sees outcomes, masked phones")
    r = n.get("/api/v1/visitors?refused=yes")
    vs = r.json()["visitors"] if r.status == 200 else []
    check(len(vs) == 1 and vs[0]["name"] == "刘女士" and vs[0]["temp_centi"] == 3780,
          "the nurse's list: the refused visitor with the temperature: %r" % vs)
    check(s.q("SELECT phone FROM visitors WHERE name = '刘女士'") == [("13900001111",)],
          "the phone is stored whole (the host may call back)")
    r = c["teach1"].get("/api/v1/visitors")
    check(r.status == 403, "a teacher does not see visitors: %d" % r.status)


def scenario(s, clients, sim, dm):
    observation(s, clients, sim, dm)
    visitors(s, clients, sim)


def main():
    wa.run_school(prepare, lambda s, sim: None, scenario)


if __name__ == "__main__":
    main()
    gslib.finish()
