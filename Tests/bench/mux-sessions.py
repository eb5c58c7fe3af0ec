#!/usr/bin/env python3
"""make bench, hosts: the floor under `deployctl up` on many hosts. Opens the same remote
sessions deployctl opens (`exec sh -s` reading the no-op step's script, `true` under the watcher
that stops it with the step, standard input open until the session ends) straight through each
host's ssh master socket, with OpenSSH's multiplexing protocol (PROTOCOL.mux, version 4) and
nothing else: no journal, no process of its own per session. Timed inside this process (Python's
own start-up excluded): the hosts' side of the work (sshd, the login shell, the wrapper, the
command) on this machine's cores.

Usage: mux-sessions.py OUT.json ROUNDS SOCKET...
Writes {"results": [{"median": all hosts}, {"median": the first host alone}]} in seconds, the
shape summary.py reads from hyperfine.
"""
import array
import json
import os
import socket
import statistics
import struct
import sys
import threading
import time


def packet(body):
    return struct.pack(">I", len(body)) + body


def string(data):
    return struct.pack(">I", len(data)) + data


def read_packet(sock):
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise EOFError("the master closed the connection")
            data += chunk
        return data
    return exactly(struct.unpack(">I", exactly(4))[0])


# The script deployctl sends for `run: ["true"]` with the default 30 s grace: the grace, `set -e`,
# then SSHRemote.supervised's line (SSHRemoteScriptTests keeps this copy in step; the exports
# deployctl adds cost the shell next to nothing).
SCRIPT = ("_dc_grace=29\nset -e\nexec 3<&0; set +e; trap : TERM; { trap '' TERM; "
          "while IFS= read -r _dc_line; do :; done; kill -0 \"$$\" 2>/dev/null || exit 0; "
          "{ kill -TERM 0; kill -CONT 0; _dc_waited=0; while kill -0 \"$$\" 2>/dev/null && "
          "[ \"$_dc_waited\" -lt \"${_dc_grace:-30}\" ]; do sleep 1; _dc_waited=$((_dc_waited + 1)); done; "
          "kill -KILL 0; } & } <&3 >/dev/null 2>&1 & _dc_watcher=$!; exec 3<&-; true </dev/null; _dc_status=$?; "
          "kill -KILL \"$_dc_watcher\" 2>/dev/null; wait \"$_dc_watcher\" 2>/dev/null; exit \"$_dc_status\"\n")


def session(path):
    """One session running `exec sh -s` with SCRIPT on its stdin, held open until the session
    ends (as deployctl holds it); its exit status."""
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    sock.sendall(packet(struct.pack(">II", 1, 4)))                       # MUX_MSG_HELLO, version 4
    read_packet(sock)
    request = (struct.pack(">II", 0x10000002, 1) + string(b"")             # MUX_C_NEW_SESSION, id
               + struct.pack(">IIIII", 0, 0, 0, 0, 0xFFFFFFFF)             # no tty/X11/agent/subsystem, no escape
               + string(b"") + string(b"exec sh -s"))
    sock.sendall(packet(request))
    reader, writer = os.pipe()
    os.write(writer, SCRIPT.encode())
    null = os.open(os.devnull, os.O_WRONLY)
    for fd in (reader, null, null):
        sock.sendmsg([b"\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
    os.close(reader)
    os.close(null)
    status = 255
    try:
        while True:
            message = read_packet(sock)
            if struct.unpack(">I", message[:4])[0] == 0x80000004:             # MUX_S_EXIT_MESSAGE
                status = struct.unpack(">I", message[8:12])[0]
    except EOFError:
        pass
    sock.close()
    os.close(writer)
    return status


def wave(paths):
    statuses = []
    threads = [threading.Thread(target=lambda p=p: statuses.append(session(p))) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if statuses != [0] * len(paths):
        raise SystemExit(f"a session failed: {statuses}")


def timed(paths, rounds, runs=15):
    wave(paths)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(rounds):
            wave(paths)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    out, rounds, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    results = [{"median": timed(paths, rounds)}, {"median": timed(paths[:1], rounds)}]
    json.dump({"results": results}, open(out, "w"))
    print(f"{len(paths) * rounds} sessions on {len(paths)} hosts: {results[0]['median'] * 1000:.1f} ms; "
          f"{rounds} on 1 host: {results[1]['median'] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
