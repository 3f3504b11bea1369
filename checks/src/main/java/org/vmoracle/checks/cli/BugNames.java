package org.vmoracle.checks.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --bug NAME} of {@code hunt} and {@code zoo}: the name of an injected bug ({@link Bug}), in
 * any case; an unknown name is a usage error (exit 2) listing the names. Each command's description
 * says what it does with the bugs named.
 */
final class BugNames {
  private BugNames() {}

  /** The option, repeatable, for a command to mix in ({@code @Mixin}). */
  static final class Choice {
    @Option(
        names = "--bug",
        paramLabel = "NAME",
        converter = Converter.class,
        completionCandidates = Names.class,
        description = "An injected bug, in any case (repeatable): ${COMPLETION-CANDIDATES}.")
    List<Bug> bugs = new ArrayList<>();

    /** The bugs named, each once, in the order first given. */
    List<Bug> named() {
      return new ArrayList<>(new LinkedHashSet<>(bugs));
    }
  }

  /** Every bug's name, comma-separated, for help and error messages. */
  static String all() {
    return Arrays.stream(Bug.values()).map(Bug::name).collect(Collectors.joining(", "));
  }

  /** {@code config} with every bug of {@code bugs} switched on. */
  static Config withAll(Config config, List<Bug> bugs) {
    Config c = config;
    for (Bug b : bugs) {
      c = c.withBug(b);
    }
    return c;
  }

  /** Parses a bug's name. */
  static final class Converter implements ITypeConverter<Bug> {
    @Override
    public Bug convert(String value) {
      String v = value.toUpperCase(Locale.ROOT).replace('-', '_');
      for (Bug b : Bug.values()) {
        if (b.name().equals(v)) {
          return b;
        }
      }
      throw new TypeConversionException("unknown bug '" + value + "': expected one of " + all());
    }
  }

  /** The names, for picocli's help ({@code ${COMPLETION-CANDIDATES}}). */
  static final class Names implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Arrays.stream(Bug.values()).map(Bug::name).iterator();
    }
  }
}
