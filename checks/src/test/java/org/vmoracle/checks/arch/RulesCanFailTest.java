package org.vmoracle.checks.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.vmoracle.checks.arch.fixture.bad.ArrayField;
import org.vmoracle.checks.arch.fixture.bad.ConcurrentField;
import org.vmoracle.checks.arch.fixture.bad.DependsOnPicocli;
import org.vmoracle.checks.arch.fixture.bad.DoesIo;
import org.vmoracle.checks.arch.fixture.bad.MutableCollectionFields;
import org.vmoracle.checks.arch.fixture.bad.NonFinalField;
import org.vmoracle.checks.arch.fixture.bad.ShellWithStaticField;
import org.vmoracle.checks.arch.fixture.bad.ShellWithTwoFields;
import org.vmoracle.checks.arch.fixture.bad.SynchronizedBlock;
import org.vmoracle.checks.arch.fixture.bad.SynchronizedMethod;
import org.vmoracle.checks.arch.fixture.bad.UsesThread;
import org.vmoracle.checks.arch.fixture.bad.VolatileField;
import org.vmoracle.checks.arch.fixture.bad.WaitsAndNotifies;
import org.vmoracle.checks.arch.fixture.bad.WritesBehindTheWriter;
import org.vmoracle.checks.arch.fixture.clean.Shell;

/**
 * Every rule of {@link ArchRules} and {@link MonitorScan} flags a class that breaks it, and accepts
 * the clean fixtures: a rule that cannot fail would pass on any model.
 */
class RulesCanFailTest {

  private static final String BAD = "org.vmoracle.checks.arch.fixture.bad..";
  private static final String CLEAN = "org.vmoracle.checks.arch.fixture.clean..";
  private static final String CLEAN_SHELL = Shell.class.getName();

  private static JavaClasses only(Class<?>... classes) {
    return new ClassFileImporter().importClasses(classes);
  }

  /** The whole clean package, synthetic classes (a switch's map) included. */
  private static JavaClasses clean() {
    return new ClassFileImporter().importPackages("org.vmoracle.checks.arch.fixture.clean");
  }

  /** The rule fails on {@code classes}, and its report names every one of {@code mentions}. */
  private static void assertFlags(ArchRule rule, JavaClasses classes, String... mentions) {
    AssertionError e = assertThrows(AssertionError.class, () -> rule.check(classes));
    for (String m : mentions) {
      assertTrue(
          e.getMessage().contains(m), () -> "report should name " + m + ":\n" + e.getMessage());
    }
  }

  // ------------------------------------------------------------ module table

  @Test
  void dependsOnlyOnJdk_classUsingALibrary_isFlagged() {
    assertFlags(
        ArchRules.dependsOnlyOnJdkAnd(BAD, BAD),
        only(DependsOnPicocli.class),
        DependsOnPicocli.class.getName(),
        "picocli.CommandLine");
  }

  @Test
  void dependsOnlyOnJdk_allowedLibrary_passes() {
    ArchRules.dependsOnlyOnJdkAnd(BAD, BAD, "picocli..").check(only(DependsOnPicocli.class));
  }

  @Test
  void dependsOnlyOnJdk_cleanClasses_pass() {
    ArchRules.dependsOnlyOnJdkAnd(CLEAN, CLEAN, "org.pcollections..").check(clean());
  }

  @Test
  void onlyCalledFrom_callerOutsideTheWriter_isFlagged() {
    assertFlags(
        ArchRules.onlyCalledFrom("java.util.ArrayList", Set.of("clear"), "java.util.."),
        only(WritesBehindTheWriter.class),
        WritesBehindTheWriter.class.getName(),
        "clear");
  }

  @Test
  void onlyCalledFrom_callsOfOtherMethods_pass() {
    ArchRules.onlyCalledFrom("java.util.ArrayList", Set.of("add"), "java.util..")
        .check(only(WritesBehindTheWriter.class));
  }

  @Test
  void neverDependsOn_forbiddenPackage_isFlagged() {
    assertFlags(
        ArchRules.neverDependsOn(BAD, "picocli.."),
        only(DependsOnPicocli.class),
        DependsOnPicocli.class.getName());
  }

  @Test
  void noPackageCycles_twoPackagesUsingEachOther_isFlagged() {
    assertFlags(
        ArchRules.noPackageCycles("org.vmoracle.checks.arch.fixture.cycle"),
        new ClassFileImporter().importPackages("org.vmoracle.checks.arch.fixture.cycle"),
        "Cycle detected");
  }

  // ------------------------------------------------------------------ purity

  @Test
  void fieldsAreFinal_nonFinalField_isFlagged() {
    assertFlags(ArchRules.fieldsAreFinal(BAD, null), only(NonFinalField.class), "counter");
  }

  @Test
  void fieldsAreFinal_shellNotExempted_isFlagged() {
    assertFlags(ArchRules.fieldsAreFinal(CLEAN, null), clean(), "current");
  }

  @Test
  void fieldsAreFinal_cleanClassesWithShellExempted_pass() {
    ArchRules.fieldsAreFinal(CLEAN, CLEAN_SHELL).check(clean());
  }

  @Test
  void shellHasOneMutableField_twoMutableFields_isFlagged() {
    assertFlags(
        ArchRules.shellHasExactlyOneMutableField(ShellWithTwoFields.class.getName()),
        only(ShellWithTwoFields.class),
        "2 non-final field(s) [state, steps]");
  }

  @Test
  void shellHasOneMutableField_staticMutableField_isFlagged() {
    assertFlags(
        ArchRules.shellHasExactlyOneMutableField(ShellWithStaticField.class.getName()),
        only(ShellWithStaticField.class),
        "[static state]");
  }

  @Test
  void shellHasOneMutableField_noMutableField_isFlagged() {
    assertFlags(
        ArchRules.shellHasExactlyOneMutableField(ArrayField.class.getName()),
        only(ArrayField.class),
        "0 non-final field(s)");
  }

  @Test
  void shellHasOneMutableField_missingShell_isFlagged() {
    assertThrows(
        AssertionError.class,
        () -> ArchRules.shellHasExactlyOneMutableField("no.such.Shell").check(clean()));
  }

  @Test
  void shellHasOneMutableField_cleanShell_passes() {
    ArchRules.shellHasExactlyOneMutableField(CLEAN_SHELL).check(clean());
  }

  @Test
  void noVolatileFields_volatileField_isFlagged() {
    assertFlags(ArchRules.noVolatileFields(BAD), only(VolatileField.class), "published");
  }

  @Test
  void noSynchronizedMethods_synchronizedMethod_isFlagged() {
    assertFlags(ArchRules.noSynchronizedMethods(BAD), only(SynchronizedMethod.class), "answer()");
  }

  @Test
  void noJavaUtilConcurrent_atomicField_isFlagged() {
    assertFlags(
        ArchRules.noJavaUtilConcurrent(BAD),
        only(ConcurrentField.class),
        "java.util.concurrent.atomic.AtomicLong");
  }

  @Test
  void noThreads_currentThread_isFlagged() {
    assertFlags(ArchRules.noThreads(BAD), only(UsesThread.class), "java.lang.Thread");
  }

  @Test
  void noWaitOrNotify_waitOnThisAndNotifyAllOnObject_areFlagged() {
    assertFlags(
        ArchRules.noWaitOrNotify(BAD),
        only(WaitsAndNotifies.class),
        "pause()",
        "wait(long)",
        "wake()",
        "notifyAll()");
  }

  @Test
  void noArrayFields_arrayField_isFlagged() {
    assertFlags(ArchRules.noArrayFields(BAD), only(ArrayField.class), "ArrayField.words");
  }

  @Test
  void noMutableCollectionFields_hashMapAndArrayList_areFlagged() {
    assertFlags(
        ArchRules.noMutableCollectionFields(BAD),
        only(MutableCollectionFields.class),
        "pages has the mutable type java.util.HashMap",
        "log has the mutable type java.util.ArrayList");
  }

  @Test
  void noIo_nioFieldAndPrinting_areFlagged() {
    assertFlags(
        ArchRules.noIo(BAD), only(DoesIo.class), "java.nio.file.Path", "java.io.PrintStream");
  }

  /** Records, enums, switches (synthetic arrays), pcollections and a lambda are all pure. */
  @Test
  void purityRules_cleanClasses_pass() {
    for (ArchRule rule :
        List.of(
            ArchRules.noVolatileFields(CLEAN),
            ArchRules.noSynchronizedMethods(CLEAN),
            ArchRules.noJavaUtilConcurrent(CLEAN),
            ArchRules.noThreads(CLEAN),
            ArchRules.noWaitOrNotify(CLEAN),
            ArchRules.noArrayFields(CLEAN),
            ArchRules.noMutableCollectionFields(CLEAN),
            ArchRules.noIo(CLEAN))) {
      rule.check(clean());
    }
  }

  // -------------------------------------------------------------- ASM scan

  @Test
  void monitorScan_synchronizedBlock_isFlaggedWithClassAndMethod() {
    assertEquals(
        List.of(SynchronizedBlock.class.getName() + "#guarded"),
        MonitorScan.monitorEnters(
            getClass().getClassLoader(), List.of(SynchronizedBlock.class.getName())));
  }

  /** The reason for the scan: ArchUnit's rules do not see a synchronized block (notes, F7). */
  @Test
  void archRules_synchronizedBlock_notSeen() {
    ArchRules.noSynchronizedMethods(BAD).check(only(SynchronizedBlock.class));
  }

  @Test
  void monitorScan_cleanClasses_findNothing() {
    List<String> names = clean().stream().map(c -> c.getName()).collect(Collectors.toList());
    assertTrue(names.size() >= 4, "clean fixture classes, the switch map included: " + names);
    assertEquals(List.of(), MonitorScan.monitorEnters(getClass().getClassLoader(), names));
  }

  @Test
  void monitorScan_missingClassFile_isAnError() {
    assertThrows(
        IllegalStateException.class,
        () -> MonitorScan.monitorEnters(getClass().getClassLoader(), List.of("no.such.Class")));
  }
}
