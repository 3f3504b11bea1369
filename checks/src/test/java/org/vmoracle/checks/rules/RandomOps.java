package org.vmoracle.checks.rules;

import java.util.List;
import java.util.SplittableRandom;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * A small seeded generator of operations for the rule tests that need many of them (MEM-1, MEM-2,
 * ERR-1): four pids, sixteen pages from {@code MMAP_BASE}, two small files and two segment keys, so
 * that operations collide often. Not the checks' generator: it knows no state, and many of its
 * operations fail, which is what these tests want.
 */
final class RandomOps {
  private static final long BASE = Boot.MMAP_BASE;
  private static final long PAGE = Boot.PAGE_SIZE;
  private static final int PIDS = 4;
  private static final int PAGES = 16;
  private static final List<String> FILES = List.of("f", "g", "f", "g", "lib/libc");
  private static final Prot[] PROTS = Prot.values();
  private static final Inherit[] INHERITS = Inherit.values();

  private final SplittableRandom random;
  private final boolean images;

  /**
   * @param seed the seed
   * @param images whether {@code exec} may name a real image; false keeps views small
   */
  RandomOps(long seed, boolean images) {
    this.random = new SplittableRandom(seed);
    this.images = images;
  }

  /** The operations every run starts with: two files and one process. */
  static List<Op> setup() {
    return List.of(new Op.File("f", 4), new Op.File("g", 2), new Op.Spawn(1));
  }

  Op next() {
    int kind = random.nextInt(100);
    if (kind < 4) {
      return new Op.Spawn(pid());
    } else if (kind < 8) {
      return new Op.Fork(pid(), pid());
    } else if (kind < 10) {
      return new Op.Clone(pid(), pid());
    } else if (kind < 12) {
      String image = images && random.nextInt(3) > 0 ? pick("static", "dynamic") : "nosuch";
      return new Op.Exec(pid(), image);
    } else if (kind < 14) {
      return new Op.Exit(pid());
    } else if (kind < 32) {
      return mmap();
    } else if (kind < 35) {
      return new Op.Munmap(pid(), addr(), length());
    } else if (kind < 39) {
      return new Op.Mprotect(pid(), addr(), length(), PROTS[random.nextInt(PROTS.length)]);
    } else if (kind < 43) {
      return new Op.Minherit(pid(), addr(), length(), INHERITS[random.nextInt(INHERITS.length)]);
    } else if (kind < 47) {
      return new Op.Mlock(pid(), addr(), length());
    } else if (kind < 49) {
      return new Op.Munlock(pid(), addr(), length());
    } else if (kind < 62) {
      return new Op.Read(pid(), word());
    } else if (kind < 77) {
      return new Op.Write(pid(), word(), random.nextInt(3) == 0 ? 0 : random.nextLong());
    } else if (kind < 80) {
      return new Op.File(file(), random.nextInt(6));
    } else if (kind < 85) {
      return new Op.Fwrite(file(), offset(), random.nextLong());
    } else if (kind < 89) {
      return new Op.Fread(file(), offset());
    } else if (kind < 92) {
      return new Op.Shmget(key(), random.nextInt(4));
    } else if (kind < 94) {
      return new Op.Shmrm(key());
    } else if (kind < 97) {
      return new Op.Pageout(random.nextInt(50));
    } else {
      return new Op.Collapse(pid(), addr());
    }
  }

  private Op mmap() {
    long addr;
    int how = random.nextInt(10);
    if (how < 5) {
      addr = 0;
    } else if (how < 9) {
      addr = addr();
    } else {
      addr = BASE + 8 * random.nextInt(4);
    }
    Source source;
    int s = random.nextInt(10);
    if (s < 5) {
      source = new Source.Anon();
    } else if (s < 8) {
      source = new Source.FileRange(file(), random.nextInt(5));
    } else {
      source = new Source.Shm(key());
    }
    Sharing sharing = random.nextBoolean() ? Sharing.PRIVATE : Sharing.SHARED;
    return new Op.Mmap(
        pid(),
        addr,
        1 + random.nextInt(6),
        random.nextBoolean() ? Prot.RW : PROTS[random.nextInt(PROTS.length)],
        sharing,
        source,
        addr != 0 && random.nextBoolean());
  }

  private int pid() {
    return 1 + random.nextInt(PIDS);
  }

  /** A page address in the range, now and then one below or an unaligned one. */
  private long addr() {
    int r = random.nextInt(40);
    if (r == 0) {
      return BASE + 8;
    } else if (r == 1) {
      return BASE - PAGE;
    } else if (r == 2) {
      return Boot.SHARED_PAGE;
    }
    return BASE + PAGE * random.nextInt(PAGES);
  }

  private long length() {
    return random.nextInt(30) == 0 ? 0 : 1 + random.nextInt(5);
  }

  private long word() {
    int r = random.nextInt(30);
    if (r == 0) {
      return Boot.SHARED_PAGE + 8 * random.nextInt(512);
    }
    long w = random.nextInt(4) == 0 ? 511 : random.nextInt(3);
    return BASE + PAGE * random.nextInt(PAGES) + 8 * w;
  }

  private String file() {
    return FILES.get(random.nextInt(FILES.size()));
  }

  private long offset() {
    return PAGE * random.nextInt(5) + 8 * random.nextInt(3);
  }

  private long key() {
    return 1 + random.nextInt(2);
  }

  private String pick(String a, String b) {
    return random.nextBoolean() ? a : b;
  }
}
