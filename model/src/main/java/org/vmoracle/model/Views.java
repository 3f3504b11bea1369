package org.vmoracle.model;

import static org.vmoracle.spec.Boot.PAGE_SIZE;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.pcollections.TreePMap;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Mapping;
import org.vmoracle.spec.ProcessView;
import org.vmoracle.spec.View;

/**
 * The view of a model state (VIEW-1): what each process can observe, and the sizes of files and
 * keyed segments. Building it only reads the state; the mutable maps here are local buffers for the
 * spec's view records.
 */
final class Views {
  private Views() {}

  static View of(State s) {
    NavigableMap<Integer, ProcessView> processes = new TreeMap<>();
    for (Map.Entry<Integer, Integer> p : s.processes().entrySet()) {
      processes.put(p.getKey(), process(s, p.getKey(), s.spaces().get(p.getValue())));
    }
    NavigableMap<String, Long> files = new TreeMap<>();
    for (Map.Entry<String, Integer> f : s.files().entrySet()) {
      files.put(f.getKey(), s.obj(f.getValue()).size());
    }
    NavigableMap<Long, Long> segments = new TreeMap<>();
    for (Map.Entry<Long, Integer> k : s.segments().entrySet()) {
      segments.put(k.getKey(), s.obj(k.getValue()).size());
    }
    return new View(processes, files, segments);
  }

  static ProcessView process(State s, int pid, TreePMap<Long, Region> regions) {
    List<Mapping> maps = new ArrayList<>();
    NavigableMap<Long, Long> words = new TreeMap<>();
    for (Region r : regions.values()) {
      maps.add(
          new Mapping(
              r.start(), r.end(), r.prot(), r.sharing(), backing(s, r), r.inherit(), r.wired()));
      if (r.prot().canRead()) {
        addWords(s, r, words);
      }
    }
    return new ProcessView(pid, maps, words);
  }

  /**
   * What a map line shows for {@code r} (VIEW-3): a private overlay shows what it reads through.
   */
  private static Mapping.Backing backing(State s, Region r) {
    Obj o = s.obj(r.obj());
    if (o.isOverlay()) {
      if (o.backing() == Obj.NONE) {
        return Mapping.Backing.ANON;
      }
      o = s.obj(o.backing());
    }
    switch (o.kind()) {
      case FILE:
        return Mapping.Backing.file(o.name(), r.pgoff());
      case SEGMENT:
        return Mapping.Backing.shm(o.key(), r.pgoff());
      case SHARED_ANON:
        return Mapping.Backing.ANON;
      case SHARED_PAGE:
        return Mapping.Backing.SHARED_PAGE;
      case PRIVATE_OVERLAY:
        break;
    }
    throw new AssertionError("an overlay never reads through to another overlay: " + r);
  }

  /** Every nonzero word of readable region {@code r}; pages that would give BUS are skipped. */
  private static void addWords(State s, Region r, NavigableMap<Long, Long> words) {
    long from = r.pgoff();
    long to = r.pgoff() + r.pages();
    Obj o = s.obj(r.obj());
    NavigableSet<Long> candidates = new TreeSet<>();
    addCandidates(o, from, to, candidates);
    if (o.isOverlay() && o.backing() != Obj.NONE) {
      addCandidates(s.obj(o.backing()), from, to, candidates);
    }
    for (long i : candidates) {
      Page p = Model.resolve(s, o, i);
      if (p == null) {
        continue;
      }
      long base = r.start() + (i - r.pgoff()) * PAGE_SIZE;
      for (int w = 0; w < Boot.WORDS_PER_PAGE; w++) {
        long v = p.word(w);
        if (v != 0) {
          words.put(base + (long) w * Boot.WORD_SIZE, v);
        }
      }
    }
  }

  /** The page indexes in [from, to) at which {@code o} may hold something other than zeros. */
  private static void addCandidates(Obj o, long from, long to, NavigableSet<Long> out) {
    out.addAll(o.pages().subMap(from, to).keySet());
    for (long i = from; i < Math.min(to, o.pristine()); i++) {
      out.add(i);
    }
  }
}
