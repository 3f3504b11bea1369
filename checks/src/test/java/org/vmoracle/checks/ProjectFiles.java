package org.vmoracle.checks;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Files of the project that tests read: the top of the repository, found as the working directory
 * or the nearest directory above it that holds {@code spec/SEMANTICS.md} (Maven runs each module's
 * tests in the module's directory), and the rule book itself.
 */
public final class ProjectFiles {
  /** The rule book, relative to the top of the repository. */
  public static final String SEMANTICS = "spec/SEMANTICS.md";

  private ProjectFiles() {}

  /** The top of the repository; the test fails if there is none above the working directory. */
  public static Path root() {
    Path start = Path.of("").toAbsolutePath();
    for (Path p = start; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve(SEMANTICS))) {
        return p;
      }
    }
    return fail(SEMANTICS + " was not found in " + start + " or any directory above it");
  }

  /** The text of {@code spec/SEMANTICS.md}. */
  public static String semantics() {
    Path f = root().resolve(SEMANTICS);
    try {
      return Files.readString(f, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return fail("cannot read " + f + ": " + e, e);
    }
  }
}
