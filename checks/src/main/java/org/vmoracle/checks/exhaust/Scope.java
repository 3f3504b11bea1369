package org.vmoracle.checks.exhaust;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * A small universe for {@code vmoracle exhaust}: a few pids, one file, one segment key, two values,
 * and every operation over them whose arguments fall in the classes that matter (ACE's and
 * SibylFS's way of choosing arguments): ranges that start or end inside a mapping or straddle two,
 * a whole segment, the first and last page of user space, a file's last page, misaligned and empty
 * ranges, and store/fork in either order (which the search's every-order gives for free).
 *
 * <p>The alphabet is closed under permuting {@link #pids} and {@link #values}: every operation that
 * names one pid or value exists for each of them, with the others permuted alike. That is what
 * makes the search's symmetry reduction sound ({@code Canon}).
 *
 * <p>A scope also fixes the implementation's settings: few frames and a collapse depth of 2, so
 * that pageout, swap and collapse are reached within a handful of operations, and a prelude (run
 * before depth 0: a process and a file exist) so that the depth is spent on what matters.
 *
 * @param word its name on the command line
 * @param description one line for {@code --help} and the report
 * @param pids the symmetric pids (none: no reduction by pid)
 * @param values the symmetric values stored (none: no reduction by value)
 * @param prelude operations every path starts with, not counted in the depth
 * @param ops the alphabet: every operation tried in every state
 * @param config the implementation's settings
 */
public record Scope(
    String word,
    String description,
    int[] pids,
    long[] values,
    List<Op> prelude,
    List<Op> ops,
    Config config) {

  /** The base address of every fixed mapping: segment-aligned, where placement starts. */
  public static final long BASE = Boot.MMAP_BASE;

  /** The file every scope maps: two pages, made by the prelude. */
  public static final String FILE = "f";

  /** The segment key. */
  public static final long KEY = 7;

  private static final long P = Boot.PAGE_SIZE;

  public Scope {
    pids = pids.clone();
    values = values.clone();
    prelude = List.copyOf(prelude);
    ops = List.copyOf(ops);
  }

  @Override
  public int[] pids() {
    return pids.clone();
  }

  @Override
  public long[] values() {
    return values.clone();
  }

  /** The scopes, by name. */
  public static Map<String, Scope> all() {
    Map<String, Scope> m = new LinkedHashMap<>();
    for (Scope s : List.of(small(), fork(), chain(), file(), wire(), shm(), pressure())) {
      m.put(s.word(), s);
    }
    return m;
  }

  /** The scope named {@code word}. */
  public static Optional<Scope> named(String word) {
    return Optional.ofNullable(all().get(word));
  }

  /** The scope names, comma-separated, for messages. */
  public static String names() {
    return String.join(", ", all().keySet());
  }

  /**
   * This scope without symmetry reduction: no pids or values are taken as interchangeable, so
   * states that differ only by them are searched apart (the switch that turns the reduction off, to
   * check it against).
   */
  public Scope withoutSymmetry() {
    return new Scope(word, description, new int[0], new long[0], prelude, ops, config);
  }

  /** Whether states are reduced by symmetry over {@link #pids} and {@link #values}. */
  public boolean symmetric() {
    return pids.length > 0 || values.length > 0;
  }

  /** This scope with the implementation's settings {@code c}. */
  public Scope withConfig(Config c) {
    return new Scope(word, description, pids, values, prelude, ops, c);
  }

  /** How many operations the alphabet has of each kind, for the report. */
  public String shape() {
    Map<String, Long> kinds =
        ops.stream()
            .collect(
                Collectors.groupingBy(
                    o -> o.toString().split(" ", 2)[0], LinkedHashMap::new, Collectors.counting()));
    return kinds.entrySet().stream()
        .map(e -> e.getKey() + " " + e.getValue())
        .collect(Collectors.joining(", "));
  }

  // ------------------------------------------------------------------ the scopes

  /** Settings of every scope: 32 frames, 64 swap slots, collapse past a depth of 2. */
  static Config baseConfig() {
    return Config.defaults().withFrames(32).withSwapSlots(64).withCollapseDepth(2);
  }

  private static final long[] VALUES = {0x5151, 0x7272};

  /**
   * Every operation kind on two pids: two adjacent mappings at {@link #BASE} (two pages, then one),
   * of every source and sharing, and the ranges over them; the top and bottom of user space; the
   * file and the segment; pageout and collapse.
   */
  static Scope small() {
    Alphabet a = new Alphabet(new int[] {1, 2}, VALUES);
    a.processes(false); // exec is the fork scope's: an image's view is 10,000 words to compare
    a.mappings(true);
    a.ranges();
    a.accesses(new long[] {BASE, BASE + P, BASE + 2 * P});
    a.edges();
    a.files();
    a.segment(2);
    a.system();
    return a.scope("small", "every operation on 2 pids, 2 mappings, 1 file, 1 segment");
  }

  /**
   * Fork, clone, exit and exec over private and shared memory, with inheritance. Two pids: a third
   * costs a depth, and exiting one and forking it again from the other makes generations.
   */
  static Scope fork() {
    Alphabet a = new Alphabet(new int[] {1, 2}, VALUES);
    a.processes(true);
    a.add(
        pid ->
            List.of(
                mmap(pid, BASE, 2, Prot.RW, Sharing.PRIVATE, new Source.Anon()),
                mmap(pid, BASE, 2, Prot.RW, Sharing.SHARED, new Source.Anon()),
                mmap(pid, BASE, 2, Prot.RW, Sharing.PRIVATE, new Source.FileRange(FILE, 0)),
                new Op.Minherit(pid, BASE + P, 1, Inherit.SHARE),
                new Op.Minherit(pid, BASE, 2, Inherit.COPY),
                new Op.Minherit(pid, BASE, 2, Inherit.NONE),
                new Op.Minherit(pid, BASE + P, 1, Inherit.ZERO),
                new Op.Mlock(pid, BASE, 1)));
    a.accesses(new long[] {BASE, BASE + P});
    a.add(pid -> List.of(new Op.Collapse(pid, BASE), new Op.Collapse(pid, BASE + P)));
    a.global(List.of(new Op.Pageout(1000)));
    return a.scope("fork", "fork, clone, exit, exec, minherit and stores on 2 pids, 1 mapping");
  }

  /**
   * Backing chains past the collapse depth (2 here, COW-3, SYS-2): generation after generation of
   * fork, store and exit over a private mapping of a file, with pageout and collapse. Few
   * operations, so the search gets deep.
   */
  static Scope chain() {
    Alphabet a = new Alphabet(new int[] {1, 2}, VALUES);
    a.forkAndExit();
    a.add(
        pid ->
            List.of(
                mmap(pid, BASE, 2, Prot.RW, Sharing.PRIVATE, new Source.FileRange(FILE, 0)),
                new Op.Collapse(pid, BASE)));
    a.accesses(new long[] {BASE, BASE + P});
    a.global(List.of(new Op.Pageout(1000)));
    return a.scope("chain", "generations of fork, store and exit over a private file mapping");
  }

  /** A private and a shared mapping of one file, truncated and grown, written both ways. */
  static Scope file() {
    Alphabet a = new Alphabet(new int[] {1, 2}, VALUES);
    a.forkAndExit();
    a.add(
        pid ->
            List.of(
                mmap(pid, BASE, 2, Prot.RW, Sharing.PRIVATE, new Source.FileRange(FILE, 0)),
                mmap(pid, BASE, 2, Prot.R, Sharing.PRIVATE, new Source.FileRange(FILE, 0)),
                mmap(pid, BASE, 2, Prot.RW, Sharing.SHARED, new Source.FileRange(FILE, 0)),
                new Op.Mprotect(pid, BASE, 2, Prot.RW),
                new Op.Mlock(pid, BASE, 2),
                new Op.Munlock(pid, BASE, 2),
                new Op.Munmap(pid, BASE + P, 1)));
    a.accesses(new long[] {BASE, BASE + P});
    a.files();
    a.add(pid -> List.of(new Op.Collapse(pid, BASE)));
    a.global(List.of(new Op.Pageout(1000)));
    return a.scope(
        "file", "private and shared mappings of a file that is truncated, grown, written");
  }

  /** mlock and munlock over private, shared and file memory, with mprotect, fork and pageout. */
  static Scope wire() {
    Alphabet a = new Alphabet(new int[] {1, 2}, VALUES);
    a.forkAndExit();
    a.add(
        pid ->
            List.of(
                mmap(pid, BASE, 2, Prot.RW, Sharing.PRIVATE, new Source.Anon()),
                mmap(pid, BASE, 2, Prot.R, Sharing.PRIVATE, new Source.FileRange(FILE, 0)),
                mmap(pid, BASE, 2, Prot.RW, Sharing.SHARED, new Source.FileRange(FILE, 0)),
                mmap(pid, BASE, 512, Prot.RW, Sharing.PRIVATE, new Source.Anon()),
                new Op.Mlock(pid, BASE, 2),
                new Op.Mlock(pid, BASE + P, 1),
                new Op.Mlock(pid, BASE, 512),
                new Op.Munlock(pid, BASE, 2),
                new Op.Mprotect(pid, BASE, 1, Prot.R),
                new Op.Mprotect(pid, BASE, 2, Prot.RW),
                new Op.Munmap(pid, BASE + P, 1)));
    a.accesses(new long[] {BASE, BASE + P});
    a.add(pid -> List.of(new Op.Collapse(pid, BASE)));
    a.global(
        List.of(
            new Op.Fwrite(FILE, 0, VALUES[0]),
            new Op.Fwrite(FILE, 0, VALUES[1]),
            new Op.Pageout(1000)));
    return a.scope("wire", "mlock, munlock, mprotect and fork over private, file and 2 MiB memory")
        .withConfig(baseConfig().withFrames(1024).withSwapSlots(1024));
  }

  /**
   * A whole-segment (2 MiB) shared-memory segment mapped shared and private by two pids, with page
   * tables shared between them (seed 001).
   */
  static Scope shm() {
    Alphabet a = new Alphabet(new int[] {1, 2}, VALUES);
    a.processes(false);
    long seg = Boot.SEGMENT_SIZE / P;
    long above = BASE + Boot.SEGMENT_SIZE;
    a.add(
        pid ->
            List.of(
                mmap(pid, BASE, seg, Prot.RW, Sharing.SHARED, new Source.Shm(KEY)),
                mmap(pid, above, seg, Prot.RW, Sharing.PRIVATE, new Source.Shm(KEY)),
                new Op.Munmap(pid, BASE, 1),
                new Op.Munmap(pid, BASE, seg),
                new Op.Mprotect(pid, BASE, seg, Prot.R)));
    a.accesses(new long[] {BASE, BASE + (seg - 1) * P, above});
    a.segment(seg);
    a.global(List.of(new Op.Pageout(1000)));
    return a.scope(
            "shm",
            "a 2 MiB shared-memory segment mapped shared and, a segment above, private;"
                + " page tables shared")
        .withConfig(baseConfig().withFrames(64).with(Config.Switch.SHARE_PAGE_TABLES, true));
  }

  /** Private memory in 16 frames: stores, forks and pageout meet out-of-memory and swap. */
  static Scope pressure() {
    Alphabet a = new Alphabet(new int[] {1, 2}, VALUES);
    a.forkAndExit();
    a.add(
        pid ->
            List.of(
                mmap(pid, BASE, 4, Prot.RW, Sharing.PRIVATE, new Source.Anon()),
                mmap(pid, BASE, 4, Prot.RW, Sharing.SHARED, new Source.Anon()),
                new Op.Mlock(pid, BASE, 4),
                new Op.Munlock(pid, BASE, 4),
                new Op.Minherit(pid, BASE, 4, Inherit.NONE)));
    a.accesses(new long[] {BASE, BASE + P, BASE + 2 * P, BASE + 3 * P});
    a.global(List.of(new Op.Pageout(1000)));
    return a.scope("pressure", "stores, forks and pageout of 4-page mappings in 16 frames")
        .withConfig(baseConfig().withFrames(16).withSwapSlots(8));
  }

  private static Op mmap(int pid, long at, long pages, Prot prot, Sharing sh, Source src) {
    return new Op.Mmap(pid, at, pages, prot, sh, src, true);
  }

  /** Builds an alphabet pid by pid, so that it is closed under permuting pids and values. */
  private static final class Alphabet {
    final int[] pids;
    final long[] values;
    final List<Op> ops = new ArrayList<>();

    Alphabet(int[] pids, long[] values) {
      this.pids = pids;
      this.values = values;
    }

    interface PerPid {
      List<Op> of(int pid);
    }

    void add(PerPid f) {
      for (int p : pids) {
        ops.addAll(f.of(p));
      }
    }

    void global(List<Op> g) {
      ops.addAll(g);
    }

    /** fork to each other pid, and exit: generations without spawn, clone or exec. */
    void forkAndExit() {
      for (int p : pids) {
        for (int q : pids) {
          if (q != p) {
            ops.add(new Op.Fork(p, q));
          }
        }
        ops.add(new Op.Exit(p));
      }
    }

    /** spawn, fork and clone to each other pid, exit, and (with exec) exec of an image. */
    void processes(boolean exec) {
      for (int p : pids) {
        ops.add(new Op.Spawn(p));
        for (int q : pids) {
          if (q != p) {
            ops.add(new Op.Fork(p, q));
            ops.add(new Op.Clone(p, q));
          }
        }
        ops.add(new Op.Exit(p));
        if (exec) {
          ops.add(new Op.Exec(p, "static"));
        }
      }
    }

    /**
     * Two pages at BASE of every source and sharing (and a read-only private file mapping), one
     * page after them; with {@code errors}, a misaligned one too.
     */
    void mappings(boolean errors) {
      add(
          pid -> {
            List<Op> l = new ArrayList<>();
            l.add(mmap(pid, BASE, 2, Prot.RW, Sharing.PRIVATE, new Source.Anon()));
            l.add(mmap(pid, BASE, 2, Prot.RW, Sharing.SHARED, new Source.Anon()));
            l.add(mmap(pid, BASE, 2, Prot.RW, Sharing.PRIVATE, new Source.FileRange(FILE, 0)));
            l.add(mmap(pid, BASE, 2, Prot.R, Sharing.PRIVATE, new Source.FileRange(FILE, 0)));
            l.add(mmap(pid, BASE, 2, Prot.RW, Sharing.SHARED, new Source.FileRange(FILE, 0)));
            l.add(mmap(pid, BASE, 2, Prot.RW, Sharing.SHARED, new Source.Shm(KEY)));
            l.add(mmap(pid, BASE + 2 * P, 1, Prot.RW, Sharing.PRIVATE, new Source.Anon()));
            if (errors) {
              l.add(mmap(pid, BASE + 8, 1, Prot.RW, Sharing.PRIVATE, new Source.Anon()));
            }
            return l;
          });
    }

    /**
     * Ranges over the two mappings: the first page (ends inside), the second and third (straddles
     * both), all three; for munmap, mprotect, minherit, mlock and munlock.
     */
    void ranges() {
      add(
          pid ->
              List.of(
                  new Op.Munmap(pid, BASE, 1),
                  new Op.Munmap(pid, BASE + P, 2),
                  new Op.Mprotect(pid, BASE, 1, Prot.R),
                  new Op.Mprotect(pid, BASE + P, 2, Prot.NONE),
                  new Op.Mprotect(pid, BASE, 3, Prot.RW),
                  new Op.Minherit(pid, BASE, 3, Inherit.SHARE),
                  new Op.Minherit(pid, BASE, 3, Inherit.NONE),
                  new Op.Minherit(pid, BASE + P, 2, Inherit.ZERO),
                  new Op.Minherit(pid, BASE + P, 2, Inherit.COPY),
                  new Op.Mlock(pid, BASE, 3),
                  new Op.Mlock(pid, BASE + P, 1),
                  new Op.Munlock(pid, BASE, 3)));
    }

    /** A read of each address, and a store of each value to it. */
    void accesses(long[] addrs) {
      add(
          pid -> {
            List<Op> l = new ArrayList<>();
            for (long at : addrs) {
              l.add(new Op.Read(pid, at));
              for (long v : values) {
                l.add(new Op.Write(pid, at, v));
              }
            }
            return l;
          });
    }

    /**
     * The first and last page of user space: a mapping of each, a store to the last word, and
     * ranges that run past the end (EINVAL for munmap, ENOMEM for mprotect). The last page is where
     * the shared page lies (BOOT-2): read, unmapped, or mapped over.
     */
    void edges() {
      long top = Boot.USER_MAX - P;
      add(
          pid ->
              List.of(
                  mmap(pid, Boot.USER_MIN, 1, Prot.RW, Sharing.PRIVATE, new Source.Anon()),
                  mmap(pid, top, 1, Prot.RW, Sharing.PRIVATE, new Source.Anon()),
                  new Op.Read(pid, Boot.USER_MIN),
                  new Op.Read(pid, top),
                  new Op.Munmap(pid, top, 1),
                  new Op.Write(pid, Boot.USER_MAX - Boot.WORD_SIZE, values[0]),
                  new Op.Write(pid, Boot.USER_MAX - Boot.WORD_SIZE, values[1]),
                  new Op.Munmap(pid, top, 2),
                  new Op.Mprotect(pid, top, 2, Prot.R)));
    }

    /** The file truncated to its first page and grown back, and written at its last page. */
    void files() {
      ops.add(new Op.File(FILE, 1));
      ops.add(new Op.File(FILE, 2));
      for (long v : values) {
        ops.add(new Op.Fwrite(FILE, 0, v));
        ops.add(new Op.Fwrite(FILE, P, v));
      }
      ops.add(new Op.Fread(FILE, P));
    }

    /** The segment made ({@code pages} pages) and removed. */
    void segment(long pages) {
      ops.add(new Op.Shmget(KEY, pages));
      ops.add(new Op.Shmrm(KEY));
    }

    /** Pageout of everything, and collapse at BASE. */
    void system() {
      ops.add(new Op.Pageout(1000));
      add(pid -> List.of(new Op.Collapse(pid, BASE)));
    }

    Scope scope(String word, String description) {
      List<Op> prelude = List.of(new Op.Spawn(pids[0]), new Op.File(FILE, 2));
      return new Scope(word, description, pids, values, prelude, ops, baseConfig());
    }
  }

  @Override
  public String toString() {
    return word
        + ": "
        + description
        + " (pids "
        + Arrays.toString(pids)
        + ", "
        + ops.size()
        + " operations)";
  }
}
