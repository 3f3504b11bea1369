package org.vmoracle.impl.core;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * The implementation's settings and kill switches: three sizes, the reverse-map design ({@link
 * Rmap}), a set of named {@link Switch}es that are on, and the injected {@link Bug}s. Every
 * optimization has a switch that turns it off, so a hunt can bisect between fast and slow paths
 * (DragonFly's sysctls); a new one is a constant of {@link Switch}, on by default unless it says
 * otherwise, and nothing else here changes.
 *
 * @param frames physical frames (4 KiB each); the default, 65,536 (256 MiB), is a fraction of this
 *     2-core, 24 GiB machine that leaves room for many systems side by side in tests
 * @param swapSlots pages the swap area holds
 * @param collapseDepth a private mapping's backing chain deeper than this is collapsed on fork
 *     (seed 000: "any shadow object chain deeper than 5")
 * @param rmap which reverse map finds the PTEs of a page
 * @param switches the optimizations that are on
 * @param bugs injected bugs switched on ({@link Bug}): empty except in the checks' zoo
 */
public record Config(
    int frames, int swapSlots, int collapseDepth, Rmap rmap, Set<Switch> switches, Set<Bug> bugs) {

  /** Frames by default: 256 MiB. */
  public static final int DEFAULT_FRAMES = 65_536;

  /** Seed 000's chain-depth limit. */
  public static final int DEFAULT_COLLAPSE_DEPTH = 5;

  /** The reverse-map designs ({@code rmap.ReverseMap}); one per system. */
  public enum Rmap {
    /**
     * No record per page: the users of an object are probed (DragonFly BSD 2019, seed 000). The
     * default.
     */
    BACKING,

    /**
     * One record per mapped PTE on a per-page list under a per-page lock (FreeBSD; DragonFly before
     * 2019; kernels.md §2).
     */
    PV,

    /**
     * A direct pointer for a page mapped once, else a chain of cache-line nodes of PTE addresses
     * (Linux 2.5, seed 004; kernels.md §3.2).
     */
    PTECHAIN;

    /** The design's name as {@code --rmap} and {@code --config rmap=} write it: {@code pv}. */
    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Every design's word, comma-separated, for help and messages. */
    public static String words() {
      StringBuilder sb = new StringBuilder();
      for (Rmap r : values()) {
        sb.append(sb.length() == 0 ? "" : ", ").append(r.word());
      }
      return sb.toString();
    }

    /**
     * The design {@code word} names, in any case.
     *
     * @throws IllegalArgumentException naming the designs when {@code word} is none of them
     */
    public static Rmap byWord(String word) {
      for (Rmap r : values()) {
        if (r.word().equalsIgnoreCase(word.trim())) {
          return r;
        }
      }
      throw new IllegalArgumentException(
          "unknown reverse map '" + word + "': expected one of " + words());
    }
  }

  /** An optimization that can be turned off; each says what off means. */
  public enum Switch {
    /**
     * {@code pmap_remove} of a pmap holding nothing but its top-level page returns at once (seed
     * 002, FreeBSD D32569). Off: it walks the empty tree.
     */
    PMAP_EARLY_RETURN,

    /**
     * Faults take the map lock through per-thread stripes instead of one shared counter, so
     * concurrent faults bounce no common cache line (seed 000). Off: one reader count.
     */
    SCALABLE_READS,

    /**
     * munmap takes the mapping out under the exclusive map lock, then downgrades it to shared to
     * clear the PTEs and free the pages that nothing else can reach, so faults elsewhere go on
     * meanwhile (Linux 4.20's munmap, which zaps pages with mmap_sem downgraded to read). Off: all
     * of it under the exclusive lock.
     */
    UNMAP_UNDER_SHARED_LOCK,

    /**
     * A page-table page that an unmap or exit empties under the exclusive map lock is freed at once
     * (FreeBSD's pmap_unuse_pt), so that an exiting process's pmap is down to its top-level page
     * once the shared page is gone and the early return above fires. Off: they stay until the
     * address space goes (DragonFly 2019, seed 000).
     */
    PRUNE_PAGE_TABLES,

    /**
     * mmap's placement starts its walk at the lowest hole of the map instead of at MMAP_BASE
     * (FreeBSD's old {@code first_free} hint), so placing mappings one after another does not walk
     * all earlier ones each time. Off: every placement walks from MMAP_BASE.
     */
    PLACEMENT_HINT,

    /**
     * An address space's entry lookup first tries the entry the last lookup of the calling thread's
     * stripe found (vm_map's hint, one per thread stripe so that threads faulting in different
     * mappings do not bounce one hint's cache line; seed 000's "no shared line per fault"). Off:
     * every lookup searches the sorted map.
     */
    LOOKUP_HINTS,

    /**
     * A thread whose home stripe of the free pool is empty takes a batch of frames from another
     * stripe in one CAS and keeps the rest at home (seed 000: the free pool must not bounce a line
     * per allocation). Off: it takes one frame per steal.
     */
    BATCH_STEALING,

    /**
     * A frame for a fault comes out of the free pool already busy, in the same store that clears
     * its free flag (FreeBSD's VM_ALLOC_BUSY-style allocation). Off: it is allocated, then busied
     * by a second atomic operation.
     */
    BUSY_ON_ALLOCATE,

    /**
     * mlock of whole 2 MiB-aligned segments of private anonymous or shared anonymous/shm memory
     * takes 512 contiguous, aligned frames at once (the free pool's run layer), zeroes them with
     * the map lock downgraded to shared, and maps them with one 2 MiB PS leaf whose demotion table
     * is deposited ahead (seed 003, FreeBSD review D43594). Off: wiring faults 4 KiB at a time and
     * the free pool keeps no runs.
     */
    WIRE_SUPERPAGES,

    /**
     * Segment page-table sharing (seed 001, DragonFly 2012's machdep.pmap_mmu_optimize): a shared
     * mapping of an object whose segment it maps whole, 2 MiB aligned in the address space and in
     * the object, keeps the segment's PT page with the object (in a pmap of the object's, one for
     * read-write and one for read-only mappings), and every address space mapping that segment
     * links it from its PD entry, so that one fault makes a page present for every sharer and the
     * tables outlive the processes. <b>Off by default</b>, as DragonFly shipped it. Off: every
     * address space has its own PT pages.
     */
    SHARE_PAGE_TABLES(false),

    /**
     * Pte chains only ({@link Rmap#PTECHAIN}): a removal that leaves a page's chain with one PTE
     * turns it back into a direct pointer. <b>Off by default</b> (with SHARE_PAGE_TABLES): seed 004
     * argues that a fork+exec loop (a shell) would rebuild the chain at once, so collapsing only
     * churns (E7 counts the conversions both ways). Off: a chain stays a chain until it is empty.
     */
    CHAIN_COLLAPSE_TO_DIRECT(false);

    private final boolean onByDefault;

    Switch() {
      this(true);
    }

    Switch(boolean onByDefault) {
      this.onByDefault = onByDefault;
    }

    /**
     * Whether {@link Config#defaults()} has this switch on: every one but {@link
     * #CHAIN_COLLAPSE_TO_DIRECT} and {@link #SHARE_PAGE_TABLES}.
     */
    public boolean onByDefault() {
      return onByDefault;
    }

    /** The switches on by default. */
    public static Set<Switch> defaults() {
      EnumSet<Switch> on = EnumSet.noneOf(Switch.class);
      for (Switch s : values()) {
        if (s.onByDefault) {
          on.add(s);
        }
      }
      return on;
    }

    /** The switch's name as {@code --config} writes it: {@code pmapEarlyReturn}. */
    public String word() {
      StringBuilder sb = new StringBuilder();
      for (String part : name().toLowerCase(Locale.ROOT).split("_")) {
        sb.append(
            sb.length() == 0 ? part : Character.toUpperCase(part.charAt(0)) + part.substring(1));
      }
      return sb.toString();
    }
  }

  public Config {
    if (frames < 16) {
      throw new IllegalArgumentException("frames " + frames + ": at least 16 are needed");
    }
    if (swapSlots < 0 || collapseDepth < 1) {
      throw new IllegalArgumentException("bad swap slots or collapse depth");
    }
    Objects.requireNonNull(rmap, "rmap");
    switches = switches.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(switches));
    bugs = Set.copyOf(bugs);
  }

  /**
   * Every optimization on (but {@link Switch#CHAIN_COLLAPSE_TO_DIRECT}, off by default), the
   * backing-scan reverse map, default sizes, no injected bug.
   */
  public static Config defaults() {
    return new Config(
        DEFAULT_FRAMES,
        DEFAULT_FRAMES,
        DEFAULT_COLLAPSE_DEPTH,
        Rmap.BACKING,
        Switch.defaults(),
        Set.of());
  }

  /** Whether switch {@code s} is on. No requirements. */
  public boolean on(Switch s) {
    return switches.contains(s);
  }

  /** These settings with switch {@code s} on or off. */
  public Config with(Switch s, boolean on) {
    EnumSet<Switch> next = EnumSet.noneOf(Switch.class);
    next.addAll(switches);
    if (on) {
      next.add(s);
    } else {
      next.remove(s);
    }
    return new Config(frames, swapSlots, collapseDepth, rmap, next, bugs);
  }

  public Config withFrames(int n) {
    return new Config(n, swapSlots, collapseDepth, rmap, switches, bugs);
  }

  public Config withSwapSlots(int n) {
    return new Config(frames, n, collapseDepth, rmap, switches, bugs);
  }

  public Config withCollapseDepth(int n) {
    return new Config(frames, swapSlots, n, rmap, switches, bugs);
  }

  /** These settings with reverse map {@code r}. */
  public Config withRmap(Rmap r) {
    return new Config(frames, swapSlots, collapseDepth, r, switches, bugs);
  }

  /** These settings with injected bug {@code b} switched on (for the checks' zoo only). */
  public Config withBug(Bug b) {
    Set<Bug> more = EnumSet.of(b);
    more.addAll(bugs);
    return new Config(frames, swapSlots, collapseDepth, rmap, switches, more);
  }

  /** Whether injected bug {@code b} is on. No requirements. */
  public boolean has(Bug b) {
    return bugs.contains(b);
  }

  // Each switch by name, for readable call sites.

  /** {@link Switch#PMAP_EARLY_RETURN}. */
  public boolean pmapEarlyReturn() {
    return on(Switch.PMAP_EARLY_RETURN);
  }

  /** {@link Switch#SCALABLE_READS}. */
  public boolean scalableReads() {
    return on(Switch.SCALABLE_READS);
  }

  /** {@link Switch#UNMAP_UNDER_SHARED_LOCK}. */
  public boolean unmapUnderSharedLock() {
    return on(Switch.UNMAP_UNDER_SHARED_LOCK);
  }

  /** {@link Switch#PRUNE_PAGE_TABLES}. */
  public boolean prunePageTables() {
    return on(Switch.PRUNE_PAGE_TABLES);
  }

  /** {@link Switch#PLACEMENT_HINT}. */
  public boolean placementHint() {
    return on(Switch.PLACEMENT_HINT);
  }

  /** {@link Switch#LOOKUP_HINTS}. */
  public boolean lookupHints() {
    return on(Switch.LOOKUP_HINTS);
  }

  /** {@link Switch#BATCH_STEALING}. */
  public boolean batchStealing() {
    return on(Switch.BATCH_STEALING);
  }

  /** {@link Switch#BUSY_ON_ALLOCATE}. */
  public boolean busyOnAllocate() {
    return on(Switch.BUSY_ON_ALLOCATE);
  }

  /** {@link Switch#SHARE_PAGE_TABLES}. */
  public boolean sharePageTables() {
    return on(Switch.SHARE_PAGE_TABLES);
  }

  /** {@link Switch#WIRE_SUPERPAGES}. */
  public boolean wireSuperpages() {
    return on(Switch.WIRE_SUPERPAGES);
  }

  /** {@link Switch#CHAIN_COLLAPSE_TO_DIRECT}. */
  public boolean chainCollapseToDirect() {
    return on(Switch.CHAIN_COLLAPSE_TO_DIRECT);
  }

  public Config withPmapEarlyReturn(boolean on) {
    return with(Switch.PMAP_EARLY_RETURN, on);
  }

  public Config withScalableReads(boolean on) {
    return with(Switch.SCALABLE_READS, on);
  }

  public Config withUnmapUnderSharedLock(boolean on) {
    return with(Switch.UNMAP_UNDER_SHARED_LOCK, on);
  }

  public Config withPrunePageTables(boolean on) {
    return with(Switch.PRUNE_PAGE_TABLES, on);
  }

  public Config withPlacementHint(boolean on) {
    return with(Switch.PLACEMENT_HINT, on);
  }
}
