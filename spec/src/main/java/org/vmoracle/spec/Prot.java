package org.vmoracle.spec;

/**
 * The protection of a mapping, as the trace language spells it: {@code none r rw rx rwx}.
 *
 * <p>Write-only and write-execute protections do not exist on the hardware we describe (x86-64 has
 * no write-only PTE), so they cannot be expressed (PROT-1).
 */
public enum Prot {
  NONE("none", false, false, false),
  R("r", true, false, false),
  RW("rw", true, true, false),
  RX("rx", true, false, true),
  RWX("rwx", true, true, true);

  private final String word;
  private final boolean read;
  private final boolean write;
  private final boolean exec;

  Prot(String word, boolean read, boolean write, boolean exec) {
    this.word = word;
    this.read = read;
    this.write = write;
    this.exec = exec;
  }

  /** The trace-language word for this protection. */
  public String word() {
    return word;
  }

  public boolean canRead() {
    return read;
  }

  public boolean canWrite() {
    return write;
  }

  public boolean canExec() {
    return exec;
  }

  /** The three-letter permission column of /proc/PID/maps, without the sharing letter. */
  public String mapsColumn() {
    return (read ? "r" : "-") + (write ? "w" : "-") + (exec ? "x" : "-");
  }

  /** The protection named by a trace word, or {@code null} if none is. */
  public static Prot fromWord(String w) {
    for (Prot p : values()) {
      if (p.word.equals(w)) {
        return p;
      }
    }
    return null;
  }
}
