"""The bureau's side of `make demo` (python3 stdlib only; used by demo_day.py).

A private PostgreSQL under DIR/pg (tests/integration/pglib.py: Unix socket only), the
bureau's CA made with `gatescreen-bureau ca init`, one gatescreen-bureaud collector on
127.0.0.1, and a pull token for the pull API. Every school, the demo school and 60
synthetic ones, is added with `gatescreen-bureau school add` and enrolled with
`gatescreen-bureau school enrol` (the real bundle: key, certificate, token). The 60
schools' last 30 days are uploaded as their gate controllers would: POST /v1/documents
over mutual TLS with the bundle's certificate and token, so every figure goes through
the collector's checks and ingest. Only one thing is not real: when a report arrived.
Everything is uploaded now, so afterwards each school-day's first arrival
(summary_latest.first_received_at) is set with psql to the morning time the school
would have sent it, as tests/integration/test_bureau_missing.py does; two schools
always send after the 10:00 deadline.
"""
import copy
import datetime
import http.client
import json
import os
import random
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import zoneinfo

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import pglib  # noqa: E402

ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")  # the bureau's zone: [deadlines] default
COUNTIES = ("魏都区", "建安区", "鄢陵县")
OUTBREAK = "鄢陵县"        # fevers and illness absences rise over its last 10 days
# Never on time: XC2007 reports late in the morning (after the 10:00 deadline), XC1013
# in the evening (after the 17:00 one as well).
LATE = ("XC2007", "XC1013")
DAYS = 30
SCHOOLS_PER_COUNTY = 20
TEMPLATE = os.path.join(HERE, "..", "data", "bureau", "summary.json")
NOTICE = os.path.join(HERE, "..", "data", "bureau", "notice.json")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
PLACES = "东关 西关 南街 北街 文峰 清潭 新兴 七里店 丁庄 高桥 半截河 许田 五女店 灵井 陈曹 望田 马栏 只乐 彭店 大马".split()
KINDS = (("小学", 600), ("初中", 1100), ("高中", 1800))


def stop_left_over(folder):
    """A PostgreSQL left running in folder by a demo that was killed (SIGKILL leaves
    no time to stop it): stopped before the folder is made anew."""
    data = os.path.join(folder, "pg", "data")
    if os.path.exists(os.path.join(data, "postmaster.pid")):
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(as_user + [os.path.join(pglib.BIN, "pg_ctl"), "-D", data, "-m",
                                  "immediate", "-w", "stop"], capture_output=True)


def say(text):
    print("demo: bureau: " + text, flush=True)


class Bureau:
    """PostgreSQL, the CA, the configuration, the CLI and the collector."""

    def __init__(self, build, folder, port, certs, page_port=None):
        self.build, self.dir, self.port, self.certs = build, folder, port, certs
        self.page_port = page_port  # the officers' page ([page]); None: no page
        os.makedirs(folder)
        self.ca = os.path.join(folder, "ca")
        self.conf = os.path.join(folder, "bureau.conf")
        self.log_path = os.path.join(folder, "collector.log")
        self.token_path = os.path.join(folder, "pull.token")
        self.token = "demo-pull-" + os.urandom(12).hex()
        self.proc = None
        self.pg = pglib.Postgres(folder=os.path.join(folder, "pg"))
        self.dsn = self.pg.createdb("bureau")

    def setup(self):
        r = self.cli("ca", "init", self.ca, "--name", "许昌市教育局 demo CA")
        if r.returncode != 0:
            raise RuntimeError("gatescreen-bureau ca init: " + r.stderr.strip())
        with open(self.token_path, "w") as f:
            f.write(self.token + "\n")
        os.chmod(self.token_path, 0o600)
        # rate_per_minute = 0: the history is 30 uploads per school at once, under the
        # default burst of 60, but a re-run on the same minute must not wait.
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write("[collector]\nlisten = 127.0.0.1:%d\ntls_cert = %s\ntls_key = %s\n"
                    "client_ca = %s\ninstance = demo\nthreads = 4\nrate_per_minute = 0\n"
                    "log_level = info\n\n[database]\ndsn = %s\n\n[pull]\ntoken_files = %s\n"
                    % (self.port, self.certs["server"], self.certs["server.key"],
                       os.path.join(self.ca, "ca.pem"), self.dsn, self.token_path))
            if self.page_port:
                f.write("\n[page]\nlisten = 127.0.0.1:%d\ntls_cert = %s\ntls_key = %s\n"
                        % (self.page_port, self.certs["server"], self.certs["server.key"]))

    def add_officers(self, logins):
        """The page's users through the real CLI, the password on stdin:
        (name, role, county or None, password)."""
        for name, role, county, password in logins:
            args = ["user", "add", name, "--role", role, "--by", "demo"]
            if county:
                args += ["--county", county]
            r = subprocess.run([os.path.join(self.build, "gatescreen-bureau"), "-c", self.conf,
                                *args], input=password + "\n", capture_output=True, text=True,
                               timeout=60)
            if r.returncode != 0:
                raise RuntimeError("gatescreen-bureau user add %s: %s" % (name, r.stderr.strip()))

    def cli(self, *args, check=False):
        r = subprocess.run([os.path.join(self.build, "gatescreen-bureau"), "-c", self.conf,
                            *args], capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError("gatescreen-bureau %s: %s" % (" ".join(args), r.stderr.strip()))
        return r

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([os.path.join(self.build, "gatescreen-bureaud"), "-c",
                                      self.conf], stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        for _ in range(200):
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            if "ready:" in text:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("gatescreen-bureaud did not start:\n" + text[-2000:])

    def url(self, path="/v1/documents"):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def enrol(self, code, name, county, kind, contact, phone):
        """school add + school enrol: the bundle's path."""
        self.cli("school", "add", code, "--name", name, "--county", county, "--kind", kind,
                 "--contact", contact, "--phone", phone, check=True)
        os.makedirs(os.path.join(self.dir, "bundles"), exist_ok=True)
        bundle = os.path.join(self.dir, "bundles", code + ".bundle")
        self.cli("school", "enrol", code, "--ca", self.ca, "--url", self.url(),
                 "--server-ca", self.certs["ca"], "--out", bundle, check=True)
        return bundle

    def pull(self, path, **params):
        """GET a pull route with the demo token: (status, answer)."""
        ctx = ssl.create_default_context(cafile=self.certs["ca"])
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=30)
        try:
            conn.request("GET", path + "?" + urllib.parse.urlencode(params),
                         headers={"Authorization": "Bearer " + self.token})
            r = conn.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            conn.close()

    def curl(self, path):
        return ("curl --cacert %s -H \"Authorization: Bearer $(cat %s)\" '%s'"
                % (self.certs["ca"], self.token_path, self.url(path)))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        try:
            self.pg.stop()
        except RuntimeError as e:  # stopped already (its log says why)
            say("PostgreSQL: %s" % e)


class Sender:
    """One school's uploads on one kept-alive mutual-TLS connection, with the
    bundle's certificate, key and token, the way gatescreen's uploader sends them."""

    def __init__(self, bureau, bundle):
        with open(bundle, encoding="utf-8") as f:
            b = json.load(f)
        base = os.path.join(bureau.dir, "schools", b["school"])
        os.makedirs(os.path.dirname(base), exist_ok=True)
        for ext, text in ((".pem", b["certificate"]), (".key", b["key"])):
            fd = os.open(base + ext, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)
        self.ctx = ssl.create_default_context(cafile=bureau.certs["ca"])
        self.ctx.load_cert_chain(base + ".pem", base + ".key")
        self.port, self.token, self.conn = bureau.port, b["token"], None

    def send(self, doc):
        summary = doc["schema"].startswith("gatescreen.summary")
        key = ("%s/%s/%d" % (doc["school"]["code"], doc["date"], doc["revision"]) if summary
               else doc["notice_id"])
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key,
                   "X-Gatescreen-Kind": "summary" if summary else "notice",
                   "Authorization": "Bearer " + self.token}
        for attempt in (1, 2):  # once more on a new connection if the kept one was closed
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPSConnection("127.0.0.1", self.port,
                                                            context=self.ctx, timeout=30)
                self.conn.request("POST", "/v1/documents", body=body, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                if r.will_close:
                    self.close()
                if r.status not in (200, 201):
                    raise RuntimeError("upload %s: %d %s" % (key, r.status, raw[:300]))
                return
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


# ---- 60 plausible schools ---------------------------------------------------------

def make_schools(rng):
    schools = []
    for c, county in enumerate(COUNTIES):
        for i in range(SCHOOLS_PER_COUNTY):
            kind, size = KINDS[i % 3]
            place = PLACES[(i + 7 * c) % len(PLACES)]
            students = int(size * rng.uniform(0.6, 1.5))
            schools.append({
                "code": "XC%d%03d" % (c + 1, i + 1), "county": county, "kind": kind,
                "name": "%s%s%s" % (county[:2], place, kind), "students": students,
                "teachers": max(12, students // 14), "staff": max(4, students // 70),
                "lanes": 2 if students < 900 else 4, "noon": kind == "小学",
                "contact": rng.choice(SURNAMES) + rng.choice(("老师", "主任", "校长")),
                "phone": "0374-%07d" % rng.randrange(2000000, 9999999)})
    return schools


def outbreak_factor(county, back):
    """How much more illness than usual, `back` days before today: in the outbreak
    county it rises over the last 10 days to about five times the usual."""
    if county != OUTBREAK or back > 10:
        return 1.0
    return 1.0 + 0.45 * (11 - back)


def poisson(rng, mean):
    # Knuth's method: the means here are small (at most a few dozen).
    limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def split(rng, total, weights):
    """total spread over len(weights) parts at random, in proportion to weights."""
    parts = [0] * len(weights)
    for _ in range(total):
        parts[rng.choices(range(len(weights)), weights)[0]] += 1
    return parts


def sample(path, cache={}):
    if path not in cache:
        with open(path, encoding="utf-8") as f:
            cache[path] = json.load(f)
    return copy.deepcopy(cache[path])


def figures(rng, s, day, back, arrival_utc):
    """One school-day's summary (the shape of tests/data/bureau/summary.json)."""
    d = sample(TEMPLATE)
    n, factor = s["students"], outbreak_factor(s["county"], back)
    total = n + s["teachers"] + s["staff"]
    ill = poisson(rng, n * 0.005 * factor)
    personal, other, late = poisson(rng, n * 0.002), poisson(rng, n * 0.0005), poisson(rng, 2)
    unexplained = poisson(rng, 0.8)
    on_leave = poisson(rng, n * 0.001)
    expected = total - on_leave
    absent = ill + personal + other + unexplained
    done = max(0, expected - absent - poisson(rng, 1.5))
    screens = poisson(rng, n * 0.0012 * factor)
    confirmed = sum(rng.random() < (0.35 if factor == 1 else 0.6) for _ in range(screens))
    outcomes = split(rng, confirmed, (5, 1, 2))
    fever = sum(rng.random() < (0.5 if factor == 1 else 0.8) for _ in range(ill))
    symptoms = dict(zip(("cough", "sore_throat", "diarrhoea", "vomiting", "rash",
                         "conjunctivitis", "other"), split(rng, ill, (6, 4, 1, 1, 0.3, 0.2, 1))))
    returns = poisson(rng, n * 0.003 * factor)
    window = lambda dn, ex: {"done": dn, "expected": ex,
                             "coverage": round(dn / ex, 3) if ex else 0, "all": dn + poisson(rng, 3)}
    d["school"] = {"code": s["code"], "name": s["name"]}
    d["date"], d["revision"], d["generated_at"] = day, 1, arrival_utc
    d["population"] = {"student": n, "teacher": s["teachers"], "staff": s["staff"], "total": total}
    d["expected"], d["on_leave"] = expected, on_leave
    d["checks"] = {"morning": window(done, expected),
                   "noon": window(max(0, done - poisson(rng, 4)), expected) if s["noon"] else None}
    d["fevers"] = {"screens": screens, "confirmed": confirmed, "cleared": screens - confirmed,
                   "open": 0}
    d["referrals"] = {"opened": confirmed, "by_outcome": dict(zip(
        ("sent_home", "hospital", "returned_to_class"), outcomes)), "pending": 0}
    d["absences"] = {"all": absent + late, "unexplained": unexplained, "by_cause": {
        "illness": ill, "personal": personal, "other": other, "late": late},
        "by_symptom": dict(fever=fever, **symptoms)}
    d["returns"] = {"after_illness": returns, "certificates_recorded": max(0, returns - poisson(rng, 0.5))}
    cluster = factor > 3 and rng.random() < 0.05
    d["alerts"] = {"opened": int(cluster), "open_count": int(cluster), "open": [
        {"class": a_class(rng), "rule": "day", "day": day, "cases": 3 + poisson(rng, 1)}]
        if cluster else []}
    d["devices"] = [{"lane": "lane-%d" % (k + 1), "gate": ("东门", "北门")[k % 2],
                     "availability": round(min(1.0, rng.uniform(0.96, 1.02)), 3)}
                    for k in range(s["lanes"])]
    return d


def a_class(rng):
    return "%s年级%d班" % ("一二三四五六"[rng.randrange(6)], rng.randrange(1, 6))


def person(rng, cls):
    return {"pseudonym": os.urandom(32).hex(), "class": cls}


def referral(rng, s, day, n, opened_utc):
    d = sample(NOTICE)
    d["school"] = {"code": s["code"], "name": s["name"]}
    d["notice_id"] = "%s/referral/%d" % (s["code"], n)
    d["day"], d["opened_at"], d["generated_at"] = day, opened_utc, opened_utc
    d["person"] = person(rng, a_class(rng))
    d["screen_temperature"] = round(rng.uniform(37.6, 39.3), 1)
    d["recheck_temperature"] = round(d["screen_temperature"] - rng.uniform(0, 0.4), 1)
    return d


def cluster_alert(rng, s, day, n, opened_utc, alert):
    """The notice of a cluster alert the day's summary counts as opened."""
    cases = [{"person": person(rng, alert["class"]),
              "case_kind": rng.choice(("confirmed_fever", "illness_absence")), "day": day}
             for _ in range(alert["cases"])]
    return {"schema": "gatescreen.notice/1", "type": "cluster_alert",
            "notice_id": "%s/alert/%d" % (s["code"], n),
            "school": {"code": s["code"], "name": s["name"]}, "generated_at": opened_utc,
            "opened_at": opened_utc, "day": day, "class": alert["class"], "rule": alert["rule"],
            "case_count": len(cases), "cases": cases}


def arrival(rng, code, day):
    """The local time the school's report of `day` would have arrived."""
    if code == LATE[0]:
        minutes = rng.randrange(10 * 60 + 20, 15 * 60 + 30)
    elif code == LATE[1]:
        minutes = rng.randrange(17 * 60 + 30, 21 * 60)
    else:
        minutes = rng.randrange(7 * 60 + 20, 9 * 60 + 50)
    return datetime.datetime.combine(day, datetime.time(minutes // 60, minutes % 60,
                                                        rng.randrange(60)), ZONE)


def plan(rng, schools, today, now):
    """{code: [document, ...]} and [(code, day, local arrival)] for 30 days before
    today, and today's reports that would have arrived by now."""
    docs, arrivals = {s["code"]: [] for s in schools}, []
    for s in schools:
        referrals = alerts = 0
        for back in range(DAYS, -1, -1):
            day = today - datetime.timedelta(days=back)
            at = arrival(rng, s["code"], day)
            if back == 0 and (at > now or s.get("demo")):
                continue  # today's not sent yet; the demo school's today is the daemon's
            utc = at.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            doc = figures(rng, s, day.isoformat(), back, utc)
            docs[s["code"]].append(doc)
            arrivals.append((s["code"], day.isoformat(), at.strftime("%H:%M:%S")))
            # A few notices: a referral a day at a quarter of the outbreak county's
            # schools over the last three days, and every cluster alert.
            if (s["county"] == OUTBREAK and back <= 3 and s["code"].endswith(("1", "5"))
                    and doc["referrals"]["opened"]):
                referrals += 1
                docs[s["code"]].append(referral(rng, s, day.isoformat(), referrals, utc))
            for alert in doc["alerts"]["open"]:
                alerts += 1
                docs[s["code"]].append(cluster_alert(rng, s, day.isoformat(), alerts, utc,
                                                     alert))
    return docs, arrivals


def load_history(bureau, schools, seed):
    """Enrols every school and uploads its history; returns what was sent."""
    t0 = time.monotonic()
    rng = random.Random(seed)
    now = datetime.datetime.now(ZONE)
    docs, arrivals = plan(rng, schools, now.date(), now)
    senders = {s["code"]: Sender(bureau, s["bundle"]) for s in schools}
    work = list(senders.items())
    lock, errors = threading.Lock(), []

    def worker():
        while True:
            with lock:
                if not work or errors:
                    return
                code, sender = work.pop()
            try:
                for doc in docs[code]:
                    sender.send(doc)
            except Exception as e:  # reported after the threads end
                with lock:
                    errors.append("%s: %s" % (code, e))
            finally:
                sender.close()
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("the history upload failed: " + "; ".join(errors[:3]))
    values = ",".join("('%s', DATE '%s', TIME '%s')" % a for a in arrivals)
    bureau.pg.psql("UPDATE summary_latest l SET first_received_at = "
                   "(v.day + v.at) AT TIME ZONE 'Asia/Shanghai' FROM (VALUES %s) "
                   "AS v(code, day, at) WHERE l.school_code = v.code AND l.day = v.day"
                   % values, "bureau")
    summaries = sum(1 for d in docs.values() for x in d if "revision" in x)
    notices = sum(len(d) for d in docs.values()) - summaries
    return summaries, notices, time.monotonic() - t0
