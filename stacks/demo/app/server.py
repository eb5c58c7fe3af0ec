#!/usr/bin/env python3
"""The demo app: a tiny HTTP server on 127.0.0.1:$DEMO_PORT.

  server.py start --greeting TEXT --revision REV   start it in the background (waits until it answers)
  server.py stop                                   stop it (no error when it is not running)
  server.py probe PATH [--expect-body TEXT]        GET PATH; exit 1 unless 200 (and TEXT in the body)

GET / answers the greeting; GET /health answers {"status":"ok","revision":...,"db":"ok"}.
"""
import http.server
import json
import os
import signal
import socket
import sqlite3
import sys
import time
import urllib.request

PORT = int(os.environ.get("DEMO_PORT", "18080"))
STATE = os.environ.get("DEPLOYCTL_STATE", "/tmp")
PIDFILE = os.path.join(STATE, f"demo-app-{PORT}.pid")


def serve(greeting, revision):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/health":
                try:
                    with sqlite3.connect(os.environ["DEMO_DB"]) as db:
                        db.execute("SELECT count(*) FROM greetings").fetchone()
                    body, code = json.dumps({"status": "ok", "revision": revision, "db": "ok"}), 200
                except Exception as error:  # the health check reports, it does not crash
                    body, code = json.dumps({"status": "error", "db": str(error)}), 503
            elif self.path == "/":
                body, code = greeting + "\n", 200
            else:
                body, code = "not found\n", 404
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()


def running_pid():
    try:
        pid = int(open(PIDFILE).read())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def start(greeting, revision):
    if running_pid():
        stop()
    if os.fork() == 0:
        os.setsid()  # its own session: the deploy step's process group may end without it
        if os.fork() != 0:
            os._exit(0)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        with open(PIDFILE, "w") as f:
            f.write(str(os.getpid()))
        serve(greeting, revision)
        os._exit(0)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
            print(f"demo app {revision} listening on 127.0.0.1:{PORT} (pid {running_pid()})")
            return 0
        except OSError:
            time.sleep(0.05)
    print(f"demo app did not start listening on {PORT}", file=sys.stderr)
    return 1


def stop():
    pid = running_pid()
    if pid is None:
        print("demo app is not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if running_pid() is None:
            break
        time.sleep(0.05)
    try:
        os.remove(PIDFILE)
    except FileNotFoundError:
        pass
    print(f"stopped demo app (pid {pid})")
    return 0


def probe(path, expect_body=None):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=2) as response:
            body = response.read().decode()
            print(body.strip())
            if expect_body is not None and expect_body not in body:
                print(f"body does not contain {expect_body!r}", file=sys.stderr)
                return 1
            return 0
    except Exception as error:
        print(f"GET {path}: {error}", file=sys.stderr)
        return 1


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    options = dict(zip(argv[1::2], argv[2::2]))
    if argv[0] == "start":
        return start(options.get("--greeting", "hello"), options.get("--revision", "unknown"))
    if argv[0] == "stop":
        return stop()
    if argv[0] == "probe":
        return probe(argv[1], dict(zip(argv[2::2], argv[3::2])).get("--expect-body"))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
