# runtimes.py: CPython's threading, subprocess and decimal for runtimes.bats (dynamic.bats has
# json, hashlib, sqlite3 and re); prints only what must be the same natively and in an enclave.
import concurrent.futures
import decimal
import queue
import subprocess
import sys
import threading

# threading: a lock held by 8 threads, a producer and two consumers on a queue, an event, a
# barrier, a condition, and a thread pool
counter = 0
lock = threading.Lock()
def bump(n):
    global counter
    for _ in range(n):
        with lock:
            counter += 1
ts = [threading.Thread(target=bump, args=(5000,)) for _ in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print("lock: 8 threads counted", counter)

q = queue.Queue(maxsize=4)
got = []
def consume():
    while (item := q.get()) is not None:
        with lock:
            got.append(item)
cs = [threading.Thread(target=consume) for _ in range(2)]
for t in cs: t.start()
for i in range(200): q.put(i * i)
for _ in cs: q.put(None)
for t in cs: t.join()
print("queue: 2 consumers got", len(got), "items, sum", sum(got))

ev = threading.Event()
barrier = threading.Barrier(3)
cond = threading.Condition()
order = []
def waiter(k):
    barrier.wait()
    ev.wait()
    with cond:
        order.append(k)
        cond.notify_all()
ws = [threading.Thread(target=waiter, args=(k,)) for k in range(2)]
for t in ws: t.start()
barrier.wait()
ev.set()
with cond:
    print("event, barrier, condition:", cond.wait_for(lambda: len(order) == 2, timeout=60))
for t in ws: t.join()
print("threads alive after join:", threading.active_count())

with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
    print("pool:", list(pool.map(lambda x: sum(range(x)), [10, 1000, 100000])))

# subprocess: the interpreter itself as a child, stdin through a pipe, an exit status, a
# shell pipeline, a timeout
r = subprocess.run([sys.executable, "-c", "import sys; print(sys.stdin.read().upper())"],
                   input="piped through a child\n", capture_output=True, text=True)
print("child:", r.returncode, r.stdout.strip())
r = subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('err\\n'); sys.exit(3)"],
                   capture_output=True, text=True)
print("child exit status", r.returncode, "stderr", r.stderr.strip())
p = subprocess.Popen("echo a b c | /bin/sh -c 'read x y z; echo $z$y$x'", shell=True,
                     stdout=subprocess.PIPE, text=True)
print("shell:", p.communicate()[0].strip(), p.returncode)
try:
    subprocess.run([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)
except subprocess.TimeoutExpired:
    print("timeout: the child was killed")
print("check_output:", subprocess.check_output([sys.executable, "-c", "print(6 * 7)"]).strip())

# decimal: the C implementation (_decimal, libmpdec) at 50 digits, rounding, a local context,
# signals that trap
D = decimal.Decimal
decimal.getcontext().prec = 50
print("1/7 =", D(1) / D(7))
print("sqrt(2) =", D(2).sqrt())
print("exp(1) =", D(1).exp())
print("ln(10) =", D(10).ln())
print("round half even:", D("2.675").quantize(D("0.01")), D("2.665").quantize(D("0.01")))
print("round half up:", D("2.665").quantize(D("0.01"), rounding=decimal.ROUND_HALF_UP))
with decimal.localcontext() as ctx:
    ctx.prec = 6
    print("prec 6:", D(1) / D(3))
try:
    D(1) / D(0)
except decimal.DivisionByZero:
    print("DivisionByZero trapped")
print("sum of 0.1 x 10:", sum([D("0.1")] * 10), "float:", sum([0.1] * 10))
print("python done")
