package org.vmoracle.impl.collapse;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.Cow;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.User;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.object.PageMap;
import org.vmoracle.impl.pageout.Pageout;
import org.vmoracle.impl.pmap.Pmap;
import org.vmoracle.impl.pmap.Pte;

/**
 * Collapsing a copy-on-write group's chain (DragonFly's {@code vm_fault_collapse}, seed 000).
 *
 * <h2>Overview</h2>
 *
 * Every page the group's members can see through the anonymous levels below the front is pulled up
 * into the front (copied into a new frame of the front), then those levels are cut from the chain.
 * The chain's terminal object is kept when it is a file, a segment, shared anonymous memory or the
 * shared page, so a private file mapping keeps seeing the file's pages it never copied (the seed's
 * "still to do": retain the backing vnode; kernels.md R22). Levels no other group uses are then
 * freed, with every page they held: that is where completely shadowed anonymous pages go (the
 * seed's other "still to do").
 *
 * <p>Pulling a page up into a front that other groups share (a front with {@code needsCopy}) is
 * harmless to them: every chain that includes an object has the same levels below it, so the copied
 * page holds what they would read through to anyway (R20: nothing visible changes).
 *
 * <h2>Concurrency</h2>
 *
 * Requires the map lock exclusive.
 */
public final class Collapse {
  private Collapse() {}

  /** Callback to free an object's pages when it loses its last user. */
  public interface Releaser {
    void releaseIfUnused(VmObject o);
  }

  /**
   * Collapses {@code c}'s chain; false (and nothing visible changed, every frame given back) when
   * memory runs out. The caller holds the map lock exclusive.
   */
  public static boolean collapse(Machine m, Pageout pageout, Cow c, Releaser releaser) {
    assert m.lock.heldExclusively() : "Collapse.collapse: the caller holds the map lock exclusive";
    VmObject[] chain = c.chain();
    VmObject terminal = chain[chain.length - 1];
    // What the chain maps stays: a file (the seed's "retain backing vnodes"), a segment, the
    // shared page, or shared anonymous memory (a child's copy of a shared range, INH-4).
    boolean keepTerminal =
        (terminal.kind != VmObject.Kind.ANON || terminal.sharedAnon)
            && !m.config.has(Bug.COLLAPSE_DROPS_FILE);
    int cut = keepTerminal ? chain.length - 1 : chain.length; // levels [1, cut) go
    if (cut <= 1) {
      return true; // nothing below the front to collapse
    }
    VmObject front = chain[0];
    // Make the frames free first, so that no pageout runs while pages are pulled (it could send a
    // pulled copy to swap before the PTEs are pointed at it). With the lock exclusive, nobody
    // else takes them meanwhile.
    long need = toPull(c, chain, cut).size();
    if (m.mem.freeFrames() < need) {
      pageout.run(m, need - m.mem.freeFrames());
      need = toPull(c, chain, cut).size();
      if (m.mem.freeFrames() < need) {
        return false;
      }
    }
    List<Long> pulled = new ArrayList<>();
    List<Old> olds = new ArrayList<>(); // the deeper frames the pulled pages were
    for (long i : toPull(c, chain, cut)) {
      VmObject below = levelHolding(chain, cut, i);
      long slot = below.pages.get(i);
      if (VmObject.isFrame(slot)) {
        olds.add(new Old(i, (int) slot, below));
      } else if (m.config.has(Bug.COLLAPSE_SHARES_SWAP_SLOT)) {
        front.pages.put(i, slot); // injected: the slot is moved up, and the level below keeps it
        continue;
      }
      int nf = m.mem.allocate();
      if (nf < 0) {
        for (long j : pulled) {
          long s = front.pages.remove(j); // pageout may have sent a pulled page to swap
          if (VmObject.isFrame(s)) {
            m.mem.free((int) s);
          } else {
            m.swap.free(VmObject.swapSlot(s));
          }
        }
        return false;
      }
      if (VmObject.isFrame(slot)) {
        m.mem.copyFrame((int) slot, nf);
      } else {
        long[] data = m.swap.get(VmObject.swapSlot(slot));
        m.mem.storePage(nf, data);
      }
      m.own(nf, front, i);
      front.pages.put(i, nf);
      pulled.add(i);
    }
    // Every PTE that shows a pulled page from below the front now shows the front's copy: the
    // members of this group, and of every other group whose chain includes the front (they read
    // through it too, so their PTEs must not keep showing a deeper level it now shadows). A
    // reverse map that keeps records finds them page by page through the old frames' records;
    // the backing scan's are the group members themselves, walked entry by entry.
    if (m.rmap.keepsRecords()) {
      for (Old old : olds) {
        m.rmap.forEachMapping(
            old.level(),
            old.index(),
            old.frame(),
            (e, va, pte) -> repointOne(m, e, va, pte, front, old.index()));
      }
    } else {
      for (User u : new ArrayList<>(front.users)) {
        Cow g = u.group();
        if (g == null) {
          continue;
        }
        VmObject[] gc = g.chain();
        int frontLevel = java.util.Arrays.asList(gc).indexOf(front);
        for (MapEntry e : g.members) {
          repoint(m, e, gc, frontLevel, front, pulled);
        }
      }
    }
    VmObject[] shorter = keepTerminal ? new VmObject[] {front, terminal} : new VmObject[] {front};
    c.setChain(shorter);
    for (int level = 1; level < cut; level++) {
      chain[level].users.remove(c);
      releaser.releaseIfUnused(chain[level]);
      Shadowed.free(m, chain[level]); // what only this group read through to is dead now
    }
    m.counters.collapses.increment();
    m.counters.collapsedPages.add(pulled.size());
    return true;
  }

  /**
   * Points entry {@code e}'s PTEs of the {@code pulled} pages at the front's copies, where nothing
   * above the front in {@code e}'s chain holds the page; a copy pageout sent to swap meanwhile
   * leaves the PTE removed instead.
   */
  private static void repoint(
      Machine m, MapEntry e, VmObject[] chain, int frontLevel, VmObject front, List<Long> pulled) {
    Pmap p = e.space.pmap; // read only: changes go through the PTE writer
    for (long i : pulled) {
      long va = e.addressOf(i);
      if (va < 0 || shadowedAbove(chain, frontLevel, i)) {
        continue;
      }
      long pte = p.lookup(va);
      long slot = front.pages.get(i);
      if (!Pte.isPresent(pte) || (VmObject.isFrame(slot) && Pte.frame(pte) == slot)) {
        continue;
      }
      long now = VmObject.isFrame(slot) ? Pte.make((int) (long) slot, false, Pte.isWired(pte)) : 0;
      m.mmu.replace(e, va, pte, now);
    }
  }

  /** A pulled page, and the frame below the front it was read from and that frame's level. */
  private record Old(long index, int frame, VmObject level) {}

  /**
   * Points PTE {@code pte} at {@code va} of {@code e}, which maps the old frame of pulled page
   * {@code i}, at the front's copy, if {@code e} reads through the front and nothing above the
   * front in its chain holds the page (else it shows what it should already); a copy pageout sent
   * to swap meanwhile leaves the PTE removed instead.
   */
  private static void repointOne(Machine m, MapEntry e, long va, long pte, VmObject front, long i) {
    Cow g = e.cow;
    if (g == null) {
      return;
    }
    VmObject[] gc = g.chain();
    int frontLevel = java.util.Arrays.asList(gc).indexOf(front);
    if (frontLevel < 0 || shadowedAbove(gc, frontLevel, i)) {
      return; // a group beside this one, still reading the deeper level; or shadowed above
    }
    long slot = front.pages.get(i);
    long now = VmObject.isFrame(slot) ? Pte.make((int) (long) slot, false, Pte.isWired(pte)) : 0;
    m.mmu.replace(e, va, pte, now);
  }

  /** The first level in [1, cut) that holds page {@code i}: what the group read through to. */
  private static VmObject levelHolding(VmObject[] chain, int cut, long i) {
    for (int level = 1; level < cut; level++) {
      if (chain[level].pages.get(i) != PageMap.NONE) {
        return chain[level];
      }
    }
    throw new IllegalStateException("page " + i + " is in no level below the front");
  }

  private static boolean shadowedAbove(VmObject[] chain, int level, long i) {
    for (int l = 0; l < level; l++) {
      if (chain[l].pages.containsKey(i)) {
        return true;
      }
    }
    return false;
  }

  /** Page indexes some member shows that a level in [1, cut) holds and the front lacks. */
  private static TreeSet<Long> toPull(Cow c, VmObject[] chain, int cut) {
    TreeSet<Long> out = new TreeSet<>();
    for (int level = 1; level < cut; level++) {
      for (long i : chain[level].pages.keys()) {
        if (chain[0].pages.containsKey(i)) {
          continue;
        }
        for (MapEntry e : c.members) {
          if (e.addressOf(i) >= 0) {
            out.add(i);
            break;
          }
        }
      }
    }
    return out;
  }
}
