package org.vmoracle.checks.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.fields;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.methods;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noFields;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.domain.PackageMatchers;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The architecture rules of DESIGN.md ("Modules") and STYLE.md ("Shape", "The model"), as rule
 * factories over a package pattern ({@code "org.vmoracle.model.."}). The tests apply them to the
 * production classes ({@link ModuleDependencyTest}, {@link ModelPurityTest}) and to deliberately
 * bad fixtures ({@link RulesCanFailTest}), so every rule is seen to pass on the real code and to
 * fail on code that breaks it.
 */
final class ArchRules {
  private ArchRules() {}

  /** The JDK's own classes, and primitives and arrays of them. */
  static final DescribedPredicate<JavaClass> JDK =
      DescribedPredicate.describe(
          "are JDK classes (java..)",
          c -> {
            JavaClass base = c.getBaseComponentType();
            return base.isPrimitive() || base.getPackageName().startsWith("java.");
          });

  /**
   * Classes in {@code layer} depend on nothing but the JDK and the given packages (which should
   * include the layer itself). Arrays count as their component type.
   */
  static ArchRule dependsOnlyOnJdkAnd(String layer, String... allowed) {
    PackageMatchers matchers = PackageMatchers.of(allowed);
    DescribedPredicate<JavaClass> inAllowed =
        DescribedPredicate.describe(
            "reside in " + String.join(", ", allowed),
            c -> matchers.test(c.getBaseComponentType().getPackageName()));
    return classes()
        .that()
        .resideInAPackage(layer)
        .should()
        .onlyDependOnClassesThat(JDK.or(inAllowed))
        .as(
            "classes in "
                + layer
                + " depend only on the JDK"
                + (allowed.length == 0 ? "" : " and " + String.join(", ", allowed)));
  }

  /** Classes in {@code layer} never depend on classes in {@code forbidden}. */
  static ArchRule neverDependsOn(String layer, String forbidden) {
    return noClasses()
        .that()
        .resideInAPackage(layer)
        .should()
        .dependOnClassesThat()
        .resideInAPackage(forbidden);
  }

  /**
   * Only classes in {@code allowed} call the methods named {@code methods} of class {@code owner}
   * (any overload): a one-writer rule, e.g. only the PTE writer calls Pmap's mutators.
   */
  static ArchRule onlyCalledFrom(String owner, Set<String> methods, String... allowed) {
    DescribedPredicate<JavaMethodCall> guarded =
        DescribedPredicate.describe(
            "the target is " + owner + "." + methods,
            call ->
                call.getTargetOwner().getName().equals(owner)
                    && methods.contains(call.getTarget().getName()));
    return noClasses()
        .that()
        .resideOutsideOfPackages(allowed)
        .should()
        .callMethodWhere(guarded)
        .as(
            "only classes in "
                + String.join(", ", allowed)
                + " call "
                + owner
                + "'s "
                + String.join(", ", new java.util.TreeSet<>(methods)));
  }

  /** No cycles between the packages under {@code root} (each package is one slice). */
  static ArchRule noPackageCycles(String root) {
    return slices().matching(root + ".(**)").should().beFreeOfCycles();
  }

  // ------------------------------------------------------------------ purity

  /** Every field is final, except those of the one imperative shell class (may be null: none). */
  static ArchRule fieldsAreFinal(String pkg, String shellClass) {
    var that = fields().that().areDeclaredInClassesThat().resideInAPackage(pkg);
    if (shellClass != null) {
      that = that.and().areDeclaredInClassesThat().doNotHaveFullyQualifiedName(shellClass);
    }
    return that.should().beFinal();
  }

  /**
   * The imperative shell holds the current immutable state in exactly one non-final instance field,
   * and has no other mutable field.
   */
  static ArchRule shellHasExactlyOneMutableField(String shellClass) {
    return classes()
        .that()
        .haveFullyQualifiedName(shellClass)
        .should(HAVE_EXACTLY_ONE_MUTABLE_INSTANCE_FIELD)
        .as(shellClass + " holds its state in exactly one non-final instance field");
  }

  static final ArchCondition<JavaClass> HAVE_EXACTLY_ONE_MUTABLE_INSTANCE_FIELD =
      new ArchCondition<>("have exactly one non-final field, an instance field") {
        @Override
        public void check(JavaClass c, ConditionEvents events) {
          List<JavaField> mutable =
              c.getFields().stream()
                  .filter(f -> !f.getModifiers().contains(JavaModifier.FINAL))
                  .collect(Collectors.toList());
          boolean ok =
              mutable.size() == 1 && !mutable.get(0).getModifiers().contains(JavaModifier.STATIC);
          String names =
              mutable.stream()
                  .map(
                      f ->
                          (f.getModifiers().contains(JavaModifier.STATIC) ? "static " : "")
                              + f.getName())
                  .sorted()
                  .collect(Collectors.joining(", "));
          events.add(
              new SimpleConditionEvent(
                  c,
                  ok,
                  c.getName()
                      + " has "
                      + mutable.size()
                      + " non-final field(s) ["
                      + names
                      + "]; the shell holds its state in exactly one non-final instance field"));
        }
      };

  static ArchRule noVolatileFields(String pkg) {
    return noFields()
        .that()
        .areDeclaredInClassesThat()
        .resideInAPackage(pkg)
        .should()
        .haveModifier(JavaModifier.VOLATILE);
  }

  /** Synchronized methods; synchronized blocks are invisible to ArchUnit ({@link MonitorScan}). */
  static ArchRule noSynchronizedMethods(String pkg) {
    return methods()
        .that()
        .areDeclaredInClassesThat()
        .resideInAPackage(pkg)
        .should()
        .notHaveModifier(JavaModifier.SYNCHRONIZED);
  }

  static ArchRule noJavaUtilConcurrent(String pkg) {
    return neverDependsOn(pkg, "java.util.concurrent..");
  }

  /** Threads, and thread-locals (mutable state per thread). */
  static ArchRule noThreads(String pkg) {
    return noClasses()
        .that()
        .resideInAPackage(pkg)
        .should()
        .dependOnClassesThat()
        .areAssignableTo(Thread.class)
        .orShould()
        .dependOnClassesThat()
        .areAssignableTo(ThreadLocal.class);
  }

  /**
   * Calls of Object's {@code wait}, {@code notify} and {@code notifyAll}, whatever the static type
   * of the receiver: {@code this.wait()} in class C is compiled as a call to {@code C.wait}, which
   * {@code callMethod(Object.class, "wait")} would not see.
   */
  static ArchRule noWaitOrNotify(String pkg) {
    return noClasses().that().resideInAPackage(pkg).should().callMethodWhere(WAIT_OR_NOTIFY);
  }

  private static final Map<String, Set<List<String>>> MONITOR_METHODS =
      Map.of(
          "wait", Set.of(List.of(), List.of("long"), List.of("long", "int")),
          "notify", Set.of(List.of()),
          "notifyAll", Set.of(List.of()));

  static final DescribedPredicate<JavaMethodCall> WAIT_OR_NOTIFY =
      DescribedPredicate.describe(
          "the target is Object.wait, notify or notifyAll",
          call -> {
            Set<List<String>> signatures = MONITOR_METHODS.get(call.getTarget().getName());
            return signatures != null
                && signatures.contains(
                    call.getTarget().getRawParameterTypes().stream()
                        .map(JavaClass::getName)
                        .collect(Collectors.toList()));
          });

  /** Arrays are mutable, final or not. */
  static ArchRule noArrayFields(String pkg) {
    return fields().that().areDeclaredInClassesThat().resideInAPackage(pkg).should(NOT_BE_ARRAYS);
  }

  /**
   * Compiler-generated fields are left out: an enum's {@code $VALUES} and a switch's {@code
   * $SwitchMap$…} tables are arrays, but final, private to generated code and never written after
   * class initialization.
   */
  static final ArchCondition<JavaField> NOT_BE_ARRAYS =
      new ArchCondition<>("not be arrays") {
        @Override
        public void check(JavaField f, ConditionEvents events) {
          if (f.getModifiers().contains(JavaModifier.SYNTHETIC)) {
            return;
          }
          boolean array = f.getRawType().isArray();
          events.add(
              new SimpleConditionEvent(
                  f, !array, f.getFullName() + " is an array (" + f.getRawType().getName() + ")"));
        }
      };

  /** Final is not immutable: no field may hold a mutable JDK collection or other mutable holder. */
  static ArchRule noMutableCollectionFields(String pkg) {
    return fields()
        .that()
        .areDeclaredInClassesThat()
        .resideInAPackage(pkg)
        .should(NOT_BE_MUTABLE_COLLECTIONS);
  }

  /** Mutable JDK types that are not collections. */
  static final Set<String> OTHER_MUTABLE_TYPES =
      Set.of(
          "java.util.BitSet",
          "java.util.Random",
          "java.util.SplittableRandom",
          "java.util.Scanner",
          "java.util.StringJoiner",
          "java.lang.StringBuilder",
          "java.lang.StringBuffer");

  /**
   * A field's declared type is a JDK class (not an interface) that is a {@link Collection} or a
   * {@link Map}: {@code ArrayList}, {@code HashMap}, {@code TreeSet}, {@code ArrayDeque}, {@code
   * EnumMap}… Interface types ({@code List}) are left to the other rules: pcollections' types are
   * interfaces too, and a record may hold an unmodifiable {@code List.copyOf}.
   */
  static final ArchCondition<JavaField> NOT_BE_MUTABLE_COLLECTIONS =
      new ArchCondition<>("not be mutable collections (ArrayList, HashMap, …) or builders") {
        @Override
        public void check(JavaField f, ConditionEvents events) {
          JavaClass t = f.getRawType();
          boolean mutable =
              OTHER_MUTABLE_TYPES.contains(t.getName())
                  || (t.getPackageName().startsWith("java.")
                      && !t.isInterface()
                      && (t.isAssignableTo(Collection.class) || t.isAssignableTo(Map.class)));
          events.add(
              new SimpleConditionEvent(
                  f, !mutable, f.getFullName() + " has the mutable type " + t.getName()));
        }
      };

  /** No I/O: neither java.io nor java.nio (the model answers from its state alone). */
  static ArchRule noIo(String pkg) {
    return noClasses()
        .that()
        .resideInAPackage(pkg)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("java.io..", "java.nio..");
  }
}
