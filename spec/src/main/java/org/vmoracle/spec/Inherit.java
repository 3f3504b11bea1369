package org.vmoracle.spec;

/**
 * What a forked child gets of a range (BSD {@code minherit(2)}; INH-*).
 *
 * <ul>
 *   <li>{@link #SHARE}: the same memory; a store by either side is seen by the other (INH-2).
 *   <li>{@link #COPY}: a private copy-on-write view (INH-3, INH-4).
 *   <li>{@link #NONE}: nothing; the child's range is unmapped (INH-5).
 *   <li>{@link #ZERO}: fresh zero-filled private anonymous memory (INH-6).
 * </ul>
 */
public enum Inherit {
  SHARE("share"),
  COPY("copy"),
  NONE("none"),
  ZERO("zero");

  private final String word;

  Inherit(String word) {
    this.word = word;
  }

  public String word() {
    return word;
  }

  /** The inheritance named by a trace word, or {@code null} if none is. */
  public static Inherit fromWord(String w) {
    for (Inherit i : values()) {
      if (i.word.equals(w)) {
        return i;
      }
    }
    return null;
  }
}
