package org.vmoracle.checks.exhaust;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.vmoracle.model.Model;
import org.vmoracle.model.Outcome;
import org.vmoracle.model.State;
import org.vmoracle.model.StateCheck;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.ProcessView;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.View;

/**
 * Properties of the model alone, checked by {@code exhaust} on every state and every transition it
 * reaches; the implementation plays no part. Each is a consequence of the rules that the model
 * could break without any single rule's test noticing:
 *
 * <ul>
 *   <li><b>The state invariant</b> ({@link StateCheck#violation}).
 *   <li><b>Nothing but files and segments outlives every process</b>: exiting every live process
 *       leaves no anonymous memory reached (PROC-5; {@link StateCheck#residue}).
 *   <li><b>Invisible operations are invisible</b>: pageout and collapse leave the view as it was
 *       (SYS-1, SYS-2), and so does every failure but mprotect's (ERR-1, PROT-3).
 *   <li><b>Isolation</b>: an operation of one process changes nothing another address space can see
 *       (maps or words), but for a store into memory the other space also shows: the same object (a
 *       shared mapping, or a private overlay shared by INH-2), or a private mapping that reads
 *       through to the stored-to object where it has no copy of its own (COW-4, FILE-7). So no
 *       process reads a word of another's private memory that it did not inherit. Operations on
 *       files and segments by name ({@code file}, {@code fwrite}, {@code shmrm}) are not any one
 *       process's and are not checked here.
 * </ul>
 */
final class ModelProperties {
  private ModelProperties() {}

  /** The first property {@code s} breaks, or empty. */
  static Optional<String> ofState(State s) {
    Optional<String> bad = StateCheck.violation(s);
    if (bad.isPresent()) {
      return Optional.of("model state invariant: " + bad.get());
    }
    State t = s;
    for (int pid : s.processes().keySet()) {
      t = Model.step(t, new Op.Exit(pid)).state();
    }
    State empty = t;
    bad = StateCheck.violation(empty).or(() -> StateCheck.residue(empty));
    return bad.map(b -> "after every process exits (PROC-5): " + b);
  }

  /** The first property the step {@code before} --{@code op}--> {@code o} breaks, or empty. */
  static Optional<String> ofStep(State before, Op op, Outcome o) {
    State after = o.state();
    if (after == before) {
      return Optional.empty(); // nothing changed: nothing to break
    }
    boolean invisible = op instanceof Op.Pageout || op instanceof Op.Collapse;
    boolean failed = o.result() instanceof Result.Failed && !(op instanceof Op.Mprotect);
    int actor = actor(op);
    if (invisible || failed) {
      View was = Model.view(before);
      View now = Model.view(after);
      if (!was.equals(now)) {
        return Optional.of(
            (invisible ? "SYS-1/SYS-2: " : "ERR-1: a failed ")
                + op
                + " changed the view: "
                + org.vmoracle.checks.diff.Lockstep.difference(was, now));
      }
      return Optional.empty();
    }
    return actor < 0 ? Optional.empty() : isolation(before, after, op, actor);
  }

  private static Optional<String> isolation(State before, State after, Op op, int actor) {
    Integer space = before.processes().get(actor);
    int target = -1;
    if (op instanceof Op.Write) {
      target = StateCheck.objectAt(before, actor, ((Op.Write) op).addr());
    }
    for (Map.Entry<Integer, Integer> p : before.processes().entrySet()) {
      int q = p.getKey();
      if (q == actor
          || Objects.equals(p.getValue(), space)
          || StateCheck.untouched(before, after, q)) {
        continue; // the actor's own space (its clones included), or nothing it shows changed
      }
      ProcessView then = StateCheck.viewOf(before, q);
      ProcessView later = StateCheck.viewOf(after, q);
      if (later == null) {
        return Optional.of("isolation: " + op + " of pid " + actor + " ended pid " + q);
      }
      if (!then.maps().equals(later.maps())) {
        return Optional.of(
            "isolation: " + op + " of pid " + actor + " changed pid " + q + "'s maps");
      }
      if (then.words().equals(later.words())) {
        continue;
      }
      for (long addr : changed(then.words(), later.words())) {
        int shown = StateCheck.objectAt(before, q, addr);
        boolean same = target >= 0 && shown == target;
        boolean through =
            target >= 0
                && StateCheck.readsThrough(before, target) == target
                && StateCheck.readsThrough(before, shown) == target;
        if (!same && !through) {
          return Optional.of(
              String.format(
                  "isolation: %s of pid %d changed pid %d's word 0x%x, which shows none of the"
                      + " memory stored to",
                  op, actor, q, addr));
        }
      }
    }
    return Optional.empty();
  }

  /** The addresses whose word differs between {@code a} and {@code b}. */
  private static java.util.Set<Long> changed(Map<Long, Long> a, Map<Long, Long> b) {
    java.util.Set<Long> out = new java.util.TreeSet<>();
    for (Map.Entry<Long, Long> e : a.entrySet()) {
      if (!e.getValue().equals(b.get(e.getKey()))) {
        out.add(e.getKey());
      }
    }
    for (Long k : b.keySet()) {
      if (!a.containsKey(k)) {
        out.add(k);
      }
    }
    return out;
  }

  /**
   * The pid whose memory {@code op} acts on, or -1 for operations on files and segments by name.
   */
  private static int actor(Op op) {
    return op.accept(
        new Op.Visitor<Integer>() {
          public Integer spawn(Op.Spawn o) {
            return -1; // a new space: nobody else's changes
          }

          public Integer fork(Op.Fork o) {
            return o.parent();
          }

          public Integer clone(Op.Clone o) {
            return o.parent();
          }

          public Integer exec(Op.Exec o) {
            return o.pid();
          }

          public Integer exit(Op.Exit o) {
            return o.pid();
          }

          public Integer mmap(Op.Mmap o) {
            return o.pid();
          }

          public Integer munmap(Op.Munmap o) {
            return o.pid();
          }

          public Integer mprotect(Op.Mprotect o) {
            return o.pid();
          }

          public Integer minherit(Op.Minherit o) {
            return o.pid();
          }

          public Integer mlock(Op.Mlock o) {
            return o.pid();
          }

          public Integer munlock(Op.Munlock o) {
            return o.pid();
          }

          public Integer read(Op.Read o) {
            return o.pid();
          }

          public Integer write(Op.Write o) {
            return o.pid();
          }

          public Integer file(Op.File o) {
            return -1;
          }

          public Integer fwrite(Op.Fwrite o) {
            return -1;
          }

          public Integer fread(Op.Fread o) {
            return -1;
          }

          public Integer shmget(Op.Shmget o) {
            return -1;
          }

          public Integer shmrm(Op.Shmrm o) {
            return -1;
          }

          public Integer pageout(Op.Pageout o) {
            return -1;
          }

          public Integer collapse(Op.Collapse o) {
            return o.pid();
          }
        });
  }
}
