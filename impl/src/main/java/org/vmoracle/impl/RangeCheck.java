package org.vmoracle.impl;

import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Result;

/**
 * The argument checks that every operation on a range of one process's addresses makes before it
 * looks at the map, in the order ERR-2 fixes: either the address space and the end of the range, or
 * the failure to answer.
 *
 * <h2>Overview</h2>
 *
 * {@link #check} answers, the first that applies:
 *
 * <ol>
 *   <li>{@code ESRCH}: no live process has the pid (PROC-3);
 *   <li>{@code EINVAL}: the address is not page-aligned, or the length is 0 pages (MMAP-2, UNMAP-4,
 *       PROT-4, INH-7, WIRE-6, DEV-9, DEV-10);
 *   <li>then, as {@link Bound} says: nothing ({@code mmap}: placement decides, MMAP-6, MMAP-7);
 *       {@code EINVAL} for a range that does not end at or below {@code USER_MAX} ({@code munmap},
 *       UNMAP-4); or {@code ENOMEM} for a range that starts at or above {@code USER_MAX}, where
 *       nothing is ever mapped ({@code mprotect}, {@code minherit}, {@code mlock}, {@code munlock}:
 *       the hole rules PROT-3, INH-7, WIRE-4, WIRE-8).
 * </ol>
 *
 * What comes after these is each operation's own, in its own order (ERR-2: names, ENOENT, before
 * the operation's own failures): mmap's ENOENT; minherit's EINVAL for {@code zero} outside private
 * anonymous memory (INH-6), which comes after the ENOMEM above {@code USER_MAX} but before the
 * ENOMEM for a hole below it; the hole checks of mlock and munlock. Implementation note: the model
 * makes the same checks in the same order, each operation on its own (model and implementation
 * share no logic); the differential tests compare the two answers.
 *
 * <h2>Invariants</h2>
 *
 * Exactly one of {@code space} and {@code failure} is null. {@code end} is {@code addr + pages *
 * PAGE_SIZE} for the {@code addr} and {@code pages} checked, and exact (no wrap) whenever {@code
 * addr <= USER_MAX}, since {@code pages <= 2^35} (Op.MAX_PAGES); for {@link Bound#USER_SPACE} and
 * {@link Bound#MAPPABLE} that holds for every range that passes. On failure it is 0.
 */
record RangeCheck(VmSpace space, long end, Result failure) {

  RangeCheck {
    if ((space == null) == (failure == null)) {
      throw new IllegalArgumentException(
          "a range check answers a space or a failure, exactly one: " + space + ", " + failure);
    }
  }

  /** What the check says about where the range lies, after ESRCH and EINVAL. */
  enum Bound {
    /** Nothing: mmap leaves it to placement (MMAP-6, MMAP-7, PLACE-*). */
    ANY,
    /** EINVAL unless the range ends at or below {@code USER_MAX}: munmap (UNMAP-4). */
    USER_SPACE,
    /**
     * ENOMEM when the range starts at or above {@code USER_MAX}, where nothing is mapped: mprotect
     * (PROT-3), minherit (INH-7), mlock (WIRE-4), munlock (WIRE-8).
     */
    MAPPABLE
  }

  /**
   * Checks the range [addr, addr + pages * PAGE_SIZE) of process {@code pid}: ESRCH, then EINVAL,
   * then what {@code bound} says (see the class comment). The caller holds the map lock, in either
   * mode: the answer holds while it does.
   */
  static RangeCheck check(Registry reg, int pid, long addr, long pages, Bound bound) {
    VmSpace sp = reg.processes.get(pid);
    if (sp == null) {
      return fail(Errno.ESRCH); // PROC-3
    }
    if (!aligned(addr) || pages == 0) {
      return fail(Errno.EINVAL); // MMAP-2, UNMAP-4, PROT-4, INH-7, WIRE-6, DEV-9, DEV-10
    }
    long end = addr + pages * Boot.PAGE_SIZE;
    Errno outside =
        switch (bound) {
          case ANY -> null;
          case USER_SPACE -> addr > Boot.USER_MAX || end > Boot.USER_MAX ? Errno.EINVAL : null;
          case MAPPABLE -> addr >= Boot.USER_MAX ? Errno.ENOMEM : null; // nothing is mapped there
        };
    if (outside != null) {
      return fail(outside); // UNMAP-4; PROT-3, INH-7, WIRE-4, WIRE-8
    }
    return new RangeCheck(sp, end, null);
  }

  /** Whether the check failed; then {@link #failure} is the answer. No requirements. */
  boolean failed() {
    return failure != null;
  }

  private static RangeCheck fail(Errno e) {
    return new RangeCheck(null, 0, Result.of(e));
  }

  /** Whether {@code a} is page-aligned. No requirements. */
  private static boolean aligned(long a) {
    return (a & (Boot.PAGE_SIZE - 1)) == 0;
  }
}
