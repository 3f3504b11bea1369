package org.vmoracle.checks.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --findings DIR} of {@code hunt} and {@code zoo}, for a command to mix in ({@code @Mixin}):
 * where the shrunk trace of a finding is written, relative to the current directory.
 */
final class FindingsDir {
  @Option(
      names = "--findings",
      paramLabel = "DIR",
      defaultValue = "target/vmoracle/findings",
      description = "Where the shrunk trace of a finding goes (default: ${DEFAULT-VALUE}).")
  Path dir;
}
