"""The bureau's roll-ups and pull API (issue 15, "Roll-ups and the pull API"), on a
private PostgreSQL with the real collector over TLS and the real gatescreen-bureau.

Five schools in three counties send summaries over mutual TLS, several revisions of
a day in any order (a late older one among them); the pull API (no client
certificate, a [pull] bearer token) must then give, for every day of a range and
for the city, each county and each school, exactly the sums of each school-day's
latest revision that this test computes itself from the documents it sent, with the
reporting completeness (a school disabled since still counts on the days it
reported). The same as CSV: a BOM, the header, cells a spreadsheet would take for a
formula guarded. Bad parameters: 400 naming the parameter; no or wrong token: 401;
a county or school that is not there: 404; an answer over the row limit: 400. The
notices as sent, acknowledged with gatescreen-bureau notice ack (once, with
who/when, audited, also when two race). gatescreen-bureau report and notice list
print the same bytes as the API. The [pull] tokens change on reload. The migration's
backfill gives an existing database the figures of each day's latest revision."""
import csv
import hashlib
import io
import json
import math
import os
import random
import signal
import subprocess
import http.client
import threading
import urllib.parse

import bureaulib as bl
import gslib
from gslib import check

D1, D2, D3 = "2026-12-07", "2026-12-08", "2026-12-09"
rng = random.Random(15)

# code -> (county, name)
SCHOOLS = {
    "A001": ("魏都区", "许昌市实验小学"),
    "A002": ("魏都区", '=HYPERLINK("http://x")'),
    "B001": ("建安区", "建安区第一初中"),
    "B002": ("建安区", "建安区幼儿园"),
    "C001": ("+外县", "外县小学"),
}
PULL_TOKEN = "pull-province-" + "k" * 24
PULL_TOKEN2 = "pull-dashboard-" + "d" * 24


def figures_doc(code, day, revision):
    """A summary of school `code` with figures of its own (random, consistent)."""
    d = bl.summary_doc(code, day, revision, name=SCHOOLS[code][1])
    st, te, sf = rng.randint(100, 900), rng.randint(5, 60), rng.randint(0, 20)
    d["population"] = {"student": st, "teacher": te, "staff": sf, "total": st + te + sf}
    d["on_leave"] = rng.randint(0, 10)
    d["expected"] = st + te - d["on_leave"]

    def window():
        done = rng.randint(0, d["expected"])
        return {"done": done, "expected": d["expected"],
                "coverage": round(done / d["expected"], 3) if d["expected"] else 0,
                "all": done + rng.randint(0, 5)}
    d["checks"] = {"morning": window(), "noon": window() if rng.random() < 0.5 else None}
    n = lambda hi=5: rng.randint(0, hi)  # noqa: E731
    d["fevers"] = {"screens": n(9), "confirmed": n(), "cleared": n(), "open": n()}
    d["referrals"] = {"opened": n(), "by_outcome": {"sent_home": n(), "hospital": n(),
                                                    "returned_to_class": n()}, "pending": n()}
    cause = {k: n() for k in ("illness", "personal", "other", "late")}
    unexplained = n()
    d["absences"] = {"all": sum(cause.values()) + unexplained, "by_cause": cause,
                     "unexplained": unexplained,
                     "by_symptom": {k: n() for k in ("fever", "cough", "sore_throat", "diarrhoea",
                                                     "vomiting", "rash", "conjunctivitis",
                                                     "other")}}
    d["returns"] = {"after_illness": n(), "certificates_recorded": n()}
    d["alerts"] = {"opened": n(2), "open_count": n(3), "open": []}
    d["devices"] = [{"lane": "l%d" % i, "gate": "南门",
                     "availability": rng.choice([None, round(rng.uniform(0.5, 1), 3)])}
                    for i in range(rng.randint(0, 4))]
    return d


# ---- what the answers must be, computed here ------------------------------------------

def rate(num, den):
    return math.floor(num * 1000.0 / den + 0.5) / 1000.0 if den > 0 else None


def summed(docs):
    """The figures of a row of these school-days' documents, as the API's JSON."""
    if not docs:
        return {k: None for k in ("population", "expected", "on_leave", "checks", "fevers",
                                  "referrals", "absences", "returns", "alerts", "devices",
                                  "groups")}

    def total(*path):
        out = 0
        for d in docs:
            v = d
            for p in path:
                v = v[p]
            out += v
        return out

    def group(path, keys):
        return {k: total(*path, k) for k in keys}
    morning = group(("checks", "morning"), ("done", "expected", "all"))
    noon_docs = [d for d in docs if d["checks"]["noon"] is not None]
    noon = None
    if noon_docs:
        noon = {"schools": len(noon_docs)}
        for k in ("done", "expected", "all"):
            noon[k] = sum(d["checks"]["noon"][k] for d in noon_docs)
        noon = {"schools": noon["schools"], "done": noon["done"], "expected": noon["expected"],
                "rate": rate(noon["done"], noon["expected"]), "all": noon["all"]}
    lanes = [dev for d in docs for dev in d["devices"]]
    known = [dev["availability"] for dev in lanes if dev["availability"] is not None]
    return {
        "population": group(("population",), ("student", "teacher", "staff", "total")),
        "expected": total("expected"), "on_leave": total("on_leave"),
        "checks": {"morning": {"done": morning["done"], "expected": morning["expected"],
                               "rate": rate(morning["done"], morning["expected"]),
                               "all": morning["all"]}, "noon": noon},
        "fevers": group(("fevers",), ("screens", "confirmed", "cleared", "open")),
        "referrals": {"opened": total("referrals", "opened"),
                      "by_outcome": group(("referrals", "by_outcome"),
                                          ("sent_home", "hospital", "returned_to_class")),
                      "pending": total("referrals", "pending")},
        "absences": {"all": total("absences", "all"),
                     "by_cause": group(("absences", "by_cause"),
                                       ("illness", "personal", "other", "late")),
                     "unexplained": total("absences", "unexplained"),
                     "by_symptom": group(("absences", "by_symptom"),
                                         ("fever", "cough", "sore_throat", "diarrhoea",
                                          "vomiting", "rash", "conjunctivitis", "other"))},
        "returns": group(("returns",), ("after_illness", "certificates_recorded")),
        "alerts": {"opened": total("alerts", "opened"), "open": total("alerts", "open_count")},
        "devices": {"lanes": len(lanes), "known": len(known),
                    "availability": (math.floor(sum(known) * 1000.0 / len(known) + 0.5) / 1000.0
                                     if known else None)},
        "groups": groups_summed(docs),
    }


def groups_summed(docs):
    """Students and staff apart, over the version 2 summaries only (issue 19)."""
    v2 = [d for d in docs if d.get("groups")]
    if not v2:
        return None

    def total(who, *path):
        out = 0
        for d in v2:
            v = d["groups"][who]
            for p in path:
                v = v[p]
            out += v
        return out
    st = {"expected": total("students", "expected"),
          "morning_done": total("students", "checks", "morning", "done"),
          "absences_all": total("students", "absences", "all"),
          "absences_illness": total("students", "absences", "illness")}
    st["morning_rate"] = rate(st["morning_done"], st["expected"])
    sf = {"population": total("staff", "population"), "expected": total("staff", "expected"),
          "morning_done": total("staff", "checks", "morning", "done"),
          "morning_all": total("staff", "checks", "morning", "all"),
          "absences_all": total("staff", "absences", "all"),
          "absences_illness": total("staff", "absences", "illness")}
    sf["morning_rate"] = rate(sf["morning_done"], sf["expected"])
    return {"schools": len(v2), "students": st, "staff": sf}


def expected_rows(latest, active, days, level, county=None):
    """The rows the API must give: latest is {(code, day): doc}; active the codes of
    the active schools."""
    def unit_of(code):
        return {"city": "", "county": SCHOOLS[code][0], "school": code}[level]
    rows = []
    for day in days:
        reporters = [c for (c, d) in latest if d == day]
        members = set(active) | set(reporters)
        if county:
            members = {c for c in members if SCHOOLS[c][0] == county}
        for u in sorted({unit_of(c) for c in members},
                        key=lambda u: (SCHOOLS[u][0], u) if level == "school" else u):
            mine = [c for c in members if unit_of(c) == u]
            docs = [latest[(c, day)] for c in sorted(mine) if (c, day) in latest]
            row = {"day": day}
            if level != "city":
                row["county"] = u if level == "county" else SCHOOLS[u][0]
            if level == "school":
                row["school"] = {"code": u, "name": SCHOOLS[u][1]}
                row["revision"] = docs[0]["revision"] if docs else None
            exp = len([c for c in mine if c in active]) + len(
                [c for c in mine if c not in active and (c, day) in latest])
            row["schools"] = {"expected": exp, "reported": len(docs),
                              "completeness": rate(len(docs), exp),
                              "closed": len([d for d in docs if d.get("closed")])}
            row.update(summed(docs))
            rows.append(row)
    return rows


# ---- the pull API's client --------------------------------------------------------------

class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        try:
            self.json = json.loads(body)
        except ValueError:
            self.json = None


def pull(b, c, path, params=None, token=PULL_TOKEN, method="GET", headers=None):
    """One pull request, without a client certificate."""
    conn = http.client.HTTPSConnection("127.0.0.1", c.port, context=bl.tls_context(b),
                                       timeout=30)
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    url = path + ("?" + urllib.parse.urlencode(params) if params else "")
    try:
        conn.request(method, url, headers=h)
        r = conn.getresponse()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def rollup(b, c, **params):
    return pull(b, c, "/v1/rollup", params)


# ---- the stand ---------------------------------------------------------------------------

def write_pull(b, lines):
    """The configuration with a [pull] section of these lines (none: no section)."""
    with open(b.conf, encoding="utf-8") as f:
        text = f.read().split("\n[pull]\n")[0]
    if lines:
        text += "\n[pull]\n" + "\n".join(lines) + "\n"
    with open(b.conf, "w", encoding="utf-8") as f:
        f.write(text)


def token_file(b, name, token):
    path = os.path.join(b.dir, name)
    with open(path, "w") as f:
        f.write(token + "\n")
    os.chmod(path, 0o600)
    return path


def send_all(b, c, schools):
    """The uploads, in an order with late revisions; {(code, day): latest doc}."""
    plan = [("A001", D1, 1), ("A001", D1, 3), ("A001", D1, 2),  # 2 arrives late
            ("A002", D1, 1), ("A002", D1, 2),
            ("B001", D1, 2), ("B001", D1, 1),                   # 1 arrives late
            ("B002", D1, 1), ("B002", D2, 1),
            ("A001", D2, 2)]                                    # 1 comes later
    latest, ok = {}, True
    for code, day, rev in plan:
        doc = figures_doc(code, day, rev)
        st, ans, _ = bl.send(c, b, schools[code], doc)
        ok = ok and st == 201
        if rev > latest.get((code, day), {"revision": 0})["revision"]:
            latest[(code, day)] = doc
    check(ok, "%d summaries of 5 schools in 3 counties sent over mutual TLS: 201 each"
          % len(plan))
    figs = b.sql("SELECT count(*) FROM summary_latest l JOIN summary_figures f "
                 "USING (school_code, day) WHERE l.revision = f.revision "
                 "AND l.document_id = f.document_id")
    check(figs == [[str(len(latest))]] and
          b.sql("SELECT count(*) FROM summary_figures") == [[str(len(latest))]],
          "summary_figures has one row per school-day, of its latest revision (%s)" % figs)
    return latest


# ---- the checks ----------------------------------------------------------------------------

def figures_add_up(b, c, latest, active):
    days = [D1, D2, D3]
    for level in ("city", "county", "school"):
        a = rollup(b, c, **{"from": D1, "to": D3, "level": level})
        want = expected_rows(latest, active, days, level)
        got = a.json["rows"] if a.json else None
        check(a.status == 200 and a.headers.get("content-type", "").startswith(
            "application/json") and got == want,
              "level=%s, %s..%s: %d rows, each the sum of the latest revisions, with the "
              "completeness" % (level, D1, D3, len(want)))
        if got != want:
            for g, w in zip(got or [], want):
                if g != w:
                    print("  got  %s\n  want %s" % (json.dumps(g, ensure_ascii=False),
                                                    json.dumps(w, ensure_ascii=False)))
                    break
        check(a.json and a.json.get("from") == D1 and a.json.get("level") == level,
              "  the answer says what it is for: %s" % {k: v for k, v in (a.json or {}).items()
                                                       if k != "rows"})
    a = rollup(b, c, **{"from": D1, "to": D1, "level": "school", "county": "建安区"})
    check(a.status == 200 and a.json["rows"] == expected_rows(latest, active, [D1], "school",
                                                              "建安区"),
          "county=建安区 narrows the school level to its two schools")
    city = rollup(b, c, **{"from": D1, "to": D1}).json["rows"][0]
    check(city["schools"] == {"expected": 5, "reported": 4, "completeness": 0.8, "closed": 0},
          "%s: 4 of 5 schools reported (B002, disabled since, counts on the day it reported); "
          "%s" % (D1, city["schools"]))
    d3 = rollup(b, c, **{"from": D3, "to": D3})
    check(d3.json["rows"][0]["schools"] == {"expected": 4, "reported": 0, "completeness": 0.0,
                                            "closed": 0}
          and d3.json["rows"][0]["population"] is None,
          "%s, nobody reported: 0 of the 4 active schools, figures null (not zero)" % D3)


def late_revision_changes_nothing(b, c, schools, latest, active):
    before = rollup(b, c, **{"from": D1, "to": D2, "level": "school"}).body
    st, _, _ = bl.send(c, b, schools["A001"], figures_doc("A001", D2, 1))
    mid = rollup(b, c, **{"from": D1, "to": D2, "level": "school"}).body
    check(st == 201 and before == mid,
          "revision 1 of A001's %s arriving after revision 2 (201, kept) changes no roll-up" % D2)
    st2, _, _ = bl.send(c, b, schools["A002"], figures_doc("A002", D1, 1))
    after = rollup(b, c, **{"from": D1, "to": D2, "level": "school"}).body
    check(st2 == 409 and before == after,
          "an old revision's key with other figures (409, quarantined) changes no roll-up")
    doc = figures_doc("A002", D1, 7)
    st, _, _ = bl.send(c, b, schools["A002"], doc)
    latest[("A002", D1)] = doc
    a = rollup(b, c, **{"from": D1, "to": D1, "level": "county", "county": "魏都区"})
    check(st == 201 and a.json["rows"] == expected_rows(latest, active, [D1], "county",
                                                        "魏都区"),
          "a newer revision (7) replaces the day's figures at once")


FIGURE_COLUMNS = (
    "population_student population_teacher population_staff population_total expected on_leave "
    "morning_done morning_expected morning_all noon_done noon_expected noon_all fever_screens "
    "fever_confirmed fever_cleared fever_open referrals_opened referrals_sent_home "
    "referrals_hospital referrals_returned_to_class referrals_pending absences_all "
    "absences_illness absences_personal absences_other absences_late absences_unexplained "
    "symptom_fever symptom_cough symptom_sore_throat symptom_diarrhoea symptom_vomiting "
    "symptom_rash symptom_conjunctivitis symptom_other returns_after_illness "
    "certificates_recorded alerts_opened alerts_open lanes lanes_known").split()


def city_days_agree(b):
    """summary_city_day (kept by the uploads, + new - old) against summary_figures
    added up again: the days where they differ."""
    figs = ", ".join("coalesce(sum(%s), 0)::bigint" % c for c in FIGURE_COLUMNS)
    return b.sql("SELECT * FROM (SELECT day, sum(reported)::bigint, sum(noon_schools)::bigint, "
                 "%s, round(sum(availability_sum)::numeric, 6) FROM summary_city_day "
                 "GROUP BY day) c FULL JOIN (SELECT day, count(*)::bigint, "
                 "count(noon_done)::bigint, %s, round(sum(availability_sum)::numeric, 6) "
                 "FROM summary_figures GROUP BY day) f USING (day) WHERE c IS DISTINCT FROM f"
                 % (figs, figs))


def racing_revisions(b, c, schools, latest, active):
    """Revisions 1..25 of three schools' two days sent at once from 8 threads, in a
    shuffled order: each day ends with its highest revision, in summary_figures and
    in the city's day alike."""
    days, codes = ("2026-12-10", "2026-12-11"), ("A001", "B001", "C001")
    docs = [figures_doc(code, day, rev) for code in codes for day in days for rev in range(1, 26)]
    rng.shuffle(docs)
    results, lock = [], threading.Lock()

    def worker(mine):
        for d in mine:
            st, _, _ = bl.send(c, b, schools[d["school"]["code"]], d)
            with lock:
                results.append(st)
    threads = [threading.Thread(target=worker, args=(docs[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for d in docs:
        key = (d["school"]["code"], d["date"])
        if d["revision"] > latest.get(key, {"revision": 0})["revision"]:
            latest[key] = d
    revs = b.sql("SELECT DISTINCT revision FROM summary_figures WHERE day IN ('%s', '%s')" % days)
    check(results.count(201) == len(docs) and revs == [["25"]],
          "%d revisions of 6 school-days from 8 threads at once: each day's figures are its "
          "revision 25 (%s)" % (len(docs), revs))
    a = rollup(b, c, **{"from": days[0], "to": days[1]})
    check(a.status == 200 and a.json["rows"] == expected_rows(latest, active, list(days), "city"),
          "the city's days kept by the racing uploads (+ new - old) are the sums of the latest "
          "revisions")
    bad = city_days_agree(b)
    check(bad == [], "summary_city_day agrees with summary_figures on every day (%s)" % bad[:2])


def csv_answers(b, c):
    a = pull(b, c, "/v1/rollup", {"from": D1, "to": D2, "level": "school", "format": "csv"})
    text = a.body.decode("utf-8")
    check(a.status == 200 and a.headers.get("content-type") == "text/csv; charset=utf-8" and
          'filename="rollup-school-%s-%s.csv"' % (D1, D2) in a.headers.get(
              "content-disposition", ""), "format=csv: text/csv, an attachment with its name")
    check(a.body.startswith(b"\xef\xbb\xbf"), "the CSV starts with the UTF-8 BOM")
    rows = list(csv.reader(io.StringIO(text[1:], newline="")))
    check(rows[0][:8] == ["day", "county", "school_code", "school_name", "revision",
                          "schools_expected", "schools_reported", "completeness"] and
          "morning_rate" in rows[0] and "availability" in rows[0] and len(rows) == 11,
          "a header and a row per school and day (%d lines)" % len(rows))
    check('\'=HYPERLINK(""http://x"")' in text and ",'+外县," in text,
          "cells a spreadsheet would take for a formula get a leading ' (a school's name, a "
          "county's)")
    check(all(line.endswith("\r") or not line for line in text.split("\n")),
          "records end with CRLF")
    j = rollup(b, c, **{"from": D1, "to": D2, "level": "school"}).json["rows"]
    head = rows[0]
    row = [dict(zip(head, r)) for r in rows[1:] if r[2] == "A001" and r[0] == D1][0]
    first = [x for x in j if x["school"]["code"] == "A001" and x["day"] == D1][0]
    check(row["day"] == first["day"] and int(row["population_total"]) ==
          first["population"]["total"] and float(row["morning_rate"]) ==
          first["checks"]["morning"]["rate"], "the CSV's figures are the JSON's")
    empty = [r for r in rows[1:] if r[6] == "0"]
    check(empty and all(x == "" for x in empty[0][8:]),
          "a school that did not report: its figure cells are empty")


def bad_parameters(b, c):
    cases = [
        ({"to": D1}, "from", "from is required"),
        ({"from": "2026-02-30", "to": D1}, "from", "not a day"),
        ({"from": D2, "to": D1}, "to", "before from"),
        ({"from": "2025-01-01", "to": "2026-12-31"}, "to", "more than 366 days"),
        ({"from": D1, "to": D1, "level": "province"}, "level", "not one of city"),
        ({"from": D1, "to": D1, "county": "魏都区"}, "county", "not the city"),
        ({"from": D1, "to": D1, "form": D1}, "form", "no such parameter"),
        ({"from": D1, "to": D1, "format": "xml"}, "format", "json or csv"),
    ]
    for params, param, words in cases:
        a = rollup(b, c, **params)
        ok = (a.status == 400 and a.json and a.json.get("parameter") == param and
              words in a.json.get("error", ""))
        check(ok, "400 for %s: %s" % (urllib.parse.urlencode(params), a.body[:140].decode()))
    for raw, param in (("from=%FF%FE&to=" + D1, "from"), ("%FF=1&from=" + D1, "?"),
                       ("from=%s&to=%s&level=county&county=%%E9%%AD" % (D1, D1), "county")):
        a = pull(b, c, "/v1/rollup?" + raw)
        check(a.status == 400 and a.json and a.json["parameter"] == param,
              "bytes that are not UTF-8 in the query: 400 with a JSON error (%s)" % a.json)
    a = pull(b, c, "/v1/rollup?from=%s&from=%s&to=%s" % (D1, D2, D2))
    check(a.status == 400 and a.json["parameter"] == "from" and "twice" in a.json["error"],
          "a parameter given twice: 400 (%s)" % a.json)
    a = rollup(b, c, **{"from": D1, "to": D1, "level": "county", "county": "无此县"})
    check(a.status == 404 and a.json["parameter"] == "county" and "无此县" in a.json["error"],
          "a county no school is in: 404 (%s)" % a.json)
    a = pull(b, c, "/v1/notices", {"unacknowledged": "maybe"})
    check(a.status == 400 and a.json["parameter"] == "unacknowledged",
          "notices: unacknowledged=maybe is 400 (%s)" % a.json)
    a = pull(b, c, "/v1/notices", {"school": "NOPE"})
    check(a.status == 404 and a.json["parameter"] == "school", "notices: an unknown school is "
          "404 (%s)" % a.json)
    a = pull(b, c, "/v1/rollup", {"from": D1, "to": D1}, method="POST")
    check(a.status == 405, "POST on a pull route: 405")


def tokens(b, c):
    for what, kw, status in [
            ("no Authorization", {"token": None}, 401),
            ("a wrong token", {"token": "pull-guessed-000000000000000"}, 401),
            ("a school's upload token", {"token": b.schools["A001"].token}, 401),
            ("Basic instead of Bearer", {"token": None,
                                         "headers": {"Authorization": "Basic cHVsbDpwdWxs"}},
             401)]:
        a = pull(b, c, "/v1/rollup", {"from": D1, "to": D1}, **kw)
        check(a.status == status and a.json and "error" in a.json and
              a.headers.get("www-authenticate", "").startswith("Bearer"),
              "%s: %d with WWW-Authenticate (%s)" % (what, a.status, a.json))
    a = pull(b, c, "/v1/rollup", {"from": D1, "to": D1}, token=PULL_TOKEN2)
    check(a.status == 200, "the token given by its SHA-256 in [pull] token_sha256: 200")
    check("pull: " + hashlib.sha256(PULL_TOKEN.encode()).hexdigest()[:12] in c.text(),
          "the log names which token pulled by its digest's first 12 digits, not the token")
    check(PULL_TOKEN not in c.text(), "the token itself is never logged")


def notices(b, c, schools):
    n1 = bl.notice_doc("A001", 1, day=D1)
    n2 = bl.sample("notice")
    n2.update({"notice_id": "A002/referral/2", "school": {"code": "A002", "name": "x"},
               "day": D1, "person": {"external_id": "S1", "name": "张三", "class": "=1班",
                                     "kind": "student"}})
    alert = {"schema": "gatescreen.notice/1", "type": "cluster_alert",
             "notice_id": "B001/alert/1", "school": {"code": "B001", "name": "x"},
             "generated_at": "2026-12-08T08:01:02.003Z", "opened_at": "2026-12-08T08:00:00.000Z",
             "day": D2, "class": "二年级3班", "rule": "three_days", "case_count": 2,
             "cases": [{"person": {"pseudonym": "a" * 64, "class": "二年级3班"},
                        "case_kind": "confirmed_fever", "day": D1},
                       {"person": {"pseudonym": "b" * 64, "class": "二年级3班"},
                        "case_kind": "illness_absence", "day": D2}]}
    sent = [bl.send(c, b, schools[code], doc)[0]
            for code, doc in (("A001", n1), ("A002", n2), ("B001", alert))]
    check(sent == [201, 201, 201], "a referral, a referral naming the person, a cluster alert: "
          "201 each")
    a = pull(b, c, "/v1/notices")
    ns = a.json["notices"] if a.json else []
    check(a.status == 200 and [n["notice_id"] for n in ns] ==
          ["A001/referral/1", "A002/referral/2", "B001/alert/1"], "all notices, oldest first")
    first = ns[0] if ns else {}
    check(first.get("school") == {"code": "A001", "name": SCHOOLS["A001"][1], "county": "魏都区"}
          and first.get("class") == n1["person"]["class"] and
          first.get("pseudonym") == n1["person"]["pseudonym"] and
          first.get("person") == n1["person"] and first.get("screen_temperature") == 38.4 and
          first.get("acknowledged_at") is None, "a referral: school, class and pseudonym as sent")
    check(ns[2].get("cases") == alert["cases"] and ns[2].get("class") == "二年级3班" and
          ns[2].get("rule") == "three_days", "a cluster alert: class, rule and cases as sent")
    r = b.cli("notice", "ack", "A001", "A001/referral/1", "--note", "rang the school: at home")
    check(r.returncode == 0 and "acknowledged by" in r.stdout, "notice ack: %s" % r.stdout.strip())
    r2 = b.cli("notice", "ack", "A001", "A001/referral/1", "--note", "again")
    check(r2.returncode == 1 and "acknowledged already by" in r2.stderr,
          "the same notice again: exit 1, %s" % r2.stderr.strip())
    r3 = b.cli("notice", "ack", "A001", "A001/referral/99", "--note", "x")
    check(r3.returncode == 1 and "no notice" in r3.stderr, "an unknown notice: exit 1, %s"
          % r3.stderr.strip())
    a = pull(b, c, "/v1/notices", {"unacknowledged": "1"})
    acked = pull(b, c, "/v1/notices", {"from": D1, "to": D1}).json["notices"][0]
    check([n["notice_id"] for n in a.json["notices"]] == ["A002/referral/2", "B001/alert/1"] and
          acked["acknowledged_by"] and acked["acknowledged_at"].endswith("Z") and
          acked["ack_note"] == "rang the school: at home",
          "unacknowledged=1 leaves it out; the list says who acknowledged it, when, and the note")
    audit = b.sql("SELECT action, target, detail FROM audit_log WHERE action = 'notice ack'")
    check(audit == [["notice ack", "A001/referral/1", "rang the school: at home"]],
          "the acknowledgement is in audit_log once: %s" % audit)
    race_ack(b)
    a = pull(b, c, "/v1/notices", {"format": "csv"})
    text = a.body.decode("utf-8")
    check(a.body.startswith(b"\xef\xbb\xbf") and ",'=1班," in text and "张三" in text and
          ("a" * 64 + " confirmed_fever " + D1) in text, "notices as CSV: BOM, the person as "
          "sent, the class guarded, the alert's cases in one cell")


def race_ack(b):
    """Two acknowledgements of one notice at the same moment: one wins."""
    out = [None, None]
    barrier = threading.Barrier(2)

    def ack(i):
        barrier.wait()
        out[i] = b.cli("notice", "ack", "B001", "B001/alert/1", "--note", "ack %d" % i)
    threads = [threading.Thread(target=ack, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(r.returncode for r in out)
    rows = b.sql("SELECT ack_note FROM notices WHERE notice_id = 'B001/alert/1'")
    audit = b.sql("SELECT count(*) FROM audit_log WHERE target = 'B001/alert/1'")
    check(codes == [0, 1] and audit == [["1"]] and rows[0][0] in ("ack 0", "ack 1"),
          "two acknowledgements racing: one wins, the other is told (%s, audit %s)"
          % (codes, audit))


def cli_agrees(b, c):
    for level in ("city", "county", "school"):
        params = {"from": D1, "to": D3, "level": level}
        for fmt in ("csv", "json"):
            api = pull(b, c, "/v1/rollup", dict(params, format=fmt)).body
            r = subprocess.run([bl.BCLI, "-c", b.conf, "report", "--from", D1, "--to", D3,
                                "--level", level, "--" + fmt], capture_output=True, timeout=60)
            check(r.returncode == 0 and r.stdout == api,
                  "gatescreen-bureau report --level %s --%s prints the API's bytes" % (level, fmt))
    r = b.cli("report", "--day", D1, "--level", "county")
    a = rollup(b, c, **{"from": D1, "to": D1, "level": "county"}).json["rows"]
    check(r.returncode == 0 and all(("%d of %d schools" % (x["schools"]["reported"],
                                                            x["schools"]["expected"])) in r.stdout
                                    and (not x["population"] or ("population %d" %
                                                                 x["population"]["total"])
                                         in r.stdout) for x in a),
          "report for people: the same figures as the API\n" + r.stdout[:600])
    api = pull(b, c, "/v1/notices", {"format": "csv", "unacknowledged": "1"}).body
    r = subprocess.run([bl.BCLI, "-c", b.conf, "notice", "list", "--unacknowledged", "--csv"],
                       capture_output=True, timeout=60)
    check(r.returncode == 0 and r.stdout == api, "notice list --csv prints the API's bytes")
    r = b.cli("report", "--from", D2, "--to", D1)
    check(r.returncode == 2 and "to is before from" in r.stderr,
          "the CLI refuses what the API refuses, with the same words")


def pulls_while_reloading(b, c):
    """Pulls from 4 threads while the collector reloads the same tokens: the token set
    is replaced under the readers (pull_auth's mutex), none of them notices."""
    statuses, lock = [], threading.Lock()

    def worker():
        for _ in range(10):
            st = pull(b, c, "/v1/rollup", {"from": D1, "to": D2, "level": "county"}).status
            with lock:
                statuses.append(st)
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(3):
        c.proc.send_signal(signal.SIGHUP)
        gslib.wait_until(lambda: False, 0.05)
    for t in threads:
        t.join(120)
    check(statuses == [200] * 40, "40 pulls from 4 threads across 3 reloads: all 200 (%s)"
          % sorted(set(statuses)))


def reload_tokens(b, c):
    new = "pull-rotated-" + "r" * 24
    write_pull(b, ["token_files = " + token_file(b, "pull-new.token", new)])
    reloads = c.text().count("reload: ")
    c.proc.send_signal(signal.SIGHUP)
    check(c.wait_for("reload: ", 10, count=reloads + 1), "SIGHUP reloads")
    gslib.wait_until(lambda: pull(b, c, "/v1/rollup", {"from": D1, "to": D1},
                                  token=new).status == 200, 10)
    old = pull(b, c, "/v1/rollup", {"from": D1, "to": D1}).status
    check(pull(b, c, "/v1/rollup", {"from": D1, "to": D1}, token=new).status == 200 and old == 401,
          "a reload with a new token file: the new token pulls, the old one is 401")
    write_pull(b, [])
    c.proc.send_signal(signal.SIGHUP)
    gslib.wait_until(lambda: pull(b, c, "/v1/rollup", {"from": D1, "to": D1},
                                  token=new).status == 403, 10)
    a = pull(b, c, "/v1/rollup", {"from": D1, "to": D1}, token=new)
    check(a.status == 403 and "off" in a.json["error"],
          "without [pull] the pull API is off: 403 (%s)" % a.json)


def too_many_rows(b, c):
    b.sql("INSERT INTO schools (code, name, county, kind) SELECT 'Z' || i, 'z', 'Z县', '小学' "
          "FROM generate_series(1, 140) i")
    a = rollup(b, c, **{"from": "2026-01-01", "to": "2026-12-31", "level": "school"})
    check(a.status == 400 and "more than 50000 rows" in a.json["error"],
          "145 schools over 365 days at school level: 400, ask for less (%s)" % a.json)
    a = rollup(b, c, **{"from": "2026-01-01", "to": "2026-12-31", "level": "county"})
    check(a.status == 200 and len(a.json["rows"]) == 365 * 4, "the same year by county: 200")


def backfill(b):
    """An existing database at migration 1 with summaries: migration 3 gives each
    school-day the figures of its latest revision."""
    dsn = b.pg.createdb("old")
    b.pg.psql(open(os.path.join(gslib.SOURCE, "sql", "bureau", "001_initial.sql"),
                   encoding="utf-8").read(), "old")
    b.pg.psql("INSERT INTO schema_migrations (version, name) VALUES (1, '001_initial.sql');"
              "INSERT INTO schools (code, name, county, kind) VALUES ('A001', 'a', 'c', '小学')",
              "old")
    docs = [figures_doc("A001", D1, 1), figures_doc("A001", D1, 2)]
    for i, d in enumerate(docs, 1):
        body = json.dumps(d, ensure_ascii=False).replace("'", "''")
        b.pg.psql("INSERT INTO documents (id, school_code, kind, idem_key, body_sha256, body, doc, "
                  "received_by) VALUES (%d, 'A001', 'summary', 'k%d', repeat('0', 64), '%s', "
                  "'%s'::jsonb, 't'); INSERT INTO summaries VALUES ('A001', '%s', %d, %d, now(), "
                  "now())" % (i, i, body, body, D1, d["revision"], i), "old")
    b.pg.psql("INSERT INTO summary_latest VALUES ('A001', '%s', 2, 2, now(), now())" % D1, "old")
    conf = os.path.join(b.dir, "old.conf")
    with open(b.conf, encoding="utf-8") as f:
        text = f.read().replace(b.dsn, dsn)
    with open(conf, "w", encoding="utf-8") as f:
        f.write(text)
    r = b.cli("report", "--day", D1, "--json", conf=conf)
    row = json.loads(r.stdout)["rows"][0] if r.returncode == 0 else {}
    want = summed([docs[1]])
    check(r.returncode == 0 and {k: row.get(k) for k in want} == want and
          b.pg.psql("SELECT revision FROM summary_figures", "old") == [["2"]],
          "migration 3 on a database with summaries: the day's figures are its latest "
          "revision's (%s)" % (r.stderr.strip() or "backfilled"))


def main():
    with bl.Bureau() as b:
        tok_path = token_file(b, "pull.token", PULL_TOKEN)
        write_pull(b, ["token_files = " + tok_path,
                       "token_sha256 = " + hashlib.sha256(PULL_TOKEN2.encode()).hexdigest()])
        r = subprocess.run([bl.BUREAUD, "--check-config", b.conf], capture_output=True,
                           text=True)
        check(r.returncode == 0, "--check-config with [pull]: %s" % (r.stdout + r.stderr).strip())
        os.chmod(tok_path, 0o644)
        r = subprocess.run([bl.BUREAUD, "--check-config", b.conf], capture_output=True,
                           text=True)
        check(r.returncode != 0 and tok_path in r.stderr and "chmod 600" in r.stderr,
              "--check-config: a pull token file others can read is refused: %s"
              % r.stderr.strip())
        os.chmod(tok_path, 0o600)
        c = b.collector()
        schools = {code: b.enrol(code, county=county, name=name)
                   for code, (county, name) in SCHOOLS.items()}
        latest = send_all(b, c, schools)
        r = b.cli("school", "disable", "B002")
        check(r.returncode == 0, "B002 disabled after it reported")
        active = [code for code in SCHOOLS if code != "B002"]
        figures_add_up(b, c, latest, active)
        late_revision_changes_nothing(b, c, schools, latest, active)
        csv_answers(b, c)
        racing_revisions(b, c, schools, latest, active)
        bad_parameters(b, c)
        tokens(b, c)
        notices(b, c, schools)
        cli_agrees(b, c)
        too_many_rows(b, c)
        backfill(b)
        pulls_while_reloading(b, c)
        reload_tokens(b, c)
        rc, _ = c.stop()
        check(rc == 0, "the collector stops cleanly")
    gslib.finish()


if __name__ == "__main__":
    main()
