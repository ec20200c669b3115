"""A ZKTeco ADMS (iClock push) terminal in a few lines of Python, written from the
public protocol descriptions (ZKTeco's "PUSH SDK" communication protocol documents
and open-source ADMS receivers), not from gatescreen's code: the handshake
GET /iclock/cdata?SN=..&options=all&pushver=.. (the server answers an options block
of KEY=VALUE lines after "GET OPTION FROM: SN"), the heartbeat
GET /iclock/getrequest?SN=.. (the server answers "OK" or commands), and uploads
POST /iclock/cdata?SN=..&table=ATTLOG&Stamp=.. whose body is one record a line,
tab-separated: PIN, "YYYY-MM-DD HH:MM:SS" (the terminal's local time), status,
verify, workcode, reserved..., and on thermal firmwares a mask flag and a
temperature in the columns after. A record not answered 200 is sent again."""
import datetime
import http.client
import time


class Terminal:
    def __init__(self, port, sn, source="127.0.0.1", utc_offset_h=0):
        self.port, self.sn, self.source = port, sn, source
        self.offset = datetime.timedelta(hours=utc_offset_h)
        self.options = {}
        self.stamp = 0

    def request(self, method, path, body=None):
        """(status, text, headers); status is an error text when the server is not there."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10,
                                          source_address=(self.source, 0))
        try:
            headers = {"User-Agent": "iClock Proxy/1.09"}
            if body is not None:
                headers["Content-Type"] = "text/plain"
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, r.read().decode("utf-8", "replace"), dict(r.getheaders())
        except (ConnectionError, OSError) as e:
            return "error %s" % e, "", {}
        finally:
            conn.close()

    def handshake(self):
        status, text, headers = self.request(
            "GET", "/iclock/cdata?SN=%s&options=all&pushver=2.4.1&language=69" % self.sn)
        if status == 200:
            lines = text.splitlines()
            self.options = dict(ln.split("=", 1) for ln in lines[1:] if "=" in ln)
            self.options["_first"] = lines[0] if lines else ""
        return status, text, headers

    def heartbeat(self):
        status, text, _ = self.request("GET", "/iclock/getrequest?SN=%s" % self.sn)
        return status, text

    def local_time(self, skew_s=0):
        """Now on the terminal's clock, as its records write it."""
        t = (datetime.datetime.now(datetime.timezone.utc) + self.offset
             + datetime.timedelta(seconds=skew_s))
        return t.strftime("%Y-%m-%d %H:%M:%S")

    @staticmethod
    def record(pin, when, status=0, verify=15, mask=None, temp=None, columns=9):
        """One ATTLOG line: PIN, time, status, verify, workcode, two reserved, then (a
        thermal firmware's) mask flag and temperature."""
        cols = [pin, when, str(status), str(verify), "0", "0", "0", "", ""][:max(columns, 4)]
        if mask is not None:
            cols[7] = "1" if mask else "0"
        if temp is not None:
            cols[8] = temp
        return "\t".join(cols)

    def upload(self, lines, table="ATTLOG", tries=3):
        """POSTs the records, again while not answered 200 (as terminals do)."""
        self.stamp += 1
        body = "".join(ln + "\n" for ln in lines).encode()
        for _ in range(tries):
            status, text, _ = self.request(
                "POST", "/iclock/cdata?SN=%s&table=%s&Stamp=%d" % (self.sn, table, self.stamp),
                body)
            if status == 200:
                return status, text
            time.sleep(0.2)
        return status, text
