package org.vmoracle.impl.phys;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The free pool: frame numbers on a power-of-two number of lock-free stamped Treiber stacks
 * (stripes), each thread allocating from and freeing onto its home stripe and stealing from the
 * others when its home runs dry; and, beside them, whole 2 MiB-aligned runs of {@link #RUN_FRAMES}
 * frames on a stack of their own, broken into frames only when every stripe is empty, handed out
 * whole by {@link #takeRun}, and found again among the stripes by {@link #reassemble}. One part of
 * {@link PhysMem}, which is the only class that holds one. It holds frame and run numbers only: the
 * FREE flag and the rest of a frame's state are {@link FrameState}'s, set and cleared by PhysMem
 * around {@link #take}, {@link #takeRun} and {@link #put}.
 */
final class FreePool {
  /*
   * Overview:
   * ---------
   * One free list under one lock (or one CAS word) would make every zero-fill fault of every core
   * bounce the same cache line; seed 000 counts four bounces a fault in all. So the pool is split
   * into a power-of-two number of stripes, Treiber stacks of frame numbers linked through next[].
   * A thread gets a home stripe once, round robin, from a ThreadLocal token; it takes from its
   * home and puts onto its home. When its home is empty it steals: it tries the other stripes in
   * order, home+1 first, and takes up to stealBatch frames off the first that has any in one CAS,
   * keeps one and pushes the rest onto its home in one more.
   *
   * Batch stealing is an optimization with a switch (PhysMem.Options.batchStealing, on by
   * default), and stealBatch is STEAL_BATCH with it on. One frame a steal would make two threads
   * that have run their homes dry pop each other's stripes frame by frame, bouncing both heads on
   * every allocation (seen: two threads faulting 128 MiB each ran no faster than one). Off,
   * stealBatch is 1: a steal is a pop of the victim, nothing is pushed onto the thief's home,
   * moved() stays 0, and the thief's next allocation steals again. Either way frames migrate
   * between stripes only through take/put and these batches, never by rebalancing.
   *
   * A batch steal walks up to stealBatch - 1 links below the victim's top before its CAS; the
   * stamp argument covers the walk too: if the stamp is unchanged at the CAS, no push or pop
   * touched the stripe since the head was read, so every link walked was still in the stack and
   * unchanged. Between its two CASes the batch is on no stack: a concurrent take() may then see
   * every stripe empty and answer -1. Every caller allocates under the map lock; when it answers
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
   * Beside each stripe head, in the same cache line (already bouncing), sit its pop and push
   * counts, each added to after the head CAS, and the number of frames the stripe began with. A
   * stripe's free count is start + pushes - pops; the run stack's head has the same three, in
   * runs. Takes and puts are derived, so counting costs put() and the common take() no atomic
   * instruction beyond these two: every stripe push or pop that is not a put or a take is counted
   * by the rare path that makes it, in a LongAdder of its own:
   *
   *   takes = stripe pops - moved - detached + broken     (a broken run's first frame is taken
   *   puts  = stripe pushes - moved - 511 * broken - returned       without a stripe pop)
   *
   * where moved counts the frames batch steals pushed onto a thief's home, broken the runs take()
   * broke, detached the frames reassembly took off the stripes and returned those it put back.
   * All are approximate while pushes and pops are in flight and exact when the pool is quiescent.
   *
   * Runs. Seed 003 (2 MiB wiring) asks for physically contiguous, 2 MiB-aligned runs of
   * RUN_FRAMES (512) frames: run r is frames [512r, 512r + 512). A Treiber stack gives up only its
   * top, and a run's frames lie anywhere in any stripe once they have been allocated and freed, so
   * whole runs are kept off the stripes, on a run stack: one more stamped Treiber stack, of run
   * numbers linked through runNext[], its head and counts (in runs) in a padded slot of their own
   * after the stripes'. At construction every whole run goes onto it, lowest run on top, and only
   * the frames past the last whole run (frames % 512; all of them when there are fewer than 512)
   * are spread over the stripes as before. The run stack changes three ways:
   *
   *   break       take(), having found every stripe empty (home, then every steal), pops a run,
   *               keeps its first frame and pushes the other 511, linked in order while they are
   *               still private, onto the caller's home stripe in one CAS. So a run is broken only
   *               when no single frame is left anywhere else, and the order of frames handed out
   *               on one stripe is the order they would have had without runs.
   *   takeRun     PhysMem.allocateRun pops a run and hands out its 512 frames at once.
   *   reassemble  when the run stack is empty and frames were put since the last reassembly,
   *               allocateRun has the pool detach every stripe's whole stack (one CAS each),
   *               tally the frames of each run it finds in a scratch int[] of one count a run,
   *               push the runs whose 512 frames were all there onto the run stack (one CAS for
   *               them all, lowest on top), and push the rest back onto the stripe each came
   *               from, in the order they were there (one CAS a stripe).
   *
   * Reassembly walks every free frame, so it runs only on demand and only when something changed:
   * putsAtReassembly, the puts() count before the last reassembly's first detach, tells whether
   * any frame was put since. Only puts can complete a run: takes and breaks remove frames from
   * the stripes, and steals move frames between stripes without changing whether they are on one.
   * Reading the count before detaching makes the test err on the safe side: a put that lands
   * during a reassembly stays on its stripe and counts as "since", so the next one looks again.
   *
   * Contiguous runs have a switch (PhysMem.Options.contiguousRuns, on by default). Off, runs is 0:
   * the run stack stays empty, every frame is on the stripes exactly as before runs existed,
   * take() never breaks a run and takeRun() and reassemble() find none.
   *
   * Concurrency:
   * ------------
   * Lock-free: a push or pop retries only when another push or pop on the same stack won.
   * Linearization points: a pop, or a steal, at its successful head CAS; a push at its successful
   * head CAS; take() at the pop's or the steal's CAS, or at the run pop's CAS when it breaks a
   * run, or at the moment it sees the run stack empty (after the last stripe) when it answers -1
   * (so -1 means every stripe and then the run stack were seen empty at some moment during the
   * call; a frame put meanwhile onto a stripe already visited is missed, as with any per-CPU free
   * list). takeRun() at the run pop's CAS, or at the acquire load that saw the run stack empty.
   * Between a break's run pop and its push, the other 511 frames are on no stack, as a batch
   * steal's are between its two CASes, and the same argument covers it: a take() that answers -1
   * meanwhile was made under the shared map lock, and out-of-memory is answered holding it
   * exclusive, when no take is in flight.
   *
   * Reassembly is not atomic: it is a sequence of detaches and pushes, each its own CAS, and
   * between the first detach and the last push the detached frames are on no stack, so
   * freeFrames() reads low and a take() could answer -1 with frames free. Its caller
   * (PhysMem.allocateRun) therefore holds the implementation's map lock exclusive, so that no
   * take, and no other reassembly or takeRun, is in flight. Nothing else depends on that: each
   * detach takes a whole stack in one stamped CAS, so a concurrent push lands on the emptied head
   * and is simply left there, and every frame is on exactly one stack, or private, throughout.
   * Puts (the second half of munmap frees under no lock) do run concurrently, and a put that lands
   * during reassembly stays on its stripe. The scratch tally is a fresh array each time; the one
   * field reassembly shares between calls, putsAtReassembly, is plain, read and written only by
   * the caller under the exclusive lock, whose release and acquire order successive callers.
   *
   * Memory orders. The head CAS is a volatile compareAndSet: its release half publishes next[f],
   * written just before by the pusher, and everything the putting thread did before (PhysMem's
   * free: the frame's state and contents); its acquire half, on the popping side, makes those
   * writes happen-before whatever the taker does next (PhysMem's zeroing). Head loads before a
   * CAS are acquire. next[] is read and written in opaque mode: a pop may read next[top] while top
   * is being pushed again elsewhere, and then reads a stale link, which its stamped CAS rejects.
   * Counts are added to with volatile getAndAdd and read opaque. The run stack is the same
   * protocol on runNext[]. A break writes next[] of the 511 frames it pushes opaque while they are
   * private; the push CAS's release publishes them. Run contents are never zeroed here, and
   * allocateRun hands them out as they are, so the chain that orders a run's previous users
   * before its next one matters: each frame's free (push CAS, release) happens-before the detach
   * that took it off its stripe (CAS, acquire), which comes before the run push (CAS, release)
   * that takeRun's pop (CAS, acquire) reads.
   *
   * Invariants (quiescent; check verifies them):
   * -----------
   *   I3. Each stripe's count (start + pushes - pops) equals the length of its stack, the run
   *       stack's count (in runs) the length of the run stack; freeFrames() is the stripes'
   *       counts plus RUN_FRAMES times the run stack's.
   * Besides, the stacks hold each frame at most once and link only to frames in range; the run
   * stack holds distinct runs in range (so 2 MiB-aligned and inside memory), none of whose
   * frames is on a stripe. That the frames on the stripes and in the free runs are exactly those
   * flagged FREE (I1) is PhysMem's, which check() helps by visiting every frame it finds.
   *
   * Lock order: none; nothing here blocks or locks.
   *
   * References: R. K. Treiber, "Systems Programming: Coping with Parallelism", IBM RJ 5118, 1986;
   * FreeBSD sys/vm/vm_phys.c (per-domain free queues); seed 000 (four cache-line bounces per
   * fault); seed 003 (superpages for wiring); FreeBSD sys/vm/vm_reserv.c (2 MiB reservations,
   * the same question answered by keeping runs whole rather than by searching the free lists).
   */

  /*
   * Head slots in heads[]:
   *
   *   heads: | pad (STRIDE) | s0 head, counts, pad | ... | s(n-1) head, ... | run head, ... | pad |
   *
   * Each stripe, and the run stack, has HEAD_STRIDE longs to itself so that no two share a cache
   * line. The run stack's head is a stripe head in all but what it holds: run numbers.
   */

  /**
   * Longs between two stripe heads: 16, i.e. 128 bytes, two 64-byte cache lines, because Intel's
   * adjacent-line prefetcher pulls lines in pairs (the JDK's {@code @Contended} pads 128 bytes for
   * the same reason).
   */
  static final int HEAD_STRIDE = 16;

  /**
   * Most frames one batch steal moves from another stripe to the thief's home (one kept, the rest
   * pushed): 32, enough that two threads with empty homes steal from each other once per 32
   * allocations instead of on every one, few enough that a steal's walk stays short.
   */
  static final int STEAL_BATCH = 32;

  /**
   * Frames in a run: 512, because a run backs one 2 MiB PS leaf of seed 003 and a frame is 4 KiB (2
   * MiB / 4 KiB; the same 512 as Pmap's, not imported: phys depends on nothing).
   */
  static final int RUN_FRAMES = 512;

  /** log2 of {@link #RUN_FRAMES}: the shift from run number to its first frame. */
  static final int RUN_SHIFT = 9;

  /** What {@link StackVisitor#onStack} is told for a frame found in a free run, not a stripe. */
  static final int IN_RUN = -1;

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

  /** Hands out home-stripe tokens round robin, one per thread, across all instances. */
  private static final AtomicInteger NEXT_TOKEN = new AtomicInteger();

  /** The calling thread's token; its home stripe is the token modulo the stripe count. */
  private static final ThreadLocal<Integer> HOME_TOKEN =
      ThreadLocal.withInitial(NEXT_TOKEN::getAndIncrement);

  /** What {@link #check} calls for each frame it finds on a stack. */
  interface StackVisitor {
    /**
     * Frame {@code frame}, in range and seen for the first time, is on stripe {@code stripe}, or in
     * a free run on the run stack when {@code stripe} is {@link #IN_RUN}.
     *
     * @throws IllegalStateException if the frame's state says it should not be
     */
    void onStack(int stripe, int frame);
  }

  // Lock legend:
  //   (c) const after construction
  //   (a) atomic only: every access through a VarHandle or an atomic class, mode named at use
  //   (s) stack protocol: written by the pusher before its head CAS, read opaque by poppers
  //   (r) reassembly's: plain, used only by reassemble's caller, who holds the map lock exclusive

  private final int frames; // (c)
  private final int stripes; // (c) a power of two
  private final int stripeMask; // (c) stripes - 1
  private final int stealBatch; // (c) STEAL_BATCH, or 1 with batch stealing off
  private final int runs; // (c) whole runs, frames / RUN_FRAMES; 0 with contiguous runs off
  private final int runSlot; // (c) the run stack's head in heads[]
  private final int[] next; // (s) next frame down a stripe's stack, -1 at the bottom
  private final int[] runNext; // (s) next run down the run stack, -1 at the bottom
  private final long[] heads; // (a) stripe and run heads and counts, layout above
  private final LongAdder failures = new LongAdder(); // (a) calls of take that PhysMem gave up on
  private final LongAdder steals = new LongAdder(); // (a) takes served off the home stripe
  private final LongAdder moved = new LongAdder(); // (a) frames batch steals pushed onto a home
  private final LongAdder broken = new LongAdder(); // (a) runs take() broke into frames
  private final LongAdder runsTaken = new LongAdder(); // (a) runs takeRun() handed out
  private final LongAdder reassemblies = new LongAdder(); // (a) calls of reassemble
  private final LongAdder runsFound = new LongAdder(); // (a) runs reassemble pushed
  private final LongAdder detached = new LongAdder(); // (a) frames reassemble took off stripes
  private final LongAdder returned = new LongAdder(); // (a) frames it pushed back onto them
  private long putsAtReassembly; // (r) puts() before the last reassembly's first detach

  /**
   * A pool holding all of frames {@code 0 .. frames - 1}. With {@code contiguousRuns}, every whole
   * run {@code [512r, 512r + 512)} is on the run stack, lowest run on top, and the frames past the
   * last whole run are spread over the stripes; without, all frames are. Either way the stripes'
   * frames are spread over {@code stripes} stripes in contiguous ranges (stripe 0 holds the lowest
   * frames), lowest frame on top.
   *
   * <p>The caller passes frames ≥ 1 and a power-of-two stripe count (PhysMem checks both with its
   * own messages); {@code batchStealing} false makes every steal take one frame. The plain writes
   * here are published by the final-field freeze of PhysMem, which reaches this object through a
   * final field.
   */
  FreePool(int frames, int stripes, boolean batchStealing, boolean contiguousRuns) {
    this.frames = frames;
    this.stripes = stripes;
    this.stripeMask = stripes - 1;
    this.stealBatch = batchStealing ? STEAL_BATCH : 1;
    this.runs = contiguousRuns ? frames >>> RUN_SHIFT : 0;
    this.runSlot = (stripes + 1) * HEAD_STRIDE;
    this.next = new int[frames];
    this.runNext = new int[runs];
    this.heads = new long[(stripes + 3) * HEAD_STRIDE];
    // The run stack: pushing from the top down leaves run 0 on top.
    int belowRun = -1;
    for (int r = runs - 1; r >= 0; r--) {
      runNext[r] = belowRun;
      belowRun = r;
    }
    heads[runSlot] = pack(0, belowRun);
    heads[runSlot + START_OFFSET] = runs;
    // Stripe s gets [lo, hi) of the frames past the runs; pushing from the top down leaves lo on
    // top. With no runs this is the layout of all frames as it always was.
    int first = runs << RUN_SHIFT;
    long loose = frames - first;
    for (int s = 0; s < stripes; s++) {
      int lo = first + (int) (loose * s / stripes);
      int hi = first + (int) (loose * (s + 1) / stripes);
      int below = -1;
      for (int f = hi - 1; f >= lo; f--) {
        next[f] = below;
        below = f;
      }
      heads[headSlot(s)] = pack(0, below);
      heads[headSlot(s) + START_OFFSET] = hi - lo;
    }
  }

  // ---------------------------------------------------------------- Sizes and counters

  /** The number of stripes (a power of two). No requirements. */
  int stripes() {
    return stripes;
  }

  /** Most frames one steal takes off a victim: STEAL_BATCH, or 1 with batch stealing off. */
  int stealBatch() {
    return stealBatch;
  }

  /**
   * Makes {@code token} the calling thread's, in every pool: its home stripe becomes the token
   * modulo the stripe count. No requirements.
   */
  static void pinHome(int token) {
    HOME_TOKEN.set(token);
  }

  /** The calling thread's home stripe. No requirements. */
  int homeStripe() {
    return HOME_TOKEN.get() & stripeMask;
  }

  /**
   * Free frames: the sum of the stripe counts plus RUN_FRAMES times the run stack's count (each
   * read opaque), never below 0. Approximate while takes, puts or a reassembly are in flight, exact
   * when the pool is quiescent (I3). No requirements.
   */
  int freeFrames() {
    long sum = (long) RUN_FRAMES * countAt(runSlot);
    for (int s = 0; s < stripes; s++) {
      sum += count(s);
    }
    // A count lags its head CAS, so mid-flight the sum can dip below the truth (by at most one
    // per thread between a push CAS and its increment); never report less than nothing.
    return (int) Math.max(0, sum);
  }

  /**
   * Frames {@link #take} handed out, ever (not those of runs {@link #takeRun} handed out). No
   * requirements.
   */
  long takes() {
    // A batch steal pops its frames and pushes all but one; a reassembly pops what it detaches;
    // a break hands out a run's first frame without any stripe pop. See the essay.
    return sum(POPS_OFFSET) - moved.sum() - detached.sum() + broken.sum();
  }

  /** Frames {@link #put} took back, ever. No requirements. */
  long puts() {
    return sum(PUSHES_OFFSET)
        - moved.sum()
        - (long) (RUN_FRAMES - 1) * broken.sum()
        - returned.sum();
  }

  /** Whole runs on the run stack: its count, read opaque; exact when quiescent (I3). */
  int freeRuns() {
    return (int) Math.max(0, countAt(runSlot));
  }

  /** Runs {@link #take} broke into frames, ever. No requirements. */
  long runsBroken() {
    return broken.sum();
  }

  /** Runs {@link #takeRun} handed out, ever. No requirements. */
  long runsTaken() {
    return runsTaken.sum();
  }

  /** Calls of {@link #reassemble}, ever. No requirements. */
  long reassemblies() {
    return reassemblies.sum();
  }

  /** Runs {@link #reassemble} found whole on the stripes and pushed, ever. No requirements. */
  long runsReassembled() {
    return runsFound.sum();
  }

  /** Takes served by a stripe other than the caller's home. No requirements. */
  long steals() {
    return steals.sum();
  }

  /** Frames batch steals pushed onto a thief's home, ever; 0 with batch stealing off. */
  long moved() {
    return moved.sum();
  }

  /** Records that the caller answered out-of-memory after {@link #take} found nothing. */
  void noteFailure() {
    failures.increment();
  }

  /** How often {@link #noteFailure} was called. No requirements. */
  long failures() {
    return failures.sum();
  }

  // ---------------------------------------------------------------- Take and put

  /**
   * A frame off the caller's home stripe, or stolen off the first other stripe that has any, home+1
   * first, or, when every stripe was seen empty, the first frame of a run popped off the run stack,
   * whose other 511 frames go onto the home stripe; -1 when the run stack was seen empty too.
   * {@code betweenReadAndCas}, when not null, runs in every pop or steal attempt between its reads
   * and its CAS (a test seam, see PhysMem.allocate(Runnable)).
   *
   * <p>Linearizes at the successful pop, steal or run pop CAS, or, answering -1, when the run stack
   * is seen empty after the last stripe.
   *
   * <p>No requirements. The caller owns the frame and must {@link #put} it back at most once.
   */
  int take(Runnable betweenReadAndCas) {
    int home = homeStripe();
    int f = pop(home, betweenReadAndCas);
    if (f < 0) {
      for (int i = 1; i < stripes && f < 0; i++) {
        f = steal((home + i) & stripeMask, home, betweenReadAndCas);
      }
      if (f >= 0) {
        steals.increment();
      } else if (runs > 0) {
        f = breakRun(home, betweenReadAndCas);
      }
    }
    return f;
  }

  /**
   * Pops a run, keeps its first frame and pushes the other {@code RUN_FRAMES - 1}, linked in
   * ascending order while they are private, onto stripe {@code home} in one CAS; answers the kept
   * frame, or -1 if the run stack is empty. Linearizes at the run pop's CAS.
   */
  private int breakRun(int home, Runnable betweenReadAndCas) {
    int r = popAt(runSlot, runNext, betweenReadAndCas);
    if (r < 0) {
      return -1; // linearization point of take's -1: the acquire load that saw no run
    }
    int base = r << RUN_SHIFT;
    int last = base + RUN_FRAMES - 1;
    for (int f = base + 1; f < last; f++) {
      INTS.setOpaque(next, f, f + 1); // private until the push; published by its release half
    }
    pushChain(home, base + 1, last, RUN_FRAMES - 1); // links next[last] to the old top
    broken.increment();
    return base;
  }

  /**
   * The first frame of a whole run popped off the run stack, or -1 if it is empty (always, with
   * contiguous runs off). The run's frames are on no stack now.
   *
   * <p>Linearizes at the run pop's CAS, or, answering -1, at the acquire load that saw the run
   * stack empty.
   *
   * <p>No requirements here (PhysMem.allocateRun adds its own). The caller owns the 512 frames and
   * puts each back (with {@link #put}) at most once.
   */
  int takeRun() {
    int r = popAt(runSlot, runNext, null);
    if (r < 0) {
      return -1;
    }
    runsTaken.increment();
    return r << RUN_SHIFT;
  }

  /**
   * Whether any frame was put since the last {@link #reassemble} began (since construction, before
   * the first): only then can a reassembly find a run that the last one did not. May answer true
   * when nothing changed (a put that was in flight at the last reassembly), never false when a put
   * completed since; see the essay.
   *
   * <p>The caller holds the map lock exclusive, as for {@link #reassemble}.
   */
  boolean putSinceReassembly() {
    return runs > 0 && puts() != putsAtReassembly;
  }

  /**
   * Detaches every stripe's stack, pushes the runs all of whose frames were on them onto the run
   * stack, lowest on top, pushes every other frame back onto the stripe it came from in its old
   * order, and answers how many runs it found. A put that lands meanwhile stays on its stripe.
   *
   * <p>Not atomic; see the essay. Each detach linearizes at its CAS, each push at its.
   *
   * <p>The caller holds the implementation's map lock exclusive, so that no take, takeRun or other
   * reassembly is in flight (a take meanwhile could answer -1 with frames free); puts may run.
   */
  int reassemble() {
    reassemblies.increment();
    if (runs == 0) {
      return 0;
    }
    putsAtReassembly = puts(); // before the first detach: later puts count as "since"
    int[] tops = new int[stripes];
    int[] tally = new int[runs]; // frames of each run found on the stripes
    for (int s = 0; s < stripes; s++) {
      tops[s] = detach(s, tally);
    }
    // Link the whole runs, lowest on top; they are ours, on no stack.
    int firstRun = -1;
    int lastRun = -1;
    int found = 0;
    for (int r = runs - 1; r >= 0; r--) {
      if (tally[r] == RUN_FRAMES) {
        INTS.setOpaque(runNext, r, firstRun); // published by the run push's release half
        if (lastRun < 0) {
          lastRun = r;
        }
        firstRun = r;
        found++;
      }
    }
    // Relink each stripe's frames without the whole runs' and push them back where they were.
    for (int s = 0; s < stripes; s++) {
      int first = -1;
      int last = -1;
      int n = 0;
      for (int f = tops[s]; f >= 0; ) {
        int below = (int) INTS.getOpaque(next, f); // read before f's link is rewritten below
        int r = f >>> RUN_SHIFT;
        if (r >= runs || tally[r] != RUN_FRAMES) {
          if (last < 0) {
            first = f;
          } else {
            INTS.setOpaque(next, last, f); // published by pushChain's release half
          }
          last = f;
          n++;
        }
        f = below;
      }
      if (n > 0) {
        pushChain(s, first, last, n);
        returned.add(n);
      }
    }
    if (found > 0) {
      pushChainAt(runSlot, runNext, firstRun, lastRun, found);
      runsFound.add(found);
    }
    return found;
  }

  /**
   * Takes stripe {@code s}'s whole stack in one CAS (head to empty, stamp + 1), walks it, adding
   * one to {@code tally} for each frame of a run, counts its frames as popped and detached, and
   * answers its top frame (-1 if the stripe was empty). The detached chain is ours, its links
   * intact. Linearizes at the CAS.
   */
  private int detach(int s, int[] tally) {
    int slot = headSlot(s);
    for (; ; ) {
      // Acquire: pairs with the release of every push CAS before it on this head, so the links of
      // the whole chain are visible.
      long h = (long) LONGS.getAcquire(heads, slot);
      int top = (int) (h & TOP_MASK) - 1;
      if (top < 0) {
        return -1;
      }
      if (LONGS.compareAndSet(heads, slot, h, pack(stamp(h) + 1, -1))) {
        long n = 0;
        for (int f = top; f >= 0; f = (int) INTS.getOpaque(next, f)) {
          int r = f >>> RUN_SHIFT;
          if (r < runs) {
            tally[r]++;
          }
          n++;
        }
        LONGS.getAndAdd(heads, slot + POPS_OFFSET, n); // volatile; I3 when quiescent
        detached.add(n);
        return top; // linearization point: the CAS above
      }
      // Failed CAS: a concurrent put changed the head; retry from a fresh read.
    }
  }

  /**
   * Pushes frame {@code f} onto the caller's home stripe. Linearizes at the head CAS, whose release
   * half publishes everything the caller did before.
   *
   * <p>The caller owns {@code f}, which is on no stack.
   */
  void put(int f) {
    pushChain(homeStripe(), f, f, 1);
  }

  private int pop(int s, Runnable betweenReadAndCas) {
    return popAt(headSlot(s), next, betweenReadAndCas);
  }

  /**
   * Pops the top of the stack whose head is at {@code slot} and whose links are {@code links} (a
   * stripe's and next[], or the run stack's and runNext[]); -1 if it is empty. Linearizes at the
   * head CAS, or, answering -1, at the acquire load that saw the stack empty.
   */
  private int popAt(int slot, int[] links, Runnable betweenReadAndCas) {
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
      int below = (int) INTS.getOpaque(links, top);
      if (betweenReadAndCas != null) {
        betweenReadAndCas.run(); // test seam only, see take
      }
      if (LONGS.compareAndSet(heads, slot, h, pack(stamp(h) + 1, below))) {
        LONGS.getAndAdd(heads, slot + POPS_OFFSET, 1L); // volatile; I3 holds when quiescent
        return top; // linearization point: the CAS above
      }
      // Failed CAS: another push or pop on this stack changed the head; retry from a fresh read.
    }
  }

  /**
   * Takes up to {@link #stealBatch} frames off stripe {@code victim} in one CAS, pushes all but the
   * top one onto stripe {@code home} in another, and answers the top one; or -1 if the victim is
   * empty. With a batch of 1 (batch stealing off) the walk is empty, nothing is pushed, and this is
   * a pop of the victim. See the essay for why the walk below the top is safe.
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
          below >= 0 && n < stealBatch;
          below = (int) INTS.getOpaque(next, below)) {
        last = below; // stale if the stripe changed since h; then the CAS below fails
        n++;
      }
      int rest = (int) INTS.getOpaque(next, last);
      if (betweenReadAndCas != null) {
        betweenReadAndCas.run(); // test seam only, see take
      }
      if (LONGS.compareAndSet(heads, slot, h, pack(stamp(h) + 1, rest))) {
        LONGS.getAndAdd(heads, slot + POPS_OFFSET, (long) n); // volatile; I3 when quiescent
        if (n > 1) {
          moved.add(n - 1);
          pushChain(home, (int) INTS.getOpaque(next, top), last, n - 1);
        }
        return top; // linearization point: the CAS above
      }
      // Failed CAS: another push or pop on the victim changed its head; retry from a fresh read.
    }
  }

  /**
   * Pushes the chain {@code first} .. {@code last} of {@code n} frames, which we own, onto stripe
   * {@code s}: one frame for put(), a batch for a steal, a broken run's rest, a reassembly's
   * return. Linearizes at the head CAS.
   */
  private void pushChain(int s, int first, int last, int n) {
    pushChainAt(headSlot(s), next, first, last, n);
  }

  /**
   * Pushes the chain {@code first} .. {@code last} of {@code n} entries, linked through {@code
   * links} and ours, onto the stack whose head is at {@code slot}. Linearizes at the head CAS.
   */
  private void pushChainAt(int slot, int[] links, int first, int last, int n) {
    for (; ; ) {
      long h = (long) LONGS.getAcquire(heads, slot);
      INTS.setOpaque(links, last, (int) (h & TOP_MASK) - 1); // published by the CAS's release half
      if (LONGS.compareAndSet(heads, slot, h, pack(stamp(h) + 1, first))) {
        LONGS.getAndAdd(heads, slot + PUSHES_OFFSET, (long) n); // volatile; I3 when quiescent
        return; // linearization point: the CAS above
      }
      // Failed CAS: another push or pop on this stack changed the head; relink and retry.
    }
  }

  // ---------------------------------------------------------------- Invariants

  /**
   * Walks every stack, stripe 0 first, top down: each link in range, no frame twice, {@code
   * visitor} called on each frame found; then checks I3 for the stripe. Then walks the run stack:
   * each run in range and there once, none of its frames on a stripe, {@code visitor} called on
   * each of them with {@link #IN_RUN}; then I3 for the run stack. Answers which frames are on a
   * stack or in a free run. Never repairs anything.
   *
   * <p>The caller makes sure no take or put runs meanwhile.
   *
   * @throws IllegalStateException naming the first frame or stripe that is wrong (or whatever
   *     {@code visitor} throws)
   */
  boolean[] check(StackVisitor visitor) {
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
        visitor.onStack(s, f);
        f = (int) INTS.getVolatile(next, f);
      }
      if (length != count) {
        throw new IllegalStateException(
            "stripe " + s + " counts " + count + " free frames but its stack holds " + length);
      }
    }
    checkRuns(visitor, onStack, stripeOf);
    return onStack;
  }

  /** The run stack's half of {@link #check}; {@code onStack} has the stripes' frames marked. */
  private void checkRuns(StackVisitor visitor, boolean[] onStack, int[] stripeOf) {
    long h = (long) LONGS.getVolatile(heads, runSlot);
    long count = countAt(runSlot);
    boolean[] seen = new boolean[runs];
    long length = 0;
    int r = (int) (h & TOP_MASK) - 1;
    while (r >= 0) {
      if (r >= runs) {
        throw new IllegalStateException(
            "the run stack links to run "
                + r
                + ", but "
                + frames
                + " frames hold "
                + runs
                + " whole runs");
      }
      if (seen[r]) {
        throw new IllegalStateException("run " + r + " is on the run stack twice");
      }
      seen[r] = true;
      length++;
      for (int f = r << RUN_SHIFT; f < (r + 1) << RUN_SHIFT; f++) {
        if (onStack[f]) {
          throw new IllegalStateException(
              "frame " + f + " of free run " + r + " is on stripe " + stripeOf[f] + " too");
        }
        onStack[f] = true;
        visitor.onStack(IN_RUN, f);
      }
      r = (int) INTS.getVolatile(runNext, r);
    }
    if (length != count) {
      throw new IllegalStateException(
          "the run stack counts " + count + " free runs but holds " + length);
    }
  }

  // ---------------------------------------------------------------- Helpers

  /** Stripe {@code s}'s free count, start + pushes - pops, each read opaque. */
  private long count(int s) {
    return countAt(headSlot(s));
  }

  /** The count of the stack whose head is at {@code slot}: start + pushes - pops, read opaque. */
  private long countAt(int slot) {
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
}
