// Runtimes.java: the JVM workloads of runtimes.bats, each printing only what must be the same
// natively and in an enclave (no timings, thread ids, GC names or heap sizes, which differ with
// the CPU count and memory the JVM sees).
//   java Runtimes threads N      N threads alive at once (a barrier), each summing its range
//   java Runtimes gc MIB LIVE    MIB MiB of garbage while LIVE MiB stay reachable: the GC runs
//   java Runtimes exceptions     exceptions thrown and caught, StackOverflowError included
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;

public class Runtimes {
  public static void main(String[] a) throws Exception {
    switch (a[0]) {
      case "threads": threads(Integer.parseInt(a[1])); break;
      case "gc": gc(Integer.parseInt(a[1]), Integer.parseInt(a[2])); break;
      case "exceptions": exceptions(); break;
      default: throw new IllegalArgumentException(a[0]);
    }
  }

  static void threads(int n) throws Exception {
    // every thread waits at the barrier until all n exist, so n really run at once
    CyclicBarrier barrier = new CyclicBarrier(n);
    AtomicInteger alive = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    long[] sums = new long[n];
    Thread[] ts = new Thread[n];
    for (int i = 0; i < n; i++) {
      final int k = i;
      ts[i] = new Thread(() -> {
        most.accumulateAndGet(alive.incrementAndGet(), Math::max);
        try {
          barrier.await();
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
        long s = 0;
        for (long j = k * 100000L; j < (k + 1) * 100000L; j++) s += j % 7;
        sums[k] = s;
        alive.decrementAndGet();
      }, "worker-" + i);
      ts[i].start();
    }
    for (Thread t : ts) t.join();
    long total = 0;
    for (long s : sums) total += s;
    System.out.println(n + " threads: at most " + most.get() + " alive at once, sum " + total);
  }

  static long collections() {
    long c = 0;
    for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans())
      c += Math.max(0, b.getCollectionCount());
    return c;
  }

  static void gc(int mib, int liveMib) {
    // LIVE MiB in 64 KiB arrays stay reachable (replaced round-robin, so old ones become
    // garbage after surviving a while); the rest is short-lived garbage of mixed sizes
    int slots = liveMib * 16;
    List<byte[]> live = new ArrayList<>();
    for (int i = 0; i < slots; i++) live.add(new byte[64 * 1024]);
    long allocated = (long) liveMib << 20, check = 0;
    long before = collections();
    for (long i = 0; allocated < ((long) mib << 20); i++) {
      byte[] b = new byte[(int) (64 + (i * 7919) % 8192)];
      b[b.length - 1] = (byte) i;
      check += b[b.length - 1] + b.length;
      allocated += b.length + 16;
      if (i % 64 == 0) {
        byte[] l = new byte[64 * 1024];
        l[0] = (byte) i;
        live.set((int) (i / 64 % slots), l);
        allocated += l.length;
      }
      if (i % 1000 == 0) check += new StringBuilder().append(i).append('x').toString().length();
    }
    long sum = 0;
    for (byte[] l : live) sum += l.length;
    System.out.println("gc: " + mib + " MiB allocated, " + (sum >> 20) + " MiB live, check " + check);
    System.out.println("the collector ran: " + (collections() > before));
    System.out.println("max heap over 1 GiB: " + (Runtime.getRuntime().maxMemory() > (1L << 30)));
  }

  static int depth(int n) {
    return depth(n + 1) + 1;
  }

  static void exceptions() throws Exception {
    try {
      throw new IllegalStateException("thrown on purpose");
    } catch (IllegalStateException e) {
      System.out.println("caught " + e);
    }
    try {
      int[] x = new int[3];
      x[Integer.parseInt("5")] = 1;
    } catch (ArrayIndexOutOfBoundsException e) {
      System.out.println("caught " + e);
    }
    try {
      int zero = Integer.parseInt("0");
      System.out.println(7 / zero);
    } catch (ArithmeticException e) {
      System.out.println("caught " + e);
    }
    try {
      // the JVM's implicit null check: a fault the JVM turns into the exception
      String s = System.getProperty("no.such.property");
      System.out.println(s.length());
    } catch (NullPointerException e) {
      System.out.println("caught NullPointerException");
    }
    try {
      Object o = "text";
      System.out.println((Integer) o);
    } catch (ClassCastException e) {
      System.out.println("caught ClassCastException");
    }
    // the stack's guard pages: the overflow is caught, twice (the guard zone is re-armed), in
    // the main thread and in a thread with a small stack of its own
    for (int round = 1; round <= 2; round++) {
      try {
        depth(0);
      } catch (StackOverflowError e) {
        System.out.println("caught StackOverflowError, round " + round);
      }
    }
    final String[] seen = new String[1];
    Thread t = new Thread(null, () -> {
      try {
        depth(0);
      } catch (StackOverflowError e) {
        seen[0] = "caught StackOverflowError in a thread with a 256 KiB stack";
      }
    }, "small-stack", 256 * 1024);
    t.start();
    t.join();
    System.out.println(seen[0]);
    // an uncaught exception in a thread: its default handler prints it, the program goes on
    Thread u = new Thread(() -> { throw new UnsupportedOperationException("in a thread"); }, "thrower");
    u.setUncaughtExceptionHandler((th, e) -> System.out.println("uncaught in " + th.getName() + ": " + e));
    u.start();
    u.join();
    try {
      Class.forName("no.such.Clazz");
    } catch (ClassNotFoundException e) {
      System.out.println("caught " + e);
    }
    System.out.println("exceptions done");
  }
}
