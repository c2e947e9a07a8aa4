"""Status page for the kbs-access sample.

The init container asked the Confidential Data Hub for a KBS resource and, on
success, left it in RESOURCE_FILE and created FETCHED_FILE; on failure it left
curl's error message in ERROR_FILE. This server reports whether the resource
arrived and its SHA-256 digest. It never sends the resource itself.
"""
import hashlib
import html
import http.server
import os

RESOURCE_URI = os.environ.get("RESOURCE_URI", "")
RESOURCE_FILE = os.environ.get("RESOURCE_FILE", "/kbs/resource")
FETCHED_FILE = os.environ.get("FETCHED_FILE", "/kbs/fetched")
ERROR_FILE = os.environ.get("ERROR_FILE", "/kbs/error")
PORT = int(os.environ.get("PORT", "8080"))


def status():
    """Return (retrieved, sha256 hex digest, error text)."""
    if os.path.exists(FETCHED_FILE):
        try:
            with open(RESOURCE_FILE, "rb") as resource:
                return True, hashlib.sha256(resource.read()).hexdigest(), ""
        except OSError as err:
            return False, "", "resource file unreadable: %s" % err.strerror
    try:
        with open(ERROR_FILE, "rb") as error:
            text = error.read(2048).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return False, "", text or "no fetch result"


def page():
    retrieved, digest, error = status()
    rows = [("Resource", RESOURCE_URI), ("Retrieved", "yes" if retrieved else "no")]
    if retrieved:
        rows.append(("SHA-256", digest))
    else:
        rows.append(("Error", error))
    cells = "\n".join(
        "<tr><th>%s</th><td><code>%s</code></td></tr>" % (html.escape(k), html.escape(v))
        for k, v in rows
    )
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        "<title>kbs-access</title></head><body>\n"
        "<h1>KBS resource access from a confidential container</h1>\n"
        "<table>\n%s\n</table>\n"
        "<p>The resource itself is never shown.</p>\n</body></html>\n" % cells
    )


class Handler(http.server.BaseHTTPRequestHandler):
    def _reply(self, code, content_type, body, send_body=True):
        data = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if send_body:
            self.wfile.write(data)

    def _route(self, send_body):
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._reply(200, "text/plain; charset=utf-8", "ok\n", send_body)
        elif path == "/":
            self._reply(200, "text/html; charset=utf-8", page(), send_body)
        else:
            self._reply(404, "text/plain; charset=utf-8", "not found\n", send_body)

    def do_GET(self):
        self._route(True)

    def do_HEAD(self):
        self._route(False)


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("", PORT), Handler).serve_forever()
