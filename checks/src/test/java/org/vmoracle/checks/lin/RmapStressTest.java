package org.vmoracle.checks.lin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;

/**
 * The reverse map's stress: every design keeps its records right under two threads making and
 * removing PTEs of one page (V1, V2, C1, C2), and the pv design without its list lock does not.
 */
class RmapStressTest {

  @ParameterizedTest
  @EnumSource(Config.Rmap.class)
  void run_everyDesign_keepsItsRecords(Config.Rmap kind) {
    Config c = Config.defaults().withFrames(256).withRmap(kind);
    RmapStress.Report r = RmapStress.run(c, 2, 1, 1.5, line -> {});
    assertEquals(Optional.empty(), r.finding());
    assertTrue(r.rounds() > 0 && r.changes() >= r.rounds() * RmapStress.ROUND, r.toString());
  }

  @org.junit.jupiter.api.Test
  void run_chainsCollapsingToDirect_keepTheirRecords() {
    Config c =
        Config.defaults()
            .withFrames(256)
            .withRmap(Config.Rmap.PTECHAIN)
            .with(Config.Switch.CHAIN_COLLAPSE_TO_DIRECT, true);
    assertEquals(Optional.empty(), RmapStress.run(c, 2, 2, 1.5, line -> {}).finding());
  }

  @org.junit.jupiter.api.Test
  void run_pvInsertWithoutTheListLock_isCaught() {
    Config c =
        Config.defaults().withFrames(256).withRmap(Config.Rmap.PV).withBug(Bug.PV_UNLOCKED_INSERT);
    RmapStress.Report r = RmapStress.run(c, 2, 3, 30, line -> {});
    assertTrue(r.finding().isPresent(), r.toString());
  }
}
