package org.vmoracle.checks.cover;

import static org.vmoracle.spec.Boot.PAGE_SIZE;
import static org.vmoracle.spec.Boot.SEGMENT_SIZE;
import static org.vmoracle.spec.Boot.SHARED_PAGE;
import static org.vmoracle.spec.Boot.USER_MAX;
import static org.vmoracle.spec.Boot.USER_MIN;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;
import java.util.function.Predicate;
import org.vmoracle.checks.cover.Sample.Counter;
import org.vmoracle.checks.cover.Sample.Seg;
import org.vmoracle.checks.gen.Mix;
import org.vmoracle.checks.gen.OpKind;
import org.vmoracle.impl.pmap.Pte;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;

/**
 * The coverage classes: one row per class, an area, a name and the test of a {@link Sample}. A
 * class is hit by an operation when its test holds; the classes of one area may overlap (a range
 * may start at an entry and cross a 2 MiB boundary). Kinds and results get one row each from {@link
 * #RESULTS}: the answers the rules give each kind (ERR-2, and each area's own), not those of memory
 * exhaustion (MEM-1), which only a pressed system gives and which {@link Coverage} counts when
 * seen.
 */
final class Classes {
  private Classes() {}

  /** One class: hit when {@code test} holds. */
  record Cls(String area, String name, Predicate<Sample> test) {}

  /** The errnos the model may answer for each kind, besides success. */
  static final Map<OpKind, List<Errno>> RESULTS = new EnumMap<>(OpKind.class);

  static {
    RESULTS.put(OpKind.SPAWN, List.of(Errno.EEXIST));
    RESULTS.put(OpKind.FORK, List.of(Errno.ESRCH, Errno.EEXIST));
    RESULTS.put(OpKind.CLONE, List.of(Errno.ESRCH, Errno.EEXIST));
    RESULTS.put(OpKind.EXEC, List.of(Errno.ESRCH, Errno.ENOENT));
    RESULTS.put(OpKind.EXIT, List.of(Errno.ESRCH));
    RESULTS.put(OpKind.MMAP, List.of(Errno.ESRCH, Errno.EINVAL, Errno.ENOENT, Errno.ENOMEM));
    RESULTS.put(OpKind.MUNMAP, List.of(Errno.ESRCH, Errno.EINVAL));
    RESULTS.put(OpKind.MPROTECT, List.of(Errno.ESRCH, Errno.EINVAL, Errno.ENOMEM, Errno.EACCES));
    RESULTS.put(OpKind.MINHERIT, List.of(Errno.ESRCH, Errno.EINVAL, Errno.ENOMEM));
    RESULTS.put(OpKind.MLOCK, List.of(Errno.ESRCH, Errno.EINVAL, Errno.ENOMEM));
    RESULTS.put(OpKind.MUNLOCK, List.of(Errno.ESRCH, Errno.EINVAL, Errno.ENOMEM));
    RESULTS.put(OpKind.READ, List.of(Errno.ESRCH, Errno.SEGV, Errno.BUS));
    RESULTS.put(OpKind.WRITE, List.of(Errno.ESRCH, Errno.SEGV, Errno.BUS));
    RESULTS.put(OpKind.FILE, List.of());
    RESULTS.put(OpKind.FWRITE, List.of(Errno.ENOENT, Errno.EFBIG));
    RESULTS.put(OpKind.FREAD, List.of(Errno.ENOENT, Errno.EINVAL));
    RESULTS.put(OpKind.SHMGET, List.of(Errno.EINVAL, Errno.EEXIST));
    RESULTS.put(OpKind.SHMRM, List.of(Errno.ENOENT));
    RESULTS.put(OpKind.PAGEOUT, List.of());
    RESULTS.put(OpKind.COLLAPSE, List.of(Errno.ESRCH, Errno.ENOMEM));
  }

  /** The name of a result class: {@code "mmap ok"}, {@code "read SEGV"}. */
  static String resultName(OpKind k, Result r) {
    return k.word() + " " + (r instanceof Result.Failed ? r.toString() : "ok");
  }

  /** Every class for the kinds {@code mix} makes. */
  static List<Cls> table(Mix mix) {
    List<Cls> t = new ArrayList<>();
    for (OpKind k : mix.kinds()) {
      t.add(new Cls("kind", k.word(), s -> s.kind == k));
    }
    for (OpKind k : mix.kinds()) {
      t.add(new Cls("result", k.word() + " ok", s -> s.kind == k && s.result.succeeded()));
      for (Errno e : RESULTS.get(k)) {
        t.add(new Cls("result", k.word() + " " + e, s -> s.kind == k && failed(s, e)));
      }
    }
    address(t);
    length(t);
    shape(t);
    mmap(t);
    prot(t);
    access(t);
    state(t);
    return t;
  }

  private static void address(List<Cls> t) {
    Area address = new Area(t, "address");
    address.add("range: page 0, below user space", s -> span(s) && s.start < USER_MIN);
    address.add("range: the bottom user page", s -> span(s) && s.start == USER_MIN);
    address.add("range: the shared page (top page)", s -> span(s) && covers(s, SHARED_PAGE));
    address.add("range: ends at the top of user space", s -> span(s) && s.end == USER_MAX);
    address.add("range: past the top of user space", s -> span(s) && s.end > USER_MAX);
    address.add("range: unaligned address", s -> s.ranged() && s.start % PAGE_SIZE != 0);
    address.add("range: zero length", s -> s.ranged() && s.pages == 0);
    address.add("access: page 0", s -> s.word >= 0 && s.word < USER_MIN);
    address.add("access: the bottom user page", s -> s.word >= 0 && s.start == USER_MIN);
    address.add("access: the shared page (top page)", s -> s.start == SHARED_PAGE);
    address.add("access: past the top of user space", s -> s.word >= USER_MAX);
  }

  private static void length(List<Cls> t) {
    Area length = new Area(t, "length");
    length.add("1 page", s -> s.pages == 1);
    length.add("2 to 511 pages", s -> s.pages > 1 && s.pages < 512);
    length.add("512 pages (one 2 MiB segment)", s -> s.pages == 512);
    length.add("whole 2 MiB segments, more than one", s -> s.pages > 512 && s.pages % 512 == 0);
    length.add("over 512 pages, not whole segments", s -> s.pages > 512 && s.pages % 512 != 0);
  }

  /** Where a well-formed range in user space lies against the map and the page tables. */
  private static void shape(List<Cls> t) {
    Area shape = new Area(t, "shape");
    shape.add("nothing mapped in the range", s -> valid(s) && s.over.isEmpty());
    shape.add("inside one entry, off both its ends", s -> one(s) && inside(s, s.over.get(0)));
    shape.add("exactly one entry", s -> one(s) && exactly(s, s.over.get(0)));
    shape.add(
        "starts at an entry's start", s -> valid(s) && s.at != null && s.at.start() == s.start);
    shape.add(
        "ends at an entry's end", s -> valid(s) && s.over.stream().anyMatch(e -> e.end() == s.end));
    shape.add("two or more entries, no hole", s -> valid(s) && s.over.size() > 1 && !holes(s));
    shape.add(
        "mapped in part: a hole in the range", s -> valid(s) && !s.over.isEmpty() && holes(s));
    shape.add("crosses a 2 MiB boundary", s -> valid(s) && crosses(s, SEGMENT_SIZE));
    shape.add("starts and ends 2 MiB aligned", s -> valid(s) && aligned(s, SEGMENT_SIZE));
    shape.add("crosses a 1 GiB boundary", s -> valid(s) && crosses(s, 1L << 30));
  }

  private static void mmap(List<Cls> t) {
    Area mm = new Area(t, "mmap");
    for (Sharing sh : Sharing.values()) {
      for (String src : List.of("anon", "file", "shm")) {
        mm.add(
            sh.word() + " " + src,
            s -> mmap(s, m -> m.sharing() == sh && Sample.source(m.source()).equals(src)));
      }
    }
    mm.add("placed (address 0)", s -> mmap(s, m -> m.addr() == 0));
    mm.add("hinted", s -> mmap(s, m -> m.addr() != 0 && !m.fixed()));
    mm.add("fixed", s -> mmap(s, m -> m.fixed()));
    mm.add("fixed over a mapping", s -> mmap(s, m -> m.fixed()) && !s.over.isEmpty());
    mm.add(
        "hint over a mapping", s -> mmap(s, m -> m.addr() != 0 && !m.fixed()) && !s.over.isEmpty());
    mm.add("protection none", s -> mmap(s, m -> m.prot() == Prot.NONE));
  }

  /** mprotect: how the new protection stands to each entry's old one. */
  private static void prot(List<Cls> t) {
    Area pr = new Area(t, "prot");
    pr.add("downgrade", s -> prot(s, (was, now) -> below(now, was)));
    pr.add("upgrade", s -> prot(s, (was, now) -> below(was, now)));
    pr.add("unchanged", s -> prot(s, (was, now) -> was == now));
    pr.add(
        "sideways (rw and rx)",
        s -> prot(s, (was, now) -> was != now && !below(was, now) && !below(now, was)));
    pr.add("to none", s -> prot(s, (was, now) -> now == Prot.NONE && was != now));
    pr.add("from none", s -> prot(s, (was, now) -> was == Prot.NONE && was != now));
    pr.add(
        "write added to a private file range",
        s -> addsWrite(s, e -> e.isPrivate() && e.source().equals("file")));
    pr.add(
        "write added to a wired private range", s -> addsWrite(s, e -> e.isPrivate() && e.wired()));
    pr.add(
        "write added to the shared page", s -> addsWrite(s, e -> e.source().equals("shared page")));
  }

  /** Reads and writes: what the word's page is, and its PTE. */
  private static void access(List<Cls> t) {
    Area access = new Area(t, "access");
    for (OpKind k : List.of(OpKind.READ, OpKind.WRITE)) {
      String w = k.word() + ": ";
      access.add(w + "unmapped", s -> s.kind == k && s.inUserSpace() && s.at == null);
      for (Sharing sh : Sharing.values()) {
        for (String src : List.of("anon", "file", "shm")) {
          access.add(
              w + sh.word() + " " + src,
              s -> mapped(s, k) && s.at.sharing() == sh && s.at.source().equals(src));
        }
      }
      access.add(w + "the shared page", s -> mapped(s, k) && s.at.source().equals("shared page"));
      access.add(
          w + "protection forbids it",
          s ->
              mapped(s, k) && !(k == OpKind.READ ? s.at.prot().canRead() : s.at.prot().canWrite()));
      access.add(w + "no PTE", s -> mapped(s, k) && !Pte.isPresent(s.pte));
      access.add(
          w + "read-only PTE", s -> mapped(s, k) && Pte.isPresent(s.pte) && !Pte.isWritable(s.pte));
      access.add(w + "writable PTE", s -> mapped(s, k) && Pte.isWritable(s.pte));
      access.add(w + "wired page", s -> mapped(s, k) && s.at.wired());
      access.add(w + "page in swap", s -> mapped(s, k) && s.swapped);
      access.add(w + "backing chain 2 or more deep", s -> mapped(s, k) && s.depth >= 2);
      access.add(w + "backing chain 5 or more deep", s -> mapped(s, k) && s.depth >= 5);
    }
  }

  /** States the system reached: the operation and what it met, or what it made happen. */
  private static void state(List<Cls> t) {
    Area state = new Area(t, "state");
    state.add("write to a page mapped read-only", s -> mapped(s, OpKind.WRITE) && readOnlyPte(s));
    state.add(
        "write to a private file page mapped read-only",
        s ->
            mapped(s, OpKind.WRITE)
                && readOnlyPte(s)
                && s.at.isPrivate()
                && s.at.source().equals("file"));
    state.add(
        "write to a wired page mapped read-only (shared after fork)",
        s -> mapped(s, OpKind.WRITE) && readOnlyPte(s) && s.at.wired());
    state.add(
        "read of a private file page already copied", s -> mapped(s, OpKind.READ) && s.copied);
    state.add(OpKind.FWRITE, "fwrite to a file page mapped shared", s -> s.fileMappedShared);
    state.add(OpKind.FWRITE, "fwrite to a file page mapped private", s -> s.fileMappedPrivate);
    state.add(
        OpKind.FWRITE, "fwrite to a file page a private mapping copied", s -> s.fileCopiedPrivate);
    state.add(
        OpKind.FWRITE, "fwrite to a file page wired in a private mapping", s -> s.fileWiredPrivate);
    state.add(
        OpKind.FILE,
        "file shrinks under a mapping",
        s ->
            (s.fileMappedShared || s.fileMappedPrivate)
                && ((Op.File) s.op).pages() < s.fileSizeBefore);
    state.add(
        OpKind.FILE,
        "file grows under a mapping",
        s -> s.fileSizeBefore >= 0 && ((Op.File) s.op).pages() > s.fileSizeBefore);
    state.add(OpKind.MLOCK, "mlock over resident read-only pages", s -> s.readOnlyPtes > 0);
    state.add(
        OpKind.MLOCK,
        "mlock of writable private pages mapped read-only",
        s -> s.readOnlyPtesWritablePrivate > 0);
    // Not its fallback to 4 KiB pages: only a fault of another thread between claim and fill
    // makes it, which a sequential hunt never has.
    state.add("mlock by the 2 MiB fast path", s -> s.delta(Counter.SUPERPAGE_WIRES) > 0);
    state.add(OpKind.FORK, "fork with wired private pages resident", s -> s.wiredPrivateResident);
    state.add(OpKind.EXIT, "exit of an address space a clone shares", s -> s.spaceShared);
    state.add(OpKind.EXEC, "exec by a sharer of an address space", s -> s.spaceShared);
    state.add("copy-on-write fault", s -> s.delta(Counter.COW_FAULTS) > 0);
    state.add("zero-fill fault", s -> s.delta(Counter.ZERO_FILL_FAULTS) > 0);
    state.add("file page fault", s -> s.delta(Counter.FILE_FAULTS) > 0);
    state.add("swap-in", s -> s.delta(Counter.SWAP_INS) > 0);
    state.add("pageout swapped pages out", s -> s.delta(Counter.SWAP_OUTS) > 0);
    state.add("pageout wrote file pages back", s -> s.delta(Counter.WRITEBACKS) > 0);
    state.add("collapse happened", s -> s.delta(Counter.COLLAPSES) > 0);
    state.add("collapse moved pages", s -> s.delta(Counter.COLLAPSED_PAGES) > 0);
    state.add("shadowed pages freed", s -> s.delta(Counter.SHADOWED_FREED) > 0);
  }

  /** The rows of one area. */
  private record Area(List<Cls> table, String area) {
    void add(String name, Predicate<Sample> test) {
      table.add(new Cls(area, name, test));
    }

    /** A row of operations of kind {@code k} only. */
    void add(OpKind k, String name, Predicate<Sample> test) {
      add(name, s -> s.kind == k && test.test(s));
    }
  }

  private static boolean failed(Sample s, Errno e) {
    return s.result instanceof Result.Failed && ((Result.Failed) s.result).errno() == e;
  }

  /** A range of at least a page, of a range operation or a placed-by-hand mmap. */
  private static boolean span(Sample s) {
    return s.ranged() && s.pages > 0;
  }

  private static boolean covers(Sample s, long va) {
    return s.start <= va && va < s.end;
  }

  /** A page-aligned range of at least a page in user space: one the map can be asked about. */
  private static boolean valid(Sample s) {
    return span(s) && s.start % PAGE_SIZE == 0 && s.inUserSpace();
  }

  private static boolean one(Sample s) {
    return valid(s) && s.over.size() == 1;
  }

  private static boolean inside(Sample s, Seg e) {
    return e.start() < s.start && s.end < e.end();
  }

  private static boolean exactly(Sample s, Seg e) {
    return e.start() == s.start && s.end == e.end();
  }

  /** Whether some page of the range is not mapped. */
  private static boolean holes(Sample s) {
    long at = s.start;
    for (Seg e : s.over) {
      if (e.start() > at) {
        return true;
      }
      at = Math.max(at, e.end());
    }
    return at < s.end;
  }

  private static boolean crosses(Sample s, long unit) {
    return s.start / unit != (s.end - 1) / unit;
  }

  private static boolean aligned(Sample s, long unit) {
    return s.start % unit == 0 && s.end % unit == 0;
  }

  private static boolean mmap(Sample s, Predicate<Op.Mmap> test) {
    return s.op instanceof Op.Mmap && test.test((Op.Mmap) s.op);
  }

  /** Whether {@code a} allows less than {@code b}, and nothing {@code b} does not. */
  private static boolean below(Prot a, Prot b) {
    return a != b
        && (!a.canRead() || b.canRead())
        && (!a.canWrite() || b.canWrite())
        && (!a.canExec() || b.canExec());
  }

  /** An mprotect of a valid range over an entry whose old and new protection {@code test} takes. */
  private static boolean prot(Sample s, BiPredicate<Prot, Prot> test) {
    if (!(s.op instanceof Op.Mprotect) || !valid(s)) {
      return false;
    }
    Prot now = ((Op.Mprotect) s.op).prot();
    return s.over.stream().anyMatch(e -> test.test(e.prot(), now));
  }

  private static boolean addsWrite(Sample s, Predicate<Seg> which) {
    if (!(s.op instanceof Op.Mprotect) || !valid(s) || !((Op.Mprotect) s.op).prot().canWrite()) {
      return false;
    }
    return s.over.stream().anyMatch(e -> !e.prot().canWrite() && which.test(e));
  }

  /** A read or write (as {@code k} says) of a mapped word. */
  private static boolean mapped(Sample s, OpKind k) {
    return s.kind == k && s.at != null;
  }

  /** The word's PTE is present and read-only in a writable entry: a write must upgrade or copy. */
  private static boolean readOnlyPte(Sample s) {
    return Pte.isPresent(s.pte) && !Pte.isWritable(s.pte) && s.at.prot().canWrite();
  }
}
