#!/usr/bin/env python3
"""A small real HTTPS receiver standing in for the education bureau (issue 5), and the
helpers the upstream tests share. python3 stdlib only.

Run as a program:

    https_receiver.py --dir D --cert F --key F [--port P] [--client-ca F] [--control-port C]

It listens on 127.0.0.1:P with TLS (and, with --client-ca, requires a client
certificate issued by that CA), prints `ready https=P control=C` once listening, and
answers POSTs like a bureau would: it de-duplicates on the Idempotency-Key header (the
first 2xx for a key is "accepted", a repeat gets 200 {"status":"duplicate"}). Every
request is written to D/requests.jsonl twice: an event "received" as soon as the body
is read (headers, body, time, client certificate subject, subjectAltName and SHA-256)
and an event "answered" (status, accepted, duplicate, conflict = a repeat with another
body) once handled.
Failed TLS handshakes go to D/tls_errors.jsonl. Accepted keys are read back from
requests.jsonl at start, so a restarted receiver still de-duplicates.

Control (plain HTTP on 127.0.0.1:C): POST /mode with a JSON object
    {"mode": "ok"}                                   answer 200
    {"mode": "fail", "count": N, "status": 500}      N answers of 500 (count null: all)
    {"mode": "reject", "status": 400, "message": M}  4xx with body {"error": M}
    {"mode": "down"}                                 close the HTTPS listener (refused)
plus optional "delay": S (sleep S seconds before handling, any mode), "delay_match": K
(the delay only for requests whose key contains K), "match": K (fail/reject only
requests whose key contains K; the others are answered ok) and, with reject,
"location": U (a Location header, for a 3xx). A mode
other than down opens the listener again on the same port. GET /state returns the
mode. The test side is class Receiver below.
"""
import argparse
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- the server -----------------------------------------------------------------------


class Bureau:
    """State shared by the handler threads: the mode, the accepted keys, the log."""

    def __init__(self, d):
        self.dir = d
        self.lock = threading.Lock()
        self.mode = {"mode": "ok"}
        self.left = None  # answers left in a counted fail/reject mode
        self.accepted = {}  # key -> body
        self.seq = 0
        self.log_path = os.path.join(d, "requests.jsonl")
        self.tls_path = os.path.join(d, "tls_errors.jsonl")
        for ev in read_jsonl(self.log_path):
            if ev.get("event") == "answered" and ev.get("accepted"):
                self.accepted[ev["key"]] = ev.get("body")
            self.seq = max(self.seq, ev.get("seq", 0))

    def write(self, path, obj):
        with self.lock, open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")

    def set_mode(self, mode):
        with self.lock:
            self.mode = dict(mode)
            self.left = mode.get("count")

    def next_seq(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def decide(self, key, body):
        """(status, answer body, accepted, duplicate, conflict) for one request."""
        with self.lock:
            m = self.mode
            hit = m["mode"] in ("fail", "reject") and (not m.get("match") or
                                                      m["match"] in (key or ""))
            if hit and self.left is not None:
                hit = self.left > 0
                self.left -= 1 if hit else 0
            if hit and m["mode"] == "fail":
                return m.get("status", 500), {"error": "temporary failure, try again"}, \
                    False, False, False
            if hit:
                return m.get("status", 400), {"error": m.get("message", "bad request")}, \
                    False, False, False
            if not key:
                return 400, {"error": "Idempotency-Key header missing"}, False, False, False
            if key in self.accepted:
                return 200, {"status": "duplicate", "key": key}, False, True, \
                    self.accepted[key] != body
            self.accepted[key] = body
            return 200, {"status": "accepted", "key": key}, True, False, False


def subject_of(cert):
    if not cert:
        return None
    return ",".join("%s=%s" % kv for rdn in cert.get("subject", ()) for kv in rdn)


def san_of(cert):
    """The client certificate's subjectAltName as ["URI:urn:...", ...]."""
    return ["%s:%s" % kv for kv in (cert or {}).get("subjectAltName", ())] or None


def sha256_of(der):
    """The client certificate's fingerprint as the bureau keeps it: SHA-256 of the DER,
    lowercase hex (credentials.cert_sha256)."""
    import hashlib
    return hashlib.sha256(der).hexdigest() if der else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: "down" is really down
    server_version = "bureau-test/1"

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_POST(self):
        b = self.server.bureau
        raw = self.read_body()
        body = raw.decode("utf-8", errors="replace")
        seq = b.next_seq()
        key = self.headers.get("Idempotency-Key")
        headers = {k.lower(): v for k, v in self.headers.items()}
        b.write(b.log_path, {
            "event": "received", "seq": seq, "t": time.time(), "method": self.command,
            "path": self.path, "headers": headers, "body": body, "body_utf8": _utf8(raw),
            "key": key, "kind": headers.get("x-gatescreen-kind"),
            "client_subject": subject_of(self.connection.getpeercert()),
            "client_san": san_of(self.connection.getpeercert()),
            "client_sha256": sha256_of(self.connection.getpeercert(binary_form=True))})
        delay = b.mode.get("delay") or 0
        if delay and b.mode.get("delay_match", "") in (key or ""):
            time.sleep(delay)
        status, answer, accepted, dup, conflict = b.decide(key, body)
        b.write(b.log_path, {"event": "answered", "seq": seq, "t": time.time(), "key": key,
                             "status": status, "accepted": accepted, "duplicate": dup,
                             "conflict": conflict, "body": body if accepted else None})
        data = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if status != 200 and b.mode.get("location"):
                self.send_header("Location", b.mode["location"])
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the sender went away meanwhile (killed mid-send)

    def do_GET(self):
        self.send_error(405, "POST only")

    do_PUT = do_GET


def _utf8(raw):
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


class TLSServer(ThreadingHTTPServer):
    """The TLS handshake is done in the request's thread (a stuck client cannot hold
    up the others) and a failed one is recorded."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, ctx, bureau):
        self.ctx, self.bureau = ctx, bureau
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address):
        request.settimeout(15)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.bureau.write(self.bureau.tls_path, {"t": time.time(), "error": str(e)})
            # The alert is sent and the socket closed at once. With TLS 1.3 the client
            # has already sent its request by then, so whether libcurl reports the alert
            # or a reset is timing: a clear error about its own (expired) certificate
            # has to come from the client's own check.
            request.close()
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()


class Control(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def answer(self, obj):
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        mode = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.server.app.set_mode(mode)
        self.answer({"ok": True})

    def do_GET(self):
        self.answer({"mode": self.server.app.bureau.mode, "up": self.server.app.tls is not None})


class App:
    def __init__(self, args):
        self.args = args
        self.bureau = Bureau(args.dir)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            self.ctx.verify_mode = ssl.CERT_REQUIRED
            self.ctx.load_verify_locations(args.client_ca)
        self.tls = None
        self.port = args.port
        self.lock = threading.Lock()

    def up(self):
        if self.tls is None:
            self.tls = TLSServer(("127.0.0.1", self.port), self.ctx, self.bureau)
            self.port = self.tls.server_address[1]
            threading.Thread(target=self.tls.serve_forever, daemon=True).start()

    def down(self):
        if self.tls is not None:
            self.tls.shutdown()
            self.tls.server_close()
            self.tls = None

    def set_mode(self, mode):
        with self.lock:
            self.bureau.set_mode(mode)
            if mode.get("mode") == "down":
                self.down()
            else:
                self.up()


def serve(argv):
    p = argparse.ArgumentParser(description="HTTPS receiver standing in for the bureau")
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--client-ca")
    p.add_argument("--control-port", type=int, default=0)
    args = p.parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    app = App(args)
    app.up()
    ctl = HTTPServer(("127.0.0.1", args.control_port), Control)
    ctl.app = app
    print("ready https=%d control=%d" % (app.port, ctl.server_address[1]), flush=True)
    try:
        ctl.serve_forever()
    except KeyboardInterrupt:
        pass


# ---- the test side --------------------------------------------------------------------

def read_jsonl(path):
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


class Receiver:
    """The receiver as a subprocess, with its control port and its records."""

    def __init__(self, d, cert, key, client_ca=None, port=None):
        self.dir = d
        self.argv = [sys.executable, os.path.abspath(__file__), "--dir", d, "--cert", cert,
                     "--key", key]
        if client_ca:
            self.argv += ["--client-ca", client_ca]
        self.port = port or 0
        self.proc = None
        self.start()

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        self.err = open(os.path.join(self.dir, "receiver.err"), "a")
        self.proc = subprocess.Popen(self.argv + ["--port", str(self.port)],
                                     stdout=subprocess.PIPE, stderr=self.err, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError("the receiver did not start: %r (see %s)" % (line, self.err.name))
        kv = dict(w.split("=") for w in line.split()[1:])
        self.port, self.control = int(kv["https"]), int(kv["control"])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.err.close()

    def url(self, path="/bureau/v1/upload", host="127.0.0.1"):
        return "https://%s:%d%s" % (host, self.port, path)

    def set(self, mode="ok", **kw):
        kw["mode"] = mode
        req = urllib.request.Request("http://127.0.0.1:%d/mode" % self.control,
                                     data=json.dumps(kw).encode(), method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()

    def events(self):
        return read_jsonl(os.path.join(self.dir, "requests.jsonl"))

    def received(self):
        return [e for e in self.events() if e["event"] == "received"]

    def answered(self):
        return [e for e in self.events() if e["event"] == "answered"]

    def accepted(self):
        """The documents the bureau took, in the order it took them."""
        return [e for e in self.answered() if e["accepted"]]

    def accepted_keys(self):
        return [e["key"] for e in self.accepted()]

    def idle(self):
        """Every request received has been answered (none is sleeping in "delay")."""
        evs = self.events()
        return ({e["seq"] for e in evs if e["event"] == "received"} <=
                {e["seq"] for e in evs if e["event"] == "answered"})

    def tls_errors(self):
        return read_jsonl(os.path.join(self.dir, "tls_errors.jsonl"))

    def wait(self, pred, timeout=15.0, step=0.05):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred(self):
                return True
            time.sleep(step)
        return pred(self)

    def wait_keys(self, keys, timeout=15.0):
        return self.wait(lambda r: set(keys) <= set(r.accepted_keys()), timeout)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def need_jsonschema():
    """The python3 first on PATH may be another one (pyenv) without jsonschema: then
    run again with Debian's, which has it with python3-jsonschema. Never skips."""
    try:
        from jsonschema import Draft202012Validator  # noqa: F401
        return
    except ImportError:
        pass
    alt = "/usr/bin/python3"
    if (os.path.realpath(sys.executable) != os.path.realpath(alt) and os.path.exists(alt) and
            subprocess.run([alt, "-c", "from jsonschema import Draft202012Validator"],
                           capture_output=True).returncode == 0):
        sys.stdout.flush()
        os.execv(alt, [alt] + sys.argv)
    print("FAIL - the python3 module jsonschema (4.0 or later, for JSON Schema draft 2020-12) "
          "is missing for %s and %s; install it: apt-get install python3-jsonschema"
          % (sys.executable, alt))
    sys.exit(1)


def make_certs(d):
    sys.path.insert(0, os.path.join(HERE, "..", "tools"))
    import make_certs as mc
    return mc.make_certs(d)



# ---- what the upstream tests check on gatescreen's side ------------------------------

def upstream_section(url, d, certs, ca="ca", client=None, token=True, identify="pseudonym",
                     day_end=None, timeout="5s"):
    """The [upstream] section for a scratch folder d (secret and token files in it)."""
    lines = ["[upstream]", "url = " + url, "ca_file = " + certs[ca],
             "secret_file = pseudonym.key", "identify = " + identify,
             "connect_timeout = 2s", "timeout = " + timeout, "retry_min = 1s", "retry_max = 2s"]
    if client:
        lines += ["client_cert = " + certs[client], "client_key = " + certs[client + ".key"]]
    if token:
        lines.append("token_file = token")
    if day_end:
        lines.append("day_end = " + day_end)
    return "\n".join(lines) + "\n"


def write_secrets(d, token_mode=0o600, secret_mode=0o600):
    """A 32-byte pseudonym key and a bearer token (with the newline an editor or echo
    leaves) in d; returns (key bytes, token text)."""
    key, token = os.urandom(32), "tok-" + os.urandom(12).hex()
    for name, data, mode in (("pseudonym.key", key, secret_mode),
                             ("token", (token + "\n").encode(), token_mode)):
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
    return key, token


def pseudonym(key, external_id):
    import hashlib
    import hmac
    return hmac.new(key, external_id.encode(), hashlib.sha256).hexdigest()


_VALIDATORS = {}


def validator(kind, source):
    if kind not in _VALIDATORS:
        from jsonschema import Draft202012Validator
        with open(os.path.join(source, "config/schema/%s.schema.json" % kind),
                  encoding="utf-8") as f:
            s = json.load(f)
        Draft202012Validator.check_schema(s)
        _VALIDATORS[kind] = Draft202012Validator(s)
    return _VALIDATORS[kind]


def schema_problems(kind, doc, source):
    return ["%s: %s" % ("/".join(map(str, e.absolute_path)), e.message)
            for e in validator(kind, source).iter_errors(doc)]


def facts(doc):
    """A summary without what changes from one send to the next by itself."""
    return {k: v for k, v in doc.items() if k not in ("revision", "generated_at")}


def doc_of(ev):
    try:
        return json.loads(ev["body"])
    except (ValueError, TypeError):
        return None


def check_requests(rx, check, source, people, code, token=None, names_ok=(), path=None):
    """Every request the receiver got: a POST to the configured path, JSON valid against
    its schema, the kind header and the idempotency key agreeing with the document, the
    bearer token (or none), and no person's name or id anywhere unless the request's key
    is in names_ok (identify = names). people: [(external_id, name)]."""
    evs = rx.received()
    bad = {}

    def note(what, ev):
        bad.setdefault(what, []).append(ev.get("key") or "seq %d" % ev["seq"])
    for ev in evs:
        doc = doc_of(ev)
        h = ev["headers"]
        if ev["method"] != "POST" or (path and ev["path"] != path):
            note("POST to %s" % path, ev)
        if not ev["body_utf8"] or not isinstance(doc, dict):
            note("a UTF-8 JSON object as body", ev)
            continue
        if not h.get("content-type", "").startswith("application/json"):
            note("Content-Type application/json", ev)
        kind = h.get("x-gatescreen-kind")
        if kind not in ("summary", "notice") or schema_problems(kind, doc, source):
            note("valid against the schema its X-Gatescreen-Kind names", ev)
            for p in (schema_problems(kind, doc, source) if kind in ("summary", "notice")
                      else ["X-Gatescreen-Kind %r" % kind])[:3]:
                print("     %s: %s" % (ev.get("key"), p))
        if kind == "summary":
            want = "%s/%s/%s" % (doc.get("school", {}).get("code"), doc.get("date"),
                                 doc.get("revision"))
        else:
            want = doc.get("notice_id")
        if ev["key"] != want or not (ev["key"] or "").startswith(code + "/"):
            note("Idempotency-Key = school/date/revision or the notice id", ev)
        auth = h.get("authorization")
        if auth != ("Bearer " + token if token else None):
            note("Authorization %s" % ("Bearer <token>" if token else "absent"), ev)
        if ev["key"] not in names_ok:
            leaks = [x for pair in people for x in pair if x and re.search(
                r"(?<![A-Za-z0-9])%s(?![A-Za-z0-9])" % re.escape(x), ev["body"])]
            if leaks:
                note("no name or id of a person (found %s)" % ",".join(leaks[:3]), ev)
    check(evs != [], "the receiver got requests (%d)" % len(evs))
    for what in ("POST to %s" % path, "a UTF-8 JSON object as body",
                 "Content-Type application/json",
                 "valid against the schema its X-Gatescreen-Kind names",
                 "Idempotency-Key = school/date/revision or the notice id",
                 "Authorization %s" % ("Bearer <token>" if token else "absent")):
        check(what not in bad, "every request: %s%s" % (what, " (not: %s)" % bad[what][:4]
                                                         if what in bad else ""))
    leaks = [w for w in bad if w.startswith("no name")]
    check(not leaks, "no request names a person (%d people looked for, names allowed in %s)%s"
          % (len(people), list(names_ok) or "none", "".join(
              "; %s in %s" % (w, bad[w][:4]) for w in leaks)))


def check_once_each(rx, check, what):
    """Each key accepted once, and no key sent again with another body."""
    keys = rx.accepted_keys()
    dups = sorted({k for k in keys if keys.count(k) > 1})
    conflicts = [e["key"] for e in rx.answered() if e.get("conflict")]
    check(not dups and not conflicts, "%s: every key accepted once, repeats carry the same "
          "document%s" % (what, "" if not dups and not conflicts
                          else " (twice: %s, other body: %s)" % (dups, conflicts)))


def check_revisions(db_query, db, check, what):
    """In the summaries table: revisions 1..n per day, each with other facts than the one
    before (a send after no new facts is not a new revision)."""
    rows = db_query(db, "SELECT day, revision, body FROM summaries ORDER BY day, revision")
    same, gaps, last = [], [], {}
    for day, rev, body in rows:
        try:
            doc = facts(json.loads(body))
        except ValueError:
            doc = body
        prev = last.get(day)
        if rev != (prev[0] + 1 if prev else 1):
            gaps.append("%s/%d" % (day, rev))
        if prev and prev[1] == doc:
            same.append("%s/%d" % (day, rev))
        last[day] = (rev, doc)
    check(rows and not same and not gaps,
          "%s: %d revision(s) stored, numbered from 1, none repeating the facts of the one "
          "before%s" % (what, len(rows), "" if not same and not gaps
                        else " (same facts: %s; out of sequence: %s)" % (same, gaps)))


def outbox_rows(db_query, db):
    """{key: (id, kind, state, attempts, last_error)} from the ledger's outbox."""
    try:
        rows = db_query(db, "SELECT idempotency_key, id, kind, state, attempts, last_error "
                            "FROM outbox ORDER BY id")
    except Exception as e:  # noqa: BLE001 -- a missing table is a failure to report
        print("     outbox: %s" % e)
        return {}
    return {r[0]: r[1:] for r in rows}


if __name__ == "__main__":
    serve(sys.argv[1:])
