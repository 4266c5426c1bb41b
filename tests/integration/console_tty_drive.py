#!/usr/bin/env python3
"""console_tty_drive.py OUT -- CMD...: runs CMD (tests/programs/console_tty, natively or under
`alcove run -t`) with a new pty as its controlling terminal and stdio, sized 24x80, and types
into it as a person would: a line with an erase (DEL), then a ^C, then resizes the terminal to
40x100. Writes everything the pty's master read to OUT (bytes as Python escapes them), and
prints the exit status and whether the terminal's settings (as `stty -g` shows them) are the
same after the run as before. Each step waits up to STEP_TIMEOUT seconds (default 120)."""
import fcntl, os, pty, select, struct, subprocess, sys, termios, time

out_path = sys.argv[1]
cmd = sys.argv[sys.argv.index("--") + 1:]
step = float(os.environ.get("STEP_TIMEOUT", "120"))

master, slave = pty.openpty()
fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
before = termios.tcgetattr(slave)


def make_ctty():
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


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
after = termios.tcgetattr(slave)
with open(out_path, "w") as f:
    f.write(repr(seen)[2:-1] + "\n")
print("status %d" % status)
print("terminal restored: %s" % ("yes" if before == after else "no"))
