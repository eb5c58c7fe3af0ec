#!/usr/bin/env python3
"""A TCP proxy a test controls, to cut the network between deployctl and its store.

Usage: tcp-proxy.py LISTEN_PORT TARGET_PORT CONTROL_FILE
Forwards 127.0.0.1:LISTEN_PORT to 127.0.0.1:TARGET_PORT. While CONTROL_FILE holds "cut", every
connection (old and new) is a black hole: bytes are read and dropped, nothing is closed, as a
network that silently stops delivering. Connections that were cut stay dead when the file says
"open" again; new ones forward normally. While it holds "delay MS", every chunk waits MS
milliseconds before it is forwarded (a slow network path).
"""
import os
import select
import socket
import sys
import threading
import time

listen_port, target_port, control = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def cut():
    try:
        with open(control) as f:
            return f.read().strip() == "cut"
    except OSError:
        return False


def delay():
    try:
        with open(control) as f:
            words = f.read().split()
        return float(words[1]) / 1000 if len(words) == 2 and words[0] == "delay" else 0
    except (OSError, ValueError):
        return 0


def pump(client):
    server = socket.create_connection(("127.0.0.1", target_port))
    dead = False
    pair = {client: server, server: client}
    watching = [client, server]
    while watching:
        readable, _, _ = select.select(watching, [], [], 0.2)
        dead = dead or cut()
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                if dead:
                    watching.remove(sock)  # a black hole never tells the other side
                    continue
                client.close(); server.close()
                return
            if not dead:
                time.sleep(delay())
                pair[sock].sendall(data)


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", listen_port))
listener.listen(64)
print("listening", flush=True)
while True:
    connection, _ = listener.accept()
    threading.Thread(target=pump, args=(connection,), daemon=True).start()
