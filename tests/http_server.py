#!/usr/bin/env python3
"""A misbehaving checkpoint server for tests/http_test.sh (stdlib only).

Serves the files of a folder, like `python3 -m http.server`, plus routes
that imitate what real servers do wrong, each with status 200:

  /short/NAME    NAME's bytes with a Content-Length 100 bytes too long,
                 then the connection closes (a dropped transfer)
  /html/NAME     an HTML login page (text/html)
  /random/NAME   4096 pseudo-random bytes (application/octet-stream)
  /endless/NAME  zeros forever, no Content-Length (until the client quits)
  /huge/NAME     a Content-Length of 1 TiB, then zeros

Prints "port N" on stdout once listening on 127.0.0.1 (port 0 = any
free port) and logs one line per request on stderr.
"""
import http.server
import os
import random
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def head(self, ctype, length=None):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def zeros(self):
        block = bytes(65536)
        try:
            while True:
                self.wfile.write(block)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        parts = self.path.split("/")
        route = parts[1] if len(parts) > 2 else ""
        name = parts[-1]
        if route == "short":
            with open(os.path.join(self.directory, name), "rb") as f:
                body = f.read()
            self.head("application/octet-stream", len(body) + 100)
            self.wfile.write(body)
        elif route == "html":
            body = (b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>"
                    b"<body><form>user <input name=u></form></body></html>\n")
            self.head("text/html; charset=utf-8", len(body))
            self.wfile.write(body)
        elif route == "random":
            body = random.Random(7).randbytes(4096)
            self.head("application/octet-stream", len(body))
            self.wfile.write(body)
        elif route == "endless":
            self.head("application/octet-stream")
            self.zeros()
        elif route == "huge":
            self.head("application/octet-stream", 1 << 40)
            self.zeros()
        else:
            super().do_GET()


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    handler = lambda *a, **k: Handler(*a, directory=folder, **k)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    print("port", server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
