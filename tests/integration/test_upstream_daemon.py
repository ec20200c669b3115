"""Upstream to the bureau with gatescreend running (issue 5): gatescreen-sim → daemon →
a real HTTPS receiver on 127.0.0.1. The morning window has closed when the daemon
starts, so the day's summary is queued and sent at start; the nurse's recheck and
absences queue notices that the daemon sends at once. Then the delivery cases: a
bureau slower than the timeout (the lanes keep deciding meanwhile; retried); 500s
retried with backoff; the bureau down for a while and the daemon restarted meanwhile
(everything arrives afterwards, each kind in order, once per key); the daemon killed in the
middle of a send (the same key sent again, no second revision for the same content);
a 400 parked with its message (outbox and daemon log) until `upload --retry-parked`.
Every payload is checked against the schemas; nobody is named.

Needs the python3 module jsonschema (Debian python3-jsonschema); never skipped."""
import datetime
import json
import os
import signal
import time

import https_receiver as hr

hr.need_jsonschema()

import gslib  # noqa: E402
from gslib import check  # noqa: E402

CODE = "GD07"
PATH = "/api/gatescreen"
ROSTER = """\
external_id,kind,name,grade,class,card,active
S1,student,欧阳明轩,一年级,一年级1班,1001,1
S2,student,司马若曦,一年级,一年级1班,1002,1
S3,student,诸葛天佑,一年级,一年级1班,1003,1
S4,student,上官梓涵,一年级,一年级1班,1004,1
S5,student,东方雨萱,一年级,一年级1班,1005,1
S6,student,皇甫嘉怡,一年级,一年级1班,1006,1
S7,student,买买提·艾力,一年级,一年级2班,1007,1
S8,student,阿依古丽·吐尔逊,一年级,一年级2班,1008,1
T1,teacher,慕容老师,,一年级1班,2001,1
"""


def config(zone, now, rx_url, sim_port, d, certs, evening=False):
    """Morning closed 30 min ago; noon and the day's end still to come, or (evening)
    both past too."""
    m = lambda minutes: gslib.hhmm(now + datetime.timedelta(minutes=minutes))  # noqa: E731
    return """\
[school]
code = %s
name = 许昌市测试小学
timezone = %s

[ledger]
database = ledger.db

[daemon]
indicator_log = lights.log

[windows]
morning = %s-%s
noon = %s-%s
absence_grace = 2h
days = mon-sun

[screening]
hold_admit = 200ms
hold_fever = 300ms
buzzer = 100ms

%s
[bus gw]
tcp = 127.0.0.1:%d
response_timeout = 200ms
retry_max = 1s

[lane a]
gate = 南门
indicator = test

[device ir-a]
bus = gw
unit = 1
poll = 50ms
lane = a
""" % (CODE, zone, m(-40), m(-30), m(-20 if evening else 30), m(-10 if evening else 40),
       hr.upstream_section(rx_url, d, certs, day_end=m(-5 if evening else 90), timeout="4s"),
       sim_port)


class School:
    def __init__(self):
        self.zone, self.now = gslib.school_zone(9)
        self.today = self.now.strftime("%Y-%m-%d")
        self.dir, _ = gslib.scratch("")
        self.certs = hr.make_certs(os.path.join(self.dir, "certs"))
        self.rx = hr.Receiver(os.path.join(self.dir, "receiver"), self.certs["server"],
                              self.certs["server.key"])
        self.key, self.token = hr.write_secrets(self.dir)
        self.conf = os.path.join(self.dir, "gatescreen.conf")
        self.sim_port = gslib.free_port()
        self.write_config()
        self.db = os.path.join(self.dir, "ledger.db")
        self.lights = os.path.join(self.dir, "lights.log")
        self.dm = self.sim = None

    def write_config(self, evening=False):
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(config(self.zone, self.now, self.rx.url(PATH), self.sim_port, self.dir,
                           self.certs, evening))

    def summary_key(self, rev):
        return "%s/%s/%d" % (CODE, self.today, rev)

    def outbox(self):
        return hr.outbox_rows(gslib.db_query, self.db)

    def latest_summary(self):
        """The key of today's highest summary revision in the outbox."""
        revs = [int(k.rsplit("/", 1)[1]) for k in self.outbox()
                if k.startswith("%s/%s/" % (CODE, self.today))]
        return self.summary_key(max(revs)) if revs else "(no summary queued)"

    def row(self, key):
        return self.outbox().get(key) or (None, None, None, 0, "")

    def decisions(self):
        return [ln for ln in gslib.read_lights(self.lights) if ln.get("latency_us", "-1") != "-1"]

    def arrive(self, card, temp, outcome):
        """A person at lane a; returns seconds until the lane showed its decision."""
        n = len(self.decisions())
        t0 = time.monotonic()
        self.sim.cmd("arrive ir-a temp=%s card=%d" % (temp, card))
        gslib.wait_until(lambda: len(self.decisions()) > n, 5)
        took = time.monotonic() - t0
        got = self.decisions()[n:]
        check(got and got[0].get("outcome") == outcome,
              "card %d %s °C at the gate: %s in %.2f s" % (card, temp,
                                                           got[0].get("outcome") if got else
                                                           "no decision", took))
        return took

    def cli(self, *args):
        r = gslib.cli(self.conf, *args)
        check(r.returncode == 0, "gatescreen %s: %s" % (" ".join(args), (
            r.stdout.strip() if r.returncode == 0 else r.stderr.strip()).splitlines()[:1]))
        return r

    def start(self, what):
        self.dm = gslib.Daemon(self.conf)
        check(self.dm.wait_for("ready:", 15), "%s: gatescreend ready" % what)

    def stop(self, sig=signal.SIGTERM, what="stopped"):
        rc, took = self.dm.stop(sig)
        if sig == signal.SIGTERM:
            check(rc == 0 and took < 8, "%s: exit %d in %.1f s" % (what, rc, took))


def at_start(s):
    s.cli("roster", "import", os.path.join(s.dir, "roster.csv"))
    s.sim = gslib.Sim(s.conf)
    check(s.sim.wait_ready(), "simulator ready")
    s.start("first start, after the morning window closed")
    k1 = s.summary_key(1)
    check(s.rx.wait_keys([k1], 15), "the morning window had closed: the summary %s is sent at "
          "start without anyone asking" % k1)
    doc = hr.doc_of(([e for e in s.rx.accepted() if e["key"] == k1] or [{}])[0]) or {}
    check(doc.get("date") == s.today and doc.get("revision") == 1 and
          doc.get("population", {}).get("student") == 8 and
          doc.get("checks", {}).get("morning", {}).get("expected") == 8,
          "its figures: today, revision 1, 8 students expected")
    time.sleep(1.5)
    check(s.rx.accepted_keys() == [k1], "nothing else is sent at start (noon and the day's end "
          "are still to come): %s" % s.rx.accepted_keys())


def notices(s):
    gslib.wait_until(lambda: "device ir-a: state ok" in s.dm.text(), 5)
    s.arrive(1002, "38.40", "fever")
    s.cli("recheck", "S2", "38.4", "--instrument", "ear")
    key = "%s/referral/1" % CODE
    t0 = time.monotonic()
    check(s.rx.wait_keys([key], 10), "the daemon sends the referral notice the nurse's recheck "
          "queued (%.1f s)" % (time.monotonic() - t0))
    doc = hr.doc_of(([e for e in s.rx.accepted() if e["key"] == key] or [{}])[0]) or {}
    check((doc.get("person") or {}).get("pseudonym") == hr.pseudonym(s.key, "S2") and
          doc.get("screen_temperature") == 38.4 and doc.get("recheck_temperature") == 38.4,
          "referral notice: S2 by pseudonym, screen and recheck 38.4: %r" % doc.get("person"))


def slow_bureau(s):
    s.rx.set("ok", delay=7)  # longer than [upstream] timeout = 4s
    s.cli("upload")
    k2 = s.summary_key(2)
    check(s.rx.wait(lambda r: any(e["key"] == k2 for e in r.received()), 10),
          "upload queued revision 2 (new facts: a fever and a referral); the daemon sends it")
    took = s.arrive(1003, "36.50", "admit")
    check(took < 1.0, "while the upload hangs on a slow bureau the lane decides at once (%.2f s)"
          % took)
    check(gslib.wait_until(lambda: "time" in (s.row(k2)[4] or "").lower(), 8),
          "the request times out after 4 s: pending with the error %r" % (s.row(k2)[4],))
    s.rx.set("ok")
    check(s.rx.wait(lambda r: s.row(k2)[2] == "sent", 12), "retried and sent once the bureau "
          "answers in time")
    s.rx.wait(lambda r: r.idle(), 10)  # the slow first request is answered too, and is a repeat


def server_errors(s):
    s.rx.set("fail", count=3, status=500)
    for who in ("S4", "S5", "S6"):
        s.cli("absence", who, "--cause", "illness", "--symptoms", "fever")
    key = "%s/alert/1" % CODE
    check(s.rx.wait_keys([key], 20), "three illness absences in 一年级1班: the cluster alert "
          "notice arrives in the end")
    tries = [e for e in s.rx.answered() if e["key"] == key]
    check([e["status"] for e in tries] == [500, 500, 500, 200],
          "after three 500s, the fourth try is taken: %s" % [e["status"] for e in tries])
    sent = [e["t"] for e in s.rx.received() if e["key"] == key]
    gaps = [round(b - a, 2) for a, b in zip(sent, sent[1:])]
    check(len(gaps) == 3 and all(0.75 <= g <= 2 * 1.2 + 1 for g in gaps) and gaps[1] > gaps[0],
          "retried with backoff from retry_min 1s doubling to retry_max 2s (jitter ±20%%): "
          "gaps %s s" % gaps)


def by_kind(keys):
    """The keys of notices and of summaries, each in the order given."""
    notice = lambda k: "/referral/" in k or "/alert/" in k  # noqa: E731
    return [k for k in keys if notice(k)], [k for k in keys if not notice(k)]


def down_and_restart(s):
    s.rx.set("down")
    s.arrive(1007, "38.90", "fever")
    s.cli("recheck", "S7", "39.0", "--instrument", "oral")
    s.cli("upload")
    ref, k3 = "%s/referral/2" % CODE, s.latest_summary()
    check(gslib.wait_until(lambda: s.row(ref)[3] >= 2 and s.row(ref)[4], 10),
          "the bureau is down: tried again and again, pending with an error: %r" % (s.row(ref),))
    out = gslib.cli(s.conf, "outbox").stdout
    check(ref in out and k3 in out and "pending" in out and (s.row(ref)[4] or "?") in out,
          "`gatescreen outbox` lists both as pending, with the last error")
    s.stop(what="stopped while the bureau is down")
    s.start("restarted, the bureau still down")
    time.sleep(2)
    check(not [e for e in s.rx.received() if e["key"] in (ref, k3)],
          "nothing got through while down")
    waiting = sorted((k for k, v in s.outbox().items() if v[2] == "pending"),
                     key=lambda k: s.outbox()[k][0])
    check(waiting[:2] == [ref, k3], "waiting after the restart, in order: %s" % waiting)
    s.rx.set("ok")
    check(s.rx.wait_keys(waiting, 12), "the bureau is back: all %d arrive" % len(waiting))
    keys = [k for k in s.rx.accepted_keys() if k in waiting]
    check(set(keys) == set(waiting) and by_kind(keys) == by_kind(waiting),
          "each kind in the outbox's order (issue 16: notices and summaries each keep their "
          "own order): %s" % keys)
    check(all(len([e for e in s.rx.received() if e["key"] == k]) == 1 for k in waiting),
          "each sent exactly once")


def killed_mid_send(s):
    s.rx.set("ok", delay=2.5)  # the bureau takes the document, but answers late
    s.cli("absence", "S8", "--cause", "personal")
    s.cli("upload")
    k4 = s.latest_summary()
    check(s.rx.wait(lambda r: any(e["key"] == k4 for e in r.received()), 10),
          "%s is being sent" % k4)
    s.dm.stop(signal.SIGKILL)
    s.rx.set("ok")
    time.sleep(2.8)  # the bureau has committed revision 4 meanwhile
    check(s.row(k4)[2] == "pending", "killed in the middle of the send: revision 4 still "
          "pending in the ledger (%r)" % (s.row(k4)[2],))
    s.start("restarted after SIGKILL mid-send")
    check(gslib.wait_until(lambda: s.row(k4)[2] == "sent", 12),
          "after the restart revision 4 is sent again under the same key, and is sent")
    again = [e for e in s.rx.answered() if e["key"] == k4]
    check([e["accepted"] for e in again] == [True, False] and again[1]["duplicate"] and
          not again[1]["conflict"], "the bureau got the same document twice and took it once")
    time.sleep(1)
    rev4 = int(k4.rsplit("/", 1)[1]) if "/" in k4 else 0
    rows = gslib.db_query(s.db, "SELECT revision, body FROM summaries WHERE day = ? AND "
                                "revision >= ? ORDER BY revision", (s.today, rev4))
    docs = [(r, hr.facts(json.loads(b))) for r, b in rows]
    same = [r for r, d in docs[1:] if docs and d == docs[0][1]]
    changed = sorted({k for _, d in docs[1:] for k in d if docs and d[k] != docs[0][1].get(k)})
    check(docs and not same, "no second revision with the same content after the restart "
          "(revisions since %s: %s%s)" % (k4, [r for r, _ in docs],
                                          "; later ones differ in %s" % changed if changed else ""))


def parked(s):
    message = "notice %s/referral/3 refused: pseudonym key not registered (test)" % CODE
    key = "%s/referral/3" % CODE
    s.rx.set("reject", status=400, message=message, match=key)
    s.arrive(2001, "38.10", "fever")
    s.cli("recheck", "T1", "38.3", "--instrument", "axillary")
    check(gslib.wait_until(lambda: s.row(key)[2] == "parked", 10),
          "400: the notice is parked: %r" % (s.row(key),))
    check(message in (s.row(key)[4] or ""), "with the server's message as its last error")
    check(s.dm.wait_for(message, 3), "the daemon logs the server's message")
    out = gslib.cli(s.conf, "outbox").stdout
    check(key in out and "parked" in out and message in out,
          "`gatescreen outbox` shows it parked with the message")
    time.sleep(3)
    check(len([e for e in s.rx.received() if e["key"] == key]) == 1,
          "parked: not retried by the daemon on its own")
    s.rx.set("ok")
    s.cli("upload", "--retry-parked")
    check(s.rx.wait_keys([key], 10) and gslib.wait_until(lambda: s.row(key)[2] == "sent", 5),
          "upload --retry-parked, the bureau fixed: the daemon sends it")


def evening(s):
    """Noon and the day's end have passed too (a restart on a config that says so: the
    windows are whole minutes, too slow to wait for): a new fact before, so one new
    revision is queued and sent by the daemon, with the noon checks in it."""
    s.cli("absence", "S1", "--cause", "other", "--note", "家中有事")
    before = s.latest_summary()
    s.stop(what="stopped for the evening")
    s.write_config(evening=True)
    s.start("restarted after noon and the day's end")
    check(s.dm.wait_for("day %s:" % s.today, 10), "the day's end is handled at start")
    check(gslib.wait_until(lambda: s.latest_summary() != before and
                           s.latest_summary() in s.rx.accepted_keys(), 10),
          "the window close and the day's end sent a new revision without `upload`: %s -> %s"
          % (before, s.latest_summary()))
    doc = hr.doc_of(([e for e in s.rx.accepted() if e["key"] == s.latest_summary()] or
                     [{}])[-1]) or {}
    check((doc.get("absences") or {}).get("by_cause", {}).get("other") == 1 and
          isinstance((doc.get("checks") or {}).get("noon"), dict),
          "with the new absence and the noon window: %r" % (doc.get("checks") or {}).get("noon"))
    time.sleep(1.5)
    revs = [k for k in s.outbox() if k.startswith("%s/%s/" % (CODE, s.today))]
    check(int(s.latest_summary().rsplit("/", 1)[1]) == int(before.rsplit("/", 1)[1]) + 1,
          "exactly one new revision for the three events (%d summary rows)" % len(revs))


def main():
    s = School()
    with open(os.path.join(s.dir, "roster.csv"), "w", encoding="utf-8") as f:
        f.write(ROSTER)
    try:
        at_start(s)
        notices(s)
        slow_bureau(s)
        server_errors(s)
        down_and_restart(s)
        killed_mid_send(s)
        parked(s)
        evening(s)
        ob = s.outbox()
        check(ob and all(v[2] == "sent" for v in ob.values()) and
              set(ob) == set(s.rx.accepted_keys()),
              "in the end every outbox row is sent and the bureau has each: %d rows" % len(ob))
        order = sorted((k for k in ob if k != "%s/referral/3" % CODE), key=lambda k: ob[k][0])
        taken = [k for k in s.rx.accepted_keys() if k in order]
        check(len(taken) == len(order) and by_kind(taken) == by_kind(order),
              "the bureau took each kind in the outbox's order (the parked one aside): %s"
              % taken)
        hr.check_once_each(s.rx, check, "the whole day")
        hr.check_revisions(gslib.db_query, s.db, check, "the daemon's revisions")
        hr.check_requests(s.rx, check, gslib.SOURCE,
                          gslib.db_query(s.db, "SELECT external_id, name FROM people"), CODE,
                          token=s.token, path=PATH)
        s.stop(what="final stop")
    finally:
        if s.dm and s.dm.proc.poll() is None:
            s.dm.stop(signal.SIGKILL)
        if s.sim:
            s.sim.kill()
        s.rx.stop()
    gslib.finish()


if __name__ == "__main__":
    main()
