package org.vmoracle.checks.shrink;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.vmoracle.model.ModelVm;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;

/**
 * Shrinks a failing list of operations: delta debugging on the list (ddmin, Zeller and Hildebrandt
 * 2002: remove chunks, halving their size until single operations), then argument simplification
 * ({@link Simplify}: pids renumbered densely, smaller page counts, addresses at page starts, values
 * 0, 1 or small), again and again until neither changes anything or the time budget is spent. Every
 * candidate is judged by the caller's {@link Test}, which must be deterministic (a fresh system
 * each time); this class knows nothing of systems and runs outside JUnit.
 *
 * <p>Only complements are tried (the list without one chunk), never a chunk on its own: a lone
 * chunk of a run almost never starts with the {@code spawn} it needs. When a candidate fails before
 * its end, the rest is cut off at once ({@link Test} answers how long a prefix fails).
 *
 * <p>Not thread-safe: one shrinker, one shrinking.
 */
public final class Shrinker {

  /** Judges one candidate. */
  @FunctionalInterface
  public interface Test {
    /**
     * How many operations of {@code ops} (a prefix) fail the way sought: {@code ops.size()} when
     * the whole list is needed or that is not known, fewer when the failure showed earlier; -1 when
     * {@code ops} does not fail that way.
     */
    int failingPrefix(List<Op> ops);
  }

  /** The default time budget: shrinking stops here with the smallest list found so far. */
  public static final Duration DEFAULT_BUDGET = Duration.ofMinutes(2);

  private final Test test;
  private final long deadline;
  private int tests;

  public Shrinker(Test test, Duration budget) {
    this.test = test;
    long now = System.nanoTime();
    long b = budget.toNanos();
    this.deadline = b >= Long.MAX_VALUE - now ? Long.MAX_VALUE : now + b;
  }

  /** A shrinker judging candidates by {@code stillFails}: "this list still fails the same way". */
  public static Shrinker of(Predicate<List<Op>> stillFails) {
    return new Shrinker(ops -> stillFails.test(ops) ? ops.size() : -1, DEFAULT_BUDGET);
  }

  /**
   * The smallest failing list found from {@code failing}. Requires {@code failing} to fail (throws
   * {@link IllegalArgumentException} otherwise).
   */
  public List<Op> shrink(List<Op> failing) {
    int n = judge(failing);
    if (n < 0) {
      throw new IllegalArgumentException(
          "the list to shrink does not fail (" + failing.size() + " operations)");
    }
    List<Op> cur = new ArrayList<>(failing.subList(0, n));
    while (true) {
      List<Op> before = cur;
      cur = ddmin(cur);
      cur = simplify(cur);
      if (cur.equals(before) || timeUp()) {
        return List.copyOf(cur);
      }
    }
  }

  /** How many candidates were judged so far. */
  public int tests() {
    return tests;
  }

  /** Whether the time budget is spent. */
  public boolean timeUp() {
    return System.nanoTime() - deadline >= 0;
  }

  private int judge(List<Op> ops) {
    tests++;
    int n = test.failingPrefix(ops);
    if (n > ops.size()) {
      throw new IllegalStateException("test answered a prefix of " + n + " of " + ops.size());
    }
    return n;
  }

  /**
   * ddmin by complements: passes over the list removing each chunk in turn (keeping every removal
   * that still fails), halving the chunk after each pass; ends after a pass of single operations
   * that removes nothing, so the result is 1-minimal unless time ran out.
   */
  private List<Op> ddmin(List<Op> cur) {
    int chunk = Math.max(1, cur.size() / 2);
    while (!timeUp()) {
      boolean removed = false;
      int start = 0;
      while (start < cur.size() && cur.size() > 1 && !timeUp()) {
        int end = Math.min(cur.size(), start + chunk);
        List<Op> candidate = new ArrayList<>(cur.size() - (end - start));
        candidate.addAll(cur.subList(0, start));
        candidate.addAll(cur.subList(end, cur.size()));
        int n = candidate.isEmpty() ? -1 : judge(candidate);
        if (n >= 0) {
          cur = new ArrayList<>(candidate.subList(0, n));
          removed = true; // the next chunk now starts at start: try it without advancing
        } else {
          start = end;
        }
      }
      if (chunk == 1 && !removed) {
        return cur;
      }
      chunk = Math.max(1, chunk / 2);
    }
    return cur;
  }

  /**
   * Argument simplification: whole-list rewrites first (dense pids and keys, each word address
   * moved to its page start everywhere at once), then removals that rewrite what follows ({@link
   * Simplify#removals}), then each operation in turn replaced by its simplest variant that still
   * fails; until a pass changes nothing.
   */
  private List<Op> simplify(List<Op> cur) {
    boolean changed = true;
    while (changed && !timeUp()) {
      changed = false;
      for (UnaryOperator<List<Op>> rewrite : Simplify.wholeList()) {
        List<Op> candidate = rewrite.apply(cur);
        if (!candidate.equals(cur)) {
          int n = judge(candidate);
          if (n >= 0) {
            cur = new ArrayList<>(candidate.subList(0, n));
            changed = true;
          }
        }
      }
      for (long a : Simplify.unalignedAddresses(cur)) {
        List<Op> candidate = Simplify.toPageStart(cur, a);
        int n = timeUp() ? -1 : judge(candidate);
        if (n >= 0) {
          cur = new ArrayList<>(candidate.subList(0, n));
          changed = true;
        }
      }
      for (int i = cur.size() - 1; i >= 0 && !timeUp(); i--) {
        if (i >= cur.size()) {
          continue;
        }
        for (List<Op> candidate : Simplify.removals(cur, i, modelResults(cur))) {
          int n = candidate.isEmpty() ? -1 : judge(candidate);
          if (n >= 0) {
            cur = new ArrayList<>(candidate.subList(0, n));
            changed = true;
            break;
          }
        }
      }
      for (int i = 0; i < cur.size() && !timeUp(); i++) {
        // A mapping placed elsewhere takes the addresses into it along (Simplify#relocated).
        List<Result> results = cur.get(i) instanceof Op.Mmap ? modelResults(cur) : null;
        for (Op simpler : Simplify.candidates(cur.get(i))) {
          List<Op> candidate;
          if (results != null) {
            candidate = Simplify.relocated(cur, results, i, simpler);
          } else {
            candidate = new ArrayList<>(cur);
            candidate.set(i, simpler);
          }
          int n = judge(candidate);
          if (n >= 0) {
            cur = new ArrayList<>(candidate.subList(0, n));
            changed = true;
            break; // candidates come simplest first
          }
        }
      }
    }
    return cur;
  }

  /** What the model answers to each of {@code ops}, from boot (where mappings were placed). */
  private static List<Result> modelResults(List<Op> ops) {
    ModelVm model = new ModelVm();
    List<Result> out = new ArrayList<>(ops.size());
    for (Op op : ops) {
      out.add(model.apply(op));
    }
    return out;
  }
}
