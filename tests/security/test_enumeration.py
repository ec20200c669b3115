"""Issue 16, item 5: user names could be told to exist. Unknown names' lockouts were
kept for the last 256 names only: after failures of 300 other unknown names, a locked
unknown name answered 401 while a locked real one still answered 429. Now the
throttle's state is the same for names that are users and names that are not (one
table keyed by name and address, which does not know which is which).

The sequence: from 127.0.0.2, five wrong passwords for a real name (nurse2) and for an
unknown one (ghost01); then one wrong password for each of 300 other unknown names
from 30 addresses (127.0.1.1-30, 10 each: under any one address's limit) while the
nurse logs in from 127.0.0.1 on a busy gate; then both names again from 127.0.0.2:
the same status. Then a fresh real and unknown name from 127.0.0.4, three wrong
passwords each: the same statuses and delays.

Figures: the two names' statuses and times, the nurse's login success rate and
latency, the gate's decision latency. GS_LONG=1: 1,000 other names."""
import threading

import loginlib
from loginlib import ATTACK_ADDR, check, figure

OTHERS = 1000 if loginlib.gslib.LONG else 300
ADDRS = OTHERS // 10


def wrong(cl, name, n):
    """n wrong passwords in a row; the replies."""
    return [cl.req("POST", "/api/v1/login", {"name": name, "password": "wrong-%s-%d" % (name, i)})
            for i in range(n)]


def both(cl, a, b, n):
    """n wrong passwords for a and for b at once (two threads); the two reply lists."""
    out = {}
    ts = [threading.Thread(target=lambda x=x: out.__setitem__(x, wrong(cl, x, n))) for x in (a, b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    return out[a], out[b]


def others(site):
    """OTHERS unknown names, one wrong password each, 10 from each of ADDRS addresses."""
    def from_addr(k, stop, tally):
        cl = site.client("127.0.1.%d" % (k + 1))
        for i in range(OTHERS // ADDRS):
            if stop.is_set():
                return
            tally(cl.req("POST", "/api/v1/login", {"name": "other%d-%d" % (k, i),
                                                   "password": "wrong-password"}).status)
    return loginlib.threaded(ADDRS, from_addr)


def statuses(rs):
    return [r.status for r in rs]


def attack_test(site):
    cl = site.client(ATTACK_ADDR)
    real, ghost = both(cl, "nurse2", "ghost01", 5)
    figure("locking_statuses_real", statuses(real))
    figure("locking_statuses_unknown", statuses(ghost))
    check(statuses(real) == statuses(ghost) and statuses(real)[-1] == 429,
          "five wrong passwords: the same statuses for a real and an unknown name (%s, %s)"
          % (statuses(real), statuses(ghost)))
    # The nurse logs in while the other names are tried, until they are done (about
    # 20 s for 300 on 2 cores).
    rate, lat, nurse, counts = loginlib.run_attack(site, others(site), 240, until_done=True)
    figure("other_names_statuses", " ".join("%s:%d" % kv for kv in sorted(counts.items())))
    check(sum(counts.values()) == OTHERS, "%d other unknown names tried (%d)"
          % (OTHERS, sum(counts.values())))
    check(rate == 1.0, "the nurse logs in every time meanwhile (%.2f)" % rate)
    loginlib.check_gate(lat)
    r_real, r_ghost = both(cl, "nurse2", "ghost01", 1)
    figure("after_others_status_real", r_real[0].status)
    figure("after_others_status_unknown", r_ghost[0].status)
    check(r_real[0].status == r_ghost[0].status,
          "after %d other names, the real and the unknown name answer alike (%d, %d)"
          % (OTHERS, r_real[0].status, r_ghost[0].status))
    fresh = site.client("127.0.0.4")
    real, ghost = both(fresh, "admin1", "ghost02", 3)
    tr = ["%.2f" % r.secs for r in real]
    tg = ["%.2f" % r.secs for r in ghost]
    figure("fresh_times_real_s", " ".join(tr))
    figure("fresh_times_unknown_s", " ".join(tg))
    check(statuses(real) == statuses(ghost) == [401] * 3,
          "a fresh real and unknown name: the same statuses (%s, %s)"
          % (statuses(real), statuses(ghost)))
    check(all(abs(a.secs - b.secs) < 0.5 for a, b in zip(real, ghost)),
          "... and the same delays within 0.5 s (%s, %s)" % (tr, tg))


if __name__ == "__main__":
    loginlib.main("SE01", attack_test)
