#!/usr/bin/env python3
"""pty_drive.py: the integration tests' person at a terminal. It runs a program with a new pty
as its controlling terminal and stdio (alcove run -t, alcove exec -t, alcove-execd --main, a
test program natively), types into the pty's master, reads what the program shows there, and
says how the program ended and whether the terminal's settings are as they were before.

As a module (console_tty_drive.py imports it): Terminal, the pty, the program and the mechanics.

As a script, for a short scenario given on the command line:

  pty_drive.py STEP... -- CMD...

runs CMD on a new pty (its size left 0x0, as openpty makes it) and takes the STEPs in order:

  expect:TEXT   wait until TEXT has shown on the terminal; if it does not come, the steps after
                it are not taken and the exit status is 1
  send:TEXT     type TEXT
  sleep:SECONDS wait
  raw           note whether the terminal's settings now differ from the start ("raw meanwhile")
  signal:NAME   send signal NAME (TERM, KILL, ...) to CMD

TEXT takes Python's backslash escapes (\\r, \\n, \\x03). Then it waits for CMD's end (killing
it if it has not ended in time) and prints, one a line:

  status N                   CMD's exit status (-N: killed by signal N)
  terminal restored: yes|no  the settings (as `stty -g` shows them) the same as at the start
  raw meanwhile: yes|no      for each `raw` step, in order
  timed out waiting for b'TEXT'   for an expect that did not come
  transcript: b'...'         everything the terminal showed, as Python escapes bytes

Each wait (an expect, CMD's end) lasts at most STEP_TIMEOUT seconds (default 120)."""
import fcntl, os, pty, select, signal, struct, subprocess, sys, termios, time

STEP = float(os.environ.get("STEP_TIMEOUT", "120"))


def _take_ctty():
    # in the child, after setsid: the slave on fd 0 becomes the session's controlling terminal
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A pty whose master this process holds, and the program on it. With master= (a master fd
    that came from elsewhere, e.g. over an OCI console socket) there is no slave here, and no
    settings to compare."""

    def __init__(self, size=None, master=None, child=None):
        self.child = child
        self.seen = b""
        if master is not None:
            self.master, self.slave, self.before = master, None, None
            return
        self.master, self.slave = pty.openpty()
        if size:
            self.resize(*size)
        self.before = termios.tcgetattr(self.slave)

    def spawn(self, cmd):
        """Starts CMD in a session of its own, the slave its stdio and controlling terminal."""
        s = self.slave
        self.child = subprocess.Popen(cmd, stdin=s, stdout=s, stderr=s, start_new_session=True,
                                      preexec_fn=_take_ctty, close_fds=True)
        return self.child

    def read_some(self, timeout):
        """Reads what is there within TIMEOUT seconds into seen; False when nothing came (or the
        master reads an error: the other side closed)."""
        if not select.select([self.master], [], [], timeout)[0]:
            return False
        try:
            data = os.read(self.master, 4096)
        except OSError:
            return False
        self.seen += data
        return bool(data)

    def wait_for(self, text, secs=None):
        """Reads until TEXT has been seen: False after SECS (default STEP_TIMEOUT), or sooner
        when the program has ended and nothing more comes."""
        end = time.time() + (STEP if secs is None else secs)
        while text not in self.seen:
            left = end - time.time()
            if left <= 0:
                return False
            if self.read_some(min(left, 1.0)):
                continue
            # what an ended program wrote last may still be on its way to the master: a second
            # more before giving up
            if self.child.poll() is not None and not self.read_some(1.0):
                return False
        return True

    def type(self, data):
        os.write(self.master, data)

    def resize(self, rows, cols):
        # the kernel sends SIGWINCH to the terminal's foreground group
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def settings_changed(self):
        return termios.tcgetattr(self.slave) != self.before

    def finish(self, secs=None):
        """The program's exit status, once it has ended (killed after SECS, default
        STEP_TIMEOUT), then the rest of what it showed, read until the master is quiet."""
        try:
            status = self.child.wait(timeout=STEP if secs is None else secs)
        except subprocess.TimeoutExpired:
            self.child.kill()
            status = self.child.wait()
        while self.read_some(0.5):
            pass
        return status

    def restored(self):
        """"yes" or "no": the slave's settings as at the start; "n/a" without a slave."""
        if self.slave is None:
            return "n/a"
        return "no" if self.settings_changed() else "yes"


def unescape(text):
    return text.encode().decode("unicode_escape").encode("latin-1")


def run_scenario(steps, cmd):
    term = Terminal()
    term.spawn(cmd)
    notes, ok = [], True
    for step in steps:
        kind, _, arg = step.partition(":")
        if kind == "expect":
            ok = term.wait_for(unescape(arg))
            if not ok:
                notes.append("timed out waiting for %r" % unescape(arg))
                break
        elif kind == "send":
            term.type(unescape(arg))
        elif kind == "sleep":
            time.sleep(float(arg))
        elif kind == "raw":
            notes.append("raw meanwhile: %s" % ("yes" if term.settings_changed() else "no"))
        elif kind == "signal":
            term.child.send_signal(signal.Signals["SIG" + arg])
        else:
            raise SystemExit("pty_drive.py: unknown step %r" % step)
    print("status %d" % term.finish())
    print("terminal restored: %s" % term.restored())
    for note in notes:
        print(note)
    print("transcript: %r" % term.seen)
    return 0 if ok else 1


if __name__ == "__main__":
    if "--" not in sys.argv:
        raise SystemExit("usage: pty_drive.py STEP... -- CMD...")
    at = sys.argv.index("--")
    sys.exit(run_scenario(sys.argv[1:at], sys.argv[at + 1:]))
