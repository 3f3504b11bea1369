package org.vmoracle.checks.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeSet;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Numbers;
import org.vmoracle.spec.ProcessView;
import org.vmoracle.spec.View;

/**
 * Views ({@link View}) as lines of text for {@code replay --show}: each process's mappings as
 * /proc/PID/maps prints them and its non-zero words, and for two views, what differs between them,
 * so that a reader can write the expectations a trace lacks.
 */
final class Views {
  private Views() {}

  /** One view: every process's maps and up to {@code maxWords} of its non-zero words; files. */
  static List<String> describe(View v, int maxWords) {
    List<String> out = new ArrayList<>();
    if (v.processes().isEmpty()) {
      out.add("no processes");
    }
    for (ProcessView p : v.processes().values()) {
      out.add("pid " + p.pid() + " maps:");
      maps(out, p);
      List<Map.Entry<Long, Long>> listed = new ArrayList<>();
      for (Map.Entry<Long, Long> w : p.words().entrySet()) {
        if (!isBootSharedPage(w.getKey(), w.getValue())) {
          listed.add(w);
        }
      }
      int boot = p.words().size() - listed.size();
      out.add(
          String.format(
              "pid %d words not zero: %,d%s%s",
              p.pid(),
              listed.size(),
              boot == 0 ? "" : String.format(" (and %,d of the shared page, as booted)", boot),
              listed.isEmpty() ? "" : ":"));
      for (int k = 0; k < listed.size(); k++) {
        if (k == maxWords) {
          out.add(String.format("  ... and %,d more", listed.size() - maxWords));
          break;
        }
        Map.Entry<Long, Long> w = listed.get(k);
        out.add(String.format("  0x%x: %s", w.getKey(), value(w.getValue())));
      }
    }
    out.add("files (pages) " + v.filePages() + ", segments (pages) " + v.shmPages());
    return out;
  }

  /**
   * Model and implementation: for each process, its maps once when they agree, else both; the words
   * that differ (up to {@code maxWords} a process), and how many agree; files and segments.
   */
  static List<String> compare(View model, View impl, int maxWords) {
    List<String> out = new ArrayList<>();
    TreeSet<Integer> pids = new TreeSet<>(model.processes().keySet());
    pids.addAll(impl.processes().keySet());
    if (pids.isEmpty()) {
      out.add("no processes in either");
    }
    for (int pid : pids) {
      ProcessView m = model.processes().get(pid);
      ProcessView i = impl.processes().get(pid);
      if (m == null || i == null) {
        out.add("pid " + pid + ": only in the " + (m == null ? "implementation" : "model"));
        ProcessView only = m == null ? i : m;
        maps(out, only);
        continue;
      }
      if (m.maps().equals(i.maps())) {
        out.add("pid " + pid + " maps (the same in both):");
        maps(out, m);
      } else {
        out.add("pid " + pid + " maps, model:");
        maps(out, m);
        out.add("pid " + pid + " maps, implementation:");
        maps(out, i);
      }
      words(out, pid, m.words(), i.words(), maxWords);
    }
    if (model.filePages().equals(impl.filePages())) {
      out.add("files (pages, the same in both) " + model.filePages());
    } else {
      out.add("files (pages): model " + model.filePages() + ", implementation " + impl.filePages());
    }
    if (model.shmPages().equals(impl.shmPages())) {
      out.add("segments (pages, the same in both) " + model.shmPages());
    } else {
      out.add(
          "segments (pages): model " + model.shmPages() + ", implementation " + impl.shmPages());
    }
    return out;
  }

  /** Whether the word at {@code addr} is one of the shared page's as booted (BOOT-2): not news. */
  private static boolean isBootSharedPage(long addr, long value) {
    long i = (addr - Boot.SHARED_PAGE) / Boot.WORD_SIZE;
    return addr >= Boot.SHARED_PAGE
        && i < Boot.WORDS_PER_PAGE
        && value == Boot.sharedPageWord((int) i);
  }

  private static void maps(List<String> out, ProcessView p) {
    if (p.maps().isEmpty()) {
      out.add("  (nothing mapped)");
    }
    for (String line : p.mapsText().split("\n")) {
      if (!line.isEmpty()) {
        out.add("  " + line);
      }
    }
  }

  /** The words of one process that differ, then how many agree. */
  private static void words(
      List<String> out,
      int pid,
      NavigableMap<Long, Long> model,
      NavigableMap<Long, Long> impl,
      int maxWords) {
    TreeSet<Long> addrs = new TreeSet<>(model.keySet());
    addrs.addAll(impl.keySet());
    List<String> differ = new ArrayList<>();
    int same = 0;
    for (long a : addrs) {
      Long m = model.get(a);
      Long i = impl.get(a);
      if (Objects.equals(m, i)) {
        same++;
      } else {
        differ.add(String.format("  0x%x: model %s, implementation %s", a, value(m), value(i)));
      }
    }
    out.add(
        String.format(
            "pid %d words: %,d differ, %,d not zero agree%s",
            pid, differ.size(), same, differ.isEmpty() ? "" : ":"));
    for (int k = 0; k < differ.size(); k++) {
      if (k == maxWords) {
        out.add(String.format("  ... and %,d more", differ.size() - maxWords));
        break;
      }
      out.add(differ.get(k));
    }
  }

  /** A word as a trace writes a value ({@link Numbers#value}); 0 for a word not listed. */
  private static String value(Long w) {
    return Numbers.value(w == null ? 0 : w);
  }
}
