package org.vmoracle.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.object.PageMap;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Mapping;
import org.vmoracle.spec.ProcessView;
import org.vmoracle.spec.View;

/**
 * The implementation's view (VIEW-1), read without faulting anything in: a page's contents are
 * taken from wherever it is (a frame, swap, or the file's disk). Requires the map lock exclusive.
 */
final class Views {
  private Views() {}

  static View of(
      Machine m,
      Map<Integer, VmSpace> processes,
      Map<String, VmObject> files,
      Map<Long, VmObject> segments) {
    NavigableMap<Integer, ProcessView> views = new TreeMap<>();
    for (Map.Entry<Integer, VmSpace> p : processes.entrySet()) {
      views.put(p.getKey(), process(m, p.getKey(), p.getValue()));
    }
    NavigableMap<String, Long> filePages = new TreeMap<>();
    files.forEach((name, o) -> filePages.put(name, o.size()));
    NavigableMap<Long, Long> shmPages = new TreeMap<>();
    segments.forEach((key, o) -> shmPages.put(key, o.size()));
    return new View(views, filePages, shmPages);
  }

  private static ProcessView process(Machine m, int pid, VmSpace sp) {
    List<Mapping> maps = new ArrayList<>();
    NavigableMap<Long, Long> words = new TreeMap<>();
    for (MapEntry e : sp.entries.values()) {
      maps.add(new Mapping(e.start, e.end, e.prot, e.sharing, backing(e), e.inherit, e.wired));
      if (e.prot.canRead()) {
        addWords(m, e, words);
      }
    }
    return new ProcessView(pid, maps, words);
  }

  private static Mapping.Backing backing(MapEntry e) {
    VmObject o = e.shown();
    switch (o.kind) {
      case VNODE:
        return Mapping.Backing.file(o.name, e.pgoff);
      case SHM:
        return Mapping.Backing.shm(o.key, e.pgoff);
      case SHARED_PAGE:
        return Mapping.Backing.SHARED_PAGE;
      case ANON:
        return Mapping.Backing.ANON;
    }
    throw new AssertionError(o);
  }

  private static void addWords(Machine m, MapEntry e, NavigableMap<Long, Long> words) {
    VmObject[] levels = e.object != null ? new VmObject[] {e.object} : e.cow.chain();
    VmObject terminal = levels[levels.length - 1];
    long from = e.pgoff;
    long to = e.pgoff + e.pages();
    TreeSet<Long> candidates = new TreeSet<>();
    for (VmObject o : levels) {
      o.pages.forEachIn(from, to, (i, slot) -> candidates.add(i));
      if (o.disk != null) {
        for (long i = from; i < Math.min(to, o.disk.pristine()); i++) {
          candidates.add(i);
        }
        for (long i : o.disk.writtenPages()) {
          if (i >= from && i < to) {
            candidates.add(i);
          }
        }
      }
      if (o.kind == VmObject.Kind.SHARED_PAGE && from == 0) {
        candidates.add(0L);
      }
    }
    long[] page = new long[Boot.WORDS_PER_PAGE];
    for (long i : candidates) {
      if (terminal.pastEnd(i)) {
        continue; // BUS: nothing readable there
      }
      contents(m, levels, i, page);
      long base = e.start + (i - e.pgoff) * Boot.PAGE_SIZE;
      for (int w = 0; w < Boot.WORDS_PER_PAGE; w++) {
        if (page[w] != 0) {
          words.put(base + (long) w * Boot.WORD_SIZE, page[w]);
        }
      }
    }
  }

  /** Page {@code i} as the chain shows it, into {@code page}. */
  static void contents(Machine m, VmObject[] levels, long i, long[] page) {
    for (VmObject o : levels) {
      long slot = o.pages.get(i);
      if (slot != PageMap.NONE) {
        if (VmObject.isFrame(slot)) {
          m.mem.loadPage((int) slot, page);
        } else {
          System.arraycopy(m.swap.get(VmObject.swapSlot(slot)), 0, page, 0, Boot.WORDS_PER_PAGE);
        }
        return;
      }
      if (o.disk != null) {
        o.disk.read(i, page);
        return;
      }
    }
    java.util.Arrays.fill(page, 0L);
  }
}
