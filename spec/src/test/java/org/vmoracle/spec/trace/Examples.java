package org.vmoracle.spec.trace;

/** Traces shared by the tests. */
final class Examples {
  private Examples() {}

  /** The example of DESIGN.md, "The trace language", verbatim. */
  static final String DESIGN =
      String.join(
          "\n",
          "spawn 1",
          "file libx 8                               # create a file of 8 pages",
          "mmap 1 0 4 rw private anon -> 0x10000000  # pid addr pages prot private|shared"
              + " anon|file NAME PGOFF|shm KEY [fixed]",
          "write 1 0x10000008 42 -> ok",
          "fork 1 2",
          "write 2 0x10000008 7",
          "read 1 0x10000008 -> 42",
          "mmap 1 0 8 r private file libx 0 -> 0x10004000",
          "fwrite libx 0 99",
          "read 1 0x10004000 -> 99",
          "mlock 1 0x10000000 4 -> ok",
          "pageout 64",
          "collapse 2 0x10000000",
          "read 2 0x10000008 -> 7",
          "munmap 1 0x10000000 4",
          "read 1 0x10000008 -> SEGV",
          "exit 2",
          "");

  /** {@link #DESIGN} as {@link TracePrinter} writes it. */
  static final String DESIGN_CANONICAL =
      String.join(
          "\n",
          "spawn 1",
          "file libx 8",
          "mmap 1 0x0 4 rw private anon -> 0x10000000",
          "write 1 0x10000008 42 -> ok",
          "fork 1 2",
          "write 2 0x10000008 7",
          "read 1 0x10000008 -> 42",
          "mmap 1 0x0 8 r private file libx 0 -> 0x10004000",
          "fwrite libx 0x0 99",
          "read 1 0x10004000 -> 99",
          "mlock 1 0x10000000 4 -> ok",
          "pageout 64",
          "collapse 2 0x10000000",
          "read 2 0x10000008 -> 7",
          "munmap 1 0x10000000 4",
          "read 1 0x10000008 -> SEGV",
          "exit 2",
          "");
}
