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
 * <p>{@link #MIXED} is the generator's original mix, weights out of 100; a generator with it makes
 * exactly the operations it always made for a seed, so earlier seeds keep their meaning.
 */
public final class Mix {

  /**
   * The original mix. Weights are out of 100; {@code mmap} maps anonymous memory half the time, a
   * file or a segment a quarter each, private or shared by a coin; one mapping in 8 is large.
   */
  public static final Mix MIXED =
      new Mix(new EnumMap<>(OpKind.class), 2, 1, 1, 50, 8, 8, 0, 0, 5, 0)
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

  private Mix(
      EnumMap<OpKind, Integer> weights,
      int anon,
      int file,
      int shm,
      int privatePercent,
      int bigOneIn,
      int maxProcesses,
      int youngestPercent,
      int exitOldestPercent,
      int filePages,
      int segmentPercent) {
    if (anon < 0 || file < 0 || shm < 0 || anon + file + shm == 0) {
      throw new IllegalArgumentException("mmap source weights must be >= 0, one of them > 0");
    }
    if (maxProcesses < 1 || filePages < 1 || bigOneIn < 0) {
      throw new IllegalArgumentException("a mix needs processes, files of some size");
    }
    for (int p : new int[] {privatePercent, youngestPercent, exitOldestPercent, segmentPercent}) {
      if (p < 0 || p > 100) {
        throw new IllegalArgumentException("percentage " + p + " out of [0, 100]");
      }
    }
    this.weights = weights;
    this.anon = anon;
    this.file = file;
    this.shm = shm;
    this.privatePercent = privatePercent;
    this.bigOneIn = bigOneIn;
    this.maxProcesses = maxProcesses;
    this.youngestPercent = youngestPercent;
    this.exitOldestPercent = exitOldestPercent;
    this.filePages = filePages;
    this.segmentPercent = segmentPercent;
  }

  /** This mix with {@code kind} weighed {@code weight} (0: never made). */
  public Mix with(OpKind kind, int weight) {
    if (weight < 0) {
      throw new IllegalArgumentException("weight " + weight + " of " + kind + ": must be >= 0");
    }
    EnumMap<OpKind, Integer> w = new EnumMap<>(weights);
    w.put(kind, weight);
    return new Mix(
        w,
        anon,
        file,
        shm,
        privatePercent,
        bigOneIn,
        maxProcesses,
        youngestPercent,
        exitOldestPercent,
        filePages,
        segmentPercent);
  }

  /** What {@code mmap} maps: weights of anonymous memory, files and segments, and how private. */
  public Mix withSources(int anon, int file, int shm, int privatePercent) {
    return new Mix(
        weights,
        anon,
        file,
        shm,
        privatePercent,
        bigOneIn,
        maxProcesses,
        youngestPercent,
        exitOldestPercent,
        filePages,
        segmentPercent);
  }

  /** One mapping in {@code oneIn} is large (up to 600 pages); 0 for never. */
  public Mix withBigMappings(int oneIn) {
    return new Mix(
        weights,
        anon,
        file,
        shm,
        privatePercent,
        oneIn,
        maxProcesses,
        youngestPercent,
        exitOldestPercent,
        filePages,
        segmentPercent);
  }

  /**
   * Fork lines: at most {@code maxProcesses} alive; the newest acts {@code youngestPercent} of the
   * time and an exit ends the oldest {@code exitOldestPercent} of the time, so chains of
   * generations grow deep while old ones die.
   */
  public Mix withProcesses(int maxProcesses, int youngestPercent, int exitOldestPercent) {
    return new Mix(
        weights,
        anon,
        file,
        shm,
        privatePercent,
        bigOneIn,
        maxProcesses,
        youngestPercent,
        exitOldestPercent,
        filePages,
        segmentPercent);
  }

  /** Files up to {@code pages - 1} pages long; fwrite and fread offsets reach as far. */
  public Mix withFilePages(int pages) {
    return new Mix(
        weights,
        anon,
        file,
        shm,
        privatePercent,
        bigOneIn,
        maxProcesses,
        youngestPercent,
        exitOldestPercent,
        pages,
        segmentPercent);
  }

  /** Segments and their mappings are a whole 2 MiB segment (512 pages) this often. */
  public Mix withSegments(int percent) {
    return new Mix(
        weights,
        anon,
        file,
        shm,
        privatePercent,
        bigOneIn,
        maxProcesses,
        youngestPercent,
        exitOldestPercent,
        filePages,
        percent);
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
