"""Issue 16 item 1 (first half): one unauthenticated client must not take the nurse's
page down. The attack of the report: 128 TLS connections from one address (here
127.0.0.2), each sending a request line and then one header line every 20 s, never
finishing its headers, and opening new ones (once a second) as the server closes
them, to keep 128 open. Meanwhile the nurse (127.0.0.1) loads /api/v1/today every
0.5 s with a 5 s timeout, and the four lanes of gslib.BusyGate decide readings.

Figures: the nurse's success rate and latency before and during the attack, how many
of the attacker's connections the server took, how long a slow connection lives (the
[web] request_timeout, 10 s by default), and the gate's decision latency before and
during the attack. A second attacker at 127.0.0.3 sends a header line every 2 s (never
idle long enough for an idle timeout): its connection must be closed by the request
deadline, not live on.

Short run ~45 s; GS_LONG=1 runs the attack for the report's 2 minutes."""
import select
import ssl
import threading
import time

import attacklib as al
from attacklib import check, figure

CONNS = 128
ATTACK_S = 120 if al.LONG else 24
LINE_EVERY_S = 20
DEADLINE_S = 10  # the documented default of [web] request_timeout


class Slowloris:
    """n connections from src that never finish their headers."""

    def __init__(self, port, n, src):
        self.port, self.n, self.src = port, n, src
        self.socks, self.refused, self.opened_at, self.closed_at = [], 0, {}, {}
        self.top_up()
        self.first = len(self.socks)
        self.last_line = self.last_top_up = time.monotonic()

    def top_up(self):
        """Opens connections until n are open or the server refuses one."""
        while len(self.open()) < self.n:
            try:
                s = al.tls_socket(self.port, self.src, timeout=3.0)
                s.sendall(b"GET /api/v1/today HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                s.setblocking(False)
                self.opened_at[s] = time.monotonic()
                self.socks.append(s)
            except (OSError, ssl.SSLError):
                self.refused += 1
                return

    def open(self):
        return [s for s in self.socks if s not in self.closed_at]

    def poll(self, secs, line_every, reconnect=False):
        """Sends a header line every line_every s on each open connection and notes
        the connections the server closed, for secs seconds; with reconnect, opens
        new ones (once a second) to keep n open, as a real attacker would."""
        end = time.monotonic() + secs
        while time.monotonic() < end:
            if reconnect and time.monotonic() - self.last_top_up >= 1.0:
                self.last_top_up = time.monotonic()
                self.top_up()
            live = self.open()
            if not live:
                time.sleep(min(0.2, max(0.0, end - time.monotonic())))
                continue
            ready, _, _ = select.select(live, [], [], 0.2)
            for s in ready:
                self._read(s)
            if time.monotonic() - self.last_line >= line_every:
                self.last_line = time.monotonic()
                for s in self.open():
                    try:
                        s.sendall(b"X-Slow: 1\r\n")
                    except (OSError, ssl.SSLError):
                        self.closed_at[s] = time.monotonic()

    def _read(self, s):
        try:
            if s.recv(4096):
                return  # an answer (408?) still counts as open until the close
        except (ssl.SSLWantReadError, BlockingIOError):
            return
        except (OSError, ssl.SSLError):
            pass
        self.closed_at[s] = time.monotonic()

    def lifetimes(self):
        return [self.closed_at[s] - self.opened_at[s] for s in self.closed_at]

    def close(self):
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass


def main():
    st = al.Stand("SLOW1")
    try:
        cookie, _ = al.login(st.port, "nurse1")
        check(cookie is not None, "the nurse logs in")
        probe = al.NurseProbe(st.port, cookie)
        t0 = time.monotonic()
        before = probe.run(4)
        t1 = time.monotonic()
        al.report("before_attack", before)
        al.latency_figures("before_attack", al.gate_latency(st.lights(), t0, t1))

        att = Slowloris(st.port, CONNS, "127.0.0.2")
        figure("attacker_connections_taken", "%d of %d" % (att.first, CONNS))
        t2 = time.monotonic()
        th = threading.Thread(target=att.poll, args=(ATTACK_S, LINE_EVERY_S, True))
        th.start()
        during = probe.run(ATTACK_S - 1)
        th.join()
        t3 = time.monotonic()
        al.report("during_attack", during)
        lat = al.gate_latency(st.lights(), t2, t3)
        al.latency_figures("during_attack", lat)
        life = att.lifetimes()
        figure("attacker_connections_opened_in_all", "%d (refused %d times)"
               % (len(att.socks), att.refused))
        figure("slow_connections_closed", "%d of %d" % (len(life), len(att.socks)))
        if life:
            figure("slow_connection_life_max_s", "%.1f" % max(life))
        still = [time.monotonic() - att.opened_at[s] for s in att.open()]
        att.close()

        check(att.first <= 32, "one address gets a bounded number of connections "
              "(%d of %d taken)" % (att.first, CONNS))
        check(during["rate"] >= 0.95, "the nurse's requests succeed during the attack "
              "(%.2f)" % during["rate"])
        check(during["p50_ms"] is not None and during["p50_ms"] < 1000,
              "and answer quickly (median %s ms)" % during["p50_ms"])
        check(life and max(life) <= DEADLINE_S + 2 and all(t <= DEADLINE_S + 2 for t in still),
              "every slow connection is closed by the request deadline (%s s)"
              % ("%.1f" % max(life) if life else "none closed"))
        check(lat and max(lat) < al.GATE_MAX_MS, "the gate decides as fast during the attack "
              "(max %.1f ms over %d decisions)" % (max(lat) if lat else -1, len(lat)))

        # A header line every 2 s: never idle, so only a deadline ends it.
        busy = Slowloris(st.port, 1, "127.0.0.3")
        busy.poll(DEADLINE_S + 6, 2)
        life = busy.lifetimes()
        figure("chatty_slow_connection_life_s", "%.1f" % life[0] if life else
               "still open after %d s" % (DEADLINE_S + 6))
        check(life and life[0] <= DEADLINE_S + 2, "a connection sending a header line every 2 s "
              "is closed by the deadline too")
        busy.close()
        after = probe.run(2)
        check(after["rate"] == 1.0, "the page works after the attack")
    finally:
        rc = st.close()
    check(rc == 0, "the daemon stops cleanly (%d)" % rc)
    al.gslib.finish()


if __name__ == "__main__":
    main()
