"""The bureau's collector (issue 15) over real mutual TLS on a private PostgreSQL,
spoken to the way gatescreen's uploader speaks (bureaulib.post): every refusal with
its status and JSON error (wrong or missing client certificate, unknown CA, expired,
not enrolled, another school's certificate, the key or body naming another school,
revoked, disabled, bad or missing token, not JSON, schema failures with the pointer
of the first problem, the same key with another body, too large, over the rate, wrong
type, kind or route), which of them are kept in the quarantine, and that none of them changes what
is stored. Exactly once: the same document again is a 200 without a new row; summary
revisions in any order, the day's latest never lowered. A reload changes max_body at
once; /v1/health answers without a certificate; SIGTERM stops cleanly."""
import http.client
import json
import signal
import time

import bureaulib as bl
import gslib
from gslib import check

DAY = "2026-12-06"


def stored_state(b):
    """Everything an upload may add, to compare before and after refusals."""
    return [b.sql("SELECT id, school_code, kind, idem_key, body_sha256 FROM documents "
                  "ORDER BY id"),
            b.sql("SELECT * FROM summaries ORDER BY 1, 2, 3"),
            b.sql("SELECT school_code, day, revision, document_id FROM summary_latest "
                  "ORDER BY 1, 2"),
            b.sql("SELECT school_code, notice_id, document_id FROM notices ORDER BY 1, 2")]


def quarantined(b):
    return b.sql("SELECT http_status, school_code, idem_key, reason, coalesce(json_pointer, "
                 "'-'), length(body) FROM quarantine ORDER BY id")


def refused(b, c, what, status, words, pointer=None, kept=False, **kw):
    """One request that must be refused with status; its JSON names the problem."""
    before = len(quarantined(b))
    got, answer, raw = bl.post(c, b, **kw)
    answer = answer or {}
    ok = (got == status and words in answer.get("error", "") and
          answer.get("pointer") == pointer and set(answer) == {"error", "pointer"})
    check(ok, "%s: %d %s (pointer %s)%s" % (what, got, answer.get("error", raw[:120]),
                                             answer.get("pointer"),
                                             "" if ok else " -- wanted %d with '%s', pointer %s"
                                             % (status, words, pointer)))
    after = quarantined(b)
    check((len(after) == before + 1) == kept,
          "  %s in the quarantine%s" % ("kept" if kept else "not kept",
                                        (": %s" % (after[-1][:5],)) if kept and after else ""))
    return answer


def exactly_once(b, c, s1):
    doc = bl.summary_doc(s1.code, DAY, 1, figure=5)
    st, ans, _ = bl.send(c, b, s1, doc)
    check(st == 201 and ans.get("status") == "stored", "a new summary: 201 stored %s" % ans)
    st, ans2, _ = bl.send(c, b, s1, doc)
    check(st == 200 and ans2.get("status") == "duplicate" and
          ans2.get("document") == ans.get("document"),
          "the same key and body again: 200 duplicate, the same document %s" % ans2)
    rows = b.sql("SELECT count(*) FROM documents WHERE idem_key = '%s'" % bl.key_of(doc))
    check(rows == [["1"]], "one row for the key: %s" % rows)
    n = bl.notice_doc(s1.code, 17)
    st, _, _ = bl.send(c, b, s1, n)
    check(st == 201, "a notice: 201")
    check(b.sql("SELECT notice_id, type, day FROM notices") ==
          [["%s/referral/17" % s1.code, "referral_opened", DAY]], "the notice is in notices")


def revisions(b, c, s1):
    """Revisions 3, 2 (late), 4, then 3 again: all kept once, the latest is 4."""
    seen = {1}  # stored by exactly_once
    for rev in (3, 2, 4, 3):
        st, _, _ = bl.send(c, b, s1, bl.summary_doc(s1.code, DAY, rev, figure=rev))
        check(st == (200 if rev in seen else 201), "revision %d: %d" % (rev, st))
        seen.add(rev)
        latest = b.sql("SELECT revision FROM summary_latest WHERE school_code = '%s' AND "
                       "day = '%s'" % (s1.code, DAY))
        check(latest == [[str(max(seen))]], "  the day's latest is %s (never lowered by a late "
              "revision): %s" % (max(seen), latest))
    got = b.sql("SELECT revision FROM summaries WHERE school_code = '%s' ORDER BY revision"
                % s1.code)
    check(got == [["1"], ["2"], ["3"], ["4"]], "every revision kept once: %s" % got)


def certificate_refusals(b, c, s1):
    body = bl.body_of(bl.summary_doc(s1.code, DAY, 9))
    key = "%s/%s/9" % (s1.code, DAY)
    refused(b, c, "no client certificate", 403, "no client certificate", school=s1,
            cert=False, body=body, key=key)
    refused(b, c, "a certificate from another CA", 403, "issuer is unknown", school=s1,
            cert=(b.certs["stranger"], b.certs["stranger.key"]), body=body, key=key)
    refused(b, c, "an expired certificate from the bureau's CA", 403, "expired", school=s1,
            cert=(b.certs["expired"], b.certs["expired.key"]), body=body, key=key)
    refused(b, c, "a certificate made for servers, not clients", 403, "not accepted",
            school=s1, cert=(b.certs["server"], b.certs["server.key"]), body=body, key=key)
    cert, ckey = bl.mc.school_client(b.certdir, s1.code, name="stray-" + s1.code)
    refused(b, c, "a good certificate of the school that was never enrolled", 403,
            "not enrolled", school=s1, cert=(cert, ckey), body=body, key=key)


def sender_refusals(b, c, s1, s2):
    body1 = bl.body_of(bl.summary_doc(s1.code, DAY, 9))
    key1 = "%s/%s/9" % (s1.code, DAY)
    refused(b, c, "no Authorization header", 401, "no bearer token", school=s1, token="",
            body=body1, key=key1)
    refused(b, c, "another school's token with this school's certificate", 401,
            "not this school's", school=s1, token=s2.token, body=body1, key=key1)
    refused(b, c, "a wrong token", 401, "not this school's", school=s1,
            token="tok-guessed-0000000000000000", body=body1, key=key1)
    refused(b, c, "school 2's certificate sending school 1's document under its key", 403,
            "does not start with %s/" % s2.code, school=s2, body=body1, key=key1, kept=True)
    body_other = bl.body_of(bl.summary_doc(s1.code, DAY, 9))
    refused(b, c, "school 2's key prefix, school 1's body", 403,
            "the document is school %s's" % s1.code, pointer="/school/code", school=s2,
            body=body_other, key="%s/%s/9" % (s2.code, DAY), kept=True)


def header_refusals(b, c, s1):
    body = bl.body_of(bl.summary_doc(s1.code, DAY, 9))
    key = "%s/%s/9" % (s1.code, DAY)
    refused(b, c, "Content-Type text/plain", 415, "must be JSON", school=s1, body=body, key=key,
            ctype="text/plain")
    refused(b, c, "no X-Gatescreen-Kind", 400, "X-Gatescreen-Kind", school=s1, body=body,
            key=key, kind=None)
    refused(b, c, "no Idempotency-Key", 400, "Idempotency-Key", school=s1, body=body)
    refused(b, c, "GET on the upload route", 405, "POST only", school=s1, method="GET",
            body=None, key=key)
    refused(b, c, "POST elsewhere", 404, "no such route", school=s1, body=body, key=key,
            path="/bureau/v1/upload")


def document_refusals(b, c, s1):
    key = "%s/%s/9" % (s1.code, DAY)
    refused(b, c, "not JSON", 400, "not JSON", pointer="", school=s1, body=b"{\"schema\":",
            key=key, kept=True)
    d = bl.summary_doc(s1.code, DAY, 9)
    d["fevers"]["open"] = -1
    refused(b, c, "a count below zero", 400, "below the minimum", pointer="/fevers/open",
            school=s1, body=bl.body_of(d), key=key, kept=True)
    d = bl.summary_doc(s1.code, DAY, 9)
    del d["devices"][0]["availability"]
    refused(b, c, "a member missing deep inside", 400, "availability", pointer="/devices/0",
            school=s1, body=bl.body_of(d), key=key, kept=True)
    n = bl.notice_doc(s1.code, 18)
    n["recheck_instrument"] = "eye"
    refused(b, c, "a notice with a value its schema does not allow", 400, "not one of",
            pointer="/recheck_instrument", school=s1, body=bl.body_of(n),
            key=n["notice_id"], kind="notice", kept=True)
    d = bl.summary_doc(s1.code, "2026-02-30", 1)
    refused(b, c, "a date the pattern lets through", 400, "not a date", pointer="/date",
            school=s1, body=bl.body_of(d), key="%s/2026-02-30/1" % s1.code, kept=True)
    refused(b, c, "a key that is not the document's own", 400, "own key", school=s1,
            body=bl.body_of(bl.summary_doc(s1.code, DAY, 9)), key="%s/%s/10" % (s1.code, DAY),
            kept=True)
    refused(b, c, "a summary sent as a notice", 400, "not a valid notice", pointer="",
            school=s1, body=bl.body_of(bl.summary_doc(s1.code, DAY, 9)), key=key,
            kind="notice", kept=True)


def conflict_and_size(b, c, s1):
    other = bl.summary_doc(s1.code, DAY, 1, figure=99)  # revision 1 is stored with figure 5
    refused(b, c, "the same key with another body", 409, "used for another document",
                school=s1, body=bl.body_of(other), key=bl.key_of(other), kept=True)
    q = b.sql("SELECT convert_from(body, 'UTF8') FROM quarantine ORDER BY id DESC LIMIT 1")
    check(q and json.loads(q[0][0]) == other, "  the other body is kept as it came")
    check("used for another document" in c.text() and bl.key_of(other) in c.text(),
          "  and the collector logged it")
    big = bl.summary_doc(s1.code, DAY, 9)
    big["school"]["name"] = "x" * (70 * 1024)
    refused(b, c, "a body over max_body (64k)", 413, "larger than", school=s1,
            body=bl.body_of(big), key="%s/%s/9" % (s1.code, DAY), kept=True)
    check(quarantined(b)[-1][5] == "", "  kept without its body (it was not read)")


def revoked_and_disabled(b, c, s1, s3):
    doc = bl.summary_doc(s3.code, DAY, 1)
    st, _, _ = bl.send(c, b, s3, doc)
    check(st == 201, "school 3 delivers before its credential is revoked")
    r = b.cli("credential", "revoke", s3.code)
    check(r.returncode == 0 and "1 credential revoked" in r.stdout, "credential revoke: %s"
          % (r.stdout.strip() or r.stderr.strip()))
    refused(b, c, "a revoked credential", 403, "revoked", school=s3,
            body=bl.body_of(doc), key=bl.key_of(doc))
    # The body is checked before the credential now (one statement for both when it
    # is valid): a sender refused still gets its 403, not the body's 400 or 413, and
    # nothing of it goes into the quarantine.
    refused(b, c, "a revoked credential with a body that is not JSON", 403, "revoked",
            school=s3, body=b"{not json", key=bl.key_of(doc))
    refused(b, c, "a revoked credential with a body over max_body", 403, "revoked",
            school=s3, body=b"x" * (70 * 1024), key=bl.key_of(doc))
    r = b.cli("credential", "revoke", s3.code)
    check(r.returncode == 1 and "no credential in force" in r.stderr,
          "revoking again: exit 1, %s" % r.stderr.strip())
    s4 = b.enrol("D004")
    r = b.cli("school", "disable", s4.code)
    check(r.returncode == 0, "school disable D004")
    doc4 = bl.summary_doc(s4.code, DAY, 1)
    refused(b, c, "a disabled school", 403, "disabled", school=s4, body=bl.body_of(doc4),
            key=bl.key_of(doc4))


def keepalive_and_revocation(b, c):
    """Several uploads on one kept-alive connection: the certificate is verified and read
    at the first (peer.c keeps the verdict for the connection), the credential is looked
    up at every one, so revoking it refuses the next request on the same connection."""
    s5 = b.enrol("XC0415")
    conn = http.client.HTTPSConnection("127.0.0.1", c.port, context=bl.tls_context(
        b, s5.cert, s5.key), timeout=15)

    def upload(day):
        doc = bl.summary_doc(s5.code, day, 1)
        conn.request("POST", bl.PATH, body=bl.body_of(doc), headers={
            "Content-Type": "application/json; charset=utf-8", "X-Gatescreen-Kind": "summary",
            "Idempotency-Key": bl.key_of(doc), "Authorization": "Bearer " + s5.token})
        r = conn.getresponse()
        return r.status, json.loads(r.read())
    got = [upload("2026-12-0%d" % d) for d in (1, 2, 3)]
    check([st for st, _ in got] == [201] * 3 and
          b.sql("SELECT count(*) FROM documents WHERE school_code = 'XC0415'") == [["3"]],
          "three uploads on one kept-alive connection: %s" % [st for st, _ in got])
    r = b.cli("credential", "revoke", s5.code)
    check(r.returncode == 0, "credential revoke XC0415")
    st, ans = upload("2026-12-04")
    check(st == 403 and "revoked" in ans.get("error", ""),
          "revoked meanwhile: the next request on the same connection is refused: %d %s"
          % (st, ans))
    conn.close()


def reload_and_health(b, c, s1):
    big = bl.summary_doc(s1.code, DAY, 5)
    big["school"]["name"] = "y" * (80 * 1024)
    st, _, _ = bl.send(c, b, s1, big)
    check(st == 413, "80 KiB with max_body = 64k: 413")
    with open(b.conf, encoding="utf-8") as f:
        text = f.read()
    with open(b.conf, "w", encoding="utf-8") as f:
        f.write(text.replace("max_body = 64k", "max_body = 1M").replace(
            "instance = bureau-a", "instance = bureau-renamed"))
    c.proc.send_signal(signal.SIGHUP)
    check(c.wait_for("reload:", 10) and "max_body 1048576 bytes" in c.text(),
          "SIGHUP: the new max_body is applied")
    check("[collector] instance changed; restart" in c.text(),
          "  a change that needs a restart is named in the log")
    st, ans, _ = bl.send(c, b, s1, big)
    check(st == 201, "the same 80 KiB summary after the reload: %d %s" % (st, ans))
    got = b.sql("SELECT DISTINCT received_by FROM documents")
    check(got == [["bureau-a"]], "the running instance name is kept until a restart: %s" % got)
    with open(b.conf, "w", encoding="utf-8") as f:
        f.write(text + "\n[nonsense]\n")
    c.proc.send_signal(signal.SIGHUP)
    check(c.wait_for("has errors; keeping", 10), "a broken file on reload is refused, with "
          "its FILE:LINE in the log: %s" % [ln for ln in c.text().splitlines()
                                            if "nonsense" in ln][:1])
    with open(b.conf, "w", encoding="utf-8") as f:
        f.write(text)
    st, ans, _ = bl.post(c, b, method="GET", path="/v1/health", body=None, kind=None,
                         ctype=None)
    check(st == 200 and ans == {"status": "ok", "instance": "bureau-a"},
          "GET /v1/health without a certificate: %d %s" % (st, ans))


def rate_limits(b, c, s1, s2):
    """Per school and kind, live on reload: 429 with Retry-After at the headers,
    nothing stored or quarantined, the school's notices and other schools not held
    back, one log line when a flood starts and one when it ends."""
    with open(b.conf, encoding="utf-8") as f:
        text = f.read()
    with open(b.conf, "w", encoding="utf-8") as f:
        f.write(text.replace("[collector]\n", "[collector]\nrate_per_minute = 30\n"
                             "rate_burst = 5\n"))
    mark = c.text().count("reload:")
    c.proc.send_signal(signal.SIGHUP)
    check(c.wait_for("reload:", 10, count=mark + 1), "SIGHUP with rate_per_minute = 30, "
          "rate_burst = 5")
    day = "2026-11-02"
    codes = [bl.send(c, b, s1, bl.summary_doc(s1.code, day, n))[0] for n in range(1, 6)]
    check(codes == [201] * 5, "5 summaries at once (the burst): %s" % codes)
    before, q_before = stored_state(b), len(quarantined(b))
    hdrs = {}
    st, ans, _ = bl.send(c, b, s1, bl.summary_doc(s1.code, day, 6), answer_headers=hdrs)
    wait = int(hdrs.get("Retry-After", "0"))
    check(st == 429 and "more than 30 summary uploads a minute from %s" % s1.code
          in (ans or {}).get("error", "") and 1 <= wait <= 2,
          "the 6th: %d %s, Retry-After %s" % (st, ans, hdrs.get("Retry-After")))
    more = [bl.send(c, b, s1, bl.summary_doc(s1.code, day, 6))[0] for _ in range(20)]
    check(more == [429] * 20, "20 more at once: all 429")
    check(stored_state(b) == before and len(quarantined(b)) == q_before,
          "  nothing stored and nothing quarantined for them (the body was not read)")
    check(c.text().count("%s summary is over its rate" % s1.code) == 1,
          "  one log line for the flood, not one per request")
    st, _, _ = bl.send(c, b, s1, bl.notice_doc(s1.code, 77))
    check(st == 201, "the same school's urgent notice is not held back: %d" % st)
    st, _, _ = bl.send(c, b, s2, bl.summary_doc(s2.code, day, 1))
    check(st == 201, "another school is not held back: %d" % st)
    time.sleep(wait + 0.1)
    st, _, _ = bl.send(c, b, s1, bl.summary_doc(s1.code, day, 6))
    check(st == 201, "after Retry-After: 201 (%d)" % st)
    check(c.wait_for("%s summary is under its rate again (21 refused before)" % s1.code, 5),
          "  the log says the flood ended and how many were refused")
    got = b.sql("SELECT count(*), max(revision) FROM summaries WHERE school_code = '%s' "
                "AND day = '%s'" % (s1.code, day))
    check(got == [["6", "6"]] or got == [[6, 6]], "6 revisions stored, each once: %s" % got)
    with open(b.conf, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    with bl.Bureau(max_body="64k") as b:
        c = b.collector()
        s1 = b.enrol("XC0412")           # SAN URI urn:gatescreen:school:XC0412
        s2 = b.enrol("XC0413", uri=False)  # CN=XC0413 only
        s3 = b.enrol("XC0414")
        exactly_once(b, c, s1)
        revisions(b, c, s1)
        before = stored_state(b)
        certificate_refusals(b, c, s1)
        sender_refusals(b, c, s1, s2)
        header_refusals(b, c, s1)
        document_refusals(b, c, s1)
        conflict_and_size(b, c, s1)
        check(stored_state(b) == before, "none of the refusals changed or added a stored row")
        revoked_and_disabled(b, c, s1, s3)
        keepalive_and_revocation(b, c)
        reload_and_health(b, c, s1)
        rate_limits(b, c, s1, s2)
        r = b.cli("quarantine", "list")
        check(r.returncode == 0 and r.stdout.count("\n") == len(quarantined(b)) + 1 and
              "/fevers/open" in r.stdout, "gatescreen-bureau quarantine list shows every row "
              "(%d)" % len(quarantined(b)))
        c.proc.send_signal(signal.SIGUSR1)
        check(c.wait_for("collector: uploads stored", 5), "SIGUSR1 logs the counts")
        rc, took = c.stop()
        check(rc == 0 and took < 5 and "stopped cleanly" in c.text(),
              "SIGTERM: exit %d in %.1f s, stopped cleanly" % (rc, took))
    gslib.finish()


if __name__ == "__main__":
    main()
