package org.vmoracle.spec;

/**
 * One line of a process's map, as /proc/PID/maps shows it: {@code [start, end)}, protection,
 * private or shared, what backs it, its inheritance and whether it is wired (VIEW-1).
 *
 * @param backing what the range shows: {@code anon}, {@code file NAME PGOFF}, {@code shm KEY PGOFF}
 *     (page offset into the segment) or {@code sharedpage}; for a file or segment the page offset
 *     is that of {@code start}
 */
public record Mapping(
    long start,
    long end,
    Prot prot,
    Sharing sharing,
    Backing backing,
    Inherit inherit,
    boolean wired) {

  public Mapping {
    if ((start & (Boot.PAGE_SIZE - 1)) != 0 || (end & (Boot.PAGE_SIZE - 1)) != 0 || end <= start) {
      throw new IllegalArgumentException(
          "bad range [" + Numbers.hex(start) + ", " + Numbers.hex(end) + ")");
    }
    if (prot == null || sharing == null || backing == null || inherit == null) {
      throw new IllegalArgumentException("a mapping line needs every field");
    }
  }

  public long pages() {
    return (end - start) / Boot.PAGE_SIZE;
  }

  /**
   * Whether {@code next} continues this line so that the two print as one, as adjacent VMAs with
   * equal attributes do in /proc/PID/maps (VIEW-2).
   */
  public boolean joins(Mapping next) {
    return end == next.start
        && prot == next.prot
        && sharing == next.sharing
        && inherit == next.inherit
        && wired == next.wired
        && backing.continuedBy(next.backing, pages());
  }

  /** This line extended to {@code next.end}; only when {@link #joins} holds. */
  public Mapping join(Mapping next) {
    return new Mapping(start, next.end, prot, sharing, backing, inherit, wired);
  }

  @Override
  public String toString() {
    return String.format(
        "%012x-%012x %s%c %s inherit=%s%s",
        start,
        end,
        prot.mapsColumn(),
        sharing.mapsLetter(),
        backing,
        inherit.word(),
        wired ? " wired" : "");
  }

  /** What backs a line of the map. */
  public record Backing(Kind kind, String name, long pgoff) {
    public enum Kind {
      ANON,
      FILE,
      SHM,
      SHARED_PAGE
    }

    public static final Backing ANON = new Backing(Kind.ANON, "", 0);
    public static final Backing SHARED_PAGE = new Backing(Kind.SHARED_PAGE, "", 0);

    public static Backing file(String name, long pgoff) {
      return new Backing(Kind.FILE, name, pgoff);
    }

    public static Backing shm(long key, long pgoff) {
      return new Backing(Kind.SHM, Long.toString(key), pgoff);
    }

    boolean continuedBy(Backing next, long pages) {
      if (kind != next.kind || !name.equals(next.name)) {
        return false;
      }
      return kind == Kind.ANON || pgoff + pages == next.pgoff;
    }

    @Override
    public String toString() {
      switch (kind) {
        case ANON:
          return "anon";
        case FILE:
          return "file " + name + " " + pgoff;
        case SHM:
          return "shm " + name + " " + pgoff;
        case SHARED_PAGE:
          return "sharedpage";
      }
      throw new AssertionError(kind);
    }
  }
}
