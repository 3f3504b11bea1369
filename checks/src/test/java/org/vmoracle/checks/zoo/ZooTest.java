package org.vmoracle.checks.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vmoracle.checks.gen.Profile;
import org.vmoracle.checks.shrink.Subject;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.trace.TraceLine;
import org.vmoracle.spec.trace.TraceParser;

/** The zoo's table covers every injected bug, and a bug it hunts is caught with a reproducer. */
class ZooTest {

  @TempDir Path dir;

  @Test
  void table_everyBug_hasACheck() {
    List<Bug> without = new ArrayList<>();
    for (Bug b : Bug.values()) {
      if (Zoo.check(b).isEmpty()) {
        without.add(b);
      }
    }
    assertEquals(
        List.of(), without, "bugs with no entry in Zoo.TABLE: add one line each (see its javadoc)");
  }

  @Test
  void check_sequentialOrConcurrent_sayItsHuntOptions() {
    assertEquals("--profile fork", Zoo.Check.lockstep(Profile.FORK).options());
    assertEquals("--threads 2 --burst 16", Zoo.Check.concurrent(2, 16).options());
    assertThrows(IllegalArgumentException.class, () -> new Zoo.Check(Profile.FORK, 2, 0));
    assertThrows(IllegalArgumentException.class, () -> new Zoo.Check(Profile.FORK, 1, 4));
    assertThrows(IllegalArgumentException.class, () -> new Zoo.Check(null, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> new Zoo.Check(null, 2, 0));
  }

  /**
   * STALE_PTE_AFTER_MUNMAP is caught within the first hundred operations of seed 1; the reproducer
   * written diverges on the implementation with the bug and agrees on the one without.
   */
  @Test
  void run_stalePteAfterMunmap_caughtWithAReproducerThatNeedsTheBug() throws Exception {
    Bug bug = Bug.STALE_PTE_AFTER_MUNMAP;
    Zoo.Verdict v = Zoo.run(bug, 20, 1, dir);

    assertTrue(v.caught(), v.toString());
    Zoo.Check c = Zoo.check(bug).orElseThrow();
    assertEquals(c, v.check().orElseThrow());
    assertTrue(v.operations() > 0 && v.operations() < 5_000, v.toString());
    assertTrue(v.seconds() < 20, v.toString());
    Path file = v.file().orElseThrow();
    assertTrue(file.startsWith(dir), file.toString());
    String text = Files.readString(file, StandardCharsets.UTF_8);
    assertTrue(text.contains("# injected bugs on: STALE_PTE_AFTER_MUNMAP"), text);

    List<Op> ops = new ArrayList<>();
    for (TraceLine l : TraceParser.parse(file.toString(), text).lines()) {
      ops.add(l.op());
    }
    assertEquals(v.reproducer().orElseThrow(), ops.size());
    Config config = c.profile().config();
    assertTrue(Subject.lockstep(config.withBug(bug)).run(ops, 1).isPresent(), text);
    assertFalse(Subject.lockstep(config).run(ops, 1).isPresent(), text);
  }
}
