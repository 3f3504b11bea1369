package org.vmoracle.checks.diff;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.model.Model;
import org.vmoracle.model.Outcome;
import org.vmoracle.model.State;
import org.vmoracle.spec.Numbers;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.ProcessView;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.View;
import org.vmoracle.spec.VmSystem;

/**
 * Model and implementation side by side: every operation goes to both and their results are
 * compared; every {@code viewEvery} operations (and on {@link #view()}) their views are compared,
 * and every {@code invariantsEvery} operations the implementation's {@code checkInvariants()} runs.
 * The first disagreement throws a {@link Divergence} that says who said what. It answers the
 * model's results, so a trace's expectations are checked against the specification.
 *
 * <p>Resource exhaustion (MEM-1, MEM-2): when the implementation answers the failure the operation
 * may give for want of memory and the model does not, this is accepted if the implementation's view
 * is still the model's view before the operation; the model then does not take the step either.
 *
 * <p>Not thread-safe: one sequential run.
 */
public final class Lockstep implements VmSystem {
  private final ImplVm impl;
  private final int viewEvery;
  private final int invariantsEvery;
  private final Spacing spacing; // null: at viewEvery and invariantsEvery
  private State model = Model.boot();
  private long steps;
  private long exhaustions;
  private Op last;

  public Lockstep(ImplVm impl, int viewEvery, int invariantsEvery) {
    this.impl = impl;
    this.viewEvery = viewEvery;
    this.invariantsEvery = invariantsEvery;
    this.spacing = null;
  }

  /**
   * Invariants and views checked together, as {@code spacing} spaces them: further apart as the
   * state grows ({@link Spacing}).
   */
  public Lockstep(ImplVm impl, Spacing spacing) {
    this.impl = impl;
    this.viewEvery = 0;
    this.invariantsEvery = 0;
    this.spacing = spacing;
  }

  @Override
  public Result apply(Op op) {
    long step = steps++;
    last = op;
    Outcome expected = Model.step(model, op);
    Result got;
    try {
      got = impl.apply(op);
    } catch (RuntimeException | AssertionError e) {
      model = expected.state(); // so modelView shows what the model did with the operation
      throw new Divergence(Divergence.Kind.CRASH, op, step, "the implementation threw " + e, e);
    }
    Result want = expected.result();
    if (!want.equals(got)) {
      if (isExhaustion(op, got)) {
        View before = Model.view(model);
        View now = impl.view();
        if (!before.equals(now)) {
          throw new Divergence(
              Divergence.Kind.EXHAUSTION,
              op,
              step,
              "the implementation answered " + got + " but changed: " + difference(before, now),
              null);
        }
        exhaustions++;
        checkInvariants(op, step);
        return got;
      }
      model = expected.state(); // so modelView shows what the model did with the operation
      throw new Divergence(
          Divergence.Kind.RESULT, op, step, "model " + want + ", implementation " + got, null);
    }
    model = expected.state();
    if (spacing != null) {
      if (spacing.due(step)) {
        checkInvariants(op, step);
        spacing.checked(step, compareViews(op, step));
      }
      return want;
    }
    if (invariantsEvery > 0 && step % invariantsEvery == 0) {
      checkInvariants(op, step);
    }
    if (viewEvery > 0 && step % viewEvery == viewEvery - 1) {
      compareViews(op, step);
    }
    return want;
  }

  private static boolean isExhaustion(Op op, Result got) {
    return got instanceof Result.Failed
        && op.exhaustion().map(e -> e == ((Result.Failed) got).errno()).orElse(false);
  }

  private void checkInvariants(Op op, long step) {
    try {
      impl.checkInvariants();
    } catch (IllegalStateException e) {
      throw new Divergence(Divergence.Kind.INVARIANT, op, step, e.getMessage(), e);
    }
  }

  /** Compares the views; answers their size, in mappings and words (for {@link Spacing}). */
  private long compareViews(Op op, long step) {
    View want = Model.view(model);
    View got = impl.view();
    if (!want.equals(got)) {
      throw new Divergence(Divergence.Kind.VIEW, op, step, difference(want, got), null);
    }
    long size = 0;
    for (ProcessView p : want.processes().values()) {
      size += p.maps().size() + p.words().size();
    }
    return size;
  }

  /**
   * Checks the implementation's invariants, then compares the views, as of the last operation: the
   * end of a run whose checks were spaced out. A difference throws a {@link Divergence} (INVARIANT
   * or VIEW) naming the last operation and its step. No requirements.
   */
  public void checkNow() {
    checkInvariants(last, steps - 1);
    compareViews(last, steps - 1);
  }

  /**
   * The model's view as of the last operation, compared with nothing: after a divergence, the
   * model's side of it (the step taken, except for an implementation's failure for want of memory,
   * which the model never takes). No requirements.
   */
  public View modelView() {
    return Model.view(model);
  }

  /** The model's view, after checking the implementation's is the same. */
  @Override
  public View view() {
    compareViews(null, steps);
    return Model.view(model);
  }

  public long steps() {
    return steps;
  }

  /** Operations the implementation answered with an accepted out-of-memory failure. */
  public long exhaustions() {
    return exhaustions;
  }

  public ImplVm impl() {
    return impl;
  }

  /**
   * The first few ways two views differ, for a report: parts separated by {@code "; "} (the maps of
   * a process, when they differ, on lines of their own), word addresses in hex as a trace writes
   * them, values as a trace writes them ({@code pid 2 word 0x10001000: model 70, impl 0}).
   */
  public static String difference(View want, View got) {
    List<String> parts = new ArrayList<>();
    if (!want.filePages().equals(got.filePages())) {
      parts.add("files " + want.filePages() + " vs " + got.filePages());
    }
    if (!want.shmPages().equals(got.shmPages())) {
      parts.add("segments " + want.shmPages() + " vs " + got.shmPages());
    }
    if (!want.processes().keySet().equals(got.processes().keySet())) {
      parts.add("pids " + want.processes().keySet() + " vs " + got.processes().keySet());
    }
    for (Map.Entry<Integer, ProcessView> p : want.processes().entrySet()) {
      ProcessView g = got.processes().get(p.getKey());
      if (g == null) {
        continue;
      }
      ProcessView w = p.getValue();
      if (!w.maps().equals(g.maps())) {
        parts.add(
            "pid " + p.getKey() + " maps\nmodel:\n" + w.mapsText() + "impl:\n" + g.mapsText());
      }
      int shown = 0;
      for (Map.Entry<Long, Long> word : w.words().entrySet()) {
        Long other = g.words().get(word.getKey());
        if (!Objects.equals(other, word.getValue()) && shown++ < 3) {
          parts.add(
              String.format(
                  "pid %d word 0x%x: model %s, impl %s",
                  p.getKey(),
                  word.getKey(),
                  Numbers.value(word.getValue()),
                  Numbers.value(other == null ? 0 : other)));
        }
      }
      for (Map.Entry<Long, Long> word : g.words().entrySet()) {
        if (!w.words().containsKey(word.getKey()) && shown++ < 6) {
          parts.add(
              String.format(
                  "pid %d word 0x%x: model 0, impl %s",
                  p.getKey(), word.getKey(), Numbers.value(word.getValue())));
        }
      }
    }
    if (parts.isEmpty()) {
      return "(views differ)";
    }
    // A part of several lines (both maps) ends its last line; the next part starts on a new one.
    StringBuilder sb = new StringBuilder();
    for (String part : parts) {
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != '\n') {
        sb.append("; ");
      }
      sb.append(part);
    }
    return sb.toString().stripTrailing();
  }
}
