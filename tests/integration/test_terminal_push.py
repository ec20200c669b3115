"""Hikvision ISAPI push terminals against the real daemon (issue 18). The peer is
independent of our code: Python's http.client / urllib build the requests from the
public examples (Hikvision's ISAPI event examples as open-source receivers show
them: a JSON EventNotificationAlert, and multipart/form-data with a JSON part named
AccessControllerEvent or event_log followed by a JPEG). Checks: a known person at a
normal temperature is green with a ledger row; a fever is red with a flag; a
repeated serialNo (also after a restart) makes no second row; Fahrenheit is
converted; another address is refused (403); a body over max_body is 413; a
terminal with a password file wants credentials (Digest by urllib's own handler); a
terminal with offline_after goes offline (lane blinks amber) until a heartbeat."""
import base64
import datetime
import functools
import http.client
import json
import os
import socket
import time
import urllib.request

import gslib
from gslib import check

ROSTER = """\
external_id,kind,name,grade,class,card,active
S1,student,张三,一年级,一年级1班,1001,1
S2,student,李四,一年级,一年级1班,1002,1
S3,student,王五,一年级,一年级1班,1003,1
S4,student,赵六,一年级,一年级2班,1004,1
"""


def config(port, zone, now, pwfile):
    return gslib.gate_config_head("TERM", zone, now) + """\

[terminals]
listen = 127.0.0.1:%d
max_body = 65536
request_timeout = 2s

[lane a]
gate = 东门
indicator = test
[lane b]
gate = 北门
indicator = test
[lane c]
gate = 西门
indicator = test

[terminal face-a]
kind = hikvision-isapi
mode = push
address = 127.0.0.1
lane = a

[terminal face-b]
kind = hikvision-isapi
address = 127.0.0.3
lane = b
user = admin
password_file = %s

[terminal face-c]
kind = hikvision-isapi
address = 127.0.0.7
lane = c
offline_after = 2s
""" % (port, pwfile)


def terminal_time(offset_s=0):
    """Now (plus offset_s) as a terminal in UTC+8 writes it."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8, seconds=offset_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S+08:00")


def alert(serial, employee, temp, unit="celsius", abnormal=False, when=None):
    """An EventNotificationAlert as the ISAPI examples show it."""
    return {
        "ipAddress": "127.0.0.1", "portNo": 80, "protocol": "HTTP",
        "macAddress": "44:47:cc:00:00:01", "channelID": 1,
        "dateTime": when or terminal_time(), "activePostCount": 1,
        "eventType": "AccessControllerEvent", "eventState": "active",
        "eventDescription": "Access Controller Event",
        "AccessControllerEvent": {
            "deviceName": "Access Controller", "majorEventType": 5, "subEventType": 75,
            "name": "x", "cardReaderNo": 1, "employeeNoString": employee,
            "serialNo": serial, "userType": "normal", "currentVerifyMode": "cardOrFace",
            "mask": "no", "thermometryUnit": unit, "currTemperature": temp,
            "isAbnomalTemperature": abnormal, "picturesNumber": 1,
        },
    }


def multipart(body, part_name="AccessControllerEvent"):
    b = "MIME_boundary"
    jpeg = b"\xff\xd8\xff\xe0" + os.urandom(2000) + b"\xff\xd9"
    data = (("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n"
             "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n")
            % (b, part_name, len(body))).encode() + body + (
            ("\r\n--%s\r\nContent-Disposition: form-data; name=\"Picture\"; "
             "filename=\"Picture.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n") % b).encode() + \
        jpeg + ("\r\n--%s--\r\n" % b).encode()
    return data, "multipart/form-data; boundary=%s" % b


def post(port, body, ctype="application/json", source="127.0.0.1", headers=None, answer=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10,
                                      source_address=(source, 0))
    try:
        conn.request("POST", "/event", body=body,
                     headers=dict({"Content-Type": ctype}, **(headers or {})))
        r = conn.getresponse()
        r.read()
        if answer is not None:
            answer.update(r.getheaders())
        return r.status
    except (ConnectionError, OSError) as e:
        return "error %s" % e
    finally:
        conn.close()


def post_json(port, doc, **kw):
    return post(port, json.dumps(doc).encode(), **kw)


class Gate:
    def __init__(self):
        self.zone, self.now = gslib.school_zone(9)
        self.port = gslib.free_port()
        self.dir, self.conf = gslib.scratch("")
        self.pw = os.path.join(self.dir, "face-b.pw")
        with open(self.pw, "w") as f:
            f.write("s3cret\n")
        os.chmod(self.pw, 0o600)
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(config(self.port, self.zone, self.now, self.pw))
        self.db = os.path.join(self.dir, "ledger.db")
        self.lights = os.path.join(self.dir, "lights.log")
        self.lights_seen = gslib.Lights(self.lights)

    def q(self, sql, args=()):
        return gslib.db_query(self.db, sql, args)

    def next_decision(self, lane, timeout=5.0):
        return self.lights_seen.next(lane, timeout=timeout)

    def start(self):
        dm = gslib.Daemon(self.conf)
        check(dm.wait_for("ready:") and dm.wait_for("terminals: listening"),
              "daemon up with its terminals' listener: " + dm.text()[-800:])
        return dm


def readings(g, employee=None):
    return g.q("SELECT r.body_centi, r.outcome, t.serial, t.device_time, t.device_abnormal,"
               " t.mask FROM readings r JOIN terminal_events t ON t.reading_id = r.id"
               " ORDER BY r.id")


def main():
    g = Gate()
    roster = os.path.join(g.dir, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    r = gslib.cli(g.conf, "roster", "import", roster)
    check(r.returncode == 0, "roster imported: " + r.stderr)
    dm = g.start()

    # A known person at a normal temperature: 200, green, one row with the terminal's clock.
    first = terminal_time()
    check(post_json(g.port, alert(101, "S1", 36.5, when=first)) == 200, "JSON event answered 200")
    ln = g.next_decision("a")
    check(ln is not None and ln["lamp"] == "green" and ln["outcome"] == "admit",
          "S1 at 36.5 shows green (got %r)" % ln)
    rows = readings(g)
    check(len(rows) == 1 and rows[0][0] == 3650 and rows[0][1] == "admit"
          and rows[0][3] == first and rows[0][4] == 0 and rows[0][5] == "no",
          "one admit row at 36.50 with the terminal's clock, verdict and mask (got %r)" % rows)
    check(g.q("SELECT count(*) FROM checks c JOIN people p ON p.id = c.person_id"
              " WHERE p.external_id = 'S1'")[0][0] == 1, "S1's morning check recorded")

    # A fever, in multipart with a JPEG: red and a flag; the picture is not stored.
    body, ctype = multipart(json.dumps(alert(102, "S2", 38.4, abnormal=True)).encode())
    check(post(g.port, body, ctype) == 200, "multipart event answered 200")
    ln = g.next_decision("a")
    check(ln is not None and ln["lamp"] == "red" and ln["outcome"] == "fever",
          "S2 at 38.4 shows red (got %r)" % ln)
    check(g.q("SELECT count(*) FROM flags f JOIN people p ON p.id = f.person_id"
              " WHERE p.external_id = 'S2' AND f.state = 'open'")[0][0] == 1, "S2 flagged")

    # Fahrenheit, multipart part named event_log: 97.7 F = 36.5 C.
    body, ctype = multipart(json.dumps(alert(103, "S3", 97.7, unit="fahrenheit")).encode(),
                            "event_log")
    check(post(g.port, body, ctype) == 200, "event_log part answered 200")
    ln = g.next_decision("a")
    check(ln is not None and ln["outcome"] == "admit", "S3 at 97.7 F admitted (got %r)" % ln)
    check(g.q("SELECT body_centi FROM readings ORDER BY id DESC LIMIT 1")[0][0] == 3650,
          "97.7 F recorded as 36.50 C")

    # The terminal pushes 101 again (it saw no 200, say): no second row.
    check(post_json(g.port, alert(101, "S1", 36.5)) == 200, "repeat answered 200")
    # A different serial after it, to know the repeat was handled before it.
    check(post_json(g.port, alert(104, "S4", 36.7)) == 200, "S4 answered")
    ln = g.next_decision("a")
    check(ln is not None and ln["outcome"] == "admit" and ln["person"] == "S4",
          "the next light is S4's: the repeat showed nothing (got %r)" % ln)
    n = g.q("SELECT count(*) FROM terminal_events WHERE terminal = 'face-a' AND serial = 101")[0][0]
    all_rows = g.q("SELECT count(*) FROM readings")[0][0]
    check(n == 1 and all_rows == 4, "serial 101 recorded once (%d event, %d readings)"
          % (n, all_rows))

    # A burst over one keep-alive connection, as a terminal catching up after a
    # network cut would send it: every event answered and recorded once.
    conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=10)
    times = []
    for serial in range(1000, 1100):
        t0 = time.monotonic()
        conn.request("POST", "/event", body=json.dumps(alert(serial, "S%d" % (1 + serial % 4), 36.6)),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        times.append(time.monotonic() - t0)
        if r.status != 200:
            break
    conn.close()
    times.sort()
    gslib.figure("terminal_push_answer_ms_median", round(times[len(times) // 2] * 1000, 2))
    gslib.figure("terminal_push_answer_ms_max", round(times[-1] * 1000, 2))
    check(len(times) == 100 and r.status == 200, "100 pushes on one connection answered 200")
    burst = "SELECT count(*) FROM terminal_events WHERE serial BETWEEN 1000 AND 1099"
    check(gslib.wait_until(lambda: g.q(burst)[0][0] == 100, 10.0), "... and recorded, once each")
    g.lights_seen.skip_all()

    # Another address is refused, and says so (rate-limited) in the log.
    check(post_json(g.port, alert(105, "S1", 36.5), source="127.0.0.2") == 403,
          "127.0.0.2 refused with 403")
    check(dm.wait_for("refused a request from 127.0.0.2"), "the refusal is logged")

    # Strangers hold at most two connections; the third is closed at accept, and a
    # terminal is still served meanwhile.
    held = []
    for _ in range(3):
        sk = socket.socket()
        sk.bind(("127.0.0.2", 0))
        sk.connect(("127.0.0.1", g.port))
        sk.settimeout(1.0)
        held.append(sk)
    def closed(sk):
        try:
            return sk.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
    check(closed(held[2]) and not closed(held[0]),
          "a third stranger's connection is closed at once, the first two are not")
    check(post_json(g.port, alert(108, "S4", 36.6)) == 200, "a terminal is served meanwhile")
    check(g.next_decision("a") is not None, "... and decided")
    for sk in held:
        sk.close()

    # A terminal that dribbles its request (never idle long) is cut off at
    # request_timeout (2 s) from its first byte, not served.
    sk = socket.create_connection(("127.0.0.1", g.port), timeout=5)
    body = json.dumps(alert(109, "S4", 36.6)).encode()
    sk.sendall(b"POST /event HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body))
    t0 = time.monotonic()
    answer, cut = b"", None
    try:
        for i in range(len(body)):
            sk.sendall(body[i:i + 1])
            time.sleep(0.25)
            if time.monotonic() - t0 > 4.0:
                break
        answer = sk.recv(100)
    except (ConnectionError, OSError):
        pass
    cut = time.monotonic() - t0
    sk.close()
    check(b"200" not in answer and cut < 4.5,
          "a dribbling request is cut off near request_timeout (after %.1f s, got %r)"
          % (cut, answer[:20]))
    check(g.q("SELECT count(*) FROM terminal_events WHERE serial = 109")[0][0] == 0,
          "... and nothing of it is recorded")

    # A body over max_body (64 KiB) is 413.
    big = json.dumps(alert(106, "S1", 36.5)).encode() + b" " * 70000
    check(post(g.port, big) == 413, "body over max_body answered 413")
    # ... also when it comes chunked, with no Content-Length to refuse it early.
    conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=10)
    conn.request("POST", "/event", body=iter([big[i:i + 8192] for i in range(0, len(big), 8192)]),
                 headers={"Content-Type": "application/json"}, encode_chunked=True)
    r = conn.getresponse()
    r.read()
    conn.close()
    check(r.status == 413, "a chunked body over max_body answered 413 (got %d)" % r.status)

    # Unreadable JSON is 400; a heartbeat (another eventType) is 200 and records nothing.
    check(post(g.port, b"{\"eventType\": ") == 400, "broken JSON answered 400")
    check(post_json(g.port, {"eventType": "heartBeat", "dateTime": "2026-12-06T08:00:00+08:00"})
          == 200, "heartbeat answered 200")

    # face-c (offline_after = 2s) has sent nothing since the start: offline, lane c blinks;
    # a heartbeat (any eventType) brings it back, and it stays while heartbeats come.
    check(dm.wait_for("[terminal face-c] not heard from"), "face-c offline is logged")
    ln = g.lights_seen.next("c", lambda ln: ln["blink"] == "1" and ln["lamp"] == "amber")
    check(ln is not None, "lane c blinks amber (got %r)" % ln)
    beat = {"eventType": "heartBeat", "dateTime": terminal_time()}
    check(post_json(g.port, beat, source="127.0.0.7") == 200, "face-c's heartbeat answered 200")
    check(dm.wait_for("[terminal face-c] is heard from again"), "face-c back is logged")
    ln = g.lights_seen.next("c", lambda ln: ln["blink"] == "0")
    check(ln is not None, "lane c steady again (got %r)" % ln)
    for _ in range(3):
        gslib.wait_until(lambda: False, 1.0)
        post_json(g.port, beat, source="127.0.0.7")
    check(dm.text().count("[terminal face-c] not heard from") == 1,
          "heartbeats every second keep face-c online past offline_after")
    check("[terminal face-a] not heard from" not in dm.text(),
          "face-a (no offline_after: Hikvision push sends nothing between events) never offline")

    # A terminal with a password file: nothing without credentials, Digest works.
    check(post_json(g.port, alert(1, "S1", 36.5), source="127.0.0.3") == 401,
          "face-b without credentials answered 401")
    # Basic sends the password - the terminal's own login - in clear on a plain-HTTP
    # network: refused even when right, with a Digest challenge, and logged as such.
    basic = "Basic " + base64.b64encode(b"admin:s3cret").decode()
    answer = {}
    st = post_json(g.port, alert(2, "S1", 36.5), source="127.0.0.3",
                   headers={"Authorization": basic}, answer=answer)
    check(st == 401 and answer.get("WWW-Authenticate", "").startswith("Digest "),
          "face-b with the right password in Basic answered 401 with a Digest challenge "
          "(got %r, %r)" % (st, answer.get("WWW-Authenticate")))
    check(dm.wait_for("[terminal face-b] sent Basic credentials"),
          "the Basic refusal is logged with what to set on the terminal")
    check(g.q("SELECT count(*) FROM terminal_events WHERE serial = 2") == [(0,)],
          "nothing recorded from the Basic push")

    class FromB(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(functools.partial(http.client.HTTPConnection,
                                                  source_address=("127.0.0.3", 0)), req)
    # libmicrohttpd 0.9.75 writes algorithm=md5; urllib compares the name
    # case-sensitively (RFC 7616 tokens are case-insensitive), so it is told.
    class Digest(urllib.request.HTTPDigestAuthHandler):
        def get_algorithm_impls(self, algorithm):
            return super().get_algorithm_impls(algorithm.upper())
    mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, "http://127.0.0.1:%d/" % g.port, "admin", "s3cret")
    opener = urllib.request.build_opener(FromB, Digest(mgr))
    req = urllib.request.Request("http://127.0.0.1:%d/event" % g.port,
                                 data=json.dumps(alert(1, "S1", 36.5)).encode(),
                                 headers={"Content-Type": "application/json"})
    with opener.open(req, timeout=10) as resp:
        check(resp.status == 200, "face-b with Digest credentials answered 200")
    ln = g.next_decision("b")
    check(ln is not None and ln["outcome"] == "admit", "S1 admitted on lane b (got %r)" % ln)

    # A terminal whose clock is an hour behind: recorded as sent, with its skew,
    # logged once however many events, and once more when it is right again.
    for serial in (110, 111):
        check(post_json(g.port, alert(serial, "S4", 36.6, when=terminal_time(-3600))) == 200,
              "event %d from a terminal an hour behind answered 200" % serial)
    check(post_json(g.port, alert(112, "S4", 36.6)) == 200, "event 112 on time answered 200")
    check(dm.wait_for("within max_clock_skew again"), "the clock's return is logged")
    lines = [ln for ln in dm.text().splitlines() if "[terminal face-a]'s clock is 36" in ln]
    check(len(lines) == 1 and "s behind ours" in lines[0],
          "the skew is logged once for two events (%r)" % lines)
    sql = "SELECT serial, skew_ms FROM terminal_events WHERE serial IN (110, 112)"
    gslib.wait_until(lambda: len(g.q(sql)) == 2, 5.0)
    skews = dict(g.q(sql))
    check(abs(skews.get(110, 0) + 3600000) < 5000 and abs(skews.get(112, 9e9)) < 5000,
          "skew_ms recorded: about -3600000 and 0 (%r)" % skews)

    # The terminal's own alarm below our threshold (it alarms at 37.0, say; ours is
    # 37.3): amber, measure again by hand; never green, no check.
    check(post_json(g.port, alert(120, "S3", 37.1, abnormal=True)) == 200,
          "an event the terminal calls abnormal at 37.1 answered 200")
    ln = g.next_decision("a")
    while ln is not None and ln.get("body") != "37.10":  # past the clock test's lights
        ln = g.next_decision("a")
    check(ln is not None and ln["lamp"] == "amber" and ln["outcome"] == "invalid",
          "the terminal's alarm at 37.1 (under our 37.3) shows amber, not green (got %r)" % ln)

    rc, _ = dm.stop()
    check(rc == 0, "daemon stopped cleanly")

    # After a restart the same serial is still a repeat; a new one is recorded.
    before = g.q("SELECT count(*) FROM readings")[0][0]
    dm = g.start()
    g.lights_seen.skip_all()
    check(post_json(g.port, alert(102, "S2", 38.4)) == 200, "repeat after restart answered 200")
    check(post_json(g.port, alert(107, "S3", 36.4)) == 200, "new event after restart answered")
    ln = g.next_decision("a")
    check(ln is not None and ln["outcome"] == "admit" and ln["person"] == "S3",
          "the next light is S3's: the repeat after the restart showed nothing (got %r)" % ln)
    after = g.q("SELECT count(*) FROM readings")[0][0]
    check(after == before + 1, "the repeat after the restart made no row (%d -> %d)"
          % (before, after))
    rc, _ = dm.stop()
    check(rc == 0, "daemon stopped cleanly again")

    # A password file that is not there: the daemon does not start, and says why.
    os.unlink(g.pw)
    dm = gslib.Daemon(g.conf)
    try:
        rc = dm.proc.wait(15)
    except Exception:
        rc = None
    check(rc not in (None, 0) and rc > 0, "no password file: gatescreend exits non-zero (%r)" % rc)
    check("cannot open the terminal password file" in dm.text() and
          "terminals' listener did not start" in dm.text(),
          "... and logs which file and why: " + dm.text()[-300:])
    dm.log.close()
    gslib.finish()


if __name__ == "__main__":
    main()
