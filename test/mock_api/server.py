#!/usr/bin/env python3
"""Mock HTTP API for pg_elt's tests, demo and benchmarks.

Serves deterministic, randomuser-like user data under every pagination style
the extension supports, a stateful orders feed for incremental loads,
authenticated variants of the user listing, utility endpoints (echo, status,
redirects, compression, huge streamed bodies, a hanging endpoint) and fault
injection on every endpoint.  README.md next to this file is the contract.

Python 3 standard library only.  Listens on loopback only.

This file is the HTTP side (the App, its dispatch, the request handler and
the listener); data.py holds the data set, endpoints.py the endpoints,
faults.py fault injection and messages.py requests and answers.
"""

import argparse
import collections
import email.utils
import gzip
import http
import ipaddress
import math
import os
import select
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

from data import Members, Orders, un_b64_cursor
from endpoints import (AuthEndpoints, ControlEndpoints, FanoutEndpoints,
                       MemberEndpoints, OrderEndpoints, PagingQuirkEndpoints, UserEndpoints,
                       UtilityEndpoints)
from faults import MALFORMED_GARBAGE, Faults, InjectedFailure, insert_garbage
from s3 import S3_PREFIX, S3Endpoints
from uploads import UploadEndpoints
from messages import VERSION, HTTPError, Req, Resp, json_resp


MAX_REQUEST_BODY = 64 << 20


# ---------------------------------------------------------------------------
# Caching
# ---------------------------------------------------------------------------

class LRU:
    """Byte-bounded LRU of immutable values with a .size."""

    def __init__(self, max_bytes):
        self.max = max_bytes
        self.used = 0
        self.d = collections.OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            v = self.d.get(key)
            if v is not None:
                self.d.move_to_end(key)
            return v

    def put(self, key, value, size):
        if size > self.max // 4:
            return
        with self.lock:
            old = self.d.pop(key, None)
            if old is not None:
                self.used -= old[1]
            self.d[key] = (value, size)
            self.used += size
            while self.used > self.max and self.d:
                _, (_, s) = self.d.popitem(last=False)
                self.used -= s

    def clear(self):
        with self.lock:
            self.d.clear()
            self.used = 0


# ---------------------------------------------------------------------------
# The application
# ---------------------------------------------------------------------------

class App(Faults, UserEndpoints, OrderEndpoints, MemberEndpoints,
          AuthEndpoints, UtilityEndpoints, ControlEndpoints, FanoutEndpoints,
          PagingQuirkEndpoints, UploadEndpoints, S3Endpoints):
    """The mock API: its state, its routes, and the dispatch of a request
    to its endpoint with the faults it asks for."""

    def __init__(self, orders=200, cache_mb=256, verbose=False):
        self.verbose = verbose
        self.cache = LRU(cache_mb << 20)
        self.stats_lock = threading.Lock()
        self.requests = collections.Counter()
        self.responses = collections.Counter()
        self.total = 0
        self.fail_lock = threading.Lock()
        self.hooks_lock = threading.Lock()
        self.hooks = []
        self.fail_counts = {}
        self.buckets = {}
        self.token_lock = threading.Lock()
        self.tokens = {}
        self.tokens_issued = 0
        self.orders = Orders(orders)
        self.members = Members()
        self.huge_lock = threading.Lock()
        self.huge_blocks = {}
        self.server = None
        self.small = self._small(0)
        self.routes = {
            "/": (self.h_index, ("GET", "HEAD"), False),
            "/api": (self.h_api, ("GET", "HEAD"), True),
            "/users/page": (self.h_users_page, ("GET", "HEAD"), True),
            "/users/offset": (self.h_users_offset, ("GET", "HEAD"), True),
            "/users/cursor": (self.h_users_cursor, ("GET", "HEAD"), True),
            "/users/next": (self.h_users_next, ("GET", "HEAD"), True),
            "/users/link": (self.h_users_link, ("GET", "HEAD"), True),
            "/users/endless": (self.h_endless, ("GET", "HEAD"), True),
            "/users/endless_link": (self.h_endless_link, ("GET", "HEAD"), True),
            "/orders": (self.h_orders, ("GET", "HEAD"), True),
            "/orders/page": (self.h_orders_page, ("GET", "HEAD"), True),
            "/members/changes": (self.h_member_changes, ("GET", "HEAD"), True),
            "/auth/bearer/users": (self.h_auth_bearer, ("GET", "HEAD"), True),
            "/auth/api_key/users": (self.h_auth_api_key, ("GET", "HEAD"), True),
            "/auth/basic/users": (self.h_auth_basic, ("GET", "HEAD"), True),
            "/auth/oauth/users": (self.h_auth_oauth, ("GET", "HEAD"), True),
            "/oauth/token": (self.h_oauth_token, ("POST",), False),
            "/echo": (self.h_echo, None, False),
            "/small": (self.h_small, ("GET", "HEAD"), False),
            "/redirect": (self.h_redirect, None, False),
            "/redirect/chain": (self.h_redirect_chain, None, False),
            "/gzip": (self.h_gzip, ("GET", "HEAD"), True),
            "/deflate": (self.h_deflate, ("GET", "HEAD"), True),
            "/huge": (self.h_huge, ("GET", "HEAD"), False),
            "/hang": (self.h_hang, None, False),
            "/_control/stats": (self.c_stats, ("GET", "POST"), False),
            "/_control/reset": (self.c_reset, ("GET", "POST"), False),
            "/_control/health": (self.c_health, ("GET", "HEAD", "POST"), False),
            "/_control/orders/advance": (self.c_orders_advance, ("GET", "POST"), False),
            "/_control/orders/reset": (self.c_orders_reset, ("GET", "POST"), False),
            "/_control/orders": (self.c_orders, ("GET",), False),
            "/_control/members/advance": (self.c_members_advance, ("GET", "POST"), False),
            "/_control/members/reset": (self.c_members_reset, ("GET", "POST"), False),
            "/_control/members": (self.c_members, ("GET",), False),
            "/_control/oauth": (self.c_oauth, ("GET",), False),
            "/_control/oauth/revoke": (self.c_oauth_revoke, ("GET", "POST"), False),
            "/_control/shutdown": (self.c_shutdown, ("POST",), False),
            "/_control/hooks": (self.c_hooks, ("GET", "POST", "DELETE"), False),
            "/_control/s3": (self.c_s3, ("GET",), False),
            "/_control/s3/reset": (self.c_s3_reset, ("POST",), False),
            "/_control/s3/drop": (self.c_s3_drop, ("POST",), False),
        }
        self.drop_lock = threading.Lock()
        self.dropped_requests = 0
        self.s3_drop = None
        self.routes.update({
            "/search": (self.h_search, ("POST",), True),
            "/graphql": (self.h_graphql, ("POST",), True),
            # paging habits of real servers
            "/quirks/clamp": (self.h_quirks_clamp, ("GET", "HEAD"), True),
            "/quirks/v017": (self.h_quirks_v017, ("GET", "HEAD"), True),
            "/quirks/split_links": (self.h_quirks_split_links,
                                    ("GET", "HEAD"), True),
            "/quirks/token": (self.h_quirks_token, ("GET", "HEAD"), True),
            "/quirks/token_search": (self.h_quirks_token_search, ("POST",),
                                     True),
            "/quirks/bytes": (self.h_quirks_bytes, ("GET", "HEAD"), True),
        })

    # -- bookkeeping ---------------------------------------------------------

    def count_request(self, path):
        with self.stats_lock:
            self.requests[path] += 1
            self.total += 1

    def count_response(self, status):
        with self.stats_lock:
            self.responses[status] += 1

    def cached(self, req, build):
        """Answer from the body cache, building (and storing) on a miss."""
        key = (req.npath, req.host, req.qs)
        hit = self.cache.get(key)
        if hit is not None:
            resp = hit[0]
        else:
            resp = build()
            resp.cache_key = key
            self.cache.put(key, resp, len(resp.body) + 200)
        out = Resp(resp.status, resp.body, resp.ctype, list(resp.headers))
        out.cache_key = key
        out.encode = resp.encode
        return out

    # -- dispatch ------------------------------------------------------------

    def route(self, npath):
        r = self.routes.get(npath)
        if r is not None:
            return r
        if npath.startswith("/small/"):
            return (self.h_small, ("GET", "HEAD"), False)
        if npath.startswith("/status/"):
            return (self.h_status, None, False)
        parts = npath.split("/")
        if len(parts) == 4 and parts[1] == "users" and parts[3] == "orders":
            return (self.h_user_orders, ("GET", "HEAD"), True)
        return self.upload_route(npath) or self.s3_route(npath)

    def handle(self, req):
        """Run one request; returns a Resp (possibly streaming or hanging)."""
        control = req.control
        if not control:
            self.count_request(req.path)
        try:
            req.faults = {} if control else self.parse_faults(req)
            f = req.faults
            if "rate_limit" in f:
                wait = self.rate_check(req)
                if wait > 0:
                    return json_resp({"error": "rate limit exceeded"}, 429,
                                     [("Retry-After",
                                       str(max(1, math.ceil(wait))))])
            if "delay" in f:
                time.sleep(f["delay"])
            r = self.route(req.npath)
            if r is None:
                raise HTTPError(404, "not found", path=req.path)
            fn, methods, paged = r
            if methods is not None and req.method not in methods:
                raise HTTPError(405, "method not allowed",
                                headers=[("Allow", ", ".join(methods))])
            if not paged:
                self.gate(req, 1)
            resp = fn(req)
            if not req.gated:
                self.gate(req, 1)
            if "compress" in f:
                resp.encode = f["compress"]
            return resp
        except InjectedFailure as e:
            return e.resp
        except HTTPError as e:
            return json_resp(e.doc, e.status, e.headers)


# ---------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------

_date_cache = [0, b""]


def http_date():
    t = int(time.time())
    if t != _date_cache[0]:
        _date_cache[1] = email.utils.formatdate(t, usegmt=True).encode("ascii")
        _date_cache[0] = t
    return _date_cache[1]


def accepts(header, enc):
    """Whether an Accept-Encoding value allows enc."""
    star = False
    for part in header.split(","):
        bits = part.strip().split(";")
        name = bits[0].strip().lower()
        q = 1.0
        for b in bits[1:]:
            b = b.strip()
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if name == enc or (enc == "gzip" and name == "x-gzip"):
            return q > 0
        if name == "*":
            star = q > 0
    return star


def _header_value(v):
    try:
        return v.encode("latin-1")
    except UnicodeEncodeError:
        return quote(v, safe="!#$&'()*+,/:;=?@[]~%<>\" ").encode("latin-1")


def _sendv(sock, bufs):
    """Send all of bufs, in one system call when the socket takes it all."""
    bufs = [b for b in bufs if b]
    if not bufs:
        return
    n = sock.sendmsg(bufs)
    for b in bufs:
        if n >= len(b):
            n -= len(b)
            continue
        sock.sendall(memoryview(b)[n:] if n else b)
        n = 0


def _reason(code):
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return "Status %d" % code


def _compress(body, enc):
    if enc == "gzip":
        return gzip.compress(body, 6, mtime=0)
    return zlib.compress(body, 6)


class Headers:
    """Request headers: case-insensitive get(), items() as received."""

    __slots__ = ("pairs", "map")

    def __init__(self):
        self.pairs = []
        self.map = {}

    def add(self, name, value):
        self.pairs.append((name, value))
        k = name.lower()
        m = self.map
        m[k] = m[k] + ", " + value if k in m else value

    def get(self, name, default=None):
        return self.map.get(name.lower(), default)

    def __getitem__(self, name):
        return self.map.get(name.lower())

    def __contains__(self, name):
        return name.lower() in self.map

    def items(self):
        return list(self.pairs)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pg_elt-mock/" + VERSION
    sys_version = ""
    timeout = 300          # idle keep-alive connections are closed after this

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if self.server.app.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def parse_request(self):
        """A lean version of BaseHTTPRequestHandler.parse_request.

        The standard one parses headers with the email package, which costs
        more than everything else a small request does.
        """
        self.command = None
        self.request_version = self.default_request_version
        self.close_connection = True
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if len(words) != 3 or not words[2].startswith("HTTP/"):
            self.send_error(400, "Bad request line")
            return False
        try:
            major, minor = words[2][5:].split(".")
            major, minor = int(major), int(minor)
        except ValueError:
            self.send_error(400, "Bad request version")
            return False
        if major != 1:
            self.send_error(505, "HTTP version not supported")
            return False
        self.command, self.path, self.request_version = words
        if minor >= 1:
            self.close_connection = False
        headers = Headers()
        last = None
        for _ in range(201):
            line = self.rfile.readline(65537)
            if len(line) > 65536:
                self.send_error(431, "Header line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            text = line.decode("iso-8859-1").rstrip("\r\n")
            if text[:1] in (" ", "\t") and last is not None:
                name, value = last
                headers.pairs.pop()
                del headers.map[name.lower()]
                headers.add(name, value + " " + text.strip())
                last = headers.pairs[-1]
                continue
            name, sep, value = text.partition(":")
            if not sep or not name or name != name.strip():
                self.send_error(400, "Bad header line")
                return False
            headers.add(name, value.strip())
            last = headers.pairs[-1]
        else:
            self.send_error(431, "Too many headers")
            return False
        self.headers = headers
        conn = headers.get("Connection", "").lower()
        if "close" in conn:
            self.close_connection = True
        elif "keep-alive" in conn:
            self.close_connection = False
        if minor >= 1 and headers.get("Expect", "").lower() == "100-continue":
            if not self.handle_expect_100():
                return False
        return True

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, socket.timeout, TimeoutError):
            self.close_connection = True

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = []
            size = 0
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunked body")
                n = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if n == 0:
                    while True:          # trailers
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                size += n
                if size > MAX_REQUEST_BODY:
                    raise HTTPError(413, "request body too large")
                out.append(self.rfile.read(n))
                self.rfile.readline(3)
            return b"".join(out)
        cl = self.headers.get("Content-Length")
        if cl:
            n = int(cl)
            if n > MAX_REQUEST_BODY:
                raise HTTPError(413, "request body too large")
            return self.rfile.read(n) if n > 0 else b""
        return b""

    def _request_drop(self, app):
        """Bytes of the request body to read before dropping the
        connection (drop_request=, or an armed /_control/s3/drop), or None."""
        parts = urlsplit(self.path)
        q = dict(parse_qsl(parts.query, keep_blank_values=True))
        v = self.headers.get("X-Mock-Drop-Request") or \
            self.headers.get("X-Mock-Drop_Request") or q.get("drop_request")
        if v is not None and not parts.path.startswith("/_control/"):
            try:
                n = int(v.strip())
            except ValueError:
                return None      # refused as a bad fault parameter later
            return n if n >= 0 else None
        if parts.path.startswith(S3_PREFIX) and self.command == "PUT":
            with app.drop_lock:
                armed = app.s3_drop
                if armed is not None and q.get("partNumber") == str(armed[0]):
                    app.s3_drop = None
                    return armed[1]
        return None

    def _drop_request(self, app, n):
        """Read n bytes of the request body as sent, then close the
        connection without an answer."""
        left = n
        while left > 0:
            chunk = self.rfile.read1(min(left, 65536)) \
                if hasattr(self.rfile, "read1") else self.rfile.read(min(left, 65536))
            if not chunk:
                break
            left -= len(chunk)
        with app.drop_lock:
            app.dropped_requests += 1
        if app.verbose:
            self.log_message('"%s" dropped after %d bytes of its body',
                             self.requestline, n - left)
        self._abort()

    def _dispatch(self):
        app = self.server.app
        drop = self._request_drop(app)
        if drop is not None:
            self._drop_request(app, drop)
            return
        try:
            body = self._read_body()
        except HTTPError as e:
            self.close_connection = True
            self._send(app, None, json_resp(e.doc, e.status))
            return
        except ValueError:
            self.close_connection = True
            self._send(app, None, json_resp({"error": "bad request body"}, 400))
            return
        req = Req()
        req.app = app
        self.conn_requests = getattr(self, "conn_requests", 0) + 1
        req.conn_port = self.client_address[1]
        req.conn_requests = self.conn_requests
        req.method = self.command
        req.target = self.path
        parts = urlsplit(self.path)
        req.path = parts.path or "/"
        req.npath = req.path.rstrip("/") or "/"
        req.control = req.npath.startswith("/_control/")
        req.qs = parts.query
        req.query = parse_qsl(parts.query, keep_blank_values=True)
        params = dict(req.query)
        cur = params.get("cursor")
        if cur:
            c = un_b64_cursor(cur)
            if c is not None and isinstance(c.get("q"), list):
                for kv in c["q"]:
                    if isinstance(kv, list) and len(kv) == 2 and kv[0] not in params:
                        params[str(kv[0])] = str(kv[1])
        req.params = params
        hdrs = self.headers.map
        req.headers = hdrs
        req.body = body
        req.host = hdrs.get("host") or "%s:%d" % self.server.server_address[:2]
        req.client = self.client_address[0]
        req.faults = {}
        req.gated = False
        req.do_drop = None
        req.do_malformed = None
        try:
            resp = app.handle(req)
        except Exception:
            traceback.print_exc()
            resp = json_resp({"error": "internal error"}, 500)
        self._send(app, req, resp)
        if resp.after is not None:
            resp.after()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = \
        do_OPTIONS = _dispatch

    def _send(self, app, req, resp):
        status = resp.status
        if resp.hang is not None:
            if app.verbose:
                self.log_message('"%s" hangs', self.requestline)
            self._hang(resp.hang)
            return
        if req is None or not req.control:
            app.count_response(status)
        if app.verbose:
            self.log_message('"%s" %d', self.requestline, status)
        head = self.command == "HEAD"
        faults = req.faults if req is not None else {}
        body = resp.body
        headers = resp.headers
        ctype = faults.get("content_type", resp.ctype)
        malformed = req.do_malformed if req is not None else None
        drop = req.do_drop if req is not None else None
        if resp.stream is None and malformed is not None and body:
            body = insert_garbage(body, malformed)
        enc = resp.encode
        if enc and resp.stream is None and body and status not in (204, 304):
            if accepts(self.headers.get("Accept-Encoding", ""), enc):
                key = (resp.cache_key, enc) if (
                    resp.cache_key is not None and malformed is None) else None
                hit = app.cache.get(key) if key else None
                if hit is not None:
                    body = hit[0]
                else:
                    body = _compress(body, enc)
                    if key:
                        app.cache.put(key, body, len(body) + 100)
                headers = headers + [("Content-Encoding", enc)]
            headers = headers + [("Vary", "Accept-Encoding")]
        out = [b"HTTP/1.1 %d %s\r\nServer: %s\r\nDate: %s\r\n" % (
            status, _reason(status).encode("latin-1"),
            self.server_version.encode("latin-1"), http_date())]
        no_body = status in (204, 304) or 100 <= status < 200
        if not no_body:
            out.append(b"Content-Type: %s\r\n" % _header_value(ctype))
            if resp.stream is not None:
                out.append(b"Transfer-Encoding: chunked\r\n")
            else:
                out.append(b"Content-Length: %d\r\n" % len(body))
        for k, v in headers:
            out.append(b"%s: %s\r\n" % (k.encode("latin-1"), _header_value(v)))
        if self.close_connection:
            out.append(b"Connection: close\r\n")
        elif self.request_version == "HTTP/1.0":
            out.append(b"Connection: keep-alive\r\n")
        out.append(b"\r\n")
        hdr = b"".join(out)
        sock = self.connection
        if head or no_body:
            _sendv(sock, [hdr])
            return
        delay_body = faults.get("delay_body")
        if resp.stream is not None:
            self._send_stream(sock, hdr, resp.stream, delay_body, drop, malformed)
            return
        if delay_body:
            _sendv(sock, [hdr])
            time.sleep(delay_body)
            hdr = b""
        if drop is not None:
            _sendv(sock, [hdr, body[:drop]])
            self._abort()
            return
        _sendv(sock, [hdr, body])

    def _abort(self):
        """End the connection now, mid-body."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send_stream(self, sock, hdr, stream, delay_body, drop, malformed):
        _sendv(sock, [hdr])
        if delay_body:
            time.sleep(delay_body)
        sent = 0
        for chunk in stream:
            if not chunk:
                continue
            if malformed is not None and malformed < sent + len(chunk):
                chunk = insert_garbage(chunk, malformed - sent)
                malformed = None
            if drop is not None and sent + len(chunk) >= drop:
                part = chunk[:drop - sent]
                if part:
                    _sendv(sock, [b"%x\r\n" % len(part), part, b"\r\n"])
                self._abort()
                return
            _sendv(sock, [b"%x\r\n" % len(chunk), chunk, b"\r\n"])
            sent += len(chunk)
        if malformed is not None:         # offset past the end: append
            _sendv(sock, [b"%x\r\n" % len(MALFORMED_GARBAGE),
                          MALFORMED_GARBAGE, b"\r\n"])
        _sendv(sock, [b"0\r\n\r\n"])
        if drop is not None:
            self._abort()

    def _hang(self, limit):
        """Never answer: wait until the client goes away or limit passes."""
        self.close_connection = True
        sock = self.connection
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                r, _, _ = select.select([sock], [], [], 0.1)
                if r and not sock.recv(1, socket.MSG_PEEK):
                    return
                if r:
                    time.sleep(0.1)
            except (OSError, ValueError):
                return


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def server_bind(self):
        # Skip HTTPServer's reverse lookup of the address.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout, TimeoutError)):
            return
        super().handle_error(request, client_address)


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="pg_elt mock HTTP API (see README.md next to this file)")
    ap.add_argument("--host", default="127.0.0.1",
                    help="loopback address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0,
                    help="port to listen on; 0 picks a free one (default 0)")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--pid-file", help="write the process id here")
    ap.add_argument("--orders", type=int, default=200,
                    help="initial number of orders (default 200)")
    ap.add_argument("--cache-mb", type=int, default=256,
                    help="size of the response body cache in MB (default 256)")
    ap.add_argument("--verbose", action="store_true",
                    help="log every request to stderr")
    args = ap.parse_args(argv)

    if not _is_loopback(args.host):
        ap.error("--host must be a loopback address")
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    Server.address_family = family
    app = App(orders=args.orders, cache_mb=args.cache_mb, verbose=args.verbose)
    server = Server((args.host, args.port), Handler)
    server.app = app
    app.server = server
    port = server.server_address[1]

    def on_term(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    if args.pid_file:
        _write_atomic(args.pid_file, "%d\n" % os.getpid())
    if args.port_file:
        _write_atomic(args.port_file, "%d\n" % port)
    sys.stdout.write("pg_elt mock API listening on http://%s:%d\n" % (
        "[%s]" % args.host if family == socket.AF_INET6 else args.host, port))
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.5)
    except SystemExit:
        pass
    finally:
        server.server_close()
        for p in (args.port_file, args.pid_file):
            if p:
                try:
                    os.unlink(p)
                except OSError:
                    pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
