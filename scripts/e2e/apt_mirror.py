"""A corporate apt mirror stand-in for scripts/e2e-build.sh: serves GET and HEAD on 127.0.0.1 by
fetching the same path from the Debian archive, and logs one line per request it carried.

Usage: apt_mirror.py UPSTREAM PORT_FILE LOG   (e.g. http://deb.debian.org)
"""

import http.server
import shutil
import sys
import urllib.error
import urllib.request

UPSTREAM, PORT_FILE, LOG = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]


class Mirror(http.server.BaseHTTPRequestHandler):
    def forward(self, body):
        request = urllib.request.Request(UPSTREAM + self.path, method=self.command)
        try:
            with urllib.request.urlopen(request, timeout=60) as upstream:
                self.send_response(upstream.status)
                for name in ("Content-Type", "Content-Length", "Last-Modified", "ETag"):
                    if upstream.headers.get(name):
                        self.send_header(name, upstream.headers[name])
                self.end_headers()
                if body:
                    shutil.copyfileobj(upstream, self.wfile)
                status = upstream.status
        except urllib.error.HTTPError as error:
            self.send_response(error.code)
            self.send_header("Content-Length", "0")
            self.end_headers()
            status = error.code
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(f"{self.command} {self.path} {status}\n")

    def do_GET(self):  # noqa: N802 (the handler's naming)
        self.forward(body=True)

    def do_HEAD(self):  # noqa: N802
        self.forward(body=False)

    def log_message(self, *args):
        pass


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mirror)
    with open(PORT_FILE, "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
