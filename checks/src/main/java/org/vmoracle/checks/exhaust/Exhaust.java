package org.vmoracle.checks.exhaust;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.checks.diff.Lockstep;
import org.vmoracle.checks.sched.Scheduler;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.model.Canon;
import org.vmoracle.model.Model;
import org.vmoracle.model.Outcome;
import org.vmoracle.model.State;
import org.vmoracle.spec.Op;

/**
 * Exhaustive small-scope checking (as TLC checks a specification): every sequence of the scope's
 * operations up to a depth, breadth first, states deduplicated by the model's canonical key ({@link
 * Canon}: ids renamed, unreachable objects dropped, pids and values permuted within the scope).
 * Breadth first means the first path to a state is a shortest one, so a divergence found comes with
 * a shortest reproducer.
 *
 * <p>What is checked:
 *
 * <ul>
 *   <li>the model's own properties on every transition and every new state ({@link
 *       ModelProperties}), without the implementation;
 *   <li>with {@link States#MODEL}, at every new state the implementation replays the state's path
 *       from boot beside the model ({@link Lockstep}): every result, then its invariants and its
 *       view;
 *   <li>with {@link States#MODEL_AND_IMPL}, every transition is replayed so, and a state is the
 *       model's key paired with the implementation's {@link ImplShape}: sequences that leave the
 *       model where it was but change the implementation (a read that maps a page, a pageout, a
 *       collapse) are searched on from, at the price of more states and a replay per transition.
 * </ul>
 *
 * <p>Determinism: each depth is searched in three phases (expand the frontier in parallel, merge,
 * check the new states in parallel), and of everything found in a phase the one first in (parent's
 * place in the frontier, operation's place in the alphabet) order wins. So the states, counts and
 * finding of a search do not depend on how many workers ran it or how they interleaved.
 *
 * <p>Thread safety: {@link #run} is called by one thread; its workers share only the seen-set (a
 * concurrent map), the frontier (read-only while they run) and atomic counters.
 */
public final class Exhaust {
  private Exhaust() {}

  /** What tells two states apart. */
  public enum States {
    /** The model's canonical key alone: the spec's state space. */
    MODEL("model"),
    /** The model's key and the implementation's shape. */
    MODEL_AND_IMPL("model+impl");

    private final String word;

    States(String word) {
      this.word = word;
    }

    public String word() {
      return word;
    }

    /** The mode called {@code w} on the command line. */
    public static Optional<States> named(String w) {
      for (States s : values()) {
        if (s.word.equals(w)) {
          return Optional.of(s);
        }
      }
      return Optional.empty();
    }
  }

  /**
   * What to search.
   *
   * @param scope the universe
   * @param depth operations after the prelude, at most
   * @param states what tells states apart
   * @param workers threads
   * @param maxSeconds stop after this long, within the depth being searched, which then does not
   *     count as searched (0: no limit)
   * @param impl whether the implementation is checked at all (false: the model's properties only)
   */
  public record Settings(
      Scope scope, int depth, States states, int workers, double maxSeconds, boolean impl) {
    public Settings {
      Objects.requireNonNull(scope, "scope");
      Objects.requireNonNull(states, "states");
      if (depth < 0 || workers < 1 || maxSeconds < 0) {
        throw new IllegalArgumentException("a depth of 0 or more, 1 or more workers");
      }
      if (states == States.MODEL_AND_IMPL && !impl) {
        throw new IllegalArgumentException("model+impl states need the implementation");
      }
    }
  }

  /**
   * One depth, searched.
   *
   * @param depth operations after the prelude
   * @param newStates states first reached at this depth
   * @param states states reached at this depth or before
   * @param modelStates distinct model states among them (equal to states with {@link States#MODEL})
   * @param transitions operations tried from the states of the depth before (0 for depth 0)
   * @param checked replays of the implementation at this depth
   * @param seconds since the search started, when this depth was done
   */
  public record Level(
      int depth,
      long newStates,
      long states,
      long modelStates,
      long transitions,
      long checked,
      double seconds) {}

  /** How far a search has got, now and then, for a progress line. */
  public record Progress(int depth, long states, long transitions, long checked, double seconds) {}

  /**
   * What was found: a shortest path (prelude included) to a divergence or a broken property.
   *
   * @param depth operations after the prelude
   * @param ops the whole path, prelude first, less the prelude's operations the divergence does not
   *     need
   * @param what a line saying what was found (operations counted in {@code ops})
   * @param divergence the divergence, when model and implementation disagreed; null for a model
   *     property
   */
  public record Finding(int depth, List<Op> ops, String what, Divergence divergence) {}

  /**
   * What a search did.
   *
   * @param levels every depth searched to the end, from 0
   * @param complete whether every depth up to the one asked for was searched to the end
   * @param finding what was found, if anything: the search stops at it
   * @param states states reached, the depth it stopped in included
   * @param transitions operations tried, the depth it stopped in included
   * @param exhaustions implementation replays that met an accepted out-of-memory failure (MEM-1)
   * @param seconds how long it took
   */
  public record Report(
      Settings settings,
      List<Level> levels,
      boolean complete,
      Optional<Finding> finding,
      long states,
      long transitions,
      long exhaustions,
      double seconds) {
    /** The deepest depth searched to the end, or -1. */
    public int depthReached() {
      return levels.isEmpty() ? -1 : levels.get(levels.size() - 1).depth();
    }
  }

  /** A state on a shortest path: the operation that reached it from its parent. */
  private static final class Node {
    final Node parent;
    final Op op;
    final int depth;
    State state; // dropped once the node's children are made

    Node(Node parent, Op op, int depth, State state) {
      this.parent = parent;
      this.op = op;
      this.depth = depth;
      this.state = state;
    }

    List<Op> path() {
      List<Op> ops = new ArrayList<>(depth);
      for (Node n = this; n.parent != null; n = n.parent) {
        ops.add(n.op);
      }
      Collections.reverse(ops);
      return ops;
    }
  }

  /** A child found in expansion: where it came from, so that the first one wins the merge. */
  private record Candidate(long order, Node parent, Op op, State state, Canon.Key model) {}

  /** A state's identity: the model's key, and the implementation's shape (0 when unused). */
  private record Id(Canon.Key model, long shape) {}

  /** Something found, and where: the least {@code order} wins. */
  private record Found(long order, int depth, List<Op> path, String what, Divergence divergence) {}

  /**
   * Searches with {@code s}, telling {@code progress} how far it got about every second and {@code
   * done} of each depth searched to the end.
   */
  public static Report run(Settings s, Consumer<Progress> progress, Consumer<Level> done) {
    return new Search(s, progress, done).run();
  }

  private static final class Search {
    final Settings s;
    final Consumer<Progress> progress;
    final Consumer<Level> done;
    final Scope scope;
    final List<Op> alphabet;
    final int[] pids;
    final long[] values;
    final Config config;
    final long t0 = System.nanoTime();
    final Set<Id> seen = ConcurrentHashMap.newKeySet();
    final Set<Canon.Key> seenModel = ConcurrentHashMap.newKeySet();
    final LongAdder transitions = new LongAdder();
    final LongAdder checked = new LongAdder();
    final LongAdder exhaustions = new LongAdder();
    final AtomicLong stopAt = new AtomicLong(Long.MAX_VALUE);
    final java.util.Queue<Found> found = new java.util.concurrent.ConcurrentLinkedQueue<>();
    volatile long nextProgress;
    volatile boolean aborted; // --seconds ran out within a depth
    int depthNow;

    Search(Settings s, Consumer<Progress> progress, Consumer<Level> done) {
      this.s = s;
      this.progress = progress;
      this.done = done;
      this.scope = s.scope();
      this.alphabet = scope.ops();
      this.pids = scope.pids();
      this.values = scope.values();
      this.config = scope.config();
      this.nextProgress = t0 + 1_000_000_000L;
    }

    double seconds() {
      return (System.nanoTime() - t0) / 1e9;
    }

    Report run() {
      ExecutorService pool = Executors.newFixedThreadPool(s.workers());
      try {
        return search(pool);
      } finally {
        pool.shutdownNow();
      }
    }

    private Report search(ExecutorService pool) {
      List<Level> levels = new ArrayList<>();
      State start = Model.boot();
      for (Op op : scope.prelude()) {
        start = Model.step(start, op).state();
      }
      Canon.Key rootKey = Canon.key(start, pids, values);
      Node root = new Node(null, null, 0, start);
      long rootShape = 0;
      if (s.impl()) {
        Lockstep both = replay(root, null, 0, 0);
        if (both == null) {
          return report(levels, false);
        }
        rootShape =
            s.states() == States.MODEL_AND_IMPL ? ImplShape.of(both.impl(), rootKey.order()) : 0;
      }
      Optional<String> broken = ModelProperties.ofState(start);
      if (broken.isPresent()) {
        found.add(new Found(0, 0, List.of(), broken.get(), null));
        return report(levels, false);
      }
      seen.add(new Id(rootKey, rootShape));
      seenModel.add(rootKey);
      levels.add(new Level(0, 1, 1, 1, 0, checked.sum(), seconds()));
      done.accept(levels.get(0));
      List<Node> frontier = List.of(root);
      for (int depth = 1; depth <= s.depth() && !frontier.isEmpty(); depth++) {
        depthNow = depth;
        if (timeUp()) {
          return report(levels, false);
        }
        long before = transitions.sum();
        List<Node> next = expand(pool, frontier, depth);
        if (!found.isEmpty() || aborted) {
          return report(levels, false);
        }
        if (s.impl() && s.states() == States.MODEL) {
          checkAll(pool, next);
          if (!found.isEmpty() || aborted) {
            return report(levels, false);
          }
        }
        levels.add(
            new Level(
                depth,
                next.size(),
                seen.size(),
                seenModel.size(),
                transitions.sum() - before,
                checked.sum(),
                seconds()));
        done.accept(levels.get(levels.size() - 1));
        frontier = next;
      }
      return report(levels, true);
    }

    private boolean timeUp() {
      return s.maxSeconds() > 0 && seconds() >= s.maxSeconds();
    }

    private Report report(List<Level> levels, boolean complete) {
      Optional<Finding> f =
          found.stream()
              .min((a, b) -> Long.compare(a.order(), b.order()))
              .map(
                  x -> {
                    List<Op> ops = new ArrayList<>(scope.prelude());
                    ops.addAll(x.path());
                    if (x.divergence() == null) {
                      return new Finding(x.depth(), List.copyOf(ops), x.what(), null);
                    }
                    Divergence d = x.divergence();
                    for (Op p : scope.prelude()) {
                      List<Op> tried = new ArrayList<>(ops);
                      tried.remove(p);
                      Divergence e = diverges(tried);
                      if (e != null && e.kind() == d.kind()) {
                        ops = tried;
                        d = e;
                      }
                    }
                    return new Finding(x.depth(), List.copyOf(ops), d.getMessage(), d);
                  });
      return new Report(
          s,
          List.copyOf(levels),
          complete && f.isEmpty(),
          f,
          seen.size(),
          transitions.sum(),
          exhaustions.sum(),
          seconds());
    }

    /**
     * How {@code ops} diverge, replayed on a fresh implementation beside the model, or null. The
     * finding leaves out each prelude operation in turn and keeps it out if the rest still diverges
     * the same way: the depth stays the search's, the reproducer gets shorter.
     */
    private Divergence diverges(List<Op> ops) {
      try {
        lockstep(ops);
        return null;
      } catch (Divergence d) {
        return d;
      }
    }

    /**
     * {@code ops} run on a fresh implementation beside the model, then its invariants and view
     * checked; throws the first {@link Divergence}.
     */
    private Lockstep lockstep(List<Op> ops) {
      Lockstep both = new Lockstep(new ImplVm(config), 0, 0);
      for (Op op : ops) {
        both.apply(op);
      }
      both.checkNow();
      return both;
    }

    /** The new states one operation from {@code frontier}, in first-found order. */
    private List<Node> expand(ExecutorService pool, List<Node> frontier, int depth) {
      Map<Id, Candidate> level = new ConcurrentHashMap<>();
      int n = alphabet.size();
      parallel(
          pool,
          frontier.size(),
          i -> {
            if (timeUp()) {
              aborted = true;
              return;
            }
            Node parent = frontier.get(i);
            for (int j = 0; j < n; j++) {
              long order = (long) i * n + j;
              if (order > stopAt.get()) {
                return;
              }
              Op op = alphabet.get(j);
              Outcome o = Model.step(parent.state, op);
              transitions.increment();
              Optional<String> broken = ModelProperties.ofStep(parent.state, op, o);
              if (broken.isPresent()) {
                List<Op> path = parent.path();
                path.add(op);
                found(order, depth, path, broken.get(), null);
                return;
              }
              Canon.Key key = Canon.key(o.state(), pids, values);
              long shape = 0;
              if (s.states() == States.MODEL_AND_IMPL) {
                Lockstep both = replay(parent, op, order, depth);
                if (both == null) {
                  return;
                }
                shape = ImplShape.of(both.impl(), key.order());
              }
              Id id = new Id(key, shape);
              if (seen.contains(id)) {
                continue;
              }
              Candidate c = new Candidate(order, parent, op, o.state(), key);
              level.merge(id, c, (a, b) -> a.order() <= b.order() ? a : b);
            }
            tick();
          });
      List<Candidate> all = new ArrayList<>(level.values());
      all.sort((a, b) -> Long.compare(a.order(), b.order()));
      List<Node> next = new ArrayList<>(all.size());
      for (Map.Entry<Id, Candidate> e : level.entrySet()) {
        seen.add(e.getKey());
      }
      for (Candidate c : all) {
        seenModel.add(c.model());
        next.add(new Node(c.parent(), c.op(), depth, c.state()));
      }
      // Properties of the new states, and their parents' states dropped (their paths stay).
      for (int i = 0; i < next.size(); i++) {
        Optional<String> broken = ModelProperties.ofState(next.get(i).state);
        if (broken.isPresent()) {
          found(all.get(i).order(), depth, next.get(i).path(), broken.get(), null);
          break;
        }
      }
      for (Node p : frontier) {
        p.state = null;
      }
      return next;
    }

    /** Replays every node of {@code next} on the implementation ({@link States#MODEL}). */
    private void checkAll(ExecutorService pool, List<Node> next) {
      parallel(
          pool,
          next.size(),
          i -> {
            if (i > stopAt.get()) {
              return;
            }
            if (timeUp()) {
              aborted = true;
              return;
            }
            Node node = next.get(i);
            replay(node.parent, node.op, i, node.depth);
            tick();
          });
    }

    /**
     * The prelude and {@code node}'s path, then {@code op} (if not null), replayed on a fresh
     * implementation beside the model, then its invariants and view checked; null when they
     * diverged (and it was recorded as found at {@code orderInLevel}).
     */
    private Lockstep replay(Node node, Op op, long orderInLevel, int depth) {
      checked.increment();
      List<Op> path = node.path();
      if (op != null) {
        path.add(op);
      }
      List<Op> all = new ArrayList<>(scope.prelude());
      all.addAll(path);
      Lockstep both;
      try {
        both = lockstep(all);
      } catch (Divergence d) {
        found(orderInLevel, depth, path, d.getMessage(), d);
        return null;
      }
      exhaustions.add(both.exhaustions());
      return both;
    }

    private void found(long order, int depth, List<Op> path, String what, Divergence d) {
      found.add(new Found(order, depth, path, what, d));
      stopAt.accumulateAndGet(order, Math::min);
    }

    private void tick() {
      long now = System.nanoTime();
      if (now - nextProgress >= 0) {
        synchronized (this) {
          if (now - nextProgress >= 0) {
            nextProgress = now + 1_000_000_000L;
            progress.accept(
                new Progress(depthNow, seen.size(), transitions.sum(), checked.sum(), seconds()));
          }
        }
      }
    }

    /** Runs {@code body} for 0..n-1 on the pool's workers, in chunks, and waits for them all. */
    private void parallel(ExecutorService pool, int n, IntConsumer body) {
      AtomicInteger cursor = new AtomicInteger();
      int chunk = Math.max(1, Math.min(64, n / (s.workers() * 8) + 1));
      List<Future<?>> tasks = new ArrayList<>();
      for (int w = 0; w < s.workers(); w++) {
        tasks.add(
            pool.submit(
                () -> {
                  // Every replay takes its frames from one stripe, whichever worker runs it, so
                  // that the implementation's shape (pageout's choices follow frame order) and
                  // hence the search do not depend on the worker.
                  Scheduler.pinSetupThread();
                  for (int at = cursor.getAndAdd(chunk); at < n; at = cursor.getAndAdd(chunk)) {
                    for (int i = at; i < Math.min(n, at + chunk); i++) {
                      body.accept(i);
                    }
                  }
                }));
      }
      for (Future<?> t : tasks) {
        try {
          t.get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
          Throwable c = e.getCause();
          if (c instanceof RuntimeException) {
            throw (RuntimeException) c;
          }
          if (c instanceof Error) {
            throw (Error) c;
          }
          throw new IllegalStateException(c);
        }
      }
    }
  }
}
