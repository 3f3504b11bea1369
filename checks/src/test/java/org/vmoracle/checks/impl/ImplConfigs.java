package org.vmoracle.checks.impl;

import java.util.ArrayList;
import java.util.List;
import org.vmoracle.impl.core.Config;

/**
 * The implementation's configurations as a test source, in the way Caffeine's {@code CacheSpec}
 * feeds its tests: every optimization on (the default), every one off, and each one on alone. A
 * test that runs over {@link #matrix} checks that no switch's slow path is broken, and that no fast
 * path depends on another (DESIGN.md: "every optimization has a switch, and every configuration
 * passes the same checks"). A new {@link Config.Switch} joins every such test by being declared.
 */
public final class ImplConfigs {
  private ImplConfigs() {}

  /** One configuration, named as test names show it. */
  public record Named(String name, Config config) {
    @Override
    public String toString() {
      return name;
    }
  }

  /**
   * {@code base} with every switch on ("all on"), with every switch off ("all off"), and with each
   * switch on alone ("only pmapEarlyReturn", ...): {@link #ends} then {@link #eachAlone}.
   */
  public static List<Named> matrix(Config base) {
    List<Named> out = new ArrayList<>(ends(base));
    out.addAll(eachAlone(base));
    return out;
  }

  /** The two ends of the matrix: {@code base} with every switch on, then with every one off. */
  public static List<Named> ends(Config base) {
    return List.of(new Named("all on", allOn(base)), new Named("all off", allOff(base)));
  }

  /** {@code base} with each switch on alone, the others off ("only pmapEarlyReturn", ...). */
  public static List<Named> eachAlone(Config base) {
    List<Named> out = new ArrayList<>();
    for (Config.Switch s : Config.Switch.values()) {
      out.add(new Named("only " + s.word(), allOff(base).with(s, true)));
    }
    return out;
  }

  /**
   * {@code base} with each switch off alone, the others on ("no pmapEarlyReturn", ...): the
   * complement of {@link #eachAlone}.
   */
  public static List<Named> eachOff(Config base) {
    List<Named> out = new ArrayList<>();
    for (Config.Switch s : Config.Switch.values()) {
      out.add(new Named("no " + s.word(), allOn(base).with(s, false)));
    }
    return out;
  }

  /** {@code base} with every switch on. */
  public static Config allOn(Config base) {
    Config c = base;
    for (Config.Switch s : Config.Switch.values()) {
      c = c.with(s, true);
    }
    return c;
  }

  /** {@code base} with every switch off. */
  public static Config allOff(Config base) {
    Config c = base;
    for (Config.Switch s : Config.Switch.values()) {
      c = c.with(s, false);
    }
    return c;
  }
}
