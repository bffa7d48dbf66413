"""Requests and answers as the mock API's endpoints see them: Req (with
its parameter parsing), Resp, HTTPError and json_resp.
"""

from urllib.parse import urlencode

from data import DEFAULT_SEED, DEFAULT_TOTAL, JSON_TYPE, jbytes


VERSION = "1.0"


class HTTPError(Exception):
    """An error answer raised by a handler: status, JSON body, headers."""

    def __init__(self, status, error, headers=None, **extra):
        super().__init__(error)
        self.status = status
        self.doc = {"error": error}
        self.doc.update(extra)
        self.headers = headers or []


class Resp:
    __slots__ = ("status", "body", "ctype", "headers", "stream", "hang",
                 "cache_key", "encode", "after")

    def __init__(self, status=200, body=b"", ctype=JSON_TYPE, headers=None):
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = headers or []
        self.stream = None          # iterator of bytes: chunked body
        self.hang = None            # seconds to hang instead of answering
        self.cache_key = None
        self.encode = None          # "gzip"/"deflate" wanted by the route
        self.after = None           # callable run after the answer is sent


def json_resp(obj, status=200, headers=None):
    return Resp(status, jbytes(obj), JSON_TYPE, headers)


_TRUE = ("1", "true", "yes", "on")


class Req:
    __slots__ = ("app", "method", "target", "path", "npath", "control", "qs",
                 "query", "params",
                 "headers", "body", "host", "client", "faults", "gated",
                 "do_drop", "do_malformed", "conn_port", "conn_requests")

    def int(self, name, default, lo=None, hi=None):
        v = self.params.get(name)
        if v is None or v == "":
            return default
        try:
            n = int(v)
        except ValueError:
            raise HTTPError(400, "invalid %s" % name, value=v)
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            raise HTTPError(400, "%s out of range" % name, value=n,
                            min=lo, max=hi)
        return n

    def fmt(self, allowed=("json", "ndjson", "csv")):
        f = self.params.get("format") or "json"
        if f not in allowed:
            raise HTTPError(400, "unsupported format", value=f,
                            allowed=list(allowed))
        return f

    def flag(self, name):
        return (self.params.get(name) or "").lower() in _TRUE

    def dataset(self):
        seed = self.params.get("seed") or DEFAULT_SEED
        total = self.int("total", DEFAULT_TOTAL, 0, 10 ** 9)
        return seed, seed.encode("utf-8"), total

    def url(self, updates=None, path=None):
        """Absolute URL of this request with some parameters replaced."""
        updates = dict(updates or {})
        pairs = []
        for k, v in self.query:
            if k in updates:
                if updates[k] is not None:
                    pairs.append((k, str(updates[k])))
                updates[k] = None
            else:
                pairs.append((k, v))
        for k, v in updates.items():
            if v is not None:
                pairs.append((k, str(v)))
        q = urlencode(pairs)
        return "http://%s%s%s" % (self.host, path or self.path,
                                  "?" + q if q else "")

    def gate(self, page):
        self.app.gate(self, page)
