package org.vmoracle.spec;

/** MAP_PRIVATE or MAP_SHARED. Private mappings are copy-on-write (COW-*); shared ones are not. */
public enum Sharing {
  PRIVATE("private", 'p'),
  SHARED("shared", 's');

  private final String word;
  private final char mapsLetter;

  Sharing(String word, char mapsLetter) {
    this.word = word;
    this.mapsLetter = mapsLetter;
  }

  public String word() {
    return word;
  }

  /** The fourth letter of the permission column of /proc/PID/maps. */
  public char mapsLetter() {
    return mapsLetter;
  }

  /** The sharing named by a trace word, or {@code null} if none is. */
  public static Sharing fromWord(String w) {
    for (Sharing s : values()) {
      if (s.word.equals(w)) {
        return s;
      }
    }
    return null;
  }

  /** The inheritance a new mapping of this sharing starts with (INH-1). */
  public Inherit defaultInherit() {
    return this == SHARED ? Inherit.SHARE : Inherit.COPY;
  }
}
