package org.vmoracle.impl.core;

import java.util.EnumSet;
import java.util.Set;

/**
 * The implementation's settings and kill switches. Every optimization has a switch that turns it
 * off, so a hunt can bisect between fast and slow paths (DragonFly's sysctls).
 *
 * @param frames physical frames (4 KiB each); the default, 65,536 (256 MiB), is a fraction of this
 *     2-core, 24 GiB machine that leaves room for many systems side by side in tests
 * @param swapSlots pages the swap area holds
 * @param collapseDepth a private mapping's backing chain deeper than this is collapsed on fork
 *     (seed 000: "any shadow object chain deeper than 5")
 * @param pmapEarlyReturn {@code pmap_remove} of a pmap holding nothing but its top-level page
 *     returns at once (seed 002, FreeBSD D32569)
 * @param scalableReads faults take the map lock through per-thread stripes instead of one shared
 *     counter, so concurrent faults bounce no common cache line
 * @param unmapUnderSharedLock munmap takes the mapping out under the exclusive map lock, then
 *     downgrades it to shared to clear the PTEs and free the pages that nothing else can reach, so
 *     faults elsewhere go on meanwhile (Linux 4.20's munmap, which zaps pages with mmap_sem
 *     downgraded to read)
 * @param prunePageTables a page-table page that an unmap or exit empties under the exclusive map
 *     lock is freed at once (FreeBSD's pmap_unuse_pt), so that an exiting process's pmap is down to
 *     its top-level page once the shared page is gone and the early return above fires; off, they
 *     stay until the address space goes (DragonFly 2019, seed 000)
 * @param placementHint mmap's placement starts its walk at the lowest hole of the map instead of at
 *     MMAP_BASE (FreeBSD's old {@code first_free} hint), so placing mappings one after another does
 *     not walk all earlier ones each time
 * @param bugs injected bugs switched on ({@link Bug}): empty except in the checks' zoo
 */
public record Config(
    int frames,
    int swapSlots,
    int collapseDepth,
    boolean pmapEarlyReturn,
    boolean scalableReads,
    boolean unmapUnderSharedLock,
    boolean prunePageTables,
    boolean placementHint,
    Set<Bug> bugs) {

  /** Frames by default: 256 MiB. */
  public static final int DEFAULT_FRAMES = 65_536;

  /** Seed 000's chain-depth limit. */
  public static final int DEFAULT_COLLAPSE_DEPTH = 5;

  public Config {
    if (frames < 16) {
      throw new IllegalArgumentException("frames " + frames + ": at least 16 are needed");
    }
    if (swapSlots < 0 || collapseDepth < 1) {
      throw new IllegalArgumentException("bad swap slots or collapse depth");
    }
    bugs = Set.copyOf(bugs);
  }

  /** Every optimization on, default sizes, no injected bug. */
  public static Config defaults() {
    return new Config(
        DEFAULT_FRAMES,
        DEFAULT_FRAMES,
        DEFAULT_COLLAPSE_DEPTH,
        true,
        true,
        true,
        true,
        true,
        Set.of());
  }

  public Config withFrames(int n) {
    return new Config(
        n,
        swapSlots,
        collapseDepth,
        pmapEarlyReturn,
        scalableReads,
        unmapUnderSharedLock,
        prunePageTables,
        placementHint,
        bugs);
  }

  public Config withSwapSlots(int n) {
    return new Config(
        frames,
        n,
        collapseDepth,
        pmapEarlyReturn,
        scalableReads,
        unmapUnderSharedLock,
        prunePageTables,
        placementHint,
        bugs);
  }

  public Config withCollapseDepth(int n) {
    return new Config(
        frames,
        swapSlots,
        n,
        pmapEarlyReturn,
        scalableReads,
        unmapUnderSharedLock,
        prunePageTables,
        placementHint,
        bugs);
  }

  public Config withPmapEarlyReturn(boolean on) {
    return new Config(
        frames,
        swapSlots,
        collapseDepth,
        on,
        scalableReads,
        unmapUnderSharedLock,
        prunePageTables,
        placementHint,
        bugs);
  }

  public Config withScalableReads(boolean on) {
    return new Config(
        frames,
        swapSlots,
        collapseDepth,
        pmapEarlyReturn,
        on,
        unmapUnderSharedLock,
        prunePageTables,
        placementHint,
        bugs);
  }

  public Config withUnmapUnderSharedLock(boolean on) {
    return new Config(
        frames,
        swapSlots,
        collapseDepth,
        pmapEarlyReturn,
        scalableReads,
        on,
        prunePageTables,
        placementHint,
        bugs);
  }

  public Config withPrunePageTables(boolean on) {
    return new Config(
        frames,
        swapSlots,
        collapseDepth,
        pmapEarlyReturn,
        scalableReads,
        unmapUnderSharedLock,
        on,
        placementHint,
        bugs);
  }

  public Config withPlacementHint(boolean on) {
    return new Config(
        frames,
        swapSlots,
        collapseDepth,
        pmapEarlyReturn,
        scalableReads,
        unmapUnderSharedLock,
        prunePageTables,
        on,
        bugs);
  }

  /** These settings with injected bug {@code b} switched on (for the checks' zoo only). */
  public Config withBug(Bug b) {
    Set<Bug> more = EnumSet.of(b);
    more.addAll(bugs);
    return new Config(
        frames,
        swapSlots,
        collapseDepth,
        pmapEarlyReturn,
        scalableReads,
        unmapUnderSharedLock,
        prunePageTables,
        placementHint,
        more);
  }

  /** Whether injected bug {@code b} is on. No requirements. */
  public boolean has(Bug b) {
    return bugs.contains(b);
  }
}
