#!/usr/bin/env python3
"""hostres_peer.py: the host side of hostres.bats.

  listen PATH COUNTFILE        a Unix listener at PATH (an enclave's "<uds>_<port>") that accepts
                               every connection and never reads; COUNTFILE holds how many
  guest-rss PID                the resident KiB of the monitor's largest mapping (guest memory)
  pinned PID                   what the monitor PID holds for its connections, in KiB: the
                               kernel memory charged to its Unix sockets' send sides (ss's
                               skmem "t") plus its resident memory beyond the guest's
  idle PATH N READYFILE        N clients of the control socket PATH that never send anything;
                               READYFILE appears once they are connected
  half PATH N close|hold [READYFILE]
                               N clients of the hybrid vsock socket PATH that send "CONN" (part
                               of a CONNECT line), then close at once or hold the socket open
  fake-monitor DIR CID drop|honest|foreground READYFILE
                               plays a detached enclave's monitor in the runtime directory DIR:
                               its description <CID>.json, locked as a live monitor locks it,
                               and its control socket <CID>.ctl, which either drops every client
                               at once (drop) or takes TERMINATE and exits (honest)
"""
import fcntl
import json
import os
import resource
import signal
import socket
import sys
import time


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def hold_forever():
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    while True:
        time.sleep(3600)


def listen(path, countfile):
    raise_nofile()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(4096)
    held = []
    signal.signal(signal.SIGTERM, lambda *a: (os.unlink(path), os._exit(0)))
    while True:
        c, _ = s.accept()
        held.append(c)
        with open(countfile + ".tmp", "w") as f:
            f.write("%d\n" % len(held))
        os.replace(countfile + ".tmp", countfile)


def guest_rss(pid):
    best = (0, 0)
    size = None
    with open("/proc/%s/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if parts[0] == "Size:":
                size = int(parts[1])
            elif parts[0] == "Rss:" and size is not None:
                best = max(best, (size, int(parts[1])))
    print(best[1])


def pinned(pid):
    import subprocess
    out = subprocess.run(["ss", "-x", "-m", "-p"], capture_output=True, text=True).stdout
    kernel, tag, pending = 0, "pid=%s," % pid, False
    for line in out.splitlines():
        if line.startswith(("u_str", "u_dgr", "u_seq")):
            pending = tag in line
        if pending and "skmem:(" in line:
            fields = line.split("skmem:(")[1].split(")")[0].split(",")
            kernel += int(next(f[1:] for f in fields if f.startswith("t") and not f.startswith("tb")))
            pending = False
    rss = 0
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    guest = 0
    size = None
    with open("/proc/%s/smaps" % pid) as f:
        best = (0, 0)
        for line in f:
            parts = line.split()
            if parts[0] == "Size:":
                size = int(parts[1])
            elif parts[0] == "Rss:" and size is not None:
                best = max(best, (size, int(parts[1])))
        guest = best[1]
    print("%d %d %d" % (kernel // 1024 + rss - guest, kernel // 1024, rss - guest))


def connect_nb(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(path)
    except (BlockingIOError, InterruptedError):
        s.close()
        return None  # the backlog is full
    return s


def idle(path, n, ready):
    raise_nofile()
    held = []
    deadline = time.monotonic() + 30
    while len(held) < n and time.monotonic() < deadline:
        s = connect_nb(path)
        if s:
            held.append(s)
        else:
            time.sleep(0.01)  # the backlog is full until the monitor accepts
    print("idle: %d of %d connected" % (len(held), n), file=sys.stderr)
    open(ready, "w").close()
    hold_forever()


def half(path, n, mode, ready=None):
    raise_nofile()
    held, full = [], 0
    for _ in range(n):
        s = connect_nb(path)
        if not s:
            full += 1
            time.sleep(0.001)
            continue
        try:
            s.send(b"CONN")
        except OSError:
            pass
        if mode == "close":
            s.close()
        else:
            held.append(s)
    print("half: %d clients, %d found the backlog full, %s" % (n, full, mode), file=sys.stderr)
    if mode == "hold":
        open(ready, "w").close()
        hold_forever()


def fake_monitor(d, cid, mode, ready):
    desc = os.path.join(d, "%s.json" % cid)
    with open(desc, "w") as f:
        json.dump({"EnclaveName": "fake", "EnclaveID": "i-0000000000000000-enc00000000000000%s" % cid,
                   "ProcessID": os.getpid(), "EnclaveCID": int(cid), "State": "RUNNING"}, f)
    lock = open(desc)
    fcntl.flock(lock, fcntl.LOCK_EX)
    if mode == "foreground":  # as alcove run: a running enclave with no control socket
        signal.signal(signal.SIGTERM, lambda *a: (os.unlink(desc), os._exit(0)))
        open(ready, "w").close()
        while True:
            signal.pause()
    ctl = os.path.join(d, "%s.ctl" % cid)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(ctl)
    s.listen(16)
    signal.signal(signal.SIGTERM, lambda *a: (os.unlink(ctl), os.unlink(desc), os._exit(0)))
    open(ready, "w").close()
    while True:
        c, _ = s.accept()
        if mode == "drop":
            c.close()  # as a monitor whose slots are all taken did
            continue
        line = c.recv(64)
        if line == b"TERMINATE\n":
            os.unlink(ctl)
            os.unlink(desc)
            os._exit(0)  # the lock and the client's socket go with the process
        c.close()


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "listen":
        listen(args[0], args[1])
    elif cmd == "guest-rss":
        guest_rss(args[0])
    elif cmd == "pinned":
        pinned(args[0])
    elif cmd == "idle":
        idle(args[0], int(args[1]), args[2])
    elif cmd == "fake-monitor":
        fake_monitor(args[0], args[1], args[2], args[3])
    elif cmd == "half":
        half(args[0], int(args[1]), args[2], args[3] if len(args) > 3 else None)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
