#!/usr/bin/env python3
"""A forward HTTP proxy for the probes' tests: CONNECT tunnels (https://) and absolute-form
requests (http://), each logged as one line ("CONNECT host:port" or "GET http://...") to LOG.

Usage: http-proxy.py LISTEN_PORT LOG
"""
import http.client
import select
import socket
import socketserver
import sys
import urllib.parse

listen_port, log = int(sys.argv[1]), sys.argv[2]


def note(line):
    with open(log, "a") as f:
        f.write(line + "\n")


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        request = self.rfile.readline(65536).decode("latin-1").strip()
        headers = []
        while True:
            line = self.rfile.readline(65536)
            if line in (b"\r\n", b"\n", b""):
                break
            headers.append(line.decode("latin-1").rstrip("\r\n"))
        method, target, _ = request.split(" ", 2)
        note(f"{method} {target}")
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.wfile.flush()
            pair = {self.connection: upstream, upstream: self.connection}
            while True:
                readable, _, _ = select.select(list(pair), [], [], 30)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    pair[sock].sendall(data)
        url = urllib.parse.urlsplit(target)
        upstream = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=10)
        path = url.path + ("?" + url.query if url.query else "")
        upstream.request(method, path or "/", headers=dict(h.split(": ", 1) for h in headers if ": " in h))
        answer = upstream.getresponse()
        body = answer.read()
        self.wfile.write(f"HTTP/1.1 {answer.status} {answer.reason}\r\n".encode())
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.wfile.write(f"{name}: {value}\r\n".encode())
        self.wfile.write(f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server(("127.0.0.1", listen_port), Handler).serve_forever()
