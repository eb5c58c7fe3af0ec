#!/usr/bin/env python3
"""A small configurable HTTP(S) server for the seed stack tests (Tests/RunTests/SeedStackTests).

  seed-web.py CONFIG.json

CONFIG holds:
  port          the port of the main listener (127.0.0.1)
  cert, key     PEM files: the main listener speaks TLS (else plain HTTP)
  redirect_port optional: a plain-HTTP listener answering every request with 301 to
                https://127.0.0.1:PORT/same-path (a web front forcing HTTPS)
  headers       sent with every answer of the main listener
  routes        "METHOD /path" (query string ignored) -> {"status", "headers", "body", and
                optionally "authorization": the exact Authorization header the route needs, else
                it answers 401, as a webhook endpoint verifying its provider does}; anything
                else is 404
  limits        "METHOD /path" -> N: the first N requests get the route, later ones 429
  limit_window  optional seconds: the counts start again that long after a window's first request
  log           file: one line "METHOD /path?query STATUS" per request of the main listener
  bodies        file: one line "METHOD /path BODY" per request that sent a body (what a probe posts)
"""
import http.server
import json
import ssl
import sys
import threading
import time


def main(path):
    config = json.load(open(path))
    counts, starts = {}, {}
    lock = threading.Lock()
    log_path = config.get("log")
    bodies_path = config.get("bodies")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and
        # the client's delayed ACK add 40 ms to every answer (latency probes measure it).
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            key = f"{self.command} {self.path.split('?', 1)[0]}"
            if length:
                sent = self.rfile.read(length)
                if bodies_path:
                    with lock, open(bodies_path, "a") as f:
                        f.write(f"{key} {sent.decode(errors='replace')}\n")
            route = config.get("routes", {}).get(key)
            status, headers, body = 404, {}, "not found\n"
            if route is not None:
                status, headers, body = route.get("status", 200), route.get("headers", {}), route.get("body", "")
                if self.headers.get("Authorization") in route.get("forbidden", []):
                    status, headers, body = 403, {}, "authenticated, but not allowed here\n"
                elif route.get("authorization") is not None and self.headers.get("Authorization") != route["authorization"]:
                    status, headers, body = 401, {}, "unsigned or wrongly signed\n"
                limit = config.get("limits", {}).get(key)
                if limit is not None:
                    with lock:
                        window = config.get("limit_window")
                        if window is not None and time.monotonic() - starts.get(key, 0) > window:
                            starts[key], counts[key] = time.monotonic(), 0
                        counts[key] = counts.get(key, 0) + 1
                        if counts[key] > limit:
                            status, headers, body = 429, {}, "too many requests\n"
            data = body.encode()
            self.send_response(status)
            for name, value in {**config.get("headers", {}), **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            if log_path:
                with lock, open(log_path, "a") as f:
                    f.write(f"{self.command} {self.path} {status}\n")

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = answer

    class Redirect(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def answer(self):
            self.send_response(301)
            self.send_header("Location", f"https://127.0.0.1:{config['port']}{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_HEAD = answer

    main_server = http.server.ThreadingHTTPServer(("127.0.0.1", config["port"]), Handler)
    if config.get("cert"):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(config["cert"], config["key"])
        main_server.socket = context.wrap_socket(main_server.socket, server_side=True)
    servers = [main_server]
    if config.get("redirect_port"):
        servers.append(http.server.ThreadingHTTPServer(("127.0.0.1", config["redirect_port"]), Redirect))
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    main_server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
