package org.vmoracle.impl.pmap;

import static org.vmoracle.impl.pmap.PmapArgs.hex;

import org.vmoracle.impl.phys.PhysMem;

/**
 * The structural invariant checker of {@link Pmap}: walks one pmap's whole tree and checks
 * invariants P1–P4 of Pmap's class essay, and the entry forms P6 admits. Never repairs anything.
 */
final class PmapChecker {
  /*
   * Overview:
   * ---------
   * One recursive walk from the root, level by level (Level), sorts each non-zero entry into the
   * kinds of Pmap's essay and checks it against what its level allows:
   *
   *   PT entry                 a 4 KiB leaf (P3)
   *   PS bit, PD entry         a 2 MiB leaf (P3, seed 003); at PDP or PML4 an error
   *   link                     an own table (P1): owner this pmap; checked, counted, walked into
   *   link with SHARED_TABLE   a shared table (P1, seed 001): only from a PD entry, owner neither
   *                            null nor this pmap; checked to be a page-table page in use;
   *                            counted as a link; NOT walked into, nor its owner index read: both
   *                            are its owner's, and other pmaps may change its entries while this
   *                            one is quiescent
   *
   * and tallies what the counters must equal (P4); then compares the counters with the tally.
   * seen[] has one flag a frame: a table linked twice within this pmap, own or shared, is caught
   * there. Across pmaps a shared table is linked many times by design, and no pmap's checker
   * looks beyond its own tree.
   *
   * Concurrency: none of its own; the caller keeps the pmap quiescent (Pmap.checkInvariants).
   */

  private final Pmap pmap; // (c)
  private final PhysMem mem; // (c)
  private final boolean[] seen; // (c) the tables linked so far, the root first
  private long tables; // own tables in the tree, the root included
  private long leafPages; // 4 KiB pages mapped by valid leaves: 1 a 4 KiB leaf, 512 a PS leaf
  private long wiredPages; // the same, of leaves with WIRED
  private long links; // links to shared tables
  private long depositsSeen; // deposits of the PS leaves met

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
    String where = "the pmap's root";
    checkTableFrame(root, where);
    if (mem.owner(root) != pmap) {
      throw new IllegalStateException(
          where + " is table frame " + root + ", which belongs to " + mem.owner(root));
    }
    checkOwnIndex(root, where, 0);
    seen[root] = true;
    tables = 1;
    checkTable(root, Level.TOP, 0);
    if (depositsSeen != pmap.deposits().size()) {
      throw new IllegalStateException(
          "pmap keeps "
              + pmap.deposits().size()
              + " deposits but the tree holds "
              + depositsSeen
              + " PS leaves: a deposit outlived its leaf (P7)");
    }
    long countedTables = pmap.tablePages();
    long countedResident = pmap.residentCount();
    long countedWired = pmap.wiredCount();
    if (countedTables != tables) {
      throw new IllegalStateException(
          "pmap counts " + countedTables + " table pages but the tree holds " + tables);
    }
    long want = tables + leafPages + links;
    if (countedResident != want) {
      throw new IllegalStateException(
          "pmap counts resident "
              + countedResident
              + " but the tree holds "
              + tables
              + " table pages, valid leaves of "
              + leafPages
              + " pages and "
              + links
              + " links to shared tables ("
              + want
              + ")");
    }
    if (countedWired != wiredPages) {
      throw new IllegalStateException(
          "pmap counts "
              + countedWired
              + " wired pages but the tree holds wired leaves of "
              + wiredPages
              + " pages");
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
      if (level == Level.PT) {
        checkLeafEntry(e, where);
        count(e, 1);
      } else if (Pte.isSuperpage(e)) {
        checkSuperpage(e, level, va, where);
        checkDeposit(e, va, where);
        count(e, level.pages());
      } else {
        checkLink(e, level, va, where);
      }
    }
  }

  /** Adds a valid leaf of {@code pages} pages to the tally. */
  private void count(long e, long pages) {
    leafPages += pages;
    if (Pte.isWired(e)) {
      wiredPages += pages;
    }
  }

  /**
   * An interior entry that is no leaf: a link to an own table (walked into), or with SHARED_TABLE a
   * link to a shared one (P1).
   */
  private void checkLink(long e, Level level, long va, String where) {
    long bits = e & ~Pte.PFN_MASK;
    boolean shared = bits == Pte.SHARED_TABLE_BITS;
    if (bits != Pte.TABLE_BITS && !shared) {
      throw new IllegalStateException(
          where
              + " is "
              + Pte.toString(e)
              + ": an interior entry holds exactly P|W|U, with SHARED for a shared table, and a"
              + " table frame");
    }
    long child = (e & Pte.PFN_MASK) >>> Pte.PFN_SHIFT;
    if (child >= mem.frames()) {
      throw new IllegalStateException(
          where + " points to frame " + child + ", past the last frame " + (mem.frames() - 1));
    }
    int c = (int) child;
    if (seen[c] && !shared) { // a shared table may be linked twice: two mappings of one segment
      throw new IllegalStateException(
          where + " points to table frame " + c + ", which another entry of this pmap links too");
    }
    checkTableFrame(c, where);
    seen[c] = true;
    Object owner = mem.owner(c);
    if (owner == null) {
      throw new IllegalStateException(
          where
              + " points to table frame "
              + c
              + ", which belongs to no one: a table is its pmap's, or a shared table's owner's");
    }
    if (!shared) {
      if (owner != pmap) {
        throw new IllegalStateException(
            where
                + " points to table frame "
                + c
                + ", which belongs to "
                + owner
                + ", without SHARED: a table of another owner is linked as a shared table");
      }
      checkOwnIndex(c, where, va);
      tables++;
      checkTable(c, level.below(), va);
      return;
    }
    if (owner == pmap) {
      throw new IllegalStateException(
          where + " links table frame " + c + " as SHARED, but this pmap owns it");
    }
    if (level != Level.PD) {
      throw new IllegalStateException(
          where
              + " links table frame "
              + c
              + " of "
              + owner
              + ": only a PD entry may link a shared table (seed 001 shares PTs)");
    }
    links++; // a shared table: its entries and owner index are its owner's to check
  }

  private void checkTableFrame(int f, String where) {
    int fl = mem.flags(f);
    if ((fl & PhysMem.FREE) != 0) {
      throw new IllegalStateException(where + " points to frame " + f + ", which is free");
    }
    if ((fl & PhysMem.PTPAGE) == 0) {
      throw new IllegalStateException(
          where + " points to frame " + f + ", which is not flagged PTPAGE");
    }
  }

  private void checkOwnIndex(int f, String where, long va) {
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

  /** A PS leaf at {@code level}: only a PD entry may be one (P3, seed 003). */
  private void checkSuperpage(long e, Level level, long va, String where) {
    if (!level.mayBeLeaf()) {
      throw new IllegalStateException(
          where
              + " is "
              + Pte.toString(e)
              + ": a PS leaf lives only in a PD entry (seed 003); a "
              + level
              + " entry is never a leaf");
    }
    if (!Pte.isPresent(e) || (e & ~(Pte.LEAF_FLAGS | Pte.PFN_MASK)) != 0) {
      throw new IllegalStateException(
          where + " is " + Pte.toString(e) + ": a 2 MiB leaf is present, known bits only");
    }
    long pages = level.pages();
    if (level.base(va) != va) {
      throw new IllegalStateException(where + " maps a 2 MiB leaf from an unaligned address");
    }
    long f = (e & Pte.PFN_MASK) >>> Pte.PFN_SHIFT;
    if (f % pages != 0) {
      throw new IllegalStateException(
          where
              + " maps frame "
              + f
              + ": a 2 MiB leaf maps "
              + pages
              + " frames from a multiple of "
              + pages);
    }
    if (f + pages > mem.frames()) {
      throw new IllegalStateException(
          where
              + " maps frames "
              + f
              + " to "
              + (f + pages - 1)
              + ", past the last frame "
              + (mem.frames() - 1));
    }
    for (int k = 0; k < pages; k++) {
      checkMappedFrame((int) f + k, where);
    }
  }

  /**
   * The deposit of the PS leaf {@code e} at {@code va} (P7): a page-table page in use, this pmap's,
   * labelled for {@code va}, linked from no entry, holding exactly the 512 leaves {@link
   * Pte#pageOf} makes of {@code e}. Counted as a table page.
   */
  private void checkDeposit(long e, long va, String where) {
    Integer d = pmap.deposits().get(va);
    if (d == null) {
      throw new IllegalStateException(where + " is a PS leaf with no deposit (P7)");
    }
    int f = d;
    String what = where + "'s deposit";
    checkTableFrame(f, what);
    if (seen[f]) {
      throw new IllegalStateException(what + ", table frame " + f + ", is linked from an entry");
    }
    seen[f] = true;
    if (mem.owner(f) != pmap) {
      throw new IllegalStateException(what + ", table frame " + f + ", belongs to " + mem.owner(f));
    }
    checkOwnIndex(f, what, va);
    for (int i = 0; i < Pmap.ENTRIES; i++) {
      long want = Pte.pageOf(e, i);
      long have = mem.loadAcquire(f, i);
      if (have != want) {
        throw new IllegalStateException(
            what
                + " holds "
                + Pte.toString(have)
                + " for page "
                + i
                + " (va "
                + hex(va + ((long) i << Pmap.PAGE_SHIFT))
                + "), not "
                + Pte.toString(want)
                + ": its demotion would change what the page maps (P7)");
      }
    }
    depositsSeen++;
    tables++;
  }

  private void checkLeafEntry(long e, String where) {
    if (Pte.isSuperpage(e)) {
      throw new IllegalStateException(
          where
              + " is "
              + Pte.toString(e)
              + ": a PT entry maps 4 KiB; a PS leaf lives only in a PD entry (seed 003)");
    }
    if (!Pte.isPresent(e) || (e & ~(Pte.LEAF_FLAGS | Pte.PFN_MASK)) != 0) {
      throw new IllegalStateException(
          where + " is " + Pte.toString(e) + ": a leaf is 0 or present, 4 KiB, known bits only");
    }
    long f = (e & Pte.PFN_MASK) >>> Pte.PFN_SHIFT;
    if (f >= mem.frames()) {
      throw new IllegalStateException(
          where + " maps frame " + f + ", past the last frame " + (mem.frames() - 1));
    }
    checkMappedFrame((int) f, where);
  }

  /** A frame a leaf maps is memory in use, not a page-table page (P3). */
  private void checkMappedFrame(int f, String where) {
    int fl = mem.flags(f);
    if ((fl & PhysMem.FREE) != 0) {
      throw new IllegalStateException(where + " maps frame " + f + ", which is free");
    }
    if ((fl & PhysMem.PTPAGE) != 0) {
      throw new IllegalStateException(where + " maps frame " + f + ", a page-table page");
    }
  }
}
