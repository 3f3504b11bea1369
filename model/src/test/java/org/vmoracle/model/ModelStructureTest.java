package org.vmoracle.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.pcollections.TreePMap;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;
import org.vmoracle.spec.View;

/** Properties of the model's representation that no rule states but the design relies on. */
class ModelStructureTest {

  private static final long BASE = Boot.MMAP_BASE;

  private static State run(State s, Op... ops) {
    for (Op op : ops) {
      s = Model.step(s, op).state();
    }
    return s;
  }

  private static Op.Mmap anon(int pid, long pages) {
    return new Op.Mmap(pid, 0, pages, Prot.RW, Sharing.PRIVATE, new Source.Anon(), false);
  }

  @Test
  void fork_privatePages_childSharesParentsPageMapStructurally() {
    // COW-1: a fork copies no page; the child's overlay holds the parent's persistent page map.
    State s = run(Model.boot(), new Op.Spawn(1), anon(1, 64));
    for (int i = 0; i < 64; i++) {
      s = run(s, new Op.Write(1, BASE + i * Boot.PAGE_SIZE, i + 1));
    }
    s = run(s, new Op.Fork(1, 2));
    Region parent = s.regionsOf(1).get(BASE);
    Region child = s.regionsOf(2).get(BASE);
    assertTrue(parent.obj() != child.obj(), "the child has an overlay of its own");
    assertSame(s.obj(parent.obj()).pages(), s.obj(child.obj()).pages());
  }

  @Test
  void step_failure_returnsTheSameStateInstance() {
    // ERR-1: a failed operation changes nothing, so the model hands back the very same state.
    State s = run(Model.boot(), new Op.Spawn(1), anon(1, 1));
    List<Op> failing =
        List.of(
            new Op.Mlock(1, BASE, 2),
            new Op.Minherit(1, BASE, 2, org.vmoracle.spec.Inherit.NONE),
            new Op.Munmap(1, BASE + 8, 1),
            new Op.Read(1, BASE + Boot.PAGE_SIZE),
            new Op.Fork(3, 4),
            new Op.Spawn(1));
    for (Op op : failing) {
      Outcome o = Model.step(s, op);
      assertTrue(o.result() instanceof Result.Failed, op + " should fail");
      assertSame(s, o.state(), op + " must leave the state as it was");
    }
  }

  @Test
  void step_anyOperation_leavesItsInputUntouched() {
    // The model is pure: a step never changes the state it was given.
    State s = run(Model.boot(), new Op.Spawn(1), anon(1, 4), new Op.Write(1, BASE, 5));
    View before = Model.view(s);
    run(
        s,
        new Op.Write(1, BASE, 6),
        new Op.Munmap(1, BASE, 4),
        new Op.Exec(1, "dynamic"),
        new Op.File("bin/static", 0));
    assertEquals(before, Model.view(s));
  }

  @Test
  void munmap_manyMappings_unreachableObjectsAreSwept() {
    // Objects nothing maps are dropped, so a long hunt does not grow the state without bound.
    State s = run(Model.boot(), new Op.Spawn(1));
    for (int i = 0; i < 10_000; i++) {
      Outcome o = Model.step(s, anon(1, 1));
      assertEquals(Result.value(BASE), o.result());
      s = run(o.state(), new Op.Munmap(1, BASE, 1));
    }
    assertTrue(s.objects().size() < 200, "objects kept: " + s.objects().size());
  }

  @Test
  void mprotect_holeAfterChange_keepsTheChangeAndFails() {
    // PROT-3: like Linux, the part before the hole stays changed.
    State s = run(Model.boot(), new Op.Spawn(1), anon(1, 1));
    Outcome o = Model.step(s, new Op.Mprotect(1, BASE, 2, Prot.R));
    assertEquals(Result.of(Errno.ENOMEM), o.result());
    assertEquals(Prot.R, o.state().regionsOf(1).get(BASE).prot());
  }

  /** Placement the plain way: walk the regions from MMAP_BASE (PLACE-1, PLACE-2, PLACE-3). */
  private static long placeByRegions(TreePMap<Long, Region> regions, long bytes) {
    long align = bytes % Boot.SEGMENT_SIZE == 0 ? Boot.SEGMENT_SIZE : Boot.PAGE_SIZE;
    long at = Boot.MMAP_BASE;
    for (Region r : regions.values()) {
      if (r.end() <= at) {
        continue;
      }
      if (r.start() >= at + bytes) {
        break;
      }
      at = (r.end() + align - 1) & -align;
    }
    return at + bytes <= Boot.PLACE_MAX ? at : -1;
  }

  @Test
  void runs_afterRandomMapChanges_areTheUnionOfTheRegionsAndPlaceAlike() {
    // PLACE-1, PLACE-2: the runs the model places by are exactly what its regions map.
    SplittableRandom random = new SplittableRandom(7);
    State s = run(Model.boot(), new Op.Spawn(1), new Op.Spawn(2));
    Prot[] prots = {Prot.R, Prot.RW, Prot.NONE};
    for (int i = 0; i < 4000; i++) {
      int pid = 1 + random.nextInt(3);
      long addr = BASE + random.nextInt(96) * Boot.PAGE_SIZE;
      long pages = random.nextInt(10) == 0 ? 512 : 1 + random.nextInt(6);
      Op op;
      switch (random.nextInt(9)) {
        case 0:
        case 1:
        case 2:
          op = anon(pid, pages);
          break;
        case 3:
          op = new Op.Mmap(pid, addr, pages, Prot.RW, Sharing.SHARED, new Source.Anon(), true);
          break;
        case 4:
        case 5:
          op = new Op.Munmap(pid, addr, pages);
          break;
        case 6:
          op = new Op.Mprotect(pid, addr, pages, prots[random.nextInt(prots.length)]);
          break;
        case 7:
          op =
              random.nextBoolean()
                  ? new Op.Minherit(pid, addr, pages, org.vmoracle.spec.Inherit.NONE)
                  : new Op.Fork(pid, 1 + random.nextInt(3));
          break;
        default:
          op = random.nextBoolean() ? new Op.Exit(pid) : new Op.Spawn(pid);
          break;
      }
      s = run(s, op);
      for (Map.Entry<Integer, Integer> p : s.processes().entrySet()) {
        int space = p.getValue();
        TreePMap<Long, Region> regions = s.spaces().get(space);
        assertEquals(Runs.of(regions), s.runsOf(space), "runs after " + op);
        for (long want : new long[] {1, 3, 512}) {
          long bytes = want * Boot.PAGE_SIZE;
          assertEquals(
              placeByRegions(regions, bytes), Runs.place(s.runsOf(space), bytes), "after " + op);
        }
      }
    }
  }
}
