#!/usr/bin/env python3
"""console_tty_drive.py OUT [--console-socket SOCK] -- CMD...: runs CMD
(tests/programs/console_tty, natively, under `alcove run -t` or `alcove exec -t`) with a new pty
as its controlling terminal and stdio, sized 24x80, and types into it as a person would: a line
with an erase (DEL), then a ^C, then resizes the terminal to 40x100. Writes everything the pty's
master read to OUT (bytes as Python escapes them), and prints the exit status and whether the
terminal's settings (as `stty -g` shows them) are the same after the run as before. The pty's
mechanics are pty_drive.py's.

With --console-socket SOCK it plays an OCI engine instead (conmon, containerd's shim): it
listens on the Unix socket SOCK, runs CMD (`alcove-oci exec --tty --console-socket SOCK ...`,
whose process.consoleSize should say 24x80) with stdio on /dev/null, takes the pty master that
comes over SOCK and types into and resizes that; "terminal restored" is then "n/a" (the pty is
the runtime's). Each step waits up to STEP_TIMEOUT seconds (default 120)."""
import array, os, select, socket, subprocess, sys, time

from pty_drive import STEP, Terminal

out_path = sys.argv[1]
cmd = sys.argv[sys.argv.index("--") + 1:]
console_sock = sys.argv[3] if sys.argv[2] == "--console-socket" else None


def receive_master(listener, child):
    """The master fd sent over SCM_RIGHTS, or None when CMD ended first or never sent it."""
    end = time.time() + STEP
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
    if master is None:
        child.kill()
        print("status %d" % child.wait())
        print("no pty master came over the console socket")
        sys.exit(0)
    term = Terminal(master=master, child=child)
else:
    term = Terminal(size=(24, 80))
    term.spawn(cmd)


def wait_for(text):
    if term.wait_for(text):
        return True
    sys.stdout.write("timed out waiting for %r\n" % text)
    return False


ok = wait_for(b"ready>")
if ok:
    term.type(b"abx\x7fc\r")
    ok = wait_for(b"waiting for ^C")
if ok:
    time.sleep(0.2)
    term.type(b"\x03")
    ok = wait_for(b"waiting for SIGWINCH")
if ok:
    time.sleep(0.2)
    term.resize(40, 100)
    ok = wait_for(b"done")
status = term.finish()
with open(out_path, "w") as f:
    f.write(repr(term.seen)[2:-1] + "\n")
print("status %d" % status)
print("terminal restored: %s" % term.restored())
