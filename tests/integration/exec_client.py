#!/usr/bin/env python3
"""exec_client.py: a client of alcove's exec service (lib/execproto/exec_proto.h) written apart
from alcove's own, for the tests: it runs the service natively (alcove-execd --unix PATH) and
speaks the frames over that Unix socket.

  exec_client.py SOCK [--env K=V]... [--cwd D] [--stdin FILE] [--signal DELAY:SIG] -- ARGV...
  exec_client.py SOCK --ping
  exec_client.py SOCK --raw HEX        (sends the bytes, prints what comes back as frames)

stdout and stderr frames go to stdout and stderr; the status is the program's (128 + N for
signal N), 200 + the reason for a FAIL frame (its text on stderr), 199 when the connection ends
without a status."""
import os
import select
import signal
import socket
import struct
import sys
import threading
import time


def frame(t, payload=b""):
    return t.encode() + struct.pack("<I", len(payload)) + payload


def read_frames(sock, on_frame):
    buf = b""
    while True:
        data = sock.recv(65536)
        if not data:
            return False
        buf += data
        while len(buf) >= 5:
            n = struct.unpack("<I", buf[1:5])[0]
            if len(buf) < 5 + n:
                break
            t, p, buf = chr(buf[0]), buf[5:5 + n], buf[5 + n:]
            if on_frame(t, p):
                return True


def main():
    args = sys.argv[1:]
    path = args.pop(0)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    if args and args[0] == "--ping":
        s.sendall(frame("P"))
        got = s.recv(16)
        print("pong" if got == frame("P") else "bad %r" % got)
        return 0
    if args and args[0] == "--raw":
        s.sendall(bytes.fromhex(args[1]))
        s.shutdown(socket.SHUT_WR)

        def show(t, p):
            print("%s %d %r" % (t, len(p), p[:80]))
            return False
        read_frames(s, show)
        print("closed")
        return 0
    env, cwd, stdin, sig = [], None, None, None
    while args and args[0] != "--":
        o = args.pop(0)
        if o == "--env":
            env.append(args.pop(0))
        elif o == "--cwd":
            cwd = args.pop(0)
        elif o == "--stdin":
            stdin = args.pop(0)
        elif o == "--signal":
            d, n = args.pop(0).split(":")
            sig = (float(d), int(n))
    args.pop(0)
    req = b"".join(b"A" + a.encode() + b"\0" for a in args)
    req += b"".join(b"E" + e.encode() + b"\0" for e in env)
    if cwd:
        req += b"W" + cwd.encode() + b"\0"
    s.sendall(frame("R", req))
    lock = threading.Lock()

    # The service closes a refused request's connection (or one whose program ended) without
    # reading on: a send after that fails, and is no error here. Nothing may reach stderr from
    # these threads then: a traceback printed while the main thread exits can abort the
    # interpreter ("could not acquire lock for <stderr> at interpreter shutdown", status 134)
    # instead of exiting with the status the FAIL or EXIT frame gave.
    def send(t, payload=b""):
        try:
            with lock:
                s.sendall(frame(t, payload))
            return True
        except OSError:
            return False

    def feed():
        if stdin:
            with open(stdin, "rb") as f:
                while True:
                    chunk = f.read(65536)
                    if not chunk or not send("I", chunk):
                        break
        send("I")
    threading.Thread(target=feed, daemon=True).start()
    if sig:
        def later():
            time.sleep(sig[0])
            send("K", bytes([sig[1]]))
        threading.Thread(target=later, daemon=True).start()
    result = [199]

    def on(t, p):
        if t == "O":
            sys.stdout.buffer.write(p)
            sys.stdout.flush()
        elif t == "E":
            sys.stderr.buffer.write(p)
            sys.stderr.flush()
        elif t == "X":
            result[0] = p[1] if p[0] == 0 else 128 + p[1]
            return True
        elif t == "F":
            sys.stderr.write("FAIL %d: %s\n" % (p[0], p[1:].decode(errors="replace")))
            result[0] = 200 + p[0]
            return True
        return False
    read_frames(s, on)
    return result[0]


if __name__ == "__main__":
    sys.exit(main())
