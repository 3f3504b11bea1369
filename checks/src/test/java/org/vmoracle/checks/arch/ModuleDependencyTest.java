package org.vmoracle.checks.arch;

import static org.vmoracle.checks.arch.ProductionClasses.IMPL;
import static org.vmoracle.checks.arch.ProductionClasses.MODEL;
import static org.vmoracle.checks.arch.ProductionClasses.PCOLLECTIONS;
import static org.vmoracle.checks.arch.ProductionClasses.ROOT;
import static org.vmoracle.checks.arch.ProductionClasses.SPEC;

import org.junit.jupiter.api.Test;

/**
 * The module table of DESIGN.md ("Modules"), and freedom from package cycles (STYLE.md, "Shape").
 *
 * <pre>
 * spec    JDK only
 * model   spec, org.pcollections
 * impl    spec only, never model
 *   impl.phys  JDK only: frames and their free pool know nothing of tables or objects
 *   impl.pmap  impl.phys and spec only: page tables live in frames and nothing else
 * checks  everything
 * </pre>
 */
class ModuleDependencyTest {

  @Test
  void spec_dependencies_jdkOnly() {
    ArchRules.dependsOnlyOnJdkAnd(SPEC, SPEC).check(ProductionClasses.all());
  }

  @Test
  void model_dependencies_specAndPcollectionsOnly() {
    ArchRules.dependsOnlyOnJdkAnd(MODEL, MODEL, SPEC, PCOLLECTIONS).check(ProductionClasses.all());
  }

  @Test
  void impl_dependencies_specOnly() {
    ArchRules.dependsOnlyOnJdkAnd(IMPL, IMPL, SPEC).check(ProductionClasses.all());
  }

  @Test
  void impl_dependencies_neverModel() {
    ArchRules.neverDependsOn(IMPL, MODEL).check(ProductionClasses.all());
  }

  @Test
  void model_dependencies_neverImpl() {
    ArchRules.neverDependsOn(MODEL, IMPL).check(ProductionClasses.all());
  }

  @Test
  void allPackages_dependencies_freeOfCycles() {
    ArchRules.noPackageCycles(ROOT).check(ProductionClasses.all());
  }

  @Test
  void implPhys_dependencies_jdkOnly() {
    ArchRules.dependsOnlyOnJdkAnd("org.vmoracle.impl.phys..", "org.vmoracle.impl.phys..")
        .check(ProductionClasses.all());
  }

  @Test
  void implPmap_dependencies_physAndSpecOnly() {
    ArchRules.dependsOnlyOnJdkAnd(
            "org.vmoracle.impl.pmap..",
            "org.vmoracle.impl.pmap..",
            "org.vmoracle.impl.phys..",
            SPEC)
        .check(ProductionClasses.all());
  }
}
