"""Issue 16, item 2: an unauthenticated login flood. ~100 parallel logins with random
names from one address (127.0.0.2) while the nurse logs in from hers (127.0.0.1) every
0.5 s, on a busy gate. Before: the 64 "login in progress" slots were shared by all
names, so 30 of 30 of the nurse's logins failed with 429, and every attempt wrote an
audit row (~26 rows/s). Now: the flooding address is throttled on its own (at most 4
logins in progress, blocked after 20 failures), the nurse logs in every time, and
failed logins beyond 10 a minute are summed up in one audit row every 10 s.

Figures: the nurse's login success rate and latency (quiet, attack), the gate's
decision latency (quiet, attack), the audit rows written by the attack per minute.
GS_LONG=1: a 60 s attack instead of 15 s."""
import random
import string
import time

import loginlib
from loginlib import ATTACK_ADDR, check, figure

ATTACK_S = 60 if loginlib.gslib.LONG else 15
THREADS = 100


def flood(site):
    """THREADS threads logging in with random names until stopped."""
    def one(k, stop, tally):
        cl = site.client(ATTACK_ADDR)
        rnd = random.Random(k)
        while not stop.is_set():
            name = "".join(rnd.choice(string.ascii_lowercase) for _ in range(10))
            tally(cl.req("POST", "/api/v1/login", {"name": name, "password": "x-" + name}).status)
    return loginlib.threaded(THREADS, one)


def attack_test(site):
    rows0 = site.audit_rows()
    t0 = time.monotonic()
    rate, lat, nurse, counts = loginlib.run_attack(site, flood(site), ATTACK_S)
    secs = time.monotonic() - t0
    rows = site.audit_rows() - rows0
    per_min = max(rows, 0) * 60.0 / secs
    figure("attack_requests", sum(counts.values()))
    figure("attack_statuses", " ".join("%s:%d" % kv for kv in sorted(counts.items())))
    figure("audit_rows_from_attack_per_min", "%.0f" % per_min)
    check(rate == 1.0, "the nurse logs in every time during the flood (%.2f)" % rate)
    med = loginlib.percentile([r[1] for r in nurse.results], 0.5)
    check(med < 2.0, "the nurse's median login takes under 2 s during the flood (%.2f s)"
          % med)
    # 10 rows of their own a minute and a summary every 10 s, for each started minute.
    limit = 16 * (secs // 60 + 1)
    check(max(rows, 0) <= limit, "the flood's audit rows are bounded: %d in %.0f s (at most "
          "%.0f)" % (rows, secs, limit))
    summed = loginlib.gslib.db_query(site.db, "SELECT detail FROM audit_log WHERE action = "
                                              "'login failures summed up'")
    check(len(summed) >= 1 and ATTACK_ADDR in summed[-1][0],
          "the flood is summed up in the audit log, naming its address (%s)"
          % (summed[-1][0] if summed else "none"))
    loginlib.check_gate(lat)


if __name__ == "__main__":
    loginlib.main("SF01", attack_test)
