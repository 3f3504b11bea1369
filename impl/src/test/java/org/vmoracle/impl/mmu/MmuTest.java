package org.vmoracle.impl.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vmoracle.impl.core.Config;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.pmap.Pmap;
import org.vmoracle.impl.pmap.Pte;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;

/**
 * The PTE writer keeps frame wire counts for every kind of leaf change (invariant M1 of {@link
 * Mmu}), and asserts its lock rules.
 */
class MmuTest {
  private static final long VA = 0x10000000L;
  private static final long PAGE = 4096;

  private Machine m;
  private MapEntry e;
  private int f;
  private int g;

  @BeforeEach
  void setUp() {
    m = new Machine(Config.defaults().withFrames(64));
    m.lock.writeLock();
    Pmap p = m.mmu.newPmap();
    VmSpace sp = m.newSpace(p);
    VmObject o = m.newSharedAnon();
    e = new MapEntry(sp, VA, VA + 4 * PAGE, 0, Prot.RW, Sharing.SHARED, Inherit.SHARE, o, null);
    f = m.mem.allocate();
    g = m.mem.allocate();
  }

  @AfterEach
  void tearDown() {
    if (m.lock.heldExclusively()) {
      m.lock.writeUnlock();
    }
  }

  @Test
  void install_wiredLeaf_takesOneWire() {
    assertEquals(Pmap.Install.INSTALLED, m.mmu.install(e, VA, 0, Pte.make(f, true, true)));
    assertEquals(1, m.mem.wireCount(f));
    assertEquals(1, e.space.pmap.wiredCount());
  }

  @Test
  void install_overAWiredLeafOfAnotherFrame_movesTheWire() {
    long old = Pte.make(f, false, true);
    m.mmu.install(e, VA, 0, old);
    assertEquals(Pmap.Install.INSTALLED, m.mmu.install(e, VA, old, Pte.make(g, true, true)));
    assertEquals(0, m.mem.wireCount(f));
    assertEquals(1, m.mem.wireCount(g));
  }

  @Test
  void install_overALeafItDidNotExpect_changesNothing() {
    m.mmu.install(e, VA, 0, Pte.make(f, false, false));
    assertEquals(Pmap.Install.CHANGED, m.mmu.install(e, VA, 0, Pte.make(g, true, true)));
    assertEquals(0, m.mem.wireCount(g));
    assertEquals(f, Pte.frame(e.space.pmap.lookup(VA)));
  }

  @Test
  void replace_settingAndClearingWired_followsTheBit() {
    long plain = Pte.make(f, true, false);
    long wired = Pte.make(f, true, true);
    m.mmu.install(e, VA, 0, plain);
    assertTrue(m.mmu.replace(e, VA, plain, wired));
    assertEquals(1, m.mem.wireCount(f));
    assertTrue(m.mmu.replace(e, VA, wired, plain));
    assertEquals(0, m.mem.wireCount(f));
  }

  @Test
  void replace_staleExpectation_changesNothing() {
    m.mmu.install(e, VA, 0, Pte.make(f, true, true));
    assertFalse(m.mmu.replace(e, VA, Pte.make(f, true, false), 0));
    assertEquals(1, m.mem.wireCount(f));
  }

  @Test
  void replace_clearingAWiredLeaf_dropsItsWire() {
    long wired = Pte.make(f, false, true);
    m.mmu.install(e, VA, 0, wired);
    assertTrue(m.mmu.replace(e, VA, wired, 0));
    assertEquals(0, m.mem.wireCount(f));
    assertEquals(0, e.space.pmap.lookup(VA));
  }

  @Test
  void removeRange_wiredLeaves_dropsEveryWire() {
    m.mmu.install(e, VA, 0, Pte.make(f, true, true));
    m.mmu.install(e, VA + PAGE, 0, Pte.make(g, true, true));
    m.mmu.install(e, VA + 2 * PAGE, 0, Pte.make(f, false, false));
    m.mmu.removeRange(e, VA, VA + 4 * PAGE);
    assertEquals(0, m.mem.wireCount(f));
    assertEquals(0, m.mem.wireCount(g));
    assertEquals(0, e.space.pmap.wiredCount());
  }

  @Test
  void protect_keepsTheWireAndClearsW() {
    m.mmu.install(e, VA, 0, Pte.make(f, true, true));
    m.mmu.protect(e, VA, VA + PAGE);
    long now = e.space.pmap.lookup(VA);
    assertFalse(Pte.isWritable(now));
    assertTrue(Pte.isWired(now));
    assertEquals(1, m.mem.wireCount(f));
  }

  @Test
  void exclusiveOperations_withoutTheExclusiveLock_assertionFails() {
    m.lock.writeUnlock();
    AssertionError p = assertThrows(AssertionError.class, () -> m.mmu.protect(e, VA, VA + PAGE));
    assertTrue(p.getMessage().contains("map lock exclusive"), p.getMessage());
    assertThrows(AssertionError.class, () -> m.mmu.prune(e, VA, VA + PAGE));
    assertThrows(AssertionError.class, () -> m.mmu.newPmap());
    assertThrows(AssertionError.class, () -> e.space.clip(VA + PAGE));
    assertThrows(AssertionError.class, () -> e.space.findSpace(PAGE));
  }
}
