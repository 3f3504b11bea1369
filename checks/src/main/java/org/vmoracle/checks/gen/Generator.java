package org.vmoracle.checks.gen;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
   * The kinds the mix makes that have edges ({@link #edge}): an edge operation is of any of them
   * alike, so that a kind of small weight gets its errnos as often as a heavy one.
   */
  private final List<OpKind> edgeKinds = new ArrayList<>();

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

  /** The scenario under way ({@link Mix#SCENARIO_PERCENT}, {@link Mix#WIRE_SCENARIO_PERCENT}). */
  private Scenario scenario;

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
    for (OpKind k : mix.kinds()) {
      if (mix.edgePercent > 0 && EDGES.contains(k)) {
        edgeKinds.add(k);
      }
    }
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
    if (scenario == null
        && !pids.isEmpty()
        && mix.wireScenarioPercent > 0
        && random.nextInt(100) < mix.wireScenarioPercent) {
      scenario = new Wiring(actor());
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
    if (!edgeKinds.isEmpty() && random.nextInt(100) < mix.edgePercent) {
      return edge(edgeKinds.get(random.nextInt(edgeKinds.size())), pid);
    }
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

  /** The kinds {@link #edge} makes edges of. */
  private static final Set<OpKind> EDGES =
      EnumSet.complementOf(
          EnumSet.of(OpKind.SPAWN, OpKind.FILE, OpKind.FREAD, OpKind.SHMRM, OpKind.PAGEOUT));

  /** A pid no process ever has: the generator counts pids up from 1 (ESRCH, PROC-3). */
  private static final int NO_PID = Integer.MAX_VALUE;

  /** A byte offset past the largest file, 2^35 pages (FILE-12: EFBIG). */
  private static final long PAST_LARGEST_FILE = Op.MAX_PAGES * Boot.PAGE_SIZE;

  /** Where a range or mapping crosses the first 1 GiB boundary above MMAP_BASE. */
  private static final long BELOW_GIB = (1L << 30) - Boot.PAGE_SIZE;

  /**
   * An operation of {@code kind}, one of {@link #EDGES}, from the edges of its arguments ({@link
   * Mix#EDGE_PERCENT}): what random arguments near the mappings never reach.
   */
  private Op edge(OpKind kind, int pid) {
    switch (kind) {
      case READ:
      case WRITE:
        {
          long[] words = {
            Boot.USER_MIN + random.nextInt(512) * 8L, // the bottom user page
            random.nextInt(512) * 8L, // page 0
            Boot.USER_MAX - 8, // the last word of user space
            Boot.USER_MAX + random.nextInt(512) * 8L, // just past it
            BELOW_GIB + random.nextInt(1024) * 8L, // about the 1 GiB boundary
          };
          long addr = words[random.nextInt(words.length)];
          int who = edgePid(pid);
          return kind == OpKind.READ ? new Op.Read(who, addr) : new Op.Write(who, addr, value());
        }
      case MMAP:
        return edgeMmap(pid);
      case MUNMAP:
        {
          long[] r = edgeRange();
          return new Op.Munmap(edgePid(pid), r[0], r[1]);
        }
      case MPROTECT:
        {
          if (random.nextInt(6) == 0) { // PROT-6: never writable
            return new Op.Mprotect(
                pid, Boot.SHARED_PAGE, 1, random.nextBoolean() ? Prot.RW : Prot.RWX);
          }
          long[] r = edgeRange();
          return new Op.Mprotect(edgePid(pid), r[0], r[1], pick(Prot.values()));
        }
      case MINHERIT:
        {
          long[] r = edgeRange();
          return new Op.Minherit(edgePid(pid), r[0], r[1], pick(Inherit.values()));
        }
      case MLOCK:
        {
          if (!mappings.isEmpty() && random.nextInt(4) == 0) {
            long[] m = pickSegmentMapping(); // whole 2 MiB segments take the fast path (seed 003)
            return new Op.Mlock(pid, m[0], m[1]);
          }
          long[] r = edgeRange();
          return new Op.Mlock(edgePid(pid), r[0], r[1]);
        }
      case MUNLOCK:
        {
          long[] r = edgeRange();
          return new Op.Munlock(edgePid(pid), r[0], r[1]);
        }
      case FORK:
        return random.nextBoolean() ? new Op.Fork(NO_PID, freshPid()) : new Op.Fork(pid, anyPid());
      case CLONE:
        return random.nextBoolean()
            ? new Op.Clone(NO_PID, freshPid())
            : new Op.Clone(pid, anyPid());
      case EXEC:
        return random.nextBoolean() ? new Op.Exec(NO_PID, "static") : new Op.Exec(pid, "nosuch");
      case EXIT:
        return new Op.Exit(NO_PID);
      case FWRITE:
        return new Op.Fwrite(pick(FILES), PAST_LARGEST_FILE + random.nextInt(512) * 8L, value());
      case SHMGET:
        return new Op.Shmget(KEYS[random.nextInt(KEYS.length)], 0);
      case COLLAPSE:
        return new Op.Collapse(NO_PID, wordAddress());
      case SPAWN:
      case FILE:
      case FREAD:
      case SHMRM:
      case PAGEOUT:
        break;
    }
    throw new AssertionError(kind + " has no edges");
  }

  /** The acting pid, or one in 4 times a pid no process has. */
  private int edgePid(int pid) {
    return random.nextInt(4) == 0 ? NO_PID : pid;
  }

  /**
   * A range at an edge, as {start, pages}: the bottom user page, the shared page (the top page),
   * past the top, page 0, an unaligned or empty range at a mapping, a whole 2 MiB segment, a range
   * across 1 GiB, one that ends at the top of user space.
   */
  private long[] edgeRange() {
    long at = mappings.isEmpty() ? Boot.MMAP_BASE : pickMapping()[0];
    long segment = (at + Boot.SEGMENT_SIZE - 1) & -Boot.SEGMENT_SIZE;
    switch (random.nextInt(9)) {
      case 0:
        return new long[] {Boot.USER_MIN, 1 + random.nextInt(2)};
      case 1:
        return new long[] {Boot.SHARED_PAGE, 1};
      case 2:
        return new long[] {Boot.SHARED_PAGE - random.nextInt(2) * Boot.PAGE_SIZE, 3};
      case 3:
        return new long[] {0, 1 + random.nextInt(2)};
      case 4:
        return new long[] {at + 8L * (1 + random.nextInt(511)), 1 + random.nextInt(2)};
      case 5:
        return new long[] {at, 0};
      case 6:
        return new long[] {segment, SEGMENT_PAGES * (1 + random.nextInt(2))};
      case 7:
        return new long[] {BELOW_GIB - random.nextInt(2) * Boot.PAGE_SIZE, 2 + random.nextInt(3)};
      default:
        return new long[] {Boot.USER_MAX - Boot.SEGMENT_SIZE, SEGMENT_PAGES};
    }
  }

  /**
   * An mmap at an edge: fixed at the bottom user page, just below the shared page or over it, at
   * page 0, across 1 GiB, an unaligned hint, no pages, more pages than there is room for, whole 2
   * MiB segments, or by a pid no process has.
   */
  private Op edgeMmap(int pid) {
    Op.Mmap m = (Op.Mmap) mmap(pid); // its sharing, source and protection
    long pages = 1 + random.nextInt(3);
    long addr;
    boolean fixed = true;
    switch (random.nextInt(9)) {
      case 0:
        addr = Boot.USER_MIN;
        break;
      case 1:
        addr = Boot.PLACE_MAX - pages * Boot.PAGE_SIZE;
        break;
      case 2:
        addr = Boot.SHARED_PAGE;
        pages = 1;
        break;
      case 3:
        addr = 0;
        break;
      case 4:
        addr = BELOW_GIB;
        break;
      case 5:
        addr = Boot.MMAP_BASE + 8L * (1 + random.nextInt(511));
        fixed = random.nextBoolean();
        break;
      case 6:
        addr = 0;
        fixed = false;
        pages = random.nextBoolean() ? 0 : Op.MAX_PAGES;
        break;
      case 7:
        addr = 0;
        fixed = false;
        pages = SEGMENT_PAGES * (1 + random.nextInt(2));
        break;
      default:
        return new Op.Mmap(NO_PID, 0, pages, m.prot(), m.sharing(), m.source(), false);
    }
    return new Op.Mmap(pid, addr, pages, m.prot(), m.sharing(), m.source(), fixed);
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
  /**
   * A script of operations that random ones reach too rarely, over one fresh mapping of one process
   * and, after a fork, its child; one runs at a time. It gives up when an operation it needs fails
   * (no room, too many processes, no file).
   */
  private abstract class Scenario {
    final int pid;
    int child = -1;
    long addr = -1;
    long pages;
    int stage;
    int rounds;
    private boolean failed;
    private Op mapping; // the mmap whose answer is addr

    Scenario(int pid, int rounds) {
      this.pid = pid;
      this.rounds = rounds;
    }

    /** The scenario's next operation; null when it is over. */
    final Op next() {
      return failed ? null : step(stage++);
    }

    /** The operation of stage {@code n}; null when the scenario is over. */
    abstract Op step(int n);

    /** The scenario's mapping of {@code pages} pages, remembered for the acting process. */
    final Op map(Sharing sharing, Source source) {
      mappings = mapped.get(pid); // where observe remembers the mapping
      mapping = new Op.Mmap(pid, 0, pages, Prot.RW, sharing, source, false);
      return mapping;
    }

    /** The fork after which parent and child share the range; null with too many processes. */
    final Op fork() {
      if (pids.size() >= mix.maxProcesses) {
        return null;
      }
      child = freshPid();
      return new Op.Fork(pid, child);
    }

    /** A word in a page of the range. */
    final long page() {
      long first = random.nextLong(pages);
      return addr + first * Boot.PAGE_SIZE + random.nextInt(4) * 8L;
    }

    final void observe(Op op, Result result) {
      if (op == mapping) {
        if (result instanceof Result.Value) {
          addr = ((Result.Value) result).value();
        } else {
          failed = true;
        }
      } else if ((op instanceof Op.Fork || op instanceof Op.File) && !result.succeeded()) {
        failed = true;
      }
    }
  }

  private final class Inheritance extends Scenario {
    Inheritance(int pid) {
      super(pid, 4 + random.nextInt(8));
    }

    @Override
    Op step(int at) {
      switch (at) {
        case 0:
          {
            mappings = mapped.get(pid);
            Op.Mmap m = (Op.Mmap) mmap(pid); // for its sharing and source, drawn as any mmap's
            pages = 2 + random.nextInt(4);
            return map(m.sharing(), m.source());
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
          return fork();
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
  }

  /**
   * One wiring scenario ({@link Mix#WIRE_SCENARIO_PERCENT}): a fresh private mapping, writable, of
   * a file or of anonymous memory; loads from some of its pages, which map them read-only; mlock
   * over part of it, which must copy those pages (WIRE-2); a store to the file under it, which the
   * wired copies must not see (FILE-7); a fork, after which the wired pages are shared with a child
   * that does not inherit the wiring (FORK-3); then stores and loads by both, mprotect to read-only
   * and back (WIRE-10), munlock, and file stores again. It gives up when an operation it needs
   * fails.
   */
  private final class Wiring extends Scenario {
    private final String file = random.nextInt(3) == 0 ? null : FILES[random.nextInt(3)];

    Wiring(int pid) {
      super(pid, 6 + random.nextInt(8));
      pages = 2 + random.nextInt(4);
      stage = file == null ? 1 : 0;
    }

    @Override
    Op step(int at) {
      switch (at) {
        case 0:
          return new Op.File(file, pages + random.nextInt(2));
        case 1:
          return map(
              Sharing.PRIVATE, file == null ? new Source.Anon() : new Source.FileRange(file, 0));
        case 2:
        case 3:
          return new Op.Read(pid, page());
        case 4:
          {
            long first = random.nextInt(2);
            return new Op.Mlock(pid, addr + first * Boot.PAGE_SIZE, pages - first);
          }
        case 5:
          return fileStore();
        case 6:
          return fork();
        default:
          if (rounds-- == 0) {
            return null;
          }
          switch (random.nextInt(8)) {
            case 0:
              return new Op.Mprotect(pid, addr, pages, random.nextBoolean() ? Prot.R : Prot.RW);
            case 1:
              return new Op.Munlock(pid, addr, 1 + random.nextInt((int) pages));
            case 2:
              return fileStore();
            default:
              int who = random.nextBoolean() ? pid : child;
              return random.nextBoolean()
                  ? new Op.Write(who, page(), value())
                  : new Op.Read(who, page());
          }
      }
    }

    /** A store through the file to a page under the mapping, or a load for anonymous memory. */
    private Op fileStore() {
      if (file == null) {
        return new Op.Read(pid, page());
      }
      return new Op.Fwrite(file, random.nextLong(pages) * Boot.PAGE_SIZE, value());
    }
  }
}
