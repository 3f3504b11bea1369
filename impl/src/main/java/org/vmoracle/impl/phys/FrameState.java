package org.vmoracle.impl.phys;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Objects;

/**
 * The state the VM keeps beside each frame: flags (BUSY, DIRTY, REFERENCED, FREE, PTPAGE, INVALID),
 * wire count, and owner object with the page index in it. One part of {@link PhysMem}, which is the
 * only class that holds one; the public contracts are on PhysMem's methods of the same names.
 */
final class FrameState {
  /*
   * Overview:
   * ---------
   * One flat array per field, indexed by frame number, as a vm_page array is in every BSD: flags
   * and wire count as ints, the owner pair as an Object and a long. Two of the flags have owners
   * outside the plain setters: BUSY is the frame's try-lock (tryBusy/unbusy), FREE marks a frame
   * on the free pool and changes only at the hand-offs with it, markFree() (free's first half)
   * and clearForAllocation() (allocate's last step). Nothing here knows where a free frame sits in
   * the pool; FreePool knows nothing of flags.
   *
   * INVALID says that a frame's contents are not yet what its page must hold. Only
   * PhysMem.allocateRun sets it, on each of the 512 frames of a run it hands out with their old
   * contents (by clearForAllocation's release store, together with BUSY): a 2 MiB allocation
   * zeroes or fills the whole run itself, in one pass, rather than 512 zeroings of 4 KiB, so
   * until it has done so the frames hold whatever their last users left. The caller clears it
   * (clearFlag) once a frame is filled and holds the frame busy all the while, so that no one who
   * could see the frame (pageout's clock, a lock-free walker) takes it busy and reads stale
   * words; anyone who finds INVALID set must treat the contents as garbage. markFree drops it
   * with every other flag, so a run abandoned half filled and freed leaves nothing behind.
   *
   * Concurrency:
   * ------------
   * Every access goes through a VarHandle, its mode named at each use. Flags change by CAS loops
   * (tryBusy, markFree), by volatile getAndBitwise{Or,And} (setFlag, clearFlag, unbusy's release
   * form) and by one release store (clearForAllocation). The wire count changes by volatile
   * getAndAdd and by a CAS loop that refuses to go below zero. The owner pair is written by an
   * opaque store of the index, then a release store of the object, and read back in the opposite
   * order (acquire object, opaque index). Only the busy holder writes the owner (or markFree and
   * clearForAllocation, whose caller owns the frame); a reader that does not hold the frame busy
   * may see a pair torn between two owners and must revalidate under tryBusy.
   *
   * Linearization points: tryBusy at its successful CAS, or (false) at the acquire load that saw
   * BUSY; markFree at the CAS that sets FREE, which is what catches two concurrent frees of one
   * frame: exactly one of them sets the bit, the other throws; unwire at its successful CAS.
   *
   * Invariants (quiescent; checkFreeFrame and checkFrames verify them, PhysMem.checkInvariants
   * calls both):
   * -----------
   *   I2. A free frame is neither wired nor busy, and has no owner. markFree refuses a wired
   *       frame, drops every flag but FREE (BUSY included) and clears the owner; wire refuses a
   *       free frame; tryBusy and setOwner are the caller's to use on allocated frames only.
   *   I5. A frame's wire count is never negative: unwire's CAS loop refuses to go below zero.
   *   I6. No frame is INVALID: every fill that allocateRun began has finished (checkFrames;
   *       while one is in flight the system is not quiescent).
   * Besides, no flag bit outside ALL_FLAGS is ever set.
   *
   * Lock order: none. BUSY is a try-lock the callers build on (it ranks as the vm_page busy lock
   * in the package order of org.vmoracle.impl); nothing here waits for it.
   *
   * References: FreeBSD sys/vm/vm_page.h (per-page state and its lock legend).
   */

  /** Owner page index of a frame that has no owner. */
  static final long NO_INDEX = -1L;

  /*
   * Frame flags, one int per frame:
   *
   *   |31 ......... 6|    5    |    4   |  3   |     2      |   1   |  0   |
   *   |  reserved 0  | INVALID | PTPAGE | FREE | REFERENCED | DIRTY | BUSY |
   */

  /** Held by one thread that works on the frame; taken with {@link #tryBusy}. Bit 0. */
  static final int BUSY = 1 << 0;

  /** The contents differ from the backing store (file or swap). Bit 1. */
  static final int DIRTY = 1 << 1;

  /** Accessed since the page daemon's clock hand last cleared it. Bit 2. */
  static final int REFERENCED = 1 << 2;

  /** On a free stack; set by {@link #markFree} only, cleared by clearForAllocation only. Bit 3. */
  static final int FREE = 1 << 3;

  /** Holds a page table of some pmap (never user data, never paged out). Bit 4. */
  static final int PTPAGE = 1 << 4;

  /**
   * The contents are not yet what the page must hold: set by allocateRun only (with BUSY), cleared
   * by the run's owner with {@link #clearFlag} once the frame is filled, or by markFree. Bit 5.
   */
  static final int INVALID = 1 << 5;

  /** The flags that {@link #setFlag} and {@link #clearFlag} accept: BUSY and FREE have owners. */
  static final int SETTABLE_FLAGS = DIRTY | REFERENCED | PTPAGE | INVALID;

  /** Every defined flag bit; the others stay zero. */
  static final int ALL_FLAGS = BUSY | DIRTY | REFERENCED | FREE | PTPAGE | INVALID;

  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
  private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
  private static final VarHandle OBJECTS = MethodHandles.arrayElementVarHandle(Object[].class);

  // Lock legend:
  //   (c) const after construction
  //   (a) atomic only: every access through a VarHandle, mode named at use
  //   (b) written only by the holder of the frame's BUSY bit (or by markFree and
  //       clearForAllocation, whose caller owns the frame)

  private final int frames; // (c)
  private final int[] flags; // (a) one int a frame, layout above
  private final int[] wireCount; // (a) one int a frame, never negative (I5)
  private final Object[] owner; // (b)(a) release store, acquire load
  private final long[] ownerIndex; // (b)(a) opaque

  /**
   * State for {@code frames} frames, every one FREE, unwired and without owner (I2), as the pool
   * that PhysMem builds beside it holds them all.
   *
   * <p>The caller passes frames ≥ 1; the plain writes here are published by the final-field freeze
   * of PhysMem, which reaches this object through a final field.
   */
  FrameState(int frames) {
    this.frames = frames;
    this.flags = new int[frames];
    this.wireCount = new int[frames];
    this.owner = new Object[frames];
    this.ownerIndex = new long[frames];
    Arrays.fill(ownerIndex, NO_INDEX);
    Arrays.fill(flags, FREE);
  }

  // ---------------------------------------------------------------- Flags and busy

  /**
   * Takes frame {@code f} busy if no one holds it: acquire load, then a volatile CAS that sets
   * BUSY. A failed CAS means some other bit changed, and the loop re-reads. See {@link
   * PhysMem#tryBusy}.
   */
  boolean tryBusy(int f) {
    checkFrame(f);
    for (; ; ) {
      int old = (int) INTS.getAcquire(flags, f);
      if ((old & BUSY) != 0) {
        return false; // linearization point: the acquire load that saw BUSY
      }
      if (INTS.compareAndSet(flags, f, old, old | BUSY)) {
        return true; // linearization point: the CAS
      }
    }
  }

  /** Releases BUSY, release getAndBitwiseAnd. See {@link PhysMem#unbusy}. */
  void unbusy(int f) {
    checkFrame(f);
    int old = (int) INTS.getAndBitwiseAndRelease(flags, f, ~BUSY);
    if ((old & BUSY) == 0) {
      throw new IllegalStateException("unbusy of frame " + f + ", which is not busy");
    }
  }

  /** Sets {@code flag} (of {@link #SETTABLE_FLAGS}), volatile getAndBitwiseOr. */
  void setFlag(int f, int flag) {
    checkFrame(f);
    checkSettable(flag);
    INTS.getAndBitwiseOr(flags, f, flag);
  }

  /** Clears {@code flag} (of {@link #SETTABLE_FLAGS}), volatile getAndBitwiseAnd. */
  void clearFlag(int f, int flag) {
    checkFrame(f);
    checkSettable(flag);
    INTS.getAndBitwiseAnd(flags, f, ~flag);
  }

  /** Whether every bit of {@code flag} is set on frame {@code f}, acquire load. */
  boolean testFlag(int f, int flag) {
    checkFrame(f);
    return ((int) INTS.getAcquire(flags, f) & flag) == flag;
  }

  /** All flag bits of frame {@code f}, acquire load. */
  int flags(int f) {
    checkFrame(f);
    return (int) INTS.getAcquire(flags, f);
  }

  private static void checkSettable(int flag) {
    if (flag == 0 || (flag & ~SETTABLE_FLAGS) != 0) {
      throw new IllegalArgumentException(
          "flag 0x"
              + Integer.toHexString(flag)
              + ": only DIRTY, REFERENCED, PTPAGE and INVALID are set and cleared directly");
    }
  }

  // ---------------------------------------------------------------- Wiring

  /** Adds one to the wire count (volatile getAndAdd); refuses a free frame (I2). */
  void wire(int f) {
    checkFrame(f);
    if (((int) INTS.getAcquire(flags, f) & FREE) != 0) {
      throw new IllegalStateException("wire of frame " + f + ", which is free");
    }
    INTS.getAndAdd(wireCount, f, 1);
  }

  /** Subtracts one from the wire count by a CAS loop that refuses to go below zero (I5). */
  void unwire(int f) {
    checkFrame(f);
    for (; ; ) {
      int old = (int) INTS.getAcquire(wireCount, f);
      if (old <= 0) {
        throw new IllegalStateException("unwire of frame " + f + ", which is not wired");
      }
      if (INTS.compareAndSet(wireCount, f, old, old - 1)) {
        return; // linearization point: the CAS
      }
      // Failed CAS: a concurrent wire or unwire; retry.
    }
  }

  /** The wire count, acquire load. */
  int wireCount(int f) {
    checkFrame(f);
    return (int) INTS.getAcquire(wireCount, f);
  }

  // ---------------------------------------------------------------- Owner

  /**
   * Records the owner pair: opaque store of the index, then release store of the object.
   *
   * <p>The caller holds the frame busy; this checks it.
   */
  void setOwner(int f, Object obj, long index) {
    checkFrame(f);
    if (!testFlag(f, BUSY)) {
      throw new IllegalStateException("setOwner of frame " + f + ", which is not busy");
    }
    LONGS.setOpaque(ownerIndex, f, index);
    OBJECTS.setRelease(owner, f, obj);
  }

  /** The owner object, acquire load. */
  Object owner(int f) {
    checkFrame(f);
    return OBJECTS.getAcquire(owner, f);
  }

  /** The owner page index, opaque load. */
  long ownerIndex(int f) {
    checkFrame(f);
    return (long) LONGS.getOpaque(ownerIndex, f);
  }

  // ---------------------------------------------------------------- Hand-offs with the pool

  /**
   * Free's first half: sets FREE (dropping every other flag, BUSY included) by a CAS loop and
   * clears the owner (opaque stores). The caller pushes the frame onto the pool next; the push's
   * release publishes these stores.
   *
   * <p>Linearizes at the CAS that sets FREE.
   *
   * <p>The caller owns the frame (allocated it and did not free it since).
   *
   * @throws IllegalStateException if the frame is wired or already free; nothing has changed then
   */
  void markFree(int f) {
    checkFrame(f);
    int wires = (int) INTS.getAcquire(wireCount, f);
    if (wires != 0) {
      throw new IllegalStateException(
          "free of frame " + f + ", which is wired (wire count " + wires + ")");
    }
    for (; ; ) {
      int old = (int) INTS.getAcquire(flags, f);
      if ((old & FREE) != 0) {
        throw new IllegalStateException("double free of frame " + f + ": it is already free");
      }
      if (INTS.compareAndSet(flags, f, old, FREE)) {
        break; // linearization point of free
      }
      // Failed CAS: another flag bit (REFERENCED, DIRTY) changed meanwhile; re-read and retry.
    }
    LONGS.setOpaque(ownerIndex, f, NO_INDEX);
    OBJECTS.setOpaque(owner, f, null); // published by the push's release
  }

  /**
   * Allocate's last step: clears wire count and owner (opaque), then stores {@code initialFlags}
   * (0, BUSY for allocateBusy, BUSY | INVALID for each frame of allocateRun) with a release store
   * that clears FREE after the rest is reset.
   *
   * <p>The caller popped {@code f} off the pool, so owns it exclusively; {@code f} is in range.
   */
  void clearForAllocation(int f, int initialFlags) {
    INTS.setOpaque(wireCount, f, 0); // already 0 (markFree refuses wired frames); belt and braces
    LONGS.setOpaque(ownerIndex, f, NO_INDEX);
    OBJECTS.setOpaque(owner, f, null);
    INTS.setRelease(flags, f, initialFlags); // release: clears FREE after the state is reset
  }

  /** Whether frame {@code f} is flagged FREE, volatile load; for the invariant checks only. */
  boolean isFreeVolatile(int f) {
    return ((int) INTS.getVolatile(flags, f) & FREE) != 0;
  }

  // ---------------------------------------------------------------- Invariants

  /**
   * Checks that frame {@code f}, found on free stripe {@code stripe} (or in a free run, when {@code
   * stripe} is {@link FreePool#IN_RUN}), is flagged FREE (I1's one half) and neither busy, wired
   * nor owned (I2). Never repairs anything.
   *
   * <p>The caller makes sure nothing changes meanwhile; {@code f} is in range.
   *
   * @throws IllegalStateException naming what is wrong
   */
  void checkFreeFrame(int stripe, int f) {
    int fl = (int) INTS.getVolatile(flags, f);
    if ((fl & FREE) == 0) {
      String where =
          stripe == FreePool.IN_RUN
              ? "in free run " + (f >>> FreePool.RUN_SHIFT) + " on the run stack"
              : "on free stripe " + stripe;
      throw new IllegalStateException("frame " + f + " is " + where + " but not flagged FREE");
    }
    if ((fl & BUSY) != 0) {
      throw new IllegalStateException("free frame " + f + " is busy");
    }
    int w = (int) INTS.getVolatile(wireCount, f);
    if (w != 0) {
      throw new IllegalStateException("free frame " + f + " is wired (wire count " + w + ")");
    }
    if (OBJECTS.getVolatile(owner, f) != null) {
      throw new IllegalStateException("free frame " + f + " still has an owner");
    }
  }

  /**
   * Checks every frame, lowest first: flagged FREE only if {@code onStack} says it is on a free
   * stack or in a free run (I1's other half), no undefined flag bit, not INVALID (I6), wire count
   * not negative (I5). Never repairs anything.
   *
   * <p>The caller makes sure nothing changes meanwhile; {@code onStack} has one entry per frame.
   *
   * @throws IllegalStateException naming the first frame that is wrong
   */
  void checkFrames(boolean[] onStack) {
    for (int f = 0; f < frames; f++) {
      int fl = (int) INTS.getVolatile(flags, f);
      if ((fl & FREE) != 0 && !onStack[f]) {
        throw new IllegalStateException(
            "frame " + f + " is flagged FREE but on no free stack and in no free run");
      }
      if ((fl & ~ALL_FLAGS) != 0) {
        throw new IllegalStateException(
            "frame " + f + " has undefined flag bits 0x" + Integer.toHexString(fl));
      }
      if ((fl & INVALID) != 0) {
        throw new IllegalStateException(
            "frame " + f + " is INVALID: a fill that allocateRun began never finished");
      }
      int w = (int) INTS.getVolatile(wireCount, f);
      if (w < 0) {
        throw new IllegalStateException("frame " + f + " has wire count " + w);
      }
    }
  }

  // ---------------------------------------------------------------- Helpers

  private void checkFrame(int f) {
    Objects.checkIndex(f, frames);
  }
}
