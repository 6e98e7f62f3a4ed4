"""Serves a folder over HTTPS on 127.0.0.1: the private pip index of scripts/e2e-build.sh.

Usage: https_index.py ROOT CERT KEY PORT_FILE   (writes the port it listens on to PORT_FILE)
"""

import functools
import http.server
import ssl
import sys


def main():
    root, cert, key, port_file = sys.argv[1:5]
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(port_file, "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
