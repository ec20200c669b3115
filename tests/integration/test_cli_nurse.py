"""The nurse's commands of the real `gatescreen` on a real ledger: a scripted school
day (gate rows written as the gate writes them, then rechecks, referrals, absences,
leave, certificates, a cluster alert and the day's figures), and every bad input
refused with its message and exit status, the ledger unchanged."""
import datetime
import os
import pwd
import sqlite3
import subprocess
import sys
from zoneinfo import ZoneInfo

import gslib
from gslib import check

# A zone where it is now mid-afternoon: the morning window (07:00-08:30) has
# closed and the sweep may run, whatever the time of the test run.
ZONE_NAME = gslib.school_zone(15)[0]
ZONE = ZoneInfo(ZONE_NAME)
TODAY = datetime.datetime.now(ZONE).date()
DAY = TODAY.isoformat()
YESTERDAY = (TODAY - datetime.timedelta(days=1)).isoformat()
TOMORROW = (TODAY + datetime.timedelta(days=1)).isoformat()
LOGIN = os.environ.get("SUDO_USER") or pwd.getpwuid(os.getuid()).pw_name

TABLES = ("people", "readings", "checks", "flags", "referrals", "absences", "absence_followups",
          "leaves", "certificates", "health_status_history", "alerts", "alert_cases",
          "day_figures", "audit_log")


def dump(db):
    """Every row the nurse's commands may touch, to compare before and after."""
    return {t: gslib.db_query(db, "SELECT * FROM %s ORDER BY rowid" % t) for t in TABLES}


def db_write(db, sql, args=()):
    con = sqlite3.connect(db)
    with con:
        con.execute(sql, args)
    con.close()


def at_ms(hhmm, day=TODAY):
    return gslib.local_ms(ZONE, day, hhmm)


def gate(db, who, hhmm, body, **kw):
    """One lane decision of today, written as ledger_gate.c does (gslib.gate_row)."""
    gslib.gate_row(db, ZONE, TODAY, who, hhmm, body, **kw)


def run(conf, *args):
    r = gslib.cli(conf, *args)
    return r, r.stdout + r.stderr


def ok(conf, what, *args, expect=()):
    """Runs a command that must succeed and print each of `expect`."""
    r, out = run(conf, *args)
    good = r.returncode == 0 and all(e in r.stdout for e in expect)
    check(good, "%s: %s" % (what, r.stdout.strip().replace("\n", " / ")))
    if not good:
        print("     status %d, stderr: %s" % (r.returncode, r.stderr.strip()))
    return r


def status_of(db, who):
    return gslib.db_query(db, "SELECT health_status FROM people WHERE external_id = ?", (who,))[0][0]


def setup():
    d, conf = gslib.scratch(gslib.BASE_CONFIG.replace("Asia/Shanghai", ZONE_NAME))
    db = os.path.join(d, "ledger.db")
    roster = os.path.join(d, "roster.csv")
    out = subprocess.run([sys.executable, gslib.MAKE_ROSTER, "--students", "30", "--staff", "4",
                          "--classes", "2", "--seed", "3"], capture_output=True, check=True).stdout
    with open(roster, "wb") as f:
        f.write(out)
    r = gslib.cli(conf, "roster", "import", roster)
    check(r.returncode == 0, "roster of 30 students in 2 classes and 4 adults imported")
    return d, conf, db


def S(n):
    return "S%d" % (2020000 + n)  # S1..S15 in 一年级1班, S16..S30 in 二年级1班


def morning_at_the_gate(db):
    for n in list(range(1, 11)) + list(range(16, 26)):
        gate(db, S(n), "07:%02d" % (10 + n), 3640)
    gate(db, S(11), "07:40", 3780, outcome="fever", flag=True)
    gate(db, None, "07:41", 3790, outcome="unknown_card", window=None, flag=True)
    gate(db, S(13), "07:50", 0, quality="fault", outcome="invalid")  # came; checked by hand later
    gate(db, S(12), "09:10", 3650, window=None)  # after the window: a late arrival, no check


def test_nurse_day():
    d, conf, db = setup()
    morning_at_the_gate(db)

    r = ok(conf, "flags lists the open screens", "flags",
           expect=(S(11), "screen 37.80 °C", "lane east-1", "unknown card 99999"))
    check("Referrals waiting for an outcome:\n  none" in r.stdout, "no referral yet")

    # Options before the positional arguments work too.
    ok(conf, "recheck at 38.2 confirms", "recheck", "--instrument", "ear", S(11), "38.2",
       "--by", "nurse_wang",
       expect=("recheck 38.20 °C (ear), threshold 37.30", "fever confirmed", "referral 1"))
    check(status_of(db, S(11)) == "isolated", "confirmed fever: isolated")
    check(gslib.db_query(db, "SELECT state, recheck_centi, recheck_instrument, recheck_by, "
                             "threshold_centi FROM flags WHERE person_id IS NOT NULL") ==
          [("confirmed", 3820, "ear", "nurse_wang", 3730)], "recheck stored on the flag")
    check(gslib.db_query(db, "SELECT day, outcome FROM referrals") == [(DAY, None)],
          "referral opened today, no outcome yet")
    r = ok(conf, "flags now lists the referral", "flags", expect=("referral 1", "recheck 38.20"))
    ok(conf, "referral outcome", "referral", S(11), "--outcome", "sent-home", "--note", "父亲接回",
       "--by", "nurse_wang", expect=("referral 1: sent-home", "certificate is needed"))
    check(gslib.db_query(db, "SELECT outcome, outcome_by, note FROM referrals") ==
          [("sent_home", "nurse_wang", "父亲接回")], "outcome stored")
    check(status_of(db, S(11)) == "absent_ill", "sent home: absent_ill")

    ok(conf, "manual check by a teacher", "check", S(13), "36.6", "--instrument", "axillary",
       "--window", "morning", expect=("morning check on %s: 36.60 °C (axillary)" % DAY,))
    check(gslib.db_query(db, "SELECT actor FROM audit_log WHERE action = 'manual check'") ==
          [(LOGIN,)], "audit row with the login name by default (%s)" % LOGIN)
    ok(conf, "leave", "leave", S(14), "--from", DAY, "--to", TOMORROW, "--reason", "家中有事",
       expect=("leave from %s to %s" % (DAY, TOMORROW),))
    ok(conf, "illness absence registered before the sweep", "absence", S(15), "--cause", "illness",
       "--symptoms", "cough,fever", "--onset", YESTERDAY, "--clinic", "yes", "--diagnosis", "流感",
       "--by", "班主任", expect=("registered: illness (fever,cough)",))

    ok(conf, "sweep", "sweep", "--by", "admin",
       expect=("6 absences recorded: 1 came late, 5 without a cause yet",))
    ok(conf, "sweep again records nothing", "sweep", expect=("no new absences",))
    check(gslib.db_query(db, "SELECT count(*) FROM audit_log WHERE action = 'absence sweep'") ==
          [(1,)], "one audit row for the sweep")

    r = ok(conf, "absences of the day", "absences")
    rows = {l.split("\t")[0]: l.split("\t") for l in r.stdout.splitlines()[1:-1]}
    check(sorted(rows) == sorted([S(12), S(15)] + [S(n) for n in range(26, 31)]),
          "absences: %s" % ",".join(sorted(rows)))
    check(rows[S(12)][3] == "late" and rows[S(12)][8] == "09:10", "late arrival at 09:10")
    check(rows[S(15)][3:8] == ["illness", "fever,cough", YESTERDAY, "yes", "流感"],
          "illness with symptoms, onset, clinic, diagnosis: %s" % rows[S(15)][3:8])
    r = ok(conf, "absences of one class", "absences", "--class", "一年级1班")
    check(r.stdout.splitlines()[-1] == "2 absences on %s" % DAY, "class filter")

    ok(conf, "first illness in 二年级1班", "absence", S(26), "--cause", "illness", "--symptoms",
       "fever", expect=("updated: illness (fever), was unknown",))
    ok(conf, "second", "absence", S(27), "--cause", "illness", "--symptoms", "vomiting,diarrhoea")
    r = ok(conf, "third opens the cluster alert", "absence", S(28), "--cause", "illness",
           expect=("cluster alert 1 opened",))
    ok(conf, "personal", "absence", S(29), "--cause", "personal")
    ok(conf, "other", "absence", S(30), "--cause", "other", "--note", "交通")
    ok(conf, "follow-up", "followup", S(26), "电话随访：体温38度", "--by", "nurse_wang",
       expect=("follow-up added",))
    r = ok(conf, "alerts", "alerts",
           expect=("alert 1: OPEN: 二年级1班, 3 cases (%s,%s,%s) by rule day on %s"
                   % (S(26), S(27), S(28), DAY),))

    # A return after yesterday's illness, as the gate records it.
    db_write(db, "INSERT INTO absences (person_id, day, cause, recorded_ms, returned_day) "
                 "SELECT id, ?, 'illness', 0, ? FROM people WHERE external_id = ?",
             (YESTERDAY, DAY, S(5)))
    ok(conf, "certificate clears the sent-home pupil", "certificate", S(11), "--issuer", "市人民医院",
       "--by", "nurse_wang", expect=("certificate issued %s recorded" % DAY,))
    check(status_of(db, S(11)) == "returned", "certificate: returned")
    ok(conf, "an early certificate is kept with a note", "certificate", S(1), "--issuer", "诊所",
       expect=("did not need a certificate",))

    r = ok(conf, "day figures", "day")
    want = [
        "Figures for %s (from the ledger now)" % DAY,
        "Population: 34 (students 30, teachers 3, staff 1)",
        "Expected: 29 (1 more on leave)",
        "Morning checks: 22 of 29 expected (75.8%); 22 in all",
        "Noon checks: 0 of 29 expected (0.0%); 0 in all",
        "Readings: 24 (valid 23, invalid 1, no measurement 0)",
        "Gate decisions: admit 21, fever 1, invalid 1, unknown card 1, no identity 0, "
        "see nurse 0, no measurement 0",
        "Fever screens: 2 (confirmed 1, cleared 0, still open 1)",
        "Referrals opened: 1 (sent home 1, hospital 0, returned to class 0, pending 0)",
        "Absences: 7 (cause unknown 0, illness 4, personal 1, other 1, late 1)",
        "Symptoms: fever 2, cough 1, sore throat 0, diarrhoea 1, vomiting 1, rash 0, "
        "conjunctivitis 0, other 0",
        "Returns after illness: 1; certificates recorded: 2",
        "Cluster alerts: 1 opened for this day, 1 open now",
    ]
    got = r.stdout.splitlines()
    for line in want:
        check(line in got, "day: " + line)

    ok(conf, "alert-close", "alert-close", "1", "--by", "nurse_wang", expect=("alert 1 closed",))
    ok(conf, "alerts shows it closed", "alerts", expect=("alert 1: closed", "by nurse_wang"))
    ok(conf, "day after closing", "day", "--date", DAY,
       expect=("Cluster alerts: 1 opened for this day, 0 open now",))

    audit = gslib.db_query(db, "SELECT actor, action, target FROM audit_log ORDER BY id")
    for row in [("nurse_wang", "recheck", S(11)), ("nurse_wang", "referral outcome", S(11)),
                ("班主任", "absence cause", S(15)), ("admin", "absence sweep", DAY),
                (LOGIN, "leave", S(14)), (LOGIN, "alert open", "alert 1"),
                ("nurse_wang", "absence follow-up", S(26)), ("nurse_wang", "certificate", S(11)),
                ("nurse_wang", "alert close", "alert 1")]:
        check(row in audit, "audit row %s" % (row,))
    return conf, db


def test_bad_input(conf, db):
    cases = [
        (("recheck", "NOPE", "38.0", "--instrument", "ear"), 1, "no one with id 'NOPE'"),
        (("recheck", S(1), "3x", "--instrument", "ear"), 1, "temperature '3x' is not a reading"),
        (("recheck", S(1), "45.5", "--instrument", "ear"), 1, "from 34.00 to 43.00"),
        (("recheck", S(1), "38.0"), 2, "--instrument is required"),
        (("recheck", S(1), "38.0", "--instrument", "mouth"), 1, "instrument 'mouth'"),
        (("recheck", S(1), "38.0", "--instrument", "ear"), 1,
         "%s has no open fever flag to recheck" % S(1)),
        (("recheck", S(1), "38.0", "--instrument", "ear", "--cause", "x"), 2, "bad option"),
        (("recheck", S(1), "--instrument", "ear"), 2, "expected PERSON TEMP"),
        (("referral", S(1), "--outcome", "sent-home"), 1, "has no referral waiting"),
        (("referral", S(11), "--outcome", "cured"), 1, "outcome 'cured'"),
        (("referral", S(1)), 2, "--outcome is required"),
        (("absence", S(1), "--cause", "illness", "--date", "2024-02-30"), 1,
         "date '2024-02-30' is not a date YYYY-MM-DD"),
        (("absence", S(1), "--cause", "illness", "--symptoms", "fever,flu"), 1, "symptom 'flu'"),
        (("absence", S(1), "--cause", "illness", "--onset", "yesterday"), 1,
         "onset date 'yesterday'"),
        (("absence", S(12), "--cause", "illness"), 1, "came to school late"),
        (("absence", S(1), "--cause", "sick"), 1, "cause 'sick'"),
        (("absence", S(1), "--cause", "illness", "--clinic", "maybe"), 1, "clinic visit 'maybe'"),
        (("absence", S(1)), 2, "--cause is required"),
        (("absence", "--cause", "illness"), 2, "expected PERSON"),
        (("followup", S(1), "打电话"), 1, "has no absence on %s" % DAY),
        (("leave", S(1), "--from", TOMORROW, "--to", DAY), 1, "ends before it begins"),
        (("leave", S(1), "--from", DAY), 2, "--to is required"),
        (("leave", "NOPE", "--from", DAY, "--to", DAY), 1, "no one with id 'NOPE'"),
        (("certificate", S(1), "--issuer", "x", "--date", TOMORROW), 1, "is in the future"),
        (("certificate", S(1)), 2, "--issuer is required"),
        (("check", S(1), "36.5", "--instrument", "ear", "--window", "morning"), 1,
         "already has a morning check"),
        (("check", S(1), "36.5"), 2, "--instrument is required"),
        (("check", S(1), "36.5", "--instrument", "ear", "--window", "night"), 1,
         "window 'night' is not morning, noon or evening"),
        (("check", S(2), "36.5", "--instrument", "ear", "--date", TOMORROW), 1, "in the future"),
        (("alert-close", "99"), 1, "no cluster alert 99"),
        (("alert-close", "1"), 1, "alert 1 is already closed"),
        (("alert-close", "abc"), 1, "alert id 'abc'"),
        (("sweep", "--date", TOMORROW), 1, "is in the future"),
        (("day", "--date", "nonsense"), 1, "date 'nonsense' is not a date"),
        (("flags", "extra"), 2, "expected no arguments"),
    ]
    for args, code, msg in cases:
        before = dump(db)
        r = gslib.cli(conf, *args)
        first = (r.stderr.strip().splitlines() or [""])[0]
        check(r.returncode == code and msg in r.stderr and first.startswith("gatescreen: "),
              "%s -> %d %r" % (" ".join(args), r.returncode, first))
        check(dump(db) == before, "   ... ledger unchanged")


def test_exit_statuses(conf, db):
    """The exit-code table (cli.c): a refusal is 1 (here an unknown person), a ledger
    another writer holds past the busy timeout is 75 (EX_TEMPFAIL: run it again), and
    neither writes anything."""
    before = dump(db)
    r = gslib.cli(conf, "recheck", "NOPE", "38.0", "--instrument", "ear")
    check(r.returncode == 1 and "no one with id 'NOPE'" in r.stderr,
          "an unknown person -> 1 (%d)" % r.returncode)
    con = sqlite3.connect(db, timeout=10, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    try:
        r = gslib.cli(conf, "leave", S(3), "--from", DAY, "--to", DAY)
    finally:
        con.execute("ROLLBACK")
        con.close()
    check(r.returncode == 75 and "busy" in r.stderr and "try again" in r.stderr,
          "a locked ledger -> 75 (%d %r)" % (r.returncode, r.stderr.strip()[-200:]))
    check(dump(db) == before, "   ... ledger unchanged")


if __name__ == "__main__":
    conf, db = test_nurse_day()
    test_bad_input(conf, db)
    test_exit_statuses(conf, db)
    gslib.finish()
