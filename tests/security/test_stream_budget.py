"""Issue 16 items 1 (second half) and 4: event streams (GET /api/v1/gates/stream).

Item 1: a gate-role user opening 128 event streams (from 32 addresses, four each, so
that the per-address connection limit is not what stops it) must get only its own
small budget ([web] streams_per_user, 4 by default; the rest 429), the streams of all
users together are bounded too ([web] streams_max; here 10), and the nurse's requests
and her own stream keep working. Figures: streams taken, the nurse's success rate and
latency while they are held, the gate's decision latency meanwhile.

Item 4: an open stream ends within 1 s of `gatescreen user disable` (the CLI, behind
the server's back) and of logout. With GS_LONG=1 also: a stream is not activity -- a
session whose only traffic is its open stream expires after session_idle (1 min here)
and the stream ends with it. Short run ~30 s."""
import http.client
import os
import socket
import threading
import time

import attacklib as al
from attacklib import check, figure

WEB = "streams_max = 10\nsession_idle = 1min\n"


class Stream:
    """One open event stream, read in a thread; `ended` is when it ended."""

    def __init__(self, port, cookie, src="127.0.0.1"):
        self.c = al.Conn(port, src, timeout=30)
        self.status, self.ended, self.events = None, None, 0
        if not cookie:
            self.status = "no session"
            return
        try:
            self.c.request("GET", "/api/v1/gates/stream", headers={"Cookie": cookie})
            self.r = self.c.getresponse()
            self.status = self.r.status
        except (OSError, http.client.HTTPException) as e:
            self.status = "%s" % type(e).__name__
            return
        if self.status != 200:
            self.r.read()
            return
        self.th = threading.Thread(target=self._read, daemon=True)
        self.th.start()

    def _read(self):
        try:
            while True:
                line = self.r.readline()
                if not line:
                    break
                if line.startswith(b"event: "):
                    self.events += 1
        except (OSError, http.client.HTTPException, ValueError, AttributeError):
            pass  # (AttributeError: http.client when the test closed it meanwhile)
        self.ended = time.monotonic()

    def close(self):
        try:
            self.c.sock and self.c.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.c.close()


def end_within(stream, t0, limit):
    al.gslib.wait_until(lambda: stream.ended is not None, limit + 4, 0.02)
    return stream.ended - t0 if stream.ended else None


def budget(st):
    nurse, _ = al.login(st.port, "nurse1")
    gate, _ = al.login(st.port, "gate1", src="127.0.0.5")
    check(nurse and gate, "nurse1 and gate1 log in")
    mine = Stream(st.port, nurse)
    check(mine.status == 200, "the nurse's stream opens (%s)" % mine.status)
    probe = al.NurseProbe(st.port, nurse)
    t0 = time.monotonic()
    base = probe.run(3)
    al.report("before_streams", base)
    al.latency_figures("before_streams", al.gate_latency(st.lights(), t0, time.monotonic()))
    held = []
    for i in range(128):
        held.append(Stream(st.port, gate, src="127.0.1.%d" % (1 + i // 4)))
    ok = [s for s in held if s.status == 200]
    refused = [s.status for s in held if s.status != 200]
    figure("gate_user_streams_taken", "%d of 128" % len(ok))
    figure("gate_user_streams_refused_with", sorted(set(map(str, refused))))
    t1 = time.monotonic()
    during = probe.run(8)
    t2 = time.monotonic()
    al.report("streams_held", during)
    lat = al.gate_latency(st.lights(), t1, t2)
    al.latency_figures("streams_held", lat)
    check(len(ok) <= 4 and refused and set(refused) == {429},
          "one user gets at most 4 streams, the rest 429 (%d taken)" % len(ok))
    check(during["rate"] >= 0.95 and during["p50_ms"] and during["p50_ms"] < 1000,
          "the nurse's requests work while they are held (%.2f)" % during["rate"])
    check(lat and max(lat) < al.GATE_MAX_MS, "the gate is unaffected (max %.1f ms)"
          % (max(lat) if lat else -1))
    nurse2 = Stream(st.port, nurse)
    check(nurse2.status == 200, "the nurse opens a second stream meanwhile (%s)" % nurse2.status)
    # All users together: streams_max = 10 (nurse 2 + gate1 4 + gate2 4 = 10).
    g2, _ = al.login(st.port, "gate2", src="127.0.0.6")
    adm, _ = al.login(st.port, "admin1", src="127.0.0.7")
    more = [Stream(st.port, g2, src="127.0.2.%d" % i) for i in range(1, 5)]
    more.append(Stream(st.port, adm, src="127.0.2.9"))
    got = [s.status for s in more]
    figure("streams_over_total", got)
    check(got == [200] * 4 + [503], "past streams_max (10) another user's stream is 503 (%r)"
          % got)
    for s in held + more + [mine, nurse2]:
        s.close()


def ends_with_session(st):
    """Disable (from the CLI) and logout end an open stream within 1 s."""
    r = al.gslib.cli(st.g.conf, "user", "add", "nurse9", "--role", "nurse",
                     input_text="nurse9-password-1\n")
    check(r.returncode == 0, "nurse9 added")
    al.PASSWORDS["nurse9"] = "nurse9-password-1"
    cookie, _ = al.login(st.port, "nurse9")
    s = Stream(st.port, cookie)
    time.sleep(1.5)
    t0 = time.monotonic()
    r = al.gslib.cli(st.g.conf, "user", "disable", "nurse9")
    check(r.returncode == 0, "gatescreen user disable nurse9 %s" % r.stderr.strip())
    took = end_within(s, t0, 1.0)
    figure("stream_end_after_disable_s", "%.2f" % took if took is not None else "still open after 5 s")
    check(took is not None and took <= 1.0, "the disabled user's stream ends within 1 s")
    s.close()

    cookie, csrf = al.login(st.port, "nurse1")
    s = Stream(st.port, cookie)
    time.sleep(1.5)
    t0 = time.monotonic()
    r, _ = al.request(st.port, "POST", "/api/v1/logout", {}, cookie=cookie, csrf=csrf)
    took = end_within(s, t0, 1.0)
    figure("stream_end_after_logout_s", "%.2f" % took if took is not None else "still open")
    check(r and r.status == 204 and took is not None and took <= 1.0,
          "logout ends the open stream within 1 s")
    s.close()


def not_activity(st):
    """session_idle = 1min: a session whose only traffic is its stream expires."""
    cookie, _ = al.login(st.port, "nurse1")
    s = Stream(st.port, cookie)
    t0 = time.monotonic()
    al.gslib.wait_until(lambda: s.ended is not None, 75, 0.1)
    took = s.ended - t0 if s.ended else None
    figure("stream_only_session_ended_after_s", "%.1f" % took if took else "still open after 75 s")
    check(took is not None and 55 <= took <= 62, "an idle session with an open stream expires "
          "after session_idle, and the stream ends with it")
    r, _ = al.request(st.port, "GET", "/api/v1/session", cookie=cookie)
    check(r and r.status == 401, "the session is gone (%s)" % (r and r.status))
    s.close()


def main():
    st = al.Stand("STRM1", web=WEB, users=("nurse1", "gate1", "gate2", "admin1"))
    try:
        budget(st)
        ends_with_session(st)
        if al.LONG:
            not_activity(st)
        else:
            print("skip - a stream is not activity (GS_LONG=1: waits out a 1 min session_idle)")
    finally:
        rc = st.close()
    check(rc == 0, "the daemon stops cleanly (%d)" % rc)
    al.gslib.finish()


if __name__ == "__main__":
    os.environ.setdefault("GS_LONG", "0")
    main()
