package org.vmoracle.spec;

import java.util.regex.Pattern;

/**
 * What a mapping maps: anonymous memory, pages of a file, or a shared-memory segment. In the trace
 * language: {@code anon}, {@code file NAME PGOFF}, {@code shm KEY}.
 */
public sealed interface Source permits Source.Anon, Source.FileRange, Source.Shm {

  /** File names: letters, digits and {@code _ . / -}, as boot files like {@code bin/static}. */
  Pattern NAME = Pattern.compile("[A-Za-z0-9_./-]+");

  /**
   * The longest file name, in characters: Linux's NAME_MAX, so a name is never too long for a host
   * (the native runner, a program written by {@code native --emit-c}).
   */
  int NAME_MAX = 255;

  /** Anonymous memory: zero-filled on first touch (ACC-4). */
  record Anon() implements Source {
    @Override
    public String toString() {
      return "anon";
    }
  }

  /** The pages of file {@code name} starting at page {@code pgoff} (FILE-*). */
  record FileRange(String name, long pgoff) implements Source {
    public FileRange {
      checkName(name);
      if (pgoff < 0 || pgoff > Op.MAX_PAGES) {
        throw new IllegalArgumentException(
            "page offset " + pgoff + " out of range: it must lie in [0, " + Op.MAX_PAGES + "]");
      }
    }

    @Override
    public String toString() {
      return "file " + name + " " + pgoff;
    }
  }

  /** The shared-memory segment with this key, from its first page (SHM-*). */
  record Shm(long key) implements Source {
    public Shm {
      Op.checkKey(key);
    }

    @Override
    public String toString() {
      return "shm " + key;
    }
  }

  /** Rejects a name the trace language could not print back. */
  static void checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "bad file name '" + name + "': names are letters, digits and _ . / -");
    }
    if (name.length() > NAME_MAX) {
      throw new IllegalArgumentException(
          "file name of " + name.length() + " characters: names have at most " + NAME_MAX);
    }
  }
}
