package org.vmoracle.impl.pmap;

import org.vmoracle.spec.Numbers;

/**
 * The argument checks of {@link Pmap}'s public methods: user addresses, pages, ranges and leaves.
 * Each throws {@link IllegalArgumentException} saying what was wrong and what is wanted, before the
 * method changes anything.
 *
 * <p>Concurrency: none; pure functions of their arguments.
 */
final class PmapArgs {
  private PmapArgs() {}

  /**
   * Checks that {@code pte} is a leaf {@link Pmap#enter} may store: present, 4 KiB (no PS), known
   * bits only ({@link Pte#LEAF_FLAGS} and PFN), and mapping one of {@code frames} frames. {@code
   * what} names the argument in the message.
   *
   * <p>No requirements.
   */
  static void checkLeaf(long pte, String what, int frames) {
    if (!Pte.isPresent(pte)
        || Pte.isSuperpage(pte)
        || (pte & ~(Pte.LEAF_FLAGS | Pte.PFN_MASK)) != 0
        || ((pte & Pte.PFN_MASK) >>> Pte.PFN_SHIFT) >= frames) {
      throw new IllegalArgumentException(
          what
              + " "
              + Pte.toString(pte)
              + ": a leaf is present, 4 KiB (no PS), has known bits only and maps one of "
              + frames
              + " frames");
    }
  }

  /** Checks 0 ≤ va &lt; {@link Pmap#USER_VA_LIMIT}. No requirements. */
  static void checkUserVa(long va) {
    if (va < 0 || va >= Pmap.USER_VA_LIMIT) {
      throw new IllegalArgumentException(
          "va " + hex(va) + ": user addresses lie in [0, 0x800000000000)");
    }
  }

  /** Checks that {@code va} is a page-aligned user address. No requirements. */
  static void checkPage(long va) {
    checkUserVa(va);
    if ((va & (Pmap.PAGE_SIZE - 1)) != 0) {
      throw new IllegalArgumentException("va " + hex(va) + ": not page-aligned (4 KiB)");
    }
  }

  /**
   * Checks that [sva, eva) is a range of page-aligned user addresses: 0 ≤ sva ≤ eva ≤ {@link
   * Pmap#USER_VA_LIMIT}. No requirements.
   */
  static void checkRange(long sva, long eva) {
    if (sva < 0 || eva > Pmap.USER_VA_LIMIT || sva > eva) {
      throw new IllegalArgumentException(
          "range [" + hex(sva) + ", " + hex(eva) + "): want 0 <= sva <= eva <= 0x800000000000");
    }
    if (((sva | eva) & (Pmap.PAGE_SIZE - 1)) != 0) {
      throw new IllegalArgumentException(
          "range [" + hex(sva) + ", " + hex(eva) + "): not page-aligned (4 KiB)");
    }
  }

  /** {@code v} in hex for messages, as {@link Numbers#hex} writes it. No requirements. */
  static String hex(long v) {
    return Numbers.hex(v);
  }
}
