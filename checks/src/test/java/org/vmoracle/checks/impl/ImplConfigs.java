package org.vmoracle.checks.impl;

import java.util.ArrayList;
import java.util.List;
import org.vmoracle.impl.core.Config;

/**
 * The implementation's configurations as a test source, in the way Caffeine's {@code CacheSpec}
 * feeds its tests: every optimization on, every one off, and each one on alone. A test that runs
 * over {@link #matrix} checks that no switch's slow path is broken, and that no fast path depends
 * on another (DESIGN.md: "every optimization has a switch, and every configuration passes the same
 * checks"). A new {@link Config.Switch} joins every such test by being declared (and saying in
 * {@link #applies} which reverse maps it changes).
 *
 * <p>The reverse map is the second dimension ({@link #kinds}): each design at the all-on end, and
 * pte chains with {@link Config.Switch#CHAIN_COLLAPSE_TO_DIRECT} off as well, since that switch is
 * off by default and changes nothing elsewhere. A switch that does not apply to {@code base}'s
 * reverse map is left out of {@link #eachAlone} and {@link #eachOff}: its rows would repeat the
 * ends.
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

  /**
   * Whether switch {@code s} changes what reverse map {@code r} does; a switch expression, so that
   * a new switch must say.
   */
  public static boolean applies(Config.Switch s, Config.Rmap r) {
    return switch (s) {
      case PMAP_EARLY_RETURN,
              SCALABLE_READS,
              UNMAP_UNDER_SHARED_LOCK,
              PRUNE_PAGE_TABLES,
              PLACEMENT_HINT,
              LOOKUP_HINTS,
              BATCH_STEALING,
              BUSY_ON_ALLOCATE,
              WIRE_SUPERPAGES,
              SHARE_PAGE_TABLES ->
          true;
      case CHAIN_COLLAPSE_TO_DIRECT -> r == Config.Rmap.PTECHAIN;
    };
  }

  /**
   * Every reverse map at the all-on end, named after it ("backing all on", "pv all on", "ptechain
   * all on"), then pte chains with every switch on but {@link
   * Config.Switch#CHAIN_COLLAPSE_TO_DIRECT} ("ptechain no chainCollapseToDirect"), the default's
   * chains: {@link #everyKind} of {@link #allOn}.
   */
  public static List<Named> kinds(Config base) {
    List<Named> out = new ArrayList<>();
    for (Named n : everyKind(allOn(base))) {
      boolean plain = n.name().equals(n.config().rmap().word());
      out.add(plain ? new Named(n.name() + " all on", n.config()) : n);
    }
    return out;
  }

  /**
   * {@code c} on every reverse map, its switches as they are ("backing", "pv", "ptechain"), then on
   * pte chains with {@link Config.Switch#CHAIN_COLLAPSE_TO_DIRECT} the other way ("ptechain
   * chainCollapseToDirect" when {@code c} has it off, as by default; else "ptechain no
   * chainCollapseToDirect"): what replaying a trace "on every kind" means.
   */
  public static List<Named> everyKind(Config c) {
    List<Named> out = new ArrayList<>();
    for (Config.Rmap r : Config.Rmap.values()) {
      out.add(new Named(r.word(), c.withRmap(r)));
    }
    Config.Switch collapse = Config.Switch.CHAIN_COLLAPSE_TO_DIRECT;
    boolean on = !c.on(collapse);
    out.add(
        new Named(
            Config.Rmap.PTECHAIN.word() + (on ? " " : " no ") + collapse.word(),
            c.withRmap(Config.Rmap.PTECHAIN).with(collapse, on)));
    return out;
  }

  /**
   * {@link #kinds} but those of {@code base}'s own reverse map at the all-on end, which {@link
   * #ends} has: what a test over the matrix of {@code base} adds to cover every design.
   */
  public static List<Named> otherKinds(Config base) {
    List<Named> out = new ArrayList<>(kinds(base));
    out.removeIf(n -> n.config().equals(allOn(base)));
    return out;
  }

  /** The two ends of the matrix: {@code base} with every switch on, then with every one off. */
  public static List<Named> ends(Config base) {
    return List.of(new Named("all on", allOn(base)), new Named("all off", allOff(base)));
  }

  /**
   * {@code base} with each switch that {@link #applies} to its reverse map on alone, the others off
   * ("only pmapEarlyReturn", ...).
   */
  public static List<Named> eachAlone(Config base) {
    List<Named> out = new ArrayList<>();
    for (Config.Switch s : Config.Switch.values()) {
      if (applies(s, base.rmap())) {
        out.add(new Named("only " + s.word(), allOff(base).with(s, true)));
      }
    }
    return out;
  }

  /**
   * {@code base} with each switch that {@link #applies} to its reverse map off alone, the others on
   * ("no pmapEarlyReturn", ...): the complement of {@link #eachAlone}.
   */
  public static List<Named> eachOff(Config base) {
    List<Named> out = new ArrayList<>();
    for (Config.Switch s : Config.Switch.values()) {
      if (applies(s, base.rmap())) {
        out.add(new Named("no " + s.word(), allOn(base).with(s, false)));
      }
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
