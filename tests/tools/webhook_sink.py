#!/usr/bin/env python3
"""A webhook receiver for tests: appends every POST to a JSON-lines file as
{"key": <Idempotency-Key header>, "type": <Content-Type>, "body": <the JSON body>} and
answers 204, except that the first --fail-first requests get a 503 (the sender must retry),
recorded as {"refused": <Idempotency-Key>}.

    webhook_sink.py --out posts.jsonl --port-file sink.port [--fail-first 3]

Listens on 127.0.0.1, on a free port it writes to --port-file. Stops on SIGTERM.
"""
import argparse
import http.server
import json
import signal
import sys
import threading


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--fail-first", type=int, default=0)
    a = ap.parse_args()
    lock = threading.Lock()
    state = {"failures_left": a.fail_first}
    out = open(a.out, "a", encoding="utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the gateway's libcurl handle expects

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                if state["failures_left"] > 0:
                    state["failures_left"] -= 1
                    code = 503
                    out.write(json.dumps({"refused": self.headers.get("Idempotency-Key")}) + "\n")
                    out.flush()
                else:
                    code = 204
                    rec = {"key": self.headers.get("Idempotency-Key"), "type": self.headers.get("Content-Type"),
                           "body": json.loads(body)}
                    out.write(json.dumps(rec) + "\n")
                    out.flush()
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, fmt, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(a.port_file, "w") as f:
        f.write(str(srv.server_address[1]))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
