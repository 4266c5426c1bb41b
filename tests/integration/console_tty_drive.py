#!/usr/bin/env python3
"""console_tty_drive.py OUT [--console-socket SOCK] -- CMD...: runs CMD
(tests/programs/console_tty, natively, under `alcove run -t` or `alcove exec -t`) with a new pty
as its controlling terminal and stdio, sized 24x80, and types into it as a person would: a line
with an erase (DEL), then a ^C, then resizes the terminal to 40x100. Writes everything the pty's
master read to OUT (bytes as Python escapes them), and prints the exit status and whether the
terminal's settings (as `stty -g` shows them) are the same after the run as before.

With --console-socket SOCK it plays an OCI engine instead (conmon, containerd's shim): it
listens on the Unix socket SOCK, runs CMD (`alcove-oci exec --tty --console-socket SOCK ...`,
whose process.consoleSize should say 24x80) with stdio on /dev/null, takes the pty master that
comes over SOCK and types into and resizes that; "terminal restored" is then "n/a" (the pty is
the runtime's). Each step waits up to STEP_TIMEOUT seconds (default 120)."""
import array, fcntl, os, pty, select, socket, struct, subprocess, sys, termios, time

out_path = sys.argv[1]
cmd = sys.argv[sys.argv.index("--") + 1:]
console_sock = sys.argv[3] if sys.argv[2] == "--console-socket" else None
step = float(os.environ.get("STEP_TIMEOUT", "120"))


def make_ctty():
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def receive_master(listener, child):
    """The master fd sent over SCM_RIGHTS, or None when CMD ended first or never sent it."""
    end = time.time() + step
    while time.time() < end:
        if select.select([listener], [], [], 0.5)[0]:
            conn, _ = listener.accept()
            fds = array.array("i")
            _, anc, _, _ = conn.recvmsg(4096, socket.CMSG_LEN(fds.itemsize))
            conn.close()
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(data[:fds.itemsize])
            return fds[0] if fds else None
        if child.poll() is not None:
            return None
    return None


if console_sock:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(console_sock)
    listener.listen(1)
    null = os.open(os.devnull, os.O_RDWR)
    child = subprocess.Popen(cmd, stdin=null, stdout=null, stderr=null, start_new_session=True,
                             close_fds=True)
    master = receive_master(listener, child)
    slave = None
    before = None
    if master is None:
        child.kill()
        print("status %d" % child.wait())
        print("no pty master came over the console socket")
        sys.exit(0)
else:
    master, slave = pty.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    before = termios.tcgetattr(slave)
    child = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                             preexec_fn=make_ctty, close_fds=True)
seen = b""


def read_some(timeout):
    global seen
    r, _, _ = select.select([master], [], [], timeout)
    if not r:
        return False
    try:
        data = os.read(master, 4096)
    except OSError:
        return False
    seen += data
    return bool(data)


def wait_for(text):
    end = time.time() + step
    while text not in seen:
        left = end - time.time()
        if left <= 0 or (not read_some(left) and child.poll() is not None):
            sys.stdout.write("timed out waiting for %r\n" % text)
            return False
    return True


ok = wait_for(b"ready>")
if ok:
    os.write(master, b"abx\x7fc\r")
    ok = wait_for(b"waiting for ^C")
if ok:
    time.sleep(0.2)
    os.write(master, b"\x03")
    ok = wait_for(b"waiting for SIGWINCH")
if ok:
    time.sleep(0.2)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    ok = wait_for(b"done")
try:
    status = child.wait(timeout=step)
except subprocess.TimeoutExpired:
    child.kill()
    status = child.wait()
while read_some(0.5):
    pass
with open(out_path, "w") as f:
    f.write(repr(seen)[2:-1] + "\n")
print("status %d" % status)
if slave is None:
    print("terminal restored: n/a")
else:
    print("terminal restored: %s" % ("yes" if before == termios.tcgetattr(slave) else "no"))
