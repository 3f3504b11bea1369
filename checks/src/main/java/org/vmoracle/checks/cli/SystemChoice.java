package org.vmoracle.checks.cli;

import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.vmoracle.checks.diff.CheckedImpl;
import org.vmoracle.checks.diff.Lockstep;
import org.vmoracle.checks.diff.Spacing;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.model.ModelVm;
import org.vmoracle.spec.View;
import org.vmoracle.spec.VmSystem;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Which system a command drives ({@code --system}). Every command that runs operations asks this
 * enum for a freshly booted {@link VmSystem}, so a new system is one new constant here and nothing
 * else changes in the commands.
 *
 * <ul>
 *   <li>{@code model}: the pure reference model;
 *   <li>{@code impl}: the optimized concurrent implementation, with its structural invariants
 *       checked every {@code every} operations and at the end;
 *   <li>{@code both}: model and implementation side by side ({@link Lockstep}): every result
 *       compared, invariants checked and views compared every {@code every} operations and at the
 *       end; the first difference is reported.
 * </ul>
 */
enum SystemChoice {
  /** The pure reference model ({@link ModelVm}). */
  MODEL("model") {
    @Override
    Booted boot(Config config, int every) {
      return new Booted(new ModelVm(), () -> {}, Optional.empty());
    }

    @Override
    Booted boot(Config config, Spacing spacing) {
      return boot(config, 0);
    }
  },
  /** The implementation, invariants checked every {@code every} operations. */
  IMPL("impl") {
    @Override
    Booted boot(Config config, int every) {
      CheckedImpl impl = new CheckedImpl(new ImplVm(config), every);
      return new Booted(impl, impl::checkNow, Optional.of(impl.impl()));
    }

    @Override
    Booted boot(Config config, Spacing spacing) {
      CheckedImpl impl = new CheckedImpl(new ImplVm(config), spacing);
      return new Booted(impl, impl::checkNow, Optional.of(impl.impl()));
    }
  },
  /** Model and implementation in lockstep. */
  BOTH("both") {
    @Override
    Booted boot(Config config, int every) {
      Lockstep both = new Lockstep(new ImplVm(config), every, every);
      return new Booted(
          both, both::checkNow, Optional.of(both.impl()), Optional.of(both::modelView));
    }

    @Override
    Booted boot(Config config, Spacing spacing) {
      Lockstep both = new Lockstep(new ImplVm(config), spacing);
      return new Booted(
          both, both::checkNow, Optional.of(both.impl()), Optional.of(both::modelView));
    }
  };

  /** Frames for replays: 64 MiB, plenty for any trace a person writes. */
  static final Config REPLAY_CONFIG = Config.defaults().withFrames(16_384);

  /**
   * A booted system.
   *
   * @param system what runs the operations
   * @param checkNow checks what the system checks as of now (the implementation's invariants, the
   *     two views), throwing a {@link org.vmoracle.checks.diff.Divergence} for a difference; does
   *     nothing for the model
   * @param impl the implementation inside, for its view; empty for the model
   * @param modelView the model's view beside the implementation's, uncompared (with both); empty
   *     for a system that is one or the other
   */
  record Booted(
      VmSystem system,
      Runnable checkNow,
      Optional<ImplVm> impl,
      Optional<Supplier<View>> modelView) {
    Booted(VmSystem system, Runnable checkNow, Optional<ImplVm> impl) {
      this(system, checkNow, impl, Optional.empty());
    }
  }

  /** The word for this system on the command line. */
  final String word;

  SystemChoice(String word) {
    this.word = word;
  }

  /**
   * A newly booted system: boot files present, no processes, no segments (BOOT-1), its
   * implementation (if it has one) on {@code config}, checked every {@code every} operations (0:
   * only by {@link Booted#checkNow}).
   */
  abstract Booted boot(Config config, int every);

  /** As {@link #boot(Config, int)}, checked as {@code spacing} spaces the checks. */
  abstract Booted boot(Config config, Spacing spacing);

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
      throw new TypeConversionException(
          "expected one of [" + words() + "] but was '" + value + "'");
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
