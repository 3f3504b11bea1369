package org.vmoracle.impl.pmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The entry layout of {@link Pte}. */
class PteTest {

  @Test
  void layout_masks_matchTheDiagramAndAreDisjoint() {
    assertEquals(1L, Pte.P);
    assertEquals(1L << 1, Pte.W);
    assertEquals(1L << 2, Pte.U);
    assertEquals(1L << 5, Pte.A);
    assertEquals(1L << 6, Pte.D);
    assertEquals(1L << 8, Pte.PS);
    assertEquals(1L << 9, Pte.WIRED);
    assertEquals(1L << 10, Pte.MANAGED);
    assertEquals(Long.MIN_VALUE, Pte.NX);
    assertEquals(40, Long.bitCount(Pte.PFN_MASK), "PFN is bits 51..12");
    assertEquals(12, Long.numberOfTrailingZeros(Pte.PFN_MASK));
    assertEquals(0L, Pte.PFN_MASK & Pte.LEAF_FLAGS);
    assertEquals(9, Long.bitCount(Pte.LEAF_FLAGS));
    assertEquals(1L << 11, Pte.SHARED_TABLE);
    assertEquals(0L, Pte.SHARED_TABLE & (Pte.LEAF_FLAGS | Pte.PFN_MASK), "never a leaf bit");
  }

  @Test
  void make_writableWired_roundTripsFrameAndBits() {
    long pte = Pte.make(0x12345, true, true);
    assertEquals(0x12345, Pte.frame(pte));
    assertTrue(Pte.isPresent(pte));
    assertTrue(Pte.isWritable(pte));
    assertTrue(Pte.isUser(pte));
    assertTrue(Pte.isWired(pte));
    assertFalse(Pte.isManaged(pte));
    assertFalse(Pte.isAccessed(pte));
    assertFalse(Pte.isDirty(pte));
    assertFalse(Pte.isSuperpage(pte));
    assertFalse(Pte.isNoExec(pte));
    assertEquals(0x12345L << 12 | Pte.P | Pte.W | Pte.U | Pte.WIRED, pte);
  }

  @Test
  void make_readOnlyUnwired_hasNeitherWnorWired() {
    long pte = Pte.make(Integer.MAX_VALUE, false, false);
    assertEquals(Integer.MAX_VALUE, Pte.frame(pte));
    assertFalse(Pte.isWritable(pte));
    assertFalse(Pte.isWired(pte));
    assertThrows(IllegalArgumentException.class, () -> Pte.make(-1, true, false));
  }

  @Test
  void withBitsAndWithoutBits_setAndClearOnlyThoseBits() {
    long pte = Pte.make(7, true, false);
    long dirty = Pte.withBits(pte, Pte.A | Pte.D | Pte.NX);
    assertTrue(Pte.isAccessed(dirty) && Pte.isDirty(dirty) && Pte.isNoExec(dirty));
    assertEquals(7, Pte.frame(dirty));
    long ro = Pte.withoutBits(dirty, Pte.W);
    assertFalse(Pte.isWritable(ro));
    assertEquals(dirty & ~Pte.W, ro);
  }

  @Test
  void table_interiorEntry_isExactlyPwuAndFrame() {
    long e = Pte.table(99);
    assertEquals(Pte.TABLE_BITS, e & ~Pte.PFN_MASK);
    assertEquals(99, Pte.frame(e));
  }

  @Test
  void sharedTable_interiorEntry_isPwuSharedAndFrame() {
    long e = Pte.sharedTable(99);
    assertEquals(Pte.TABLE_BITS | Pte.SHARED_TABLE, e & ~Pte.PFN_MASK);
    assertEquals(99, Pte.frame(e));
    assertTrue(Pte.isSharedTable(e));
    assertFalse(Pte.isSharedTable(Pte.table(99)));
    assertEquals("0xe63807 [frame 3683 P W U SHARED]", Pte.toString(Pte.sharedTable(0xe63)));
  }

  @Test
  void toString_namesFrameAndFlags() {
    assertEquals("0 [empty]", Pte.toString(0));
    assertEquals("0x11207 [frame 17 P W U WIRED]", Pte.toString(Pte.make(17, true, true)));
  }
}
