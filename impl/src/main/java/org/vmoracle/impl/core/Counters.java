package org.vmoracle.impl.core;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.vmoracle.impl.sync.StripedCounter;

/**
 * What the implementation counts, for benchmarks and reports. Counters off the fault path are
 * {@link LongAdder}s; those on it are {@link StripedCounter}s, which cost no atomic instruction
 * (legend (a)), so counting adds nothing shared to a fault.
 */
public final class Counters {
  public final StripedCounter zeroFillFaults = new StripedCounter();
  public final StripedCounter cowFaults = new StripedCounter();
  public final StripedCounter fileFaults = new StripedCounter();
  public final StripedCounter mappedFaults =
      new StripedCounter(); // page resident, only the PTE was missing
  public final LongAdder swapIns = new LongAdder();
  public final LongAdder swapOuts = new LongAdder();
  public final LongAdder fileWritebacks = new LongAdder();
  public final LongAdder rmapWalks = new LongAdder(); // reverse-map walks for one page
  public final LongAdder rmapVisits = new LongAdder(); // mappings looked at by those walks
  public final LongAdder invalidations = new LongAdder(); // PTEs removed behind a process's back
  public final LongAdder shadows = new LongAdder(); // copy-on-write fronts created
  public final LongAdder collapses = new LongAdder();
  public final LongAdder collapsedPages = new LongAdder();
  public final LongAdder shadowedFreed = new LongAdder(); // fully shadowed pages freed
  public final LongAdder exclusiveLocks = new LongAdder(); // map lock taken exclusive
  public final StripedCounter sharedLocks = new StripedCounter(); // map lock taken shared
  public final LongAdder outOfMemory = new LongAdder();
  public final LongAdder pageTablesPruned = new LongAdder(); // freed when emptied
  public final LongAdder pmapEarlyReturns = new LongAdder(); // of address spaces now gone
  public final LongAdder superpageWires = new LongAdder(); // segments mlock mapped by one PS leaf
  public final LongAdder superpageFallbacks = new LongAdder(); // runs it then mapped 4 KiB-wise
  public final LongAdder pmapDemotions = new LongAdder(); // of address spaces now gone

  /** Every counter by name, for reports. */
  public Map<String, Long> snapshot() {
    Map<String, Long> m = new LinkedHashMap<>();
    for (java.lang.reflect.Field f : Counters.class.getFields()) {
      try {
        Object c = f.get(this);
        m.put(
            f.getName(),
            c instanceof LongAdder ? ((LongAdder) c).sum() : ((StripedCounter) c).sum());
      } catch (IllegalAccessException e) {
        throw new AssertionError(e);
      }
    }
    return m;
  }
}
