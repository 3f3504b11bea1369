package org.vmoracle.checks.exhaust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.vmoracle.model.Model;
import org.vmoracle.model.Outcome;
import org.vmoracle.model.State;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * The model's own properties hold on the model's steps and fail on steps it does not take: each is
 * fed an outcome of another operation than the one named, as a broken model would give.
 */
class ModelPropertiesTest {
  private static final long A = Boot.MMAP_BASE;

  private static State run(Op... ops) {
    State s = Model.boot();
    for (Op op : ops) {
      s = Model.step(s, op).state();
    }
    return s;
  }

  private static final State TWO =
      run(
          new Op.Spawn(1),
          new Op.Mmap(1, A, 2, Prot.RW, Sharing.PRIVATE, new Source.Anon(), true),
          new Op.Write(1, A, 5),
          new Op.Fork(1, 2));

  @Test
  void pageout_thatChangedAWord_breaksSys1() {
    Outcome store = Model.step(TWO, new Op.Write(1, A, 9));
    assertEquals(
        Optional.empty(),
        ModelProperties.ofStep(TWO, new Op.Pageout(10), Model.step(TWO, new Op.Pageout(10))));
    assertTrue(
        ModelProperties.ofStep(TWO, new Op.Pageout(10), store).orElse("").startsWith("SYS-1"));
  }

  @Test
  void storeIntoPrivateMemory_seenByAnotherSpace_breaksIsolation() {
    // COW-2: pid 1's store is its own; an outcome where pid 2's word changed instead is not.
    Op mine = new Op.Write(1, A, 9);
    assertEquals(Optional.empty(), ModelProperties.ofStep(TWO, mine, Model.step(TWO, mine)));
    Outcome theirs = Model.step(TWO, new Op.Write(2, A, 9));
    assertTrue(ModelProperties.ofStep(TWO, mine, theirs).orElse("").startsWith("isolation"));
  }

  @Test
  void storeIntoAnOverlaySharedByInheritance_isSeenByBoth_andHolds() {
    // INH-2: a private range inherited as share is one memory in both spaces.
    State s =
        run(
            new Op.Spawn(1),
            new Op.Mmap(1, A, 2, Prot.RW, Sharing.PRIVATE, new Source.Anon(), true),
            new Op.Minherit(1, A, 2, Inherit.SHARE),
            new Op.Fork(1, 2));
    Op store = new Op.Write(1, A, 9);
    Outcome o = Model.step(s, store);
    assertEquals(9L, Model.view(o.state()).processes().get(2).words().get(A));
    assertEquals(Optional.empty(), ModelProperties.ofStep(s, store, o));
  }

  @Test
  void unmapOfOneProcess_thatUnmapsAnother_breaksIsolation() {
    Op mine = new Op.Munmap(1, A, 2);
    assertEquals(Optional.empty(), ModelProperties.ofStep(TWO, mine, Model.step(TWO, mine)));
    Outcome theirs = Model.step(TWO, new Op.Munmap(2, A, 2));
    assertTrue(ModelProperties.ofStep(TWO, mine, theirs).orElse("").contains("maps"));
  }

  @Test
  void failure_thatChangedSomething_breaksErr1() {
    Op bad = new Op.Munmap(1, A + 1, 1); // misaligned: EINVAL (UNMAP-4)
    Outcome failed = Model.step(TWO, bad);
    assertEquals(Optional.empty(), ModelProperties.ofStep(TWO, bad, failed));
    Outcome lie = new OutcomeOf(Model.step(TWO, new Op.Write(1, A, 9)).state(), failed).get();
    assertTrue(ModelProperties.ofStep(TWO, bad, lie).orElse("").startsWith("ERR-1"));
  }

  @Test
  void everyReachedState_leavesOnlyFilesAfterEveryExit() {
    // PROC-5
    assertEquals(Optional.empty(), ModelProperties.ofState(TWO));
  }

  /** An outcome with another state than the one the model gave, as a broken model would. */
  private record OutcomeOf(State state, Outcome model) {
    Outcome get() {
      return new Outcome(state, model.result());
    }
  }
}
