package org.vmoracle.checks.nativ;

import static org.vmoracle.spec.Boot.PAGE_SIZE;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.vmoracle.model.Model;
import org.vmoracle.model.State;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Mapping;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.ProcessView;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;
import org.vmoracle.spec.View;

/**
 * What the host kernel cannot be asked, so the native runner reports the line as unsupported
 * instead of comparing it: the {@code DEV-} rules of {@code spec/SEMANTICS.md} (where the model
 * deliberately differs from Linux) and the runner's own limits ({@code HOST-}). Each is a predicate
 * over the operation, the model's state before it and the model's answer ({@link Context}); {@link
 * #check} answers the first that holds, in the order of {@link #RULES}.
 *
 * <p>The predicates are as narrow as the kernel's behaviour allows, so that lines on which Linux
 * and the model provably agree are still compared: a {@code munmap} past the end of user space
 * answers EINVAL on both, so it runs; a {@code munmap} that ends on the shared page is DEV-1. Where
 * the kernel's behaviour depends on more than the predicate sees, they err towards unsupported.
 *
 * <p>Rules that are emulated rather than refused are listed too, with a predicate that never holds,
 * so the list is the whole story: DEV-2 (the runner passes the model's address with {@code
 * MAP_FIXED_NOREPLACE}) and DEV-7 (segments are POSIX shared memory).
 */
public final class Deviations {
  private Deviations() {}

  /** Linux's TASK_SIZE on x86-64 (4-level paging): user space ends here, at the shared page. */
  static final long TASK_TOP = Boot.SHARED_PAGE;

  /** The lowest address Linux maps by default ({@code vm.mmap_min_addr}, 64 KiB). */
  public static final long LINUX_MMAP_MIN = 0x10000L;

  /** The largest file and segment in bytes (FILE-12): 2^35 pages. */
  public static final long FILE_MAX = Op.MAX_PAGES * PAGE_SIZE;

  /**
   * The most live processes the runner makes on the host unless told otherwise (HOST-5): enough for
   * every generated and example trace (they use a handful), few enough that a trace of 50,000
   * spawns cannot take the host's pids (pid_max is 32,768 by default) or its RLIMIT_NPROC; each
   * worker costs a few hundred KiB, so 256 stay well under 100 MiB. The C runner's
   * DEFAULT_MAX_WORKERS is the same number.
   */
  public static final int MAX_PROCESSES = 256;

  /** A range of addresses, [start, end). */
  public record Range(long start, long end) {
    public Range {
      if (Long.compareUnsigned(end, start) < 0) {
        throw new IllegalArgumentException("bad range " + start + "-" + end);
      }
    }

    boolean overlaps(Range o) {
      return Long.compareUnsigned(start, o.end) < 0 && Long.compareUnsigned(o.start, end) < 0;
    }

    @Override
    public String toString() {
      return "[0x" + Long.toHexString(start) + ", 0x" + Long.toHexString(end) + ")";
    }
  }

  /**
   * What the runner knows of the host.
   *
   * @param reserved the runner's own memory in every worker: traces must not touch it (HOST-1)
   * @param lowest the lowest address Linux maps for the trace: {@code vm.mmap_min_addr}, at least
   *     {@link #LINUX_MMAP_MIN} (DEV-5)
   * @param wireBudget the most bytes one operation may wire or populate on this host (HOST-2)
   * @param fileMax the largest file in bytes the runner's work directory takes, at most {@link
   *     #FILE_MAX} (HOST-4)
   * @param shmMax the largest POSIX shared-memory object in bytes, at most {@link #FILE_MAX}
   *     (HOST-4)
   * @param maxProcesses the most live processes the runner makes (HOST-5)
   */
  public record Host(
      List<Range> reserved,
      long lowest,
      long wireBudget,
      long fileMax,
      long shmMax,
      int maxProcesses) {
    public Host {
      reserved = List.copyOf(reserved);
      if (maxProcesses < 1) {
        throw new IllegalArgumentException("maxProcesses " + maxProcesses + ": at least 1");
      }
    }

    /** A host that takes the largest file and segment, with the default process cap. */
    public Host(List<Range> reserved, long lowest, long wireBudget) {
      this(reserved, lowest, wireBudget, FILE_MAX, FILE_MAX, MAX_PROCESSES);
    }
  }

  /**
   * One operation as the rules see it.
   *
   * @param op the operation
   * @param before the model's state before it
   * @param model what the model answered
   * @param host the host
   */
  public record Context(Op op, State before, Result model, Host host) {

    boolean modelFailedWith(Errno e) {
      return model.equals(Result.of(e));
    }

    boolean modelSucceeded() {
      return model.succeeded();
    }

    /** Whether {@code addr} lies in a mapping of {@code pid} in the model (SYS-2 asks that). */
    boolean mapped(int pid, long addr) {
      return Model.step(before, new Op.Collapse(pid, addr)).result().succeeded();
    }

    /** The model's map lines of {@code pid} that overlap {@code r}, in address order. */
    List<Mapping> overlapping(int pid, Range r) {
      ProcessView pv = Model.view(before).processes().get(pid);
      List<Mapping> out = new ArrayList<>();
      if (pv != null) {
        for (Mapping m : pv.maps()) {
          if (new Range(m.start(), m.end()).overlaps(r)) {
            out.add(m);
          }
        }
      }
      return out;
    }
  }

  /**
   * One rule of the list.
   *
   * @param id {@code DEV-n} (a rule of SEMANTICS.md) or {@code HOST-n} (a limit of the runner)
   * @param title what the model does, in a few words
   * @param linux what Linux (or the runner) does instead, and so why the line cannot be compared
   * @param applies whether a line falls under the rule
   */
  public record Rule(String id, String title, String linux, Predicate<Context> applies) {
    @Override
    public String toString() {
      return id + " " + title + ": " + linux;
    }
  }

  /** The range an operation names, [addr, addr + pages pages), saturating at 2^64. */
  static Range range(long addr, long pages) {
    long end = addr + pages * PAGE_SIZE;
    return new Range(addr, Long.compareUnsigned(end, addr) < 0 ? -1L : end);
  }

  private static final Range TOP_PAGE = new Range(TASK_TOP, Boot.USER_MAX);

  /**
   * The range of a range operation (munmap, mprotect, minherit, mlock, munlock), or of the word of
   * a read, write or collapse; empty for the others.
   */
  static Optional<Range> rangeOf(Op op) {
    if (op instanceof Op.Munmap) {
      Op.Munmap o = (Op.Munmap) op;
      return Optional.of(range(o.addr(), o.pages()));
    }
    if (op instanceof Op.Mprotect) {
      Op.Mprotect o = (Op.Mprotect) op;
      return Optional.of(range(o.addr(), o.pages()));
    }
    if (op instanceof Op.Minherit) {
      Op.Minherit o = (Op.Minherit) op;
      return Optional.of(range(o.addr(), o.pages()));
    }
    if (op instanceof Op.Mlock) {
      Op.Mlock o = (Op.Mlock) op;
      return Optional.of(range(o.addr(), o.pages()));
    }
    if (op instanceof Op.Munlock) {
      Op.Munlock o = (Op.Munlock) op;
      return Optional.of(range(o.addr(), o.pages()));
    }
    if (op instanceof Op.Read) {
      return Optional.of(new Range(((Op.Read) op).addr(), ((Op.Read) op).addr() + 8));
    }
    if (op instanceof Op.Write) {
      return Optional.of(new Range(((Op.Write) op).addr(), ((Op.Write) op).addr() + 8));
    }
    if (op instanceof Op.Collapse) {
      long page = ((Op.Collapse) op).addr() & -PAGE_SIZE;
      return Optional.of(new Range(page, page + PAGE_SIZE));
    }
    return Optional.empty();
  }

  /**
   * Whether a range operation's arguments are refused before anything is looked at: an unaligned
   * address or no pages. The kernel refuses those too (or, for a length of 0, does nothing), so no
   * range rule applies to them.
   */
  static boolean badArguments(Op op) {
    long addr;
    long pages;
    if (op instanceof Op.Munmap) {
      addr = ((Op.Munmap) op).addr();
      pages = ((Op.Munmap) op).pages();
    } else if (op instanceof Op.Mprotect) {
      addr = ((Op.Mprotect) op).addr();
      pages = ((Op.Mprotect) op).pages();
    } else if (op instanceof Op.Minherit) {
      addr = ((Op.Minherit) op).addr();
      pages = ((Op.Minherit) op).pages();
    } else if (op instanceof Op.Mlock) {
      addr = ((Op.Mlock) op).addr();
      pages = ((Op.Mlock) op).pages();
    } else if (op instanceof Op.Munlock) {
      addr = ((Op.Munlock) op).addr();
      pages = ((Op.Munlock) op).pages();
    } else if (op instanceof Op.Mmap) {
      addr = ((Op.Mmap) op).addr();
      pages = ((Op.Mmap) op).pages();
    } else {
      return false;
    }
    return (addr & (PAGE_SIZE - 1)) != 0 || pages == 0;
  }

  /** The range an mmap mapped in the model, if it succeeded. */
  static Optional<Range> mapped(Context c) {
    if (c.op() instanceof Op.Mmap && c.model() instanceof Result.Value) {
      long start = ((Result.Value) c.model()).value();
      return Optional.of(range(start, ((Op.Mmap) c.op()).pages()));
    }
    return Optional.empty();
  }

  /** Whether the operation would have the kernel act on some of {@code area}. */
  private static boolean touches(Context c, Range area) {
    Op op = c.op();
    if (op instanceof Op.Mmap) {
      Op.Mmap m = (Op.Mmap) op;
      if (mapped(c).map(r -> r.overlaps(area)).orElse(false)) {
        return true;
      }
      // MAP_FIXED replaces what is there; only bad arguments stop the kernel before it does.
      return m.fixed() && !badArguments(op) && range(m.addr(), m.pages()).overlaps(area);
    }
    if (op instanceof Op.Munmap) {
      // munmap refuses bad arguments and ranges past the end of user space (EINVAL) before it
      // acts: then the model answers EINVAL too.
      return c.modelSucceeded() && rangeOf(op).get().overlaps(area);
    }
    if (badArguments(op)) {
      return false;
    }
    return rangeOf(op).map(r -> r.overlaps(area)).orElse(false);
  }

  private static boolean dev1(Context c) {
    Op op = c.op();
    if (op instanceof Op.Mmap) {
      // A failed fixed mmap past the end of user space is ENOMEM on both; only a mapping the
      // model made there involves the top page.
      return mapped(c).map(r -> r.overlaps(TOP_PAGE)).orElse(false);
    }
    return touches(c, TOP_PAGE);
  }

  private static boolean dev3(Context c) {
    if (!(c.op() instanceof Op.Minherit) || !c.modelSucceeded()) {
      return false;
    }
    Op.Minherit m = (Op.Minherit) c.op();
    Sharing impossible;
    if (m.inherit() == Inherit.SHARE) {
      impossible = Sharing.PRIVATE;
    } else if (m.inherit() == Inherit.COPY) {
      impossible = Sharing.SHARED;
    } else {
      return false;
    }
    return c.overlapping(m.pid(), range(m.addr(), m.pages())).stream()
        .anyMatch(x -> x.sharing() == impossible);
  }

  private static boolean dev4(Context c) {
    long addr;
    int pid;
    if (c.op() instanceof Op.Mlock) {
      addr = ((Op.Mlock) c.op()).addr();
      pid = ((Op.Mlock) c.op()).pid();
    } else if (c.op() instanceof Op.Munlock) {
      addr = ((Op.Munlock) c.op()).addr();
      pid = ((Op.Munlock) c.op()).pid();
    } else {
      return false;
    }
    // Linux (apply_vma_lock_flags) changes the mappings from the first page up to the hole, then
    // answers ENOMEM; when the first page is in a hole it changes nothing, as the model.
    return c.modelFailedWith(Errno.ENOMEM) && c.mapped(pid, addr);
  }

  private static boolean dev5(Context c) {
    if (!(c.op() instanceof Op.Mmap)) {
      return false;
    }
    Op.Mmap m = (Op.Mmap) c.op();
    if (mapped(c).map(r -> Long.compareUnsigned(r.start(), c.host().lowest()) < 0).orElse(false)) {
      return true;
    }
    return m.fixed() && c.modelFailedWith(Errno.ENOMEM) && m.addr() < Boot.USER_MIN;
  }

  private static boolean dev6(Context c) {
    if (!(c.op() instanceof Op.Minherit) || c.modelSucceeded() || badArguments(c.op())) {
      return false;
    }
    Op.Minherit m = (Op.Minherit) c.op();
    List<Mapping> over = c.overlapping(m.pid(), range(m.addr(), m.pages()));
    if (c.modelFailedWith(Errno.ENOMEM)) {
      return !over.isEmpty(); // madvise advises every mapped part, then answers ENOMEM
    }
    if (c.modelFailedWith(Errno.EINVAL)) {
      // zero on a range that is not all private anonymous memory: madvise(MADV_WIPEONFORK) sets
      // the flag on the private anonymous mappings before the first other one, then fails.
      return !over.isEmpty() && privateAnon(over.get(0));
    }
    return false;
  }

  private static boolean privateAnon(Mapping m) {
    return m.sharing() == Sharing.PRIVATE && m.backing().kind() == Mapping.Backing.Kind.ANON;
  }

  private static boolean dev8(Context c) {
    if (!(c.op() instanceof Op.Mprotect) || !c.modelFailedWith(Errno.EACCES)) {
      return false;
    }
    Op.Mprotect m = (Op.Mprotect) c.op();
    return m.prot().canWrite() && range(m.addr(), m.pages()).overlaps(TOP_PAGE);
  }

  private static boolean dev9(Context c) {
    long addr;
    if (c.op() instanceof Op.Mlock) {
      addr = ((Op.Mlock) c.op()).addr();
    } else if (c.op() instanceof Op.Munlock) {
      addr = ((Op.Munlock) c.op()).addr();
    } else {
      return false;
    }
    return (addr & (PAGE_SIZE - 1)) != 0;
  }

  private static boolean host1(Context c) {
    for (Range r : c.host().reserved()) {
      if (touches(c, r)) {
        return true;
      }
    }
    return false;
  }

  private static boolean host2(Context c) {
    long budget = c.host().wireBudget();
    if (c.op() instanceof Op.Mlock) {
      Op.Mlock m = (Op.Mlock) c.op();
      return c.modelSucceeded() && m.pages() > budget / PAGE_SIZE;
    }
    if (c.op() instanceof Op.Mprotect) {
      // WIRE-10: a wired private range made writable is populated at once.
      Op.Mprotect m = (Op.Mprotect) c.op();
      if (!m.prot().canWrite() || m.pages() <= budget / PAGE_SIZE || badArguments(m)) {
        return false;
      }
      long wired = 0;
      for (Mapping x : c.overlapping(m.pid(), range(m.addr(), m.pages()))) {
        if (x.wired() && x.sharing() == Sharing.PRIVATE) {
          wired += x.end() - x.start();
        }
      }
      return wired > budget;
    }
    return false;
  }

  private static boolean dev10(Context c) {
    Op op = c.op();
    long pages = -1;
    if (op instanceof Op.Mprotect) {
      pages = ((Op.Mprotect) op).pages();
    } else if (op instanceof Op.Minherit) {
      pages = ((Op.Minherit) op).pages();
    } else if (op instanceof Op.Mlock) {
      pages = ((Op.Mlock) op).pages();
    } else if (op instanceof Op.Munlock) {
      pages = ((Op.Munlock) op).pages();
    }
    return pages == 0;
  }

  private static boolean dev12(Context c) {
    if (!(c.op() instanceof Op.Mmap) || !c.modelFailedWith(Errno.EINVAL)) {
      return false;
    }
    Source src = ((Op.Mmap) c.op()).source();
    View v = Model.view(c.before());
    if (src instanceof Source.FileRange) {
      return !v.filePages().containsKey(((Source.FileRange) src).name());
    }
    if (src instanceof Source.Shm) {
      return !v.shmPages().containsKey(((Source.Shm) src).key());
    }
    return false;
  }

  private static boolean host4(Context c) {
    if (!c.modelSucceeded()) {
      return false; // EFBIG and ENOENT are the kernel's answers too (FILE-12)
    }
    Op op = c.op();
    if (op instanceof Op.File) {
      return ((Op.File) op).pages() * PAGE_SIZE > c.host().fileMax();
    }
    if (op instanceof Op.Fwrite) {
      // The model succeeded, so the offset lies below 2^47: the page's end cannot overflow.
      long end = (((Op.Fwrite) op).offset() / PAGE_SIZE + 1) * PAGE_SIZE;
      return end > c.host().fileMax();
    }
    if (op instanceof Op.Shmget) {
      return ((Op.Shmget) op).pages() * PAGE_SIZE > c.host().shmMax();
    }
    return false;
  }

  private static boolean host5(Context c) {
    Op op = c.op();
    boolean makes = op instanceof Op.Spawn || op instanceof Op.Fork || op instanceof Op.Clone;
    return makes && c.modelSucceeded() && c.before().processes().size() >= c.host().maxProcesses();
  }

  private static boolean host3(Context c, boolean shmNoexec) {
    return shmNoexec
        && c.op() instanceof Op.Mmap
        && ((Op.Mmap) c.op()).source() instanceof Source.Shm
        && ((Op.Mmap) c.op()).prot().canExec();
  }

  /** The rules, in the order {@link #check} tries them. */
  public static final List<Rule> RULES =
      List.of(
          new Rule(
              "DEV-9",
              "unaligned wiring addresses answer EINVAL",
              "Linux mlock and munlock round the address down to a page",
              Deviations::dev9),
          new Rule(
              "DEV-8",
              "the shared page's maximum protection is rx (EACCES)",
              "Linux has no such page (and lets its vdso be made writable)",
              Deviations::dev8),
          new Rule(
              "DEV-1",
              "the shared page is at 0x7ffffffff000",
              "Linux has no page there: x86-64 user space ends at 0x7ffffffff000",
              Deviations::dev1),
          new Rule(
              "DEV-5",
              "user addresses start at 0x1000",
              "Linux maps nothing below vm.mmap_min_addr (64 KiB): EPERM, or for root the page",
              Deviations::dev5),
          new Rule(
              "DEV-2",
              "placement is first fit upward from MMAP_BASE",
              "the runner can only pass the model's address; Linux has no way to say that no"
                  + " range fits under our rule (ENOMEM, PLACE-3)",
              c ->
                  c.op() instanceof Op.Mmap
                      && !((Op.Mmap) c.op()).fixed()
                      && c.modelFailedWith(Errno.ENOMEM)),
          new Rule(
              "DEV-3",
              "minherit share of a private range, copy of a shared range",
              "Linux cannot express either: MADV_DONTFORK and MADV_WIPEONFORK are all it has",
              Deviations::dev3),
          new Rule(
              "DEV-4",
              "mlock failures wire nothing (munlock failures unwire nothing)",
              "Linux marks the mappings before the failure VM_LOCKED (munlock: unlocks them)"
                  + " and leaves them so",
              Deviations::dev4),
          new Rule(
              "DEV-6",
              "minherit is all or nothing",
              "Linux madvise applies advice mapping by mapping and stops or skips on errors,"
                  + " leaving part of the range changed",
              Deviations::dev6),
          new Rule(
              "DEV-7",
              "segments are mapped with mmap and removed by key",
              "emulated: the runner uses POSIX shared memory (shm_open), which behaves as ours",
              c -> false),
          new Rule(
              "DEV-10",
              "zero-length mprotect, minherit, mlock and munlock answer EINVAL",
              "Linux answers 0 and changes nothing",
              Deviations::dev10),
          new Rule(
              "DEV-11",
              "an unaligned mmap hint answers EINVAL",
              "Linux takes an unaligned hint as a hint",
              c ->
                  c.op() instanceof Op.Mmap
                      && !((Op.Mmap) c.op()).fixed()
                      && (((Op.Mmap) c.op()).addr() & (PAGE_SIZE - 1)) != 0),
          new Rule(
              "DEV-12",
              "a bad argument is reported before a missing file or segment",
              "on Linux open(2) or shm_open(3) resolves the name before mmap(2) checks arguments",
              Deviations::dev12),
          new Rule(
              "DEV-13",
              "fwrite of the last word below 2^63 answers EFBIG",
              "Linux answers EINVAL: the word's end, 2^63, is no file position (rw_verify_area)",
              c ->
                  c.op() instanceof Op.Fwrite
                      && c.modelFailedWith(Errno.EFBIG)
                      && ((Op.Fwrite) c.op()).offset() > Long.MAX_VALUE - Boot.WORD_SIZE),
          new Rule(
              "HOST-1",
              "the range is the runner's own memory on the host",
              "the runner's image, brk heap, arena and stack live there in every worker",
              Deviations::host1),
          new Rule(
              "HOST-2",
              "the operation would wire more memory than the runner allows",
              "mlock (and mprotect of a wired private range to writable) populates every page;"
                  + " the runner refuses more than its wiring budget",
              Deviations::host2),
          new Rule(
              "HOST-4",
              "the file or segment would be larger than the host allows",
              "the file system of the runner's work directory (or of /dev/shm) refuses sizes"
                  + " this large with EFBIG, below the largest file of FILE-12 (2^47 bytes)",
              Deviations::host4));

  /**
   * HOST-3, listed separately because it depends on a fact of the host only the caller knows:
   * whether {@code /dev/shm} is mounted {@code noexec}.
   */
  static Rule host3(boolean shmNoexec) {
    return new Rule(
        "HOST-3",
        "an executable mapping of a segment",
        "/dev/shm is mounted noexec on this host: Linux refuses PROT_EXEC there (EPERM)",
        c -> host3(c, shmNoexec));
  }

  /**
   * HOST-5, listed separately because its text names the cap of the host at hand ({@link
   * Host#maxProcesses()}).
   */
  static Rule host5(int cap) {
    return new Rule(
        "HOST-5",
        "the trace would have more than " + cap + " live processes",
        "every trace pid is a host process, and the runner makes at most "
            + cap
            + " at once so"
            + " that no trace can exhaust the host's pids",
        Deviations::host5);
  }

  /**
   * The first rule that applies to the operation, or empty when the kernel can be asked. An
   * operation the model refused for a dead process (ESRCH) never reaches the kernel: no rule
   * applies to it.
   */
  public static Optional<Rule> check(Context c) {
    return check(c, List.of());
  }

  static Optional<Rule> check(Context c, List<Rule> extra) {
    if (c.modelFailedWith(Errno.ESRCH)) {
      return Optional.empty();
    }
    for (Rule r : RULES) {
      if (r.applies().test(c)) {
        return Optional.of(r);
      }
    }
    if (host5(c)) {
      return Optional.of(host5(c.host().maxProcesses()));
    }
    for (Rule r : extra) {
      if (r.applies().test(c)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }
}
