package org.vmoracle.model;

import java.util.Map;
import java.util.TreeMap;
import org.pcollections.TreePMap;
import org.vmoracle.spec.Boot;

/**
 * Where an address space is mapped, as maximal runs of mapped addresses: start to end, no two
 * touching. It says nothing the regions do not (it is their union), and exists so that placement
 * (PLACE-1) can step from hole to hole instead of from region to region: n mappings placed one
 * after another are one run, not n regions to walk on every mmap.
 *
 * <p>Implementation note: the model keeps it beside the regions ({@link State#runsOf}); only mmap,
 * munmap and new address spaces change what is mapped, and each says so ({@link State#withMapped},
 * {@link State#withUnmapped}, {@link State#withNewSpace}); changes of protection, inheritance or
 * wiring leave it alone. {@code ModelStructureTest} checks after random operations that it is the
 * union of the regions.
 */
final class Runs {
  private Runs() {}

  /** The runs of {@code regions}: one pass in address order, touching regions joined. */
  static TreePMap<Long, Long> of(TreePMap<Long, Region> regions) {
    TreeMap<Long, Long> runs = new TreeMap<>();
    long start = -1;
    long end = -1;
    for (Region r : regions.values()) {
      if (r.start() != end) {
        if (start >= 0) {
          runs.put(start, end);
        }
        start = r.start();
      }
      end = r.end();
    }
    if (start >= 0) {
      runs.put(start, end);
    }
    return TreePMap.fromSortedMap(runs);
  }

  /** {@code runs} with [start, end) mapped. */
  static TreePMap<Long, Long> add(TreePMap<Long, Long> runs, long start, long end) {
    long s = start;
    long e = end;
    Map.Entry<Long, Long> before = runs.floorEntry(start);
    if (before != null && before.getValue() >= start) {
      s = before.getKey(); // joins the run that reaches it
      e = Math.max(e, before.getValue());
    }
    TreePMap<Long, Long> out = runs;
    for (Map.Entry<Long, Long> r = runs.higherEntry(s);
        r != null && r.getKey() <= end;
        r = runs.higherEntry(r.getKey())) {
      e = Math.max(e, r.getValue()); // swallowed, or touching at the end
      out = out.minus(r.getKey());
    }
    return out.plus(s, e);
  }

  /** {@code runs} with [start, end) unmapped. */
  static TreePMap<Long, Long> remove(TreePMap<Long, Long> runs, long start, long end) {
    TreePMap<Long, Long> out = runs;
    Map.Entry<Long, Long> before = runs.lowerEntry(start);
    if (before != null && before.getValue() > start) {
      out = out.plus(before.getKey(), start); // cut short
      if (before.getValue() > end) {
        return out.plus(end, before.getValue()); // a hole in the middle of it
      }
    }
    for (Map.Entry<Long, Long> r : runs.subMap(start, true, end, false).entrySet()) {
      out = out.minus(r.getKey());
      if (r.getValue() > end) {
        out = out.plus(end, r.getValue()); // its tail stays
      }
    }
    return out;
  }

  /**
   * The lowest start at or above MMAP_BASE for {@code bytes}, 2 MiB-aligned when {@code bytes} is a
   * multiple of 2 MiB, ending at or below PLACE_MAX; -1 when there is none (PLACE-1..3). Steps over
   * one run at a time: the cost grows with the holes too small to take it, not with the mappings.
   */
  static long place(TreePMap<Long, Long> runs, long bytes) {
    long align = bytes % Boot.SEGMENT_SIZE == 0 ? Boot.SEGMENT_SIZE : Boot.PAGE_SIZE;
    long at = alignUp(Boot.MMAP_BASE, align);
    Long from = runs.floorKey(at);
    for (Map.Entry<Long, Long> r : runs.tailMap(from == null ? at : from).entrySet()) {
      if (r.getValue() <= at) {
        continue;
      }
      if (r.getKey() >= at + bytes) {
        break;
      }
      at = alignUp(r.getValue(), align);
    }
    return at + bytes <= Boot.PLACE_MAX ? at : -1;
  }

  private static long alignUp(long a, long align) {
    return (a + align - 1) & -align;
  }
}
