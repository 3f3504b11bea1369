package org.vmoracle.spec;

import java.util.Collections;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Everything a user of the system can observe, and nothing more (VIEW-*): each live process's view,
 * the size in pages of every file, and of every shared-memory segment that still has a key. Two
 * systems are equivalent when their views are equal after every operation.
 *
 * <p>Views carry no implementation internals (object ids, frames, table addresses), so model and
 * implementation can be compared with {@link #equals}.
 */
public record View(
    NavigableMap<Integer, ProcessView> processes,
    NavigableMap<String, Long> filePages,
    NavigableMap<Long, Long> shmPages) {

  public View {
    processes = Collections.unmodifiableNavigableMap(new TreeMap<>(processes));
    filePages = Collections.unmodifiableNavigableMap(new TreeMap<>(filePages));
    shmPages = Collections.unmodifiableNavigableMap(new TreeMap<>(shmPages));
  }

  /** A readable multi-line rendering, for reports. */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    for (ProcessView p : processes.values()) {
      sb.append("pid ").append(p.pid()).append('\n').append(p.mapsText());
      sb.append("  ").append(p.words().size()).append(" nonzero words\n");
    }
    sb.append("files ").append(filePages).append('\n');
    sb.append("shm ").append(shmPages).append('\n');
    return sb.toString();
  }
}
