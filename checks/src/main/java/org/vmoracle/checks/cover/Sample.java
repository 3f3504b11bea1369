package org.vmoracle.checks.cover;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;
import org.vmoracle.checks.gen.OpKind;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Counters;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.object.PageMap;
import org.vmoracle.impl.pmap.Pte;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * What one operation met, as {@link Classes} asks it: its arguments against the acting process's
 * map just before it ran (the implementation's entries, PTEs and backing chains), its result, and
 * what the implementation's counters say it did. Facts only; which class they make is the table's.
 *
 * <p>Built in {@link #before} (the op has not run), finished by {@link #after}. Reads the
 * implementation without its lock: the hunt is sequential and nothing runs meanwhile.
 */
final class Sample {
  /** Most pages of one range whose PTEs are looked at: generated ranges are far shorter. */
  private static final long SCAN_PAGES = 4096;

  final Op op;
  final OpKind kind;

  /** The range a range operation names, or the page of an access: [start, end); else empty. */
  long start = -1;

  long end = -1;
  long pages = -1;

  /** The word of a read, write or collapse; -1 for others. */
  long word = -1;

  /**
   * One entry of the implementation's map as it was before the operation (entries change under it):
   * its range, protection, sharing, wiring and whether a file backs it.
   */
  record Seg(long start, long end, Prot prot, Sharing sharing, boolean wired, String source) {
    static Seg of(MapEntry e) {
      VmObject o = e.cow != null ? e.cow.terminal() : e.object;
      return new Seg(e.start, e.end, e.prot, e.sharing, e.wired, o == null ? "anon" : word(o.kind));
    }

    private static String word(VmObject.Kind k) {
      switch (k) {
        case ANON:
          return "anon";
        case VNODE:
          return "file";
        case SHM:
          return "shm";
        case SHARED_PAGE:
          return "shared page";
      }
      throw new AssertionError(k);
    }

    boolean isPrivate() {
      return sharing == Sharing.PRIVATE;
    }
  }

  /** The acting process's entries over [start, end), in address order; empty when unknown. */
  final List<Seg> over = new ArrayList<>();

  /** The entry at the word or range start, or null. */
  Seg at;

  /** The PTE of the word's page (0: none), its backing chain's depth, where the page lies. */
  long pte;

  int depth;
  boolean swapped;
  boolean copied;

  /** mlock: resident read-only PTEs in the range, and those in writable private entries. */
  long readOnlyPtes;

  long readOnlyPtesWritablePrivate;

  /** fwrite and file: how the named file's page (fwrite) or its cut-off tail (file) is mapped. */
  boolean fileMappedShared;

  boolean fileMappedPrivate;
  boolean fileCopiedPrivate;
  boolean fileWiredPrivate;
  long fileSizeBefore = -1;

  /** fork: the parent has wired private pages resident; exit and exec: the space has sharers. */
  boolean wiredPrivateResident;

  boolean spaceShared;

  Result result;

  /** Counter increases over the operation, by {@link Counter}. */
  final long[] delta = new long[Counter.values().length];

  private Sample(Op op) {
    this.op = op;
    this.kind = OpKind.of(op);
  }

  /** The counters {@link Classes} asks about. */
  enum Counter {
    COW_FAULTS(c -> c.cowFaults.sum()),
    ZERO_FILL_FAULTS(c -> c.zeroFillFaults.sum()),
    FILE_FAULTS(c -> c.fileFaults.sum()),
    SWAP_INS(c -> c.swapIns.sum()),
    SWAP_OUTS(c -> c.swapOuts.sum()),
    WRITEBACKS(c -> c.fileWritebacks.sum()),
    COLLAPSES(c -> c.collapses.sum()),
    COLLAPSED_PAGES(c -> c.collapsedPages.sum()),
    SHADOWED_FREED(c -> c.shadowedFreed.sum()),
    SUPERPAGE_WIRES(c -> c.superpageWires.sum());

    private final ToLongFunction<Counters> read;

    Counter(ToLongFunction<Counters> read) {
      this.read = read;
    }

    long read(Counters c) {
      return read.applyAsLong(c);
    }
  }

  /** The facts of {@code op} about to run on {@code impl}. */
  static Sample before(Op op, ImplVm impl) {
    Sample s = new Sample(op);
    for (Counter c : Counter.values()) {
      s.delta[c.ordinal()] = -c.read(impl.counters());
    }
    s.aim();
    VmSpace space = s.pid() < 0 ? null : impl.space(s.pid());
    if (space != null) {
      s.look(space);
    }
    if (op instanceof Op.Fwrite) {
      Op.Fwrite f = (Op.Fwrite) op;
      s.lookAtFile(impl, f.name(), f.offset() / Boot.PAGE_SIZE, f.offset() / Boot.PAGE_SIZE + 1);
    } else if (op instanceof Op.File) {
      s.lookAtFile(impl, ((Op.File) op).name(), ((Op.File) op).pages(), Long.MAX_VALUE);
    }
    return s;
  }

  /** Finishes the sample with the operation's result and the counters after it. */
  Sample after(Result r, Counters c) {
    result = r;
    for (Counter k : Counter.values()) {
      delta[k.ordinal()] += k.read(c);
    }
    return this;
  }

  long delta(Counter c) {
    return delta[c.ordinal()];
  }

  /** The pid the operation acts in, or -1. */
  int pid() {
    if (op instanceof Op.Read) {
      return ((Op.Read) op).pid();
    } else if (op instanceof Op.Write) {
      return ((Op.Write) op).pid();
    } else if (op instanceof Op.Collapse) {
      return ((Op.Collapse) op).pid();
    } else if (op instanceof Op.Mmap) {
      return ((Op.Mmap) op).pid();
    } else if (op instanceof Op.Munmap) {
      return ((Op.Munmap) op).pid();
    } else if (op instanceof Op.Mprotect) {
      return ((Op.Mprotect) op).pid();
    } else if (op instanceof Op.Minherit) {
      return ((Op.Minherit) op).pid();
    } else if (op instanceof Op.Mlock) {
      return ((Op.Mlock) op).pid();
    } else if (op instanceof Op.Munlock) {
      return ((Op.Munlock) op).pid();
    } else if (op instanceof Op.Fork) {
      return ((Op.Fork) op).parent();
    } else if (op instanceof Op.Exit) {
      return ((Op.Exit) op).pid();
    } else if (op instanceof Op.Exec) {
      return ((Op.Exec) op).pid();
    }
    return -1;
  }

  /** Sets the range or word from the operation's arguments. */
  private void aim() {
    if (op instanceof Op.Read) {
      word = ((Op.Read) op).addr();
    } else if (op instanceof Op.Write) {
      word = ((Op.Write) op).addr();
    } else if (op instanceof Op.Collapse) {
      word = ((Op.Collapse) op).addr();
    } else if (op instanceof Op.Mmap && ((Op.Mmap) op).addr() != 0) {
      range(((Op.Mmap) op).addr(), ((Op.Mmap) op).pages());
    } else if (op instanceof Op.Mmap) {
      pages = ((Op.Mmap) op).pages();
    } else if (op instanceof Op.Munmap) {
      range(((Op.Munmap) op).addr(), ((Op.Munmap) op).pages());
    } else if (op instanceof Op.Mprotect) {
      range(((Op.Mprotect) op).addr(), ((Op.Mprotect) op).pages());
    } else if (op instanceof Op.Minherit) {
      range(((Op.Minherit) op).addr(), ((Op.Minherit) op).pages());
    } else if (op instanceof Op.Mlock) {
      range(((Op.Mlock) op).addr(), ((Op.Mlock) op).pages());
    } else if (op instanceof Op.Munlock) {
      range(((Op.Munlock) op).addr(), ((Op.Munlock) op).pages());
    }
    if (word >= 0) {
      start = word & -Boot.PAGE_SIZE;
      end = start + Boot.PAGE_SIZE;
    }
  }

  private void range(long addr, long n) {
    start = addr;
    pages = n;
    long bytes = n * Boot.PAGE_SIZE; // n <= 2^35: no overflow
    end = addr > Long.MAX_VALUE - bytes ? Long.MAX_VALUE : addr + bytes;
  }

  /** Whether the operation names a range of pages (not an access). */
  boolean ranged() {
    return word < 0 && start >= 0;
  }

  /** Whether the range (or the word's page) lies in user space, so that the map can hold it. */
  boolean inUserSpace() {
    return start >= Boot.USER_MIN && end <= Boot.USER_MAX && end > start;
  }

  private void look(VmSpace space) {
    spaceShared = space.users > 1;
    if (op instanceof Op.Fork) {
      for (MapEntry e : space.entries.values()) {
        if (e.wired && e.sharing == Sharing.PRIVATE && resident(e)) {
          wiredPrivateResident = true;
        }
      }
    }
    if (!inUserSpace()) {
      return;
    }
    List<MapEntry> entries = space.overlapping(start, end);
    for (MapEntry e : entries) {
      over.add(Seg.of(e));
    }
    MapEntry first = space.entryAt(start);
    at = first == null ? null : Seg.of(first);
    if (word >= 0 && first != null) {
      pte = space.pmap.lookup(start);
      lookAtChain(first, first.index(start));
    }
    if (op instanceof Op.Mlock) {
      for (MapEntry e : entries) {
        long from = Math.max(start, e.start);
        long to = Math.min(end, Math.min(e.end, from + SCAN_PAGES * Boot.PAGE_SIZE));
        boolean writablePrivate = e.sharing == Sharing.PRIVATE && e.prot.canWrite();
        for (long va = from; va < to; va += Boot.PAGE_SIZE) {
          long p = space.pmap.lookup(va);
          if (Pte.isPresent(p) && !Pte.isWritable(p)) {
            readOnlyPtes++;
            readOnlyPtesWritablePrivate += writablePrivate ? 1 : 0;
          }
        }
      }
    }
  }

  /** Whether a PTE of entry {@code e} is present (looking at its first pages only). */
  private static boolean resident(MapEntry e) {
    long to = Math.min(e.end, e.start + SCAN_PAGES * Boot.PAGE_SIZE);
    for (long va = e.start; va < to; va += Boot.PAGE_SIZE) {
      if (Pte.isPresent(e.space.pmap.lookup(va))) {
        return true;
      }
    }
    return false;
  }

  /** Where page {@code i} of entry {@code e} lies: chain depth, copied, swapped. */
  private void lookAtChain(MapEntry e, long i) {
    VmObject[] chain = e.cow != null ? e.cow.chain() : new VmObject[] {e.object};
    depth = chain.length;
    for (int level = 0; level < chain.length; level++) {
      long slot = chain[level].pages.get(i);
      if (slot != PageMap.NONE) {
        swapped = !VmObject.isFrame(slot);
        copied = e.cow != null && level < chain.length - 1 && isFile(chain[chain.length - 1]);
        return;
      }
    }
  }

  /**
   * How file {@code name}'s pages [from, to) are mapped by every live process: shared, private,
   * copied by a private mapping, wired in a private one. Also the file's size.
   */
  private void lookAtFile(ImplVm impl, String name, long from, long to) {
    for (int pid : impl.pids()) {
      VmSpace space = impl.space(pid);
      if (space == null) {
        continue;
      }
      for (MapEntry e : space.entries.values()) {
        VmObject file = e.cow != null ? e.cow.terminal() : e.object;
        if (!isFile(file) || !file.name.equals(name)) {
          continue;
        }
        fileSizeBefore = file.size();
        long lo = Math.max(from, e.pgoff);
        long hi = Math.min(to, e.pgoff + e.pages());
        if (lo >= hi) {
          continue;
        }
        if (e.sharing == Sharing.SHARED) {
          fileMappedShared = true;
          continue;
        }
        fileMappedPrivate = true;
        fileWiredPrivate |= e.wired;
        for (long i = lo; i < Math.min(hi, lo + SCAN_PAGES); i++) {
          lookAtChain(e, i);
          fileCopiedPrivate |= copied;
        }
      }
    }
    copied = false;
    depth = 0;
    swapped = false;
  }

  private static boolean isFile(VmObject o) {
    return o != null && o.kind == VmObject.Kind.VNODE;
  }

  /** The source kind of a mapping made by {@code mmap}: anon, file or shm. */
  static String source(Source s) {
    if (s instanceof Source.FileRange) {
      return "file";
    }
    return s instanceof Source.Shm ? "shm" : "anon";
  }
}
