package org.vmoracle.impl.phys;

import java.util.Objects;
import java.util.function.IntConsumer;
import java.util.function.IntPredicate;
import org.vmoracle.impl.sched.Sched;
import org.vmoracle.impl.sched.Sched.Step;

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
   * The public face of four structures, each a package class with its own essay and the
   * invariants it alone keeps:
   *
   *   FrameWords  the contents, 512 longs a frame, in one long[];
   *   FrameState  flags, wire count, owner object and owner page index, one flat array each,
   *               and the BUSY try-lock;
   *   FreePool    the striped lock-free free pool: stamped Treiber stacks of frame numbers,
   *               home stripes, batch stealing, the run stack of whole 2 MiB runs and their
   *               reassembly, the counts;
   *   Reclaims    munmap's announcement of frames on their way back to the pool.
   *
   * Everything is indexed by frame number, so a frame costs no object of its own (a vm_page array,
   * as in every BSD). This class checks arguments the structures leave to their callers, delegates
   * every accessor to the one structure it concerns, and owns the two protocols that cross them:
   *
   *   allocate  FreePool.take (home stripe, then steals); if that finds nothing while a reclaim
   *             is in flight, Reclaims.await and take again; then FrameWords.zero and
   *             FrameState.clearForAllocation, whose release store clears FREE last.
   *   allocateRun  FreePool.takeRun; if the run stack is empty, Reclaims.await, and if frames
   *             were put since the last reassembly, FreePool.reassemble and takeRun again; then
   *             FrameState.clearForAllocation of each of the 512 frames with BUSY | INVALID. No
   *             zeroing: the caller fills the run (zeroRun zeroes it in one pass).
   *   free      FrameState.markFree (the CAS that sets FREE, refusing a wired or free frame),
   *             then FreePool.put onto the caller's home stripe.
   *
   * Zeroing. allocate() zeroes the frame after it pops it and before it returns it (FreeBSD
   * zeroes on allocation too, unless PG_ZERO says the page is already clean), so no one ever reads
   * another's old data; free() leaves the contents alone. allocateRun() does not zero: a 2 MiB
   * run is zeroed by its caller in one Arrays.fill of 2 MiB (zeroRun), or filled from elsewhere,
   * which 512 zeroings of 4 KiB inside the allocation would only repeat. Until then the frames
   * hold their last users' words, so they come out BUSY and INVALID; the caller clears INVALID on
   * each once it is filled and then unbusies it, and I6 says no fill is left unfinished.
   *
   * Runs. With contiguous runs on, every whole aligned run of RUN_FRAMES frames starts on the
   * pool's run stack instead of the stripes, so that seed 003 finds 2 MiB runs without searching.
   * allocate() still prefers single frames: it breaks a run only when every stripe is empty. A
   * run broken and then freed frame by frame is found again by reassembly (FreePool's essay),
   * which allocateRun asks for only when the run stack is empty and a frame was freed since the
   * last one. allocateRun answering -1 is not out-of-memory (its callers map 4 KiB pages
   * instead), so it is not counted in allocationFailures().
   *
   * Switches. Each of this package's three optimizations can be turned off through Options, so a
   * hunt can bisect between the fast and the slow path (DragonFly's sysctls); all are on by
   * default and under the two older constructors:
   *
   *   batchStealing   a thread whose home stripe is empty steals STEAL_BATCH frames at once and
   *                   keeps the rest at home (FreePool). Off: one frame a steal.
   *   busyOnAllocate  allocateBusy() hands out the frame BUSY by the release store that clears
   *                   its flags, one atomic fewer on the fault path. Off: allocate(), then
   *                   tryBusy(), which must win since no one else knows the frame.
   *   contiguousRuns  whole 2 MiB runs are kept off the stripes and allocateRun() hands them out.
   *                   Off: every frame is on the stripes as before runs existed, and
   *                   allocateRun() answers -1, so its callers take the 4 KiB path.
   *
   * None changes what allocate() and free() promise (I1-I6 hold either way); batch stealing and
   * busy on allocate change how many atomic instructions and cache-line transfers it costs,
   * contiguous runs which frame numbers come out, and whether a run can be had.
   *
   * The hot accessors (load, store, the page-table accessors, tryBusy, allocate) cost one field
   * load more than a class holding the arrays itself would: this class's final field naming the
   * structure. Nothing is allocated on any of them.
   *
   * Concurrency:
   * ------------
   * Nothing here waits but awaitReclaims (and allocate and allocateRun, while a reclaim is in
   * flight). The structures' own essays give their memory orders; the hand-offs between them are:
   *
   *   allocate() linearizes at the pool's pop (or steal, or run pop when it breaks a run) CAS, or
   *     at the moment it sees the run stack empty after the last stripe when it answers -1 (so -1
   *     means every stripe and the run stack were seen empty at some moment during the call, and
   *     then no reclaim was seen in flight). The pop's acquire orders every write of the
   *     frame's previous user, published by that user's free, before the zeroing, so stale user
   *     stores cannot land after it. The zeroing is plain, the state is cleared by a release
   *     store of the flags; whoever receives the frame publishes it further (the pmap by a
   *     volatile CAS of a PTE), so plain zeroing is enough.
   *   free() linearizes at the CAS that sets FREE in the flags (this is what catches two
   *     concurrent frees of one frame: exactly one of them sets the bit, the other throws). The
   *     push CAS that follows is a release, so the next taker sees the state markFree wrote.
   *   allocateRun() linearizes at the run pop's CAS, or, answering -1, at the acquire load that
   *     saw the run stack empty (before a reassembly, when none is due; after it, otherwise). Its
   *     caller holds the map lock exclusive, so no allocate() and no other allocateRun() is in
   *     flight: reassembly detaches every stripe, and an allocate() meanwhile could answer -1
   *     with frames free. free() may run (munmap's second half frees under no lock); a frame it
   *     frees during a reassembly stays on its stripe. Before reassembling, allocateRun waits for
   *     reclaims in flight, as allocate() does before it answers -1: the exclusive map lock keeps
   *     new ones from starting and a reclaim waits for nothing, so the wait ends, and the run
   *     whose last frames a reclaim was freeing is not missed. The pop's acquire orders every
   *     write of each frame's previous user before the caller's (FreePool's essay gives the
   *     chain), so the unzeroed contents it hands out are its previous users' final words.
   *
   * Invariants (quiescent; checkInvariants verifies I1, I2, I3, I5 and I6):
   * -----------
   *   I1. The free stacks and the free runs hold exactly the frames flagged FREE, each
   *       exactly once.                                                             (here)
   *   I2. A free frame is neither wired nor busy, and has no owner.              (FrameState)
   *   I3. Each stripe's count (start + pushes - pops) equals the length of its stack, the run
   *       stack's the number of runs on it; freeFrames() is the stripes' counts plus
   *       RUN_FRAMES times the run stack's.                                         (FreePool)
   *   I4. A frame returned by allocate() reads zero in every word, and its flags, wire count and
   *       owner are cleared (allocateBusy() sets BUSY alone). A run returned by allocateRun()
   *       is RUN_FRAMES frames from a multiple of RUN_FRAMES, each with wire count and owner
   *       cleared and BUSY | INVALID its only flags; its contents are not promised.   (here)
   *   I5. A frame's wire count is never negative.                                (FrameState)
   *   I6. No frame is INVALID: every fill that allocateRun began has finished.   (FrameState)
   * I1 and I4 are this class's because they tie structures together: only free() sets FREE and
   * pushes, only allocate() and allocateRun() pop and clear FREE, each doing both halves.
   *
   * Lock order: none. Nothing here takes a lock; BUSY is a try-lock the callers build on (it
   * ranks as the vm_page busy lock in the package order of org.vmoracle.impl).
   *
   * References: R. K. Treiber, "Systems Programming: Coping with Parallelism", IBM RJ 5118, 1986;
   * FreeBSD sys/vm/vm_page.h (per-page state and its lock legend), vm_phys.c (per-domain free
   * queues); seed 000 (four cache-line bounces per fault).
   */

  // ---------------------------------------------------------------- Constants

  /** Words (longs) in a frame: 512, because a frame is 4 KiB (DESIGN.md) and a word 8 bytes. */
  public static final int WORDS_PER_FRAME = FrameWords.WORDS_PER_FRAME;

  /** log2 of {@link #WORDS_PER_FRAME}: the shift from frame number to its first word index. */
  public static final int FRAME_WORD_SHIFT = FrameWords.FRAME_WORD_SHIFT;

  /** Bytes in a frame: 4096, the page size of DESIGN.md ("Pages are 4 KiB"). */
  public static final int FRAME_BYTES = WORDS_PER_FRAME * Long.BYTES;

  /**
   * The most frames one instance holds: 4,194,303 (16 GiB), because all contents live in one {@code
   * long[]}, whose length is at most {@code Integer.MAX_VALUE}.
   */
  public static final int MAX_FRAMES = FrameWords.MAX_FRAMES;

  /** Owner page index of a frame that has no owner. */
  public static final long NO_INDEX = FrameState.NO_INDEX;

  /**
   * Frames in a contiguous run: 512, the frames of one 2 MiB page (2 MiB / 4 KiB, Pmap's PS leaf of
   * seed 003). {@link #allocateRun} answers a multiple of it.
   */
  public static final int RUN_FRAMES = FreePool.RUN_FRAMES;

  // Frame flags: the bit layout is drawn in FrameState.

  /** Held by one thread that works on the frame; taken with {@link #tryBusy}. Bit 0. */
  public static final int BUSY = FrameState.BUSY;

  /** The contents differ from the backing store (file or swap). Bit 1. */
  public static final int DIRTY = FrameState.DIRTY;

  /** Accessed since the page daemon's clock hand last cleared it. Bit 2. */
  public static final int REFERENCED = FrameState.REFERENCED;

  /**
   * On a free stack or in a free run; set by {@link #free} only, cleared by {@link #allocate} and
   * {@link #allocateRun} only. Bit 3.
   */
  public static final int FREE = FrameState.FREE;

  /** Holds a page table of some pmap (never user data, never paged out). Bit 4. */
  public static final int PTPAGE = FrameState.PTPAGE;

  /**
   * The contents are not yet what the page must hold. Set, with BUSY, on every frame of a run that
   * {@link #allocateRun} hands out unzeroed; the caller clears it ({@link #clearFlag}) once it has
   * filled the frame, holding the frame busy all the while. {@link #free} drops it. Bit 5.
   */
  public static final int INVALID = FrameState.INVALID;

  /**
   * The flags that {@link #setFlag} and {@link #clearFlag} accept: BUSY and FREE have owners.
   * INVALID is among them so that a run's owner can clear it; setting it is allocateRun's.
   */
  public static final int SETTABLE_FLAGS = FrameState.SETTABLE_FLAGS;

  /** Every defined flag bit; the others stay zero. */
  public static final int ALL_FLAGS = FrameState.ALL_FLAGS;

  /**
   * Most frames one steal moves from another stripe to the thief's home (one kept, the rest
   * pushed); see {@link FreePool#STEAL_BATCH}.
   */
  static final int STEAL_BATCH = FreePool.STEAL_BATCH;

  // ---------------------------------------------------------------- Fields
  //
  // Lock legend:
  //   (c) const after construction; each structure's own fields carry their own tags

  private final int frames; // (c)
  private final FrameWords contents; // (c)
  private final FrameState state; // (c)
  private final FreePool pool; // (c)
  private final Reclaims reclaims; // (c)
  private final Options options; // (c)
  private final boolean busyOnAllocate; // (c) options.busyOnAllocate(), read on the fault path
  private final boolean contiguousRuns; // (c) options.contiguousRuns()

  /**
   * How a PhysMem is built: its stripe count and a switch for each of its optimizations, each on in
   * {@link #defaults()}. A switch turned off keeps every result and invariant as it is and only
   * takes the slower path, so that a hunt can bisect between the two.
   *
   * @param stripes free-pool stripes, a power of two; tests use small counts to make stealing
   *     deterministic
   * @param batchStealing a thread whose home stripe is empty takes up to {@link #STEAL_BATCH} (32)
   *     frames off the first other stripe that has any, in one CAS, keeps one and pushes the rest
   *     onto its home, so that its next allocations stay home. Off: a steal takes one frame and
   *     pushes nothing, and the thief's next allocation steals again (two threads that ran their
   *     homes dry then bounce each other's stripe heads on every allocation)
   * @param busyOnAllocate {@link #allocateBusy()} returns the frame with BUSY set by the same
   *     release store that clears the allocation's flags. Off: allocateBusy() is {@link
   *     #allocate()} followed by {@link #tryBusy}, one more atomic read-modify-write, which must
   *     succeed since no one else can know the frame
   * @param contiguousRuns every whole 2 MiB-aligned run of {@link #RUN_FRAMES} frames starts off
   *     the stripes, on a run stack, so that {@link #allocateRun} can hand it out whole; allocate()
   *     breaks a run only when every stripe is empty, and allocateRun reassembles runs freed frame
   *     by frame. Off: every frame starts on the stripes, in the layout PhysMem had before runs,
   *     and allocateRun answers -1
   */
  public record Options(
      int stripes, boolean batchStealing, boolean busyOnAllocate, boolean contiguousRuns) {

    /**
     * Checks the stripe count.
     *
     * @throws IllegalArgumentException if {@code stripes} is not a power of two
     */
    public Options {
      if (stripes < 1 || Integer.bitCount(stripes) != 1) {
        throw new IllegalArgumentException("stripes " + stripes + ": a power of two is needed");
      }
    }

    /**
     * The default stripe count (the least power of two that is at least twice the available
     * processors, and at least 4), every switch on.
     */
    public static Options defaults() {
      return new Options(defaultStripes(), true, true, true);
    }

    /** These options with {@code n} stripes. */
    public Options withStripes(int n) {
      return new Options(n, batchStealing, busyOnAllocate, contiguousRuns);
    }

    /** These options with batch stealing on or off. */
    public Options withBatchStealing(boolean on) {
      return new Options(stripes, on, busyOnAllocate, contiguousRuns);
    }

    /** These options with busy on allocate on or off. */
    public Options withBusyOnAllocate(boolean on) {
      return new Options(stripes, batchStealing, on, contiguousRuns);
    }

    /** These options with contiguous runs on or off. */
    public Options withContiguousRuns(boolean on) {
      return new Options(stripes, batchStealing, busyOnAllocate, on);
    }
  }

  // ---------------------------------------------------------------- Construction

  /**
   * Memory of {@code frames} frames, all free, spread over the default number of stripes: the least
   * power of two that is at least twice the available processors, and at least 4.
   *
   * <p>No requirements.
   */
  public PhysMem(int frames) {
    this(frames, Options.defaults());
  }

  /**
   * Memory of {@code frames} frames, all free: every whole aligned run of {@link #RUN_FRAMES}
   * frames on the run stack, lowest on top, and the frames past the last whole run spread over
   * {@code stripes} stripes in contiguous ranges (stripe 0 holds the lowest frames), lowest frame
   * on top.
   *
   * <p>The caller passes 1 ≤ frames ≤ {@link #MAX_FRAMES} and a power-of-two stripe count; tests
   * use small counts to make stealing deterministic. Every switch of {@link Options} is on.
   */
  public PhysMem(int frames, int stripes) {
    // checkFrames first, so that bad frames are reported before a bad stripe count, as always.
    this(checkFrames(frames), new Options(stripes, true, true, true));
  }

  /**
   * Memory of {@code frames} frames, all free, with the optimizations that {@code options} switches
   * on: with contiguous runs, every whole aligned run of {@link #RUN_FRAMES} frames on the run
   * stack, lowest on top, and the frames past the last whole run spread over {@code
   * options.stripes()} stripes; without, all frames spread over them. Either way the stripes hold
   * contiguous ranges (stripe 0 the lowest frames), lowest frame on top.
   *
   * <p>The caller passes 1 ≤ frames ≤ {@link #MAX_FRAMES} and options not null.
   */
  public PhysMem(int frames, Options options) {
    checkFrames(frames);
    Objects.requireNonNull(options, "options");
    this.frames = frames;
    this.options = options;
    this.busyOnAllocate = options.busyOnAllocate();
    this.contiguousRuns = options.contiguousRuns();
    this.contents = new FrameWords(frames);
    this.state = new FrameState(frames);
    this.pool =
        new FreePool(frames, options.stripes(), options.batchStealing(), options.contiguousRuns());
    this.reclaims = new Reclaims();
    // The structures' plain writes in their constructors are published by the final-field freeze
    // (each is reached through a final field here, its arrays through its own final fields), so
    // no fence is needed.
  }

  private static int checkFrames(int frames) {
    if (frames < 1 || frames > MAX_FRAMES) {
      throw new IllegalArgumentException(
          "frames " + frames + ": between 1 and " + MAX_FRAMES + " are supported");
    }
    return frames;
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
    return pool.stripes();
  }

  /**
   * Pins the calling thread's home stripe, in every PhysMem, to {@code token} modulo the stripe
   * count. Tokens are otherwise handed out one per thread in the order threads first allocate,
   * across the whole JVM, so which frames a thread takes depends on how many threads allocated
   * before it: a controlled run pins each of its threads (and the thread that sets it up) so that
   * its schedule replays to the same frames every time in one JVM and on any machine with the same
   * processor count (the default stripe count follows it).
   *
   * <p>No requirements.
   */
  public static void pinHomeStripe(int token) {
    FreePool.pinHome(token);
  }

  /**
   * The calling thread's home stripe: the one it allocates from first and frees onto.
   *
   * <p>No requirements.
   */
  public int homeStripe() {
    return pool.homeStripe();
  }

  /**
   * Free frames: the sum of the stripe counts plus {@link #RUN_FRAMES} for each free run (each
   * count read opaque). Approximate while allocations, frees or a reassembly are in flight, exact
   * when the pool is quiescent (invariant I3).
   *
   * <p>No requirements.
   */
  public int freeFrames() {
    return pool.freeFrames();
  }

  /**
   * Whole runs free on the run stack (read opaque); 0 with contiguous runs off. Runs whose frames
   * are all free but on the stripes are not counted until a reassembly finds them. Exact when the
   * pool is quiescent.
   *
   * <p>No requirements.
   */
  public int freeRuns() {
    return pool.freeRuns();
  }

  /**
   * Frames handed out by {@link #allocate} (and allocateBusy), ever; the frames of runs from {@link
   * #allocateRun} are not among them (see {@link #runsAllocated}), though {@link #frees} counts
   * them when they come back. No requirements.
   */
  public long allocations() {
    return pool.takes();
  }

  /** Calls of {@link #allocate} that found no free frame and answered -1. No requirements. */
  public long allocationFailures() {
    return pool.failures();
  }

  /** Frames returned by {@link #free}, ever. No requirements. */
  public long frees() {
    return pool.puts();
  }

  /** Allocations served by a stripe other than the caller's home. No requirements. */
  public long steals() {
    return pool.steals();
  }

  /**
   * Runs that {@link #allocate} broke into frames, ever, because every stripe was empty. No
   * requirements.
   */
  public long runsBroken() {
    return pool.runsBroken();
  }

  /** Runs handed out by {@link #allocateRun}, ever. No requirements. */
  public long runsAllocated() {
    return pool.runsTaken();
  }

  /** Reassemblies {@link #allocateRun} made, ever. No requirements. */
  public long reassemblies() {
    return pool.reassemblies();
  }

  /** Runs that reassemblies found whole among the free frames, ever. No requirements. */
  public long runsReassembled() {
    return pool.runsReassembled();
  }

  /** The options this memory was built with. No requirements. */
  Options options() {
    return options;
  }

  /** Most frames one steal takes: {@link #STEAL_BATCH}, or 1 with batch stealing off. */
  int stealBatch() {
    return pool.stealBatch();
  }

  /**
   * Frames batch steals moved onto a thief's home stripe beyond the one it kept, ever; 0 with batch
   * stealing off. No requirements.
   */
  long framesMoved() {
    return pool.moved();
  }

  // ---------------------------------------------------------------- Contents: user data

  /**
   * Word {@code word} of frame {@code frame}, plain load.
   *
   * <p>The caller has made the frame's contents visible to itself (by the acquire load of the PTE
   * or the busy bit that led it here); racing plain stores may or may not be seen.
   */
  public long load(int frame, int word) {
    Sched.point(Step.LOAD, frame);
    return contents.load(frame, word);
  }

  /**
   * Stores {@code v} into word {@code word} of frame {@code frame}, plain store.
   *
   * <p>The caller publishes the store, if others must see it, by a later release (a PTE CAS, an
   * unbusy, a free).
   */
  public void store(int frame, int word, long v) {
    Sched.point(Step.STORE, frame);
    contents.store(frame, word, v);
  }

  /**
   * Copies all 512 words of frame {@code from} into frame {@code to}, plain loads and stores.
   *
   * <p>The caller holds both frames (busy, or freshly allocated); {@code from != to}.
   */
  public void copyFrame(int from, int to) {
    Sched.point(Step.COPY, to);
    contents.copy(from, to);
  }

  /**
   * Copies {@code page}, 512 words (a swapped-out page, the shared page's words), into frame {@code
   * f}, plain stores.
   *
   * <p>The caller holds the frame (busy, or freshly allocated).
   */
  public void storePage(int f, long[] page) {
    Sched.point(Step.FILL, f);
    contents.storePage(f, page);
  }

  /**
   * Copies the 512 words of frame {@code f} into {@code page}, plain loads.
   *
   * <p>The caller holds the frame busy, or the map lock exclusive.
   */
  public void loadPage(int f, long[] page) {
    contents.loadPage(f, page);
  }

  /**
   * Sets all 512 words of frame {@code f} to zero, plain stores.
   *
   * <p>The caller holds the frame (busy, or freshly allocated).
   */
  public void zeroFrame(int f) {
    Sched.point(Step.FILL, f);
    contents.zero(f);
  }

  /**
   * Sets all words of the {@link #RUN_FRAMES} frames from {@code base} to zero: one {@code
   * Arrays.fill} of 2 MiB, plain stores, as fast as filling any {@code long[]} of that size (the
   * frames are adjacent in one array). Leaves the flags alone: the caller clears INVALID on each
   * frame afterwards.
   *
   * <p>The caller owns the run (allocated it with {@link #allocateRun}, holding its frames busy)
   * and publishes the zeroes by a later release (each frame's unbusy, the PTE CAS that maps the
   * run), as for {@link #zeroFrame}.
   *
   * @throws IllegalArgumentException if {@code base} is not a multiple of {@link #RUN_FRAMES}
   * @throws IndexOutOfBoundsException if the run does not lie inside memory
   */
  public void zeroRun(int base) {
    if ((base & (RUN_FRAMES - 1)) != 0) {
      throw new IllegalArgumentException(
          "zeroRun of frame " + base + ": a run starts at a multiple of " + RUN_FRAMES);
    }
    contents.zeroFrames(base, RUN_FRAMES);
  }

  // ---------------------------------------------------------------- Contents: page-table words

  /**
   * Entry {@code idx} of the table in frame {@code frame}, acquire load: everything the writer did
   * before its release store or CAS of this entry (e.g. zeroing a child table) is visible.
   *
   * <p>No requirements (the frame should hold a page table; the load is safe regardless).
   */
  public long loadAcquire(int frame, int idx) {
    Sched.point(Step.PTE_READ, entry(frame, idx));
    return contents.loadAcquire(frame, idx);
  }

  /**
   * Stores entry {@code idx} of the table in frame {@code frame}, release store.
   *
   * <p>The caller is the only writer of this entry (otherwise it must use {@link #cas}).
   */
  public void storeRelease(int frame, int idx, long v) {
    Sched.point(Step.PTE_WRITE, entry(frame, idx));
    contents.storeRelease(frame, idx, v);
  }

  /**
   * Replaces entry {@code idx} of the table in frame {@code frame} with {@code update} if it holds
   * {@code expect}; volatile compareAndSet (acquire and release). False means the entry held
   * something else at the moment of the CAS.
   *
   * <p>No requirements.
   */
  public boolean cas(int frame, int idx, long expect, long update) {
    Sched.point(Step.PTE_WRITE, entry(frame, idx));
    return contents.cas(frame, idx, expect, update);
  }

  /**
   * Stores {@code v} into entry {@code idx} of the table in frame {@code frame} and returns what
   * was there; volatile getAndSet.
   *
   * <p>No requirements.
   */
  public long getAndSet(int frame, int idx, long v) {
    Sched.point(Step.PTE_WRITE, entry(frame, idx));
    return contents.getAndSet(frame, idx, v);
  }

  /** A table entry's name at a scheduling point: its frame, then its index (9 bits). */
  private static long entry(int frame, int idx) {
    return ((long) frame << 9) | idx;
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
   * and then taking busy. No one else can hold it busy: no one else has it. With {@link
   * Options#busyOnAllocate} off it is allocate() and then tryBusy().
   *
   * <p>No requirements.
   *
   * @throws IllegalStateException with busy on allocate off, if the tryBusy after the allocation
   *     fails: someone else holds a frame that only its allocator can know, which is a bug of that
   *     someone; the frame stays allocated and busy, nothing is undone
   */
  public int allocateBusy() {
    return allocateBusy(null);
  }

  /**
   * {@link #allocateBusy()} with a test seam: {@code afterAllocate}, when not null, runs once a
   * frame is allocated, before allocateBusy returns it. With busy on allocate the frame is busy by
   * then; off, the seam runs between the allocation and the tryBusy, where the frame is allocated
   * and not busy. Tests use it to see that difference; production passes null.
   *
   * <p>No requirements.
   */
  int allocateBusy(IntConsumer afterAllocate) {
    if (busyOnAllocate) {
      int f = allocate(null, BUSY); // BUSY in the release store that clears FREE
      if (f >= 0 && afterAllocate != null) {
        afterAllocate.accept(f); // test seam only
      }
      return f;
    }
    int f = allocate(null, 0);
    if (f < 0) {
      return -1;
    }
    if (afterAllocate != null) {
      afterAllocate.accept(f); // test seam only
    }
    if (!state.tryBusy(f)) {
      throw new IllegalStateException(
          "allocateBusy: frame "
              + f
              + " is busy right after its allocation; someone else holds it");
    }
    return f;
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

  /**
   * {@link #allocateBusy()}, but the frame is NOT zeroed: it holds what its last user left there.
   * Only for the injected bug {@code core.Bug.FILE_READ_ONTO_DIRTY_FRAME}; nothing else may use it
   * (I4 holds for every other allocation).
   *
   * <p>No requirements.
   */
  public int allocateBusyUnzeroed() {
    return allocate(null, BUSY, false);
  }

  private int allocate(Runnable betweenReadAndCas, int initialFlags) {
    return allocate(betweenReadAndCas, initialFlags, true);
  }

  private int allocate(Runnable betweenReadAndCas, int initialFlags, boolean zero) {
    int f;
    for (; ; ) {
      f = pool.take(betweenReadAndCas);
      if (f >= 0) {
        break;
      }
      if (!reclaims.any()) {
        pool.noteFailure();
        return -1;
      }
      reclaims.await(); // frames on their way back: wait for them rather than fail
    }
    // We own f exclusively now: the pop's acquire ordered every earlier user of f before us.
    if (zero) {
      contents.zero(f); // plain: published by the release below and then by the caller
    }
    state.clearForAllocation(f, initialFlags); // I4; its release store clears FREE last (I1)
    return f;
  }

  /**
   * The first frame {@code b} (a multiple of {@link #RUN_FRAMES}) of {@link #RUN_FRAMES} contiguous
   * frames, now all allocated to the caller; or -1 when no whole run can be had. Each frame comes
   * with FREE cleared and its flags exactly {@link #BUSY} | {@link #INVALID}, wire count 0 and no
   * owner; its contents are NOT zeroed, but left as its last user left them. The caller fills each
   * frame ({@link #zeroRun} zeroes all 512 in one pass), then clears INVALID ({@link #clearFlag})
   * and releases the frame ({@link #unbusy}); it frees the frames one by one with {@link #free}.
   *
   * <p>Pops a run off the run stack. If it is empty, waits for reclaims in flight; then, if any
   * frame was freed since the last reassembly, reassembles (detaches every stripe, pushes the runs
   * whose frames were all there onto the run stack, puts the other frames back where they were) and
   * pops again. -1 is not an allocation failure: the caller maps 4 KiB pages instead, and {@link
   * #allocationFailures} does not count it. Always -1 with {@link Options#contiguousRuns} off.
   *
   * <p>Linearizes at the run pop's CAS, or, answering -1, at the acquire load that saw the run
   * stack empty.
   *
   * <p>The caller holds the implementation's map lock exclusive, so that no {@link #allocate}
   * (allocateBusy) and no other allocateRun is in flight: a reassembly detaches every stripe for a
   * while, and an allocation meanwhile could answer -1 with frames free. {@link #free} may run
   * concurrently (a frame freed during a reassembly stays on its stripe). Reclaims must not wait
   * for the map lock (they do not: they are begun before it is let go). The caller owns the run's
   * frames until it frees them.
   */
  public int allocateRun() {
    if (!contiguousRuns) {
      return -1; // the switch: no runs were kept off the stripes
    }
    int base = pool.takeRun();
    if (base < 0) {
      // Frames a reclaim is freeing may complete a run: let them land before looking. New
      // reclaims cannot start under our exclusive map lock, and a reclaim waits for nothing.
      reclaims.await();
      if (!pool.putSinceReassembly()) {
        return -1; // nothing freed since the last reassembly, so it would find nothing new
      }
      pool.reassemble();
      base = pool.takeRun();
      if (base < 0) {
        return -1;
      }
    }
    // We own the run: the run pop's acquire ordered every earlier user of its frames before us.
    int flags = BUSY | INVALID;
    for (int f = base; f < base + RUN_FRAMES; f++) {
      state.clearForAllocation(f, flags); // release store clears FREE last (I1), sets I4's flags
    }
    return base;
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
    state.markFree(f); // linearization point; throws before anything changed
    pool.put(f); // I1: flagged FREE and on a stack again
  }

  // ---------------------------------------------------------------- Reclaims

  /**
   * Announces a reclaim: frames that nothing can reach any more are about to be freed by a thread
   * that holds no lock (the second half of an munmap). Until the matching {@link #endReclaim},
   * allocate() waits for it rather than answer -1, allocateRun() before it reassembles, and {@link
   * #awaitReclaims} waits for it.
   *
   * <p>The caller announces before it lets go of the lock under which the frames became
   * unreachable, so that whoever takes that lock next sees the reclaim.
   */
  public void beginReclaim() {
    reclaims.begin();
  }

  /** Ends a reclaim announced by {@link #beginReclaim}: its frames are all freed. */
  public void endReclaim() {
    reclaims.end();
  }

  /**
   * Waits until no reclaim is in flight. Callers that walk frames from the frame side (pageout's
   * clock, the invariant checker) call it after taking the map lock exclusive, which keeps new
   * reclaims from starting; a reclaim holds no lock and waits for nothing, so it ends.
   */
  public void awaitReclaims() {
    reclaims.await();
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
    Sched.point(Step.BUSY, f);
    return state.tryBusy(f);
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
    Sched.point(Step.UNBUSY, f);
    state.unbusy(f);
  }

  /** Whether frame {@code f} is busy (acquire load). No requirements. */
  public boolean isBusy(int f) {
    return state.testFlag(f, BUSY);
  }

  /**
   * Sets {@code flag} (a combination of {@link #SETTABLE_FLAGS}) on frame {@code f}, volatile
   * getAndBitwiseOr.
   *
   * <p>The caller holds the frame (allocated, not free). BUSY goes through {@link #tryBusy}, FREE
   * through {@link #free}.
   */
  public void setFlag(int f, int flag) {
    state.setFlag(f, flag);
  }

  /**
   * Clears {@code flag} (a combination of {@link #SETTABLE_FLAGS}) on frame {@code f}, volatile
   * getAndBitwiseAnd.
   *
   * <p>The caller holds the frame (allocated, not free).
   */
  public void clearFlag(int f, int flag) {
    state.clearFlag(f, flag);
  }

  /**
   * Whether every bit of {@code flag} (any of {@link #ALL_FLAGS}) is set on frame {@code f},
   * acquire load.
   *
   * <p>No requirements.
   */
  public boolean testFlag(int f, int flag) {
    return state.testFlag(f, flag);
  }

  /** All flag bits of frame {@code f}, acquire load. No requirements. */
  public int flags(int f) {
    return state.flags(f);
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
    state.wire(f);
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
    state.unwire(f);
  }

  /** Frame {@code f}'s wire count, acquire load. No requirements. */
  public int wireCount(int f) {
    return state.wireCount(f);
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
    state.setOwner(f, obj, index);
  }

  /**
   * The object frame {@code f} belongs to, or null; acquire load.
   *
   * <p>Exact for the busy holder; others may see a value that is changing and revalidate.
   */
  public Object owner(int f) {
    return state.owner(f);
  }

  /**
   * The page index of frame {@code f} in its owner, or {@link #NO_INDEX}; opaque load.
   *
   * <p>Exact for the busy holder; others may see a pair torn between two owners.
   */
  public long ownerIndex(int f) {
    return state.ownerIndex(f);
  }

  // ---------------------------------------------------------------- Invariants

  /**
   * Checks invariants I1–I3, I5 and I6 (see the class essay). Never repairs anything.
   *
   * <p>The caller makes sure no allocation, free, wire or busy change runs meanwhile.
   *
   * @throws IllegalStateException naming the first frame or stripe that is wrong
   */
  public void checkInvariants() {
    // The pool walks its stacks (I3, links in range, no frame twice) and has the state check
    // each frame it finds (FREE: I1's one half; I2); then every frame flagged FREE must have
    // been found (I1's other half), and I5 and I6.
    boolean[] onStack = pool.check(state::checkFreeFrame);
    state.checkFrames(onStack);
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
      boolean free = state.isFreeVolatile(f);
      boolean used = inUse.test(f);
      if (free && used) {
        throw new IllegalStateException("frame " + f + " is in use but free (use after free)");
      }
      if (!free && !used) {
        throw new IllegalStateException("frame " + f + " is allocated but not in use (leaked)");
      }
    }
  }
}
