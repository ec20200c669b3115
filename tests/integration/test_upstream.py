"""Upstream to the bureau over real HTTPS (issue 5), driven by the CLI: a scripted
school day (roster, gate rows as the gate writes them, the nurse's commands) is sent
with `gatescreen upload --now` to a real HTTPS receiver on 127.0.0.1 (certificates made
now with openssl). Checks: the summary's figures and the notices' content (keyed
pseudonyms, checked against HMAC-SHA-256 of the id), the headers (Idempotency-Key,
X-Gatescreen-Kind, bearer token), every payload valid against config/schema/, in
order, once per key; no new revision without new facts, a new one after; a 400 parked
with its message (`gatescreen outbox`), not retried, later notices still sent (the
day's later revisions wait behind it), and sent again by `upload --retry-parked`;
`--date`; names only with identify = names.
The daemon's part is in test_upstream_daemon.py, TLS failures in test_upstream_tls.py.

Needs the python3 module jsonschema (Debian python3-jsonschema); never skipped."""
import datetime
import json
import os
import subprocess
import sys
from zoneinfo import ZoneInfo

import https_receiver as hr

hr.need_jsonschema()

import gslib  # noqa: E402
from gslib import check  # noqa: E402

CODE = "XC0412"
ZONE_NAME, NOW = gslib.school_zone(15)  # every window of the day has closed
ZONE = ZoneInfo(ZONE_NAME)
TODAY = NOW.date()
DAY = TODAY.isoformat()
YESTERDAY = (TODAY - datetime.timedelta(days=1)).isoformat()
PATH = "/bureau/v1/upload"


def config(rx, d, certs, identify="pseudonym"):
    return """\
[school]
code = %s
name = 测试学校
timezone = %s

[ledger]
database = ledger.db

[windows]
morning = 07:00-08:30
noon = 11:30-13:00

%s
[bus sim]
tcp = 127.0.0.1:%d

[lane east-1]
gate = 东门
identity = device
indicator = console

[device ir-1]
bus = sim
unit = 1
lane = east-1
""" % (CODE, ZONE_NAME, hr.upstream_section(rx.url(PATH), d, certs, identify=identify),
       gslib.free_port())


def at_ms(hhmm):
    return gslib.local_ms(ZONE, TODAY, hhmm)


def gate(db, who, hhmm, body, **kw):
    """One lane decision of today, written as ledger_gate.c does (gslib.gate_row)."""
    gslib.gate_row(db, ZONE, TODAY, who, hhmm, body, **kw)


def S(n):
    return "S%d" % (2020000 + n)  # S1..S15 in 一年级1班, S16..S30 in 二年级1班


def run(conf, *args):
    r = gslib.cli(conf, *args)
    out = (r.stdout if r.returncode == 0 else r.stderr or r.stdout).strip().splitlines()
    check(r.returncode == 0, "gatescreen %s: status %d %s" % (" ".join(args), r.returncode,
                                                             out[0][:160] if out else ""))
    return r


def get(doc, path):
    for k in path.split("."):
        doc = doc[int(k)] if isinstance(doc, list) else doc[k]
    return doc


class Day:
    def __init__(self):
        self.dir, _ = gslib.scratch("")
        self.certs = hr.make_certs(os.path.join(self.dir, "certs"))
        self.rx = hr.Receiver(os.path.join(self.dir, "receiver"), self.certs["server"],
                              self.certs["server.key"])
        self.key, self.token = hr.write_secrets(self.dir)
        self.conf = os.path.join(self.dir, "gatescreen.conf")
        self.write_config()
        self.db = os.path.join(self.dir, "ledger.db")
        self.names_ok = []

    def write_config(self, identify="pseudonym"):
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(config(self.rx, self.dir, self.certs, identify))

    def outbox(self):
        return hr.outbox_rows(gslib.db_query, self.db)

    def people(self):
        return gslib.db_query(self.db, "SELECT external_id, name FROM people")

    def docs(self, key):
        return [hr.doc_of(e) for e in self.rx.accepted() if e["key"] == key]


def scripted_day(t):
    roster = os.path.join(t.dir, "roster.csv")
    out = subprocess.run([sys.executable, gslib.MAKE_ROSTER, "--students", "30", "--staff", "4",
                          "--classes", "2", "--seed", "3"], capture_output=True, check=True).stdout
    with open(roster, "wb") as f:
        f.write(out)
    run(t.conf, "roster", "import", roster)
    for n in range(1, 11):
        gate(t.db, S(n), "07:%02d" % (10 + n), 3640)
    gate(t.db, S(11), "07:40", 3780, outcome="fever", flag=True)
    gate(t.db, None, "07:41", 3790, outcome="unknown_card", flag=True)
    run(t.conf, "recheck", S(11), "38.2", "--instrument", "ear")  # referral 1: a notice
    run(t.conf, "referral", S(11), "--outcome", "hospital")
    for n in (26, 27, 28):  # three illness absences in 二年级1班: a cluster alert, a notice
        run(t.conf, "absence", S(n), "--cause", "illness", "--symptoms", "fever,cough")
    queued = t.outbox()
    check(all(v[2] == "pending" for v in queued.values()) and t.rx.received() == [],
          "nothing is sent before upload (no daemon here); queued so far: %s" % sorted(queued))


SUMMARY_WANT = {
    "schema": "gatescreen.summary/2", "school.code": CODE, "school.name": "测试学校",
    "date": DAY, "revision": 1,
    "population.student": 30, "population.total": 34, "expected": 30, "on_leave": 0,
    "checks.morning.done": 11, "checks.morning.expected": 30, "checks.morning.all": 11,
    "checks.morning.coverage": 0.366, "checks.noon.done": 0, "checks.noon.coverage": 0.0,
    "fevers.screens": 2, "fevers.confirmed": 1, "fevers.cleared": 0, "fevers.open": 1,
    "referrals.opened": 1, "referrals.by_outcome.hospital": 1,
    "referrals.by_outcome.sent_home": 0, "referrals.pending": 0,
    "absences.all": 3, "absences.by_cause.illness": 3, "absences.unexplained": 0,
    "absences.by_symptom.fever": 3, "absences.by_symptom.cough": 3,
    "absences.by_symptom.rash": 0, "returns.certificates_recorded": 0,
    "alerts.opened": 1, "alerts.open_count": 1, "alerts.open.0.class": "二年级1班",
    "alerts.open.0.rule": "day", "alerts.open.0.day": DAY, "alerts.open.0.cases": 3,
    "devices.0.lane": "east-1", "devices.0.gate": "东门", "devices.0.availability": None,
}


def first_upload(t):
    r = run(t.conf, "upload", "--now")
    keys = ["%s/referral/1" % CODE, "%s/alert/1" % CODE, "%s/%s/1" % (CODE, DAY)]
    t.rx.wait_keys(keys, 5)
    check(t.rx.accepted_keys() == keys,
          "upload --now: the notices, then the summary, revision 1: %s" % t.rx.accepted_keys())
    ob = t.outbox()
    check(sorted(ob, key=lambda k: ob[k][0]) == keys and
          all(ob[k][2] == "sent" for k in keys),
          "outbox: the three rows in that order, all sent: %s" % {k: v[2] for k, v in ob.items()})
    summary = (t.docs(keys[2]) or [{}])[0]
    for path, value in SUMMARY_WANT.items():
        try:
            got = get(summary, path)
        except (KeyError, IndexError, TypeError):
            got = "(missing)"
        check(got == value and type(got) is type(value),
              "summary %s = %r%s" % (path, value, "" if got == value else " (got %r)" % (got,)))
    stored = gslib.db_query(t.db, "SELECT revision, body FROM summaries WHERE day = ?", (DAY,))
    check(len(stored) == 1 and stored[0][0] == 1 and
          hr.facts(json.loads(stored[0][1])) == hr.facts(summary),
          "the summaries table holds revision 1, as sent")
    r = gslib.cli(t.conf, "summary")
    printed = json.loads(r.stdout) if r.returncode == 0 else {}
    check(hr.facts(printed) == hr.facts(summary) and printed.get("revision") == 1,
          "`gatescreen summary` prints what was sent (revision 1)")

    ref = (t.docs(keys[0]) or [{}])[0]
    want = {"type": "referral_opened", "notice_id": keys[0], "day": DAY,
            "person": {"pseudonym": hr.pseudonym(t.key, S(11)), "class": "一年级1班"},
            "screen_temperature": 37.8, "threshold": 37.3, "recheck_temperature": 38.2,
            "recheck_instrument": "ear"}
    diff = {k: ref.get(k) for k, v in want.items() if ref.get(k) != v}
    check(not diff, "referral notice: HMAC-SHA-256 pseudonym of %s under the school's key, "
          "class (no kind: it would name teachers and staff), temperatures%s" % (S(11), "" if not diff else " (differs: %r)" % diff))
    alert = (t.docs(keys[1]) or [{}])[0]
    cases = sorted((c.get("person", {}).get("pseudonym"), c.get("case_kind"), c.get("day"))
                   for c in alert.get("cases", []))
    want_cases = sorted((hr.pseudonym(t.key, S(n)), "illness_absence", DAY) for n in (26, 27, 28))
    check(alert.get("type") == "cluster_alert" and alert.get("class") == "二年级1班" and
          alert.get("rule") == "day" and alert.get("case_count") == 3 and cases == want_cases,
          "alert notice: 二年级1班, rule day, the 3 cases by pseudonym: %s" %
          {k: alert.get(k) for k in ("type", "class", "rule", "case_count")})
    heads = {e["key"]: e["headers"].get("x-gatescreen-kind") for e in t.rx.received()}
    check([heads.get(k) for k in keys] == ["notice", "notice", "summary"],
          "X-Gatescreen-Kind: notice, notice, summary")


def revisions(t):
    before = len(t.rx.received())
    run(t.conf, "upload", "--now")
    check(len(t.rx.received()) == before and
          gslib.db_query(t.db, "SELECT max(revision) FROM summaries WHERE day = ?", (DAY,)) ==
          [(1,)], "upload again with no new facts: no new revision, nothing sent")
    run(t.conf, "absence", S(29), "--cause", "personal")
    run(t.conf, "upload", "--now")
    key = "%s/%s/2" % (CODE, DAY)
    doc = (t.docs(key) or [{}])[0]
    check(doc.get("revision") == 2 and get(doc, "absences.all") == 4 and
          get(doc, "absences.by_cause.personal") == 1,
          "a new fact (a personal absence), upload: revision 2 with 4 absences")


def parked(t):
    message = "school %s: revision 3 refused (test: field check failed)" % CODE
    key3 = "%s/%s/3" % (CODE, DAY)
    t.rx.set("reject", status=400, message=message, match=key3)
    run(t.conf, "absence", S(30), "--cause", "other")
    r = gslib.cli(t.conf, "upload", "--now")
    ob = t.outbox()
    row = ob.get(key3)
    check(row is not None and row[2] == "parked" and message in (row[4] or ""),
          "400: the summary is parked with the server's message: %r" % (row,))
    r = gslib.cli(t.conf, "outbox")
    lines = [ln for ln in r.stdout.splitlines() if key3 in ln]
    check(r.returncode == 0 and lines and "parked" in r.stdout and message in r.stdout,
          "`gatescreen outbox` shows it parked with the message: %r" % (lines[:1],))
    for k in ("%s/referral/1" % CODE, "%s/%s/2" % (CODE, DAY)):
        check(k in r.stdout, "`gatescreen outbox` lists %s" % k)
    run(t.conf, "upload", "--now")
    tries = [e for e in t.rx.received() if e["key"] == key3]
    check(len(tries) == 1, "a parked document is not retried by upload --now (%d tries)"
          % len(tries))

    # Later documents still go: a new fever, rechecked, opens referral 2.
    gate(t.db, S(12), "08:05", 3810, outcome="fever", flag=True)
    run(t.conf, "recheck", S(12), "38.1", "--instrument", "axillary")
    r = run(t.conf, "upload", "--now")
    key4 = "%s/%s/4" % (CODE, DAY)
    check(t.rx.accepted_keys()[-1:] == ["%s/referral/2" % CODE],
          "a notice queued after the parked summary is sent: %s" % t.rx.accepted_keys()[-1:])
    check((t.outbox().get(key3) or ("",) * 3)[2] == "parked", "revision 3 stays parked")
    check((t.outbox().get(key4) or ("",) * 3)[2] == "pending" and
          "1 summary waits behind a parked revision of the same day" in r.stdout,
          "revision 4 of the same day waits behind it (the day's order), and upload says so")

    t.rx.set("ok")
    run(t.conf, "upload", "--retry-parked", "--now")
    check(t.rx.wait_keys([key3], 3) and t.outbox().get(key3, ("",) * 3)[2] == "sent",
          "upload --retry-parked --now, the receiver fixed: revision 3 delivered and sent")
    check(t.rx.accepted_keys()[-2:] == [key3, key4],
          "then revision 4: the day's revisions in order: %s" % t.rx.accepted_keys()[-2:])
    check(len([e for e in t.rx.received() if e["key"] == key3]) == 2,
          "revision 3 was sent exactly twice (the 400, then the retry on request)")


def other_day(t):
    run(t.conf, "upload", "--date", YESTERDAY, "--now")
    key = "%s/%s/1" % (CODE, YESTERDAY)
    doc = (t.docs(key) or [{}])[0]
    check(doc.get("date") == YESTERDAY and doc.get("revision") == 1 and
          get(doc, "checks.morning.all") == 0,
          "upload --date %s --now: that day's summary, revision 1 (key %s)" % (YESTERDAY, key))


def names(t):
    """identify = names: the third confirmed fever in 一年级1班 (S11, S12, now S13) opens
    referral 3 and a cluster alert, both naming people; the summary still names nobody."""
    t.write_config(identify="names")
    gate(t.db, S(13), "08:10", 3850, outcome="fever", flag=True)
    run(t.conf, "recheck", S(13), "38.6", "--instrument", "oral")
    run(t.conf, "upload", "--now")
    ref_key, alert_key = "%s/referral/3" % CODE, "%s/alert/2" % CODE
    t.names_ok += [ref_key, alert_key]
    who = dict(t.people())
    person = ((t.docs(ref_key) or [{}])[0].get("person")) or {}
    check(person.get("external_id") == S(13) and person.get("name") == who.get(S(13)) and
          person.get("class") == "一年级1班",
          "identify = names: the referral names %s %s: %r" % (S(13), who.get(S(13)), person))
    alert = (t.docs(alert_key) or [{}])[0]
    named = sorted((c.get("person", {}).get("external_id"), c.get("person", {}).get("name"))
                   for c in alert.get("cases", []))
    check(alert.get("class") == "一年级1班" and alert.get("case_count") == 3 and
          named == sorted((S(n), who.get(S(n))) for n in (11, 12, 13)),
          "identify = names: the alert names its 3 cases: %r" % named)
    summary = [e for e in t.rx.accepted() if e["key"].startswith("%s/%s/" % (CODE, DAY))]
    check(summary and hr.doc_of(summary[-1]).get("revision") == 5,
          "the summary after it is revision 5 (and names nobody: checked below)")


def names_withdrawn(t):
    """A notice queued while identify = names, still waiting when the school goes back
    to pseudonyms, is parked rather than sent with names."""
    gate(t.db, S(14), "08:20", 3880, outcome="fever", flag=True)
    run(t.conf, "recheck", S(14), "38.7", "--instrument", "ear")
    run(t.conf, "upload")  # queued with names, not sent
    key = "%s/referral/4" % CODE
    t.write_config(identify="pseudonym")
    before = len(t.rx.received())
    r = gslib.cli(t.conf, "upload", "--now")
    row = t.outbox().get(key)
    check(row is not None and row[2] == "parked" and "identify = names" in (row[4] or ""),
          "a notice built with names, queued before identify went back to pseudonym, is "
          "parked with the reason: %r" % (row,))
    sent = [e for e in t.rx.received()[before:] if e["key"] == key]
    check(sent == [] and r.returncode != 0, "and not sent (upload --now exits %d)" % r.returncode)


def main():
    t = Day()
    try:
        scripted_day(t)
        first_upload(t)
        revisions(t)
        parked(t)
        other_day(t)
        names(t)
        keys = t.rx.accepted_keys()
        ob = t.outbox()
        check(ob and set(keys) == set(ob) and all(v[2] == "sent" for v in ob.values()),
              "in the end every outbox row is sent and the receiver has each of them")
        hr.check_once_each(t.rx, check, "the whole day")
        hr.check_revisions(gslib.db_query, t.db, check, "today and yesterday")
        hr.check_requests(t.rx, check, gslib.SOURCE, t.people(), CODE, token=t.token,
                          names_ok=t.names_ok, path=PATH)
        names_withdrawn(t)
    finally:
        t.rx.stop()
    gslib.finish()


if __name__ == "__main__":
    main()
