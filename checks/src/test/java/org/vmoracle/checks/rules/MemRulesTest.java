package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS_AT_BOTH_ENDS;
import static org.vmoracle.checks.rules.RuleHarness.assertViewEquals;
import static org.vmoracle.checks.rules.RuleHarness.boot;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;
import org.vmoracle.spec.View;

/**
 * MEM-*: running out of memory. The model never answers an exhaustion failure; a system that may
 * (the implementation) must then have changed nothing.
 */
class MemRulesTest {

  /** One operation of every kind, with the exhaustion failure MEM-1 and MEM-2 give it. */
  static Map<Op, Optional<Errno>> everyKind() {
    Map<Op, Optional<Errno>> m = new TreeMap<>((a, b) -> a.toString().compareTo(b.toString()));
    Optional<Errno> enomem = Optional.of(Errno.ENOMEM);
    m.put(new Op.Spawn(1), enomem);
    m.put(new Op.Fork(1, 2), enomem);
    m.put(new Op.Clone(1, 2), enomem);
    m.put(new Op.Exec(1, "static"), enomem);
    m.put(new Op.Exit(1), Optional.empty());
    m.put(new Op.Mmap(1, 0, 1, Prot.RW, Sharing.PRIVATE, new Source.Anon(), false), enomem);
    m.put(new Op.Munmap(1, 0x10000000L, 1), enomem);
    m.put(new Op.Mprotect(1, 0x10000000L, 1, Prot.R), enomem);
    m.put(new Op.Minherit(1, 0x10000000L, 1, Inherit.NONE), enomem);
    m.put(new Op.Mlock(1, 0x10000000L, 1), Optional.of(Errno.EAGAIN));
    m.put(new Op.Munlock(1, 0x10000000L, 1), enomem);
    m.put(new Op.Read(1, 0x10000000L), Optional.of(Errno.OOM));
    m.put(new Op.Write(1, 0x10000000L, 1), Optional.of(Errno.OOM));
    m.put(new Op.File("f", 1), enomem);
    m.put(new Op.Fwrite("f", 0, 1), enomem);
    m.put(new Op.Fread("f", 0), enomem);
    m.put(new Op.Shmget(1, 1), enomem);
    m.put(new Op.Shmrm(1), Optional.empty());
    m.put(new Op.Pageout(1), Optional.empty());
    m.put(new Op.Collapse(1, 0x10000000L), enomem);
    return m;
  }

  // MEM-1, MEM-2, WIRE-7
  @Test
  void exhaustion_everyOperationKind_emptyExactlyForExitShmrmPageout() {
    Map<Op, Optional<Errno>> kinds = everyKind();
    Set<String> covered = new TreeSet<>();
    for (Op op : kinds.keySet()) {
      covered.add(op.getClass().getSimpleName());
    }
    Set<String> all = new TreeSet<>();
    Arrays.stream(Op.class.getPermittedSubclasses()).forEach(c -> all.add(c.getSimpleName()));
    assertEquals(all, covered, "one operation of every kind");
    Set<String> none = new TreeSet<>();
    for (Map.Entry<Op, Optional<Errno>> e : kinds.entrySet()) {
      assertEquals(e.getValue(), e.getKey().exhaustion(), e.getKey().toString());
      if (e.getKey().exhaustion().isEmpty()) {
        none.add(e.getKey().getClass().getSimpleName());
      }
    }
    assertEquals(Set.of("Exit", "Shmrm", "Pageout"), none);
  }

  // MEM-1, MEM-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS_AT_BOTH_ENDS)
  void randomOperations_smallAddressRange_neverOomOrEagainUnlessNothingChanged(NamedSystem sys) {
    for (long seed = 1; seed <= 4; seed++) {
      runRandom(sys, seed, 1000);
    }
  }

  private static void runRandom(NamedSystem sys, long seed, int steps) {
    Run run = boot(sys);
    List<Op> done = new ArrayList<>(RandomOps.setup());
    done.forEach(run::apply);
    RandomOps ops = new RandomOps(seed, true);
    for (int i = 0; i < steps; i++) {
      Op op = ops.next();
      View before = sys.mayRunOut() ? run.view() : null;
      Result r = run.apply(op);
      done.add(op);
      boolean exhausted =
          r instanceof Result.Failed
              && (((Result.Failed) r).errno() == Errno.OOM
                  || ((Result.Failed) r).errno() == Errno.EAGAIN);
      if (!exhausted) {
        continue;
      }
      String where = "seed " + seed + " step " + i + ": " + op + " -> " + r + "\n" + trace(done);
      if (!sys.mayRunOut()) {
        fail(sys.name() + " never runs out of memory (MEM-1, MEM-2), but " + where);
      }
      assertEquals(op.exhaustion(), Optional.of(((Result.Failed) r).errno()), where);
      assertViewEquals(before, run.view(), where);
    }
  }

  private static String trace(List<Op> ops) {
    StringBuilder sb = new StringBuilder();
    for (Op op : ops) {
      sb.append(op).append('\n');
    }
    return sb.toString();
  }
}
