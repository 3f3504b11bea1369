package org.vmoracle.checks.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.ProcessView;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;
import org.vmoracle.spec.View;

/** How the differential runners word what they find: {@link Lockstep} and {@link CheckedImpl}. */
class DiffReportTest {

  private static View words(int pid, Map<Long, Long> words) {
    return new View(
        new TreeMap<>(Map.of(pid, new ProcessView(pid, List.of(), new TreeMap<>(words)))),
        new TreeMap<>(),
        new TreeMap<>());
  }

  @Test
  void difference_wordsOnly_partsJoinedWithoutALeadingSeparator() {
    // VIEW-1: the word a process reads differs; the report is what replay prints after the colon.
    String d =
        Lockstep.difference(
            words(2, Map.of(0x10001000L, 70L, 0x10001008L, 0x12345678L)),
            words(2, Map.of(0x10001008L, 5L)));
    assertEquals(
        "pid 2 word 0x10001000: model 70, impl 0; pid 2 word 0x10001008: model 0x12345678, impl 5",
        d);
  }

  @Test
  void difference_implOnlyWord_named() {
    assertEquals(
        "pid 1 word 0x2000: model 0, impl 9",
        Lockstep.difference(words(1, Map.of()), words(1, Map.of(0x2000L, 9L))));
  }

  private static final Op SPAWN = new Op.Spawn(1);
  private static final Op MMAP =
      new Op.Mmap(1, 0, 4, Prot.RW, Sharing.PRIVATE, new Source.Anon(), false);
  private static final Op WRITE = new Op.Write(1, 0x10000008L, 42);
  private static final Op MUNMAP = new Op.Munmap(1, 0x10000000L, 4);

  private static ImplVm stalePtes() {
    return new ImplVm(Config.defaults().withFrames(256).withBug(Bug.STALE_PTE_AFTER_MUNMAP));
  }

  @Test
  void checkedImpl_brokenInvariant_divergenceNamingTheOperation() {
    // UNMAP-1: munmap leaves no PTE behind; the injected bug leaves one, which the invariants see.
    CheckedImpl c = new CheckedImpl(stalePtes());
    c.apply(SPAWN);
    c.apply(MMAP);
    c.apply(WRITE);
    Divergence d = assertThrows(Divergence.class, () -> c.apply(MUNMAP));
    assertEquals(Divergence.Kind.INVARIANT, d.kind());
    assertEquals(3, d.step());
    assertEquals(MUNMAP, d.op());
  }

  @Test
  void checkedImpl_everyN_checksOnlyThenAndByCheckNow() {
    CheckedImpl c = new CheckedImpl(stalePtes(), 100);
    c.apply(SPAWN);
    c.apply(MMAP);
    c.apply(WRITE);
    c.apply(MUNMAP); // the 4th: not checked
    c.apply(new Op.Spawn(2));
    Divergence d = assertThrows(Divergence.class, c::checkNow);
    assertEquals(Divergence.Kind.INVARIANT, d.kind());
    assertEquals(4, d.step());
    assertTrue(d.getMessage().startsWith("INVARIANT at operation 4 (spawn 2): "), d.getMessage());
  }

  @Test
  void checkedImpl_negativeInterval_rejected() {
    assertThrows(IllegalArgumentException.class, () -> new CheckedImpl(stalePtes(), -1));
  }

  @Test
  void lockstepAndCheckedImpl_sameBrokenInvariant_sameDetail() {
    Lockstep both = new Lockstep(stalePtes(), 1, 1);
    CheckedImpl impl = new CheckedImpl(stalePtes());
    for (Op op : List.of(SPAWN, MMAP, WRITE)) {
      both.apply(op);
      impl.apply(op);
    }
    Divergence a = assertThrows(Divergence.class, () -> both.apply(MUNMAP));
    Divergence b = assertThrows(Divergence.class, () -> impl.apply(MUNMAP));
    assertEquals(a.kind(), b.kind());
    assertEquals(a.detail(), b.detail());
    assertEquals(a.getMessage(), b.getMessage());
  }
}
