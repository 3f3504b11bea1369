package org.vmoracle.checks.cli;

import java.util.ArrayList;
import java.util.List;
import org.vmoracle.checks.hunt.ConfigText;
import org.vmoracle.checks.lin.ConcurrentHunt;
import org.vmoracle.impl.core.Config;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --frames N}, {@code --rmap KIND} and {@code --config KEY=VALUE[,KEY=VALUE…]} of {@code
 * hunt}, {@code replay} and {@code zoo}, for a command to mix in ({@code @Mixin}): the
 * implementation's settings ({@link Config}, every field but the injected bugs, which {@code --bug}
 * names), applied on top of what the command would use anyway. An unknown key or a bad value is a
 * usage error (exit 2) that says what the key takes.
 */
final class ImplOptions {

  @Option(
      names = "--frames",
      paramLabel = "N",
      converter = FramesConverter.class,
      description =
          "Physical frames of the implementation, 4 KiB each, at least 16; the same as --config"
              + " frames=N (default: replay 16,384 or its file header's; hunt and zoo the"
              + " profile's, or "
              + ConcurrentHunt.FRAMES
              + " with threads).")
  ConfigText.Setting frames;

  @Option(
      names = "--rmap",
      paramLabel = "KIND",
      converter = RmapConverter.class,
      description =
          "The implementation's reverse map: backing (DragonFly 2019's backing scan, the default),"
              + " pv (a pv entry per PTE on per-page lists) or ptechain (Linux 2.5's pte chains);"
              + " the same as --config rmap=KIND.")
  ConfigText.Setting rmap;

  @Option(
      names = "--config",
      paramLabel = "KEY=VALUE",
      split = ",",
      converter = SettingConverter.class,
      description = {
        "Settings of the implementation, comma-separated or repeated; a later one for the same key"
            + " wins, --frames last. Keys (every switch is on by default):",
        "  frames=N (at least 16), swapSlots=N, collapseDepth=N (at least 1),",
        "  rmap=backing|pv|ptechain,",
        "  pmapEarlyReturn, scalableReads, unmapUnderSharedLock, prunePageTables, placementHint,",
        "  lookupHints, batchStealing, busyOnAllocate=true|false,",
        "  chainCollapseToDirect=true|false (pte chains only; off by default)."
      })
  List<ConfigText.Setting> config = new ArrayList<>();

  /** The settings given, in order, then {@code --rmap}, {@code --frames} last. */
  List<ConfigText.Setting> settings() {
    List<ConfigText.Setting> all = new ArrayList<>(config);
    if (rmap != null) {
      all.add(rmap);
    }
    if (frames != null) {
      all.add(frames);
    }
    return all;
  }

  /** Whether any setting was given. */
  boolean given() {
    return frames != null || rmap != null || !config.isEmpty();
  }

  /** {@code base} with every setting given applied. */
  Config applyTo(Config base) {
    return ConfigText.applyAll(base, settings());
  }

  /** Parses {@code --config}'s {@code KEY=VALUE}; a bad one is a usage error saying why. */
  static final class SettingConverter implements ITypeConverter<ConfigText.Setting> {
    @Override
    public ConfigText.Setting convert(String value) {
      try {
        return ConfigText.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** Parses the value of one key's own option, as {@code --config KEY=VALUE} would. */
  private abstract static class KeyConverter implements ITypeConverter<ConfigText.Setting> {
    private final ConfigText.Key key;

    KeyConverter(ConfigText.Key key) {
      this.key = key;
    }

    @Override
    public ConfigText.Setting convert(String value) {
      try {
        return ConfigText.value(key, value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** Parses {@code --rmap}, as {@code --config rmap=KIND} would. */
  static final class RmapConverter extends KeyConverter {
    RmapConverter() {
      super(ConfigText.Key.RMAP);
    }
  }

  /** Parses {@code --frames}, as {@code --config frames=N} would. */
  static final class FramesConverter extends KeyConverter {
    FramesConverter() {
      super(ConfigText.Key.FRAMES);
    }
  }
}
