package org.vmoracle.checks.gen;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What a {@link Generator} makes, and how often: a weight for every {@link OpKind}, and the few
 * knobs that shape the arguments (what {@code mmap} maps, how many processes live at once, whether
 * the newest process acts most, how large files and segments grow). Immutable: every {@code with…}
 * answers a new mix.
 *
 * <p>{@link #MIXED} is the generator's original mix, weights out of 100. A seed gives the same
 * operations as long as the generator and its mix do not change: a finding file's trace, not its
 * seed, is what the regression corpus keeps.
 */
public final class Mix {

  /**
   * How often, of the operations that start nothing else, an inheritance scenario starts: a fresh
   * mapping, minherit over it, a fork, and parent and child storing and loading over it ({@code
   * Generator.Inheritance}). Random operations reach a copy of shared anonymous memory in a child
   * that has stored to it and then first loads another page a few times in a million operations
   * (measured with a probe in the fault path), too rarely to see a read there filled wrongly
   * ({@code Bug.SHARED_ANON_COPY_FILLS_PRIVATELY}: no run of 200 in the mixed profile found it); at
   * 1% 11 runs of 200 did, at 3% 21. Aiming accesses at untouched pages, at recent mappings, or
   * echoing them in another process did not help: the child hardly ever touched the range.
   */
  static final int SCENARIO_PERCENT = 2;

  /**
   * How often, in percent, an operation is drawn from the edges of its arguments instead ({@code
   * Generator.edge}), its kind any of those with edges alike: the bottom and top pages of user
   * space and just past them, page 0, unaligned addresses, zero lengths, whole 2 MiB segments, a
   * range across 1 GiB, a pid no process has, a child pid taken, an unknown image, a file offset
   * past the largest file, an empty segment. Measured with {@code hunt --coverage} (mixed, seed 1,
   * 200,000 operations): without them none of these, and none of the errnos they answer (ESRCH of
   * every operation, EINVAL of mmap, munmap, mprotect and mlock, EACCES, EFBIG), was made once. At
   * 6% every one is: each errno of each kind in 0.03% to 0.3% of all operations (a kind of small
   * weight cannot give more without drowning its successes), each address class in 0.1% or more;
   * the other classes keep 70% to 100% of their share, most about 85%.
   */
  static final int EDGE_PERCENT = 6;

  /**
   * How often, of the operations that start nothing else, a wiring scenario starts ({@code
   * Generator.Wiring}): a private mapping of a file or of anonymous memory, loads from it (pages
   * mapped read-only), mlock over it, a store through the file, a fork, then stores and loads by
   * both, protection changes and munlock. {@code hunt --coverage} found mlock of writable private
   * pages mapped read-only in 0.07% of the mixed profile's operations, a file store to a page wired
   * in a private mapping in 0.02%, and a store to a wired page shared after a fork in 0.03%.
   */
  static final int WIRE_SCENARIO_PERCENT = 1;

  /**
   * The original mix. Weights are out of 100; {@code mmap} maps anonymous memory half the time, a
   * file or a segment a quarter each, private or shared by a coin; one mapping in 8 is large;
   * inheritance scenarios as {@link #SCENARIO_PERCENT} says.
   */
  public static final Mix MIXED =
      base()
          .with(OpKind.READ, 24)
          .with(OpKind.WRITE, 24)
          .with(OpKind.MMAP, 10)
          .with(OpKind.MUNMAP, 4)
          .with(OpKind.MPROTECT, 4)
          .with(OpKind.MINHERIT, 2)
          .with(OpKind.MLOCK, 3)
          .with(OpKind.MUNLOCK, 2)
          .with(OpKind.FORK, 5)
          .with(OpKind.CLONE, 1)
          .with(OpKind.EXEC, 1)
          .with(OpKind.EXIT, 3)
          .with(OpKind.SPAWN, 1)
          .with(OpKind.FILE, 2)
          .with(OpKind.FWRITE, 3)
          .with(OpKind.FREAD, 3)
          .with(OpKind.SHMGET, 2)
          .with(OpKind.SHMRM, 1)
          .with(OpKind.PAGEOUT, 2)
          .with(OpKind.COLLAPSE, 3);

  private final EnumMap<OpKind, Integer> weights;
  final int anon; // weight of anonymous mmap sources
  final int file; // weight of file mmap sources
  final int shm; // weight of segment mmap sources
  final int privatePercent; // mmap MAP_PRIVATE this often; 50 is a coin
  final int bigOneIn; // one mmap in this many is large (up to 600 pages); 0: never
  final int maxProcesses; // most processes alive at once
  final int youngestPercent; // the newest process acts this often (deep fork lines); 0: never
  final int exitOldestPercent; // an exit ends the oldest process this often; 0: never
  final int filePages; // files are made 0 to filePages - 1 pages long; fwrite and fread reach that
  final int segmentPercent; // shmget and shm mmap take a whole 2 MiB segment this often; 0: never
  final int scenarioPercent; // an inheritance scenario starts this often
  final int wireSegmentPercent; // anon mmap takes whole 2 MiB segments, mlock a whole mapping
  final int shareSegmentPercent; // a whole-segment shm mapping draws sharers this often
  final int edgePercent; // an operation is drawn from its arguments' edges this often
  final int wireScenarioPercent; // a wiring scenario starts this often

  private Mix(Knobs k) {
    if (k.anon < 0 || k.file < 0 || k.shm < 0 || k.anon + k.file + k.shm == 0) {
      throw new IllegalArgumentException("mmap source weights must be >= 0, one of them > 0");
    }
    if (k.maxProcesses < 1 || k.filePages < 1 || k.bigOneIn < 0) {
      throw new IllegalArgumentException("a mix needs processes, files of some size");
    }
    for (int p :
        new int[] {
          k.privatePercent,
          k.youngestPercent,
          k.exitOldestPercent,
          k.segmentPercent,
          k.scenarioPercent,
          k.wireSegmentPercent,
          k.shareSegmentPercent,
          k.edgePercent,
          k.wireScenarioPercent
        }) {
      if (p < 0 || p > 100) {
        throw new IllegalArgumentException("percentage " + p + " out of [0, 100]");
      }
    }
    this.weights = new EnumMap<>(k.weights);
    this.anon = k.anon;
    this.file = k.file;
    this.shm = k.shm;
    this.privatePercent = k.privatePercent;
    this.bigOneIn = k.bigOneIn;
    this.maxProcesses = k.maxProcesses;
    this.youngestPercent = k.youngestPercent;
    this.exitOldestPercent = k.exitOldestPercent;
    this.filePages = k.filePages;
    this.segmentPercent = k.segmentPercent;
    this.scenarioPercent = k.scenarioPercent;
    this.wireSegmentPercent = k.wireSegmentPercent;
    this.shareSegmentPercent = k.shareSegmentPercent;
    this.edgePercent = k.edgePercent;
    this.wireScenarioPercent = k.wireScenarioPercent;
  }

  /** A mutable copy of a mix's settings: each {@code with…} changes one and builds a new mix. */
  private static final class Knobs {
    EnumMap<OpKind, Integer> weights;
    int anon;
    int file;
    int shm;
    int privatePercent;
    int bigOneIn;
    int maxProcesses;
    int youngestPercent;
    int exitOldestPercent;
    int filePages;
    int segmentPercent;
    int scenarioPercent;
    int wireSegmentPercent;
    int shareSegmentPercent;
    int edgePercent;
    int wireScenarioPercent;

    Knobs() {}

    Knobs(Mix m) {
      weights = new EnumMap<>(m.weights);
      anon = m.anon;
      file = m.file;
      shm = m.shm;
      privatePercent = m.privatePercent;
      bigOneIn = m.bigOneIn;
      maxProcesses = m.maxProcesses;
      youngestPercent = m.youngestPercent;
      exitOldestPercent = m.exitOldestPercent;
      filePages = m.filePages;
      segmentPercent = m.segmentPercent;
      scenarioPercent = m.scenarioPercent;
      wireSegmentPercent = m.wireSegmentPercent;
      shareSegmentPercent = m.shareSegmentPercent;
      edgePercent = m.edgePercent;
      wireScenarioPercent = m.wireScenarioPercent;
    }
  }

  /** The generator's first mix, before any weight: see {@link #MIXED}. */
  private static Mix base() {
    Knobs k = new Knobs();
    k.weights = new EnumMap<>(OpKind.class);
    k.anon = 2;
    k.file = 1;
    k.shm = 1;
    k.privatePercent = 50;
    k.bigOneIn = 8;
    k.maxProcesses = 8;
    k.filePages = 5;
    k.scenarioPercent = SCENARIO_PERCENT;
    k.edgePercent = EDGE_PERCENT;
    k.wireScenarioPercent = WIRE_SCENARIO_PERCENT;
    return new Mix(k);
  }

  /** This mix with {@code kind} weighed {@code weight} (0: never made). */
  public Mix with(OpKind kind, int weight) {
    if (weight < 0) {
      throw new IllegalArgumentException("weight " + weight + " of " + kind + ": must be >= 0");
    }
    Knobs k = new Knobs(this);
    k.weights.put(kind, weight);
    return new Mix(k);
  }

  /** What {@code mmap} maps: weights of anonymous memory, files and segments, and how private. */
  public Mix withSources(int anon, int file, int shm, int privatePercent) {
    Knobs k = new Knobs(this);
    k.anon = anon;
    k.file = file;
    k.shm = shm;
    k.privatePercent = privatePercent;
    return new Mix(k);
  }

  /** One mapping in {@code oneIn} is large (up to 600 pages); 0 for never. */
  public Mix withBigMappings(int oneIn) {
    Knobs k = new Knobs(this);
    k.bigOneIn = oneIn;
    return new Mix(k);
  }

  /**
   * Fork lines: at most {@code maxProcesses} alive; the newest acts {@code youngestPercent} of the
   * time and an exit ends the oldest {@code exitOldestPercent} of the time, so chains of
   * generations grow deep while old ones die.
   */
  public Mix withProcesses(int maxProcesses, int youngestPercent, int exitOldestPercent) {
    Knobs k = new Knobs(this);
    k.maxProcesses = maxProcesses;
    k.youngestPercent = youngestPercent;
    k.exitOldestPercent = exitOldestPercent;
    return new Mix(k);
  }

  /** Files up to {@code pages - 1} pages long; fwrite and fread offsets reach as far. */
  public Mix withFilePages(int pages) {
    Knobs k = new Knobs(this);
    k.filePages = pages;
    return new Mix(k);
  }

  /** Segments and their mappings are a whole 2 MiB segment (512 pages) this often. */
  public Mix withSegments(int percent) {
    Knobs k = new Knobs(this);
    k.segmentPercent = percent;
    return new Mix(k);
  }

  /**
   * The wiring fast path's cases (seed 003): an anonymous mmap is one or two whole 2 MiB segments,
   * and an mlock wires a whole remembered mapping, each this often; 0 for never.
   */
  public Mix withWireSegments(int percent) {
    Knobs k = new Knobs(this);
    k.wireSegmentPercent = percent;
    return new Mix(k);
  }

  /**
   * Segment page-table sharing's cases (seed 001): a successful mapping of a whole 2 MiB segment of
   * shm is, this often, followed at once by reads across it and by the other live processes mapping
   * the same segment (many sharers of one table); 0 for never.
   */
  public Mix withShareSegments(int percent) {
    Knobs k = new Knobs(this);
    k.shareSegmentPercent = percent;
    return new Mix(k);
  }

  /** Inheritance scenarios start this often ({@link #SCENARIO_PERCENT}); 0 for never. */
  public Mix withScenarios(int percent) {
    Knobs k = new Knobs(this);
    k.scenarioPercent = percent;
    return new Mix(k);
  }

  /** Operations are drawn from their arguments' edges this often ({@link #EDGE_PERCENT}). */
  public Mix withEdges(int percent) {
    Knobs k = new Knobs(this);
    k.edgePercent = percent;
    return new Mix(k);
  }

  /** Wiring scenarios start this often ({@link #WIRE_SCENARIO_PERCENT}); 0 for never. */
  public Mix withWireScenarios(int percent) {
    Knobs k = new Knobs(this);
    k.wireScenarioPercent = percent;
    return new Mix(k);
  }

  /** The weight of {@code kind}; 0 when it is never made. */
  public int weight(OpKind kind) {
    return weights.getOrDefault(kind, 0);
  }

  /** Every weight, by kind (kinds never made are absent). */
  public Map<OpKind, Integer> weights() {
    Map<OpKind, Integer> w = new EnumMap<>(OpKind.class);
    weights.forEach(
        (k, v) -> {
          if (v > 0) {
            w.put(k, v);
          }
        });
    return Collections.unmodifiableMap(w);
  }

  /** The kinds this mix makes: those of positive weight, in {@link OpKind} order. */
  public List<OpKind> kinds() {
    return new ArrayList<>(weights().keySet());
  }
}
