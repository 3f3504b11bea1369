package org.vmoracle.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.vmoracle.impl.core.Config;
import org.vmoracle.impl.core.Counters;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.fault.Fault;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.pageout.Pageout;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.View;
import org.vmoracle.spec.VmSystem;

/**
 * The implementation as a {@link VmSystem}: every operation, callable from any thread at any time.
 *
 * <h2>Overview</h2>
 *
 * A facade: it boots the system, takes the map lock for each operation and hands the operation to
 * the class that owns its family; the argument checks and the work are theirs.
 *
 * <pre>
 *   Registry     pids, file names and segment keys, and what they name
 *   Access       read and write, under the shared lock, retried exclusive (Fault)
 *   MapOps       mmap, munmap, mprotect, minherit, mlock, munlock; making a mapping
 *   RangeCheck   the ESRCH, EINVAL and ENOMEM checks those share, in ERR-2's order
 *   ProcessOps   spawn, fork, clone, exec, exit; a new address space
 *   FileOps      file, fwrite, fread, shmget, shmrm
 *   SysOps       pageout, collapse
 *   Stats        counters and gauges
 *   Views        what view() answers (VIEW-1)
 *   Invariants   what checkInvariants() walks
 * </pre>
 *
 * <h2>Concurrency</h2>
 *
 * Reads and writes take the map lock shared: they find the PTE, and fault it in when it is missing
 * or does not allow the access ({@link Fault}). A fault that needs more than the shared lock allows
 * (a new copy-on-write front, or pageout for a frame) is retried with the lock exclusive ({@link
 * Access}). Every other operation runs under the map lock exclusive, taken here in {@link #apply};
 * with {@link Config#unmapUnderSharedLock}, munmap finishes with it downgraded to shared and then
 * with none ({@link #unmapSecondHalf}). The lock order is in {@code package-info.java}.
 *
 * <h2>Invariants</h2>
 *
 * The ones {@link Invariants} checks. This class adds none: it holds no state of its own beyond the
 * parts it wires together, all constant after construction (legend (c)), except {@link Pageout}'s
 * clock hand, which moves under the exclusive lock only (x).
 */
public final class ImplVm implements VmSystem {
  private final Machine m; // (c)
  private final Registry reg = new Registry(); // (c) the maps; their contents (x)
  private final Pageout pageout = new Pageout(); // (x)
  private final Teardown teardown; // (c)
  private final Access access; // (c)
  private final MapOps maps; // (c)
  private final ProcessOps processOps; // (c)
  private final FileOps fileOps; // (c)
  private final SysOps sys; // (c)
  private final Exclusive exclusive = new Exclusive(); // (c) stateless
  private volatile Runnable wireWindow; // test seam (onWireWindow); null in production

  /** A booted system with default settings (BOOT-1). */
  public ImplVm() {
    this(Config.defaults());
  }

  /** A booted system (BOOT-1). */
  public ImplVm(Config config) {
    this.m = new Machine(config);
    this.teardown = new Teardown(m, reg.files, reg.segments);
    this.access = new Access(m, reg, pageout);
    this.maps = new MapOps(m, reg, pageout, teardown);
    this.processOps = new ProcessOps(m, reg, pageout, teardown, maps);
    this.fileOps = new FileOps(m, reg, teardown);
    this.sys = new SysOps(m, reg, pageout, teardown);
    int f = m.mem.allocate();
    if (f < 0) {
      throw new IllegalArgumentException("no frame for the shared page");
    }
    m.fillSharedPage(f); // BOOT-2
    m.own(f, m.sharedPage, 0);
    m.mmu.pin(f); // the shared page is never evicted
    m.sharedPage.pages.put(0, f);
    for (Boot.BootFile b : Boot.BOOT_FILES) {
      reg.files.put(b.name(), m.newFile(b.name(), b.pages(), b.number()));
    }
  }

  /** The machine this system runs on, for tests. No requirements. */
  public Machine machine() {
    return m;
  }

  /** The machine's counters. No requirements. */
  public Counters counters() {
    return m.counters;
  }

  /**
   * Runs {@code op}: a read or write on the access path, which takes the map lock itself; any other
   * operation under the map lock exclusive, taken here. No requirements.
   */
  @Override
  public Result apply(Op op) {
    if (op instanceof Op.Read) {
      return access.read((Op.Read) op);
    }
    if (op instanceof Op.Write) {
      return access.write((Op.Write) op);
    }
    m.lock.writeLock();
    m.counters.exclusiveLocks.increment();
    Teardown.Zap later = null;
    Wiring.Populate populate = null;
    try {
      if (op instanceof Op.Munmap && m.config.unmapUnderSharedLock()) {
        later = new Teardown.Zap();
        return maps.munmap((Op.Munmap) op, later);
      }
      if (op instanceof Op.Mlock && m.config.wireSuperpages()) {
        populate = new Wiring.Populate();
        return maps.mlock((Op.Mlock) op, populate);
      }
      return op.accept(exclusive);
    } finally {
      if (later != null && !later.isEmpty()) {
        unmapSecondHalf(later);
      } else if (populate != null && !populate.isEmpty()) {
        wireSecondHalf(populate);
      } else {
        m.lock.writeUnlock();
      }
    }
  }

  /**
   * The second half of mlock's fast path (see Wiring): zeroes and maps the segments it claimed with
   * the map lock downgraded to shared, so that faults elsewhere go on meanwhile; their frames stay
   * busy until mapped (W1). The caller holds the map lock exclusive, and this releases it.
   */
  private void wireSecondHalf(Wiring.Populate populate) {
    assert m.lock.heldExclusively()
        : "ImplVm.wireSecondHalf: the caller holds the map lock exclusive";
    int token = m.lock.downgrade();
    try {
      Runnable seam = wireWindow;
      if (seam != null) {
        seam.run(); // test seam only: the window between the claim and the fill
      }
      Wiring.populate(m, populate);
    } finally {
      m.lock.readUnlock(token);
    }
  }

  /**
   * Test seam: {@code seam}, when not null, runs in every mlock's fast-path window, after the lock
   * is downgraded and before its segments are zeroed and mapped, where a schedule test puts a fault
   * of another thread (W1). Production never sets it.
   */
  void onWireWindow(Runnable seam) {
    this.wireWindow = seam;
  }

  /**
   * The second half of munmap (see Teardown): clears the PTEs with the map lock downgraded to
   * shared, announces the reclaim before letting it go, and frees the pages under no lock. The
   * caller holds the map lock exclusive, and this releases it.
   */
  private void unmapSecondHalf(Teardown.Zap later) {
    assert m.lock.heldExclusively()
        : "ImplVm.unmapSecondHalf: the caller holds the map lock exclusive";
    int token = m.lock.downgrade();
    try {
      teardown.unmap(later);
      m.mem.beginReclaim(); // under the lock: whoever takes it next sees the reclaim
    } finally {
      m.lock.readUnlock(token);
    }
    try {
      teardown.reclaim(later);
    } finally {
      m.mem.endReclaim();
    }
  }

  /**
   * Every operation but read and write, each to the class of its family. Holds nothing: one
   * instance serves every call. The caller holds the map lock exclusive (each target asserts it).
   */
  private final class Exclusive implements Op.Visitor<Result> {

    @Override
    public Result spawn(Op.Spawn op) {
      return processOps.spawn(op);
    }

    @Override
    public Result fork(Op.Fork op) {
      return processOps.fork(op);
    }

    @Override
    public Result clone(Op.Clone op) {
      return processOps.clone(op);
    }

    @Override
    public Result exec(Op.Exec op) {
      return processOps.exec(op);
    }

    @Override
    public Result exit(Op.Exit op) {
      return processOps.exit(op);
    }

    @Override
    public Result mmap(Op.Mmap op) {
      return maps.mmap(op);
    }

    @Override
    public Result munmap(Op.Munmap op) {
      return maps.munmap(op, null);
    }

    @Override
    public Result mprotect(Op.Mprotect op) {
      return maps.mprotect(op);
    }

    @Override
    public Result minherit(Op.Minherit op) {
      return maps.minherit(op);
    }

    @Override
    public Result mlock(Op.Mlock op) {
      return maps.mlock(op, null);
    }

    @Override
    public Result munlock(Op.Munlock op) {
      return maps.munlock(op);
    }

    @Override
    public Result read(Op.Read op) {
      throw new AssertionError("reads run under the shared lock");
    }

    @Override
    public Result write(Op.Write op) {
      throw new AssertionError("writes run under the shared lock");
    }

    @Override
    public Result file(Op.File op) {
      return fileOps.file(op);
    }

    @Override
    public Result fwrite(Op.Fwrite op) {
      return fileOps.fwrite(op);
    }

    @Override
    public Result fread(Op.Fread op) {
      return fileOps.fread(op);
    }

    @Override
    public Result shmget(Op.Shmget op) {
      return fileOps.shmget(op);
    }

    @Override
    public Result shmrm(Op.Shmrm op) {
      return fileOps.shmrm(op);
    }

    @Override
    public Result pageout(Op.Pageout op) {
      return sys.pageout(op);
    }

    @Override
    public Result collapse(Op.Collapse op) {
      return sys.collapse(op);
    }
  }

  // ---------------------------------------------------------------- observation

  /** The view (VIEW-1). No requirements (takes the map lock exclusive). */
  @Override
  public View view() {
    m.lock.writeLock();
    try {
      return Views.of(m, reg.processes, reg.files, reg.segments);
    } finally {
      m.lock.writeUnlock();
    }
  }

  /**
   * Walks every structure and throws {@link IllegalStateException} naming the first broken
   * invariant. Never repairs anything. No requirements (takes the map lock exclusive).
   */
  public void checkInvariants() {
    m.lock.writeLock();
    try {
      Invariants.check(m, reg.processes, reg.files, reg.segments);
    } finally {
      m.lock.writeUnlock();
    }
  }

  /**
   * Every counter and gauge, by name: the counters of {@link Counters}, and the frames free, swap
   * slots used, and the resident, wired and page-table pages and map entries of all live address
   * spaces (each space counted once however many processes use it); see {@link Stats}. No
   * requirements (takes the map lock exclusive).
   */
  public Map<String, Long> stats() {
    m.lock.writeLock();
    try {
      return Stats.of(m, reg.processes);
    } finally {
      m.lock.writeUnlock();
    }
  }

  /** Live pids, for tests. No requirements. */
  public List<Integer> pids() {
    return new ArrayList<>(reg.processes.keySet());
  }

  /**
   * The address space of {@code pid}, or null when it is not alive: for checks that look at the
   * implementation's state between operations (coverage), never to change it. The caller runs no
   * operation meanwhile.
   */
  public VmSpace space(int pid) {
    return reg.processes.get(pid);
  }

  /** The pid table itself. The caller holds the map lock to read it, exclusive to change it. */
  Map<Integer, VmSpace> processes() {
    return reg.processes;
  }
}
