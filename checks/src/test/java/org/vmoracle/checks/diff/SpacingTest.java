package org.vmoracle.checks.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/** How replays space their checks by default: by a base interval and the state's size. */
class SpacingTest {

  /** The steps after which checks come, over {@code steps} steps of a state of {@code work}. */
  private static int checks(Spacing s, long steps, long work) {
    int n = 0;
    for (long step = 0; step < steps; step++) {
      if (s.due(step)) {
        n++;
        s.checked(step, work);
      }
    }
    return n;
  }

  @Test
  void spacing_smallState_checksEveryBaseStep() {
    assertEquals(100, checks(new Spacing(1), 100, 10));
    assertEquals(10, checks(new Spacing(10), 100, 10));
  }

  @Test
  void spacing_largeState_checksFurtherApartOnceCheckingIsNoLongerFree() {
    long work = Spacing.FREE_WORK / 100; // checks at steps 0 to 99, then every gap steps
    long gap = work / Spacing.WORK_PER_STEP;
    assertEquals(100 + (9_999 - 99) / gap, checks(new Spacing(1), 10_000, work));
    assertEquals(1, checks(new Spacing(1), 10_000, Long.MAX_VALUE), "the first check, then none");
  }

  @Test
  void everyStep_trueUntilAGapOfMoreThanOne() {
    Spacing s = new Spacing(1);
    assertEquals(10, checks(s, 10, 10));
    assertTrue(s.everyStep());
    checks(s, 20, Spacing.FREE_WORK); // spends the free budget, then spaces out
    assertFalse(s.everyStep());
    assertFalse(new Spacing(2).everyStep());
  }

  @Test
  void spacing_baseBelowOne_refused() {
    assertThrows(IllegalArgumentException.class, () -> new Spacing(0));
  }

  @Test
  void lockstep_spacedChecks_stillSeeADifferenceAtTheEnd() {
    // With checks spaced out, a broken state is still caught: by a later check or checkNow.
    Spacing s = new Spacing(1000);
    Lockstep both =
        new Lockstep(
            new ImplVm(Config.defaults().withFrames(1024).withBug(Bug.STALE_PTE_AFTER_MUNMAP)), s);
    both.apply(new Op.Spawn(1));
    both.apply(new Op.Mmap(1, 0, 4, Prot.RW, Sharing.PRIVATE, new Source.Anon(), false));
    both.apply(new Op.Write(1, 0x10000000L, 1));
    both.apply(new Op.Munmap(1, 0x10000000L, 4));
    assertFalse(s.due(4), "no check yet");
    Divergence d = assertThrows(Divergence.class, both::checkNow);
    assertTrue(
        d.kind() == Divergence.Kind.INVARIANT || d.kind() == Divergence.Kind.VIEW, d.toString());
  }
}
