package org.vmoracle.checks.hunt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.vmoracle.impl.core.Config;

/**
 * The implementation's settings ({@link Config}) as text: {@code key=value} pairs, one for every
 * field but the injected bugs, as {@code --config} takes them and a finding's header writes them
 * ({@code frames=128,swapSlots=2048,collapseDepth=5,pmapEarlyReturn=false}). Keys are Config's
 * field names, in any case, with {@code -} or {@code _} allowed between words ({@code swap-slots});
 * the sizes are decimal numbers, the switches {@code true}/{@code false} (or {@code on}/{@code
 * off}).
 */
public final class ConfigText {
  private ConfigText() {}

  /**
   * The most frames a setting may name: 16 GiB. The implementation allocates its per-frame tables
   * (some 30 bytes a frame) up front, so a mistyped count would otherwise end the JVM out of
   * memory.
   */
  public static final int MAX_FRAMES = 1 << 22;

  /** One field of {@link Config}: its key, what it is, and how it is read and set. */
  public enum Key {
    FRAMES(
        "frames",
        "physical frames, 4 KiB each",
        16,
        MAX_FRAMES,
        Config::frames,
        (c, v) -> c.withFrames((Integer) v)),
    SWAP_SLOTS(
        "swapSlots",
        "pages the swap area holds",
        0,
        Integer.MAX_VALUE,
        Config::swapSlots,
        (c, v) -> c.withSwapSlots((Integer) v)),
    COLLAPSE_DEPTH(
        "collapseDepth",
        "a backing chain deeper than this is collapsed on fork",
        1,
        Integer.MAX_VALUE,
        Config::collapseDepth,
        (c, v) -> c.withCollapseDepth((Integer) v)),
    RMAP("rmap", "the reverse map: " + Config.Rmap.words()),
    PMAP_EARLY_RETURN(
        Config.Switch.PMAP_EARLY_RETURN, "pmap_remove of an empty pmap returns at once"),
    SCALABLE_READS(
        Config.Switch.SCALABLE_READS, "faults take the map lock through per-thread stripes"),
    UNMAP_UNDER_SHARED_LOCK(
        Config.Switch.UNMAP_UNDER_SHARED_LOCK,
        "munmap clears PTEs with the map lock downgraded to shared"),
    PRUNE_PAGE_TABLES(
        Config.Switch.PRUNE_PAGE_TABLES,
        "page-table pages that unmap or exit empties are freed at once"),
    PLACEMENT_HINT(
        Config.Switch.PLACEMENT_HINT,
        "mmap's placement starts at the lowest hole instead of at MMAP_BASE"),
    LOOKUP_HINTS(
        Config.Switch.LOOKUP_HINTS,
        "entry lookups first try the entry the thread's last lookup found"),
    BATCH_STEALING(
        Config.Switch.BATCH_STEALING,
        "an empty free-pool stripe steals a batch of frames, not one"),
    BUSY_ON_ALLOCATE(
        Config.Switch.BUSY_ON_ALLOCATE, "a fault's frame leaves the free pool already busy"),
    WIRE_SUPERPAGES(
        Config.Switch.WIRE_SUPERPAGES,
        "mlock maps whole 2 MiB segments by one PS leaf from a contiguous run (seed 003)"),
    SHARE_PAGE_TABLES(
        Config.Switch.SHARE_PAGE_TABLES,
        "shared 2 MiB segments keep their page tables with the object (seed 001; off by default)"),
    CHAIN_COLLAPSE_TO_DIRECT(
        Config.Switch.CHAIN_COLLAPSE_TO_DIRECT,
        "pte chains: a chain left with one PTE becomes a direct pointer again (off by default)");

    /** The key as written, Config's field name. */
    public final String word;

    /** What the field is, for help. */
    public final String description;

    private final boolean isSwitch;
    private final boolean isChoice;
    private final int min;
    private final int max;
    private final Function<Config, Object> get;
    private final BiFunction<Config, Object, Config> set;

    /** A size from {@code min} to {@code max}. */
    Key(
        String word,
        String description,
        int min,
        int max,
        Function<Config, Object> get,
        BiFunction<Config, Object, Config> set) {
      this.word = word;
      this.description = description;
      this.isSwitch = false;
      this.isChoice = false;
      this.min = min;
      this.max = max;
      this.get = get;
      this.set = set;
    }

    /** Switch {@code s} of Config, under its own name. */
    Key(Config.Switch s, String description) {
      this.word = s.word();
      this.description = description;
      this.isSwitch = true;
      this.isChoice = false;
      this.min = 0;
      this.max = 0;
      this.get = c -> c.on(s);
      this.set = (c, v) -> c.with(s, (Boolean) v);
    }

    /** The reverse map, a choice of {@link Config.Rmap}'s words. */
    Key(String word, String description) {
      this.word = word;
      this.description = description;
      this.isSwitch = false;
      this.isChoice = true;
      this.min = 0;
      this.max = 0;
      this.get = Config::rmap;
      this.set = (c, v) -> c.withRmap((Config.Rmap) v);
    }

    /** True for a switch ({@code true}/{@code false}), false for a size or a choice. */
    public boolean isSwitch() {
      return isSwitch;
    }

    /** True for the reverse map's choice ({@code backing}, {@code pv}, {@code ptechain}). */
    public boolean isChoice() {
      return isChoice;
    }

    /** The value {@code c} has for this key, as a setting. */
    public Setting of(Config c) {
      return new Setting(this, get.apply(c));
    }

    /** What the value may be: {@code true or false}, {@code a number from 16 to 4,194,304}. */
    public String range() {
      if (isSwitch()) {
        return "true or false";
      }
      if (isChoice()) {
        return "one of " + Config.Rmap.words();
      }
      return max == Integer.MAX_VALUE
          ? String.format("a whole number, at least %,d", min)
          : String.format("a whole number from %,d to %,d", min, max);
    }

    /** The key {@code word} names, in any case and with any {@code -} or {@code _}. */
    public static Key byWord(String word) {
      String w = squash(word);
      for (Key k : values()) {
        if (squash(k.word).equals(w)) {
          return k;
        }
      }
      throw new IllegalArgumentException(
          "unknown key '" + word + "': expected one of " + words() + " (see --help)");
    }

    private static String squash(String s) {
      return s.replace("-", "").replace("_", "").toLowerCase(Locale.ROOT);
    }
  }

  /**
   * One key and its value.
   *
   * @param value an {@link Integer} for a size, a {@link Boolean} for a switch, in the key's range
   */
  public record Setting(Key key, Object value) {
    public Setting {
      Objects.requireNonNull(key, "key");
      boolean ok =
          key.isSwitch()
              ? value instanceof Boolean
              : key.isChoice()
                  ? value instanceof Config.Rmap
                  : value instanceof Integer
                      && (Integer) value >= key.min
                      && (Integer) value <= key.max;
      if (!ok) {
        throw new IllegalArgumentException(key.word + " must be " + key.range() + ", not " + value);
      }
    }

    /** {@code frames=128}, {@code rmap=pv}. */
    @Override
    public String toString() {
      return key.word + "=" + (value instanceof Config.Rmap ? ((Config.Rmap) value).word() : value);
    }

    /** {@code c} with this setting. */
    public Config applyTo(Config c) {
      return key.set.apply(c, value);
    }
  }

  /** Every key, comma-separated, for help and messages. */
  public static String words() {
    return Arrays.stream(Key.values()).map(k -> k.word).collect(Collectors.joining(", "));
  }

  /**
   * Reads {@code KEY=VALUE}.
   *
   * @throws IllegalArgumentException naming what is wrong: no {@code =}, an unknown key, a value
   *     that is not a number or not a switch, or one out of the key's range
   */
  public static Setting parse(String text) {
    int eq = text.indexOf('=');
    if (eq < 0) {
      throw new IllegalArgumentException("'" + text + "' is not KEY=VALUE (keys: " + words() + ")");
    }
    Key key = Key.byWord(text.substring(0, eq).trim());
    return value(key, text.substring(eq + 1).trim());
  }

  /** The setting of {@code key} to {@code value} as written. */
  public static Setting value(Key key, String value) {
    if (key.isChoice()) {
      try {
        return new Setting(key, Config.Rmap.byWord(value));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            key.word + " must be " + key.range() + ", not '" + value + "'", e);
      }
    }
    if (key.isSwitch()) {
      switch (value.toLowerCase(Locale.ROOT)) {
        case "true":
        case "on":
          return new Setting(key, true);
        case "false":
        case "off":
          return new Setting(key, false);
        default: // anything else is not a switch's value
          throw new IllegalArgumentException(
              key.word + " must be " + key.range() + ", not '" + value + "'");
      }
    }
    int n;
    try {
      n = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          key.word + " must be " + key.range() + ", not '" + value + "'", e);
    }
    return new Setting(key, n);
  }

  /** {@code c} with every setting applied, in order (a later one for the same key wins). */
  public static Config applyAll(Config c, List<Setting> settings) {
    Config out = c;
    for (Setting s : settings) {
      out = s.applyTo(out);
    }
    return out;
  }

  /**
   * What makes {@code c} out of any base: the sizes always, the reverse map and each switch when
   * they are not the default (every switch but CHAIN_COLLAPSE_TO_DIRECT is on by default, the
   * reverse map the backing scan). What a finding's header writes after {@code --config}.
   */
  public static List<Setting> describe(Config c) {
    List<Setting> out = new ArrayList<>();
    Config on = Config.defaults();
    for (Key k : Key.values()) {
      Setting s = k.of(c);
      if (!(k.isSwitch() || k.isChoice()) || !s.equals(k.of(on))) {
        out.add(s);
      }
    }
    return out;
  }

  /** The settings in which {@code c} differs from {@code base}, in key order. */
  public static List<Setting> changes(Config base, Config c) {
    List<Setting> out = new ArrayList<>();
    for (Key k : Key.values()) {
      if (!k.of(base).equals(k.of(c))) {
        out.add(k.of(c));
      }
    }
    return out;
  }

  /** {@code frames=128,swapSlots=2048}: settings as {@code --config} takes them. */
  public static String join(List<Setting> settings) {
    return settings.stream().map(Setting::toString).collect(Collectors.joining(","));
  }
}
