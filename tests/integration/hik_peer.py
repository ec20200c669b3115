"""An independent peer playing a Hikvision terminal's ISAPI, for the terminals'
tests: Python's http.server with HTTP Digest (RFC 7616, MD5 with qop=auth, written
from the RFC, not from our code), and an alertStream as open-source alertStream
clients and Hikvision's examples show it: GET /ISAPI/Event/notification/alertStream
answered 200 with `Content-Type: multipart/mixed; boundary=boundary`, a body that
never ends (HTTP/1.0, closed by either side), XML heartbeat parts
(EventNotificationAlert with eventType videoloss, eventState inactive), events as
JSON or XML EventNotificationAlert parts, each followed by a JPEG part."""
import hashlib
import http.server
import json
import os
import queue
import re
import threading
import time

REALM = "DS-K1T671"
NONCE = "b2f1c9a0d3"
STREAM_PATH = "/ISAPI/Event/notification/alertStream"


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def digest_ok(handler, user, password):
    """Whether the request carries a valid Digest answer to our challenge."""
    auth = handler.headers.get("Authorization", "")
    f = dict(re.findall(r'(\w+)="?([^",]*)"?', auth[7:])) if auth.startswith("Digest ") else {}
    if not f or f.get("username") != user or f.get("nonce") != NONCE:
        return False
    ha1 = md5("%s:%s:%s" % (user, REALM, password))
    ha2 = md5("%s:%s" % (handler.command, f.get("uri", "")))
    want = md5(":".join([ha1, NONCE, f.get("nc", ""), f.get("cnonce", ""), "auth", ha2]))
    return f.get("response") == want and f.get("uri") == handler.path


def challenge(handler):
    handler.send_response(401)
    handler.send_header("WWW-Authenticate", 'Digest realm="%s", qop="auth", nonce="%s", '
                        'algorithm=MD5' % (REALM, NONCE))
    handler.send_header("Content-Length", "0")
    handler.end_headers()


HEARTBEAT = ('<?xml version="1.0" encoding="UTF-8"?>\r\n'
             '<EventNotificationAlert version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">\r\n'
             '<ipAddress>%s</ipAddress>\r\n<portNo>80</portNo>\r\n<protocol>HTTP</protocol>\r\n'
             '<macAddress>44:47:cc:00:00:02</macAddress>\r\n<channelID>1</channelID>\r\n'
             '<dateTime>%s</dateTime>\r\n<activePostCount>0</activePostCount>\r\n'
             '<eventType>videoloss</eventType>\r\n<eventState>inactive</eventState>\r\n'
             '<eventDescription>videoloss alarm</eventDescription>\r\n'
             '</EventNotificationAlert>\r\n')

XML_EVENT = ('<?xml version="1.0" encoding="UTF-8"?>\r\n'
             '<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">\r\n'
             '<ipAddress>%(ip)s</ipAddress>\r\n<dateTime>%(when)s</dateTime>\r\n'
             '<activePostCount>1</activePostCount>\r\n<eventType>AccessControllerEvent</eventType>\r\n'
             '<eventState>active</eventState>\r\n<eventDescription>Access Controller Event</eventDescription>\r\n'
             '<AccessControllerEvent>\r\n<deviceName>Access Controller</deviceName>\r\n'
             '<majorEventType>5</majorEventType>\r\n<subEventType>75</subEventType>\r\n'
             '<cardReaderNo>1</cardReaderNo>\r\n<employeeNoString>%(emp)s</employeeNoString>\r\n'
             '<serialNo>%(serial)d</serialNo>\r\n<userType>normal</userType>\r\n'
             '<currentVerifyMode>cardOrFace</currentVerifyMode>\r\n<mask>no</mask>\r\n'
             '<thermometryUnit>celsius</thermometryUnit>\r\n<currTemperature>%(temp).1f</currTemperature>\r\n'
             '<isAbnomalTemperature>%(abn)s</isAbnomalTemperature>\r\n<picturesNumber>1</picturesNumber>\r\n'
             '</AccessControllerEvent>\r\n</EventNotificationAlert>\r\n')


def now_text():
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())


def json_event(ip, serial, emp, temp, abnormal=False):
    return json.dumps({
        "ipAddress": ip, "portNo": 80, "protocol": "HTTP", "channelID": 1,
        "dateTime": now_text(), "activePostCount": 1, "eventType": "AccessControllerEvent",
        "eventState": "active", "eventDescription": "Access Controller Event",
        "AccessControllerEvent": {
            "deviceName": "Access Controller", "majorEventType": 5, "subEventType": 75,
            "employeeNoString": emp, "serialNo": serial, "mask": "no",
            "thermometryUnit": "celsius", "currTemperature": temp,
            "isAbnomalTemperature": abnormal, "picturesNumber": 1}}).encode()


def xml_event(ip, serial, emp, temp, abnormal=False):
    return (XML_EVENT % {"ip": ip, "when": now_text(), "emp": emp, "serial": serial,
                         "temp": temp, "abn": "true" if abnormal else "false"}).encode()


def part(body, ctype, with_length=True):
    head = "--boundary\r\nContent-Type: %s\r\n" % ctype
    if with_length:
        head += "Content-Length: %d\r\n" % len(body)
    return head.encode() + b"\r\n" + body + b"\r\n"


def jpeg():
    return b"\xff\xd8\xff\xe0" + os.urandom(3000) + b"\xff\xd9"


class AlertStream:
    """A terminal at `host` (any free port) serving its alertStream to Digest users.
    send_json/send_xml queue an event (followed by a picture) onto the open stream;
    drop() closes it, as a terminal rebooting would."""

    def __init__(self, host, user="admin", password="terminal-pw", heartbeat_s=0.5):
        self.user, self.password, self.heartbeat_s = user, password, heartbeat_s
        self.connections = 0
        self.refused = 0
        self.events = queue.Queue()
        self.generation = 0
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                if self.path != STREAM_PATH:
                    self.send_error(404)
                    return
                if not digest_ok(self, peer.user, peer.password):
                    peer.refused += 1
                    return challenge(self)
                peer.connections += 1
                gen = peer.generation
                self.send_response(200)
                self.send_header("MIME-Version", "1.0")
                self.send_header("Connection", "close")
                self.send_header("Content-Type", "multipart/mixed; boundary=boundary")
                self.end_headers()
                self.close_connection = True
                last = 0.0
                try:
                    while peer.generation == gen:
                        try:
                            data = peer.events.get(timeout=0.05)
                            self.wfile.write(data)
                        except queue.Empty:
                            pass
                        if time.monotonic() - last >= peer.heartbeat_s:
                            hb = (HEARTBEAT % (host, now_text())).encode()
                            self.wfile.write(part(hb, 'application/xml; charset="UTF-8"'))
                            last = time.monotonic()
                        self.wfile.flush()
                except OSError:
                    pass

        self.srv = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.host = host
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def send_json(self, serial, emp, temp, abnormal=False, with_length=True):
        body = part(json_event(self.host, serial, emp, temp, abnormal),
                    'application/json; charset="UTF-8"', with_length)
        self.events.put(body + part(jpeg(), "image/jpeg", with_length))

    def send_xml(self, serial, emp, temp, abnormal=False, with_length=False):
        body = part(xml_event(self.host, serial, emp, temp, abnormal),
                    'application/xml; charset="UTF-8"', with_length)
        self.events.put(body + part(jpeg(), "image/jpeg", True))

    def drop(self):
        self.generation += 1

    def close(self):
        self.drop()
        self.srv.shutdown()
