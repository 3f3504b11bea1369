package org.vmoracle.impl.pmap;

import static org.vmoracle.impl.pmap.PmapArgs.hex;

import org.vmoracle.impl.phys.PhysMem;

/**
 * The structural invariant checker of {@link Pmap}: walks one pmap's whole tree and checks
 * invariants P1–P4 of Pmap's class essay. Never repairs anything.
 */
final class PmapChecker {
  /*
   * Overview:
   * ---------
   * One recursive walk from the root, level by level (Level), checks each non-zero entry against
   * what its level allows and tallies what the counters must equal; then the counters are
   * compared with the tally. A frame linked twice is caught with one flag a frame.
   *
   * Concurrency: none of its own; the caller keeps the pmap quiescent (Pmap.checkInvariants).
   */

  private final Pmap pmap; // (c)
  private final PhysMem mem; // (c)
  private final boolean[] seen; // (c) the frames linked so far, the root first
  private long tables; // tables in the tree, the root included
  private long leaves; // valid leaves
  private long wiredLeaves; // valid leaves with WIRED

  private PmapChecker(Pmap pmap) {
    this.pmap = pmap;
    this.mem = pmap.physMem();
    this.seen = new boolean[mem.frames()];
  }

  /**
   * Checks {@code pmap}: see {@link Pmap#checkInvariants}.
   *
   * <p>The caller makes sure no other call on this pmap, and no allocation or free of its frames,
   * is in flight.
   *
   * @throws IllegalStateException naming the address and level where the tree is wrong, or the
   *     counter that differs and by how much
   */
  static void check(Pmap pmap) {
    if (pmap.isReleased()) {
      checkReleased(pmap);
      return;
    }
    new PmapChecker(pmap).checkTree();
  }

  private static void checkReleased(Pmap pmap) {
    long resident = pmap.residentCount();
    long tables = pmap.tablePages();
    long wired = pmap.wiredCount();
    if (resident != 0 || tables != 0 || wired != 0) {
      throw new IllegalStateException(
          "released pmap counts resident "
              + resident
              + ", tables "
              + tables
              + ", wired "
              + wired
              + "; all should be 0");
    }
  }

  private void checkTree() {
    int root = pmap.rootFrame();
    checkTableFrame(root, "the pmap's root", 0);
    seen[root] = true;
    tables = 1;
    checkTable(root, Level.TOP, 0);
    long countedTables = pmap.tablePages();
    long countedResident = pmap.residentCount();
    long countedWired = pmap.wiredCount();
    if (countedTables != tables) {
      throw new IllegalStateException(
          "pmap counts " + countedTables + " table pages but the tree holds " + tables);
    }
    if (countedResident != tables + leaves) {
      throw new IllegalStateException(
          "pmap counts resident "
              + countedResident
              + " but the tree holds "
              + tables
              + " table pages and "
              + leaves
              + " valid leaves ("
              + (tables + leaves)
              + ")");
    }
    if (countedWired != wiredLeaves) {
      throw new IllegalStateException(
          "pmap counts " + countedWired + " wired leaves but the tree holds " + wiredLeaves);
    }
  }

  private void checkTable(int table, Level level, long base) {
    for (int i = 0; i < Pmap.ENTRIES; i++) {
      long e = mem.loadAcquire(table, i);
      if (e == 0) {
        continue;
      }
      long va = base + i * level.entryBytes();
      String where = level + " entry " + i + " (va " + hex(va) + ")";
      if (level == Level.TOP && va >= Pmap.USER_VA_LIMIT) {
        throw new IllegalStateException(
            where + " is " + Pte.toString(e) + ": no address at or above 2^47 is mapped");
      }
      if (level != Level.PT) {
        if ((e & ~Pte.PFN_MASK) != Pte.TABLE_BITS) {
          throw new IllegalStateException(
              where
                  + " is "
                  + Pte.toString(e)
                  + ": an interior entry holds exactly P|W|U and a table frame");
        }
        long child = (e & Pte.PFN_MASK) >>> Pte.PFN_SHIFT;
        if (child >= mem.frames()) {
          throw new IllegalStateException(
              where + " points to frame " + child + ", past the last frame " + (mem.frames() - 1));
        }
        int c = (int) child;
        if (seen[c]) {
          throw new IllegalStateException(
              where + " points to table frame " + c + ", which another entry links too");
        }
        checkTableFrame(c, where, va);
        seen[c] = true;
        tables++;
        checkTable(c, level.below(), va);
      } else {
        checkLeafEntry(e, where);
        leaves++;
        if (Pte.isWired(e)) {
          wiredLeaves++;
        }
      }
    }
  }

  private void checkTableFrame(int f, String where, long va) {
    int fl = mem.flags(f);
    if ((fl & PhysMem.FREE) != 0) {
      throw new IllegalStateException(where + " points to frame " + f + ", which is free");
    }
    if ((fl & PhysMem.PTPAGE) == 0) {
      throw new IllegalStateException(
          where + " points to frame " + f + ", which is not flagged PTPAGE");
    }
    if (mem.owner(f) != pmap) {
      throw new IllegalStateException(
          where + " points to table frame " + f + ", which belongs to " + mem.owner(f));
    }
    if (mem.ownerIndex(f) != va >>> Pmap.PAGE_SHIFT) {
      throw new IllegalStateException(
          where
              + " points to table frame "
              + f
              + " labelled for page "
              + hex(mem.ownerIndex(f))
              + ", want "
              + hex(va >>> Pmap.PAGE_SHIFT));
    }
  }

  private void checkLeafEntry(long e, String where) {
    if (!Pte.isPresent(e) || Pte.isSuperpage(e) || (e & ~(Pte.LEAF_FLAGS | Pte.PFN_MASK)) != 0) {
      throw new IllegalStateException(
          where + " is " + Pte.toString(e) + ": a leaf is 0 or present, 4 KiB, known bits only");
    }
    long f = (e & Pte.PFN_MASK) >>> Pte.PFN_SHIFT;
    if (f >= mem.frames()) {
      throw new IllegalStateException(
          where + " maps frame " + f + ", past the last frame " + (mem.frames() - 1));
    }
    int fl = mem.flags((int) f);
    if ((fl & PhysMem.FREE) != 0) {
      throw new IllegalStateException(where + " maps frame " + f + ", which is free");
    }
    if ((fl & PhysMem.PTPAGE) != 0) {
      throw new IllegalStateException(where + " maps frame " + f + ", a page-table page");
    }
  }
}
