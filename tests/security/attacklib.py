"""Shared by the web page's attack suites (issue 16, items 1, 4, 7, 9): a busy gate
(gslib.BusyGate: the real gatescreend, the real simulator at four lanes, the test
indicator's lights.log) with the nurse's page on HTTPS (an RSA certificate made now
with openssl, so that a static-RSA key exchange would be possible if the server
allowed it), users made by the real CLI, an HTTPS client that can speak from any
127.0.0.0/8 address (an attacker at 127.0.0.2, the nurse at 127.0.0.1), and the
gate's decision latency over a stretch of time. python3 stdlib only."""
import http.client
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import gslib  # noqa: E402
from gslib import check, figure  # noqa: E402,F401

LONG = os.environ.get("GS_LONG") == "1"
PASSWORDS = {"nurse1": "nurse-password-1", "gate1": "gate-password-01",
             "gate2": "gate-password-02", "admin1": "admin-password-1"}
ROLES = {"nurse1": "nurse", "gate1": "gate", "gate2": "gate", "admin1": "admin"}


def rsa_cert(d, name="web"):
    """A self-signed RSA-2048 certificate for IP 127.0.0.1: (cert, key) paths."""
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "30", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


def client_context(ciphers=None, tls_max=None, tls_min=None):
    """A client that does not check the certificate (the suites test the server's
    choices, not the chain)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if ciphers:
        ctx.set_ciphers(ciphers + ":@SECLEVEL=0")
    if tls_max:
        ctx.maximum_version = tls_max
    if tls_min:
        ctx.minimum_version = tls_min
    return ctx


CTX = client_context()


def tls_socket(port, src="127.0.0.1", timeout=5.0, ctx=None):
    """A TLS connection from source address src (any 127/8 address is ours)."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.settimeout(timeout)
    raw.bind((src, 0))
    raw.connect(("127.0.0.1", port))
    return (ctx or CTX).wrap_socket(raw)


class Conn(http.client.HTTPSConnection):
    """http.client over TLS from a chosen source address."""

    def __init__(self, port, src="127.0.0.1", timeout=5.0):
        super().__init__("127.0.0.1", port, timeout=timeout, context=CTX,
                         source_address=(src, 0))


class Reply:
    def __init__(self, status, headers, raw, secs):
        self.status, self.headers, self.raw, self.secs = status, headers, raw, secs
        try:
            self.json = json.loads(raw.decode("utf-8"))
        except ValueError:
            self.json = None


def request(port, method, path, body=None, cookie=None, csrf=None, src="127.0.0.1",
            timeout=5.0, headers=None):
    """One request on its own connection: a Reply, or None (and the reason in the
    Reply-less tuple's place) when it failed; (reply, error text)."""
    t0 = time.monotonic()
    h = dict(headers or {})
    if body is not None:
        h["Content-Type"] = "application/json"
    if cookie:
        h["Cookie"] = cookie
    if csrf:
        h["X-CSRF-Token"] = csrf
    c = Conn(port, src, timeout)
    try:
        c.request(method, path, json.dumps(body) if body is not None else None, h)
        r = c.getresponse()
        raw = r.read()
        return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, raw,
                     time.monotonic() - t0), None
    except (OSError, http.client.HTTPException) as e:
        return None, "%s: %s" % (type(e).__name__, e)
    finally:
        c.close()


def login(port, name, src="127.0.0.1"):
    """(cookie, csrf) of a new session, or (None, None)."""
    r, err = request(port, "POST", "/api/v1/login", {"name": name, "password": PASSWORDS[name]},
                     src=src, timeout=15)
    if not r or r.status != 200:
        return None, None
    cookie = r.headers.get("set-cookie", "").split(";")[0]
    return cookie, r.json["csrf"]


class NurseProbe:
    """The nurse's side during an attack: GET /api/v1/today (a real page load) from
    127.0.0.1 every `every` seconds, each with a 5 s timeout, for `secs` seconds."""

    def __init__(self, port, cookie):
        self.port, self.cookie = port, cookie

    def run(self, secs, every=0.5, timeout=5.0, src="127.0.0.1"):
        ok, lat, errors = 0, [], {}
        end = time.monotonic() + secs
        n = 0
        while time.monotonic() < end:
            n += 1
            t0 = time.monotonic()
            r, err = request(self.port, "GET", "/api/v1/today", cookie=self.cookie, src=src,
                             timeout=timeout)
            if r and r.status == 200:
                ok += 1
                lat.append(r.secs * 1000)
            else:
                key = err.split(":")[0] if err else "HTTP %d" % r.status
                errors[key] = errors.get(key, 0) + 1
            time.sleep(max(0.0, every - (time.monotonic() - t0)))
        return {"n": n, "ok": ok, "rate": ok / n if n else 0.0, "errors": errors,
                "p50_ms": statistics.median(lat) if lat else None,
                "max_ms": max(lat) if lat else None}


def report(prefix, res):
    figure(prefix + "_nurse_success_rate", "%.2f (%d of %d)" % (res["rate"], res["ok"], res["n"]))
    figure(prefix + "_nurse_p50_ms", "%.1f" % res["p50_ms"] if res["p50_ms"] is not None else "-")
    figure(prefix + "_nurse_max_ms", "%.1f" % res["max_ms"] if res["max_ms"] is not None else "-")
    if res["errors"]:
        print("     nurse's failures: %r" % res["errors"])


def gate_latency(lights_path, t0, t1):
    """Decision latencies (ms) of readings received between monotonic t0 and t1 (s)."""
    lo, hi = int(t0 * 1e6), int(t1 * 1e6)
    return [int(ln["latency_us"]) / 1000.0 for ln in gslib.committed(gslib.read_lights(lights_path))
            if lo <= gslib.posted_us(ln) <= hi]


def latency_figures(prefix, lat):
    if not lat:
        figure(prefix + "_gate_decisions", 0)
        return
    lat = sorted(lat)
    figure(prefix + "_gate_decisions", len(lat))
    figure(prefix + "_gate_p50_ms", "%.2f" % lat[len(lat) // 2])
    figure(prefix + "_gate_p99_ms", "%.2f" % lat[min(len(lat) - 1, int(len(lat) * 0.99))])
    figure(prefix + "_gate_max_ms", "%.2f" % lat[-1])


GATE_MAX_MS = 250  # a decision's light within this, attack or not (usual: a few ms)


class Stand:
    """The busy gate and the HTTPS page; `web` is extra [web] lines."""

    def __init__(self, code, web="", users=("nurse1", "gate1"), duration=300):
        self.g = gslib.BusyGate(code, rate=120, duration=duration)
        self.cert, self.key = rsa_cert(self.g.d)
        self.port = gslib.free_port()
        with open(self.g.conf, "a", encoding="utf-8") as f:
            f.write("\n[web]\nenabled = yes\nlisten = 127.0.0.1\nport = %d\ntls_cert = %s\n"
                    "tls_key = %s\n%s\n" % (self.port, self.cert, self.key, web))
        for name in users:
            r = gslib.cli(self.g.conf, "user", "add", name, "--role", ROLES[name],
                          input_text=PASSWORDS[name] + "\n")
            check(r.returncode == 0, "user %s added %s" % (name, r.stderr.strip()))
        self.dm = gslib.Daemon(self.g.conf)
        check(self.dm.wait_for("web: serving HTTPS"), "the daemon serves HTTPS")
        check(self.g.wait_decisions(10), "the lanes decide")

    def lights(self):
        return self.g.lights

    def close(self):
        rc, _ = self.dm.stop()
        self.g.close()
        return rc
