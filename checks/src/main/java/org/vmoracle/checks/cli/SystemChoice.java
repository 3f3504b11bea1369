package org.vmoracle.checks.cli;

import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.stream.Collectors;
import org.vmoracle.model.ModelVm;
import org.vmoracle.spec.VmSystem;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Which system a command drives ({@code --system}). Every command that runs operations asks this
 * enum for a freshly booted {@link VmSystem}, so a new system is one new constant here and nothing
 * else changes in the commands.
 *
 * <p>Only {@link #MODEL} exists today. Issue 3 adds {@code impl} (the optimized concurrent VM of
 * the {@code impl} module) and {@code both}: a {@link VmSystem} that applies every operation to
 * model and impl side by side and reports the first result or view on which they differ.
 */
enum SystemChoice {
  /** The pure reference model ({@link ModelVm}). */
  MODEL("model") {
    @Override
    VmSystem boot() {
      return new ModelVm();
    }
  };

  /** The word for this system on the command line. */
  final String word;

  SystemChoice(String word) {
    this.word = word;
  }

  /** A newly booted system: boot files present, no processes, no segments (BOOT-1). */
  abstract VmSystem boot();

  /** The words {@code --system} accepts, for help and error messages. */
  static String words() {
    return Arrays.stream(values()).map(c -> c.word).collect(Collectors.joining(", "));
  }

  /** Parses {@code --system}; an unknown word is a usage error (exit 2). */
  static final class Converter implements ITypeConverter<SystemChoice> {
    @Override
    public SystemChoice convert(String value) {
      for (SystemChoice c : values()) {
        if (c.word.equals(value.toLowerCase(Locale.ROOT))) {
          return c;
        }
      }
      String later =
          value.equals("impl") || value.equals("both")
              ? " ('" + value + "' comes with the implementation, issue 3)"
              : "";
      throw new TypeConversionException(
          "expected one of [" + words() + "] but was '" + value + "'" + later);
    }
  }

  /** The words, for picocli's help ({@code ${COMPLETION-CANDIDATES}}). */
  static final class Words implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Arrays.stream(values()).map(c -> c.word).iterator();
    }
  }
}
