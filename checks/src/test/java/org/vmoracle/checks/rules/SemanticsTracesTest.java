package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.vmoracle.checks.ProjectFiles.SEMANTICS;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.vmoracle.checks.ProjectFiles;
import org.vmoracle.spec.trace.Replay;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceParser;
import org.vmoracle.spec.trace.TraceSyntaxException;

/**
 * Every {@code ```trace} block of {@code spec/SEMANTICS.md} is replayed, with its expectations, on
 * every system, as a dynamic test named by the rule above it ({@code FORK-3 Wired private memory is
 * copied for the child}). These are the rules' own examples; the {@code *RulesTest} classes go
 * beyond them.
 *
 * <p>A block with no rule heading above it (in its {@code ##} section) fails, and so does a rule
 * book with fewer than {@link #MIN_BLOCKS} blocks: a trace that is replayed under no rule, or a
 * rule book that lost its examples, must show.
 */
class SemanticsTracesTest {

  /** The rule book has 108 rules, one example each; fewer than this means extraction broke. */
  static final int MIN_BLOCKS = 100;

  private static final Pattern RULE = Pattern.compile("^###\\s+([A-Z]+-[0-9]+)\\s+(.*?)\\s*$");

  /**
   * One example trace.
   *
   * @param rule the rule ID, or null when the block stands under no rule
   * @param title the rule's heading after its ID
   * @param firstLine the line of SEMANTICS.md holding the block's first trace line
   * @param text the block's lines, preceded by blank lines so that line numbers are those of
   *     SEMANTICS.md
   */
  record Block(String rule, String title, int firstLine, String text) {
    String name() {
      return rule + " " + title;
    }
  }

  @TestFactory
  Stream<DynamicNode> semantics_everyTraceBlock_replaysOnEverySystem() {
    List<Block> blocks = checkedBlocks(ProjectFiles.semantics());
    return RuleHarness.systems()
        .map(
            system ->
                DynamicContainer.dynamicContainer(
                    system.name(),
                    blocks.stream()
                        .map(b -> DynamicTest.dynamicTest(b.name(), () -> replay(system, b)))));
  }

  @Test
  void semantics_traceBlocks_eachUnderARuleAndAtLeast100() {
    List<Block> blocks = checkedBlocks(ProjectFiles.semantics());
    assertTrue(blocks.size() >= MIN_BLOCKS);
  }

  @Test
  void semantics_everyRule_hasATraceBlock() {
    String md = ProjectFiles.semantics();
    Set<String> withBlock =
        blocks(md).stream().map(Block::rule).collect(Collectors.toCollection(LinkedHashSet::new));
    List<String> without = new ArrayList<>();
    for (String line : md.split("\r?\n", -1)) {
      Matcher m = RULE.matcher(line);
      if (m.matches() && !withBlock.contains(m.group(1))) {
        without.add(m.group(1));
      }
    }
    assertEquals(List.of(), without, "rules of " + SEMANTICS + " without an example trace");
  }

  // ------------------------------------------------------ the extractor itself

  @Test
  void blocks_headingsAndFences_pairedByLine() {
    String md =
        String.join(
            "\n",
            "## FORK — fork",
            "### FORK-1 The child's map",
            "Text.",
            "```trace",
            "spawn 1",
            "```",
            "```java",
            "not a trace",
            "```",
            "## FILE — files",
            "```trace",
            "file f 1",
            "```");
    List<Block> blocks = blocks(md);
    assertEquals(2, blocks.size());
    assertEquals("FORK-1 The child's map", blocks.get(0).name());
    assertEquals(5, blocks.get(0).firstLine());
    assertEquals("\n\n\n\nspawn 1\n", blocks.get(0).text());
    assertEquals(null, blocks.get(1).rule(), "a block after a ## heading belongs to no rule");
  }

  // ---------------------------------------------------------------- helpers

  private static void replay(RuleHarness.NamedSystem system, Block b) {
    Trace trace;
    try {
      trace = TraceParser.parse(SEMANTICS, b.text());
    } catch (TraceSyntaxException e) {
      fail(b.rule() + ": its example is not a trace: " + e.getMessage(), e);
      return;
    }
    Replay.Report report = Replay.run(trace, system.boot().get());
    report.unmet().ifPresent(u -> fail(b.rule() + " on " + system.name() + ": " + u.message()));
  }

  /** The blocks of {@code md}, failing if one has no rule or there are too few. */
  static List<Block> checkedBlocks(String md) {
    List<Block> blocks = blocks(md);
    List<String> orphans =
        blocks.stream()
            .filter(b -> b.rule() == null)
            .map(b -> SEMANTICS + ":" + b.firstLine())
            .collect(Collectors.toList());
    assertEquals(List.of(), orphans, "trace blocks under no rule heading");
    assertTrue(
        blocks.size() >= MIN_BLOCKS,
        SEMANTICS + " has " + blocks.size() + " trace blocks; expected at least " + MIN_BLOCKS);
    return blocks;
  }

  /** Every {@code ```trace} block, with the rule heading above it in its section. */
  static List<Block> blocks(String md) {
    List<Block> out = new ArrayList<>();
    String[] lines = md.split("\r?\n", -1);
    String rule = null;
    String title = null;
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      String trimmed = line.strip();
      if (trimmed.startsWith("```")) {
        boolean isTrace = trimmed.equals("```trace");
        int first = i + 1;
        StringBuilder text = new StringBuilder("\n".repeat(first));
        i++;
        while (i < lines.length && !lines[i].strip().startsWith("```")) {
          text.append(lines[i]).append('\n');
          i++;
        }
        if (isTrace) {
          out.add(new Block(rule, title, first + 1, text.toString()));
        }
        continue;
      }
      Matcher m = RULE.matcher(line);
      if (m.matches()) {
        rule = m.group(1);
        title = m.group(2);
      } else if (line.startsWith("## ") || line.startsWith("# ")) {
        rule = null;
        title = null;
      }
    }
    return out;
  }
}
