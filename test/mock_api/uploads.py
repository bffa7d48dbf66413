"""Upload endpoints of the mock API: what an export sends is stored and
can be read back.

PUT or POST /upload/<name> stores the body (after the faults of the request
were applied, so an injected failure stores nothing) and answers
{"name", "bytes", "content_type", "content_encoding"}; GET /upload/<name>
answers the stored body as it was received; DELETE /upload/<name> forgets
it.  An unknown name is a 404.
"""

import threading

from messages import HTTPError, Resp, json_resp

UPLOAD_PREFIX = "/upload/"


class UploadEndpoints:
    """Stored uploads, by name."""

    _uploads_lock = threading.Lock()

    def upload_route(self, npath):
        if npath.startswith(UPLOAD_PREFIX) and len(npath) > len(UPLOAD_PREFIX):
            return (self.h_upload, ("GET", "HEAD", "PUT", "POST", "DELETE"), False)
        return None

    def h_upload(self, req):
        name = req.npath[len(UPLOAD_PREFIX):]
        store = self.__dict__.setdefault("uploads", {})
        if req.method in ("PUT", "POST") and req.do_drop is not None:
            # the answer will be cut off: the client sees a failure, so
            # nothing is stored either
            return json_resp({"name": name, "bytes": len(req.body)}, 201)
        if req.method in ("PUT", "POST"):
            ctype = req.headers.get("content-type", "")
            with self._uploads_lock:
                store[name] = (bytes(req.body), ctype)
            return json_resp({"name": name, "bytes": len(req.body),
                              "content_type": ctype,
                              "content_encoding":
                              req.headers.get("content-encoding", "")},
                             201 if req.method == "PUT" else 200)
        with self._uploads_lock:
            hit = store.get(name)
            if hit is not None and req.method == "DELETE":
                del store[name]
        if hit is None:
            raise HTTPError(404, "no such upload", path=req.path)
        if req.method == "DELETE":
            return json_resp({"name": name, "deleted": True})
        return Resp(200, hit[0], "application/octet-stream")
