package org.vmoracle.checks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.vmoracle.checks.hunt.FindingFile;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParameterException;

/**
 * {@code --rmap KIND} and {@code --config rmap=KIND}: the reverse map chosen in any case, a bad one
 * refused naming the kinds, and a finding's header giving back the reverse map and the
 * chain-collapse switch it was found on.
 */
class ImplOptionsTest {

  @Command(name = "test")
  static final class Options {
    @Mixin ImplOptions impl;
  }

  private static Config parse(String... args) {
    Options o = new Options();
    new CommandLine(o).parseArgs(args);
    return o.impl.applyTo(Config.defaults());
  }

  @Test
  void rmap_anyCase_choosesTheReverseMap() {
    assertEquals(Config.Rmap.BACKING, parse().rmap());
    assertEquals(Config.Rmap.PV, parse("--rmap", "pv").rmap());
    assertEquals(Config.Rmap.PV, parse("--rmap", "PV").rmap());
    assertEquals(Config.Rmap.PTECHAIN, parse("--rmap", "PteChain").rmap());
    assertEquals(Config.Rmap.PTECHAIN, parse("--config", "RMAP=ptechain").rmap());
    assertEquals(Config.Rmap.BACKING, parse("--rmap", "backing").rmap());
  }

  @Test
  void rmap_overConfigRmap_winsInEitherOrder() {
    assertEquals(Config.Rmap.PV, parse("--rmap", "pv", "--config", "rmap=ptechain").rmap());
    assertEquals(Config.Rmap.PV, parse("--config", "rmap=ptechain", "--rmap", "pv").rmap());
  }

  @Test
  void rmap_unknownKind_usageErrorNamingTheKinds() {
    for (String[] args :
        new String[][] {{"--rmap", "chains"}, {"--config", "rmap=chains"}, {"--rmap", ""}}) {
      ParameterException e = assertThrows(ParameterException.class, () -> parse(args));
      assertTrue(
          e.getMessage().contains("rmap must be one of backing, pv, ptechain, not '"),
          e.getMessage());
    }
  }

  @Test
  void chainCollapseToDirect_onOrOff_setsTheSwitch() {
    assertTrue(parse("--config", "rmap=ptechain,chainCollapseToDirect=on").chainCollapseToDirect());
    assertEquals(false, parse("--config", "chainCollapseToDirect=false").chainCollapseToDirect());
  }

  @Test
  void findingHeader_everyKindAndChainCollapse_roundTrip() throws Exception {
    for (Config.Rmap r : Config.Rmap.values()) {
      for (boolean collapse : new boolean[] {false, true}) {
        Config c =
            Config.defaults()
                .withFrames(2048)
                .withSwapSlots(4096)
                .withRmap(r)
                .with(Config.Switch.CHAIN_COLLAPSE_TO_DIRECT, collapse)
                .withBug(Bug.CHAIN_HEAD_MOVE_DROPS);
        String line = FindingFile.OPTIONS_MARK + " " + FindingFile.replayOptions(c);
        assertEquals(r != Config.Rmap.BACKING, line.contains(",rmap=" + r.word()), line);
        assertEquals(collapse, line.contains(",chainCollapseToDirect=true"), line);
        FindingHeader h =
            FindingHeader.read((line + "\nspawn 1\n").getBytes(StandardCharsets.UTF_8))
                .orElseThrow();
        Config back = h.impl().applyTo(BugNames.withAll(SystemChoice.REPLAY_CONFIG, h.bugs()));
        assertEquals(c, back, line);
      }
    }
  }
}
