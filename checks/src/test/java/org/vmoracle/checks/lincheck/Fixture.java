package org.vmoracle.checks.lincheck;

import java.util.List;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.lincheck.datastructures.ManagedStrategyGuaranteeKt;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.impl.fault.Fault;
import org.vmoracle.impl.object.FileStore;
import org.vmoracle.impl.pageout.Pageout;
import org.vmoracle.impl.sync.ScalableRwLock;
import org.vmoracle.model.ModelVm;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;
import org.vmoracle.spec.VmSystem;

/**
 * The small world every Lincheck class starts from, built the same way in the implementation and in
 * the model (the sequential specification): process 1 maps two private anonymous pages at {@link
 * #PRIVATE}, two shared anonymous pages at {@link #SHARED} and the two pages of file {@code f}
 * privately at {@link #FILE}, then forks process 2: two address spaces (two pmaps) that share the
 * shared pages and see the private ones copy-on-write. After the fork, process 1 alone maps the one
 * page of file {@code g} twice, privately at {@link #G_PRIVATE} and shared at {@link #G_SHARED}: a
 * private file mapping that was never forked (so its copy-on-write faults run under the shared map
 * lock) beside a shared mapping of the same file page.
 */
final class Fixture {
  private Fixture() {}

  static final long PRIVATE = 0x10000000L;
  static final long SHARED = 0x10002000L;
  static final long FILE = 0x10004000L;
  static final long G_PRIVATE = 0x10006000L;
  static final long G_SHARED = 0x10007000L;
  static final long PAGE = 4096;

  /** A machine small enough that every Lincheck invocation boots quickly (128 KiB of frames). */
  static final Config SMALL = Config.defaults().withFrames(32).withSwapSlots(64);

  static final List<Op> SETUP =
      List.of(
          new Op.Spawn(1),
          new Op.Mmap(1, 0, 2, Prot.RW, Sharing.PRIVATE, new Source.Anon(), false),
          new Op.Mmap(1, 0, 2, Prot.RW, Sharing.SHARED, new Source.Anon(), false),
          new Op.File("f", 2),
          new Op.Mmap(1, 0, 2, Prot.RW, Sharing.PRIVATE, new Source.FileRange("f", 0), false),
          new Op.Fork(1, 2),
          new Op.File("g", 1),
          new Op.Mmap(
              1, G_PRIVATE, 1, Prot.RW, Sharing.PRIVATE, new Source.FileRange("g", 0), false),
          new Op.Mmap(
              1, G_SHARED, 1, Prot.RW, Sharing.SHARED, new Source.FileRange("g", 0), false));

  static ImplVm impl() {
    return set(new ImplVm(SMALL));
  }

  static ImplVm impl(Bug bug) {
    return set(new ImplVm(SMALL.withBug(bug)));
  }

  /**
   * The fixture on reverse map {@code rmap}, its other settings the default's: the record-keeping
   * designs are checked by every class too.
   */
  static ImplVm impl(Config.Rmap rmap) {
    return set(new ImplVm(SMALL.withRmap(rmap)));
  }

  static ModelVm model() {
    return set(new ModelVm());
  }

  /**
   * The CI budget of model checking (about 10-20 s a class on 2 cores): few, short scenarios,
   * explored thoroughly, with {@code spec} as the sequential specification.
   */
  static ModelCheckingOptions modelChecking(Class<?> spec) {
    return guarded(new ModelCheckingOptions())
        .iterations(6)
        .invocationsPerIteration(60)
        .threads(2)
        .actorsPerThread(2)
        .actorsBefore(0)
        .actorsAfter(1)
        .sequentialSpecification(spec);
  }

  /** The CI budget of stress mode, with {@code spec} as the sequential specification. */
  static StressOptions stress(Class<?> spec) {
    return new StressOptions()
        .iterations(10)
        .invocationsPerIteration(300)
        .threads(2)
        .actorsPerThread(3)
        .actorsBefore(0)
        .actorsAfter(1)
        .sequentialSpecification(spec);
  }

  /**
   * The CI budget of model checking one given scenario (about 10 s on 2 cores): {@code custom}
   * alone, explored for 1,000 interleavings, no random scenarios. Before the re-check in {@code
   * Access.touch}, FileCopyRaceLincheckTest's scenario failed within 50.
   */
  static ModelCheckingOptions modelChecking(Class<?> spec, ExecutionScenario custom) {
    return modelChecking(spec, custom, 1000);
  }

  /** {@link #modelChecking(Class, ExecutionScenario)}, explored for {@code invocations}. */
  static ModelCheckingOptions modelChecking(
      Class<?> spec, ExecutionScenario custom, int invocations) {
    return guarded(new ModelCheckingOptions())
        .addCustomScenario(custom)
        .iterations(0)
        .invocationsPerIteration(invocations)
        .sequentialSpecification(spec);
  }

  /**
   * Some a fifth of {@link #modelChecking(Class)}'s budget, for a class's runs on each of the other
   * reverse maps (pv entries, pte chains): the same scenarios' shape, two iterations of 40
   * invocations. Their paths differ from the backing scan's in the records alone, which every
   * invocation's scenario reaches.
   */
  static ModelCheckingOptions modelCheckingOtherKind(Class<?> spec) {
    return modelChecking(spec).iterations(2).invocationsPerIteration(40);
  }

  /**
   * Runs the checks a buggy twin must fail, model checking and then stress, up to {@link
   * #CATCH_ROUNDS} times; answers whether one of them failed. Scenarios are random, so one round
   * may miss a race that needs a rare interleaving (seen under a load of 8 on 2 cores, never on an
   * idle machine); a twin that survives every round is reported.
   */
  static boolean caught(Class<?> buggy, Class<?> spec) {
    for (int round = 0; round < CATCH_ROUNDS; round++) {
      try {
        modelChecking(spec).check(buggy);
      } catch (AssertionError expected) {
        return true;
      }
      try {
        stress(spec).check(buggy);
      } catch (AssertionError expected) {
        return true;
      }
    }
    return false;
  }

  /** Rounds of {@link #caught}: 3. A twin caught at all is caught in the first nearly always. */
  static final int CATCH_ROUNDS = 3;

  /**
   * What model checking treats as one step: word-by-word loops over a page that no other thread can
   * reach meanwhile (a busy frame being filled, a file's disk copy). Without this, Lincheck takes
   * the 512-word loops for a livelock and explores needless interleavings inside them. Also the
   * bound above which a loop counts as a livelock.
   */
  private static ModelCheckingOptions guarded(ModelCheckingOptions o) {
    // The map lock's writer sweeps its 64 reader stripes in one loop: above Lincheck's default
    // bound of 50 iterations for a loop it would call a livelock.
    return o.loopBound(1024)
        .addGuarantee(
            ManagedStrategyGuaranteeKt.forClasses(Fault.class.getName())
                .methods("readDisk", "fillSharedPage")
                .treatAsAtomic())
        .addGuarantee(
            ManagedStrategyGuaranteeKt.forClasses(FileStore.class.getName())
                .allMethods()
                .treatAsAtomic())
        // The lock rules' assertions only read the lock's state: no switch points there, or
        // every assert of a writer would add interleavings to explore, and a buggy twin's race
        // would need a bigger budget to be seen.
        .addGuarantee(
            ManagedStrategyGuaranteeKt.forClasses(ScalableRwLock.class.getName())
                .methods("heldExclusively")
                .ignore())
        // Pageout runs under the exclusive map lock: nothing interleaves inside it but through
        // a broken lock, which the lock's own accesses still show.
        .addGuarantee(
            ManagedStrategyGuaranteeKt.forClasses(Pageout.class.getName())
                .allMethods()
                .treatAsAtomic());
  }

  private static <S extends VmSystem> S set(S vm) {
    for (Op op : SETUP) {
      Result r = vm.apply(op);
      if (!r.succeeded()
          || (op instanceof Op.Mmap
              && ((Op.Mmap) op).addr() != 0
              && !r.equals(Result.value(((Op.Mmap) op).addr())))) {
        throw new IllegalStateException("fixture: " + op + " -> " + r);
      }
    }
    return vm;
  }
}
