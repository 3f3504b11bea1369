package org.vmoracle.impl.map;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.vmoracle.impl.pmap.Pmap;
import org.vmoracle.impl.sync.ScalableRwLock;
import org.vmoracle.spec.Boot;

/**
 * An address space (vmspace): the map, sorted entries by start address, and the pmap that holds its
 * page tables.
 *
 * <h2>Concurrency</h2>
 *
 * The map changes only under the exclusive map lock (legend (x)); faults and accesses look entries
 * up under the shared lock, which is safe for a {@link TreeMap} that no one modifies meanwhile. The
 * pmap is lock-free (see {@link Pmap}).
 *
 * <h2>Invariants</h2>
 *
 * Entries do not overlap, and each is keyed by its start; {@code users} counts the processes that
 * run in this space (clones share one, PROC-4).
 */
public final class VmSpace {
  public final int id; // (c)
  public final Pmap pmap; // (c)
  public final TreeMap<Long, MapEntry> entries = new TreeMap<>(); // (x)
  public int users; // (x)

  /**
   * Lookup hints (vm_map's hint), one per thread stripe: the entry the last lookup of a thread of
   * that stripe found, tried first, since one thread's accesses cluster. One hint for the whole
   * space, as BSD's vm_map has, would be written by every thread whose lookup misses, so two
   * threads faulting in two mappings of one space would bounce its cache line on every access (why
   * Linux kept per-thread VMA caches until the maple tree). Stripes are chosen by thread id, like
   * the map lock's reader stripes; two threads that share one only cost each other hits.
   */
  private static final int HINT_STRIPES = 16;

  /** References between two stripes' hints: 64 or 128 bytes, a cache line or more. */
  private static final int HINT_PAD = 16;

  /**
   * Hint slots (x) for clearing, else written and read under the shared lock by the threads of the
   * slot's stripe: a hint is set only to an entry that was in the map when its lookup found it;
   * {@link #remove}, under the exclusive lock, clears them all, so a hint never names an entry that
   * has left the map. A clipped entry only shrinks, and the range check sees that.
   */
  private final MapEntry[] hints = new MapEntry[HINT_STRIPES * HINT_PAD];

  /**
   * Every address in [MMAP_BASE, freeFloor) lies in some entry (FreeBSD's old {@code first_free}
   * hint), so placement starts its walk there instead of at MMAP_BASE: without it, a process with n
   * mappings placed one after another walks all n on every mmap. Lowered to an entry's start when
   * the entry leaves the map, raised only by {@link #findSpace}, which has just walked the entries
   * below. A merge takes an entry out and widens its neighbour: the floor drops though nothing was
   * unmapped, which costs a longer walk later, never a wrong answer.
   */
  private long freeFloor = Boot.MMAP_BASE; // (x)

  /** Whether {@link #findSpace} uses {@link #freeFloor} ({@code Config.placementHint}). */
  private final boolean useFloor; // (c)

  /** Whether {@link #entryAt} tries and sets {@link #hints} ({@code Config.lookupHints}). */
  private final boolean useHints; // (c)

  private final boolean clipLeavesUserOff; // (c) the injected bug CLIP_LEAVES_USER_OFF_LIST

  /** The map lock, for the assertions of the lock rules only. */
  private final ScalableRwLock lock; // (c)

  /**
   * An empty space over {@code pmap}, whose map changes under {@code lock} exclusive; placement
   * walks from MMAP_BASE every time when {@code useFloor} is false, and lookups search the map
   * every time when {@code useHints} is false.
   */
  public VmSpace(int id, Pmap pmap, ScalableRwLock lock, boolean useFloor, boolean useHints) {
    this(id, pmap, lock, useFloor, useHints, false);
  }

  /**
   * A space as above; {@code clipLeavesUserOff} is the injected bug {@code
   * core.Bug.CLIP_LEAVES_USER_OFF_LIST}: {@link #clip} does not add the upper piece of a shared
   * entry to its object's users.
   */
  public VmSpace(
      int id,
      Pmap pmap,
      ScalableRwLock lock,
      boolean useFloor,
      boolean useHints,
      boolean clipLeavesUserOff) {
    this.id = id;
    this.pmap = pmap;
    this.lock = lock;
    this.useFloor = useFloor;
    this.useHints = useHints;
    this.clipLeavesUserOff = clipLeavesUserOff;
  }

  /** The entry holding {@code va}, or null. The caller holds the map lock in either mode. */
  public MapEntry entryAt(long va) {
    if (!useHints) {
      Map.Entry<Long, MapEntry> e = entries.floorEntry(va);
      return e != null && va < e.getValue().end ? e.getValue() : null;
    }
    int slot = ((int) Thread.currentThread().getId() & (HINT_STRIPES - 1)) * HINT_PAD;
    MapEntry h = hints[slot];
    if (h != null && h.start <= va && va < h.end) {
      return h;
    }
    Map.Entry<Long, MapEntry> e = entries.floorEntry(va);
    if (e != null && va < e.getValue().end) {
      hints[slot] = e.getValue();
      return e.getValue();
    }
    return null;
  }

  /** Takes entry {@code e} out of the map. The caller holds the lock exclusive. */
  public void remove(MapEntry e) {
    assert lock.heldExclusively() : "VmSpace.remove: the caller holds the map lock exclusive";
    entries.remove(e.start);
    freeFloor = Math.min(freeFloor, Math.max(e.start, Boot.MMAP_BASE));
    for (int i = 0; i < hints.length; i += HINT_PAD) {
      hints[i] = null;
    }
  }

  /** The entries overlapping [start, end), in address order. Either mode. */
  public List<MapEntry> overlapping(long start, long end) {
    List<MapEntry> out = new ArrayList<>();
    MapEntry first = entryAt(start);
    if (first != null) {
      out.add(first);
    }
    for (MapEntry e : entries.subMap(start, end).values()) {
      if (e != first) {
        out.add(e);
      }
    }
    return out;
  }

  /** Whether every page of [start, end) is mapped. Either mode. */
  public boolean covers(long start, long end) {
    long at = start;
    for (MapEntry e : overlapping(start, end)) {
      if (e.start > at) {
        return false;
      }
      at = e.end;
    }
    return at >= end;
  }

  /**
   * Splits the entry straddling {@code at} so that an entry starts there (UNMAP-2): the new upper
   * piece joins the same object or copy-on-write group. The caller holds the lock exclusive.
   */
  public void clip(long at) {
    assert lock.heldExclusively() : "VmSpace.clip: the caller holds the map lock exclusive";
    MapEntry e = entryAt(at);
    if (e == null || e.start == at) {
      return;
    }
    MapEntry upper =
        new MapEntry(this, at, e.end, e.index(at), e.prot, e.sharing, e.inherit, e.object, e.cow);
    upper.wired = e.wired;
    e.end = at;
    entries.put(at, upper);
    if (upper.cow != null) {
      upper.cow.members.add(upper);
    } else if (!clipLeavesUserOff) {
      upper.object.users.add(upper); // the object's users are every entry that maps it
    }
  }

  /** Clips at both ends and answers the entries inside [start, end). Exclusive. */
  public List<MapEntry> clipRange(long start, long end) {
    clip(start);
    clip(end);
    return new ArrayList<>(entries.subMap(start, end).values());
  }

  /**
   * Merges entries that touch inside [start, end] (its ends included) and could be one: same
   * protection, sharing, inheritance and wiring, the same object or copy-on-write group, and
   * continuous page offsets (vm_map_simplify_entry; Linux's VMA merge). The map then holds as few
   * entries as the clipping operations allow. The caller holds the lock exclusive.
   */
  public void simplify(long start, long end) {
    assert lock.heldExclusively() : "VmSpace.simplify: the caller holds the map lock exclusive";
    MapEntry e = entryAt(Math.max(0, start - 1));
    if (e == null) {
      Map.Entry<Long, MapEntry> first = entries.ceilingEntry(start);
      e = first == null ? null : first.getValue();
    }
    while (e != null && e.start <= end) {
      Map.Entry<Long, MapEntry> next = entries.higherEntry(e.start);
      if (next == null) {
        return;
      }
      MapEntry n = next.getValue();
      if (mergeable(e, n)) {
        remove(n);
        e.end = n.end;
        if (n.cow != null) {
          n.cow.members.remove(n);
        } else {
          n.object.users.remove(n);
        }
      } else {
        e = n;
      }
    }
  }

  private static boolean mergeable(MapEntry a, MapEntry b) {
    return a.end == b.start
        && a.prot == b.prot
        && a.sharing == b.sharing
        && a.inherit == b.inherit
        && a.wired == b.wired
        && a.object == b.object
        && a.cow == b.cow
        && a.pgoff + a.pages() == b.pgoff;
  }

  /**
   * The lowest free start at or above MMAP_BASE for {@code bytes}, 2 MiB-aligned when {@code bytes}
   * is a multiple of 2 MiB, ending at or below PLACE_MAX; -1 if there is none (PLACE-1..3). The
   * walk starts at {@link #freeFloor}: no start below it is free. The caller holds the lock
   * exclusive.
   */
  public long findSpace(long bytes) {
    assert lock.heldExclusively() : "VmSpace.findSpace: the caller holds the map lock exclusive";
    long align = bytes % Boot.SEGMENT_SIZE == 0 ? Boot.SEGMENT_SIZE : Boot.PAGE_SIZE;
    long floor = useFloor ? freeFloor : Boot.MMAP_BASE;
    long at = roundUp(floor, align);
    // The first address of the walk that no entry holds: all below it is mapped.
    long firstHole = -1;
    long covered = floor;
    // Start from the entry at or below the first candidate: an entry that starts lower may reach
    // past it. (Found by the concurrent hunt: starting from the first candidate skipped such an
    // entry and placed a segment-aligned mapping over it.)
    Long from = entries.floorKey(at);
    for (MapEntry e : entries.tailMap(from == null ? at : from, true).values()) {
      if (firstHole < 0) {
        if (e.start > covered) {
          firstHole = covered;
        } else {
          covered = Math.max(covered, e.end);
        }
      }
      if (e.end <= at) {
        continue;
      }
      if (at + bytes <= e.start) {
        break;
      }
      at = roundUp(e.end, align);
    }
    freeFloor = firstHole >= 0 ? firstHole : Math.max(freeFloor, covered);
    return at + bytes <= Boot.PLACE_MAX ? at : -1;
  }

  private static long roundUp(long a, long align) {
    return (a + align - 1) / align * align;
  }
}
