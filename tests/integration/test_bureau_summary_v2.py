"""Both versions of the daily summary at the bureau (issue 19) on a private
PostgreSQL, the real gatescreen-bureaud over mutual TLS and the real
gatescreen-bureau:

- a version 1 summary (a school not updated yet) and a version 2 one are both
  stored; version 1's students/staff figures stay NULL (unknown, not 0), version 2's
  are kept apart (教职工因病缺勤 on its own);
- a version 2 summary saying the school was closed (a holiday, a closure) is a
  report: `missing` counts it as reported closed, never missing, and the roll-up
  counts it among the closed schools;
- an unknown version (gatescreen.summary/3) and version 2's fields under version 1's
  name are refused with 400 and the pointer /schema or the member, and kept in
  quarantine;
- version 2's optional part_absences (noon and evening absences) is accepted when
  there and checked (a negative count is refused at its pointer);
- the roll-up (pull API and CLI) sums the staff figures over the version 2
  schools only, and says over how many;
- a later version 2 revision replaces a version 1 revision of the same day (the
  school updated during the day), and a later version 1 one a version 2 one: the
  city's sums follow exactly."""
import json
import os

import bureaulib as bl
import gslib
from gslib import check

DAY = "2026-12-07"  # a Monday
PULL_TOKEN = "province-pull-token-v2-0123456789abcdef"


def v2_doc(code, day, revision, closed=None, staff_ill=0):
    d = bl.sample("summary-v2")
    d["school"] = {"code": code, "name": "学校" + code}
    d["date"], d["revision"] = day, revision
    d["groups"]["staff"]["absences"]["illness"] = staff_ill
    d["groups"]["staff"]["absences"]["all"] = staff_ill
    if closed:
        d["closed"] = {"kind": closed[0], "reason": closed[1]}
    return d


def sent(b, c, code, doc, want=201):
    st, answer, raw = bl.send(c, b, b.schools[code], doc)
    check(st == want, "%s %s rev %d: %d (want %d) %s" % (code, doc["schema"], doc["revision"],
                                                         st, want, raw[:120]))
    return answer


def figures(b, code):
    out = b.sql("SELECT schools_closed, schools_grouped, coalesce(closed_kind, '-'), "
                "coalesce(closed_reason, '-'), coalesce(staff_expected::text, 'NULL'), "
                "coalesce(staff_absences_illness::text, 'NULL'), "
                "coalesce(students_absences_illness::text, 'NULL'), revision "
                "FROM summary_figures WHERE school_code = '%s' AND day = '%s'" % (code, DAY))
    return out[0] if out else None


def city_sums(b):
    return "|".join(b.sql("SELECT sum(reported), sum(schools_closed), sum(schools_grouped), "
                 "sum(staff_absences_illness), sum(staff_expected) FROM summary_city_day "
                 "WHERE day = '%s'" % DAY)[0])


def both_versions_stored(b, c):
    v1 = bl.summary_doc("A1", DAY, 1)
    sent(b, c, "A1", v1)
    with_parts = v2_doc("B1", DAY, 1, staff_ill=1)
    with_parts["part_absences"] = {"noon": {"all": 2, "unexplained": 1, "by_cause": {
        "illness": 1, "personal": 0, "other": 0}}, "evening": None}
    sent(b, c, "B1", with_parts)
    sent(b, c, "C1", v2_doc("C1", DAY, 1, closed=("closure", "暴雨红色预警停课")))
    f = figures(b, "A1")
    check(f is not None and f[:2] == ["0", "0"] and f[4:7] == ["NULL"] * 3,
          "version 1: not closed, no groups, staff figures NULL (%s)" % f)
    f = figures(b, "B1")
    check(f is not None and f[:2] == ["0", "1"] and f[4:7] == ["1", "1", "1"],
          "version 2: staff expected 1, staff illness 1, students illness 1 (%s)" % f)
    f = figures(b, "C1")
    check(f is not None and f[:4] == ["1", "1", "closure", "暴雨红色预警停课"],
          "version 2 closed: the kind and reason kept (%s)" % f)
    check(city_sums(b) == "3|1|2|1|2",
          "the city's day: 3 reported, 1 closed, 2 with groups, staff illness 1, staff "
          "expected 2 (%s)" % city_sums(b))


def refusals(b, c):
    before = b.sql("SELECT count(*) FROM quarantine")[0][0]
    bad = v2_doc("D1", DAY, 1)
    bad["schema"] = "gatescreen.summary/3"
    answer = sent(b, c, "D1", bad, want=400)
    check(answer and answer.get("pointer") == "/schema" and
          "gatescreen.summary/2, gatescreen.summary/1" in answer.get("error", ""),
          "an unknown version: 400 at /schema naming the accepted ones (%s)" % answer)
    mixed = v2_doc("D1", DAY, 1)
    mixed["schema"] = "gatescreen.summary/1"
    answer = sent(b, c, "D1", mixed, want=400)
    check(answer and answer.get("pointer") == "/closed",
          "version 2's members under version 1's name: 400 at /closed (%s)" % answer)
    parts = v2_doc("D1", DAY, 1)
    parts["part_absences"] = {"noon": {"all": -1, "unexplained": 0, "by_cause": {
        "illness": 0, "personal": 0, "other": 0}}, "evening": None}
    answer = sent(b, c, "D1", parts, want=400)
    check(answer and answer.get("pointer", "").startswith("/part_absences/noon"),
          "a bad part_absences: 400 at its pointer (%s)" % answer)
    after = b.sql("SELECT count(*) FROM quarantine")[0][0]
    check(int(after) == int(before) + 3, "all kept in quarantine (%s -> %s)" % (before, after))
    check(figures(b, "D1") is None, "nothing of D1 stored")


def pull_token(b):
    path = os.path.join(b.dir, "pull.token")
    with open(path, "w") as f:
        f.write(PULL_TOKEN + "\n")
    os.chmod(path, 0o600)
    with open(b.conf, "a", encoding="utf-8") as f:
        f.write("\n[pull]\ntoken_files = pull.token\n")


def missing_counts_closed(b, c):
    st, m, raw = bl.post(c, b, None, method="GET", path="/v1/missing?day=" + DAY,
                         token=PULL_TOKEN, kind=None, ctype=None, cert=False)
    check(st == 200, "GET /v1/missing: %d %s" % (st, raw[:80]))
    m = m or {}
    counts = m.get("counts", {})
    check(counts.get("reported_closed") == 1 and counts.get("missing") == 1 and
          counts.get("expected") == 4,
          "missing: 4 expected, C1 reported closed, only D1 missing (%s)" % counts)
    listed = [s["code"] for county in m.get("counties", []) for s in county["schools"]]
    check(listed == ["D1"], "the list names D1 only, not the closed C1 (%s)" % listed)
    r = b.cli("missing", "--day", DAY)
    check("1 of those reporting said they were closed" in r.stdout,
          "the text says how many reported closed: %s" % r.stdout.strip().splitlines()[-3:])


def rollup(b, c):
    r = b.cli("report", "--day", DAY, "--level", "school", "--json")
    check(r.returncode == 0, "report --json: exit %d %s" % (r.returncode, r.stderr.strip()[:80]))
    rows = {row["school"]["code"]: row for row in json.loads(r.stdout)["rows"]} \
        if r.returncode == 0 else {}
    check(rows.get("A1", {}).get("groups", 0) is None, "a version 1 school: groups null")
    g = rows.get("B1", {}).get("groups") or {}
    check(g.get("schools") == 1 and g.get("staff", {}).get("absences_illness") == 1 and
          g.get("staff", {}).get("morning_rate") == 1.0,
          "a version 2 school: its staff apart (%s)" % g)
    check(rows.get("C1", {}).get("schools", {}).get("closed") == 1, "C1 counted closed")
    r = b.cli("report", "--day", DAY, "--json")
    city = json.loads(r.stdout)["rows"][0] if r.returncode == 0 else {}
    check(city.get("schools", {}).get("closed") == 1 and
          (city.get("groups") or {}).get("schools") == 2 and
          (city.get("groups") or {}).get("staff", {}).get("absences_illness") == 1,
          "the city: 1 closed, staff figures over the 2 version 2 schools (%s, %s)"
          % (city.get("schools"), city.get("groups")))
    r = b.cli("report", "--day", DAY, "--csv")
    header = r.stdout.lstrip("\ufeff").splitlines()[0] if r.returncode == 0 else ""
    check("schools_closed" in header and "staff_absences_illness" in header,
          "the CSV has the new columns")


def updated_during_the_day(b, c):
    """A1 updated at noon: its revision 2 is version 2; the city's sums follow."""
    sent(b, c, "A1", v2_doc("A1", DAY, 2, staff_ill=2))
    f = figures(b, "A1")
    check(f is not None and f[1] == "1" and f[5] == "2" and f[7] == "2",
          "A1's version 2 revision replaced its version 1 (%s)" % f)
    check(city_sums(b) == "3|1|3|3|3", "the city's day follows: %s" % city_sums(b))
    # A box restored from a backup of the old release: version 1 again, revision 3.
    sent(b, c, "A1", bl.summary_doc("A1", DAY, 3, figure=5))
    f = figures(b, "A1")
    check(f is not None and f[1] == "0" and f[4:7] == ["NULL"] * 3 and f[7] == "3",
          "a later version 1 revision: A1's groups unknown again (%s)" % f)
    check(city_sums(b) == "3|1|2|1|2", "the city's day subtracts what version 2 had added: "
          "%s" % city_sums(b))


def main():
    with bl.Bureau() as b:
        for code in ("A1", "B1", "C1", "D1"):
            b.enrol(code)
        pull_token(b)
        c = b.collector()
        both_versions_stored(b, c)
        refusals(b, c)
        missing_counts_closed(b, c)
        rollup(b, c)
        updated_during_the_day(b, c)
    gslib.finish()


if __name__ == "__main__":
    main()
