package org.vmoracle.impl.pmap;

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
   *   PD          0, a link to a PT of this pmap, a link to a PT shared with other pmaps and
   *               owned by someone else (seed 001), or a 2 MiB PS leaf (seed 003).
   *   PT          0 or a 4 KiB leaf.
   *
   * The ordinal is the level number minus one (PT = 0 ... PML4 = 3), as x86 numbers them from
   * the bottom (level 1 = PT).
   *
   * Performance: every accessor is a final field load or shift arithmetic on one, and the enum
   * has no constant with a body, so it is implicitly final and every call binds statically; a
   * walk "for (Level l = Level.TOP; l != target; l = l.below())" costs no allocation and no
   * virtual dispatch per level.
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

  private final Level below; // (c) null for PT
  private final int shift; // (c) bits: the lowest address bit this level's index holds
  private final long entryBytes; // (c) bytes: 1 << shift
  private final boolean mayBeLeaf; // (c)

  Level(Level below, boolean mayBeLeaf) {
    this.below = below;
    this.shift = below == null ? Pmap.PAGE_SHIFT : below.shift + Pmap.LEVEL_BITS;
    this.entryBytes = 1L << shift;
    this.mayBeLeaf = mayBeLeaf;
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
   * How many levels lie below this one: 0 for PT ... 3 for PML4; so a missing entry at this level
   * needs that many new tables to reach a leaf. No requirements.
   */
  int levelsBelow() {
    return ordinal();
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
