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
 *   impl.sched JDK only: the named scheduling points every layer may call
 *   impl.phys  JDK and impl.sched only: frames and their free pool know nothing of tables or
 *              objects
 *   impl.pmap  impl.phys, impl.sched and spec only: page tables live in frames and nothing else
 *   impl.rmap  the reverse map: impl.map, object, pmap, phys, sync and spec (never core)
 *   impl.mmu   the one writer of page tables: impl.rmap and what rmap may use; only it calls
 *              Pmap's mutators, and only it changes frame wire counts
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
    ArchRules.dependsOnlyOnJdkAnd(
            "org.vmoracle.impl.phys..", "org.vmoracle.impl.phys..", "org.vmoracle.impl.sched..")
        .check(ProductionClasses.all());
  }

  /** The scheduling points are below everything: they may know nothing of the implementation. */
  @Test
  void implSched_dependencies_jdkOnly() {
    ArchRules.dependsOnlyOnJdkAnd("org.vmoracle.impl.sched..", "org.vmoracle.impl.sched..")
        .check(ProductionClasses.all());
  }

  /** Pmap's methods that change a tree; lookups, counters and walks are free to all. */
  static final java.util.Set<String> PMAP_MUTATORS =
      java.util.Set.of(
          "create",
          "enter",
          "install",
          "compareAndSet",
          "reserveTable",
          "remove",
          "protect",
          "removeRange",
          "prune",
          "release");

  @Test
  void pmapMutators_callers_onlyThePteWriter() {
    ArchRules.onlyCalledFrom(
            "org.vmoracle.impl.pmap.Pmap",
            PMAP_MUTATORS,
            "org.vmoracle.impl.mmu..",
            "org.vmoracle.impl.pmap..")
        .check(ProductionClasses.all());
  }

  @Test
  void frameWireCounts_callers_onlyThePteWriter() {
    ArchRules.onlyCalledFrom(
            "org.vmoracle.impl.phys.PhysMem",
            java.util.Set.of("wire", "unwire"),
            "org.vmoracle.impl.mmu..",
            "org.vmoracle.impl.phys..")
        .check(ProductionClasses.all());
  }

  /** What the map and its tables are made of: what the rmap and the PTE writer may use. */
  private static final String[] MAP_AND_BELOW = {
    "org.vmoracle.impl.map..",
    "org.vmoracle.impl.object..",
    "org.vmoracle.impl.pmap..",
    "org.vmoracle.impl.phys..",
    "org.vmoracle.impl.sync..",
    "org.vmoracle.impl.sched..",
    SPEC
  };

  private static String[] plus(String... more) {
    String[] out = java.util.Arrays.copyOf(more, more.length + MAP_AND_BELOW.length);
    System.arraycopy(MAP_AND_BELOW, 0, out, more.length, MAP_AND_BELOW.length);
    return out;
  }

  @Test
  void implMmu_dependencies_rmapAndMapAndBelowOnly() {
    ArchRules.dependsOnlyOnJdkAnd(
            "org.vmoracle.impl.mmu..", plus("org.vmoracle.impl.mmu..", "org.vmoracle.impl.rmap.."))
        .check(ProductionClasses.all());
  }

  @Test
  void implRmap_dependencies_mapAndBelowOnly() {
    ArchRules.dependsOnlyOnJdkAnd("org.vmoracle.impl.rmap..", plus("org.vmoracle.impl.rmap.."))
        .check(ProductionClasses.all());
  }

  @Test
  void implPmap_dependencies_physAndSpecOnly() {
    ArchRules.dependsOnlyOnJdkAnd(
            "org.vmoracle.impl.pmap..",
            "org.vmoracle.impl.pmap..",
            "org.vmoracle.impl.phys..",
            "org.vmoracle.impl.sched..",
            SPEC)
        .check(ProductionClasses.all());
  }
}
