#!/usr/bin/env python3
"""publish_peer.py: the TCP client of publish.bats, for an enclave's published port (-p).

  echo HOST PORT NBYTES [--clients N]
      N connections at once (default 1), each sending NBYTES of a pattern of its own while it
      reads the echo, then half-closing and reading to the end; prints "ok N" when every
      echo's SHA-256 matches what was sent, else what went wrong, and exits 1.
  seq HOST PORT N
      N connections one after another, each echoing 16 bytes; prints "ok N".
  abort HOST PORT
      connects, sends up to 8 MiB without reading the echo, and resets the connection
      (SO_LINGER 0); prints "aborted after N bytes".
  refused HOST PORT
      connects (the host accepts) and waits up to 10 s for the end: prints "reset" or "eof"
      and the seconds it took, or "timeout".
  from HOST PORT SRC_PORT
      connects from SRC_PORT and echoes 5 bytes; prints "ok".
"""
import hashlib
import socket
import struct
import sys
import threading
import time


def pattern(n, seed):
    block = bytes((i * 7 + seed) & 0xFF for i in range(65536))
    return (block * (n // len(block) + 1))[:n]


def connect(host, port, src_port=0):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    if src_port:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, src_port))
    s.settimeout(120)
    s.connect((host, port))
    return s


def one_echo(host, port, n, seed, errors):
    try:
        s = connect(host, port)
        data = pattern(n, seed)
        got = hashlib.sha256()
        count = [0]

        def reader():
            while True:
                b = s.recv(1 << 20)
                if not b:
                    break
                got.update(b)
                count[0] += len(b)

        t = threading.Thread(target=reader)
        t.start()
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        t.join()
        s.close()
        if got.digest() != hashlib.sha256(data).digest():
            errors.append("client %d: sent %d, got back %d bytes%s" %
                          (seed, n, count[0], "" if count[0] != n else " (different)"))
    except OSError as e:
        errors.append("client %d: %s" % (seed, e))


def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "echo":
        n = int(sys.argv[4])
        clients = int(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[5] == "--clients" else 1
        errors = []
        threads = [threading.Thread(target=one_echo, args=(host, port, n, i, errors))
                   for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            print("\n".join(errors[:10]))
            sys.exit(1)
        print("ok %d" % clients)
    elif cmd == "seq":
        n = int(sys.argv[4])
        for i in range(n):
            s = connect(host, port)
            msg = b"%016d" % i
            s.sendall(msg)
            s.shutdown(socket.SHUT_WR)
            got = b""
            while True:
                b = s.recv(64)
                if not b:
                    break
                got += b
            s.close()
            if got != msg:
                sys.exit("connection %d: got %r" % (i, got))
        print("ok %d" % n)
    elif cmd == "abort":
        s = connect(host, port)
        s.setblocking(False)
        sent, block = 0, b"x" * 65536
        deadline = time.time() + 5
        while sent < 8 << 20 and time.time() < deadline:
            try:
                sent += s.send(block)
            except BlockingIOError:
                if sent:
                    break
                time.sleep(0.01)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        print("aborted after %d bytes" % sent)
    elif cmd == "refused":
        t0 = time.time()
        s = connect(host, port)
        s.settimeout(10)
        try:
            b = s.recv(1)
            print("eof" if not b else "data", "%.1f" % (time.time() - t0))
        except ConnectionResetError:
            print("reset %.1f" % (time.time() - t0))
        except socket.timeout:
            print("timeout")
    elif cmd == "from":
        s = connect(host, port, int(sys.argv[4]))
        s.sendall(b"hello")
        s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            b = s.recv(64)
            if not b:
                break
            got += b
        s.close()
        print("ok" if got == b"hello" else "got %r" % got)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
