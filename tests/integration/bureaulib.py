"""The bureau's side for the integration tests (issue 15): a private PostgreSQL
(pglib), the bureau's certificates (tests/tools/make_certs.py: the server's from "ca",
the schools' from "client-ca"), its configuration, the real gatescreen-bureau CLI and
the real gatescreen-bureaud collector(s), and an HTTPS client that speaks to the
collector with a school's certificate the way gatescreen's uploader does."""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import gslib
import pglib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import make_certs as mc  # noqa: E402

BUREAUD = os.path.join(gslib.BUILD, "gatescreen-bureaud")
BCLI = os.path.join(gslib.BUILD, "gatescreen-bureau")
PATH = "/v1/documents"
DATA = os.path.join(gslib.SOURCE, "tests", "data", "bureau")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sample(kind):
    """tests/data/bureau/KIND.json as a dict (school T001)."""
    with open(os.path.join(DATA, kind + ".json"), encoding="utf-8") as f:
        return json.load(f)


def summary_doc(code, day, revision, figure=0, name="测试学校"):
    """A valid summary of school `code`; `figure` changes its facts."""
    d = sample("summary")
    d["school"] = {"code": code, "name": name}
    d["date"], d["revision"] = day, revision
    d["checks"]["morning"]["done"] = figure
    return d


def notice_doc(code, n, day="2026-12-06"):
    d = sample("notice")
    d["school"]["code"] = code
    d["notice_id"] = "%s/referral/%d" % (code, n)
    d["day"] = day
    return d


def body_of(doc):
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def key_of(doc):
    if doc["schema"].startswith("gatescreen.summary"):
        return "%s/%s/%d" % (doc["school"]["code"], doc["date"], doc["revision"])
    return doc["notice_id"]


class School:
    """A school's credential at the bureau: certificate, key and token files."""

    def __init__(self, code, cert, key, token, token_path):
        self.code, self.cert, self.key, self.token, self.token_path = code, cert, key, token, \
            token_path


class Collector:
    """One gatescreen-bureaud, its log in a file."""

    def __init__(self, conf, port, name):
        self.conf, self.port, self.name = conf, port, name
        self.log_path = conf + ".log"
        self.proc = None

    def start(self, wait=True, extra=()):
        self.log = open(self.log_path, "a")
        self.starts = (self.text().count("ready:") if os.path.exists(self.log_path) else 0) + 1
        self.proc = gslib.spawn([BUREAUD, "-c", self.conf, *extra], stdout=self.log,
                                stderr=subprocess.STDOUT)
        if wait and not self.wait_ready():
            raise RuntimeError("%s did not start:\n%s" % (self.name, self.text()[-3000:]))
        return self

    def wait_ready(self, timeout=20.0):
        """This start's "ready:" (the log file keeps the earlier starts' lines)."""
        return self.wait_for("ready:", timeout, count=self.starts)

    def text(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_for(self, needle, timeout=15.0, count=1):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.text().count(needle) >= count:
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        return self.text().count(needle) >= count

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """(exit status, seconds)."""
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        return rc, time.monotonic() - t0

    def url(self):
        return "https://127.0.0.1:%d%s" % (self.port, PATH)


class Bureau:
    """The whole stand: PostgreSQL, certificates, configuration, CLI, collectors."""

    def __init__(self, threads=4, max_body="64k", rate_per_minute=None):
        self.dir = tempfile.mkdtemp(prefix="gs-bureau-")
        self.pg = pglib.Postgres()
        self.dsn = self.pg.createdb("bureau")
        self.certdir = os.path.join(self.dir, "certs")
        self.certs = mc.make_certs(self.certdir)
        self.threads, self.max_body = threads, max_body
        self.rate_per_minute = rate_per_minute  # None: the collector's default
        self.collectors = []
        self.schools = {}
        self.conf = self.write_config("bureau.conf", free_port(), "bureau-a")

    def write_config(self, name, port, instance, dsn=None, **extra):
        path = os.path.join(self.dir, name)
        lines = ["[collector]", "listen = 127.0.0.1:%d" % port,
                 "tls_cert = " + self.certs["server"], "tls_key = " + self.certs["server.key"],
                 "client_ca = " + self.certs["client-ca"], "instance = " + instance,
                 "threads = %d" % self.threads, "max_body = " + self.max_body,
                 "log_level = info"]
        if self.rate_per_minute is not None:
            lines.append("rate_per_minute = %d" % self.rate_per_minute)
        lines += ["%s = %s" % kv for kv in extra.items()]
        lines += ["", "[database]", "dsn = " + (dsn or self.dsn), "connect_timeout = 3s", ""]
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        return path

    def collector(self, name="bureau-a", start=True):
        """A collector on its own port and config (the first one uses self.conf)."""
        if not self.collectors and name == "bureau-a":
            conf = self.conf
            port = int(open(conf).read().split("listen = 127.0.0.1:")[1].split()[0])
        else:
            port = free_port()
            conf = self.write_config(name + ".conf", port, name)
        c = Collector(conf, port, name)
        self.collectors.append(c)
        return c.start() if start else c

    def cli(self, *args, conf=None):
        return subprocess.run([BCLI, "-c", conf or self.conf, *args], capture_output=True,
                              text=True, timeout=60)

    def sql(self, query):
        return self.pg.psql(query, "bureau")

    def enrol(self, code, county="魏都区", kind="小学", uri=True, name=None):
        """school add + credential add with a new certificate and token; a School."""
        r = self.cli("school", "add", code, "--name", name or ("学校" + code), "--county",
                     county, "--kind", kind)
        if r.returncode != 0:
            raise RuntimeError("school add %s: %s" % (code, r.stderr))
        cert, key = mc.school_client(self.certdir, code, uri=uri)
        token = "tok-%s-%s" % (code, os.urandom(16).hex())
        token_path = os.path.join(self.dir, "token-" + code)
        with open(token_path, "w") as f:
            f.write(token + "\n")
        os.chmod(token_path, 0o600)
        r = self.cli("credential", "add", code, "--cert", cert, "--token-file", token_path)
        if r.returncode != 0:
            raise RuntimeError("credential add %s: %s" % (code, r.stderr))
        s = School(code, cert, key, token, token_path)
        self.schools[code] = s
        return s

    def close(self):
        for c in self.collectors:
            if c.proc and c.proc.poll() is None:
                c.stop(signal.SIGKILL)
        self.pg.close()
        if gslib.failures == 0:  # kept when something failed: logs, certificates
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def tls_context(bureau, cert=None, key=None):
    ctx = ssl.create_default_context(cafile=bureau.certs["ca"])
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def post(collector, bureau, school=None, body=b"", key=None, kind="summary", token=None,
         cert=None, ctype="application/json; charset=utf-8", headers=None, method="POST",
         path=PATH, timeout=15, answer_headers=None):
    """One request as gatescreen's uploader sends it: (status, answer as a dict or
    None, raw answer). school gives the certificate and token unless cert/token say
    otherwise (cert=False: none). answer_headers (a dict) receives the answer's
    headers."""
    if cert is None and school:
        cert = (school.cert, school.key)
    ctx = tls_context(bureau, *(cert if cert else (None, None)))
    conn = http.client.HTTPSConnection("127.0.0.1", collector.port, context=ctx,
                                       timeout=timeout)
    h = {"Content-Type": ctype} if ctype else {}
    if key is not None:
        h["Idempotency-Key"] = key
    if kind is not None:
        h["X-Gatescreen-Kind"] = kind
    tok = token if token is not None else (school.token if school else None)
    if tok:
        h["Authorization"] = "Bearer " + tok
    h.update(headers or {})
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        raw = r.read()
        if answer_headers is not None:
            answer_headers.update(r.getheaders())
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        return r.status, answer, raw
    finally:
        conn.close()


def send(collector, bureau, school, doc, **kw):
    """post() of a document under its own key and kind."""
    kind = "summary" if doc["schema"].startswith("gatescreen.summary") else "notice"
    return post(collector, bureau, school, body_of(doc), key=key_of(doc), kind=kind, **kw)
