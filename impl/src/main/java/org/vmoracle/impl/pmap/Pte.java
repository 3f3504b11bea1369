package org.vmoracle.impl.pmap;

/**
 * Page-table entries: the bit layout and static helpers to build and read them. An entry is a
 * {@code long}; 0 is the empty entry.
 */
public final class Pte {
  /*
   * Overview:
   * ---------
   * The layout is x86-64's, with the software bits this VM needs:
   *
   *   |63|62 ..... 52|51 ............ 12|11 .. 9 software   |8 |7|6|5|4 |3 |2|1|0|
   *   |NX| 0 (avail) |       PFN        |11 SHR|10 MGD|9 WRD|PS|-|D|A|- |- |U|W|P|
   *
   *   P    present              bit 0    the entry maps something (leaf) or points to a table
   *   W    writable             bit 1
   *   U    user                 bit 2    always set: this VM has user mappings only
   *   A    accessed             bit 5    set by an access; cleared by the page daemon's clock
   *   D    dirty                bit 6    set by a write
   *   PS   page size            bit 8    a 2 MiB leaf in a PD entry
   *   WRD  wired                bit 9    software: the leaf is wired (mlock); counted in wiredCount
   *   MGD  managed              bit 10   software: the frame is on the reverse map (pv, backing)
   *   SHR  shared table         bit 11   software, interior entries only: the entry links a page
   *                                      table this pmap does not own (seed 001)
   *   PFN  page frame number    51..12   a leaf's frame, or an interior entry's child table frame
   *   NX   no execute           bit 63
   *
   * One deviation from the hardware: real x86-64 has PS at bit 7 and the global bit at 8; this
   * layout (fixed by the project's design) puts PS at bit 8 and leaves 7, 4 and 3 unused. No real
   * MMU reads these entries, so only self-consistency matters; every user goes through the masks
   * below, never through literal bit numbers.
   *
   * Interior entries (PML4, PDP, PD pointing to a child table) are exactly P|W|U plus the child's
   * frame in PFN: permissions are enforced at the leaf only, as FreeBSD's amd64 pmap does for user
   * page-table pages. A PD entry that links a page table someone else owns (seed 001: a PT shared
   * between pmaps) carries SHARED_TABLE besides: the MMU ignores bit 11 of a non-leaf entry, and
   * the pmap tells such a link from its own tables by the entry it already loaded, without reading
   * the table's owner (Pmap's essay says why that matters on the fault path).
   *
   * Concurrency: none; these are pure functions of their arguments.
   *
   * Invariants: PFN_MASK, the flag bits and the unused bits are pairwise disjoint and together
   * cover all 64 bits.
   */

  private Pte() {}

  /** Present: bit 0. */
  public static final long P = 1L << 0;

  /** Writable: bit 1. */
  public static final long W = 1L << 1;

  /** User-accessible: bit 2. */
  public static final long U = 1L << 2;

  /** Accessed (referenced): bit 5. */
  public static final long A = 1L << 5;

  /** Dirty (modified): bit 6. */
  public static final long D = 1L << 6;

  /** Page size: a 2 MiB leaf in a page-directory entry; bit 8 (see the deviation above). */
  public static final long PS = 1L << 8;

  /** Software: the mapping is wired; bit 9, the first of the three software bits 11..9. */
  public static final long WIRED = 1L << 9;

  /** Software: the frame is managed (tracked by the reverse map); bit 10. */
  public static final long MANAGED = 1L << 10;

  /**
   * Software, interior entries only: the entry links a page table that this pmap does not own, a
   * shared table (seed 001); bit 11. Never in a leaf.
   */
  public static final long SHARED_TABLE = 1L << 11;

  /** No-execute: bit 63. */
  public static final long NX = 1L << 63;

  /** Shift of the page frame number: 12, because frames are 4 KiB. */
  public static final int PFN_SHIFT = 12;

  /**
   * The page frame number, bits 51..12: 40 bits, x86-64's architectural maximum of 52-bit physical
   * addresses; any {@code int} frame number fits.
   */
  public static final long PFN_MASK = 0x000F_FFFF_FFFF_F000L;

  /** The bits of an interior entry besides its PFN: present, writable, user. */
  public static final long TABLE_BITS = P | W | U;

  /** The bits of a link to a shared table besides its PFN: TABLE_BITS and SHARED_TABLE. */
  public static final long SHARED_TABLE_BITS = TABLE_BITS | SHARED_TABLE;

  /** Every flag bit a leaf may carry. */
  public static final long LEAF_FLAGS = P | W | U | A | D | PS | WIRED | MANAGED | NX;

  /**
   * A present user leaf mapping {@code frame}, writable or read-only, wired or not; A, D, MANAGED
   * and NX clear.
   *
   * <p>The caller passes a frame number ≥ 0.
   */
  public static long make(int frame, boolean writable, boolean wired) {
    return pfn(frame) | P | U | (writable ? W : 0) | (wired ? WIRED : 0);
  }

  /**
   * A present 2 MiB PS leaf mapping the 512 frames from {@code base}, writable or read-only, wired
   * or not (seed 003; a PD entry only, invariant P3 of Pmap): {@link #make}'s bits and PS.
   *
   * <p>The caller passes a frame number ≥ 0 that is a multiple of 512.
   */
  public static long superpage(int base, boolean writable, boolean wired) {
    return make(base, writable, wired) | PS;
  }

  /**
   * The 4 KiB leaf for page {@code index} (0 to 511) of the 2 MiB PS leaf {@code pde}: the
   * translation the MMU makes through it, and the leaf a demotion writes for that page. The PS
   * leaf's bits but PS, and its frame plus {@code index}.
   *
   * <p>The caller passes a PS leaf and 0 ≤ index &lt; 512.
   */
  public static long pageOf(long pde, int index) {
    return (pde & ~(PS | PFN_MASK)) | pfn(frame(pde) + index);
  }

  /**
   * An interior entry pointing to the child table in frame {@code frame}: {@link #TABLE_BITS} and
   * the frame number.
   *
   * <p>The caller passes a frame number ≥ 0.
   */
  public static long table(int frame) {
    return pfn(frame) | TABLE_BITS;
  }

  /**
   * An interior entry linking the shared page table in frame {@code frame}, which someone other
   * than this pmap owns (seed 001): {@link #SHARED_TABLE_BITS} and the frame number.
   *
   * <p>The caller passes a frame number ≥ 0.
   */
  public static long sharedTable(int frame) {
    return pfn(frame) | SHARED_TABLE_BITS;
  }

  private static long pfn(int frame) {
    if (frame < 0) {
      throw new IllegalArgumentException("frame " + frame + ": frame numbers are not negative");
    }
    return (long) frame << PFN_SHIFT;
  }

  /**
   * The frame number in the PFN field: the mapped frame of a leaf, the child table of an interior
   * entry.
   *
   * <p>No requirements (an entry built by {@link #make} or {@link #table} gives back its frame; for
   * a PFN above {@code Integer.MAX_VALUE} the result is truncated).
   */
  public static int frame(long pte) {
    return (int) ((pte & PFN_MASK) >>> PFN_SHIFT);
  }

  /** Whether P is set. No requirements. */
  public static boolean isPresent(long pte) {
    return (pte & P) != 0;
  }

  /** Whether W is set. No requirements. */
  public static boolean isWritable(long pte) {
    return (pte & W) != 0;
  }

  /** Whether U is set. No requirements. */
  public static boolean isUser(long pte) {
    return (pte & U) != 0;
  }

  /** Whether A is set. No requirements. */
  public static boolean isAccessed(long pte) {
    return (pte & A) != 0;
  }

  /** Whether D is set. No requirements. */
  public static boolean isDirty(long pte) {
    return (pte & D) != 0;
  }

  /** Whether PS is set (a 2 MiB leaf). No requirements. */
  public static boolean isSuperpage(long pte) {
    return (pte & PS) != 0;
  }

  /** Whether the software WIRED bit is set. No requirements. */
  public static boolean isWired(long pte) {
    return (pte & WIRED) != 0;
  }

  /** Whether the software SHARED_TABLE bit is set (a link to a shared table). No requirements. */
  public static boolean isSharedTable(long pte) {
    return (pte & SHARED_TABLE) != 0;
  }

  /** Whether the software MANAGED bit is set. No requirements. */
  public static boolean isManaged(long pte) {
    return (pte & MANAGED) != 0;
  }

  /** Whether NX is set. No requirements. */
  public static boolean isNoExec(long pte) {
    return (pte & NX) != 0;
  }

  /** {@code pte} with {@code bits} set. No requirements. */
  public static long withBits(long pte, long bits) {
    return pte | bits;
  }

  /** {@code pte} with {@code bits} cleared. No requirements. */
  public static long withoutBits(long pte, long bits) {
    return pte & ~bits;
  }

  /**
   * A readable form for messages: {@code 0x80000000000112a7 [frame 17 P W U A WIRED NX]}, or {@code
   * 0 [empty]}.
   *
   * <p>No requirements.
   */
  public static String toString(long pte) {
    if (pte == 0) {
      return "0 [empty]";
    }
    StringBuilder sb = new StringBuilder();
    sb.append("0x").append(Long.toHexString(pte)).append(" [frame ").append(frame(pte));
    flag(sb, pte, P, "P");
    flag(sb, pte, W, "W");
    flag(sb, pte, U, "U");
    flag(sb, pte, A, "A");
    flag(sb, pte, D, "D");
    flag(sb, pte, PS, "PS");
    flag(sb, pte, WIRED, "WIRED");
    flag(sb, pte, MANAGED, "MANAGED");
    flag(sb, pte, SHARED_TABLE, "SHARED");
    flag(sb, pte, NX, "NX");
    long unknown = pte & ~(LEAF_FLAGS | SHARED_TABLE | PFN_MASK);
    if (unknown != 0) {
      sb.append(" unknown=0x").append(Long.toHexString(unknown));
    }
    return sb.append(']').toString();
  }

  private static void flag(StringBuilder sb, long pte, long bit, String name) {
    if ((pte & bit) != 0) {
      sb.append(' ').append(name);
    }
  }
}
