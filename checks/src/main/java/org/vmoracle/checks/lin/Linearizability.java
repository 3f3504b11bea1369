package org.vmoracle.checks.lin;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.vmoracle.model.Model;
import org.vmoracle.model.Outcome;
import org.vmoracle.model.State;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;

/**
 * A linearizability checker for short concurrent histories, with the model as the sequential
 * specification (Wing and Gong's search with Lowe's memoization).
 *
 * <h2>Overview</h2>
 *
 * A history is linearizable from state {@code s} if its calls can be put in one order that keeps
 * every call that answered before another was invoked before it, and in which the model, stepping
 * from {@code s}, answers every call what it answered. The search picks, again and again, a call
 * that no pending call must precede, steps the model, and backtracks when the answers differ; the
 * pairs (calls taken, model state) already tried are remembered, so equal states reached in
 * different orders are explored once.
 *
 * <p>Resource exhaustion (MEM-1, MEM-2): a call that answered its operation's out-of-memory
 * failure, where the model answers otherwise, is taken as a step that changed nothing.
 *
 * <p>The end state of a history is not unique (two concurrent stores to one word end either way),
 * so the caller passes an acceptance test for the final state: the search succeeds only with a
 * linearization whose final state passes it (the hunt compares its view with the implementation's),
 * and answers that state, from which the next history starts.
 */
public final class Linearizability {
  private Linearizability() {}

  /**
   * What the search found.
   *
   * @param linearizable whether an order was found
   * @param end the state that order ends in
   * @param order the calls in that order
   * @param unchanged those of {@code order} taken as out-of-memory failures that changed nothing
   *     (MEM-1): the model does not step them
   * @param explored steps of the model tried
   */
  public record Verdict(
      boolean linearizable,
      Optional<State> end,
      List<Call> order,
      Set<Call> unchanged,
      long explored) {}

  /**
   * Searches for a linearization of {@code calls} from {@code start} whose end state {@code accept}
   * takes. No requirements.
   */
  public static Verdict check(State start, List<Call> calls, Predicate<State> accept) {
    Search s = new Search(calls, accept);
    boolean ok = s.dfs(start, new BitSet(calls.size()));
    Set<Call> unchanged = new HashSet<>();
    for (int i = 0; i < s.order.size(); i++) {
      if (s.skipped.get(i)) {
        unchanged.add(s.order.get(i));
      }
    }
    return new Verdict(
        ok, Optional.ofNullable(s.end), List.copyOf(s.order), Set.copyOf(unchanged), s.explored);
  }

  private static final class Search {
    final List<Call> calls;
    final Predicate<State> accept;
    final Set<Memo> seen = new HashSet<>();
    final List<Call> order = new ArrayList<>();
    final List<Boolean> skipped = new ArrayList<>(); // beside order: taken as changing nothing
    State end;
    long explored;

    Search(List<Call> calls, Predicate<State> accept) {
      this.calls = calls;
      this.accept = accept;
    }

    boolean dfs(State s, BitSet done) {
      if (done.cardinality() == calls.size()) {
        if (accept.test(s)) {
          end = s;
          return true;
        }
        return false;
      }
      if (!seen.add(new Memo((BitSet) done.clone(), s))) {
        return false;
      }
      for (int i = done.nextClearBit(0); i < calls.size(); i = done.nextClearBit(i + 1)) {
        Call c = calls.get(i);
        if (!minimal(c, done)) {
          continue;
        }
        explored++;
        Outcome o = Model.step(s, c.op());
        State next;
        boolean unchanged = false;
        if (o.result().equals(c.result())) {
          next = o.state();
        } else if (exhaustion(c.op(), c.result())) {
          next = s; // the implementation ran out of memory here and changed nothing
          unchanged = true;
        } else {
          continue;
        }
        done.set(i);
        order.add(c);
        skipped.add(unchanged);
        if (dfs(next, done)) {
          return true;
        }
        order.remove(order.size() - 1);
        skipped.remove(skipped.size() - 1);
        done.clear(i);
      }
      return false;
    }

    /** Whether no call still pending must come before {@code c}. */
    private boolean minimal(Call c, BitSet done) {
      for (int j = done.nextClearBit(0); j < calls.size(); j = done.nextClearBit(j + 1)) {
        Call d = calls.get(j);
        if (d != c && d.precedes(c)) {
          return false;
        }
      }
      return true;
    }
  }

  private static boolean exhaustion(Op op, Result r) {
    return r instanceof Result.Failed
        && op.exhaustion().map(e -> e == ((Result.Failed) r).errno()).orElse(false);
  }

  /** A memo key: the calls taken and the model state reached. */
  private record Memo(BitSet done, State state) {}
}
