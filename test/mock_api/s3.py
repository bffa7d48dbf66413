"""An S3-style object store in the mock API, under /s3/<bucket>/<key>, that
checks AWS Signature Version 4 on every write.

The check is written from AWS's description of SigV4 ("Create a canonical
request", "Create a string to sign", "Calculate the signature", and S3's
"Authenticating requests: Using the Authorization header") with the
standard library only, independently of any client: the canonical request
is rebuilt from what arrived (method, path, query, the signed headers, the
payload hash, which must also be the SHA-256 of the body received), and
the signature recomputed with the one secret the store knows.

Operations (path style; any bucket name is accepted and created on use):
  PUT    /s3/B/K                      store an object; ETag is its MD5
  POST   /s3/B/K?uploads              start a multipart upload
  PUT    /s3/B/K?partNumber=N&uploadId=U   one part; ETag is its MD5
  POST   /s3/B/K?uploadId=U           complete it (the XML list of parts)
  DELETE /s3/B/K?uploadId=U           abort it
  GET    /s3/B/K                      the object (unsigned: for tests)
Refused writes are 403 with an S3 XML error: InvalidAccessKeyId,
SignatureDoesNotMatch, XAmzContentSHA256Mismatch, RequestTimeTooSkewed,
AccessDenied (no or malformed Authorization).

GET /_control/s3 answers the store's state: objects (bytes, sha256, etag),
open and aborted multipart uploads, the count of refused requests by code
and of requests dropped mid-body; POST /_control/s3/reset empties it;
POST /_control/s3/drop?part=N&bytes=B drops the next upload of part N
after B bytes of its body.
"""

import datetime
import hashlib
import hmac
import re
import threading
import uuid
from urllib.parse import parse_qsl, quote, unquote

from messages import HTTPError, Resp, json_resp

S3_PREFIX = "/s3/"
ACCESS_KEY = "MOCKACCESSKEY0000001"
SECRET_KEY = "mock/secret+key/0123456789abcdefghijklmn"
MAX_SKEW = datetime.timedelta(minutes=15)
XML = "application/xml"

_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*"
    r"SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})$")


def _uri_encode(s, keep_slash):
    """AWS's UriEncode: every byte but A-Z a-z 0-9 - _ . ~ is %XX (upper
    case); "/" too, except in an object's path."""
    return quote(s, safe="-_.~" + ("/" if keep_slash else ""))


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret, date, region, service):
    k = _hmac(("AWS4" + secret).encode("utf-8"), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def canonical_request(method, raw_path, raw_query, headers, signed, payload_hash):
    """The canonical request of SigV4, from the request as received."""
    # the path decoded once, then encoded as S3 wants it (not twice)
    uri = _uri_encode(unquote(raw_path), True) or "/"
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    query = "&".join(
        "%s=%s" % (n, v) for n, v in sorted(
            (_uri_encode(n, False), _uri_encode(v, False)) for n, v in pairs))
    canon_headers = "".join(
        "%s:%s\n" % (h, " ".join(headers.get(h, "").split())) for h in signed)
    return "\n".join([method, uri, query, canon_headers, ";".join(signed),
                      payload_hash])


class SigV4Error(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def verify_sigv4(method, raw_path, raw_query, headers, body, now=None):
    """Check the request's SigV4 signature; raise SigV4Error if it is wrong.
    headers: lower-case name -> value."""
    auth = headers.get("authorization")
    if not auth:
        raise SigV4Error("AccessDenied", "no Authorization header")
    m = _AUTH_RE.match(auth.strip())
    if m is None:
        raise SigV4Error("AccessDenied", "malformed Authorization header")
    credential, signed_s, signature = m.groups()
    cparts = credential.split("/")
    if len(cparts) != 5 or cparts[4] != "aws4_request":
        raise SigV4Error("AccessDenied", "malformed credential scope")
    key_id, date, region, service = cparts[:4]
    if key_id != ACCESS_KEY:
        raise SigV4Error("InvalidAccessKeyId",
                         "the access key id does not exist")
    if service != "s3":
        raise SigV4Error("SignatureDoesNotMatch", "the service is not s3")
    signed = signed_s.split(";")
    if signed != sorted(signed) or "host" not in signed \
            or "x-amz-date" not in signed \
            or "x-amz-content-sha256" not in signed:
        raise SigV4Error("AccessDenied",
                         "host, x-amz-date and x-amz-content-sha256 must be signed")
    amz_date = headers.get("x-amz-date", "")
    try:
        t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        raise SigV4Error("AccessDenied", "bad x-amz-date")
    if amz_date[:8] != date:
        raise SigV4Error("SignatureDoesNotMatch",
                         "the scope's date is not the request's")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if abs(now - t) > MAX_SKEW:
        raise SigV4Error("RequestTimeTooSkewed", "the request time is too far off")
    payload_hash = headers.get("x-amz-content-sha256", "")
    if payload_hash != "UNSIGNED-PAYLOAD" and \
            payload_hash != hashlib.sha256(body).hexdigest():
        raise SigV4Error("XAmzContentSHA256Mismatch",
                         "the body is not the one whose hash was signed")
    creq = canonical_request(method, raw_path, raw_query, headers, signed,
                             payload_hash)
    scope = "/".join([date, region, service, "aws4_request"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(creq.encode("utf-8")).hexdigest()])
    want = hmac.new(signing_key(SECRET_KEY, date, region, service),
                    to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, signature):
        raise SigV4Error("SignatureDoesNotMatch",
                         "the signature computed does not match")


def _xml_error(status, code, message, resource):
    body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
            "<Message>%s</Message><Resource>%s</Resource></Error>"
            % (code, message, resource)).encode("utf-8")
    return Resp(status, body, XML)


class S3Endpoints:
    """The object store: objects and multipart uploads, by bucket and key."""

    _s3_lock = threading.Lock()

    def s3_state(self):
        st = self.__dict__.get("s3")
        if st is None:
            st = self.__dict__.setdefault("s3", {
                "objects": {}, "uploads": {}, "aborted": [], "refused": {},
                "signed": 0})
        return st

    def s3_route(self, npath):
        if npath.startswith(S3_PREFIX) and npath.count("/") >= 3:
            return (self.h_s3, ("GET", "HEAD", "PUT", "POST", "DELETE"), False)
        return None

    def c_s3(self, req):
        st = self.s3_state()
        with self._s3_lock:
            return json_resp({
                "objects": {k: {"bytes": len(v[0]),
                                "sha256": hashlib.sha256(v[0]).hexdigest(),
                                "etag": v[1]}
                            for k, v in st["objects"].items()},
                "open_uploads": len(st["uploads"]),
                "aborted_uploads": len(st["aborted"]),
                "signed_requests": st["signed"],
                "dropped_requests": self.dropped_requests,
                "refused": dict(st["refused"])})

    def c_s3_drop(self, req):
        """Arm a one-shot fault: the next PUT of part `part` is read for
        `bytes` bytes of its body, then its connection is dropped."""
        part = req.int("part", 1, 1, 10000)
        n = req.int("bytes", 0, 0)
        with self.drop_lock:
            self.s3_drop = (part, n)
        return json_resp({"part": part, "bytes": n})

    def c_s3_reset(self, req):
        with self._s3_lock:
            self.__dict__.pop("s3", None)
        self.s3_state()
        return json_resp({"reset": True})

    def h_s3(self, req):
        st = self.s3_state()
        rest = req.path[len(S3_PREFIX):]
        bucket, _, key = rest.partition("/")
        bucket = unquote(bucket)
        key = unquote(key)
        if not bucket or not key:
            raise HTTPError(400, "bucket and key needed", path=req.path)
        name = bucket + "/" + key
        params = dict(parse_qsl(req.qs, keep_blank_values=True))
        if req.method in ("GET", "HEAD"):
            with self._s3_lock:
                hit = st["objects"].get(name)
            if hit is None:
                return _xml_error(404, "NoSuchKey", "no such key", req.path)
            return Resp(200, hit[0], "application/octet-stream",
                        [("ETag", hit[1])])
        try:
            verify_sigv4(req.method, req.path, req.qs, req.headers, req.body)
        except SigV4Error as e:
            with self._s3_lock:
                st["refused"][e.code] = st["refused"].get(e.code, 0) + 1
            return _xml_error(403, e.code, e.message, req.path)
        with self._s3_lock:
            st["signed"] += 1
            return self._s3_op(st, req, name, bucket, key, params)

    def _s3_op(self, st, req, name, bucket, key, params):
        if req.method == "PUT" and "uploadId" not in params:
            etag = '"%s"' % hashlib.md5(req.body).hexdigest()
            st["objects"][name] = (bytes(req.body), etag)
            return Resp(200, b"", XML, [("ETag", etag)])
        if req.method == "POST" and "uploads" in params:
            uid = uuid.uuid4().hex
            st["uploads"][uid] = {"name": name, "parts": {}}
            body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<InitiateMultipartUploadResult><Bucket>%s</Bucket>"
                    "<Key>%s</Key><UploadId>%s</UploadId>"
                    "</InitiateMultipartUploadResult>" % (bucket, key, uid))
            return Resp(200, body.encode("utf-8"), XML)
        uid = params.get("uploadId")
        up = st["uploads"].get(uid) if uid else None
        if uid is None:
            return _xml_error(400, "InvalidRequest", "unknown operation", req.path)
        if up is None or up["name"] != name:
            return _xml_error(404, "NoSuchUpload", "no such upload", req.path)
        if req.method == "PUT":
            try:
                n = int(params.get("partNumber", ""))
            except ValueError:
                n = 0
            if not 1 <= n <= 10000:
                return _xml_error(400, "InvalidArgument", "bad partNumber", req.path)
            etag = '"%s"' % hashlib.md5(req.body).hexdigest()
            up["parts"][n] = (bytes(req.body), etag)
            return Resp(200, b"", XML, [("ETag", etag)])
        if req.method == "DELETE":
            del st["uploads"][uid]
            st["aborted"].append(uid)
            return Resp(204, b"", XML)
        # POST ?uploadId: complete with the parts listed, in order
        listed = re.findall(
            r"<Part>\s*<PartNumber>(\d+)</PartNumber>\s*<ETag>([^<]*)</ETag>\s*</Part>",
            req.body.decode("utf-8", "replace"))
        if not listed:
            return _xml_error(400, "MalformedXML", "no parts", req.path)
        nums = [int(n) for n, _ in listed]
        if nums != sorted(nums) or len(set(nums)) != len(nums):
            return _xml_error(400, "InvalidPartOrder", "parts out of order", req.path)
        data = []
        md5s = b""
        for n, etag in listed:
            part = up["parts"].get(int(n))
            etag = etag.replace("&quot;", '"')
            if part is None or part[1] != etag:
                return _xml_error(400, "InvalidPart", "no such part", req.path)
            data.append(part[0])
            md5s += hashlib.md5(part[0]).digest()
        etag = '"%s-%d"' % (hashlib.md5(md5s).hexdigest(), len(listed))
        st["objects"][name] = (b"".join(data), etag)
        del st["uploads"][uid]
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<CompleteMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key>"
                "<ETag>%s</ETag></CompleteMultipartUploadResult>"
                % (bucket, key, etag.replace('"', "&quot;")))
        return Resp(200, body.encode("utf-8"), XML)
