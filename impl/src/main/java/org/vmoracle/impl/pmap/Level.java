package org.vmoracle.impl.pmap;

import java.util.List;

/**
 * The four levels of the x86-64 page-table tree, bottom up: {@link #PT}, {@link #PD}, {@link #PDP},
 * {@link #PML4}. An entry "at" a level is a word of a table of that level; each level resolves
 * {@link Pmap#LEVEL_BITS} bits of a user address and says how many bytes one of its entries maps.
 */
enum Level {
  /*
   * Overview:
   * ---------
   * A user address splits into four 9-bit indices above the 12-bit page offset:
   *
   *   |63 .. 48|47 ..... 39|38 ..... 30|29 ..... 21|20 ..... 12|11 ....... 0|
   *   |  zero  |   PML4    |    PDP    |    PD     |    PT     | page offset |
   *
   * so the shift of a level is PAGE_SHIFT plus LEVEL_BITS for every level below it, and one
   * entry maps 2^shift bytes: 4 KiB (PT), 2 MiB (PD), 1 GiB (PDP), 512 GiB (PML4).
   *
   * What an entry at each level may be (the class essay of Pmap states it as invariants P1-P3):
   *
   *   PML4, PDP   0 or a link to a table of this pmap; never a leaf (no 1 GiB pages here).
   *   PD          0, a link to a PT of this pmap, a link marked SHARED_TABLE to a PT shared
   *               with other pmaps and owned by someone else (seed 001), or a 2 MiB PS leaf
   *               (seed 003).
   *   PT          0 or a 4 KiB leaf.
   *
   * Each level has a number, as x86 numbers them from the bottom: PT 1, PD 2, PDP 3, PML4 4
   * (the ordinal plus one). The shift is a function of the number alone (shiftOf).
   *
   * Performance: the enum has no constant with a body, so it is implicitly final and every call
   * binds statically; a walk "for (Level l = Level.TOP; l != target; l = l.below())" costs no
   * allocation and no virtual dispatch per level. It does load l's fields at every level, which
   * the JIT may not move above the acquire load of the entry before them, and it does not know
   * the trip count. Measured with a throwaway harness (one thread, a warm pmap of 16384 pages,
   * best of 200 rounds, this 2-CPU machine under load), lookup took 4.4 ns with the old
   * hand-unrolled walk and 5.8 ns walking the enum. So the fault path's walk (Pmap.fastWalk)
   * counts level numbers in an int from TOP_NUMBER down to a constant (PT_NUMBER) and indexes by
   * the static indexOf: arithmetic the JIT unrolls into constants, as it did the old walk's
   * (4.55 ns). Every other walk, none of them per page, loops over the enum.
   *
   * Concurrency: none; constants only.
   *
   * Invariants: PT.shift == Pmap.PAGE_SHIFT; each level's shift is LEVEL_BITS more than the one
   * below; PML4's entries together cover 2^48 bytes, twice the user half (Pmap.USER_VA_LIMIT).
   */

  /** Page table: bits 20..12; an entry maps one 4 KiB page and is a leaf or empty. */
  PT(null, true),

  /** Page directory: bits 29..21; an entry maps 2 MiB and may be a PS leaf (seed 003). */
  PD(PT, true),

  /** Page-directory pointer table: bits 38..30; an entry maps 1 GiB, never a leaf. */
  PDP(PD, false),

  /** Page-map level 4, the root: bits 47..39; an entry maps 512 GiB, never a leaf. */
  PML4(PDP, false);

  /** The root level, where every walk starts. */
  static final Level TOP = PML4;

  /** The number of the top level, PML4: 4 (Pmap.LEVELS), where the fault path's walk starts. */
  static final int TOP_NUMBER = Pmap.LEVELS;

  /**
   * The number of PT: 1, where the fault path's walk ends; a constant, so that the JIT knows the
   * walk's trip count and unrolls it (PT.number() is a field load it may not fold).
   */
  static final int PT_NUMBER = 1;

  /** The number of PD: 2, the one level whose entries may be 2 MiB PS leaves (seed 003). */
  static final int PD_NUMBER = 2;

  /** The levels by number minus one, for {@link #of}; immutable. */
  private static final List<Level> BY_NUMBER = List.of(values());

  private final Level below; // (c) null for PT
  private final int shift; // (c) bits: the lowest address bit this level's index holds
  private final long entryBytes; // (c) bytes: 1 << shift
  private final boolean mayBeLeaf; // (c)

  Level(Level below, boolean mayBeLeaf) {
    this.below = below;
    this.shift = shiftOf(ordinal() + 1);
    this.entryBytes = 1L << shift;
    this.mayBeLeaf = mayBeLeaf;
  }

  /**
   * The shift of the index of the level numbered {@code number} (1 = PT ... 4 = PML4): PAGE_SHIFT
   * plus LEVEL_BITS for every level below it. Arithmetic only, for the fault path's walk.
   *
   * <p>The caller passes 1 ≤ number ≤ 4.
   */
  static int shiftOf(int number) {
    return Pmap.PAGE_SHIFT + Pmap.LEVEL_BITS * (number - 1);
  }

  /**
   * {@code of(number).index(va)} by arithmetic only, for the fault path's walk.
   *
   * <p>The caller passes 1 ≤ number ≤ 4.
   */
  static int indexOf(int number, long va) {
    return (int) ((va >>> shiftOf(number)) & (Pmap.ENTRIES - 1));
  }

  /**
   * The level numbered {@code number}: PT for 1 ... PML4 for 4. For messages and cold paths: it
   * reads an array.
   *
   * @throws IndexOutOfBoundsException unless 1 ≤ number ≤ 4
   */
  static Level of(int number) {
    return BY_NUMBER.get(number - 1);
  }

  /** The shift of this level's index in an address: 12, 21, 30 or 39. No requirements. */
  int shift() {
    return shift;
  }

  /** The bytes one entry of this level maps: 4 KiB, 2 MiB, 1 GiB or 512 GiB. No requirements. */
  long entryBytes() {
    return entryBytes;
  }

  /**
   * The 4 KiB pages one entry of this level maps: 1, 512, 2^18 or 2^27; what a leaf here counts in
   * the resident count (a 2 MiB PS leaf counts NBPDR / PAGE_SIZE = 512, as FreeBSD counts it). No
   * requirements.
   */
  long pages() {
    return entryBytes >>> Pmap.PAGE_SHIFT;
  }

  /**
   * Whether an entry at this level may be a leaf: true for PT (4 KiB leaves) and PD (2 MiB PS
   * leaves, seed 003), false for PDP and PML4. No requirements.
   */
  boolean mayBeLeaf() {
    return mayBeLeaf;
  }

  /**
   * The level whose tables this level's entries link: PD for PDP, PT for PD, and so on.
   *
   * <p>The caller does not ask PT, which has no level below.
   *
   * @throws IllegalStateException for PT
   */
  Level below() {
    Level b = below;
    if (b == null) {
      throw new IllegalStateException("PT is the last level: its entries are leaves");
    }
    return b;
  }

  /**
   * This level's number, as x86 numbers them: 1 for PT ... 4 for PML4. A missing entry at level n
   * needs n - m new tables to reach the table of level m below it. No requirements.
   */
  int number() {
    return ordinal() + 1;
  }

  /**
   * The index of {@code va} in a table of this level: the 9 address bits at {@link #shift}.
   *
   * <p>No requirements.
   */
  int index(long va) {
    return (int) ((va >>> shift) & (Pmap.ENTRIES - 1));
  }

  /**
   * The first address of the span that the entry of this level holding {@code va} maps: {@code va}
   * rounded down to a multiple of {@link #entryBytes}. No requirements.
   */
  long base(long va) {
    return va & -entryBytes;
  }

  /**
   * The first address above {@code va} that a different entry of this level maps: {@code va}
   * rounded up to the next multiple of {@link #entryBytes}, strictly above {@code va}.
   *
   * <p>The caller passes {@code va} below 2^63 - entryBytes (every user address is).
   */
  long nextBoundary(long va) {
    return (va | (entryBytes - 1)) + 1;
  }
}
