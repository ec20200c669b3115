"""Issue 16, item 6: any user could evict everyone's sessions. The store holds 1,024
sessions and had no per-user cap: 1,030 logins by one gate-role user ended a nurse's
session. Now a user has at most 16 sessions; their 17th login ends their own oldest.

nurse1 logs in and then reads a page without a request (her session the one unused
longest, which the old store evicted first); nurse2 keeps reading her session (every
0.5 s) while gate1 logs in again and again from 127.0.0.2 on a busy gate. Short run: 40 logins (the cap is
checked: only gate1's last 16 sessions live, the oldest went first). GS_LONG=1:
1,030 logins, as in the issue (about 2 minutes).

Figures: nurse2's request success rate and latency, nurse1's session after the
logins, gate1's live sessions, the gate's decision latency."""
import loginlib
from loginlib import ATTACK_ADDR, check, figure

LOGINS = 1030 if loginlib.gslib.LONG else 40
CAP = 16


def logins(site):
    """gate1 logging in LOGINS times in a row: (index, cookie) tallied in order."""
    def one(k, stop, tally):
        cl = site.client(ATTACK_ADDR)
        for i in range(LOGINS):
            if stop.is_set():
                break
            tally((i, cl.login("gate1", loginlib.USERS["gate1"][1])[1]))
    return loginlib.threaded(1, one)


def attack_test(site):
    nurse = site.client()
    # nurse1 logged in and reads a page (no request meanwhile): the session the
    # old store evicted first; nurse2 keeps working (the success-rate figure).
    r, idle = nurse.login("nurse1", loginlib.USERS["nurse1"][1])
    check(r.status == 200 and idle, "nurse1 logs in (%d)" % r.status)
    r, cookie = nurse.login("nurse2", loginlib.USERS["nurse2"][1])
    check(r.status == 200 and cookie, "nurse2 logs in (%d)" % r.status)
    rate, lat, _, result = loginlib.run_attack(site, logins(site), 600, until_done=True,
                                               cookie=cookie)
    cookies = [c for (_, c) in sorted(result)]
    ok = [c for c in cookies if c]
    figure("gate1_logins", "%d/%d" % (len(ok), LOGINS))
    check(len(ok) == LOGINS, "gate1 logged in %d times (%d)" % (LOGINS, len(ok)))
    alive = [site.client(ATTACK_ADDR).req("GET", "/api/v1/session", cookie=c).status == 200
             for c in ok]
    figure("gate1_live_sessions", sum(alive))
    check(sum(alive) <= CAP, "gate1 holds at most %d sessions (%d)" % (CAP, sum(alive)))
    check(alive[-CAP:] == [True] * CAP and not any(alive[:-CAP]),
          "the oldest of gate1's sessions went first (live: the last %d)" % CAP)
    check(rate == 1.0, "nurse2's session works all along (%.2f)" % rate)
    r = nurse.req("GET", "/api/v1/session", cookie=idle)
    figure("idle_nurse_session_status_after", r.status)
    check(r.status == 200, "nurse1's idle session lives after gate1's %d logins (%d)"
          % (LOGINS, r.status))
    loginlib.check_gate(lat)


if __name__ == "__main__":
    loginlib.main("SC01", attack_test)
