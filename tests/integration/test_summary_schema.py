"""The documents for the bureau against their JSON Schemas (config/schema/): the real
`gatescreen summary` on a scripted ledger (figures, no names, the latest stored
revision, writes nothing, bad usage), and the notices the unit test builds
(tests/unit/test_summary.c writes them into GS_DOCS_DIR). The schemas must be
strict: documents with a field too many or a wrong value are refused.

Needs the python3 module jsonschema (Debian: python3-jsonschema). Nothing is skipped:
without it the test fails."""
import os
import subprocess
import sys


def need_jsonschema():
    """The python3 first on PATH may be another one (pyenv) without the module: then
    run again with Debian's, which has it when python3-jsonschema is installed."""
    try:
        import jsonschema  # noqa: F401
        from jsonschema import Draft202012Validator  # noqa: F401
        return
    except ImportError:
        pass
    alt = "/usr/bin/python3"
    if (os.path.realpath(sys.executable) != os.path.realpath(alt) and os.path.exists(alt) and
            subprocess.run([alt, "-c", "from jsonschema import Draft202012Validator"],
                           capture_output=True).returncode == 0):
        os.execv(alt, [alt] + sys.argv)
    print("FAIL - the python3 module jsonschema (4.0 or later, for JSON Schema draft 2020-12) "
          "is missing for %s and %s; install it: apt-get install python3-jsonschema"
          % (sys.executable, alt))
    sys.exit(1)


need_jsonschema()

import copy  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

from jsonschema import Draft202012Validator  # noqa: E402

import gslib  # noqa: E402
from gslib import check  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")  # gslib.BASE_CONFIG's [school] timezone
TODAY = datetime.datetime.now(ZONE).date()
DAY = TODAY.isoformat()
YESTERDAY = (TODAY - datetime.timedelta(days=1)).isoformat()
UNIT_TEST = os.path.join(gslib.BUILD, "tests", "test_summary")
TABLES = ("people", "cards", "lanes", "readings", "checks", "flags", "referrals", "absences",
          "leaves", "certificates", "health_status_history", "alerts", "alert_cases",
          "day_figures", "summaries", "outbox", "audit_log")


def schema(name):
    with open(os.path.join(gslib.SOURCE, "config/schema/%s.schema.json" % name),
              encoding="utf-8") as f:
        s = json.load(f)
    Draft202012Validator.check_schema(s)
    return Draft202012Validator(s)


SUMMARY = schema("summary")
SUMMARY_V1 = schema("summary-v1")  # frozen: the collector still accepts it
NOTICE = schema("notice")


def problems(validator, doc):
    return ["%s: %s" % ("/".join(map(str, e.absolute_path)), e.message)
            for e in validator.iter_errors(doc)]


def valid(validator, doc, what):
    p = problems(validator, doc)
    check(not p, "%s is valid against its schema%s" % (what, "" if not p else ": " + "; ".join(p)))


def db_write(db, sql, args=()):
    con = sqlite3.connect(db)
    with con:
        con.execute(sql, args)
    con.close()


def at_ms(hhmm):
    return gslib.local_ms(ZONE, TODAY, hhmm)


def gate(db, who, hhmm, body, **kw):
    """One lane decision of today, written as ledger_gate.c does (gslib.gate_row)."""
    gslib.gate_row(db, ZONE, TODAY, who, hhmm, body, **kw)


def S(n):
    return "S%d" % (2020000 + n)  # S1..S15 in 一年级1班, S16..S30 in 二年级1班


def must(conf, *args):
    r = gslib.cli(conf, *args)
    if r.returncode != 0:
        check(False, "%s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def scripted_day():
    d, conf = gslib.scratch()
    db = os.path.join(d, "ledger.db")
    roster = os.path.join(d, "roster.csv")
    out = subprocess.run([sys.executable, gslib.MAKE_ROSTER, "--students", "30", "--staff", "4",
                          "--classes", "2", "--seed", "3"], capture_output=True, check=True).stdout
    with open(roster, "wb") as f:
        f.write(out)
    check(gslib.cli(conf, "roster", "import", roster).returncode == 0, "roster imported")
    for n in range(1, 11):
        gate(db, S(n), "07:%02d" % (10 + n), 3640)
    gate(db, S(11), "07:40", 3780, outcome="fever", flag=True)
    gate(db, None, "07:41", 3790, outcome="unknown_card", flag=True)
    must(conf, "recheck", S(11), "38.2", "--instrument", "ear")
    must(conf, "referral", S(11), "--outcome", "hospital")
    for n in (26, 27, 28):  # three illness absences in 二年级1班: a cluster alert
        must(conf, "absence", S(n), "--cause", "illness", "--symptoms", "fever,cough")
    db_write(db, "INSERT INTO day_figures (day, name, value) VALUES "
                 "(?, 'lane.east-1.availability_permille', 975)", (DAY,))
    return d, conf, db


def dump(db):
    out = {t: gslib.db_query(db, "SELECT * FROM %s ORDER BY rowid" % t) for t in TABLES}
    out["user_version"] = gslib.db_query(db, "PRAGMA user_version")
    return out


def strings(doc, path=""):
    """Every string in a document (keys and values) with where it is."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield path + "/" + k, k
            yield from strings(v, path + "/" + k)
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from strings(v, "%s/%d" % (path, i))
    elif isinstance(doc, str):
        yield path, doc


def no_people_in(text, doc, db, what):
    people = gslib.db_query(db, "SELECT external_id, name FROM people")
    leaks = [name for _, name in people if name in text]
    # Ids are short ("T001" is also the school's code): look for them as whole values.
    leaks += [s for p, s in strings(doc) if p != "/school/code" and s in {i for i, _ in people}]
    check(not leaks, "%s names nobody (%d people looked for)%s"
          % (what, len(people), "" if not leaks else ": " + ", ".join(leaks)))


def get(doc, path):
    for k in path.split("."):
        doc = doc[int(k)] if isinstance(doc, list) else doc[k]
    return doc


def test_summary_command():
    d, conf, db = scripted_day()
    before = dump(db)
    t0 = time.time()
    r = gslib.cli(conf, "summary")
    check(r.returncode == 0,
          "gatescreen summary: status %d %s" % (r.returncode, r.stderr.strip()))
    doc = json.loads(r.stdout)
    valid(SUMMARY, doc, "today's summary")
    check(r.stdout.startswith('{\n  "absences": {\n    "all": 3,'),
          "pretty-printed with an indent of 2, keys sorted")
    check('"gate": "东门"' in r.stdout and "二年级1班" in r.stdout, "UTF-8 as it is, not escaped")
    want = {
        "schema": "gatescreen.summary/2", "school.code": "T001", "school.name": "测试学校",
        "date": DAY, "revision": 0,
        "population.student": 30, "population.total": 34, "expected": 30, "on_leave": 0,
        "checks.morning.done": 11, "checks.morning.expected": 30, "checks.morning.all": 11,
        "checks.morning.coverage": 0.366, "checks.noon.done": 0, "checks.noon.coverage": 0.0,
        "fevers.screens": 2, "fevers.confirmed": 1, "fevers.cleared": 0, "fevers.open": 1,
        "referrals.opened": 1, "referrals.by_outcome.hospital": 1,
        "referrals.by_outcome.sent_home": 0, "referrals.pending": 0,
        "absences.all": 3, "absences.by_cause.illness": 3, "absences.unexplained": 0,
        "absences.by_symptom.fever": 3, "absences.by_symptom.cough": 3,
        "absences.by_symptom.rash": 0,
        "alerts.opened": 1, "alerts.open_count": 1, "alerts.open.0.class": "二年级1班",
        "alerts.open.0.rule": "day", "alerts.open.0.day": DAY, "alerts.open.0.cases": 3,
        "devices.0.lane": "east-1", "devices.0.gate": "东门", "devices.0.availability": 0.975,
        # version 2: a school day (not closed), students and staff apart
        "closed": None, "groups.students.population": 30, "groups.students.expected": 30,
        "groups.students.checks.morning.done": 11, "groups.students.absences.illness": 3,
        "groups.staff.population": 4, "groups.staff.expected": 0,
        "groups.staff.absences.illness": 0,
    }
    for path, value in want.items():
        got = get(doc, path)
        check(got == value and type(got) is type(value),
              "summary %s = %r%s" % (path, value, "" if got == value else " (got %r)" % (got,)))
    check(len(doc["devices"]) == 1, "one device entry per configured lane")
    gen = datetime.datetime.strptime(doc["generated_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    check(t0 - 1 <= gen <= time.time() + 1, "generated_at is now, in UTC: %s" % doc["generated_at"])
    no_people_in(r.stdout, doc, db, "the summary")
    check(dump(db) == before, "gatescreen summary wrote nothing to the ledger")

    # The latest stored revision of that day, and of no other.
    db_write(db, "INSERT INTO summaries (day, revision, generated_ms, body) VALUES "
                 "(?, 1, 0, '{}'), (?, 2, 0, '{}'), (?, 7, 0, '{}')", (DAY, DAY, YESTERDAY))
    r = gslib.cli(conf, "summary")
    check(r.returncode == 0 and json.loads(r.stdout)["revision"] == 2,
          "revision = the latest stored for the day (2)")
    r = gslib.cli(conf, "summary", "--date", (TODAY - datetime.timedelta(days=10)).isoformat())
    other = json.loads(r.stdout) if r.returncode == 0 else {}
    valid(SUMMARY, other, "an earlier day's summary")
    check(other.get("checks", {}).get("morning", {}).get("all") == 0 and
          other.get("alerts", {}).get("open_count") == 0 and
          other.get("devices", [{}])[0].get("availability", 1) is None,
          "an earlier day: no checks, no alert of a later day, availability unknown")
    r = gslib.cli(conf, "summary", "--date", YESTERDAY)
    check(r.returncode == 0 and json.loads(r.stdout)["revision"] == 7,
          "--date: that day's revision")
    return conf, db


def test_bad_usage(conf, db):
    before = dump(db)
    for args, status, msg in [
            (("summary", "--date", "2024-02-30"), 1, "date '2024-02-30' is not a date YYYY-MM-DD"),
            (("summary", "extra"), 2, "summary: unexpected argument 'extra'"),
            (("summary", "--nope"), 2, "summary: bad option")]:
        r = gslib.cli(conf, *args)
        check(r.returncode == status and msg in r.stderr and r.stdout == "",
              "%s: status %d, '%s'" % (" ".join(args), r.returncode, r.stderr.strip()[:80]))
    check(dump(db) == before, "bad usage changed nothing")
    d, conf2 = gslib.scratch()
    r = gslib.cli(conf2, "summary")
    check(r.returncode == 1 and "cannot open database" in r.stderr and
          not os.path.exists(os.path.join(d, "ledger.db")),
          "no ledger: status 1, and none is created (%s)" % r.stderr.strip()[:80])


def unit_docs():
    """The documents tests/unit/test_summary.c builds, by name."""
    out = tempfile.mkdtemp(prefix="gs-docs-")
    r = subprocess.run([UNIT_TEST], env=dict(os.environ, GS_DOCS_DIR=out), capture_output=True,
                       text=True, timeout=120)
    check(r.returncode == 0, "test_summary ran and wrote its documents (status %d)" % r.returncode)
    docs = {}
    for name in sorted(os.listdir(out)):
        with open(os.path.join(out, name), encoding="utf-8") as f:
            docs[name[:-len(".json")]] = json.load(f)
    shutil.rmtree(out)
    return docs


def test_unit_documents():
    docs = unit_docs()
    want = ["notice_alert", "notice_alert_names", "notice_referral", "notice_referral_names",
            "notice_referral_unknown", "summary", "summary_empty", "summary_staff"]
    check(sorted(docs) == want, "documents: %s" % ", ".join(sorted(docs)))
    for name, doc in docs.items():
        valid(SUMMARY if name.startswith("summary") else NOTICE, doc, name)
    for name in ("notice_alert", "notice_referral", "summary"):
        fields = [p for p, s in strings(docs.get(name, {}))
                  if s in ("name", "external_id") and p.endswith("/" + s) and p != "/school/name"]
        check(not fields, "%s has no person's name or id field %s" % (name, fields or ""))
    check(docs.get("notice_referral_unknown", {}).get("person", 0) is None,
          "unknown card: person null")
    return docs


def refused(validator, doc, what, change):
    bad = copy.deepcopy(doc)
    change(bad)
    check(bool(problems(validator, bad)), "schema refuses %s" % what)


def test_schemas_are_strict(docs):
    s, ref, alert = docs["summary"], docs["notice_referral"], docs["notice_alert"]
    refused(SUMMARY, s, "a field too many", lambda d: d.update(names=["x"]))
    refused(SUMMARY, s, "a missing group", lambda d: d.pop("devices"))
    refused(SUMMARY, s, "a coverage above 1", lambda d: d["checks"]["morning"].update(coverage=1.5))
    refused(SUMMARY, s, "a negative count", lambda d: d["fevers"].update(open=-1))
    refused(SUMMARY, s, "a count as text", lambda d: d["fevers"].update(open="1"))
    refused(SUMMARY, s, "an unknown symptom", lambda d: d["absences"]["by_symptom"].update(flu=1))
    refused(SUMMARY, s, "another schema version", lambda d: d.update(schema="gatescreen.summary/3"))
    refused(SUMMARY, s, "version 1's name on version 2's fields",
            lambda d: d.update(schema="gatescreen.summary/1"))
    refused(SUMMARY, s, "a closed day without a reason",
            lambda d: d.update(closed={"kind": "closure", "reason": ""}))
    refused(SUMMARY, s, "an unknown kind of closed day",
            lambda d: d.update(closed={"kind": "strike", "reason": "x"}))
    refused(SUMMARY, s, "a group without its illness absences",
            lambda d: d["groups"]["staff"]["absences"].pop("illness"))
    refused(SUMMARY, s, "a slot ending at 24:00",
            lambda d: d["arrival_slots"].append({"group": "初三", "start": "07:10",
                                                 "end": "24:00", "expected": 1, "arrived": 1,
                                                 "late": 0}))
    closed = copy.deepcopy(s)
    closed["closed"] = {"kind": "closure", "reason": "暴雨停课"}
    closed["arrival_slots"] = [{"group": "初三", "start": "07:10", "end": "07:25", "expected": 40,
                                "arrived": 0, "late": 0}]
    valid(SUMMARY, closed, "a closed day's summary with a slot")
    # Version 1 stays as it was: the collector's test document, and not version 2's.
    with open(os.path.join(gslib.SOURCE, "tests/data/bureau/summary.json"), encoding="utf-8") as f:
        v1 = json.load(f)
    valid(SUMMARY_V1, v1, "a version 1 summary (tests/data/bureau/summary.json)")
    check(bool(problems(SUMMARY, v1)), "version 2's schema refuses a version 1 summary")
    check(bool(problems(SUMMARY_V1, s)), "version 1's schema refuses a version 2 summary")
    refused(SUMMARY, s, "a time without milliseconds",
            lambda d: d.update(generated_at="2024-03-04T02:00:00Z"))
    refused(SUMMARY, s, "a person in an alert",
            lambda d: d["alerts"]["open"][0].update(people="S2020001"))
    refused(NOTICE, ref, "a name next to a bare pseudonym",
            lambda d: d["person"].update(name="王伟"))
    refused(NOTICE, ref, "an upper-case pseudonym",
            lambda d: d["person"].update(pseudonym=d["person"]["pseudonym"].upper()))
    refused(NOTICE, ref, "a short pseudonym", lambda d: d["person"].update(pseudonym="ab" * 16))
    refused(NOTICE, ref, "an unknown type", lambda d: d.update(type="referral_closed"))
    refused(NOTICE, ref, "a referral's id under alert",
            lambda d: d.update(notice_id="T001/alert/1"))
    refused(NOTICE, alert, "an unknown rule", lambda d: d.update(rule="week"))
    refused(NOTICE, alert, "an unknown case kind",
            lambda d: d["cases"][0].update(case_kind="rumour"))
    refused(NOTICE, alert, "an unknown person kind",
            lambda d: d["cases"][0]["person"].update(kind="parent"))
    refused(NOTICE, alert, "a case without a person", lambda d: d["cases"][0].update(person=None))


def main():
    conf, db = test_summary_command()
    test_bad_usage(conf, db)
    docs = test_unit_documents()
    if all(k in docs for k in ("summary", "notice_referral", "notice_alert")):
        test_schemas_are_strict(docs)
    gslib.finish()


if __name__ == "__main__":
    main()
