package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.vmoracle.checks.ProjectFiles;

/**
 * Every rule of {@code spec/SEMANTICS.md} is cited by some test (STYLE.md, "The vocabulary"): its
 * ID appears as a whole word in a {@code *.java} file under some module's {@code src/test/java}, in
 * a test's name or a comment ({@code // FORK-3}). A rule with no test shows here, by ID.
 *
 * <p>A rule is defined by a Markdown heading that starts with its ID ({@code ### FORK-3 Title}),
 * outside fenced code blocks. This file itself is not scanned: the IDs in its examples cite
 * nothing.
 */
class RuleCoverageTest {

  /** At least this many rules: SEMANTICS.md is the whole contract, not a sketch. */
  static final int MIN_RULES = 60;

  static final Pattern HEADING = Pattern.compile("^#+\\s*([A-Z]+-[0-9]+)");

  /** An ID as a whole word: not part of {@code FORK-30} nor {@code XFORK-3}. */
  static final Pattern CITATION = Pattern.compile("\\b[A-Z]+-[0-9]+\\b");

  @Test
  void semantics_ruleCount_atLeastSixty() {
    List<String> ids = definedIds(ProjectFiles.semantics());
    assertTrue(
        ids.size() >= MIN_RULES,
        ProjectFiles.SEMANTICS
            + " defines "
            + ids.size()
            + " rules; it should define at least "
            + MIN_RULES);
  }

  @Test
  void semantics_ruleIds_unique() {
    Map<String, Long> counts =
        definedIds(ProjectFiles.semantics()).stream()
            .collect(Collectors.groupingBy(id -> id, TreeMap::new, Collectors.counting()));
    counts.values().removeIf(n -> n == 1);
    assertEquals(
        Map.of(), counts, ProjectFiles.SEMANTICS + ": rule IDs defined more than once (ID=times)");
  }

  @Test
  void everyRule_tests_citeIt() throws IOException {
    Path root = ProjectFiles.root();
    Set<String> cited = citations(root);
    Set<String> uncited = new TreeSet<>(new RuleOrder());
    for (String id : definedIds(ProjectFiles.semantics())) {
      if (!cited.contains(id)) {
        uncited.add(id);
      }
    }
    assertTrue(
        uncited.isEmpty(),
        uncited.size()
            + " rules of "
            + ProjectFiles.SEMANTICS
            + " are cited by no test (name them in a test's name or a comment, e.g. // FORK-3): "
            + uncited);
  }

  // ------------------------------------------------------ the scanner itself

  @Test
  void definedIds_headingsOutsideCodeFences_only() {
    String md =
        String.join(
            "\n",
            "# vmoracle semantics",
            "## FORK — fork",
            "### FORK-1 The child gets a copy",
            "Text that mentions FORK-9 is no definition.",
            "```trace",
            "# FORK-7 a comment in a trace, no heading",
            "```",
            "#### FORK-2",
            "###FILE-10 No space is fine too");
    assertEquals(List.of("FORK-1", "FORK-2", "FILE-10"), definedIds(md));
  }

  @Test
  void citationsIn_wholeWordsOnly() {
    assertEquals(
        Set.of("FORK-3", "FILE-7"),
        citationsIn("void fork_x() {} // FORK-3, FORK_30, XFORK-3x, see FILE-7."));
    assertEquals(Set.of("FORK-30"), citationsIn("FORK-30"));
  }

  // ---------------------------------------------------------------- helpers
  /** Rule IDs in the order defined, duplicates kept. */
  static List<String> definedIds(String markdown) {
    List<String> ids = new ArrayList<>();
    boolean inFence = false;
    for (String line : markdown.split("\r?\n", -1)) {
      if (line.stripLeading().startsWith("```") || line.stripLeading().startsWith("~~~")) {
        inFence = !inFence;
        continue;
      }
      Matcher m = HEADING.matcher(line);
      if (!inFence && m.find()) {
        ids.add(m.group(1));
      }
    }
    return ids;
  }

  /** Every ID cited in every test source of every module, this file left out. */
  static Set<String> citations(Path root) throws IOException {
    Set<String> cited = new LinkedHashSet<>();
    List<Path> testRoots;
    try (Stream<Path> modules = Files.list(root)) {
      testRoots =
          modules
              .map(m -> m.resolve("src/test/java"))
              .filter(Files::isDirectory)
              .collect(Collectors.toList());
    }
    for (Path testRoot : testRoots) {
      List<Path> sources;
      try (Stream<Path> files = Files.walk(testRoot)) {
        sources =
            files
                .filter(f -> f.toString().endsWith(".java"))
                .filter(f -> !f.getFileName().toString().equals("RuleCoverageTest.java"))
                .collect(Collectors.toList());
      }
      for (Path f : sources) {
        cited.addAll(citationsIn(Files.readString(f, StandardCharsets.UTF_8)));
      }
    }
    return cited;
  }

  static Set<String> citationsIn(String text) {
    Set<String> ids = new LinkedHashSet<>();
    Matcher m = CITATION.matcher(text);
    while (m.find()) {
      ids.add(m.group());
    }
    return ids;
  }

  /** FORK-2 before FORK-10: by area, then by number. */
  static final class RuleOrder implements Comparator<String> {
    @Override
    public int compare(String a, String b) {
      String[] x = a.split("-");
      String[] y = b.split("-");
      int c = x[0].compareTo(y[0]);
      return c != 0 ? c : Long.compare(Long.parseLong(x[1]), Long.parseLong(y[1]));
    }
  }
}
