package org.vmoracle.impl.phys;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntPredicate;

/**
 * Physical memory: a fixed number of 4 KiB frames with real contents, a free pool that does not
 * serialize all cores, and the per-frame state the VM keeps beside each frame (flags, wire count,
 * owner).
 *
 * <p>Frame {@code f} holds 512 words (longs) at {@code [f * 512, f * 512 + 512)} of one {@code
 * long[]}. User data is read and written in plain mode ({@link #load}, {@link #store}); page-table
 * entries, which lock-free walkers read while others change them, go through the acquire, release
 * and CAS accessors ({@link #loadAcquire}, {@link #storeRelease}, {@link #cas}, {@link
 * #getAndSet}).
 */
public final class PhysMem {
  /*
   * Overview:
   * ---------
   * Three things live here, each in flat arrays indexed by frame number, so that a frame costs no
   * object of its own (a vm_page array, as in every BSD):
   *
   *   words      the contents, 512 longs a frame, in one long[];
   *   state      flags, wire count, owner object and owner page index, one array each;
   *   free pool  STRIPES lock-free Treiber stacks of frame numbers, linked through next[].
   *
   * The free pool. One free list under one lock (or one CAS word) would make every zero-fill
   * fault of every core bounce the same cache line; seed 000 counts four bounces a fault in all.
   * So the pool is split into a power-of-two number of stripes, at least twice the processors (so
   * two threads rarely share a home by chance) and at least four. A thread gets a home stripe once,
   * round robin, from a ThreadLocal token; it allocates from its home and frees onto its home.
   * When its home is empty it steals: it tries the other stripes in order, home+1 first, and takes
   * up to STEAL_BATCH frames off the first that has any in one CAS, keeps one and pushes the rest
   * onto its home in one more. One frame a steal would make two threads that have run their homes
   * dry pop each other's stripes frame by frame, bouncing both heads on every allocation (seen:
   * two threads faulting 128 MiB each ran no faster than one). Frames therefore migrate between
   * stripes only through allocate/free and these batches, never by rebalancing.
   *
   * A batch steal walks up to STEAL_BATCH links below the victim's top before its CAS; the stamp
   * argument covers the walk too: if the stamp is unchanged at the CAS, no push or pop touched the
   * stripe since the head was read, so every link walked was still in the stack and unchanged.
   * Between its two CASes the batch is on no stack: a concurrent allocate() may then see every
   * stripe empty and answer -1. Every caller allocates under the map lock; when it answers
   * out-of-memory it holds the lock exclusive, when no other allocation, and so no batch, is in
   * flight.
   *
   * A stripe's head is a long:   |63 ........ 32|31 ........... 0|
   *                              |  ABA stamp   |   top frame + 1 |   (0 in the low half: empty)
   * Every successful CAS on a head, push or pop, adds one to the stamp. The classic Treiber ABA
   * race (pop reads top=A and next[A]=B, stalls; A and B are popped, A is pushed back; the stalled
   * CAS would install the popped B) cannot succeed, because the stalled CAS expects the old stamp.
   * A 32-bit stamp wraps only after 2^32 head changes on one stripe while one pop is stalled
   * between its two reads; we accept that, as every stamped Treiber stack does.
   *
   * Zeroing. allocate() zeroes the frame after it pops it and before it returns it (FreeBSD
   * zeroes on allocation too, unless PG_ZERO says the page is already clean), so no one ever reads
   * another's old data; free() leaves the contents alone.
   *
   * Reclaims. A thread that frees frames no one can reach any more, holding no lock (the second
   * half of an munmap), announces it with beginReclaim() and ends it with endReclaim(). An
   * allocation that finds every stripe empty while a reclaim is in flight waits for it and tries
   * again, so that "no frame" is never answered for frames on their way back; the implementation's
   * frame walkers (pageout's clock, the invariant checker) wait for reclaims too.
   *
   * Concurrency:
   * ------------
   * The pool is lock-free: a push or pop retries only when another push or pop on the same stripe
   * won. Linearization points: a pop at its successful head CAS; a push at its successful head
   * CAS; allocate() at the pop's CAS, or at the moment it sees the last stripe empty when it
   * answers -1 (so -1 means every stripe was seen empty at some moment during the call; a frame
   * freed meanwhile onto a stripe already visited is missed, as with any per-CPU free list);
   * free() at the CAS that sets FREE in the flags (this is what catches two concurrent frees of
   * one frame: exactly one of them sets the bit, the other throws).
   *
   * Memory orders. The head CAS is a volatile compareAndSet: its release half publishes next[f],
   * written just before by the pusher, and everything the freeing thread did to the frame; its
   * acquire half, on the popping side, makes those writes happen-before the allocator's zeroing,
   * so stale user stores cannot land after the zeroing. next[] is read and written in opaque
   * mode: a pop may read next[top] while top is being pushed again elsewhere, and then reads a
   * stale link, which its stamped CAS rejects. allocate() zeroes the contents in plain mode and
   * clears the flags with a release store; whoever receives the frame publishes it further (the
   * pmap by a volatile CAS of a PTE), so plain zeroing is enough.
   *
   * Per-frame state is all VarHandle access, named at each use: flags by CAS loops (tryBusy,
   * setFlag, free) and release stores; the wire count by CAS loops that refuse to go below zero;
   * the owner pair by a release store of the object after an opaque store of the index, read back
   * in the opposite order. Only the busy holder writes the owner; a reader that does not hold the
   * frame busy may see a pair torn between two owners and must revalidate under tryBusy.
   *
   * Beside each stripe head, in the same cache line (already bouncing), sit its pop and push
   * counts, each added to after the head CAS, and the number of frames the stripe began with. A
   * stripe's free count is start + pushes - pops; the pops of all stripes are the allocations, the
   * pushes the frees, so counting costs no atomic instruction beyond these two. All are
   * approximate while pushes and pops are in flight and exact when the pool is quiescent.
   *
   * Invariants (quiescent; checkInvariants verifies them):
   * -----------
   *   I1. The free stacks hold exactly the frames flagged FREE, each exactly once.
   *   I2. A free frame is neither wired nor busy, and has no owner.
   *   I3. Each stripe's count (start + pushes - pops) equals the length of its stack;
   *       freeFrames() is their sum.
   *   I4. A frame returned by allocate() reads zero in every word, and its flags, wire count and
   *       owner are cleared (allocateBusy() sets BUSY alone).
   *   I5. A frame's wire count is never negative.
   *
   * Lock order: none. Nothing here blocks; BUSY is a try-lock the callers build on (it ranks as
   * the vm_page busy lock in the package order of org.vmoracle.impl).
   *
   * References: R. K. Treiber, "Systems Programming: Coping with Parallelism", IBM RJ 5118, 1986;
   * FreeBSD sys/vm/vm_page.h (per-page state and its lock legend), vm_phys.c (per-domain free
   * queues); seed 000 (four cache-line bounces per fault).
   */

  // ---------------------------------------------------------------- Constants

  /** Words (longs) in a frame: 512, because a frame is 4 KiB (DESIGN.md) and a word 8 bytes. */
  public static final int WORDS_PER_FRAME = 512;

  /** log2 of {@link #WORDS_PER_FRAME}: the shift from frame number to its first word index. */
  public static final int FRAME_WORD_SHIFT = 9;

  /** Bytes in a frame: 4096, the page size of DESIGN.md ("Pages are 4 KiB"). */
  public static final int FRAME_BYTES = WORDS_PER_FRAME * Long.BYTES;

  /**
   * The most frames one instance holds: 4,194,303 (16 GiB), because all contents live in one {@code
   * long[]}, whose length is at most {@code Integer.MAX_VALUE}.
   */
  public static final int MAX_FRAMES = Integer.MAX_VALUE / WORDS_PER_FRAME;

  /** Owner page index of a frame that has no owner. */
  public static final long NO_INDEX = -1L;

  /*
   * Frame flags, one int per frame:
   *
   *   |31 .......... 5|    4   |  3   |     2      |   1   |  0   |
   *   |   reserved 0  | PTPAGE | FREE | REFERENCED | DIRTY | BUSY |
   */

  /** Held by one thread that works on the frame; taken with {@link #tryBusy}. Bit 0. */
  public static final int BUSY = 1 << 0;

  /** The contents differ from the backing store (file or swap). Bit 1. */
  public static final int DIRTY = 1 << 1;

  /** Accessed since the page daemon's clock hand last cleared it. Bit 2. */
  public static final int REFERENCED = 1 << 2;

  /** On a free stack; set by {@link #free} only, cleared by {@link #allocate} only. Bit 3. */
  public static final int FREE = 1 << 3;

  /** Holds a page table of some pmap (never user data, never paged out). Bit 4. */
  public static final int PTPAGE = 1 << 4;

  /** The flags that {@link #setFlag} and {@link #clearFlag} accept: BUSY and FREE have owners. */
  public static final int SETTABLE_FLAGS = DIRTY | REFERENCED | PTPAGE;

  /** Every defined flag bit; the others stay zero. */
  public static final int ALL_FLAGS = BUSY | DIRTY | REFERENCED | FREE | PTPAGE;

  /*
   * Stripe head slots in heads[]:
   *
   *   heads: | pad (STRIDE) | s0 head, s0 count, pad... | s1 head, s1 count, pad... | ... | pad |
   *
   * Each stripe has HEAD_STRIDE longs to itself so that two stripes never share a cache line.
   */

  /**
   * Longs between two stripe heads: 16, i.e. 128 bytes, two 64-byte cache lines, because Intel's
   * adjacent-line prefetcher pulls lines in pairs (the JDK's {@code @Contended} pads 128 bytes for
   * the same reason).
   */
  static final int HEAD_STRIDE = 16;

  /**
   * Most frames one steal moves from another stripe to the thief's home (one kept, the rest
   * pushed).
   */
  static final int STEAL_BATCH = 32;

  /** Offsets from a stripe's head, in longs, all in the head's cache line: frames popped, */
  private static final int POPS_OFFSET = 1;

  /** frames pushed, */
  private static final int PUSHES_OFFSET = 2;

  /** and frames the stripe began with (constant). */
  private static final int START_OFFSET = 3;

  /** Low 32 bits of a stripe head: top frame + 1, 0 when the stack is empty. */
  private static final long TOP_MASK = 0xFFFF_FFFFL;

  /** Shift of the ABA stamp in a stripe head: the high 32 bits. */
  private static final int STAMP_SHIFT = 32;

  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
  private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
  private static final VarHandle OBJECTS = MethodHandles.arrayElementVarHandle(Object[].class);

  /** Hands out home-stripe tokens round robin, one per thread, across all instances. */
  private static final AtomicInteger NEXT_TOKEN = new AtomicInteger();

  /** The calling thread's token; its home stripe is the token modulo the stripe count. */
  private static final ThreadLocal<Integer> HOME_TOKEN =
      ThreadLocal.withInitial(NEXT_TOKEN::getAndIncrement);

  // ---------------------------------------------------------------- Fields
  //
  // Lock legend:
  //   (c) const after construction
  //   (a) atomic only: every access through a VarHandle or an atomic class, mode named at use
  //   (p) contents: plain for user data, VarHandle modes for page-table words (see class essay)
  //   (s) stripe protocol: written by the pusher before its head CAS, read opaque by poppers
  //   (b) written only by the holder of the frame's BUSY bit (or by allocate/free, which own it)

  private final int frames; // (c)
  private final int stripes; // (c) a power of two
  private final int stripeMask; // (c) stripes - 1
  private final long[] words; // (c) array; (p) contents
  private final int[] flags; // (a) one int a frame, layout above
  private final int[] wireCount; // (a) one int a frame, never negative
  private final Object[] owner; // (b)(a) release store, acquire load
  private final long[] ownerIndex; // (b)(a) opaque
  private final int[] next; // (s) next frame down a free stack, -1 at the bottom
  private final long[] heads; // (a) stripe heads and counts, layout above
  private final LongAdder allocationFailures = new LongAdder(); // (a)
  private final LongAdder steals = new LongAdder(); // (a)
  private final LongAdder moved = new LongAdder(); // (a) frames batch steals pushed onto a home
  private final AtomicInteger reclaims = new AtomicInteger(); // (a) reclaims in flight

  // ---------------------------------------------------------------- Construction

  /**
   * Memory of {@code frames} frames, all free, spread over the default number of stripes: the least
   * power of two that is at least twice the available processors, and at least 4.
   *
   * <p>No requirements.
   */
  public PhysMem(int frames) {
    this(frames, defaultStripes());
  }

  /**
   * Memory of {@code frames} frames, all free, spread over {@code stripes} stripes in contiguous
   * runs (stripe 0 holds the lowest frames), lowest frame on top.
   *
   * <p>The caller passes 1 ≤ frames ≤ {@link #MAX_FRAMES} and a power-of-two stripe count; tests
   * use small counts to make stealing deterministic.
   */
  public PhysMem(int frames, int stripes) {
    if (frames < 1 || frames > MAX_FRAMES) {
      throw new IllegalArgumentException(
          "frames " + frames + ": between 1 and " + MAX_FRAMES + " are supported");
    }
    if (stripes < 1 || Integer.bitCount(stripes) != 1) {
      throw new IllegalArgumentException("stripes " + stripes + ": a power of two is needed");
    }
    this.frames = frames;
    this.stripes = stripes;
    this.stripeMask = stripes - 1;
    this.words = new long[frames * WORDS_PER_FRAME];
    this.flags = new int[frames];
    this.wireCount = new int[frames];
    this.owner = new Object[frames];
    this.ownerIndex = new long[frames];
    this.next = new int[frames];
    this.heads = new long[(stripes + 2) * HEAD_STRIDE];
    Arrays.fill(ownerIndex, NO_INDEX);
    Arrays.fill(flags, FREE);
    // Stripe s gets [lo, hi); pushing from the top down leaves lo on top.
    for (int s = 0; s < stripes; s++) {
      int lo = (int) ((long) frames * s / stripes);
      int hi = (int) ((long) frames * (s + 1) / stripes);
      int below = -1;
      for (int f = hi - 1; f >= lo; f--) {
        next[f] = below;
        below = f;
      }
      heads[headSlot(s)] = pack(0, below);
      heads[headSlot(s) + START_OFFSET] = hi - lo;
    }
    // The constructor's plain writes are published by the final-field freeze (all arrays are
    // reached through final fields), so no fence is needed here.
  }

  private static int defaultStripes() {
    int want = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
    int p = Integer.highestOneBit(want);
    return p == want ? p : p << 1;
  }

  // ---------------------------------------------------------------- Sizes and counters

  /** The number of frames. No requirements. */
  public int frames() {
    return frames;
  }

  /** The number of free-pool stripes (a power of two). No requirements. */
  public int stripes() {
    return stripes;
  }

  /**
   * The calling thread's home stripe: the one it allocates from first and frees onto.
   *
   * <p>No requirements.
   */
  public int homeStripe() {
    return HOME_TOKEN.get() & stripeMask;
  }

  /**
   * Free frames: the sum of the stripe counts (each read opaque). Approximate while allocations or
   * frees are in flight, exact when the pool is quiescent (invariant I3).
   *
   * <p>No requirements.
   */
  public int freeFrames() {
    long sum = 0;
    for (int s = 0; s < stripes; s++) {
      sum += count(s);
    }
    // A count lags its head CAS, so mid-flight the sum can dip below the truth (by at most one
    // per thread between a push CAS and its increment); never report less than nothing.
    return (int) Math.max(0, sum);
  }

  /** Frames handed out by {@link #allocate}, ever. No requirements. */
  public long allocations() {
    return sum(POPS_OFFSET) - moved.sum(); // a batch steal pops its frames, and pushes all but one
  }

  /** Calls of {@link #allocate} that found no free frame and answered -1. No requirements. */
  public long allocationFailures() {
    return allocationFailures.sum();
  }

  /** Frames returned by {@link #free}, ever. No requirements. */
  public long frees() {
    return sum(PUSHES_OFFSET) - moved.sum();
  }

  /** Allocations served by a stripe other than the caller's home. No requirements. */
  public long steals() {
    return steals.sum();
  }

  // ---------------------------------------------------------------- Contents: user data

  /**
   * Word {@code word} of frame {@code frame}, plain load.
   *
   * <p>The caller has made the frame's contents visible to itself (by the acquire load of the PTE
   * or the busy bit that led it here); racing plain stores may or may not be seen.
   */
  public long load(int frame, int word) {
    return words[wordIndex(frame, word)];
  }

  /**
   * Stores {@code v} into word {@code word} of frame {@code frame}, plain store.
   *
   * <p>The caller publishes the store, if others must see it, by a later release (a PTE CAS, an
   * unbusy, a free).
   */
  public void store(int frame, int word, long v) {
    words[wordIndex(frame, word)] = v;
  }

  /**
   * Copies all 512 words of frame {@code from} into frame {@code to}, plain loads and stores.
   *
   * <p>The caller holds both frames (busy, or freshly allocated); {@code from != to}.
   */
  public void copyFrame(int from, int to) {
    checkFrame(from);
    checkFrame(to);
    System.arraycopy(
        words, from << FRAME_WORD_SHIFT, words, to << FRAME_WORD_SHIFT, WORDS_PER_FRAME);
  }

  /**
   * Copies {@code page}, 512 words (a swapped-out page, the shared page's words), into frame {@code
   * f}, plain stores.
   *
   * <p>The caller holds the frame (busy, or freshly allocated).
   */
  public void storePage(int f, long[] page) {
    checkFrame(f);
    System.arraycopy(page, 0, words, f << FRAME_WORD_SHIFT, WORDS_PER_FRAME);
  }

  /**
   * Copies the 512 words of frame {@code f} into {@code page}, plain loads.
   *
   * <p>The caller holds the frame busy, or the map lock exclusive.
   */
  public void loadPage(int f, long[] page) {
    checkFrame(f);
    System.arraycopy(words, f << FRAME_WORD_SHIFT, page, 0, WORDS_PER_FRAME);
  }

  /**
   * Sets all 512 words of frame {@code f} to zero, plain stores.
   *
   * <p>The caller holds the frame (busy, or freshly allocated).
   */
  public void zeroFrame(int f) {
    checkFrame(f);
    int base = f << FRAME_WORD_SHIFT;
    Arrays.fill(words, base, base + WORDS_PER_FRAME, 0L);
  }

  // ---------------------------------------------------------------- Contents: page-table words

  /**
   * Entry {@code idx} of the table in frame {@code frame}, acquire load: everything the writer did
   * before its release store or CAS of this entry (e.g. zeroing a child table) is visible.
   *
   * <p>No requirements (the frame should hold a page table; the load is safe regardless).
   */
  public long loadAcquire(int frame, int idx) {
    return (long) LONGS.getAcquire(words, wordIndex(frame, idx));
  }

  /**
   * Stores entry {@code idx} of the table in frame {@code frame}, release store.
   *
   * <p>The caller is the only writer of this entry (otherwise it must use {@link #cas}).
   */
  public void storeRelease(int frame, int idx, long v) {
    LONGS.setRelease(words, wordIndex(frame, idx), v);
  }

  /**
   * Replaces entry {@code idx} of the table in frame {@code frame} with {@code update} if it holds
   * {@code expect}; volatile compareAndSet (acquire and release). False means the entry held
   * something else at the moment of the CAS.
   *
   * <p>No requirements.
   */
  public boolean cas(int frame, int idx, long expect, long update) {
    return LONGS.compareAndSet(words, wordIndex(frame, idx), expect, update);
  }

  /**
   * Stores {@code v} into entry {@code idx} of the table in frame {@code frame} and returns what
   * was there; volatile getAndSet.
   *
   * <p>No requirements.
   */
  public long getAndSet(int frame, int idx, long v) {
    return (long) LONGS.getAndSet(words, wordIndex(frame, idx), v);
  }

  // ---------------------------------------------------------------- Allocation

  /**
   * A free frame, zeroed, with its flags, wire count and owner cleared; or -1 when every stripe was
   * seen empty. Tries the caller's home stripe first, then steals from the others in order.
   *
   * <p>Linearizes at the pop's head CAS (or, answering -1, when the last stripe is seen empty).
   *
   * <p>No requirements. The caller owns the frame until it frees it.
   */
  public int allocate() {
    return allocate(null, 0);
  }

  /**
   * {@link #allocate()}, but the frame comes already {@link #BUSY}, held by the caller, who
   * releases it with {@link #unbusy}: one compare-and-set fewer on the fault path than allocating
   * and then taking busy. No one else can hold it busy: no one else has it.
   *
   * <p>No requirements.
   */
  public int allocateBusy() {
    return allocate(null, BUSY);
  }

  /**
   * {@link #allocate()} with a test seam: {@code betweenReadAndCas}, when not null, runs in every
   * pop attempt after the pop has read the head and the link below it and before its CAS, the
   * window of the Treiber ABA race. Tests use it to replay that race deterministically; production
   * passes null.
   *
   * <p>No requirements.
   */
  int allocate(Runnable betweenReadAndCas) {
    return allocate(betweenReadAndCas, 0);
  }

  private int allocate(Runnable betweenReadAndCas, int initialFlags) {
    int home = homeStripe();
    int f = pop(home, betweenReadAndCas);
    if (f < 0) {
      for (int i = 1; i < stripes && f < 0; i++) {
        f = steal((home + i) & stripeMask, home, betweenReadAndCas);
      }
      if (f < 0) {
        if (reclaims.get() != 0) {
          awaitReclaims(); // frames on their way back: wait for them rather than fail
          return allocate(betweenReadAndCas, initialFlags);
        }
        allocationFailures.increment();
        return -1;
      }
      steals.increment();
    }
    // We own f exclusively now: the pop's acquire ordered every earlier user of f before us.
    int base = f << FRAME_WORD_SHIFT;
    Arrays.fill(words, base, base + WORDS_PER_FRAME, 0L); // plain: published by the caller
    INTS.setOpaque(wireCount, f, 0); // already 0 (free() refuses wired frames); belt and braces
    LONGS.setOpaque(ownerIndex, f, NO_INDEX);
    OBJECTS.setOpaque(owner, f, null);
    INTS.setRelease(flags, f, initialFlags); // release: clears FREE after the state is reset
    return f;
  }

  /**
   * Returns frame {@code f} to the pool: sets FREE (dropping every other flag, BUSY included),
   * clears the owner and pushes the frame onto the caller's home stripe. The contents are left as
   * they are; {@link #allocate} zeroes them before the next user.
   *
   * <p>Linearizes at the CAS that sets FREE.
   *
   * <p>The caller owns the frame (allocated it and did not free it since) and has removed every
   * mapping of it; it may hold the frame busy, and must not use it afterwards.
   *
   * @throws IllegalStateException if the frame is already free (double free) or wired; nothing has
   *     changed then
   */
  public void free(int f) {
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
    push(homeStripe(), f);
  }

  private int pop(int s, Runnable betweenReadAndCas) {
    int slot = headSlot(s);
    for (; ; ) {
      // Acquire: pairs with the release half of the push CAS that installed this head, so the
      // pusher's next[top] store is visible.
      long h = (long) LONGS.getAcquire(heads, slot);
      int top = (int) (h & TOP_MASK) - 1;
      if (top < 0) {
        return -1;
      }
      // Opaque: stale if top was popped and pushed again since we read h; then the stamp has
      // moved on and the CAS below fails.
      int below = (int) INTS.getOpaque(next, top);
      if (betweenReadAndCas != null) {
        betweenReadAndCas.run(); // test seam only, see allocate(Runnable)
      }
      if (LONGS.compareAndSet(heads, slot, h, pack(stamp(h) + 1, below))) {
        LONGS.getAndAdd(heads, slot + POPS_OFFSET, 1L); // volatile; I3 holds when quiescent
        return top; // linearization point: the CAS above
      }
      // Failed CAS: another push or pop on this stripe changed the head; retry from a fresh read.
    }
  }

  /**
   * Takes up to {@link #STEAL_BATCH} frames off stripe {@code victim} in one CAS, pushes all but
   * the top one onto stripe {@code home} in another, and answers the top one; or -1 if the victim
   * is empty. See the class essay for why the walk below the top is safe.
   */
  private int steal(int victim, int home, Runnable betweenReadAndCas) {
    int slot = headSlot(victim);
    for (; ; ) {
      long h = (long) LONGS.getAcquire(heads, slot);
      int top = (int) (h & TOP_MASK) - 1;
      if (top < 0) {
        return -1;
      }
      int last = top;
      int n = 1;
      for (int below = (int) INTS.getOpaque(next, top);
          below >= 0 && n < STEAL_BATCH;
          below = (int) INTS.getOpaque(next, below)) {
        last = below; // stale if the stripe changed since h; then the CAS below fails
        n++;
      }
      int rest = (int) INTS.getOpaque(next, last);
      if (betweenReadAndCas != null) {
        betweenReadAndCas.run(); // test seam only, see allocate(Runnable)
      }
      if (LONGS.compareAndSet(heads, slot, h, pack(stamp(h) + 1, rest))) {
        LONGS.getAndAdd(heads, slot + POPS_OFFSET, (long) n); // volatile; I3 when quiescent
        if (n > 1) {
          moved.add(n - 1);
          pushChain(home, (int) INTS.getOpaque(next, top), last, n - 1);
        }
        return top;
      }
      // Failed CAS: another push or pop on the victim changed its head; retry from a fresh read.
    }
  }

  /**
   * Pushes the chain {@code first} .. {@code last} of {@code n} frames, which we own, onto stripe
   * {@code s}: one frame for free(), a batch for a steal. Linearizes at the head CAS.
   */
  private void pushChain(int s, int first, int last, int n) {
    int slot = headSlot(s);
    for (; ; ) {
      long h = (long) LONGS.getAcquire(heads, slot);
      INTS.setOpaque(next, last, (int) (h & TOP_MASK) - 1); // published by the CAS's release half
      if (LONGS.compareAndSet(heads, slot, h, pack(stamp(h) + 1, first))) {
        LONGS.getAndAdd(heads, slot + PUSHES_OFFSET, (long) n); // volatile; I3 when quiescent
        return; // linearization point: the CAS above
      }
      // Failed CAS: another push or pop on this stripe changed the head; relink and retry.
    }
  }

  private void push(int s, int f) {
    pushChain(s, f, f, 1);
  }

  /** Stripe {@code s}'s free count, start + pushes - pops, each read opaque. */
  private long count(int s) {
    int slot = headSlot(s);
    return heads[slot + START_OFFSET]
        + (long) LONGS.getOpaque(heads, slot + PUSHES_OFFSET)
        - (long) LONGS.getOpaque(heads, slot + POPS_OFFSET);
  }

  /** The sum over all stripes of the count at {@code offset} from each head, read opaque. */
  private long sum(int offset) {
    long sum = 0;
    for (int s = 0; s < stripes; s++) {
      sum += (long) LONGS.getOpaque(heads, headSlot(s) + offset);
    }
    return sum;
  }

  private static long pack(int stamp, int top) {
    return ((long) stamp << STAMP_SHIFT) | ((top + 1) & TOP_MASK);
  }

  private static int stamp(long head) {
    return (int) (head >>> STAMP_SHIFT);
  }

  private static int headSlot(int s) {
    return (s + 1) * HEAD_STRIDE; // the first stride is padding
  }

  // ---------------------------------------------------------------- Reclaims

  /**
   * Announces a reclaim: frames that nothing can reach any more are about to be freed by a thread
   * that holds no lock (the second half of an munmap). Until the matching {@link #endReclaim},
   * allocate() waits for it rather than answer -1, and {@link #awaitReclaims} waits for it.
   *
   * <p>The caller announces before it lets go of the lock under which the frames became
   * unreachable, so that whoever takes that lock next sees the reclaim.
   */
  public void beginReclaim() {
    reclaims.incrementAndGet();
  }

  /** Ends a reclaim announced by {@link #beginReclaim}: its frames are all freed. */
  public void endReclaim() {
    reclaims.decrementAndGet();
  }

  /**
   * Waits until no reclaim is in flight. Callers that walk frames from the frame side (pageout's
   * clock, the invariant checker) call it after taking the map lock exclusive, which keeps new
   * reclaims from starting; a reclaim holds no lock and waits for nothing, so it ends.
   */
  public void awaitReclaims() {
    while (reclaims.get() != 0) {
      Thread.yield(); // a reclaim frees a frame in tens of nanoseconds; 2 cores may run 3 threads
    }
  }

  // ---------------------------------------------------------------- Flags and busy

  /**
   * Takes frame {@code f} busy if no one holds it. Returns true if the caller now holds it.
   *
   * <p>Linearizes at the successful CAS that sets BUSY (acquire and release), or, answering false,
   * at the acquire load that saw BUSY set. A failed CAS means some other bit changed, and the loop
   * re-reads.
   *
   * <p>The caller holds an allocated frame (not free) and releases it with {@link #unbusy}.
   */
  public boolean tryBusy(int f) {
    checkFrame(f);
    for (; ; ) {
      int old = (int) INTS.getAcquire(flags, f);
      if ((old & BUSY) != 0) {
        return false;
      }
      if (INTS.compareAndSet(flags, f, old, old | BUSY)) {
        return true;
      }
    }
  }

  /**
   * Releases the busy bit of frame {@code f}: a release read-modify-write, so everything the holder
   * did is visible to the next {@link #tryBusy} winner.
   *
   * <p>The caller holds the frame busy.
   *
   * @throws IllegalStateException if the frame is not busy; nothing has changed then
   */
  public void unbusy(int f) {
    checkFrame(f);
    int old = (int) INTS.getAndBitwiseAndRelease(flags, f, ~BUSY);
    if ((old & BUSY) == 0) {
      throw new IllegalStateException("unbusy of frame " + f + ", which is not busy");
    }
  }

  /** Whether frame {@code f} is busy (acquire load). No requirements. */
  public boolean isBusy(int f) {
    return testFlag(f, BUSY);
  }

  /**
   * Sets {@code flag} (a combination of {@link #SETTABLE_FLAGS}) on frame {@code f}, volatile
   * getAndBitwiseOr.
   *
   * <p>The caller holds the frame (allocated, not free). BUSY goes through {@link #tryBusy}, FREE
   * through {@link #free}.
   */
  public void setFlag(int f, int flag) {
    checkFrame(f);
    checkSettable(flag);
    INTS.getAndBitwiseOr(flags, f, flag);
  }

  /**
   * Clears {@code flag} (a combination of {@link #SETTABLE_FLAGS}) on frame {@code f}, volatile
   * getAndBitwiseAnd.
   *
   * <p>The caller holds the frame (allocated, not free).
   */
  public void clearFlag(int f, int flag) {
    checkFrame(f);
    checkSettable(flag);
    INTS.getAndBitwiseAnd(flags, f, ~flag);
  }

  /**
   * Whether every bit of {@code flag} (any of {@link #ALL_FLAGS}) is set on frame {@code f},
   * acquire load.
   *
   * <p>No requirements.
   */
  public boolean testFlag(int f, int flag) {
    checkFrame(f);
    return ((int) INTS.getAcquire(flags, f) & flag) == flag;
  }

  /** All flag bits of frame {@code f}, acquire load. No requirements. */
  public int flags(int f) {
    checkFrame(f);
    return (int) INTS.getAcquire(flags, f);
  }

  private static void checkSettable(int flag) {
    if (flag == 0 || (flag & ~SETTABLE_FLAGS) != 0) {
      throw new IllegalArgumentException(
          "flag 0x"
              + Integer.toHexString(flag)
              + ": only DIRTY, REFERENCED and PTPAGE are set and cleared directly");
    }
  }

  // ---------------------------------------------------------------- Wiring

  /**
   * Adds one to frame {@code f}'s wire count (volatile getAndAdd). A wired frame is never paged out
   * and cannot be freed.
   *
   * <p>The caller holds the frame (allocated, not free).
   *
   * @throws IllegalStateException if the frame is free; nothing has changed then
   */
  public void wire(int f) {
    checkFrame(f);
    if (((int) INTS.getAcquire(flags, f) & FREE) != 0) {
      throw new IllegalStateException("wire of frame " + f + ", which is free");
    }
    INTS.getAndAdd(wireCount, f, 1);
  }

  /**
   * Subtracts one from frame {@code f}'s wire count, by a CAS loop that refuses to go below zero
   * (invariant I5). Linearizes at the successful CAS.
   *
   * <p>The caller wired the frame earlier.
   *
   * @throws IllegalStateException if the count is zero; nothing has changed then
   */
  public void unwire(int f) {
    checkFrame(f);
    for (; ; ) {
      int old = (int) INTS.getAcquire(wireCount, f);
      if (old <= 0) {
        throw new IllegalStateException("unwire of frame " + f + ", which is not wired");
      }
      if (INTS.compareAndSet(wireCount, f, old, old - 1)) {
        return;
      }
      // Failed CAS: a concurrent wire or unwire; retry.
    }
  }

  /** Frame {@code f}'s wire count, acquire load. No requirements. */
  public int wireCount(int f) {
    checkFrame(f);
    return (int) INTS.getAcquire(wireCount, f);
  }

  // ---------------------------------------------------------------- Owner

  /**
   * Records that frame {@code f} holds page {@code index} of {@code obj}: an opaque store of the
   * index, then a release store of the object ({@code null} and {@link #NO_INDEX} clear it).
   *
   * <p>The caller holds the frame busy.
   *
   * @throws IllegalStateException if the frame is not busy; nothing has changed then
   */
  public void setOwner(int f, Object obj, long index) {
    checkFrame(f);
    if (!isBusy(f)) {
      throw new IllegalStateException("setOwner of frame " + f + ", which is not busy");
    }
    LONGS.setOpaque(ownerIndex, f, index);
    OBJECTS.setRelease(owner, f, obj);
  }

  /**
   * The object frame {@code f} belongs to, or null; acquire load.
   *
   * <p>Exact for the busy holder; others may see a value that is changing and revalidate.
   */
  public Object owner(int f) {
    checkFrame(f);
    return OBJECTS.getAcquire(owner, f);
  }

  /**
   * The page index of frame {@code f} in its owner, or {@link #NO_INDEX}; opaque load.
   *
   * <p>Exact for the busy holder; others may see a pair torn between two owners.
   */
  public long ownerIndex(int f) {
    checkFrame(f);
    return (long) LONGS.getOpaque(ownerIndex, f);
  }

  // ---------------------------------------------------------------- Invariants

  /**
   * Checks invariants I1–I3 and I5 (see the class essay). Never repairs anything.
   *
   * <p>The caller makes sure no allocation, free, wire or busy change runs meanwhile.
   *
   * @throws IllegalStateException naming the first frame or stripe that is wrong
   */
  public void checkInvariants() {
    boolean[] onStack = new boolean[frames];
    int[] stripeOf = new int[frames];
    for (int s = 0; s < stripes; s++) {
      long h = (long) LONGS.getVolatile(heads, headSlot(s));
      long count = count(s);
      long length = 0;
      int f = (int) (h & TOP_MASK) - 1;
      while (f >= 0) {
        if (f >= frames) {
          throw new IllegalStateException(
              "stripe " + s + " links to frame " + f + ", past the last frame " + (frames - 1));
        }
        if (onStack[f]) {
          throw new IllegalStateException(
              "frame "
                  + f
                  + " is on the free stacks twice (stripe "
                  + stripeOf[f]
                  + " and stripe "
                  + s
                  + ")");
        }
        onStack[f] = true;
        stripeOf[f] = s;
        length++;
        int fl = (int) INTS.getVolatile(flags, f);
        if ((fl & FREE) == 0) {
          throw new IllegalStateException(
              "frame " + f + " is on free stripe " + s + " but not flagged FREE");
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
        f = (int) INTS.getVolatile(next, f);
      }
      if (length != count) {
        throw new IllegalStateException(
            "stripe " + s + " counts " + count + " free frames but its stack holds " + length);
      }
    }
    for (int f = 0; f < frames; f++) {
      int fl = (int) INTS.getVolatile(flags, f);
      if ((fl & FREE) != 0 && !onStack[f]) {
        throw new IllegalStateException("frame " + f + " is flagged FREE but on no free stack");
      }
      if ((fl & ~ALL_FLAGS) != 0) {
        throw new IllegalStateException(
            "frame " + f + " has undefined flag bits 0x" + Integer.toHexString(fl));
      }
      int w = (int) INTS.getVolatile(wireCount, f);
      if (w < 0) {
        throw new IllegalStateException("frame " + f + " has wire count " + w);
      }
    }
  }

  /**
   * Checks {@link #checkInvariants()} and, in addition, that the frames in use are exactly those
   * {@code inUse} accepts: a frame that is free but {@code inUse} claims is a use after free; a
   * frame that is allocated but {@code inUse} does not know is a leak.
   *
   * <p>The caller makes sure nothing changes meanwhile; {@code inUse} must have no side effects.
   *
   * @throws IllegalStateException naming the first frame that is wrong
   */
  public void checkInvariants(IntPredicate inUse) {
    Objects.requireNonNull(inUse, "inUse");
    checkInvariants();
    for (int f = 0; f < frames; f++) {
      boolean free = ((int) INTS.getVolatile(flags, f) & FREE) != 0;
      boolean used = inUse.test(f);
      if (free && used) {
        throw new IllegalStateException("frame " + f + " is in use but free (use after free)");
      }
      if (!free && !used) {
        throw new IllegalStateException("frame " + f + " is allocated but not in use (leaked)");
      }
    }
  }

  // ---------------------------------------------------------------- Helpers

  private void checkFrame(int f) {
    Objects.checkIndex(f, frames);
  }

  private int wordIndex(int frame, int word) {
    Objects.checkIndex(frame, frames);
    Objects.checkIndex(word, WORDS_PER_FRAME);
    return (frame << FRAME_WORD_SHIFT) | word;
  }
}
