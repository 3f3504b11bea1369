package org.vmoracle.checks.exhaust;

import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.object.PageMap;
import org.vmoracle.impl.pmap.Pte;

/**
 * A 64-bit digest of what the implementation holds that the model does not show: for each page of
 * each entry of each process, whether a PTE maps it (and writable, wired, as a superpage), and
 * where the page lies in its backing chain (which level, resident or swapped), with each entry's
 * chain depth. Frame and slot numbers are left out: which frame holds a page never matters, only
 * whether one does.
 *
 * <p>{@code exhaust --states model+impl} tells states apart by the model's key and this digest, so
 * that what the model cannot see (a read that installed a PTE, a pageout, a collapse) still leads
 * to a new state to search from. A collision (two different shapes with one digest) would merge two
 * states; at 64 bits over at most millions of states it is not expected.
 *
 * <p>Reads the implementation without its locks: the search is sequential on each system.
 */
final class ImplShape {
  private ImplShape() {}

  /** Pages of one entry looked at, at each end: a 2 MiB entry's middle pages are skipped. */
  private static final long ENDS = 64;

  /** The digest of {@code impl}'s processes {@code order}, in that order. */
  static long of(ImplVm impl, int[] order) {
    long h = 0x9E3779B97F4A7C15L;
    java.util.Map<Integer, Integer> spaces = new java.util.HashMap<>();
    for (int pid : order) {
      VmSpace space = impl.space(pid);
      if (space == null) {
        h = mix(h, -1);
        continue;
      }
      Integer seen = spaces.putIfAbsent(space.id, spaces.size());
      h = mix(h, seen == null ? spaces.size() - 1 : seen);
      if (seen != null) {
        continue; // a clone: the same space, already digested
      }
      for (MapEntry e : space.entries.values()) {
        VmObject[] chain = e.cow != null ? e.cow.chain() : new VmObject[] {e.object};
        h = mix(h, e.start);
        h = mix(h, chain.length);
        long n = e.pages();
        for (long i = 0; i < n; i++) {
          if (i == ENDS && n > 2 * ENDS) {
            i = n - ENDS;
          }
          long va = e.addressOf(e.pgoff + i);
          h = mix(h, pte(space.pmap.lookup(va)));
          h = mix(h, where(chain, e.pgoff + i));
        }
      }
    }
    return h;
  }

  private static long pte(long p) {
    if (!Pte.isPresent(p)) {
      return 0;
    }
    return 1
        | (Pte.isWritable(p) ? 2 : 0)
        | (Pte.isWired(p) ? 4 : 0)
        | (Pte.isSuperpage(p) ? 8 : 0);
  }

  /** 0 for nowhere, else 1 + 2 * level, plus 1 when swapped. */
  private static long where(VmObject[] chain, long i) {
    for (int level = 0; level < chain.length; level++) {
      if (chain[level] == null) {
        continue;
      }
      long slot = chain[level].pages.get(i);
      if (slot != PageMap.NONE) {
        return 2 + 4L * level + (VmObject.isFrame(slot) ? 0 : 1);
      }
    }
    return 0;
  }

  private static long mix(long h, long v) {
    long x = (h ^ v) * 0xBF58476D1CE4E5B9L;
    return x ^ (x >>> 31);
  }
}
