#!/usr/bin/env python3
"""fake_vsock_host.py: a stand-in for an enclave and its monitor's hybrid vsock socket, for the
host vsock tools' tests (vsock_host.bats) until they run against real enclaves. Standard library
only.

  serve --uds PATH [--name NAME --cid CID]
      The monitor's host side (docs/vsock.md): listens on the Unix socket PATH, reads the
      "CONNECT <port>\\n" line as the monitor does (keyword case-insensitive, at most 32 bytes,
      else the socket is closed), answers "OK <host_port>\\n" and plays the enclave's program on
      that port:
        9999  nothing listens: closed without a reply
        5002  counts: reads to EOF, then sends "<bytes>\\n" and closes (a half-close test)
        5003  greets: "hello\\n" in the same write as the OK line, then echoes
        5004  never answers (a timeout test)
        other echoes; at EOF it shuts its writing side and closes
      With --name/--cid it also writes PATH's directory/<cid>.json, locked as a monitor does, so
      `--enclave-name NAME` finds it. With --exec-unix SOCK, port 41422 (the exec service's)
      is relayed to the Unix socket SOCK, where alcove-execd runs natively (--unix SOCK): the
      host-side tests of alcove-oci exec. Runs until SIGTERM or SIGINT.
  dial --uds PATH --port P [--count N --size BYTES]
      The enclave connecting to the parent (CID 3) on port P: connects to "PATH_P". Alone, copies
      stdin to it (then half-closes) and it to stdout. With --count, makes N connections at
      once, each sending BYTES random bytes and checking they come back (an echo behind it).
  tcp-echo --port-file FILE
      A TCP echo server on 127.0.0.1 (a free port, written to FILE).
  tcp-clients --port P [--count N --size BYTES]
      N concurrent TCP clients of 127.0.0.1:P, each checking its bytes come back.
  free-port
      Prints a TCP port free on 127.0.0.1 now.
"""
import argparse
import fcntl
import json
import os
import re
import signal
import socket
import sys
import threading

PORT_NOBODY = 9999
PORT_COUNT = 5002
PORT_GREET = 5003
PORT_SILENT = 5004
LINE_MAX = 32
CONNECT_RE = re.compile(rb"^connect ([0-9]{1,10})$", re.IGNORECASE)


def read_connect_line(conn):
    """The CONNECT line, byte by byte so nothing after it is consumed; None if malformed."""
    line = b""
    while len(line) < LINE_MAX:
        b = conn.recv(1)
        if not b:
            return None
        if b == b"\n":
            m = CONNECT_RE.match(line)
            if not m or int(m.group(1)) > 0xFFFFFFFF:
                return None
            return int(m.group(1))
        line += b
    return None


def echo(conn):
    while True:
        data = conn.recv(65536)
        if not data:
            break
        conn.sendall(data)
    conn.shutdown(socket.SHUT_WR)


PORT_EXEC = 41422


def relay_unix(conn, path):
    """conn <-> a connection to the Unix socket path, each direction half-closed at its EOF."""
    peer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    peer.connect(path)

    def pump(src, dst):
        try:
            while True:
                d = src.recv(65536)
                if not d:
                    break
                dst.sendall(d)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    t = threading.Thread(target=pump, args=(peer, conn), daemon=True)
    t.start()
    pump(conn, peer)
    t.join()
    peer.close()


class Host:
    def __init__(self, exec_unix=None):
        self.exec_unix = exec_unix
        self.next_port = 1 << 30
        self.lock = threading.Lock()
        self.silent = []

    def host_port(self):
        with self.lock:
            self.next_port += 1
            return self.next_port

    def serve_one(self, conn):
        try:
            port = read_connect_line(conn)
            if port is None or port == PORT_NOBODY:
                return
            if port == PORT_SILENT:
                self.silent.append(conn)  # held open, never answered
                conn = None
                return
            ok = b"OK %d\n" % self.host_port()
            if port == PORT_EXEC and self.exec_unix:
                conn.sendall(ok)
                relay_unix(conn, self.exec_unix)
            elif port == PORT_GREET:
                conn.sendall(ok + b"hello\n")
                echo(conn)
            elif port == PORT_COUNT:
                conn.sendall(ok)
                n = 0
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    n += len(data)
                conn.sendall(b"%d\n" % n)
            else:
                conn.sendall(ok)
                echo(conn)
        except OSError:
            pass
        finally:
            if conn is not None:
                conn.close()


def describe(uds, name, cid):
    """Writes and locks <dir>/<cid>.json as a monitor does; returns the open file."""
    path = os.path.join(os.path.dirname(uds), "%d.json" % cid)
    f = open(path, "w")
    fcntl.flock(f, fcntl.LOCK_EX)
    json.dump({"EnclaveName": name, "EnclaveID": "i-fake-enc%d" % cid, "EnclaveCID": cid,
               "ProcessID": os.getpid(), "State": "RUNNING"}, f)
    f.flush()
    return f, path


def cmd_serve(a):
    try:
        os.unlink(a.uds)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(a.uds)
    srv.listen(1024)
    desc = describe(a.uds, a.name, a.cid) if a.name else None

    def stop(*_):
        try:
            os.unlink(a.uds)
            if desc:
                os.unlink(desc[1])
        finally:
            os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host = Host(a.exec_unix)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=host.serve_one, args=(conn,), daemon=True).start()


def check_echo(sock, size, errors, i):
    payload = os.urandom(size)
    got = bytearray()

    def reader():
        while True:
            d = sock.recv(65536)
            if not d:
                break
            got.extend(d)

    t = threading.Thread(target=reader)
    t.start()
    sock.sendall(payload)
    sock.shutdown(socket.SHUT_WR)
    t.join(60)
    sock.close()
    if bytes(got) != payload:
        errors.append("connection %d: sent %d bytes, got %d back%s" %
                      (i, size, len(got), "" if len(got) != size else " (different)"))


def run_many(connect, count, size):
    errors = []
    socks = []
    for i in range(count):  # all connected first, so they are concurrent
        try:
            socks.append(connect())
        except OSError as e:
            errors.append("connection %d: %s" % (i, e))
    threads = [threading.Thread(target=check_echo, args=(s, size, errors, i))
               for i, s in enumerate(socks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if errors:
        sys.stderr.write("\n".join(errors[:10]) + "\n")
        return 1
    print("ok %d" % count)
    return 0


def pump_stdio(sock):
    def out():
        while True:
            d = sock.recv(65536)
            if not d:
                break
            sys.stdout.buffer.write(d)
            sys.stdout.buffer.flush()

    t = threading.Thread(target=out)
    t.start()
    while True:
        d = sys.stdin.buffer.read1(65536)
        if not d:
            break
        sock.sendall(d)
    sock.shutdown(socket.SHUT_WR)
    t.join()
    return 0


def cmd_dial(a):
    path = "%s_%d" % (a.uds, a.port)
    # as the monitor: with nothing at the enclave's own listener, the one for every enclave
    anyone = os.path.join(os.path.dirname(a.uds), "any.vsock_%d" % a.port)

    def connect():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except (FileNotFoundError, ConnectionRefusedError):
            s.connect(anyone)
        return s

    if a.count:
        return run_many(connect, a.count, a.size)
    try:
        s = connect()
    except OSError as e:
        sys.stderr.write("dial %s: %s\n" % (path, e))
        return 1
    return pump_stdio(s)


def tcp_echo_one(conn):
    try:
        echo(conn)
    except OSError:
        pass
    finally:
        conn.close()


def cmd_tcp_echo(a):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1024)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, a.port_file)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=tcp_echo_one, args=(conn,), daemon=True).start()


def cmd_tcp_clients(a):
    return run_many(lambda: socket.create_connection(("127.0.0.1", a.port), timeout=60),
                    a.count, a.size)


def cmd_free_port(_):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--uds", required=True)
    s.add_argument("--name")
    s.add_argument("--cid", type=int, default=0)
    s.add_argument("--exec-unix")
    s = sub.add_parser("dial")
    s.add_argument("--uds", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--count", type=int, default=0)
    s.add_argument("--size", type=int, default=4096)
    s = sub.add_parser("tcp-echo")
    s.add_argument("--port-file", required=True)
    s = sub.add_parser("tcp-clients")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--count", type=int, default=1)
    s.add_argument("--size", type=int, default=4096)
    sub.add_parser("free-port")
    a = p.parse_args()
    fn = {"serve": cmd_serve, "dial": cmd_dial, "tcp-echo": cmd_tcp_echo,
          "tcp-clients": cmd_tcp_clients, "free-port": cmd_free_port}[a.cmd]
    return fn(a) or 0


if __name__ == "__main__":
    sys.exit(main())
