package org.vmoracle.impl.core;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the implementation counts, for benchmarks and reports. Every counter is a {@link LongAdder}
 * (legend (a)): counting adds no shared cache line to the fault path.
 */
public final class Counters {
  public final LongAdder zeroFillFaults = new LongAdder();
  public final LongAdder cowFaults = new LongAdder();
  public final LongAdder fileFaults = new LongAdder();
  public final LongAdder mappedFaults = new LongAdder(); // page resident, only the PTE was missing
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
  public final LongAdder sharedLocks = new LongAdder(); // map lock taken shared
  public final LongAdder outOfMemory = new LongAdder();

  /** Every counter by name, for reports. */
  public Map<String, Long> snapshot() {
    Map<String, Long> m = new LinkedHashMap<>();
    for (java.lang.reflect.Field f : Counters.class.getFields()) {
      try {
        m.put(f.getName(), ((LongAdder) f.get(this)).sum());
      } catch (IllegalAccessException e) {
        throw new AssertionError(e);
      }
    }
    return m;
  }
}
