package org.vmoracle.checks.arch;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * The production classes of every module, imported once from the test class path (the reactor's
 * jars or {@code target/classes} folders); test classes, and so the bad fixtures, are left out.
 */
final class ProductionClasses {
  private ProductionClasses() {}

  static final String ROOT = "org.vmoracle";
  static final String SPEC = "org.vmoracle.spec..";
  static final String MODEL = "org.vmoracle.model..";
  static final String IMPL = "org.vmoracle.impl..";
  static final String CHECKS = "org.vmoracle.checks..";
  static final String PCOLLECTIONS = "org.pcollections..";

  /** The model's imperative shell: the one class allowed a mutable field (DESIGN.md, "model"). */
  static final String MODEL_SHELL = "org.vmoracle.model.ModelVm";

  private static final class Holder {
    static final JavaClasses CLASSES =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages(ROOT);
  }

  static JavaClasses all() {
    return Holder.CLASSES;
  }
}
