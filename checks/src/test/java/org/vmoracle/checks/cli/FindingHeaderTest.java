package org.vmoracle.checks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.vmoracle.checks.hunt.ConfigText;
import org.vmoracle.checks.hunt.FindingFile;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;

/** The {@code # vmoracle:} line of a finding's header, as replay reads it back. */
class FindingHeaderTest {

  private static Optional<FindingHeader> read(String text) throws FindingHeader.BadHeader {
    return FindingHeader.read(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void read_whatAFindingFileWrites_givesBackItsSystemBugsAndConfig() throws Exception {
    Config c =
        Config.defaults()
            .withFrames(128)
            .withSwapSlots(2048)
            .withPrunePageTables(false)
            .withBug(Bug.FORK_NO_WRITE_PROTECT)
            .withBug(Bug.COLLAPSE_DROPS_FILE);
    String line = FindingFile.OPTIONS_MARK + " " + FindingFile.replayOptions(c);
    FindingHeader h = read("# a finding\r\n#\r\n" + line + "\r\n\r\nspawn 1\r\n").orElseThrow();
    assertEquals(3, h.line());
    assertEquals(Optional.of(SystemChoice.BOTH), h.system());
    assertEquals(List.of(Bug.COLLAPSE_DROPS_FILE, Bug.FORK_NO_WRITE_PROTECT), h.bugs());
    Config back =
        ConfigText.applyAll(
            BugNames.withAll(SystemChoice.REPLAY_CONFIG, h.bugs()), h.impl().settings());
    assertEquals(c, back);
  }

  @Test
  void read_noOptionsLine_empty() throws Exception {
    assertEquals(Optional.empty(), read("# vmoracle hunt finding: profile mixed\nspawn 1\n"));
    assertEquals(Optional.empty(), read(""));
  }

  @Test
  void read_optionsLineAfterTheFirstOperation_notAHeader() throws Exception {
    assertEquals(Optional.empty(), read("spawn 1\n# vmoracle: --system both\n"));
  }

  @Test
  void read_bugInAnyCase_accepted() throws Exception {
    assertEquals(
        List.of(Bug.STALE_PTE_AFTER_MUNMAP),
        read("  # vmoracle: --bug stale-pte-after-munmap\n").orElseThrow().bugs());
  }

  @Test
  void read_unknownOption_badHeaderNamingTheLine() {
    FindingHeader.BadHeader e =
        assertThrows(FindingHeader.BadHeader.class, () -> read("#\n# vmoracle: --sytem both\n"));
    assertEquals(2, e.line);
    assertTrue(e.getMessage().contains("--sytem"), e.getMessage());
  }

  @Test
  void read_badConfigValue_badHeaderSayingWhatTheKeyTakes() {
    FindingHeader.BadHeader e =
        assertThrows(
            FindingHeader.BadHeader.class, () -> read("# vmoracle: --config frames=few\n"));
    assertTrue(e.getMessage().contains("frames must be a whole number"), e.getMessage());
  }

  @Test
  void read_twoOptionsLines_rejected() {
    FindingHeader.BadHeader e =
        assertThrows(
            FindingHeader.BadHeader.class,
            () -> read("# vmoracle: --system both\n# vmoracle: --bug UNLOCKED_FAULTS\n"));
    assertEquals(2, e.line);
  }
}
