#!/usr/bin/env python3
"""vsock_enclave_peer.py: the host end of vsock.bats, over the monitor's hybrid vsock socket
(docs/vsock.md).

  client SOCKET PORT NBYTES [--clients N]
      N connections at once (default 1) to enclave port PORT through SOCKET ("CONNECT PORT"),
      each sending NBYTES of a pattern, half-closing and reading everything back; prints
      "ok N" when every echo matched, else what went wrong, and exits 1.
  connect SOCKET PORT
      sends the CONNECT line and prints the reply line, or "closed" when the socket closes.
  echo-server PATH [--log FILE]
      listens on the Unix socket PATH (the enclave's connect() to CID 3 port P reaches
      "<runtime dir>/<cid>.vsock_P") and echoes every connection until EOF; --log appends
      "bytes N" per finished connection to FILE.
  seq SOCKET PORT N
      N connections one after another, each echoing 16 bytes; prints "ok N".
  raw SOCKET HEX
      sends the bytes HEX as they are and prints the reply line, or "closed".
  abort SOCKET PORT
      connects, sends 8 MiB without reading the echo, and resets the connection (SO_LINGER 0).
"""
import struct
import os
import socket
import sys
import threading


def pattern(n, seed):
    block = bytes((i * 7 + seed) & 0xFF for i in range(65536))
    return (block * (n // len(block) + 1))[:n]


def connect_line(path, port):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(b"CONNECT %d\n" % port)
    line = b""
    while not line.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            return s, None
        line += c
    return s, line.decode().strip()


def one_client(path, port, n, seed, errors):
    try:
        s, line = connect_line(path, port)
        if not line or not line.startswith("OK "):
            errors.append("connect: %r" % line)
            return
        data = pattern(n, seed)
        got = bytearray()

        def reader():
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got.extend(b)

        t = threading.Thread(target=reader)
        t.start()
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        t.join()
        s.close()
        if bytes(got) != data:
            errors.append("client %d: sent %d, got back %d bytes%s" %
                          (seed, n, len(got), "" if len(got) != n else " (different)"))
    except OSError as e:
        errors.append("client %d: %s" % (seed, e))


def main():
    cmd = sys.argv[1]
    if cmd == "client":
        path, port, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        clients = int(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[5] == "--clients" else 1
        errors = []
        threads = [threading.Thread(target=one_client, args=(path, port, n, i, errors))
                   for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            print("\n".join(errors))
            sys.exit(1)
        print("ok %d" % clients)
    elif cmd == "connect":
        s, line = connect_line(sys.argv[2], int(sys.argv[3]))
        print(line if line else "closed")
    elif cmd == "seq":
        path, port, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        for i in range(n):
            errors = []
            one_client(path, port, 16, i, errors)
            if errors:
                print("connection %d: %s" % (i, errors[0]))
                sys.exit(1)
        print("ok %d" % n)
    elif cmd == "raw":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sys.argv[2])
        s.sendall(bytes.fromhex(sys.argv[3]))
        s.settimeout(10)
        line = b""
        while not line.endswith(b"\n"):
            try:
                c = s.recv(1)
            except ConnectionResetError:  # closed with our bytes unread
                c = b""
            if not c:
                break
            line += c
        print(line.decode(errors="replace").strip() if line else "closed")
    elif cmd == "abort":
        s, line = connect_line(sys.argv[2], int(sys.argv[3]))
        if not line or not line.startswith("OK "):
            sys.exit("connect: %r" % line)
        s.setblocking(False)
        sent, block = 0, b"x" * 65536
        while sent < 8 << 20:
            try:
                sent += s.send(block)
            except BlockingIOError:
                break
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        print("aborted after %d bytes" % sent)
    elif cmd == "echo-server":
        path = sys.argv[2]
        log = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--log" else None
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lst.bind(path)
        lst.listen(128)

        def serve(c):
            total = 0
            while True:
                b = c.recv(1 << 20)
                if not b:
                    break
                total += len(b)
                c.sendall(b)
            c.shutdown(socket.SHUT_WR)
            c.close()
            if log:
                with open(log, "a") as f:
                    f.write("bytes %d\n" % total)

        while True:
            c, _ = lst.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
