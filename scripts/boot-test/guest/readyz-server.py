#!/usr/bin/python3
"""Boot-test stand-in for the PMM container's nginx: answers GET /v1/readyz on 127.0.0.1:80."""
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/v1/readyz":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, fmt, *args):
        print("readyz-stub: " + fmt % args, flush=True)


print("readyz-stub: serving http://127.0.0.1:80/v1/readyz", flush=True)
HTTPServer(("127.0.0.1", 80), Handler).serve_forever()
