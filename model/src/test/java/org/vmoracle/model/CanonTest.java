package org.vmoracle.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/** The canonical key of exhaustive search: equal exactly for states with the same future. */
class CanonTest {
  private static final long A = Boot.MMAP_BASE;
  private static final int[] PIDS = {1, 2};
  private static final long[] VALUES = {0x5151, 0x7272};

  private static State run(Op... ops) {
    State s = Model.boot();
    for (Op op : ops) {
      s = Model.step(s, op).state();
    }
    return s;
  }

  private static Op anon(int pid) {
    return new Op.Mmap(pid, A, 2, Prot.RW, Sharing.PRIVATE, new Source.Anon(), true);
  }

  private static Canon.Key key(State s) {
    return Canon.key(s, PIDS, VALUES);
  }

  @Test
  void key_sameStateByTwoPaths_isEqualThoughIdsDiffer() {
    // Mapping then unmapping a file leaves a dead object and a higher nextId behind.
    State a = run(new Op.Spawn(1), anon(1));
    State b =
        run(
            new Op.Spawn(1),
            new Op.Mmap(1, A, 2, Prot.RW, Sharing.SHARED, new Source.Anon(), true),
            new Op.Munmap(1, A, 2),
            anon(1));
    assertNotEquals(a.nextId(), b.nextId());
    assertEquals(key(a), key(b));
  }

  @Test
  void key_pidsSwapped_isEqual() {
    State a = run(new Op.Spawn(1), anon(1), new Op.Spawn(2));
    State b = run(new Op.Spawn(2), anon(2), new Op.Spawn(1));
    assertEquals(key(a), key(b));
    // The pid at each place of one key's order plays the part of the pid at that place in the
    // other.
    int[] oa = key(a).order();
    int[] ob = key(b).order();
    assertArrayEquals(
        new int[] {3 - oa[0], 3 - oa[1]}, ob, "pid 2 of b holds what pid 1 of a holds");
  }

  @Test
  void key_valuesSwapped_isEqual_butNotAValueOutsideTheSet() {
    State a = run(new Op.Spawn(1), anon(1), new Op.Write(1, A, VALUES[0]));
    State b = run(new Op.Spawn(1), anon(1), new Op.Write(1, A, VALUES[1]));
    State c = run(new Op.Spawn(1), anon(1), new Op.Write(1, A, 99));
    assertEquals(key(a), key(b));
    assertNotEquals(key(a), key(c));
    // Without the value symmetry the two differ.
    assertNotEquals(Canon.key(a, PIDS, new long[0]), Canon.key(b, PIDS, new long[0]));
  }

  @Test
  void key_twoValuesStored_swappingOnlyOneIsADifferentState() {
    State a =
        run(
            new Op.Spawn(1),
            anon(1),
            new Op.Write(1, A, VALUES[0]),
            new Op.Write(1, A + 8, VALUES[1]));
    State b =
        run(
            new Op.Spawn(1),
            anon(1),
            new Op.Write(1, A, VALUES[0]),
            new Op.Write(1, A + 8, VALUES[0]));
    assertNotEquals(key(a), key(b));
  }

  @Test
  void key_forkedOrClonedOrSharedByInheritance_areThreeStates() {
    // PROC-4, INH-2, INH-3: who shares what is part of the state, not only what is seen.
    State forked = run(new Op.Spawn(1), anon(1), new Op.Fork(1, 2));
    State cloned = run(new Op.Spawn(1), anon(1), new Op.Clone(1, 2));
    State shared =
        run(
            new Op.Spawn(1),
            anon(1),
            new Op.Minherit(1, A, 2, Inherit.SHARE),
            new Op.Fork(1, 2),
            new Op.Minherit(1, A, 2, Inherit.COPY));
    assertNotEquals(key(forked), key(cloned));
    assertNotEquals(key(forked), key(shared));
    assertNotEquals(key(cloned), key(shared));
  }

  @Test
  void key_randomStates_equalKeysHaveEqualViewsUpToTheSymmetry() {
    // Soundness in the small: states with one key show the same, once pids are put in key order.
    SplittableRandom r = new SplittableRandom(5);
    Op[] alphabet = {
      new Op.Spawn(2),
      new Op.Fork(1, 2),
      new Op.Fork(2, 1),
      anon(1),
      anon(2),
      new Op.Exit(2),
      new Op.Write(1, A, VALUES[0]),
      new Op.Write(2, A, VALUES[1]),
      new Op.Munmap(1, A, 1),
      new Op.Minherit(1, A, 2, Inherit.SHARE),
      new Op.Write(1, A + 4096, VALUES[1])
    };
    java.util.Map<Canon.Key, State> seen = new java.util.HashMap<>();
    int collisions = 0;
    for (int run = 0; run < 400; run++) {
      State s = run(new Op.Spawn(1));
      for (int i = 0; i < 5; i++) {
        s = Model.step(s, alphabet[r.nextInt(alphabet.length)]).state();
        Canon.Key k = key(s);
        State other = seen.putIfAbsent(k, s);
        if (other != null) {
          collisions++;
          assertEquals(shown(other, key(other)), shown(s, k));
        }
      }
    }
    assertTrue(collisions > 100, "the random walk should meet states again: " + collisions);
  }

  /** What the processes show, listed in key order with values renamed to their first use. */
  private static String shown(State s, Canon.Key k) {
    StringBuilder sb = new StringBuilder();
    java.util.Map<Long, Long> rename = new java.util.HashMap<>();
    for (int pid : k.order()) {
      org.vmoracle.spec.ProcessView v = StateCheck.viewOf(s, pid);
      if (v == null) {
        sb.append("dead;");
        continue;
      }
      sb.append(v.mapsText().replace("pid " + pid, "pid"));
      for (java.util.Map.Entry<Long, Long> w : v.words().entrySet()) {
        long val = w.getValue();
        if (val == VALUES[0] || val == VALUES[1]) {
          val = rename.computeIfAbsent(val, x -> (long) rename.size());
        }
        sb.append(Long.toHexString(w.getKey())).append('=').append(val).append(',');
      }
      sb.append(';');
    }
    return sb.toString();
  }
}
