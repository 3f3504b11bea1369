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
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;
import org.vmoracle.spec.VmSystem;

/**
 * Map changes racing accesses, linearizable (CONC-1): while one process of a shared address space
 * reads and writes, the other (or the same) forks a child (FORK-*, COW-1) and reads through it,
 * unmaps pages (UNMAP-1), maps fresh memory over them ({@code fixed}, MMAP-7), asks for pageout
 * (SYS-1), and wires and unwires ranges (WIRE-1, WIRE-8). Covers {@code read}, {@code write},
 * {@code fork} (to child 3, once: a second fork answers EEXIST), {@code read} in the child, {@code
 * munmap}, {@code mmap fixed}, {@code pageout}, {@code mlock} and {@code munlock} on the fixture's
 * pages; not exec, files or segments.
 *
 * <p>The implementation runs on the default backing scan ({@link Target}) and, with a third of the
 * model-checking budget, on pv entries ({@link Pv}) and pte chains ({@link Chains}).
 *
 * <p>The model is the sequential specification. {@link Buggy} lets faults run while a map change
 * holds the lock ({@link Bug#UNLOCKED_FAULTS}); it must fail.
 */
@Tag("lincheck")
class MapRaceLincheckTest {

  /** What Lincheck drives: the implementation. */
  @Param(name = "pid", gen = IntGen.class, conf = "1:2")
  @Param(name = "page", gen = IntGen.class, conf = "0:3")
  @Param(name = "value", gen = IntGen.class, conf = "1:3")
  public static class Target {
    final VmSystem vm;

    public Target() {
      this(Fixture.impl());
    }

    Target(VmSystem vm) {
      this.vm = vm;
    }

    /** Pages 0-1: private anonymous; 2-3: shared anonymous. */
    static long address(int page) {
      return Fixture.PRIVATE + page * Fixture.PAGE;
    }

    @Operation
    public Result read(@Param(name = "pid") int pid, @Param(name = "page") int page) {
      return vm.apply(new Op.Read(pid, address(page)));
    }

    @Operation
    public Result write(
        @Param(name = "pid") int pid,
        @Param(name = "page") int page,
        @Param(name = "value") int value) {
      return vm.apply(new Op.Write(pid, address(page), value));
    }

    @Operation
    public Result fork(@Param(name = "pid") int pid) {
      return vm.apply(new Op.Fork(pid, 3));
    }

    @Operation
    public Result readChild(@Param(name = "page") int page) {
      return vm.apply(new Op.Read(3, address(page)));
    }

    @Operation
    public Result munmap(@Param(name = "pid") int pid, @Param(name = "page") int page) {
      return vm.apply(new Op.Munmap(pid, address(page), 1));
    }

    @Operation
    public Result mmapFixed(@Param(name = "pid") int pid, @Param(name = "page") int page) {
      return vm.apply(
          new Op.Mmap(pid, address(page), 1, Prot.RW, Sharing.PRIVATE, new Source.Anon(), true));
    }

    @Operation
    public Result pageout() {
      return vm.apply(new Op.Pageout(8));
    }

    @Operation
    public Result mlock(@Param(name = "pid") int pid, @Param(name = "page") int page) {
      return vm.apply(new Op.Mlock(pid, address(page), 1));
    }

    @Operation
    public Result munlock(@Param(name = "pid") int pid, @Param(name = "page") int page) {
      return vm.apply(new Op.Munlock(pid, address(page), 1));
    }
  }

  /** The implementation on pv entries. */
  @Param(name = "pid", gen = IntGen.class, conf = "1:2")
  @Param(name = "page", gen = IntGen.class, conf = "0:3")
  @Param(name = "value", gen = IntGen.class, conf = "1:3")
  public static class Pv extends Target {
    public Pv() {
      super(Fixture.impl(Config.Rmap.PV));
    }
  }

  /** The implementation on pte chains. */
  /** The implementation on pv entries. */
  @Param(name = "pid", gen = IntGen.class, conf = "1:2")
  @Param(name = "page", gen = IntGen.class, conf = "0:3")
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

  /** The implementation with faults that do not wait for map changes. */
  @Param(name = "pid", gen = IntGen.class, conf = "1:2")
  @Param(name = "page", gen = IntGen.class, conf = "0:3")
  @Param(name = "value", gen = IntGen.class, conf = "1:3")
  public static class Buggy extends Target {
    public Buggy() {
      super(Fixture.impl(Bug.UNLOCKED_FAULTS));
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
  void buggyTwin_unlockedFaults_caught() {
    assertTrue(Fixture.caught(Buggy.class, Spec.class), "the buggy twin passed both checks");
  }
}
