"""Fault injection of the mock API: the fault parameters (or X-Mock-*
headers) every endpoint takes, injected failures, drops, malformed
bodies and rate limits.
"""

import email.utils
import math
import time
from urllib.parse import urlencode

from messages import _TRUE, HTTPError, json_resp


MAX_DELAY_MS = 300000

# Parameters that control faults rather than data.  They may also be given
# as X-Mock-<Name> headers (dashes or underscores), which win over the query.
FAULT_PARAMS = frozenset((
    "delay", "delay_body", "fail", "retry_after", "retry_after_date",
    "fail_times", "fail_key", "fail_page", "drop", "drop_page", "malformed",
    "malformed_page", "rate_limit", "rate_key", "content_type", "compress",
    "drop_request",
))

# Bytes inserted by malformed=: invalid JSON at any position, inside or
# outside a string (the control character is never valid JSON text).
MALFORMED_GARBAGE = b'{"oops": \x01'


class InjectedFailure(Exception):
    """Raised by the fault gate when the request must fail."""

    def __init__(self, resp):
        super().__init__("injected failure")
        self.resp = resp


def insert_garbage(body, off):
    off = max(0, min(off, len(body)))
    while off < len(body) and (body[off] & 0xC0) == 0x80:
        off += 1                      # keep UTF-8 characters whole
    return body[:off] + MALFORMED_GARBAGE + body[off:]


class Faults:
    """Fault injection, mixed into the App: parses the fault parameters of a
    request, decides whether it fails, drops or is malformed, and keeps the
    failure counts and rate-limit buckets (self.fail_lock, self.fail_counts,
    self.buckets, set up by the App)."""

    def parse_faults(self, req):
        raw = {}
        for k in FAULT_PARAMS:
            if k in req.params:
                raw[k] = req.params[k]
        for name, value in req.headers.items():
            if name.startswith("x-mock-"):
                k = name[7:].replace("-", "_")
                if k in FAULT_PARAMS:
                    raw[k] = value
        f = {}
        try:
            for k, v in raw.items():
                v = v.strip()
                if k in ("delay", "delay_body"):
                    f[k] = min(max(float(v), 0.0), MAX_DELAY_MS) / 1000.0
                elif k == "fail":
                    f[k] = int(v)
                    if not 200 <= f[k] <= 599:
                        raise ValueError(k)
                elif k in ("retry_after", "fail_times", "drop", "malformed",
                           "drop_request"):
                    f[k] = int(v)
                    if f[k] < 0:
                        raise ValueError(k)
                elif k in ("fail_page", "drop_page", "malformed_page"):
                    f[k] = int(v)
                elif k == "rate_limit":
                    f[k] = float(v)
                    if not f[k] > 0:
                        raise ValueError(k)
                elif k == "retry_after_date":
                    f[k] = v.lower() in _TRUE
                elif k == "compress":
                    if v not in ("gzip", "deflate"):
                        raise ValueError(k)
                    f[k] = v
                else:
                    f[k] = v
        except ValueError:
            raise HTTPError(400, "invalid fault parameter", parameter=k,
                            value=raw.get(k))
        return f

    def fail_response(self, req, code):
        f = req.faults
        headers = []
        if code in (429, 503) or "retry_after" in f:
            ra = f.get("retry_after", 1)
            if f.get("retry_after_date"):
                headers.append(("Retry-After", email.utils.formatdate(
                    math.ceil(time.time()) + ra, usegmt=True)))
            else:
                headers.append(("Retry-After", str(ra)))
        return json_resp({"error": "injected failure", "status": code},
                         code, headers)

    def gate(self, req, page):
        """Decide the injected faults for this request, serving page `page`.

        Raises InjectedFailure when the request must fail with `fail`.
        """
        if req.gated:
            return
        req.gated = True
        f = req.faults
        if not f:
            return
        want_fail = "fail" in f or (
            ("fail_times" in f or "fail_page" in f)
            and "drop" not in f and "malformed" not in f)

        def on(sel):
            return sel is None or sel == page

        fail = want_fail and on(f.get("fail_page"))
        drop = "drop" in f and on(f.get("drop_page", f.get("fail_page")))
        mal = "malformed" in f and on(
            f.get("malformed_page", f.get("fail_page")))
        if not (fail or drop or mal):
            return
        if "fail_times" in f:
            key = f.get("fail_key")
            if key is None:
                q = urlencode(sorted((k, v) for k, v in req.query
                                     if k not in FAULT_PARAMS))
                key = req.path + ("?" + q if q else "")
            with self.fail_lock:
                n = self.fail_counts.get(key, 0) + 1
                self.fail_counts[key] = n
            if n > f["fail_times"]:
                return
        req.do_drop = f["drop"] if drop else None
        req.do_malformed = f["malformed"] if mal else None
        if fail:
            raise InjectedFailure(self.fail_response(req, f.get("fail", 500)))

    def rate_check(self, req):
        """Token bucket per (client address, rate, rate_key); seconds to wait."""
        rps = req.faults["rate_limit"]
        key = (req.client, rps, req.faults.get("rate_key"))
        cap = max(1.0, rps)
        now = time.monotonic()
        with self.fail_lock:
            tokens, last = self.buckets.get(key, (cap, now))
            tokens = min(cap, tokens + (now - last) * rps)
            if tokens >= 1.0:
                self.buckets[key] = (tokens - 1.0, now)
                return 0.0
            self.buckets[key] = (tokens, now)
            return (1.0 - tokens) / rps
