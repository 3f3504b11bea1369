package org.vmoracle.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.pcollections.TreePMap;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/** The model's own invariant: it holds where it should and names what breaks it. */
class StateCheckTest {
  private static final long A = Boot.MMAP_BASE;

  private static State run(Op... ops) {
    State s = Model.boot();
    for (Op op : ops) {
      s = Model.step(s, op).state();
    }
    return s;
  }

  private static final State FORKED =
      run(
          new Op.Spawn(1),
          new Op.Mmap(1, A, 2, Prot.RW, Sharing.PRIVATE, new Source.Anon(), true),
          new Op.Write(1, A, 5),
          new Op.Fork(1, 2));

  @Test
  void violation_reachedStates_holdTheInvariant() {
    assertEquals(Optional.empty(), StateCheck.violation(Model.boot()));
    assertEquals(Optional.empty(), StateCheck.violation(FORKED));
  }

  @Test
  void violation_overlappingRegions_isNamed() {
    int space = FORKED.processes().get(1);
    TreePMap<Long, Region> regions = FORKED.spaces().get(space);
    Region r = regions.get(A);
    State broken = FORKED.withSpace(space, regions.plus(A + 4096, r));
    assertTrue(
        StateCheck.violation(broken).orElse("").contains("region"),
        "" + StateCheck.violation(broken));
  }

  @Test
  void violation_pidOfAGoneSpace_isNamed() {
    State broken = FORKED.withProcesses(FORKED.processes().plus(3, 999));
    assertTrue(StateCheck.violation(broken).orElse("").contains("pid 3"));
  }

  @Test
  void violation_runsThatAreNotTheUnion_isNamed() {
    int space = FORKED.processes().get(1);
    State broken = FORKED.withUnmapped(space, FORKED.spaces().get(space), A, A + 4096);
    assertTrue(StateCheck.violation(broken).orElse("").contains("runs"));
  }

  @Test
  void residue_anonymousMemoryOfALiveProcess_isNamed_andGoneAfterEveryExit() {
    // PROC-5: what every process leaves is files and segments only.
    assertTrue(StateCheck.residue(FORKED).isPresent());
    State gone =
        run(
            new Op.Spawn(1),
            new Op.Mmap(1, A, 2, Prot.RW, Sharing.PRIVATE, new Source.Anon(), true),
            new Op.Exit(1));
    assertEquals(Optional.empty(), StateCheck.residue(gone));
  }

  @Test
  void objectAt_shareInheritedOverlay_isOneObjectInBothSpaces() {
    // INH-2: a private range inherited as share is one overlay in both spaces.
    State s =
        run(
            new Op.Spawn(1),
            new Op.Mmap(1, A, 2, Prot.RW, Sharing.PRIVATE, new Source.Anon(), true),
            new Op.Minherit(1, A, 2, Inherit.SHARE),
            new Op.Fork(1, 2));
    assertEquals(StateCheck.objectAt(s, 1, A), StateCheck.objectAt(s, 2, A));
    assertFalse(StateCheck.objectAt(FORKED, 1, A) == StateCheck.objectAt(FORKED, 2, A));
    assertEquals(-1, StateCheck.objectAt(s, 1, A + 8192));
  }
}
