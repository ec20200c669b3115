#!/usr/bin/env python3
"""The collector's ingest (issue 15, "Performance"): the same school-day summaries
stored, side by side in one run, by

  pgbench    PostgreSQL alone: pgbench (-M prepared, --threads clients) runs the
             collector's own statement for each row (ingest_document, sql/bureau/
             008: the credential, the document INSERT ... ON CONFLICT, its summaries
             and summary_latest rows, summary_figures_put, in one call; against a
             build without 008 the seven statements the collector sent then),
             synchronous_commit on: the floor for this disk and these rows;
  fresh      the real gatescreen-bureaud, every upload on a new connection with a
             full TLS handshake and the school's client certificate (EC P-256, from
             the bureau's CA as `school enrol` issues them), then closed;
  keepalive  the same collector code, one connection per school carrying all of
             that school's uploads of the round.

    python3 tests/bench/bench_ingest.py [--build DIR] [--schools 10000] [--rounds 3] [--warmup 1]
        [--uploads 20000] [--days-per-school 20] [--threads 4] [--conns 32]
        [--keep-conns 16] [--verify 1] [--perf SECONDS]

Needs a build (make build, or --build DIR; its ingest_load is the load) and
postgresql-15 (pgbench, the tests' private server: tests/integration/pglib.py). The
stand is the tests' (bureaulib): one private PostgreSQL, the server certificate and the
bureau's client CA. Three databases in that one cluster (one disk, one WAL), each
migrated by the programs themselves: `bureau` (the collector taking fresh handshakes),
`keep` (a second collector, keep-alive) and `pgb` (pgbench), so that each contender
stores the very same rows. Every database gets --schools schools (20 counties) and each
school a credential issued by `ingest_load enrol` (bureau/enrol, as `gatescreen-bureau
school enrol`), copied into `credentials`.

A round is --uploads summaries: --days-per-school days (a range of its own in each
round) of --uploads / --days-per-school schools (the next ones in each round), made from
tests/data/bureau/summary.json with figures varying by school and day, in day order.
Each round runs the three contenders one after the other, in an order that rotates, on
the same rows; a CHECKPOINT before each. The first --warmup rounds (1) are not counted
in the medians (new connections' caches, the first autovacuum after the load: the
collector's first round cost PostgreSQL up to 2.5 ms a row, later ones 0.7-0.9).
After each, the database is counted: lost = rows expected but not stored, duplicated =
rows stored more than once, in documents and summaries; summaries, summary_latest,
summary_figures and summary_city_day's reported school-days must all be the round's
rows. CPU per row is read from /proc (the collector,
every PostgreSQL process and the ones that ended, the load) to say where the time goes.
Medians over the rounds are printed with the targets: fresh >= 1,000 uploads/s,
keepalive >= 0.5 x pgbench.

--perf SECONDS: in the last round, `perf record -g` the collector for that long during
each of its runs, and print where its time went (perf report --no-children).
"""
import argparse
import csv
import datetime
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIRST_DAY = datetime.date(2026, 1, 1)
CONTENDERS = ("pgbench", "fresh", "keepalive")


def args_of():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.environ.get("GS_BUILD_DIR",
                                                      os.path.join(HERE, "..", "..", "build")))
    ap.add_argument("--schools", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1,
                    help="rounds run first and not counted in the medians")
    ap.add_argument("--uploads", type=int, default=20000, help="rows per round")
    ap.add_argument("--days-per-school", type=int, default=20)
    ap.add_argument("--threads", type=int, default=4,
                    help="collector threads (= database connections) = pgbench clients; 4 is "
                         "the collector's default, and its fresh handshakes cost less CPU with "
                         "4 than with 8 or 16 (tests/bench/README.md)")
    ap.add_argument("--conns", type=int, default=32, help="fresh: connections at once")
    ap.add_argument("--keep-conns", type=int, default=16, help="keepalive: connections")
    ap.add_argument("--verify", type=int, default=1, choices=(0, 1),
                    help="the load checks the server's certificate")
    ap.add_argument("--perf", type=float, default=0)
    ap.add_argument("--only", default=",".join(CONTENDERS))
    ap.add_argument("--collector-conf", action="append", default=[],
                    help="KEY = VALUE added to [collector] (e.g. threads = 8)")
    a = ap.parse_args()
    if a.uploads % a.days_per_school or a.uploads % a.threads:
        ap.error("--uploads must be a multiple of --days-per-school and of --threads")
    if a.uploads // a.days_per_school > a.schools:
        ap.error("--uploads / --days-per-school is more schools than --schools")
    if ((a.rounds + a.warmup) * a.days_per_school) > 365:
        ap.error("(--rounds + --warmup) x --days-per-school is more than a year of days")
    return a


ARGS = args_of()
os.environ["GS_BUILD_DIR"] = os.path.abspath(ARGS.build)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import bureaulib as bl  # noqa: E402  (after GS_BUILD_DIR: it names the programs)

LOAD = os.path.join(os.path.abspath(ARGS.build), "ingest_load")
CLK = os.sysconf("SC_CLK_TCK")

# The collector's statement (bureau/store/bstore_ingest.c) for one row: since
# sql/bureau/008_ingest_one_call.sql one call, ingest_document, does the credential and
# the row's four writes in its own transaction. The row is read from bench_input in the
# same statement (the collector has it in memory), with its credential's token digest
# (the collector hashes the bearer token it was sent).
PGBENCH_SCRIPT = """\
WITH i AS MATERIALIZED (
  SELECT i.*, c.token_sha256 AS tok FROM bench_input i
    JOIN credentials c ON c.cert_sha256 = i.cert_sha256
   WHERE i.n = (SELECT nextval('bench_next')))
SELECT r.* FROM i, LATERAL ingest_document(i.cert_sha256, i.tok, i.school_code, 'summary',
    i.idem_key, i.body_sha256, i.body, 'pgbench', i.day::date, i.revision,
    i.generated_at::timestamptz, false, NULL, NULL, NULL) r;
"""

# Before 008 (a build without ingest_document, for comparing builds side by side): the
# collector's seven statements then, the row and its credential read first in one.
PGBENCH_SCRIPT_BEFORE_008 = """\
SELECT i.school_code AS sc, i.idem_key AS k, i.body AS body, i.body_sha256 AS sha,
       i.day AS day, i.revision AS rev, i.generated_at AS gen, c.id AS cred,
       c.token_sha256 AS tok, (c.revoked_at IS NOT NULL)::int AS revoked, s.active::int AS act
  FROM bench_input i JOIN credentials c ON c.cert_sha256 = i.cert_sha256
  JOIN schools s ON s.code = c.school_code
 WHERE i.n = (SELECT nextval('bench_next'))
\\gset
BEGIN;
INSERT INTO documents (school_code, kind, idem_key, body_sha256, body, doc, received_by)
VALUES (:sc, 'summary', :k, :sha, :body::text, :body::text::jsonb, 'pgbench')
ON CONFLICT (school_code, idem_key) DO NOTHING RETURNING id AS id
\\gset
INSERT INTO summaries (school_code, day, revision, document_id, generated_at, received_at)
VALUES (:sc, :day::date, :rev::int, :id::bigint, :gen::timestamptz, now());
INSERT INTO summary_latest (school_code, day, revision, document_id, first_received_at,
                            received_at)
VALUES (:sc, :day::date, :rev::int, :id::bigint, now(), now())
ON CONFLICT (school_code, day) DO UPDATE SET revision = excluded.revision,
    document_id = excluded.document_id, received_at = excluded.received_at
WHERE summary_latest.revision < excluded.revision;
SELECT summary_figures_put(:id::bigint);
COMMIT;
"""


def code_of(i):
    return "S%06d" % i


def summary(sample, i, day, k):
    """School i's summary of `day` (the k-th of the run), revision 1, figures varying."""
    d = json.loads(sample)
    student = 300 + (i * 7 + k) % 600
    total = student + 40
    leave = k % 3
    done = total - leave - (i + k) % 5
    d["school"] = {"code": code_of(i), "name": "学校%d" % i}
    d["date"], d["revision"] = day, 1
    d["generated_at"] = "%sT09:%02d:%02d.%03dZ" % (day, i % 60, k % 60, i % 1000)
    d["population"] = {"student": student, "teacher": 30, "staff": 10, "total": total}
    d["expected"], d["on_leave"] = total - leave, leave
    d["checks"]["morning"] = {"done": done, "expected": total - leave,
                              "coverage": round(done / (total - leave), 3), "all": done}
    d["absences"]["all"] = leave + 2
    return json.dumps(d, ensure_ascii=False, separators=(",", ":"))


def make_rounds(work, certs):
    """Per round: its uploads file for the load, and the rows for pgbench's input (with
    n numbering every round's rows); (files, day ranges)."""
    with open(os.path.join(bl.DATA, "summary.json"), encoding="utf-8") as f:
        sample = f.read()
    per_day = ARGS.uploads // ARGS.days_per_school
    files, ranges, n = [], [], 0
    with open(os.path.join(work, "pgb-input.csv"), "w", newline="", encoding="utf-8") as pf:
        w = csv.writer(pf)
        for r in range(ARGS.rounds + ARGS.warmup):
            days = [(FIRST_DAY + datetime.timedelta(days=r * ARGS.days_per_school + j))
                    .isoformat() for j in range(ARGS.days_per_school)]
            schools = [(r * per_day + j) % ARGS.schools + 1 for j in range(per_day)]
            path = os.path.join(work, "round-%d.tsv" % r)
            with open(path, "w", encoding="utf-8") as f:
                for k, day in enumerate(days):
                    for i in schools:
                        body = summary(sample, i, day, r * ARGS.days_per_school + k)
                        key = "%s/%s/1" % (code_of(i), day)
                        assert "\t" not in body and "\n" not in body
                        f.write("%s\t%s\t%s\n" % (code_of(i), key, body))
                        n += 1
                        gen = json.loads(body)["generated_at"]
                        w.writerow([n, code_of(i), key, body,
                                    hashlib.sha256(body.encode()).hexdigest(), day, 1, gen,
                                    certs[code_of(i)]])
            files.append(path)
            ranges.append((days[0], days[-1], r * ARGS.uploads + 1))
    return files, ranges


def psql(b, db, sql):
    return b.pg.psql(sql, db)


def write_conf(b, name, db, port, instance):
    with open(b.conf, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"listen = 127\.0\.0\.1:\d+", "listen = 127.0.0.1:%d" % port, text)
    text = re.sub(r"instance = .*", "instance = " + instance, text)
    text = text.replace("dsn = " + b.dsn, "dsn = " + b.pg.dsn(db))
    extra = "".join(x + "\n" for x in ARGS.collector_conf)
    text = text.replace("[database]", extra + "\n[database]")
    path = os.path.join(b.dir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def start_collector(b, conf, port, name):
    c = bl.Collector(conf, port, name)
    b.collectors.append(c)
    return c.start()


def load_schools(b, db, cred_csv):
    psql(b, db, "INSERT INTO schools (code, name, county, kind, enrolment) "
                "SELECT 'S' || lpad(i::text, 6, '0'), '学校' || i, "
                "'县' || lpad((i %% 20)::text, 2, '0'), '小学', 800 "
                "FROM generate_series(1, %d) i" % ARGS.schools)
    psql(b, db, "\\copy credentials (school_code, cert_serial, cert_sha256, token_sha256, "
                "not_after, issued_by) FROM '%s' WITH (FORMAT csv)" % cred_csv)


def proc_cpu(pid):
    """(own CPU, CPU of its children that ended) in seconds, from /proc/PID/stat."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    return (int(fields[11]) + int(fields[12])) / CLK, (int(fields[13]) + int(fields[14])) / CLK


def postgres_cpu(b):
    """Every process of the cluster: the postmaster, its live children, and (through
    the postmaster's children's time) the backends that ended."""
    with open(os.path.join(b.pg.data, "postmaster.pid")) as f:
        pm = int(f.readline())
    own, ended = proc_cpu(pm)
    total = own + ended
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pm:
            total += proc_cpu(int(d))[0]
    return total


def wal_syncs(b):
    """The cluster's WAL flushes so far: commits per flush say how much group commit
    there was (each flush is a write and an fdatasync, kernel time in PostgreSQL)."""
    return int(psql(b, "postgres", "SELECT wal_sync FROM pg_stat_wal")[0][0])


def machine_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]  # total, idle + iowait


class Meter:
    """CPU seconds of the collector and PostgreSQL, and the machine's busy share,
    between start() and stop()."""

    def __init__(self, b, collector_pid):
        self.b, self.pid = b, collector_pid

    def start(self):
        self.c0 = proc_cpu(self.pid)[0] if self.pid else 0.0
        self.p0, self.m0 = postgres_cpu(self.b), machine_busy()
        self.s0 = wal_syncs(self.b)
        return self

    def stop(self):
        c = (proc_cpu(self.pid)[0] if self.pid else 0.0) - self.c0
        p = postgres_cpu(self.b) - self.p0
        m1 = machine_busy()
        total, idle = m1[0] - self.m0[0], m1[1] - self.m0[1]
        self.syncs = wal_syncs(self.b) - self.s0
        return c, p, 1.0 - idle / max(1, total)


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))]


def run_pgbench(b, work, r, first_n):
    psql(b, "pgb", "SELECT setval('bench_next', %d, false)" % first_n)
    psql(b, "pgb", "CHECKPOINT")
    logdir = os.path.join(work, "pgb-log-%d" % r)
    os.makedirs(logdir, exist_ok=True)
    os.chmod(logdir, 0o777)
    argv = ["pgbench", "-n", "-M", "prepared", "-c", str(ARGS.threads), "-j", "2",
            "-t", str(ARGS.uploads // ARGS.threads), "-f", os.path.join(work, "pgb.sql"),
            "-l", "--log-prefix", os.path.join(logdir, "tx"), "-h", b.pg.dir, "-U",
            bl.pglib.SUPERUSER, "pgb"]
    m = Meter(b, None).start()
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    _, pg, busy = m.stop()
    syncs = m.syncs
    if p.returncode != 0 or "tps = " not in out:
        sys.exit("bench_ingest: pgbench failed:\n" + out[-3000:])
    tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))
    lat = []
    for name in os.listdir(logdir):
        with open(os.path.join(logdir, name)) as f:
            lat += [int(line.split()[2]) / 1000.0 for line in f]
    shutil.rmtree(logdir, ignore_errors=True)
    return {"rate": tps, "p50": statistics.median(lat), "p99": pct(lat, 99), "n": len(lat),
            "cpu_pg": pg, "cpu_load": ru.ru_utime + ru.ru_stime, "cpu_coll": 0.0, "busy": busy,
            "wall": wall, "status": {}, "failed": 0, "retries": 0, "syncs": syncs}


def perf_record(pid, seconds, out):
    return subprocess.Popen(["perf", "record", "--call-graph", "dwarf,16384", "-F", "499",
                             "-o", out, "-p", str(pid), "--", "sleep", str(seconds)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_load(b, c, mode, work, path, perf=0.0):
    psql(b, "bureau" if mode == "fresh" else "keep", "CHECKPOINT")
    argv = [LOAD, "run", "--port", str(c.port), "--server-ca", b.certs["ca"], "--keys",
            os.path.join(work, "schools.keys"), "--uploads", path, "--mode", mode,
            "--conns", str(ARGS.conns if mode == "fresh" else ARGS.keep_conns),
            "--verify", str(ARGS.verify)]
    m = Meter(b, c.proc.pid).start()
    rec = perf_record(c.proc.pid, perf, os.path.join(work, "perf-%s.data" % mode)) if perf \
        else None
    p = subprocess.run(argv, capture_output=True, text=True)
    coll, pg, busy = m.stop()
    if rec:
        rec.wait()
    try:
        res = json.loads(p.stdout)
    except ValueError:
        sys.exit("bench_ingest: ingest_load %s failed (%d): %s" % (mode, p.returncode,
                                                                   p.stderr[-3000:]))
    if p.stderr.strip():
        print("  (ingest_load: %s)" % p.stderr.strip().splitlines()[-1])
    return {"rate": res["rate"], "p50": res["p50_ms"], "p99": res["p99_ms"], "n": res["ok"],
            "cpu_pg": pg, "cpu_load": res["cpu_s"], "cpu_coll": coll, "busy": busy,
            "wall": res["seconds"], "status": res["status"], "failed": res["failed"],
            "retries": res["retries"], "handshakes": res["handshakes"], "syncs": m.syncs}


def count(b, db, d0, d1):
    """(stored, lost, duplicated, consistent) for the round's days."""
    row = psql(b, db, """
WITH d AS (SELECT school_code, idem_key FROM documents
           WHERE kind = 'summary' AND split_part(idem_key, '/', 2) BETWEEN '%(a)s' AND '%(b)s')
SELECT (SELECT count(*) FROM d), (SELECT count(DISTINCT (school_code, idem_key)) FROM d),
       (SELECT count(*) FROM summaries WHERE day BETWEEN '%(a)s' AND '%(b)s'),
       (SELECT count(DISTINCT (school_code, day, revision)) FROM summaries
         WHERE day BETWEEN '%(a)s' AND '%(b)s'),
       (SELECT count(*) FROM summary_latest WHERE day BETWEEN '%(a)s' AND '%(b)s'),
       (SELECT count(*) FROM summary_figures WHERE day BETWEEN '%(a)s' AND '%(b)s'),
       (SELECT coalesce(sum(reported), 0) FROM summary_city_day
         WHERE day BETWEEN '%(a)s' AND '%(b)s')""" % {"a": d0, "b": d1})[0]
    docs, docs_distinct, summ, summ_distinct, latest, figures, city = (int(x) for x in row)
    lost = ARGS.uploads - docs_distinct
    dup = (docs - docs_distinct) + (summ - summ_distinct)
    consistent = summ == latest == figures == city == docs
    return docs, lost, dup, consistent


def show(label, name, x):
    rows = max(1, x["n"])
    st = " ".join("%s:%d" % kv for kv in sorted(x["status"].items()))
    print("%-7s %-9s %6d rows %8.1f /s  p50 %6.2f ms  p99 %7.2f ms   CPU ms/row: "
          "collector %.3f  postgres %.3f  load %.3f   rows/WAL flush %.1f   machine %3.0f%%   "
          "lost %d dup %d%s%s"
          % (label, name, x["stored"], x["rate"], x["p50"], x["p99"],
             1000 * x["cpu_coll"] / rows, 1000 * x["cpu_pg"] / rows,
             1000 * x["cpu_load"] / rows, rows / max(1, x["syncs"]), 100 * x["busy"],
             x["lost"], x["dup"],
             "" if x["consistent"] else "  TABLES DISAGREE",
             ("   [%s, retries %d, failed %d]" % (st, x["retries"], x["failed"])) if st else ""))
    sys.stdout.flush()


# The collector's steps whose inclusive share perf_report prints.
STEPS = ("gnutls_handshake", "peer_identify", "gnutls_certificate_verify_peers",
         "certid_from_der", "collector_upload", "check_sender", "intake_document",
         "bstore_ingest", "PQexecParams", "send_answer", "log_info", "MHD_queue_response")


def perf_report(work, mode):
    """The collector's functions over 1.5% of its samples, and by library."""
    path = os.path.join(work, "perf-%s.data" % mode)
    print("perf of the collector (%s), by library and the functions over 1.5%%:" % mode)
    for sort, limit in (("dso", "1"), ("dso,symbol", "1.5")):
        r = subprocess.run(["perf", "report", "-i", path, "--stdio", "--no-children", "--sort",
                            sort, "--percent-limit", limit, "-g", "none"], capture_output=True,
                           text=True)
        for line in r.stdout.splitlines():
            if line.strip() and not line.startswith("#"):
                print("  " + line.strip())
    # Inclusive shares of the collector's own steps (callers included, with -g).
    r = subprocess.run(["perf", "report", "-i", path, "--stdio", "--children", "--sort", "symbol",
                        "-g", "none"], capture_output=True, text=True)
    steps = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\s*([0-9.]+)%\s+([0-9.]+)%\s+\[[.k]\]\s+(\S+)", line)
        if m and m.group(3) in STEPS:
            steps[m.group(3)] = float(m.group(1))
    print("  inclusive: " + ", ".join("%s %.1f%%" % (k, steps[k]) for k in STEPS if k in steps))


def summarise(res, warm):
    med = {}
    print("\nmedians over %d rounds (%d rows each; %d schools enrolled):" % (
        ARGS.rounds, ARGS.uploads, ARGS.schools))
    for name in CONTENDERS:
        xs = res.get(name)
        if not xs:
            continue
        med[name] = {k: statistics.median(x[k] for x in xs) for k in ("rate", "p50", "p99")}
        rows = [max(1, x["n"]) for x in xs]
        print("  %-9s %8.1f rows/s  p50 %6.2f ms  p99 %7.2f ms   CPU ms/row: collector %.3f  "
              "postgres %.3f  load %.3f   lost %d  dup %d" % (
                  name, med[name]["rate"], med[name]["p50"], med[name]["p99"],
                  statistics.median(1000 * x["cpu_coll"] / n for x, n in zip(xs, rows)),
                  statistics.median(1000 * x["cpu_pg"] / n for x, n in zip(xs, rows)),
                  statistics.median(1000 * x["cpu_load"] / n for x, n in zip(xs, rows)),
                  sum(x["lost"] for x in xs), sum(x["dup"] for x in xs)))
    lost = sum(x["lost"] + x["dup"] + (not x["consistent"])
               for xs in list(res.values()) + [warm] for x in xs)
    if "fresh" in med:
        print("target fresh >= 1000 uploads/s: %.0f, %s" % (
            med["fresh"]["rate"], "met" if med["fresh"]["rate"] >= 1000 else "NOT met"))
    if "keepalive" in med and "pgbench" in med:
        ratios = [k["rate"] / p["rate"] for k, p in zip(res["keepalive"], res["pgbench"])]
        ratio = statistics.median(ratios)
        print("target keepalive >= 0.5 x pgbench: %.2f x (per round %s), %s" % (
            ratio, ", ".join("%.2f" % x for x in ratios), "met" if ratio >= 0.5 else "NOT met"))
    if "fresh" in med and "pgbench" in med:
        print("fresh / pgbench: %.2f x" % (med["fresh"]["rate"] / med["pgbench"]["rate"]))
    print("target 0 lost and 0 duplicated (and the tables agree), warm-up included: %s"
          % ("met" if lost == 0 else "NOT met"))


def setup(b, work):
    t0 = time.monotonic()
    for db in ("keep", "pgb"):
        b.pg.createdb(db)
    ports = {"fresh": bl.free_port(), "keepalive": bl.free_port()}
    confs = {"fresh": write_conf(b, "fresh.conf", "bureau", ports["fresh"], "bench-fresh"),
             "keepalive": write_conf(b, "keep.conf", "keep", ports["keepalive"], "bench-keep")}
    pgb_conf = write_conf(b, "pgb.conf", "pgb", bl.free_port(), "bench-pgb")
    r = b.cli("db", "check", conf=pgb_conf)  # the CLI migrates as the collector does
    if r.returncode != 0:
        sys.exit("bench_ingest: db check: " + r.stderr)
    cols = {name: start_collector(b, confs[name], ports[name], name) for name in confs}
    keys, cred_csv = os.path.join(work, "schools.keys"), os.path.join(work, "credentials.csv")
    e = subprocess.run([LOAD, "enrol", "--ca-cert", b.certs["client-ca"], "--ca-key",
                        b.certs["client-ca.key"], "--count", str(ARGS.schools), "--keys", keys,
                        "--csv", cred_csv], capture_output=True, text=True)
    if e.returncode != 0:
        sys.exit("bench_ingest: ingest_load enrol: " + e.stderr)
    t1 = time.monotonic()
    for db in ("bureau", "keep", "pgb"):
        load_schools(b, db, cred_csv)
    with open(cred_csv) as f:
        certs = {row[0]: row[2] for row in csv.reader(f)}
    files, ranges = make_rounds(work, certs)
    psql(b, "pgb", "CREATE TABLE bench_input (n bigint PRIMARY KEY, school_code text, "
                   "idem_key text, body text, body_sha256 text, day text, revision int, "
                   "generated_at text, cert_sha256 text); CREATE SEQUENCE bench_next")
    psql(b, "pgb", "\\copy bench_input FROM '%s' WITH (FORMAT csv)"
         % os.path.join(work, "pgb-input.csv"))
    one_call = psql(b, "pgb", "SELECT to_regproc('ingest_document') IS NOT NULL") == [["t"]]
    with open(os.path.join(work, "pgb.sql"), "w") as f:
        f.write(PGBENCH_SCRIPT if one_call else PGBENCH_SCRIPT_BEFORE_008)
    for db in ("bureau", "keep", "pgb"):
        psql(b, db, "VACUUM ANALYZE")
    size = os.path.getsize(files[0]) / ARGS.uploads
    print("enrolled %d schools (EC P-256 certificates from the bureau's CA) in %.0f s; "
          "%d+%d rounds (warm-up + counted) of %d summaries (%d schools x %d days, %.0f bytes "
          "each) made in %.0f s"
          % (ARGS.schools, t1 - t0, ARGS.warmup, ARGS.rounds, ARGS.uploads,
             ARGS.uploads // ARGS.days_per_school, ARGS.days_per_school, size,
             time.monotonic() - t1))
    return cols, files, ranges


def main():
    print("command: python3 tests/bench/bench_ingest.py " + " ".join(sys.argv[1:]))
    only = ARGS.only.split(",")
    # Every school sends its 20 uploads at once: the per-school rate limit is off.
    with bl.Bureau(threads=ARGS.threads, rate_per_minute=0) as b:
        work = os.path.join(b.dir, "work")
        os.makedirs(work)
        os.chmod(b.dir, 0o755)  # pgbench's log is written by us, psql's \copy reads ours
        cols, files, ranges = setup(b, work)
        print("collector threads %d (= database connections = pgbench clients); load: fresh "
              "%d connections, keepalive %d; server certificate checked by the load: %s; "
              "load average %.2f" % (ARGS.threads, ARGS.conns, ARGS.keep_conns,
                                     "yes" if ARGS.verify else "no", os.getloadavg()[0]))
        res, warm = {}, []
        for r in range(ARGS.warmup + ARGS.rounds):
            order = [CONTENDERS[(r + i) % 3] for i in range(3)]
            d0, d1, first_n = ranges[r]
            label = "round %d" % (r - ARGS.warmup + 1) if r >= ARGS.warmup else "warm-up"
            for name in (n for n in order if n in only):
                perf = ARGS.perf if r == ARGS.warmup + ARGS.rounds - 1 else 0
                if name == "pgbench":
                    x, db = run_pgbench(b, work, r, first_n), "pgb"
                else:
                    x = run_load(b, cols[name], name, work, files[r], perf)
                    db = "bureau" if name == "fresh" else "keep"
                x["stored"], x["lost"], x["dup"], x["consistent"] = count(b, db, d0, d1)
                if r >= ARGS.warmup:
                    res.setdefault(name, []).append(x)
                else:
                    warm.append(x)
                show(label, name, x)
        summarise(res, warm)
        for mode in ("fresh", "keepalive"):
            if ARGS.perf and mode in only:
                perf_report(work, mode)
        for c in cols.values():
            c.stop()


if __name__ == "__main__":
    main()
