package org.vmoracle.checks.lincheck;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.Method;
import java.util.List;
import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.ThreadIdGen;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.pmap.Pmap;
import org.vmoracle.impl.pmap.Pte;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;

/**
 * The record-keeping reverse maps themselves ({@code rmap.PvEntries}, {@code rmap.PteChains}),
 * below the VM: threads map and unmap PTEs of one frame in different address spaces at once,
 * through the one PTE writer ({@code Machine.mmu}), each under the map lock shared as faults take
 * it, and a search under the exclusive lock asks the reverse map which spaces map the frame, then
 * checks its records ({@code checkMapping} of every valid leaf, then {@code checkInvariants}: V1,
 * V2 for pv entries, C1-C3 for pte chains). Linearizable (CONC-1) against {@link Spec}, four flags.
 *
 * <p>Covers {@code Mmu.install} of a fresh PTE (a fault's), {@code Mmu.replace} to 0 (a clear under
 * the shared lock, as a copy-on-write copy clears its group's PTEs to the deeper page), and {@code
 * ReverseMap.forEachMapping} (pageout's search), on pv entries, on pte chains, and on pte chains
 * with {@link Config.Switch#CHAIN_COLLAPSE_TO_DIRECT}: the direct pointer, a chain's growth and
 * removals, and with the switch the way back. In the random scenarios each thread maps and unmaps
 * in its own space ({@link ThreadIdGen}); {@link #SAME_SPACE} puts two threads on one PTE. Not:
 * re-pointing a PTE at another frame, write-protection, wiring, more than one frame, nor the
 * backing scan (which keeps no records; the other Lincheck classes run it through the whole VM).
 *
 * <p>{@link Buggy} is pv entries with {@link Bug#PV_UNLOCKED_INSERT}: two inserts at once can lose
 * one. Model checking {@link #TWO_INSERTS} finds that interleaving every time.
 *
 * <p>Budget: each design gets the other kinds' share of random model checking ({@code
 * Fixture.modelCheckingOtherKind}), {@link #TWO_INSERTS} for 100 interleavings and three iterations
 * of stress; some 30 s in all under load on 2 cores.
 */
@Tag("lincheck")
class RmapRaceLincheckTest {

  /**
   * Address spaces that map the frame, each at {@link #VA}: one for each of Lincheck's thread ids
   * (the part before, two threads, the part after).
   */
  static final int SPACES = 4;

  /** Where every space maps the frame. */
  static final long VA = 0x10000000L;

  /**
   * One frame mapped shared (a page of one shared anonymous object) in {@link #SPACES} spaces, the
   * page-table pages for {@link #VA} made in each, so that no install allocates.
   */
  @Param(name = "space", gen = ThreadIdGen.class)
  public static class Target {
    private final Machine m;
    private final MapEntry[] entries = new MapEntry[SPACES];
    private final VmObject object;
    private final int frame;

    public Target() {
      this(Config.Rmap.PV);
    }

    Target(Config.Rmap rmap) {
      this(Fixture.SMALL.withRmap(rmap));
    }

    Target(Config config) {
      m = new Machine(config);
      m.lock.writeLock();
      try {
        object = m.newSharedAnon();
        for (int s = 0; s < SPACES; s++) {
          VmSpace sp = m.newSpace(m.mmu.newPmap());
          sp.users = 1;
          MapEntry e =
              new MapEntry(
                  sp,
                  VA,
                  VA + Pmap.PAGE_SIZE,
                  0,
                  Prot.RW,
                  Sharing.SHARED,
                  Inherit.SHARE,
                  object,
                  null);
          sp.entries.put(VA, e);
          if (!m.mmu.reserveTable(e, VA)) {
            throw new IllegalStateException("fixture: no frame for a page table");
          }
          entries[s] = e;
        }
        frame = m.mem.allocate();
        if (frame < 0) {
          throw new IllegalStateException("fixture: no frame for the page");
        }
        m.own(frame, object, 0);
      } finally {
        m.lock.writeUnlock();
      }
    }

    /** The entry of {@code space}, a thread id in the random scenarios. */
    private MapEntry entry(int space) {
      return entries[Math.floorMod(space, SPACES)];
    }

    /** A fault's install of a PTE of the frame in {@code space}: whether it made one. */
    @Operation
    public boolean map(@Param(name = "space") int space) {
      int token = m.lock.readLock();
      try {
        return m.mmu.install(entry(space), VA, 0, Pte.make(frame, true, false))
            == Pmap.Install.INSTALLED;
      } finally {
        m.lock.readUnlock(token);
      }
    }

    /** An unmap of the PTE in {@code space} under the shared lock: whether there was one. */
    @Operation
    public boolean unmap(@Param(name = "space") int space) {
      int token = m.lock.readLock();
      try {
        MapEntry e = entry(space);
        long pte = e.space.pmap.lookup(VA);
        return Pte.isPresent(pte) && m.mmu.replace(e, VA, pte, 0);
      } finally {
        m.lock.readUnlock(token);
      }
    }

    /**
     * Pageout's search of the frame's PTEs under the exclusive lock: the spaces found, one bit
     * each; then every record checked.
     */
    @Operation
    public int mappers() {
      m.lock.writeLock();
      try {
        int[] found = {0};
        m.rmap.forEachMapping(
            object,
            0,
            frame,
            (e, va, pte) -> {
              for (int s = 0; s < SPACES; s++) {
                if (entries[s] == e) {
                  found[0] |= 1 << s;
                }
              }
            });
        for (MapEntry e : entries) {
          long pte = e.space.pmap.lookup(VA);
          if (Pte.isPresent(pte)) {
            m.rmap.checkMapping(e, VA, pte, m.mem);
          }
        }
        m.rmap.checkInvariants();
        return found[0];
      } finally {
        m.lock.writeUnlock();
      }
    }
  }

  /** Pte chains. */
  @Param(name = "space", gen = ThreadIdGen.class)
  public static class Chains extends Target {
    public Chains() {
      super(Config.Rmap.PTECHAIN);
    }
  }

  /** Pte chains that turn a chain of one back into a direct pointer. */
  @Param(name = "space", gen = ThreadIdGen.class)
  public static class ChainsCollapsing extends Target {
    public ChainsCollapsing() {
      super(
          Fixture.SMALL
              .withRmap(Config.Rmap.PTECHAIN)
              .with(Config.Switch.CHAIN_COLLAPSE_TO_DIRECT, true));
    }
  }

  /** pv entries whose insert takes no page lock. */
  @Param(name = "space", gen = ThreadIdGen.class)
  public static class Buggy extends Target {
    public Buggy() {
      super(Fixture.SMALL.withRmap(Config.Rmap.PV).withBug(Bug.PV_UNLOCKED_INSERT));
    }
  }

  /** The sequential specification: which spaces map the frame. */
  public static class Spec {
    private final boolean[] mapped = new boolean[SPACES];

    public boolean map(int space) {
      int s = Math.floorMod(space, SPACES);
      boolean was = mapped[s];
      mapped[s] = true;
      return !was;
    }

    public boolean unmap(int space) {
      int s = Math.floorMod(space, SPACES);
      boolean was = mapped[s];
      mapped[s] = false;
      return was;
    }

    public int mappers() {
      int bits = 0;
      for (int s = 0; s < SPACES; s++) {
        bits |= mapped[s] ? 1 << s : 0;
      }
      return bits;
    }
  }

  /**
   * Two spaces map the frame at once, while a third unmaps it; then the search must find the two.
   */
  static final ExecutionScenario TWO_INSERTS =
      new ExecutionScenario(
          List.of(actor("map", 2), actor("map", 3)),
          List.of(List.of(actor("map", 0), actor("unmap", 3)), List.of(actor("map", 1))),
          List.of(actor("mappers")),
          null);

  /**
   * A PTE cleared under the shared lock right after the CAS that made it. When the PTE writer told
   * the reverse map after the CAS, another thread could see the fresh PTE, clear it by CAS and call
   * {@code rmap.unmapped} before the maker's {@code rmap.mapped}: no record was there (pv entries
   * threw "V1: no pv entry", pte chains "C1: ... in neither the direct pointer nor the chain"), and
   * the late {@code mapped} left a record of a PTE that was gone. In the VM the clearer is a
   * copy-on-write copy's {@code Fault.unmapDeeper} racing a read fault of the same page in another
   * member of the group (FileCopyRaceLincheckTest's {@code FILL}). This scenario found it; the
   * writer now records before the CAS (the class essay of {@code mmu.Mmu}).
   */
  static final ExecutionScenario SAME_SPACE =
      new ExecutionScenario(
          List.of(),
          List.of(List.of(actor("map", 0)), List.of(actor("unmap", 0))),
          List.of(actor("mappers")),
          null);

  @Test
  void modelChecking_pv_linearizable_CONC1() {
    Fixture.modelCheckingOtherKind(Spec.class).check(Target.class);
    Fixture.modelChecking(Spec.class, TWO_INSERTS, 100).check(Target.class);
  }

  @Test
  void modelChecking_pteChains_linearizable_CONC1() {
    Fixture.modelCheckingOtherKind(Spec.class).check(Chains.class);
    Fixture.modelChecking(Spec.class, TWO_INSERTS, 100).check(Chains.class);
  }

  @Test
  void modelChecking_pteChainsCollapsingToDirect_linearizable_CONC1() {
    Fixture.modelCheckingOtherKind(Spec.class).check(ChainsCollapsing.class);
    Fixture.modelChecking(Spec.class, TWO_INSERTS, 100).check(ChainsCollapsing.class);
  }

  /** {@link #SAME_SPACE} on every record-keeping design: the clearer always finds the record. */
  @Test
  void modelChecking_sameSpaceMapAndClear_linearizable_CONC1() {
    for (Class<?> kind : List.of(Target.class, Chains.class, ChainsCollapsing.class)) {
      Fixture.modelChecking(Spec.class, SAME_SPACE, 100).check(kind);
    }
  }

  @Test
  void stress_everyRecordKeepingKind_linearizable_CONC1() {
    for (Class<?> kind : List.of(Target.class, Chains.class, ChainsCollapsing.class)) {
      Fixture.stress(Spec.class).iterations(3).check(kind);
    }
  }

  @Test
  void buggyTwin_pvUnlockedInsert_lostInsertFound() {
    assertThrows(
        AssertionError.class,
        () -> Fixture.modelChecking(Spec.class, TWO_INSERTS, 100).check(Buggy.class));
  }

  private static Actor actor(String name, Object... args) {
    for (Method m : Target.class.getMethods()) {
      if (m.getName().equals(name)) {
        return new Actor(m, List.of(args));
      }
    }
    throw new IllegalArgumentException(name);
  }
}
