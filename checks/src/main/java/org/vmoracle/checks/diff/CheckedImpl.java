package org.vmoracle.checks.diff;

import java.util.Map;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.View;
import org.vmoracle.spec.VmSystem;

/**
 * The implementation with its structural invariants checked after every operation, or after every
 * {@code every}-th: how every impl test drives it ("checkInvariants() runs after every step of
 * every impl test"), and how {@code vmoracle replay --system impl} samples long traces. A broken
 * invariant throws a {@link Divergence} of kind INVARIANT, an exception out of the implementation
 * one of kind CRASH, as {@link Lockstep} reports them; {@link #checkNow} checks the state reached
 * so far.
 */
public final class CheckedImpl implements VmSystem {
  private final ImplVm impl;
  private final int every;
  private final Spacing spacing; // null: every {@code every} operations
  private long applied;
  private Op last;

  /** Invariants checked after every operation. */
  public CheckedImpl(ImplVm impl) {
    this(impl, 1);
  }

  /**
   * Invariants checked after every {@code every}-th operation (the {@code every}-th, the {@code
   * 2·every}-th, …); 0 for never but by {@link #checkNow}.
   */
  public CheckedImpl(ImplVm impl, int every) {
    if (every < 0) {
      throw new IllegalArgumentException("check every " + every + " operations: at least 0");
    }
    this.impl = impl;
    this.every = every;
    this.spacing = null;
  }

  /**
   * Invariants checked as {@code spacing} spaces them, further apart as the implementation holds
   * more pages ({@link Spacing}).
   */
  public CheckedImpl(ImplVm impl, Spacing spacing) {
    this.impl = impl;
    this.every = 0;
    this.spacing = spacing;
  }

  @Override
  public Result apply(Op op) {
    long step = applied++;
    last = op;
    Result r;
    try {
      r = impl.apply(op);
    } catch (RuntimeException | AssertionError e) {
      throw new Divergence(Divergence.Kind.CRASH, op, step, "the implementation threw " + e, e);
    }
    if (spacing != null) {
      if (spacing.due(step)) {
        checkNow();
        // A resident page or a map entry costs the invariant checker about what four words of a
        // view cost.
        Map<String, Long> stats = impl.stats();
        long work = stats.getOrDefault("residentPages", 0L) + stats.getOrDefault("mapEntries", 0L);
        spacing.checked(step, 4 * work);
      }
    } else if (every > 0 && applied % every == 0) {
      checkNow();
    }
    return r;
  }

  /**
   * Checks the invariants of the state reached so far; a broken one throws a {@link Divergence}
   * (INVARIANT) naming the last operation. No requirements.
   */
  public void checkNow() {
    try {
      impl.checkInvariants();
    } catch (IllegalStateException e) {
      throw new Divergence(Divergence.Kind.INVARIANT, last, applied - 1, e.getMessage(), e);
    }
  }

  @Override
  public View view() {
    return impl.view();
  }

  public ImplVm impl() {
    return impl;
  }
}
