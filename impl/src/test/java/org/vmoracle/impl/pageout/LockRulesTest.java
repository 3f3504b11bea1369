package org.vmoracle.impl.pageout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.vmoracle.impl.core.Config;
import org.vmoracle.impl.core.Machine;

/**
 * Lock rules are assertions, so a caller that breaks one fails at once under {@code -ea} (as the
 * tests run): pageout without the map lock exclusive, in either lock mode.
 */
class LockRulesTest {

  @Test
  void pageout_withoutTheExclusiveLock_assertionFails() {
    boolean enabled = false;
    assert enabled = true; // assertions on, or this test shows nothing
    assertTrue(enabled, "the tests run with -ea");
    for (boolean scalable : new boolean[] {true, false}) {
      Machine m = new Machine(Config.defaults().withFrames(64).withScalableReads(scalable));
      AssertionError e = assertThrows(AssertionError.class, () -> new Pageout().run(m, 1));
      assertTrue(e.getMessage().contains("map lock exclusive"), e.getMessage());
      m.lock.writeLock();
      try {
        assertEquals(0, new Pageout().run(m, 1), "nothing to evict");
      } finally {
        m.lock.writeUnlock();
      }
    }
  }
}
