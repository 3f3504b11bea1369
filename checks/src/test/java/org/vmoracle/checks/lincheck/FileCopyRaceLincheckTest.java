package org.vmoracle.checks.lincheck;

import java.lang.reflect.Method;
import java.util.List;
import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.VmSystem;

/**
 * Loads through a read-only PTE racing the copy-on-write copy that replaces it, while the file's
 * page is stored into through a shared mapping (CONC-1, FILE-7, FILE-6, COW-4). Threads of process
 * 1 read word 0 of the private mapping of file {@code g} ({@link Fixture#G_PRIVATE}), store into
 * word 1 of it (a copy-on-write fault under the shared map lock: it copies the file's page into the
 * front and maps the copy writable over the read-only PTE to the file's page), and store into word
 * 0 through the shared mapping of {@code g} ({@link Fixture#G_SHARED}), that is into the file's
 * page.
 *
 * <p>{@link #WINDOW}: a read that looked up the read-only PTE before the copy, and loaded after the
 * copy and a later shared store, answered the shared store, a value the private mapping never
 * showed. Model checking found it within 50 interleavings before {@code Access.touch} re-checked
 * the PTE after the load:
 *
 * <pre>
 * | readPrivate(): 0 | writePrivate(1): ok [1,0,0] | writeShared(2): ok [1,1,0] |
 * | readPrivate(): 2 |                             |                            |
 * </pre>
 *
 * The second read looked up the read-only PTE of the file's page; before its load, the copy ran to
 * completion and then the shared store (it began after the copy ended: {@code [1,1,0]}); the load
 * saw the 2. No sequential order gives it: the copy came before the store, so after the copy the
 * page shows the copy, which holds no 2 (FILE-7: once copied, never the file again).
 *
 * <p>A concurrent history is no trace, so this class is the regression: the two scenarios that
 * found the two windows, each model checked, on the backing scan ({@link Target}); the first also
 * on pv entries ({@link Pv}) and pte chains ({@link Chains}).
 */
@Tag("lincheck")
class FileCopyRaceLincheckTest {

  /** What Lincheck drives: the implementation. */
  @Param(name = "value", gen = IntGen.class, conf = "1:3")
  public static class Target {
    final VmSystem vm;

    public Target() {
      this(Fixture.impl());
    }

    Target(VmSystem vm) {
      this.vm = vm;
    }

    /** Word 0 of the private mapping of {@code g}. */
    @Operation
    public Result readPrivate() {
      return vm.apply(new Op.Read(1, Fixture.G_PRIVATE));
    }

    /** Word 1 of the private mapping of {@code g}: the first store copies the page. */
    @Operation
    public Result writePrivate(@Param(name = "value") int value) {
      return vm.apply(new Op.Write(1, Fixture.G_PRIVATE + 8, value));
    }

    /** Word 0 of the shared mapping of {@code g}: the file's page itself. */
    @Operation
    public Result writeShared(@Param(name = "value") int value) {
      return vm.apply(new Op.Write(1, Fixture.G_SHARED, value));
    }
  }

  /** The implementation on pv entries. */
  @Param(name = "value", gen = IntGen.class, conf = "1:3")
  public static class Pv extends Target {
    public Pv() {
      super(Fixture.impl(Config.Rmap.PV));
    }
  }

  /** The implementation on pte chains. */
  /** The implementation on pv entries. */
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

  /** Read twice; copy; store through the shared mapping. */
  static final ExecutionScenario WINDOW =
      new ExecutionScenario(
          List.of(),
          List.of(
              List.of(actor("readPrivate"), actor("readPrivate")),
              List.of(actor("writePrivate", 1)),
              List.of(actor("writeShared", 2))),
          List.of(),
          null);

  /** Store through the shared mapping, then read; copy; read again after both. */
  static final ExecutionScenario FILL =
      new ExecutionScenario(
          List.of(),
          List.of(
              List.of(actor("writeShared", 2), actor("readPrivate")),
              List.of(actor("writePrivate", 1))),
          List.of(actor("readPrivate")),
          null);

  @Test
  void modelChecking_loadThroughReplacedReadOnlyPte_linearizable_FILE7() {
    Fixture.modelChecking(Spec.class, WINDOW).check(Target.class);
  }

  /**
   * Both windows on pv entries and on pte chains, a tenth of the budget each. {@link #FILL} met a
   * race of the record-keeping reverse maps there within a few hundred interleavings: the copy's
   * {@code unmapDeeper} cleared the read fault's fresh PTE before the fault had recorded it
   * (RmapRaceLincheckTest's {@code SAME_SPACE} is that race alone; the PTE writer now records
   * before the CAS).
   */
  @Test
  void modelChecking_bothWindowsOnPvAndPteChains_linearizable_FILE7() {
    for (Class<?> kind : List.of(Pv.class, Chains.class)) {
      Fixture.modelChecking(Spec.class, WINDOW, 100).check(kind);
      Fixture.modelChecking(Spec.class, FILL, 100).check(kind);
    }
  }

  /**
   * A second window, in the copy itself, which the re-check in {@code Access.touch} does not close:
   * {@code Fault.writePrivate} filled the new front page from the file's page, and only then put it
   * into the front and mapped it. A store through the shared mapping in between, and a read that
   * faulted in the file's page read-only (the front had no page yet) and loaded that store, both
   * came before the copy was seen; the copy did not hold the store. Model checking found it in
   * seconds:
   *
   * <pre>
   * | writeShared(2): ok | writePrivate(1): ok |
   * | readPrivate(): 2   |                     |
   * | ------------------------------------------
   * | readPrivate(): 0   |                     |
   * </pre>
   *
   * The 0 after both puts the copy before the store; the 2 puts the read after the store, so after
   * the copy, which holds no 2. The copy now publishes its frame busy and clears the group's PTEs
   * to the file's page before it copies (the class comment of {@code Fault}, "Copying").
   */
  @Test
  void modelChecking_copyMissesStoreARealReadSaw_linearizable_FILE7() {
    Fixture.modelChecking(Spec.class, FILL).check(Target.class);
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
