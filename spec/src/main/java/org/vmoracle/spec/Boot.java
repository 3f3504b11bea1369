package org.vmoracle.spec;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The boot environment: constants of the address space, the shared page, the boot files and the
 * exec images. Like the trace language, this is a contract (BOOT-*, EXEC-*): traces rely on these
 * addresses and contents. Data only; what the system does with it is in SEMANTICS.md.
 */
public final class Boot {
  private Boot() {}

  /** Bytes in a page. */
  public static final long PAGE_SIZE = 4096;

  /** Bytes in a word: memory is read and written as aligned 64-bit words. */
  public static final long WORD_SIZE = 8;

  /** Words in a page. */
  public static final int WORDS_PER_PAGE = 512;

  /** Bytes in a segment: a 2 MiB page-table page's reach (seed 001). */
  public static final long SEGMENT_SIZE = 2L << 20;

  /** Lowest user address: page 0 is never mapped. */
  public static final long USER_MIN = 0x1000L;

  /** End of the user address space (exclusive): 2^47. */
  public static final long USER_MAX = 0x800000000000L;

  /** Where the system's own placement stops: mappings are placed below the shared page. */
  public static final long PLACE_MAX = 0x7ffffffff000L;

  /** The shared page (FreeBSD's): read-only, executable, in every new address space. */
  public static final long SHARED_PAGE = 0x7ffffffff000L;

  /** Where placement (address 0) starts looking (PLACE-1). */
  public static final long MMAP_BASE = 0x10000000L;

  /** The top of the stack of an exec image. */
  public static final long STACK_TOP = 0x7ffff0000000L;

  /** Pages in the stack of an exec image. */
  public static final long STACK_PAGES = 64;

  /** Word {@code i} of the shared page (0 &le; i &lt; 512). */
  public static long sharedPageWord(int i) {
    return 0xC0DE0000L + i;
  }

  /** A file that exists when the system boots; word w of boot file number k reads (k << 32) | w. */
  public record BootFile(String name, int number, long pages) {
    /** Word {@code w} of this file, counted from the start of the file, as booted. */
    public long word(long w) {
      return ((long) number << 32) | w;
    }
  }

  /** The boot files, in order: numbers 1, 2 and 3. */
  public static final List<BootFile> BOOT_FILES =
      List.of(
          new BootFile("bin/static", 1, 20),
          new BootFile("bin/dynamic", 2, 20),
          new BootFile("lib/libc", 3, 68));

  /** One mapping of an exec image: it is made as {@code mmap} would make it with {@code fixed}. */
  public record Segment(long start, long pages, Prot prot, Sharing sharing, Source source) {}

  /** An exec image: its segments, not counting the shared page, which every image has. */
  public record Image(String name, List<Segment> segments) {}

  private static final Source ANON = new Source.Anon();

  private static List<Segment> program(String file) {
    return List.of(
        new Segment(0x400000L, 16, Prot.RX, Sharing.PRIVATE, new Source.FileRange(file, 0)),
        new Segment(0x410000L, 4, Prot.RW, Sharing.PRIVATE, new Source.FileRange(file, 16)),
        new Segment(0x414000L, 4, Prot.RW, Sharing.PRIVATE, ANON));
  }

  private static final Segment STACK =
      new Segment(STACK_TOP - STACK_PAGES * PAGE_SIZE, STACK_PAGES, Prot.RW, Sharing.PRIVATE, ANON);

  private static final Map<String, Image> IMAGES =
      Map.of(
          "static",
          new Image(
              "static",
              List.of(
                  program("bin/static").get(0),
                  program("bin/static").get(1),
                  program("bin/static").get(2),
                  STACK)),
          "dynamic",
          new Image(
              "dynamic",
              List.of(
                  program("bin/dynamic").get(0),
                  program("bin/dynamic").get(1),
                  program("bin/dynamic").get(2),
                  new Segment(
                      0x7f0000000000L,
                      64,
                      Prot.RX,
                      Sharing.PRIVATE,
                      new Source.FileRange("lib/libc", 0)),
                  new Segment(
                      0x7f0000040000L,
                      4,
                      Prot.RW,
                      Sharing.PRIVATE,
                      new Source.FileRange("lib/libc", 64)),
                  STACK)));

  /** The image named {@code name}, if there is one ({@code static}, {@code dynamic}). */
  public static Optional<Image> image(String name) {
    return Optional.ofNullable(IMAGES.get(name));
  }
}
