"""Issue 16 item 9: HTTP edge cases of the nurse's page, against the real gatescreend
on HTTPS with a roster imported by the real CLI.

- A person id with "/" in it (the roster import takes it) is reachable from the
  web, percent-encoded as the page sends it (/api/v1/people/G3%2F12); a malformed or
  NUL escape in a path segment is a 400 naming it.
- A request line or headers too large are answered by our server, with the
  security headers (414, 431), not by libmicrohttpd's own page -- up to its buffer
  (about 32 KB of request line and headers); a request beyond that still gets
  libmicrohttpd's fixed text (no security headers, nothing reflected) and the
  connection closed: figure headers_108k (docs/web-api.md, "Limits").
- Two conflicting Content-Length headers, or Content-Length with
  Transfer-Encoding, are a 400 and the connection is closed (no request smuggling).
~10 s."""
import json
import os
import re
import ssl

import attacklib as al
from attacklib import check, figure

ROSTER = """\
external_id,kind,name,grade,class,card,active
S1,student,令狐冲,一年级,一年级1班,1001,1
G3/12,student,任盈盈,一年级,一年级2班,1002,1
"""
SEC = ("content-security-policy", "x-content-type-options", "referrer-policy",
       "x-frame-options")


def raw(port, data, timeout=5, until_close=False):
    """Sends bytes on a new TLS connection; (status, headers, body, closed): closed
    is whether the server closed it after the answer (waited for with until_close)."""
    s = al.tls_socket(port, timeout=timeout)
    try:
        s.sendall(data)
        buf = b""
        closed = False
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.\d (\d+)", lines[0]) if lines else None
        headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            headers[k.strip().lower()] = v.strip()
        want = int(headers.get("content-length", "0") or 0)
        try:
            while len(body) < want:
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk
            closed = closed or (until_close and s.recv(1) == b"")
        except (OSError, ssl.SSLError):
            closed = True
        return (int(m.group(1)) if m else None), headers, body, closed
    except (OSError, ssl.SSLError) as e:
        return None, {}, str(e).encode(), True
    finally:
        s.close()


def has_sec(headers):
    return all(h in headers for h in SEC)


def slash_ids(port, cookie, csrf):
    r, err = al.request(port, "GET", "/api/v1/people/G3%2F12", cookie=cookie)
    got = r.json.get("person", r.json).get("id") if r and isinstance(r.json, dict) else None
    figure("person_with_slash_GET", "%s %s" % (r.status if r else err, got))
    check(r and r.status == 200 and "G3/12" in r.raw.decode("utf-8"),
          "GET /api/v1/people/G3%%2F12 finds the person G3/12 (%s)" % (r.status if r else err))
    r, err = al.request(port, "POST", "/api/v1/people/G3%2F12/recheck",
                        {"temp_centi": 3650, "instrument": "ear"}, cookie=cookie, csrf=csrf)
    figure("person_with_slash_recheck", r.status if r else err)
    check(r and r.status in (200, 201, 409), "an action on G3/12 reaches the person (%s %s)"
          % (r.status if r else err, r.raw[:100] if r else ""))
    r, _ = al.request(port, "GET", "/api/v1/people/S1", cookie=cookie)
    check(r and r.status == 200, "a plain id still works")
    for bad in ("%ZZ", "S%", "S%0", "S1%00x"):
        r, err = al.request(port, "GET", "/api/v1/people/" + bad, cookie=cookie)
        check(r and r.status == 400 and "percent" in r.raw.decode("utf-8", "replace"),
              "a bad escape %s is a 400 naming it (%s %s)" % (bad, r.status if r else err,
                                                             r.raw[:100] if r else ""))
    r, _ = al.request(port, "GET", "/api/v1/people/G3/12", cookie=cookie)
    check(r and r.status == 404, "an unencoded / is still two segments (404)")


def sizes(port, cookie):
    status, h, body, _ = raw(port, b"GET /api/v1/people/S1?q=" + b"x" * 20000 +
                             b" HTTP/1.1\r\nHost: a\r\n\r\n")
    figure("uri_20k", "%s, security headers %s" % (status, has_sec(h)))
    check(status == 414 and has_sec(h), "a 20 KB URL: 414 with the security headers")
    hdrs = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"y" * 900) for i in range(24))
    status, h, body, _ = raw(port, b"GET /api/v1/session HTTP/1.1\r\nHost: a\r\nCookie: "
                             + cookie.encode() + b"\r\n" + hdrs + b"\r\n")
    figure("headers_22k", "%s, security headers %s" % (status, has_sec(h)))
    check(status == 431 and has_sec(h), "22 KB of headers: 431 with the security headers")
    hdrs = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"y" * 900) for i in range(120))
    status, h, body, closed = raw(port, b"GET / HTTP/1.1\r\nHost: a\r\n" + hdrs + b"\r\n",
                                  until_close=True)
    # Past libmicrohttpd's own buffer (MHD_MEMORY in web_server.c) it answers by
    # itself: a fixed text without our headers, then closes. Nothing of the request
    # is in it; documented in docs/web-api.md ("Limits").
    figure("headers_108k", "%s, security headers %s, closed %s" % (status, has_sec(h), closed))
    check(closed and b"yyyy" not in body and status in (None, 431),
          "108 KB of headers (past libmicrohttpd's buffer): closed, nothing reflected (%s)"
          % status)
    status, h, _, _ = raw(port, b"GET /api/v1/session HTTP/1.1\r\nHost: a\r\nCookie: "
                          + cookie.encode() + b"\r\n\r\n")
    check(status == 200, "a normal request after them works")


def framing(port, cookie, csrf):
    body = json.dumps({"temp_centi": 3650, "instrument": "ear"}).encode()
    common = (b"POST /api/v1/people/S1/recheck HTTP/1.1\r\nHost: a\r\nCookie: " +
              cookie.encode() + b"\r\nX-CSRF-Token: " + csrf.encode() +
              b"\r\nContent-Type: application/json\r\n")
    status, h, text, closed = raw(port, common + b"Content-Length: %d\r\nContent-Length: 5\r\n\r\n"
                                  % len(body) + body, until_close=True)
    figure("two_content_lengths", "%s closed %s" % (status, closed))
    check(status == 400 and closed and has_sec(h),
          "two conflicting Content-Length headers: 400 and the connection closed (%s %s)"
          % (status, text[:80]))
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    status, h, text, closed = raw(port, common + b"Content-Length: %d\r\n"
                                  b"Transfer-Encoding: chunked\r\n\r\n" % len(chunked) + chunked,
                                  until_close=True)
    figure("content_length_and_chunked", "%s closed %s" % (status, closed))
    check(status == 400 and closed, "Content-Length with Transfer-Encoding: 400, closed (%s)"
          % status)
    status, h, text, closed = raw(port, common + b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n"
                                  % (len(body), len(body)) + body)
    figure("two_equal_content_lengths", status)


def main():
    d, conf = al.gslib.scratch("")
    cert, key = al.rsa_cert(d)
    port = al.gslib.free_port()
    with open(conf, "w", encoding="utf-8") as f:
        f.write(al.gslib.BASE_CONFIG + "\n[web]\nenabled = yes\nlisten = 127.0.0.1\nport = %d\n"
                "tls_cert = %s\ntls_key = %s\n" % (port, cert, key))
    roster = os.path.join(d, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    r = al.gslib.cli(conf, "roster", "import", roster)
    check(r.returncode == 0, "the roster with id G3/12 is imported %s" % r.stderr.strip())
    r = al.gslib.cli(conf, "user", "add", "nurse1", "--role", "nurse",
                     input_text=al.PASSWORDS["nurse1"] + "\n")
    check(r.returncode == 0, "nurse1 added")
    dm = al.gslib.Daemon(conf)
    try:
        check(dm.wait_for("web: serving HTTPS"), "gatescreend serves HTTPS")
        cookie, csrf = al.login(port, "nurse1")
        check(cookie is not None, "the nurse logs in")
        slash_ids(port, cookie, csrf)
        sizes(port, cookie)
        framing(port, cookie, csrf)
    finally:
        rc, _ = dm.stop()
    check(rc == 0, "the daemon stops cleanly (%d)" % rc)
    al.gslib.finish()


if __name__ == "__main__":
    main()
