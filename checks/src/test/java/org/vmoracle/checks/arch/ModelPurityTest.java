package org.vmoracle.checks.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.vmoracle.checks.arch.ProductionClasses.MODEL;
import static org.vmoracle.checks.arch.ProductionClasses.MODEL_SHELL;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The model is pure (DESIGN.md, STYLE.md "The model"): immutable values only, no locks, no threads,
 * no I/O. The one exception is {@code ModelVm}, the imperative shell that lets the model be driven
 * as a {@link org.vmoracle.spec.VmSystem}: it holds the current immutable {@code State} in exactly
 * one non-final field.
 */
class ModelPurityTest {

  @Test
  void modelFields_exceptTheShell_areFinal() {
    ArchRules.fieldsAreFinal(MODEL, MODEL_SHELL).check(ProductionClasses.all());
  }

  @Test
  void modelShell_fields_exactlyOneMutable() {
    ArchRules.shellHasExactlyOneMutableField(MODEL_SHELL).check(ProductionClasses.all());
  }

  @Test
  void modelFields_volatile_none() {
    ArchRules.noVolatileFields(MODEL).check(ProductionClasses.all());
  }

  @Test
  void modelMethods_synchronized_none() {
    ArchRules.noSynchronizedMethods(MODEL).check(ProductionClasses.all());
  }

  @Test
  void modelClasses_javaUtilConcurrent_none() {
    ArchRules.noJavaUtilConcurrent(MODEL).check(ProductionClasses.all());
  }

  @Test
  void modelClasses_threads_none() {
    ArchRules.noThreads(MODEL).check(ProductionClasses.all());
  }

  @Test
  void modelClasses_waitOrNotify_none() {
    ArchRules.noWaitOrNotify(MODEL).check(ProductionClasses.all());
  }

  @Test
  void modelFields_arrays_none() {
    ArchRules.noArrayFields(MODEL).check(ProductionClasses.all());
  }

  @Test
  void modelFields_mutableCollections_none() {
    ArchRules.noMutableCollectionFields(MODEL).check(ProductionClasses.all());
  }

  @Test
  void modelClasses_io_none() {
    ArchRules.noIo(MODEL).check(ProductionClasses.all());
  }

  @Test
  void modelMethods_synchronizedBlocks_none() {
    List<String> names =
        ProductionClasses.all().stream()
            .filter(c -> c.getPackageName().matches("org\\.vmoracle\\.model(\\..*)?"))
            .map(c -> c.getName())
            .collect(Collectors.toList());
    assertFalse(names.isEmpty(), "no classes of org.vmoracle.model on the class path");
    assertEquals(
        List.of(),
        MonitorScan.monitorEnters(getClass().getClassLoader(), names),
        "methods of the model with a synchronized block (MONITORENTER)");
  }
}
