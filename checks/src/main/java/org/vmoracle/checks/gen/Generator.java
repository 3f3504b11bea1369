package org.vmoracle.checks.gen;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * A seeded, weighted, state-aware generator of operations: the same seed and {@link Mix} give the
 * same operations for the same results. It learns from what the system answers ({@link #observe}):
 * which pids are alive, where mappings were placed, and aims most accesses and range operations at
 * them, with some at their edges and at unmapped addresses. What it makes, and how often, is its
 * mix ({@link Mix#MIXED} unless told; the hunting profiles of {@link Profile} have their own).
 *
 * <p>Not thread-safe; one generator drives one sequential run.
 */
public final class Generator {

  /** Most mappings remembered: older ones are forgotten first. */
  private static final int MAX_MAPPINGS = 64;

  /** Pages of a whole 2 MiB segment: shared page tables need mappings this large (seed 001). */
  private static final int SEGMENT_PAGES = 512;

  private static final String[] FILES = {"f0", "f1", "f2", "bin/static", "lib/libc"};
  private static final long[] KEYS = {1, 2, 3};

  private final SplittableRandom random;
  private final Mix mix;
  private final int[] weights = new int[ORDER.length];
  private final int totalWeight;
  private final List<Integer> pids = new ArrayList<>();

  /**
   * What each pid has mapped, as {start, pages, origin}: origin numbers the mmap a mapping came
   * from, which a fork's child keeps. Clones share one list, as they share a map.
   */
  private final Map<Integer, List<long[]>> mapped = new HashMap<>();

  /** The pages of each shm key made and not removed, as far as the answers told (seed 001). */
  private final Map<Long, Long> keyPages = new HashMap<>();

  private List<long[]> mappings = new ArrayList<>();
  private int nextPid;
  private Op last;

  /** The scenario under way ({@link Mix#SCENARIO_PERCENT}), or null. */
  private Inheritance scenario;

  /** Numbers the mmaps remembered, so that a fork's copy of a mapping keeps its origin. */
  private long nextOrigin;

  /**
   * Accesses queued by {@link #probeVisibility}, made before anything new. Each names a process
   * alive when queued; one that exits meanwhile just answers ESRCH.
   */
  private final ArrayDeque<Op> pending = new ArrayDeque<>();

  /** Whether the operation {@link #next} gave last came from {@link #pending}. */
  private boolean queued;

  /** The original mix ({@link Mix#MIXED}), pids from 1. */
  public Generator(long seed) {
    this(seed, 1);
  }

  /**
   * A generator whose pids start at {@code firstPid}: generators with disjoint pid ranges can drive
   * one system from several threads without touching each other's processes.
   */
  public Generator(long seed, int firstPid) {
    this(seed, firstPid, Mix.MIXED);
  }

  /** A generator of {@code mix}, pids from {@code firstPid}. */
  public Generator(long seed, int firstPid, Mix mix) {
    this.random = new SplittableRandom(seed);
    this.nextPid = firstPid;
    this.mix = mix;
    int total = 0;
    for (int i = 0; i < ORDER.length; i++) {
      weights[i] = mix.weight(ORDER[i]);
      total += weights[i];
    }
    if (total <= 0) {
      throw new IllegalArgumentException("a mix with every weight 0 makes nothing");
    }
    this.totalWeight = total;
  }

  /** The next operation to run. Call {@link #observe} with its result before asking again. */
  public Op next() {
    queued = !pending.isEmpty();
    if (queued) {
      last = pending.poll();
      return last;
    }
    if (scenario == null
        && !pids.isEmpty()
        && mix.scenarioPercent > 0
        && random.nextInt(100) < mix.scenarioPercent) {
      scenario = new Inheritance(actor());
    }
    Op scripted = scenario == null ? null : scenario.next();
    if (scripted == null) {
      scenario = null;
    }
    if (scripted != null) {
      last = scripted;
    } else if (!pids.isEmpty()) {
      int pid = actor();
      mappings = mapped.get(pid);
      last = choose(pid);
    } else {
      last = new Op.Spawn(freshPid());
    }
    return last;
  }

  /** The word address of a read or write; -1 for any other operation. */
  private static long accessAddress(Op op) {
    if (op instanceof Op.Read) {
      return ((Op.Read) op).addr();
    }
    if (op instanceof Op.Write) {
      return ((Op.Write) op).addr();
    }
    return -1;
  }

  /**
   * Queues a check of who sees whose stores at {@code addr} after {@code access}, with another live
   * process whose mapping there came from the same mmap (a fork's child or parent, a clone): after
   * a store, the other loads the word; after a load, the other stores to it and the first loads
   * again. Nothing is queued when no other process maps the address. Whatever the rules say each
   * should see, a system that mixes up private and shared pages answers otherwise.
   */
  private void probeVisibility(Op access, long addr) {
    boolean wrote = access instanceof Op.Write;
    int self = actorOf(access);
    long[] mine = mappingAt(self, addr);
    if (mine == null) {
      return;
    }
    List<Integer> others = new ArrayList<>();
    for (int pid : pids) {
      long[] theirs = mappingAt(pid, addr);
      if (pid != self && theirs != null && theirs[2] == mine[2]) {
        others.add(pid);
      }
    }
    if (others.isEmpty()) {
      return;
    }
    int other = others.get(random.nextInt(others.size()));
    if (wrote) {
      pending.add(new Op.Read(other, addr));
    } else {
      pending.add(new Op.Write(other, addr, value()));
      pending.add(new Op.Read(self, addr));
    }
  }

  /** The pid that acts next: any live one, or with a fork-line mix often the newest. */
  private int actor() {
    if (mix.youngestPercent > 0 && random.nextInt(100) < mix.youngestPercent) {
      return pids.get(pids.size() - 1);
    }
    return anyPid();
  }

  /** The pid of a read or write. */
  private static int actorOf(Op access) {
    return access instanceof Op.Write ? ((Op.Write) access).pid() : ((Op.Read) access).pid();
  }

  /**
   * The mapping {@code pid} remembers at {@code addr}, the latest if several (a fixed mmap over an
   * older one); null when it remembers none there, or is not alive.
   */
  private long[] mappingAt(int pid, long addr) {
    List<long[]> ms = mapped.get(pid);
    if (ms == null) {
      return null;
    }
    for (int k = ms.size() - 1; k >= 0; k--) {
      long[] m = ms.get(k);
      if (addr >= m[0] && addr < m[0] + m[1] * Boot.PAGE_SIZE) {
        return m;
      }
    }
    return null;
  }

  /** Learns from the result of the operation {@link #next} gave last. */
  public void observe(Op op, Result result) {
    if (scenario != null) {
      scenario.observe(op, result);
    }
    if (!result.succeeded()) {
      return;
    }
    if (op instanceof Op.Shmget) {
      keyPages.putIfAbsent(((Op.Shmget) op).key(), ((Op.Shmget) op).pages());
    } else if (op instanceof Op.Shmrm) {
      keyPages.remove(((Op.Shmrm) op).key());
    }
    if (op instanceof Op.Spawn) {
      pids.add(((Op.Spawn) op).pid());
      mapped.put(((Op.Spawn) op).pid(), new ArrayList<>());
    } else if (op instanceof Op.Fork) {
      Op.Fork f = (Op.Fork) op;
      pids.add(f.child());
      mapped.put(f.child(), new ArrayList<>(mapped.get(f.parent())));
    } else if (op instanceof Op.Clone) {
      Op.Clone c = (Op.Clone) op;
      pids.add(c.child());
      mapped.put(c.child(), mapped.get(c.parent()));
    } else if (op instanceof Op.Exit) {
      pids.remove(Integer.valueOf(((Op.Exit) op).pid()));
      mapped.remove(((Op.Exit) op).pid());
    } else if (op instanceof Op.Mmap && result instanceof Result.Value) {
      Op.Mmap m = (Op.Mmap) op;
      long at = ((Result.Value) result).value();
      remember(at, m.pages());
      if (m.pages() == SEGMENT_PAGES
          && m.source() instanceof Source.Shm
          && mix.shareSegmentPercent > 0
          && !queued // a sharer it queued draws no sharers of its own
          && random.nextInt(100) < mix.shareSegmentPercent) {
        shareSegment(m, at);
      }
      boolean fresh = m.source() instanceof Source.Anon || m.source() instanceof Source.Shm;
      if (m.pages() % SEGMENT_PAGES == 0 && fresh && wireSegment()) {
        pending.add(new Op.Mlock(m.pid(), at, m.pages())); // wired before any page is touched
      }
    } else if (op instanceof Op.Exec) {
      mappings = new ArrayList<>();
      mapped.put(((Op.Exec) op).pid(), mappings);
      remember(0x400000L, 24);
      remember(Boot.STACK_TOP - Boot.STACK_PAGES * Boot.PAGE_SIZE, Boot.STACK_PAGES);
    }
  }

  private void remember(long start, long pages) {
    if (mappings.size() == MAX_MAPPINGS) {
      mappings.remove(0);
    }
    mappings.add(new long[] {start, pages, nextOrigin++});
  }

  /**
   * The order in which weights are laid out on [0, total): the order of the original generator, so
   * {@link Mix#MIXED} draws exactly what it always drew for a seed.
   */
  private static final OpKind[] ORDER = {
    OpKind.READ,
    OpKind.WRITE,
    OpKind.MMAP,
    OpKind.MUNMAP,
    OpKind.MPROTECT,
    OpKind.MINHERIT,
    OpKind.MLOCK,
    OpKind.MUNLOCK,
    OpKind.FORK,
    OpKind.CLONE,
    OpKind.EXEC,
    OpKind.EXIT,
    OpKind.SPAWN,
    OpKind.FILE,
    OpKind.FWRITE,
    OpKind.FREAD,
    OpKind.SHMGET,
    OpKind.SHMRM,
    OpKind.PAGEOUT,
    OpKind.COLLAPSE
  };

  private OpKind kind() {
    int w = random.nextInt(totalWeight);
    for (int i = 0; i < ORDER.length; i++) {
      w -= weights[i];
      if (w < 0) {
        return ORDER[i];
      }
    }
    throw new AssertionError("weights sum to " + totalWeight);
  }

  private Op choose(int pid) {
    OpKind kind = kind();
    switch (kind) {
      case READ:
        return new Op.Read(pid, wordAddress());
      case WRITE:
        return new Op.Write(pid, wordAddress(), value());
      case MMAP:
        return mmap(pid);
      case MUNMAP:
        {
          long[] r = range();
          return new Op.Munmap(pid, r[0], r[1]);
        }
      case MPROTECT:
        {
          long[] r = range();
          return new Op.Mprotect(pid, r[0], r[1], pick(Prot.values()));
        }
      case MINHERIT:
        {
          long[] r = range();
          return new Op.Minherit(pid, r[0], r[1], pick(Inherit.values()));
        }
      case MLOCK:
        {
          if (!mappings.isEmpty() && wireSegment()) {
            long[] m = pickSegmentMapping(); // the whole mapping: its segments take the fast path
            return new Op.Mlock(pid, m[0], m[1]);
          }
          long[] r = range();
          return new Op.Mlock(pid, r[0], r[1]);
        }
      case MUNLOCK:
        {
          long[] r = range();
          return new Op.Munlock(pid, r[0], r[1]);
        }
      case FORK:
        return pids.size() < mix.maxProcesses
            ? new Op.Fork(pid, freshPid())
            : new Op.Exit(exiting(pid));
      case CLONE:
        return pids.size() < mix.maxProcesses
            ? new Op.Clone(pid, freshPid())
            : new Op.Exit(exiting(pid));
      case EXEC:
        return new Op.Exec(pid, random.nextBoolean() ? "static" : "dynamic");
      case EXIT:
        return new Op.Exit(exiting(pid));
      case SPAWN:
        return new Op.Spawn(pids.size() < mix.maxProcesses ? freshPid() : pid);
      case FILE:
        return new Op.File(pick(FILES), random.nextInt(mix.filePages));
      case FWRITE:
        return new Op.Fwrite(pick(FILES), random.nextInt(mix.filePages * 512) * 8L, value());
      case FREAD:
        return new Op.Fread(pick(FILES), random.nextInt(mix.filePages * 512) * 8L);
      case SHMGET:
        return new Op.Shmget(
            KEYS[random.nextInt(KEYS.length)], segment() ? SEGMENT_PAGES : 1 + random.nextInt(4));
      case SHMRM:
        return new Op.Shmrm(KEYS[random.nextInt(KEYS.length)]);
      case PAGEOUT:
        return new Op.Pageout(random.nextInt(64));
      case COLLAPSE:
        return new Op.Collapse(pid, wordAddress());
    }
    throw new AssertionError(kind);
  }

  /** The pid an exit ends: the acting one, or with a fork-line mix sometimes the oldest. */
  private int exiting(int pid) {
    if (mix.exitOldestPercent > 0 && random.nextInt(100) < mix.exitOldestPercent) {
      return pids.get(0);
    }
    return pid;
  }

  /**
   * Seed 001's case: reads across the segment {@code m} just mapped at {@code at}, and up to three
   * other live processes mapping the same segment, queued to run next.
   */
  private void shareSegment(Op.Mmap m, long at) {
    for (int k = 0; k < 4; k++) {
      pending.add(new Op.Read(m.pid(), at + random.nextInt(SEGMENT_PAGES) * Boot.PAGE_SIZE));
    }
    int sharers = 0;
    for (int pid : pids) {
      if (pid != m.pid() && sharers < 3) {
        pending.add(
            new Op.Mmap(pid, 0, SEGMENT_PAGES, m.prot(), Sharing.SHARED, m.source(), false));
        sharers++;
      }
    }
  }

  /** Whether an anonymous mapping or an mlock takes whole 2 MiB segments this time (seed 003). */
  private boolean wireSegment() {
    return mix.wireSegmentPercent > 0 && random.nextInt(100) < mix.wireSegmentPercent;
  }

  /** Whether a segment or its mapping takes a whole 2 MiB segment this time. */
  private boolean segment() {
    return mix.segmentPercent > 0 && random.nextInt(100) < mix.segmentPercent;
  }

  private Op mmap(int pid) {
    boolean big = mix.bigOneIn > 0 && random.nextInt(mix.bigOneIn) == 0;
    long pages = 1 + random.nextInt(big ? 600 : 8);
    boolean isPrivate =
        mix.privatePercent == 50 ? random.nextBoolean() : random.nextInt(100) < mix.privatePercent;
    Sharing sharing = isPrivate ? Sharing.PRIVATE : Sharing.SHARED;
    Source source;
    int s = random.nextInt(mix.anon + mix.file + mix.shm);
    if (s < mix.anon) {
      source = new Source.Anon();
      if (wireSegment()) {
        pages = SEGMENT_PAGES * (1 + random.nextInt(2)); // placed 2 MiB aligned (MMAP-placement)
      }
    } else if (s < mix.anon + mix.file) {
      source = new Source.FileRange(pick(FILES), random.nextInt(4));
    } else {
      long key = KEYS[random.nextInt(KEYS.length)];
      source = new Source.Shm(key);
      if (segment()) {
        pages = SEGMENT_PAGES;
      } else if (mix.shareSegmentPercent > 0
          && keyPages.getOrDefault(key, 0L) >= SEGMENT_PAGES
          && random.nextInt(100) < mix.shareSegmentPercent) {
        pages = SEGMENT_PAGES; // a whole segment of a key that has one: a sharer (seed 001)
      }
    }
    long addr = 0;
    boolean fixed = false;
    int a = random.nextInt(10);
    if (a == 0 && !mappings.isEmpty()) {
      addr = range()[0];
      fixed = random.nextBoolean();
    } else if (a == 1) {
      addr = Boot.MMAP_BASE + random.nextInt(64) * Boot.PAGE_SIZE;
    }
    Prot prot = random.nextInt(4) == 0 ? pick(Prot.values()) : Prot.RW;
    return new Op.Mmap(pid, addr, pages, prot, sharing, source, fixed);
  }

  /** A page-aligned range, mostly inside or across a remembered mapping. */
  private long[] range() {
    if (mappings.isEmpty() || random.nextInt(10) == 0) {
      return new long[] {
        Boot.MMAP_BASE + random.nextInt(32) * Boot.PAGE_SIZE, 1 + random.nextInt(4)
      };
    }
    long[] m = pickMapping();
    long first = random.nextLong(m[1]);
    long pages = 1 + random.nextLong(Math.max(1, m[1] - first + (random.nextInt(4) == 0 ? 2 : 0)));
    return new long[] {m[0] + first * Boot.PAGE_SIZE, pages};
  }

  /**
   * A remembered mapping of the acting process (which must have one) of whole 2 MiB segments, or
   * any when it has none such.
   */
  private long[] pickSegmentMapping() {
    List<long[]> whole = new ArrayList<>();
    for (long[] m : mappings) {
      if (m[1] % SEGMENT_PAGES == 0) {
        whole.add(m);
      }
    }
    return whole.isEmpty() ? pickMapping() : whole.get(random.nextInt(whole.size()));
  }

  /** A remembered mapping of the acting process, which must have one. */
  private long[] pickMapping() {
    return mappings.get(random.nextInt(mappings.size()));
  }

  /** A word address, mostly inside a remembered mapping, sometimes just past one. */
  private long wordAddress() {
    if (mappings.isEmpty() || random.nextInt(20) == 0) {
      return random.nextBoolean()
          ? Boot.SHARED_PAGE + random.nextInt(512) * 8L
          : Boot.MMAP_BASE + random.nextInt(64 * 512) * 8L;
    }
    long[] m = pickMapping();
    long page = random.nextInt(8) == 0 ? m[1] : random.nextLong(Math.min(m[1], 16));
    return m[0] + page * Boot.PAGE_SIZE + random.nextInt(4) * 8L;
  }

  private long value() {
    return random.nextInt(4) == 0 ? random.nextLong() : 1 + random.nextInt(1000);
  }

  private int anyPid() {
    return pids.get(random.nextInt(pids.size()));
  }

  private int freshPid() {
    return nextPid++;
  }

  private <T> T pick(T[] xs) {
    return xs[random.nextInt(xs.length)];
  }

  /**
   * One inheritance scenario ({@link Mix#SCENARIO_PERCENT}): a fresh mapping of any source and
   * sharing, a store to one of its pages, {@code minherit} of any kind over part of it, a fork, and
   * then stores and loads by parent and child over the range, each load of the other's store
   * checked ({@link #probeVisibility}). Every combination of source, sharing, inheritance and touch
   * order is as likely as any other, where random operations leave most untried: the first touch of
   * a page after the fork is where a fault picks where the page comes from (INH, COW, FILE-7). It
   * gives up when an operation it needs fails (no room, too many processes).
   */
  private final class Inheritance {
    private final int pid;
    private int child = -1;
    private long addr = -1;
    private long pages;
    private int stage;
    private int rounds = 4 + random.nextInt(8);
    private boolean failed;

    Inheritance(int pid) {
      this.pid = pid;
    }

    /** The scenario's next operation; null when it is over. */
    Op next() {
      if (failed) {
        return null;
      }
      switch (stage++) {
        case 0:
          {
            mappings = mapped.get(pid);
            Op.Mmap m = (Op.Mmap) mmap(pid); // for its sharing and source, drawn as any mmap's
            pages = 2 + random.nextInt(4);
            return new Op.Mmap(pid, 0, pages, Prot.RW, m.sharing(), m.source(), false);
          }
        case 1:
          return new Op.Write(pid, page(), value());
        case 2:
          {
            long first = random.nextLong(pages);
            long n = 1 + random.nextLong(pages - first);
            return new Op.Minherit(pid, addr + first * Boot.PAGE_SIZE, n, pick(Inherit.values()));
          }
        case 3:
          if (pids.size() >= mix.maxProcesses) {
            return null;
          }
          child = freshPid();
          return new Op.Fork(pid, child);
        default:
          if (rounds-- == 0) {
            return null;
          }
          int who = random.nextBoolean() ? pid : child;
          Op access =
              random.nextBoolean() ? new Op.Write(who, page(), value()) : new Op.Read(who, page());
          if (random.nextBoolean()) {
            probeVisibility(access, accessAddress(access));
          }
          return access;
      }
    }

    /** A word in a page of the range. */
    private long page() {
      long first = random.nextLong(pages);
      return addr + first * Boot.PAGE_SIZE + random.nextInt(4) * 8L;
    }

    void observe(Op op, Result result) {
      if (op instanceof Op.Mmap && stage == 1) {
        if (result instanceof Result.Value) {
          addr = ((Result.Value) result).value();
        } else {
          failed = true;
        }
      } else if (op instanceof Op.Fork && !result.succeeded()) {
        failed = true;
      }
    }
  }
}
