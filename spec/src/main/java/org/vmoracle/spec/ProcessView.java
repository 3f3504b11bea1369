package org.vmoracle.spec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * What one process can observe: its map, and every nonzero word it can read (VIEW-1). A word that
 * reads zero is left out, and so is a word it cannot read (no read permission, or BUS).
 *
 * <p>The map is canonical: sorted, with adjacent lines that {@link Mapping#joins join} merged, so
 * two systems that split their entries differently still give equal views (VIEW-2).
 */
public record ProcessView(int pid, List<Mapping> maps, NavigableMap<Long, Long> words) {

  public ProcessView {
    maps = canonical(maps);
    words = Collections.unmodifiableNavigableMap(new TreeMap<>(words));
    for (Map.Entry<Long, Long> w : words.entrySet()) {
      if (w.getValue() == 0L) {
        throw new IllegalArgumentException(
            "word " + Numbers.hex(w.getKey()) + " reads 0: zero words are left out of a view");
      }
    }
  }

  private static List<Mapping> canonical(List<Mapping> in) {
    List<Mapping> sorted = new ArrayList<>(in);
    sorted.sort((a, b) -> Long.compare(a.start(), b.start()));
    List<Mapping> out = new ArrayList<>();
    for (Mapping m : sorted) {
      if (!out.isEmpty()) {
        Mapping last = out.get(out.size() - 1);
        if (m.start() < last.end()) {
          throw new IllegalArgumentException("overlapping lines " + last + " and " + m);
        }
        if (last.joins(m)) {
          out.set(out.size() - 1, last.join(m));
          continue;
        }
      }
      out.add(m);
    }
    return List.copyOf(out);
  }

  /** The map as /proc/PID/maps would print it, one line a range. */
  public String mapsText() {
    StringBuilder sb = new StringBuilder();
    for (Mapping m : maps) {
      sb.append(m).append('\n');
    }
    return sb.toString();
  }
}
