package org.vmoracle.checks.sched;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;
import org.vmoracle.impl.sched.Sched;

/**
 * What one controlled run did: every scheduling point reached, in order, with the thread that
 * reached it and the operation it was running, and after each, which thread the scheduler let go
 * on. The choices alone replay the run ({@link Strategy.Kind#REPLAY}); the steps are for people.
 */
public final class Schedule {
  private int size;
  private int[] thread = new int[256];
  private int[] op = new int[256];
  private byte[] step = new byte[256];
  private boolean[] waiting = new boolean[256];
  private long[] arg = new long[256];
  private int[] chosen = new int[256];
  private final List<Integer> starts = new ArrayList<>(); // the first runner, then nothing else

  private static final Sched.Step[] STEPS = Sched.Step.values();

  /** The step of a thread's end. */
  private static final byte END = -1;

  /**
   * One point: thread {@code t} in operation {@code o} reached {@code s} on {@code a} ({@code s}
   * null: the thread ended), and then thread {@code next} was let go on (-2: none, all ended).
   */
  void add(int t, int o, Sched.Step s, long a, boolean w, int next) {
    if (size == thread.length) {
      int n = size * 2;
      thread = Arrays.copyOf(thread, n);
      op = Arrays.copyOf(op, n);
      step = Arrays.copyOf(step, n);
      waiting = Arrays.copyOf(waiting, n);
      arg = Arrays.copyOf(arg, n);
      chosen = Arrays.copyOf(chosen, n);
    }
    thread[size] = t;
    op[size] = o;
    step[size] = (byte) (s == null ? END : s.ordinal());
    waiting[size] = w;
    arg[size] = a;
    chosen[size] = next;
    size++;
  }

  /** The thread that ran first, before any point. */
  void first(int t) {
    starts.clear();
    starts.add(t);
  }

  /** Points reached. */
  public int size() {
    return size;
  }

  /**
   * The choices that replay this run: the first runner, then after each point the thread chosen.
   */
  public int[] choices() {
    int n = size > 0 && chosen[size - 1] < 0 ? size - 1 : size; // the last end chooses no one
    int[] c = new int[n + 1];
    c[0] = starts.isEmpty() ? 0 : starts.get(0);
    System.arraycopy(chosen, 0, c, 1, n);
    return c;
  }

  /** Times the running thread changed: the schedule's context switches. */
  public int switches() {
    int n = 0;
    for (int i = 0; i < size; i++) {
      n += chosen[i] >= 0 && chosen[i] != thread[i] ? 1 : 0;
    }
    return n;
  }

  /** Whether {@code other} reached the same points in the same order, with the same choices. */
  public boolean sameAs(Schedule other) {
    return size == other.size
        && Arrays.equals(Arrays.copyOf(thread, size), Arrays.copyOf(other.thread, size))
        && Arrays.equals(Arrays.copyOf(step, size), Arrays.copyOf(other.step, size))
        && Arrays.equals(Arrays.copyOf(arg, size), Arrays.copyOf(other.arg, size))
        && Arrays.equals(choices(), other.choices());
  }

  /**
   * The run as people read it, as Lincheck prints an interleaving: one line each time a thread
   * takes over or moves to its next operation, with the steps it then ran, for example {@code t1 #2
   * write 3 0x20004000 0x2000003e7: lock, pte-read 0x3a04, busy 0x1d2, copy 0x1d3}. {@code
   * describe} names thread {@code t}'s operation {@code o} as {@code describe(t)(o)}.
   */
  public List<String> lines(IntFunction<IntFunction<String>> describe) {
    List<String> out = new ArrayList<>();
    int i = 0;
    while (i < size) {
      int t = thread[i];
      int o = op[i];
      StringBuilder sb = new StringBuilder();
      sb.append('t').append(t).append(' ');
      sb.append(o < 0 ? "(start)" : "#" + o + " " + describe.apply(t).apply(o)).append(':');
      int n = 0;
      int waits = 0;
      for (; i < size && thread[i] == t && op[i] == o; i++) {
        if (waiting[i]) {
          waits++;
          if (i + 1 < size && thread[i + 1] == t && op[i + 1] == o && waiting[i + 1]) {
            continue;
          }
          sb.append(n++ == 0 ? " " : ", ").append("waits (").append(waits).append("x)");
          waits = 0;
          continue;
        }
        if (step[i] == END) {
          sb.append(n++ == 0 ? " " : ", ").append("ends");
          i++;
          break;
        }
        sb.append(n++ == 0 ? " " : ", ").append(STEPS[step[i]].word());
        if (STEPS[step[i]] != Sched.Step.LOCK && STEPS[step[i]] != Sched.Step.UNLOCK) {
          sb.append(" 0x").append(Long.toHexString(arg[i]));
        } else {
          sb.append(arg[i] == 0 ? " shared" : arg[i] == 1 ? " exclusive" : " downgraded");
        }
        if (chosen[i] != t) {
          i++;
          break;
        }
      }
      out.add(sb.toString());
    }
    return out;
  }
}
