package org.vmoracle.checks.lincheck;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.Method;
import java.util.List;
import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ManagedStrategyGuaranteeKt;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.model.ModelVm;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;
import org.vmoracle.spec.VmSystem;

/**
 * The wiring fast path (seed 003) racing what could see its pages: mlock of a whole 2 MiB segment
 * of private anonymous memory, which the fast path claims under the exclusive map lock and zeroes
 * and maps with the lock downgraded to shared (Wiring's essay), against reads and writes of the
 * segment's pages by the other thread (faults under the shared lock), munlock (a demotion of the 2
 * MiB leaf), pageout and collapse. All linearizable (CONC-1) against the model; W1 (no page visible
 * while invalid) is what makes it so.
 *
 * <p>The fixture leaves every data frame dirty: it writes 1,024 pages and unmaps them, so the run
 * the fast path gets back from the free pool holds old words until it is zeroed. A page seen before
 * the zeroing would read one of them; W1's check in the fault path refuses it instead, so either
 * way no sequential history explains the result. {@link Buggy} is the implementation with {@link
 * Bug#FAST_WIRE_EXPOSES_INVALID}, whose fast path unbusies the pages before it zeroes them: it must
 * fail.
 *
 * <p>Budget: model checking {@link #WINDOW} for 200 interleavings, stress three iterations on the
 * backing scan and two on each record-keeping reverse map, and up to five for the twin (caught in
 * the first one or two so far); some 30-40 s in all.
 */
@Tag("lincheck")
class FastWireLincheckTest {

  /** Pages of the segment: one 2 MiB PS leaf. */
  static final int SEGMENT_PAGES = 512;

  /** Frames: two runs for the dirtying and the segment, and room for page tables. */
  static final Config MACHINE = Config.defaults().withFrames(1024 + 96).withSwapSlots(1024);

  /**
   * Where the segment lands: MMAP_BASE, 2 MiB aligned, where the dirtying mapping was (its empty
   * page tables left there, which the fast path prunes).
   */
  static final long SEGMENT = 0x10000000L;

  static final List<Op> SETUP =
      List.of(
          new Op.Spawn(1),
          new Op.Mmap(1, 0, 1024, Prot.RW, Sharing.PRIVATE, new Source.Anon(), false),
          new Op.Munmap(1, 0x10000000L, 1024),
          new Op.Mmap(1, 0, SEGMENT_PAGES, Prot.RW, Sharing.PRIVATE, new Source.Anon(), false));

  /** The pages the accesses touch: the first, one in the middle and the last of the segment. */
  static long address(int where) {
    int page = where == 0 ? 0 : where == 1 ? 255 : SEGMENT_PAGES - 1;
    return SEGMENT + (long) page * Fixture.PAGE + 8;
  }

  /** What Lincheck drives: the implementation. */
  @Param(name = "where", gen = IntGen.class, conf = "0:2")
  @Param(name = "value", gen = IntGen.class, conf = "1:2")
  public static class Target {
    final VmSystem vm;

    public Target() {
      this(impl(MACHINE));
    }

    Target(VmSystem vm) {
      this.vm = vm;
    }

    @Operation
    public Result mlock() {
      return vm.apply(new Op.Mlock(1, SEGMENT, SEGMENT_PAGES));
    }

    @Operation
    public Result munlockPart() {
      return vm.apply(new Op.Munlock(1, SEGMENT + 16 * Fixture.PAGE, 1));
    }

    @Operation
    public Result read(@Param(name = "where") int where) {
      return vm.apply(new Op.Read(1, address(where)));
    }

    @Operation
    public Result write(@Param(name = "where") int where, @Param(name = "value") int value) {
      return vm.apply(new Op.Write(1, address(where), value));
    }

    @Operation
    public Result pageout() {
      return vm.apply(new Op.Pageout(64));
    }

    @Operation
    public Result collapse() {
      return vm.apply(new Op.Collapse(1, SEGMENT));
    }
  }

  /** The implementation on pte chains, whose records name the 2 MiB leaf's deposit slots. */
  @Param(name = "where", gen = IntGen.class, conf = "0:2")
  @Param(name = "value", gen = IntGen.class, conf = "1:2")
  public static class Chains extends Target {
    public Chains() {
      super(impl(MACHINE.withRmap(Config.Rmap.PTECHAIN)));
    }
  }

  /** The implementation on pv entries. */
  @Param(name = "where", gen = IntGen.class, conf = "0:2")
  @Param(name = "value", gen = IntGen.class, conf = "1:2")
  public static class Pv extends Target {
    public Pv() {
      super(impl(MACHINE.withRmap(Config.Rmap.PV)));
    }
  }

  /** The sequential specification: the model, the same operations. */
  public static class Spec extends Target {
    public Spec() {
      super(set(new ModelVm()));
    }
  }

  /** The fast path that lets go of its pages before it zeroes them. */
  @Param(name = "where", gen = IntGen.class, conf = "0:2")
  @Param(name = "value", gen = IntGen.class, conf = "1:2")
  public static class Buggy extends Target {
    public Buggy() {
      super(impl(MACHINE.withBug(Bug.FAST_WIRE_EXPOSES_INVALID)));
    }
  }

  private static ImplVm impl(Config c) {
    return set(new ImplVm(c));
  }

  private static <S extends VmSystem> S set(S vm) {
    for (Op op : SETUP) {
      Result r = vm.apply(op);
      if (!r.succeeded()
          || (op instanceof Op.Mmap
              && ((Op.Mmap) op).pages() == SEGMENT_PAGES
              && !r.equals(Result.value(SEGMENT)))) {
        throw new IllegalStateException("fixture: " + op + " -> " + r);
      }
      if (op instanceof Op.Mmap && ((Op.Mmap) op).pages() == 1024) {
        for (long p = 0; p < 1024; p++) {
          Result w = vm.apply(new Op.Write(1, 0x10000000L + p * Fixture.PAGE + 8, 0xDEAD));
          if (!w.succeeded()) {
            throw new IllegalStateException("fixture: dirtying page " + p + " -> " + w);
          }
        }
      }
    }
    return vm;
  }

  /**
   * The window: mlock on one thread, a read of the segment on the other, a read after. The read may
   * fall before the claim (it faults the page in, and the fast path leaves that segment to the 4
   * KiB path), in the window (it waits for the busy page), or after the 2 MiB leaf is in.
   */
  static final ExecutionScenario WINDOW =
      new ExecutionScenario(
          List.of(),
          List.of(List.of(actor("mlock")), List.of(actor("read", 1))),
          List.of(actor("read", 0)),
          null);

  /**
   * Model checking of {@code spec} on {@link #WINDOW} for {@code invocations}, with the fast path's
   * two halves and the free pool as single steps: both halves run under the map lock (exclusive,
   * then shared with their frames busy), the claim's run reassembly walks a thousand frames, and
   * the fill's 512-page loops would look like a livelock; the window between the halves, where a
   * fault can come in, stays open.
   */
  static ModelCheckingOptions window(Class<?> spec, int invocations) {
    return Fixture.modelChecking(spec, WINDOW, invocations)
        .addGuarantee(
            ManagedStrategyGuaranteeKt.forClasses("org.vmoracle.impl.Wiring")
                .allMethods()
                .treatAsAtomic())
        .addGuarantee(
            ManagedStrategyGuaranteeKt.forClasses(
                    "org.vmoracle.impl.phys.FreePool",
                    "org.vmoracle.impl.MapOps",
                    "org.vmoracle.impl.map.VmSpace")
                .allMethods()
                .treatAsAtomic());
  }

  /** The fixture's mlock takes the fast path, or every check here would look at nothing. */
  @Test
  void fixture_mlockAloneMapsOne2MiBLeaf() {
    for (Config c : List.of(MACHINE, MACHINE.withRmap(Config.Rmap.PTECHAIN))) {
      ImplVm vm = impl(c);
      Result r = vm.apply(new Op.Mlock(1, SEGMENT, SEGMENT_PAGES));
      org.junit.jupiter.api.Assertions.assertEquals(Result.OK, r);
      org.junit.jupiter.api.Assertions.assertEquals(
          1L, vm.stats().get("superpageWires"), vm.stats().toString());
      vm.checkInvariants();
    }
  }

  @Test
  void modelChecking_theWindow_linearizable_CONC1() {
    window(Spec.class, 200).check(Target.class);
  }

  @Test
  void stress_everyRmap_linearizable_CONC1() {
    Fixture.stress(Spec.class).iterations(3).check(Target.class);
    Fixture.stress(Spec.class).iterations(2).check(Chains.class);
    Fixture.stress(Spec.class).iterations(2).check(Pv.class);
  }

  /**
   * The twin is caught by stress, where the reads land in the window by real timing. Model checking
   * {@link #WINDOW} did not find it in 1,000 interleavings, even with the map operations as single
   * steps: the two switch points between the downgrade and the fill are few among the thousands the
   * scenario has, and the exploration picks them too rarely. FastWireScheduleTest puts a read in
   * the window deterministically instead, and WireStress (the zoo) races it in a loop.
   */
  @Test
  void buggyTwin_fastWireExposesInvalid_caughtByStress() {
    assertThrows(
        AssertionError.class, () -> Fixture.stress(Spec.class).iterations(5).check(Buggy.class));
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
