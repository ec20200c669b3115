"""Issue 16, item 3: anyone could lock the nurse out. A stranger on 127.0.0.2 sends wrong
passwords for the nurse's name, again and again, while the nurse logs in from her own
address (127.0.0.1) on a busy gate. Before: five wrong passwords (about 8 s) locked the
account for 15 minutes from any address, so every login of the nurse was a 429. Now:
failures count per (name, address) and per address; the stranger's address is
throttled, the nurse's is not.

Figures: the nurse's login success rate and latency (quiet, attack), the gate's
decision latency, the stranger's statuses. GS_LONG=1: a 60 s attack instead of 12 s."""
import loginlib
from loginlib import ATTACK_ADDR, check, figure

ATTACK_S = 60 if loginlib.gslib.LONG else 12


def guesses(site):
    """Two threads guessing the nurse's password until stopped."""
    def one(k, stop, tally):
        cl = site.client(ATTACK_ADDR)
        i = 0
        while not stop.is_set():
            tally(cl.req("POST", "/api/v1/login",
                         {"name": "nurse1", "password": "guess-%d-%d" % (k, i)}).status)
            i += 1
            stop.wait(0.05)
    return loginlib.threaded(2, one)


def attack_test(site):
    rate, lat, nurse, counts = loginlib.run_attack(site, guesses(site), ATTACK_S)
    figure("stranger_statuses", " ".join("%s:%d" % kv for kv in sorted(counts.items())))
    check(counts.get(401, 0) >= 4 and counts.get(429, 0) >= 1,
          "the stranger's guesses were checked and then throttled (%s)" % counts)
    check(rate == 1.0, "the nurse logs in every time while a stranger guesses her "
          "password from elsewhere (%.2f)" % rate)
    r, _ = site.client(ATTACK_ADDR).login("nurse1", loginlib.USERS["nurse1"][1])
    check(r.status == 429, "from the stranger's address even the right password waits "
          "(%d)" % r.status)
    loginlib.check_gate(lat)


if __name__ == "__main__":
    loginlib.main("SL01", attack_test)
