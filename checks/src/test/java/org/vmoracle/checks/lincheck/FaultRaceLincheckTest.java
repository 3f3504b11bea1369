package org.vmoracle.checks.lincheck;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.VmSystem;

/**
 * Faults racing faults: two processes sharing one address space (PROC-4) read and write the same
 * few pages at once: private anonymous pages (zero-fill, ACC-4), shared anonymous pages (MMAP-5)
 * and a private file mapping (copy-on-write of file pages, COW-4, FILE-7), all linearizable
 * (CONC-1). Covers {@code read} and {@code write} only; map changes are covered by the other
 * classes.
 *
 * <p>The implementation runs on the default backing scan ({@link Target}) and, with a third of the
 * model-checking budget, on pv entries ({@link Pv}) and pte chains ({@link Chains}).
 *
 * <p>The model is the sequential specification ({@link Spec}). {@link Buggy} is the implementation
 * with the injected bug {@link Bug#LOST_ZERO_FILL_RACE}: it must fail, which shows the check really
 * runs and can see this race.
 */
@Tag("lincheck")
class FaultRaceLincheckTest {

  /** What Lincheck drives: the implementation. */
  @Param(name = "pid", gen = IntGen.class, conf = "1:2")
  @Param(name = "where", gen = IntGen.class, conf = "0:5")
  @Param(name = "value", gen = IntGen.class, conf = "1:3")
  public static class Target {
    final VmSystem vm;

    public Target() {
      this(Fixture.impl());
    }

    Target(VmSystem vm) {
      this.vm = vm;
    }

    /** Six word addresses: page 0 and 1 of each of the three regions. */
    static long address(int where) {
      long base = where < 2 ? Fixture.PRIVATE : where < 4 ? Fixture.SHARED : Fixture.FILE;
      return base + (where % 2) * Fixture.PAGE;
    }

    @Operation
    public Result read(@Param(name = "pid") int pid, @Param(name = "where") int where) {
      return vm.apply(new Op.Read(pid, address(where)));
    }

    @Operation
    public Result write(
        @Param(name = "pid") int pid,
        @Param(name = "where") int where,
        @Param(name = "value") int value) {
      return vm.apply(new Op.Write(pid, address(where), value));
    }
  }

  /** The implementation on pv entries. */
  @Param(name = "pid", gen = IntGen.class, conf = "1:2")
  @Param(name = "where", gen = IntGen.class, conf = "0:5")
  @Param(name = "value", gen = IntGen.class, conf = "1:3")
  public static class Pv extends Target {
    public Pv() {
      super(Fixture.impl(Config.Rmap.PV));
    }
  }

  /** The implementation on pte chains. */
  /** The implementation on pv entries. */
  @Param(name = "pid", gen = IntGen.class, conf = "1:2")
  @Param(name = "where", gen = IntGen.class, conf = "0:5")
  @Param(name = "value", gen = IntGen.class, conf = "1:3")
  public static class Chains extends Target {
    public Chains() {
      super(Fixture.impl(Config.Rmap.PTECHAIN));
    }
  }

  /** The sequential specification: the model, the same operations. */
  public static class Spec extends Target {
    public Spec() {
      super(Fixture.model());
    }
  }

  /** The implementation with a lost zero-fill race. */
  @Param(name = "pid", gen = IntGen.class, conf = "1:2")
  @Param(name = "where", gen = IntGen.class, conf = "0:5")
  @Param(name = "value", gen = IntGen.class, conf = "1:3")
  public static class Buggy extends Target {
    public Buggy() {
      super(Fixture.impl(Bug.LOST_ZERO_FILL_RACE));
    }
  }

  @Test
  void modelChecking_impl_linearizable() {
    Fixture.modelChecking(Spec.class).check(Target.class);
  }

  @Test
  void stress_impl_linearizable() {
    Fixture.stress(Spec.class).check(Target.class);
  }

  @Test
  void modelChecking_pvAndPteChains_linearizable_CONC1() {
    Fixture.modelCheckingOtherKind(Spec.class).check(Pv.class);
    Fixture.modelCheckingOtherKind(Spec.class).check(Chains.class);
  }

  @Test
  void buggyTwin_lostZeroFillRace_caught() {
    assertTrue(Fixture.caught(Buggy.class, Spec.class), "the buggy twin passed both checks");
  }
}
