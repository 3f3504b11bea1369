package org.vmoracle.spec;

/**
 * Every way an operation can fail. The first group are errno values returned by system calls;
 * {@link #SEGV}, {@link #BUS} and {@link #OOM} are what a memory access ends in instead of a value
 * (a signal, or the OOM killer's verdict). SEMANTICS.md (ERR-*) says when each is given.
 */
public enum Errno {
  /** Misaligned address, zero length, or an argument the operation cannot take (ERR-1). */
  EINVAL,
  /** A hole in the range, no room to place a mapping, or no memory (ERR-2, MEM-1). */
  ENOMEM,
  /** mlock could not get the memory to wire the range; nothing was wired (WIRE-7). */
  EAGAIN,
  /** No process with that pid (ERR-3). */
  ESRCH,
  /** The pid, or the shared-memory key, is taken already (ERR-4). */
  EEXIST,
  /** No such file, shared-memory key, or image (ERR-5). */
  ENOENT,
  /** The new protection exceeds what the mapping may ever have (PROT-6). */
  EACCES,
  /** The write would grow a file past the largest file, 2^35 pages (FILE-12). */
  EFBIG,
  /** SIGSEGV: the address is not mapped, or the access is not permitted (ACC-1, ACC-2). */
  SEGV,
  /** SIGBUS: the page lies at or past the end of its file or segment (FILE-5, SHM-4). */
  BUS,
  /** The access needed a page and none could be had, even after pageout (MEM-2). */
  OOM;

  /** The errno named by a trace word, or {@code null} if none is. */
  public static Errno fromWord(String w) {
    for (Errno e : values()) {
      if (e.name().equals(w)) {
        return e;
      }
    }
    return null;
  }
}
