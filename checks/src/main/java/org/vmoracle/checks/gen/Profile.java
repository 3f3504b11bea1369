package org.vmoracle.checks.gen;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;
import org.vmoracle.impl.core.Config;

/**
 * A hunting profile: a {@link Mix} of operations and the implementation's {@link Config} to run
 * them on (DESIGN.md, "The checks": fork-heavy, collapse, wire, shm/segment, file/truncate,
 * pressure). {@code vmoracle hunt --profile NAME} picks one; {@code --list-profiles} lists them.
 */
public enum Profile {
  /** The generator's original mix of every operation, on roomy memory. */
  MIXED("mixed", "every operation, the generator's original mix; 2,048 frames", Mix.MIXED, roomy()),

  /** Deep fork trees: the newest process forks again while the oldest exit (FORK, INH, COW). */
  FORK(
      "fork",
      "deep fork/exit trees over private and shared memory, minherit, clone, exec",
      Mix.MIXED
          .with(OpKind.READ, 18)
          .with(OpKind.WRITE, 24)
          .with(OpKind.MMAP, 6)
          .with(OpKind.MUNMAP, 2)
          .with(OpKind.MPROTECT, 2)
          .with(OpKind.MINHERIT, 5)
          .with(OpKind.MLOCK, 1)
          .with(OpKind.MUNLOCK, 1)
          .with(OpKind.FORK, 22)
          .with(OpKind.CLONE, 2)
          .with(OpKind.EXEC, 2)
          .with(OpKind.EXIT, 12)
          .with(OpKind.SPAWN, 1)
          .with(OpKind.FILE, 1)
          .with(OpKind.FWRITE, 1)
          .with(OpKind.FREAD, 0)
          .with(OpKind.SHMGET, 1)
          .with(OpKind.SHMRM, 0)
          .with(OpKind.PAGEOUT, 1)
          .with(OpKind.COLLAPSE, 0)
          .withSources(6, 2, 1, 80)
          .withProcesses(12, 50, 50),
      roomy()),

  /**
   * Backing chains past the collapse depth (5, seed 000): generation after generation forks and
   * stores into small private mappings, with explicit {@code collapse} (SYS-2, COW-3).
   */
  COLLAPSE(
      "collapse",
      "forks with stores past the collapse depth 5 in small private mappings, collapse ops",
      Mix.MIXED
          .with(OpKind.READ, 14)
          .with(OpKind.WRITE, 34)
          .with(OpKind.MMAP, 4)
          .with(OpKind.MUNMAP, 1)
          .with(OpKind.MPROTECT, 1)
          .with(OpKind.MINHERIT, 1)
          .with(OpKind.MLOCK, 1)
          .with(OpKind.MUNLOCK, 1)
          .with(OpKind.FORK, 18)
          .with(OpKind.CLONE, 1)
          .with(OpKind.EXEC, 0)
          .with(OpKind.EXIT, 9)
          .with(OpKind.SPAWN, 1)
          .with(OpKind.FILE, 1)
          .with(OpKind.FWRITE, 1)
          .with(OpKind.FREAD, 0)
          .with(OpKind.SHMGET, 0)
          .with(OpKind.SHMRM, 0)
          .with(OpKind.PAGEOUT, 3)
          .with(OpKind.COLLAPSE, 12)
          .withSources(4, 1, 0, 95)
          .withBigMappings(0)
          .withProcesses(8, 70, 70),
      roomy()),

  /**
   * Wiring: mlock, munlock and mprotect over private file and anonymous ranges (WIRE, PROT); a
   * third of the anonymous mappings and mlocks are whole 2 MiB segments, so that the wiring fast
   * path and every demotion of its 2 MiB pages are common (seed 003). 8,192 frames (16 runs of
   * 512): with 4,096 the runs were mostly broken up or wired already, and the fast path fell back
   * to 4 KiB pages in 38 of 42 tries.
   */
  WIRE(
      "wire",
      "mlock/munlock/mprotect over private file and anon ranges, whole 2 MiB segments (seed"
          + " 003), with fork and pageout; 8,192 frames",
      Mix.MIXED
          .with(OpKind.READ, 14)
          .with(OpKind.WRITE, 20)
          .with(OpKind.MMAP, 10)
          .with(OpKind.MUNMAP, 3)
          .with(OpKind.MPROTECT, 12)
          .with(OpKind.MINHERIT, 1)
          .with(OpKind.MLOCK, 14)
          .with(OpKind.MUNLOCK, 8)
          .with(OpKind.FORK, 5)
          .with(OpKind.CLONE, 1)
          .with(OpKind.EXEC, 1)
          .with(OpKind.EXIT, 3)
          .with(OpKind.SPAWN, 1)
          .with(OpKind.FILE, 2)
          .with(OpKind.FWRITE, 2)
          .with(OpKind.FREAD, 1)
          .with(OpKind.SHMGET, 0)
          .with(OpKind.SHMRM, 0)
          .with(OpKind.PAGEOUT, 3)
          .with(OpKind.COLLAPSE, 1)
          .withSources(5, 4, 0, 90)
          .withWireSegments(30),
      roomy().withFrames(8192)),

  /** Files: private and shared file mappings, fwrite, truncation and growth (FILE). */
  FILE(
      "file",
      "private/shared file mappings, fwrite/fread, truncation and growth under them",
      Mix.MIXED
          .with(OpKind.READ, 18)
          .with(OpKind.WRITE, 16)
          .with(OpKind.MMAP, 12)
          .with(OpKind.MUNMAP, 3)
          .with(OpKind.MPROTECT, 2)
          .with(OpKind.MINHERIT, 1)
          .with(OpKind.MLOCK, 2)
          .with(OpKind.MUNLOCK, 1)
          .with(OpKind.FORK, 5)
          .with(OpKind.CLONE, 0)
          .with(OpKind.EXEC, 1)
          .with(OpKind.EXIT, 3)
          .with(OpKind.SPAWN, 1)
          .with(OpKind.FILE, 10)
          .with(OpKind.FWRITE, 12)
          .with(OpKind.FREAD, 8)
          .with(OpKind.SHMGET, 0)
          .with(OpKind.SHMRM, 0)
          .with(OpKind.PAGEOUT, 3)
          .with(OpKind.COLLAPSE, 1)
          .withSources(1, 8, 0, 50)
          .withFilePages(9),
      roomy()),

  /** Shared memory: segments of a few pages and of a whole 2 MiB, mapped shared and private. */
  SHM(
      "shm",
      "shmget/shmrm, segments mapped shared and private, 2 MiB segments (seed 001); 4,096 frames",
      Mix.MIXED
          .with(OpKind.READ, 18)
          .with(OpKind.WRITE, 20)
          .with(OpKind.MMAP, 14)
          .with(OpKind.MUNMAP, 5)
          .with(OpKind.MPROTECT, 2)
          .with(OpKind.MINHERIT, 2)
          .with(OpKind.MLOCK, 2)
          .with(OpKind.MUNLOCK, 1)
          .with(OpKind.FORK, 6)
          .with(OpKind.CLONE, 2)
          .with(OpKind.EXEC, 1)
          .with(OpKind.EXIT, 4)
          .with(OpKind.SPAWN, 1)
          .with(OpKind.FILE, 0)
          .with(OpKind.FWRITE, 0)
          .with(OpKind.FREAD, 0)
          .with(OpKind.SHMGET, 9)
          .with(OpKind.SHMRM, 5)
          .with(OpKind.PAGEOUT, 3)
          .with(OpKind.COLLAPSE, 1)
          .withSources(1, 0, 6, 25)
          .withSegments(25)
          .withWireSegments(15)
          .withShareSegments(50),
      roomy().withFrames(4096)),

  /**
   * The mixed workload in 128 frames (512 KiB): pageout, swap and out-of-memory answers run all the
   * time (SYS-1, MEM-1, MEM-2, WIRE-7).
   */
  PRESSURE(
      "pressure",
      "the mixed workload in 128 frames: pageout, swap-in and out-of-memory paths",
      Mix.MIXED,
      Config.defaults().withFrames(128).withSwapSlots(2048));

  private final String word;
  private final String description;
  private final Mix mix;
  private final Config config;

  Profile(String word, String description, Mix mix, Config config) {
    this.word = word;
    this.description = description;
    this.mix = mix;
    this.config = config;
  }

  /**
   * 2,048 frames (8 MiB): room for every mapping the generator makes at once, small enough that a
   * fresh system per run (and per shrinking attempt) costs little.
   */
  private static Config roomy() {
    return Config.defaults().withFrames(2048).withSwapSlots(4096);
  }

  /** The profile's name on the command line. */
  public String word() {
    return word;
  }

  public String description() {
    return description;
  }

  public Mix mix() {
    return mix;
  }

  /** The implementation's settings for this profile. */
  public Config config() {
    return config;
  }

  /** A generator of this profile's operations. */
  public Generator generator(long seed) {
    return new Generator(seed, 1, mix);
  }

  /** The profile named {@code word} (case does not matter). */
  public static Optional<Profile> byWord(String word) {
    String w = word.toLowerCase(Locale.ROOT);
    return Arrays.stream(values()).filter(p -> p.word.equals(w)).findFirst();
  }

  /** Every profile's name, comma-separated, for help and error messages. */
  public static String words() {
    return Arrays.stream(values()).map(Profile::word).collect(Collectors.joining(", "));
  }
}
