"""A webhook receiver for Reel's integration tests: answers every POST with 200 and writes
each request's headers and body to the folder given (request-N.json), so the test can check
the notice and its signature; a POST to /moved... is answered with a redirect to /landed."""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path


def serve(port: int, folder: Path) -> None:
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path.startswith("/moved"):
                # A redirect elsewhere, which a notice must not follow.
                self.send_response(302)
                self.send_header("Location", "/landed")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.record(body)

        def do_GET(self) -> None:  # noqa: N802 (a followed redirect may arrive as a GET)
            self.record(b"")

        def record(self, body: bytes) -> None:
            count = len(list(folder.glob("request-*.json")))
            record = {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers.items()),
                "body": body.decode("utf-8", "replace"),
            }
            (folder / f"request-{count}.json").write_text(json.dumps(record))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
            sys.stderr.write("receiver: " + format % args + "\n")

    HTTPServer(("127.0.0.1", port), Receiver).serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    arguments = parser.parse_args()
    serve(arguments.port, arguments.folder)


if __name__ == "__main__":
    main()
