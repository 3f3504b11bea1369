package org.vmoracle.impl.phys;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Objects;

/**
 * The contents of physical memory: 512 words (longs) a frame, frame {@code f} at {@code [f * 512, f
 * * 512 + 512)} of one {@code long[]}. User data goes through the plain accessors, page-table
 * entries through the acquire, release and CAS ones. One part of {@link PhysMem}, which is the only
 * class that holds one.
 */
final class FrameWords {
  /*
   * Overview:
   * ---------
   * All frames' words in one long[], so that a frame costs no object of its own and a word costs
   * one array access after two bounds checks. Nothing here knows whether a frame is free, busy or
   * whose it is: FrameState keeps that, and the caller's busy bit or PTE is what makes an access
   * legal. PhysMem zeroes a frame here after the pool hands it out and before anyone else sees it;
   * a 2 MiB run it hands out unzeroed (allocateRun), and its caller zeroes the whole run at once
   * with zeroFrames, the frames being adjacent here, or fills it otherwise.
   *
   * Concurrency:
   * ------------
   * User data is plain: a process's loads and stores race as they would on hardware, and are
   * published by whatever release the caller does next (a PTE CAS, an unbusy, a free). Page-table
   * words are read by lock-free walkers while others change them, so they go through LONGS in the
   * mode each accessor names: acquire loads, release stores, volatile CAS and getAndSet. The bulk
   * operations (copy, storePage, loadPage, zero, zeroFrames) are plain; their callers hold the
   * frames busy or freshly allocated, so no one else writes those words meanwhile.
   *
   * Invariants:
   * -----------
   * None of I1-I5 (PhysMem lists them). The one property of its own: every access stays inside
   * its frame. index() checks the frame and the word separately, so word 512 of frame 0 is an
   * error, never word 0 of frame 1.
   *
   * Lock order: none; nothing here blocks or locks.
   */

  /** Words (longs) in a frame: 512, because a frame is 4 KiB (DESIGN.md) and a word 8 bytes. */
  static final int WORDS_PER_FRAME = 512;

  /** log2 of {@link #WORDS_PER_FRAME}: the shift from frame number to its first word index. */
  static final int FRAME_WORD_SHIFT = 9;

  /**
   * The most frames one instance holds: 4,194,303 (16 GiB), because all contents live in one {@code
   * long[]}, whose length is at most {@code Integer.MAX_VALUE}.
   */
  static final int MAX_FRAMES = Integer.MAX_VALUE / WORDS_PER_FRAME;

  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

  // Lock legend:
  //   (c) const after construction
  //   (p) contents: plain for user data, VarHandle modes for page-table words (see essay)

  private final int frames; // (c)
  private final long[] words; // (c) array; (p) contents

  /**
   * {@code frames} frames, all zero.
   *
   * <p>The caller passes 1 ≤ frames ≤ {@link #MAX_FRAMES} (PhysMem checks it with its own message).
   */
  FrameWords(int frames) {
    this.frames = frames;
    this.words = new long[frames * WORDS_PER_FRAME];
  }

  // ---------------------------------------------------------------- User data

  /** Word {@code word} of frame {@code frame}, plain load. See {@link PhysMem#load}. */
  long load(int frame, int word) {
    return words[index(frame, word)];
  }

  /** Stores word {@code word} of frame {@code frame}, plain store. See {@link PhysMem#store}. */
  void store(int frame, int word, long v) {
    words[index(frame, word)] = v;
  }

  /** Copies frame {@code from} into frame {@code to}, plain. See {@link PhysMem#copyFrame}. */
  void copy(int from, int to) {
    checkFrame(from);
    checkFrame(to);
    System.arraycopy(
        words, from << FRAME_WORD_SHIFT, words, to << FRAME_WORD_SHIFT, WORDS_PER_FRAME);
  }

  /** Copies {@code page} into frame {@code f}, plain stores. See {@link PhysMem#storePage}. */
  void storePage(int f, long[] page) {
    checkFrame(f);
    System.arraycopy(page, 0, words, f << FRAME_WORD_SHIFT, WORDS_PER_FRAME);
  }

  /** Copies frame {@code f} into {@code page}, plain loads. See {@link PhysMem#loadPage}. */
  void loadPage(int f, long[] page) {
    checkFrame(f);
    System.arraycopy(words, f << FRAME_WORD_SHIFT, page, 0, WORDS_PER_FRAME);
  }

  /**
   * Sets every word of frame {@code f} to zero, plain stores.
   *
   * <p>The caller holds the frame (busy, or freshly allocated) and publishes the zeroes by a later
   * release (allocate's release store of the flags, then the receiver's PTE CAS).
   */
  void zero(int f) {
    checkFrame(f);
    int base = f << FRAME_WORD_SHIFT;
    Arrays.fill(words, base, base + WORDS_PER_FRAME, 0L);
  }

  /**
   * Sets every word of frames {@code first .. first + count - 1} to zero, plain stores, in one
   * {@code Arrays.fill}: the frames' words are adjacent in the one array, so a 2 MiB run is one
   * fill of 262,144 longs, as fast as filling any long[] of that size (experiment E6 compares the
   * two), rather than 512 fills of a frame.
   *
   * <p>The caller holds the frames (a run it allocated) and publishes the zeroes by a later release
   * (the unbusy of each frame, the PTE CAS that maps them).
   */
  void zeroFrames(int first, int count) {
    Objects.checkFromIndexSize(first, count, frames);
    Arrays.fill(words, first << FRAME_WORD_SHIFT, (first + count) << FRAME_WORD_SHIFT, 0L);
  }

  // ---------------------------------------------------------------- Page-table words

  /** Entry {@code idx} of the table in frame {@code frame}, acquire load. */
  long loadAcquire(int frame, int idx) {
    return (long) LONGS.getAcquire(words, index(frame, idx));
  }

  /** Stores entry {@code idx} of the table in frame {@code frame}, release store. */
  void storeRelease(int frame, int idx, long v) {
    LONGS.setRelease(words, index(frame, idx), v);
  }

  /** Volatile compareAndSet of entry {@code idx}; false means it held something else. */
  boolean cas(int frame, int idx, long expect, long update) {
    return LONGS.compareAndSet(words, index(frame, idx), expect, update);
  }

  /** Volatile getAndSet of entry {@code idx}. */
  long getAndSet(int frame, int idx, long v) {
    return (long) LONGS.getAndSet(words, index(frame, idx), v);
  }

  // ---------------------------------------------------------------- Helpers

  private void checkFrame(int f) {
    Objects.checkIndex(f, frames);
  }

  /** The array index of word {@code word} of frame {@code frame}, both checked. */
  private int index(int frame, int word) {
    Objects.checkIndex(frame, frames);
    Objects.checkIndex(word, WORDS_PER_FRAME);
    return (frame << FRAME_WORD_SHIFT) | word;
  }
}
