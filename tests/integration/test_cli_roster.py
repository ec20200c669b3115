"""The admin CLI on a real roster of 2,000 people with Chinese names (issue 2)."""
import csv
import io
import os
import re
import sqlite3
import subprocess
import sys

import gslib
from gslib import check


def make_roster(path, *args):
    out = subprocess.run([sys.executable, gslib.MAKE_ROSTER, *args], capture_output=True,
                         check=True).stdout
    with open(path, "wb") as f:
        f.write(out)
    return out.decode("utf-8")


def listed(conf, *args):
    r = gslib.cli(conf, "roster", "list", *args)
    return r, list(csv.DictReader(io.StringIO(r.stdout), delimiter="\t"))


def test_import_2000():
    d, conf = gslib.scratch()
    db = os.path.join(d, "ledger.db")
    roster = os.path.join(d, "roster.csv")
    text = make_roster(roster, "--students", "1880", "--staff", "120", "--classes", "36",
                       "--seed", "7")
    rows = list(csv.DictReader(io.StringIO(text)))
    check(len(rows) == 2000, "generated 2,000 people")

    r = gslib.cli(conf, "roster", "import", roster, "--by", "admin")
    check(r.returncode == 0, "import exits 0 (%s)" % r.stderr.strip())
    check("2000 rows: 2000 added, 0 updated, 0 unchanged" in r.stdout, "import counts: " + r.stdout.strip())

    r, people = listed(conf, "--all")
    check(r.returncode == 0 and len(people) == 2000, "roster list shows 2,000")
    by_id = {p["external_id"]: p for p in people}
    same = all(by_id[x["external_id"]]["name"] == x["name"] and
               by_id[x["external_id"]]["class"] == x["class"] and
               by_id[x["external_id"]]["kind"] == x["kind"] and
               by_id[x["external_id"]]["cards"] == x["card"] for x in rows)
    check(same, "every name, class, kind and card round-trips exactly")
    # Straight from the file too: bytes as stored.
    names = {n for (n,) in gslib.db_query(db, "SELECT name FROM people")}
    check(names == {x["name"] for x in rows}, "names in SQLite are byte-identical")
    check(any(ord(ch) > 0xFFFF for n in names for ch in n), "roster has non-BMP characters")

    cls = rows[0]["class"]
    r, some = listed(conf, "--class", cls)
    check(len(some) == sum(1 for x in rows if x["class"] == cls and x["active"] in ("1", "yes", "")),
          "roster list --class %s" % cls)

    # Same file again: nothing changes, not even the audit log.
    before = gslib.db_dump(db)
    r = gslib.cli(conf, "roster", "import", roster)
    check(r.returncode == 0 and "0 added, 0 updated, 2000 unchanged" in r.stdout,
          "re-import reports no changes: " + r.stdout.strip())
    check(gslib.db_dump(db) == before, "re-import leaves every row as it was")

    # One changed row updates that person only.
    changed = text.replace(rows[5]["name"], rows[5]["name"] + "改", 1)
    with open(roster, "w", encoding="utf-8") as f:
        f.write(changed)
    r = gslib.cli(conf, "roster", "import", roster)
    check("1 updated" in r.stdout, "a changed row updates one person: " + r.stdout.strip())
    got = gslib.db_query(db, "SELECT name FROM people WHERE external_id = ?",
                         (rows[5]["external_id"],))
    check(got and got[0][0] == rows[5]["name"] + "改", "the update is stored")

    # People missing from the file are only deactivated on request.
    short = "\n".join(changed.splitlines()[:1001]) + "\n"
    with open(roster, "w", encoding="utf-8") as f:
        f.write(short)
    r = gslib.cli(conf, "roster", "import", roster)
    check("1000 active people in the ledger are not in this file" in r.stdout,
          "missing people reported, not deactivated")
    check(gslib.db_query(db, "SELECT count(*) FROM people WHERE active = 1")[0][0] == 2000,
          "no one deactivated without --deactivate-missing")
    r = gslib.cli(conf, "roster", "import", roster, "--deactivate-missing")
    check("1000 deactivated" in r.stdout, "--deactivate-missing: " + r.stdout.strip())
    check(gslib.db_query(db, "SELECT count(*) FROM people WHERE active = 1")[0][0] == 1000,
          "1,000 remain active")

    r = gslib.cli(conf, "db", "check")
    check(r.returncode == 0 and "schema version %d" % gslib.latest_schema() in r.stdout and
          "integrity check ok" in r.stdout,
          "db check: " + r.stdout.strip().replace("\n", " / "))


def test_bad_roster_changes_nothing():
    d, conf = gslib.scratch()
    db = os.path.join(d, "ledger.db")
    good = os.path.join(d, "good.csv")
    make_roster(good, "--students", "50", "--staff", "5", "--classes", "2", "--seed", "1")
    gslib.cli(conf, "roster", "import", good)
    before = gslib.db_dump(db)

    bad = os.path.join(d, "bad.csv")
    make_roster(bad, "--bad")
    r = gslib.cli(conf, "roster", "import", bad)
    check(r.returncode == 1, "bad roster: exit status 1")
    lines = [l for l in r.stderr.splitlines() if l.startswith(bad + ":")]
    check(len(lines) >= 5, "every bad row reported as FILE:LINE (%d lines)" % len(lines))
    for l in lines[:12]:
        print("     " + l)
    check("nothing was changed" in r.stderr, "says nothing was changed")
    check(gslib.db_dump(db) == before, "ledger identical after a bad import")

    # Invalid UTF-8 and broken quoting, written byte for byte.
    raw = os.path.join(d, "raw.csv")
    with open(raw, "wb") as f:
        f.write(b"external_id,kind,name,grade,class,card,active\n"
                b"S1,student,\xe5\xbc\xa0\xff,1,1,,yes\n"
                b"S2,student,\"unterminated,1,1,,yes\n")
    r = gslib.cli(conf, "roster", "import", raw)
    check(r.returncode == 1 and raw + ":2:" in r.stderr and "UTF-8" in r.stderr,
          "invalid UTF-8 reported on line 2")
    check(raw + ":3:" in r.stderr, "bad quoting reported on line 3")
    check(gslib.db_dump(db) == before, "ledger identical after invalid UTF-8")

    # A card held by someone outside the file: caught in the database pass.
    people = gslib.db_query(db, "SELECT p.external_id, c.card_no FROM people p JOIN cards c "
                                "ON c.person_id = p.id LIMIT 1")
    clash = os.path.join(d, "clash.csv")
    with open(clash, "w", encoding="utf-8") as f:
        f.write("external_id,kind,name,card\nNEW1,student,新同学,%d\n" % people[0][1])
    r = gslib.cli(conf, "roster", "import", clash)
    check(r.returncode == 1 and clash + ":2: card" in r.stderr and people[0][0] in r.stderr,
          "card clash names the holder: " + r.stderr.strip().splitlines()[0])
    check(gslib.db_dump(db) == before, "ledger identical after a card clash")

    # Another program holds the write lock past the busy timeout: 75, run it again.
    con = sqlite3.connect(db, timeout=10, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    try:
        r = gslib.cli(conf, "roster", "import", good)
    finally:
        con.execute("ROLLBACK")
        con.close()
    check(r.returncode == 75 and "the ledger is busy" in r.stderr,
          "a locked ledger: exit status 75 (%d)" % r.returncode)
    check(gslib.db_dump(db) == before, "ledger identical after a busy import")

    for args in (["roster", "import"], ["roster", "import", "/nonexistent.csv"],
                 ["roster", "frobnicate"], ["nothing"], ["roster", "list", "--bogus"]):
        r = gslib.cli(conf, *args)
        check(r.returncode in (1, 2) and r.stderr.strip() != "",
              "bad command line %s: status %d, message %r" % (args, r.returncode,
                                                             r.stderr.strip().splitlines()[0]))


def test_db_check_on_missing_and_broken():
    d, conf = gslib.scratch()
    r = gslib.cli(conf, "db", "check")
    check(r.returncode == 1 and "ledger.db" in r.stderr, "db check on a missing database fails")
    check(not os.path.exists(os.path.join(d, "ledger.db")), "db check creates nothing")
    db = os.path.join(d, "ledger.db")
    with open(db, "wb") as f:
        f.write(b"this is not a database" * 100)
    r = gslib.cli(conf, "db", "check")
    check(r.returncode == 1, "db check on a non-database fails: " + r.stderr.strip())


def test_school_export():
    """Issue 19: an Excel export as a Chinese school's system writes it (UTF-8 with a
    BOM, CRLF, the id column headed 学号/ID, no kind column, gender, 住校 and 状态).
    Before: refused with 6 problems ('unknown column "学号/ID"', ...)."""
    d, conf = gslib.scratch()
    db = os.path.join(d, "ledger.db")
    path = os.path.join(d, "导出.csv")
    rows = ["学号/ID,姓名,性别,年级,班级,卡号,住校,状态",
            "20250101,张三,男,初一,初一(1)班,0012345678,是,在校",
            "20250102,李四,女,初一,初一(1)班,,否,毕业",
            "20250103,王五,男,初一,初一(2)班,77,住校,在读"]
    with open(path, "wb") as f:
        f.write("\ufeff".encode("utf-8") + "\r\n".join(rows).encode("utf-8") + b"\r\n")
    r = gslib.cli(conf, "roster", "import", path)
    check(r.returncode == 0, "the export imports (%s)" % r.stderr.strip())
    check("3 rows: 3 added" in r.stdout, "three people added: " + r.stdout.strip())
    check("columns read and not kept: 性别" in r.stdout, "says 性别 is not kept")
    r, people = listed(conf, "--all")
    by_id = {p["external_id"]: p for p in people}
    check(by_id["20250101"]["kind"] == "student" and by_id["20250101"]["cards"] == "12345678"
          and by_id["20250101"]["boarder"] == "yes" and by_id["20250101"]["active"] == "yes",
          "学号 makes students; leading zeros of the card dropped; 住校 是: %r" % by_id["20250101"])
    check(by_id["20250102"]["active"] == "no" and by_id["20250102"]["boarder"] == "no",
          "状态 毕业 is inactive, 住校 否 a day pupil")
    check(gslib.db_query(db, "SELECT count(*) FROM people WHERE boarder = 1")[0][0] == 2,
          "two boarders stored in the ledger")
    # Same card as 0012345678 written without its zeros: the same card, a duplicate.
    dup = os.path.join(d, "dup.csv")
    with open(dup, "w", encoding="utf-8") as f:
        f.write("学号,姓名,卡号\nS1,甲,0012345678\nS2,乙,12345678\n")
    r = gslib.cli(conf, "roster", "import", dup)
    check(r.returncode == 1 and "card 12345678 is on line 2 and again on line 3" in r.stderr,
          "leading zeros do not make another card: " + r.stderr.strip().splitlines()[0])
    bad = os.path.join(d, "bad.csv")
    with open(bad, "w", encoding="utf-8") as f:
        f.write("编号,名称,班级\nS1,甲,1班\n")
    r = gslib.cli(conf, "roster", "import", bad)
    check(r.returncode == 1 and "unknown column \"名称\"" in r.stderr and "学号/工号" in r.stderr
          and "姓名" in r.stderr, "the error lists the Chinese names: " +
          r.stderr.strip().splitlines()[0])


if __name__ == "__main__":
    test_import_2000()
    test_bad_roster_changes_nothing()
    test_db_check_on_missing_and_broken()
    test_school_export()
    gslib.finish()
