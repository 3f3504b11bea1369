package org.vmoracle.checks.hunt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.vmoracle.impl.core.Config;

/** {@code --config KEY=VALUE}: every field of {@link Config} by its name, and what is wrong. */
class ConfigTextTest {

  @Test
  void parse_everyKey_setsItsField() {
    Config c =
        ConfigText.applyAll(
            Config.defaults(),
            List.of(
                ConfigText.parse("frames=100"),
                ConfigText.parse("swapSlots=7"),
                ConfigText.parse("collapseDepth=3"),
                ConfigText.parse("pmapEarlyReturn=false"),
                ConfigText.parse("scalableReads=off"),
                ConfigText.parse("unmapUnderSharedLock=false"),
                ConfigText.parse("prunePageTables=false"),
                ConfigText.parse("placementHint=off"),
                ConfigText.parse("lookupHints=off"),
                ConfigText.parse("batchStealing=off"),
                ConfigText.parse("busyOnAllocate=off"),
                ConfigText.parse("wireSuperpages=off")));
    assertEquals(
        new Config(100, 7, 3, Config.Rmap.BACKING, java.util.Set.of(), Config.defaults().bugs()),
        c);
  }

  @Test
  void parse_keyInAnyCaseWithDashesOrUnderscores_accepted() {
    for (String k : List.of("swapSlots", "SWAPSLOTS", "swap-slots", "swap_slots", " swapslots ")) {
      assertEquals(ConfigText.Key.SWAP_SLOTS, ConfigText.parse(k + "=1").key(), k);
    }
  }

  @Test
  void parse_unknownKey_namesEveryKey() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ConfigText.parse("fram=100"));
    assertEquals(
        "unknown key 'fram': expected one of frames, swapSlots, collapseDepth, rmap,"
            + " pmapEarlyReturn, scalableReads, unmapUnderSharedLock, prunePageTables,"
            + " placementHint, lookupHints, batchStealing, busyOnAllocate, wireSuperpages,"
            + " sharePageTables, chainCollapseToDirect"
            + " (see --help)",
        e.getMessage());
  }

  @Test
  void parse_badValues_sayWhatTheKeyTakes() {
    assertEquals(
        "frames must be a whole number from 16 to 4,194,304, not 'lots'",
        assertThrows(IllegalArgumentException.class, () -> ConfigText.parse("frames=lots"))
            .getMessage());
    assertEquals(
        "frames must be a whole number from 16 to 4,194,304, not 8",
        assertThrows(IllegalArgumentException.class, () -> ConfigText.parse("frames=8"))
            .getMessage());
    assertEquals(
        "collapseDepth must be a whole number, at least 1, not 0",
        assertThrows(IllegalArgumentException.class, () -> ConfigText.parse("collapseDepth=0"))
            .getMessage());
    assertEquals(
        "pmapEarlyReturn must be true or false, not 'maybe'",
        assertThrows(
                IllegalArgumentException.class, () -> ConfigText.parse("pmapEarlyReturn=maybe"))
            .getMessage());
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> ConfigText.parse("frames"))
            .getMessage()
            .startsWith("'frames' is not KEY=VALUE"));
  }

  @Test
  void describe_sizesAlwaysAndSwitchesThatAreOff_rebuildTheConfigFromAnyBase() {
    Config c = Config.defaults().withFrames(128).withSwapSlots(2048).withScalableReads(false);
    List<ConfigText.Setting> d = ConfigText.describe(c);
    assertEquals(
        "frames=128,swapSlots=2048,collapseDepth=5,scalableReads=false", ConfigText.join(d));
    Config other = Config.defaults().withFrames(16).withCollapseDepth(9);
    assertEquals(c, ConfigText.applyAll(other, d));
  }

  @Test
  void parse_rmapInAnyCase_setsTheReverseMap() {
    for (String v : List.of("pv", "PV", "Pv", " pv ")) {
      ConfigText.Setting st = ConfigText.parse("rmap=" + v);
      assertEquals(ConfigText.Key.RMAP, st.key(), v);
      assertEquals(Config.Rmap.PV, st.applyTo(Config.defaults()).rmap(), v);
    }
    assertEquals(
        Config.Rmap.PTECHAIN, ConfigText.parse("RMAP=PteChain").applyTo(Config.defaults()).rmap());
    assertEquals(
        Config.Rmap.BACKING,
        ConfigText.parse("rmap=backing")
            .applyTo(Config.defaults().withRmap(Config.Rmap.PV))
            .rmap());
    assertEquals("rmap=ptechain", ConfigText.parse("rmap=PTECHAIN").toString());
  }

  @Test
  void parse_badRmap_namesEveryKind() {
    assertEquals(
        "rmap must be one of backing, pv, ptechain, not 'chains'",
        assertThrows(IllegalArgumentException.class, () -> ConfigText.parse("rmap=chains"))
            .getMessage());
    assertEquals(
        "rmap must be one of backing, pv, ptechain, not ''",
        assertThrows(IllegalArgumentException.class, () -> ConfigText.parse("rmap=")).getMessage());
  }

  @Test
  void describe_rmapOnlyWhenNotBackingAndChainCollapseOnlyWhenOn() {
    assertEquals(
        "frames=65536,swapSlots=65536,collapseDepth=5",
        ConfigText.join(ConfigText.describe(Config.defaults())));
    assertEquals(
        "frames=65536,swapSlots=65536,collapseDepth=5,rmap=pv",
        ConfigText.join(ConfigText.describe(Config.defaults().withRmap(Config.Rmap.PV))));
    Config chains =
        Config.defaults()
            .withRmap(Config.Rmap.PTECHAIN)
            .with(Config.Switch.CHAIN_COLLAPSE_TO_DIRECT, true);
    assertEquals(
        "frames=65536,swapSlots=65536,collapseDepth=5,rmap=ptechain,chainCollapseToDirect=true",
        ConfigText.join(ConfigText.describe(chains)));
    Config other = Config.defaults().withRmap(Config.Rmap.PV).withFrames(16);
    assertEquals(chains, ConfigText.applyAll(other, ConfigText.describe(chains)));
    assertEquals(
        Config.defaults(),
        ConfigText.applyAll(
            Config.defaults().withFrames(16), ConfigText.describe(Config.defaults())));
  }

  @Test
  void changes_onlyTheKeysThatDiffer() {
    Config base = Config.defaults().withFrames(2048);
    assertEquals(List.of(), ConfigText.changes(base, base));
    assertEquals(
        "frames=64,prunePageTables=false",
        ConfigText.join(ConfigText.changes(base, base.withFrames(64).withPrunePageTables(false))));
  }

  @Test
  void keys_everySwitchOfConfig_hasOne() {
    // A new Config.Switch is reachable from --config and written in finding headers.
    for (Config.Switch sw : Config.Switch.values()) {
      assertEquals(
          1,
          java.util.Arrays.stream(ConfigText.Key.values())
              .filter(k -> k.word.equals(sw.word()))
              .count(),
          sw.word());
    }
  }
}
