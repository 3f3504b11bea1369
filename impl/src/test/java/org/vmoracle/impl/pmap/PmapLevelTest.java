package org.vmoracle.impl.pmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The levels of {@link Pmap}'s tree ({@link Level}): what each resolves, maps and admits. */
class PmapLevelTest {
  /** An address whose PML4, PDP, PD and PT indices are 1, 2, 3 and 4, and page offset 5. */
  private static final long VA = (1L << 39) | (2L << 30) | (3L << 21) | (4L << 12) | 5;

  @Test
  void shifts_matchTheAddressDiagram() {
    assertEquals(12, Level.PT.shift(), "bits 20..12");
    assertEquals(21, Level.PD.shift(), "bits 29..21");
    assertEquals(30, Level.PDP.shift(), "bits 38..30");
    assertEquals(39, Level.PML4.shift(), "bits 47..39");
  }

  @Test
  void entryBytesAndPages_areWhatOneEntryMaps() {
    assertEquals(Pmap.PAGE_SIZE, Level.PT.entryBytes());
    assertEquals(2L << 20, Level.PD.entryBytes(), "2 MiB");
    assertEquals(1L << 30, Level.PDP.entryBytes(), "1 GiB");
    assertEquals(512L << 30, Level.PML4.entryBytes(), "512 GiB");
    assertEquals(1, Level.PT.pages());
    assertEquals(512, Level.PD.pages(), "NBPDR / PAGE_SIZE: what a PS leaf counts (P4)");
    for (Level l : Level.values()) {
      if (l != Level.PT) {
        assertEquals(l.entryBytes(), l.below().entryBytes() * Pmap.ENTRIES, l + ": 512 below");
      }
    }
    assertEquals(2 * Pmap.USER_VA_LIMIT, Level.TOP.entryBytes() * Pmap.ENTRIES, "48 bits in all");
  }

  @Test
  void mayBeLeaf_ptAndPdOnly() {
    assertTrue(Level.PT.mayBeLeaf(), "4 KiB leaves");
    assertTrue(Level.PD.mayBeLeaf(), "2 MiB PS leaves, seed 003");
    assertFalse(Level.PDP.mayBeLeaf(), "no 1 GiB pages");
    assertFalse(Level.PML4.mayBeLeaf());
  }

  @Test
  void below_stepsDownToPtWhichHasNone() {
    assertSame(Level.PML4, Level.TOP);
    assertSame(Level.PDP, Level.PML4.below());
    assertSame(Level.PD, Level.PDP.below());
    assertSame(Level.PT, Level.PD.below());
    assertThrows(IllegalStateException.class, Level.PT::below);
    assertEquals(Pmap.LEVELS, Level.values().length);
  }

  @Test
  void numbers_countFromPtAsX86Does() {
    assertEquals(1, Level.PT.number());
    assertEquals(4, Level.PML4.number());
    assertEquals(Level.TOP.number(), Level.TOP_NUMBER);
    assertEquals(3, Level.TOP.number() - Level.PT.number(), "a missing PML4 entry: PDP, PD, PT");
    for (Level l : Level.values()) {
      assertSame(l, Level.of(l.number()));
      assertEquals(l.shift(), Level.shiftOf(l.number()), l + ": the fault path's arithmetic");
      assertEquals(l.index(VA), Level.indexOf(l.number(), VA));
    }
    assertThrows(IndexOutOfBoundsException.class, () -> Level.of(0));
    assertThrows(IndexOutOfBoundsException.class, () -> Level.of(5));
  }

  @Test
  void index_isTheLevelsNineBits() {
    assertEquals(1, Level.PML4.index(VA));
    assertEquals(2, Level.PDP.index(VA));
    assertEquals(3, Level.PD.index(VA));
    assertEquals(4, Level.PT.index(VA));
    assertEquals(511, Level.PT.index(Pmap.USER_VA_LIMIT - 1));
    assertEquals(255, Level.PML4.index(Pmap.USER_VA_LIMIT - 1), "P2: the user half");
  }

  @Test
  void baseAndNextBoundary_roundDownAndStrictlyUp() {
    assertEquals(VA - 5, Level.PT.base(VA));
    assertEquals(VA - 5 + Pmap.PAGE_SIZE, Level.PT.nextBoundary(VA));
    long pd = (1L << 39) | (2L << 30) | (3L << 21);
    assertEquals(pd, Level.PD.base(VA));
    assertEquals(pd + (2L << 20), Level.PD.nextBoundary(VA));
    assertEquals(pd + (2L << 20), Level.PD.nextBoundary(pd), "from a boundary: the next one");
    assertEquals(2L << 39, Level.PML4.nextBoundary(VA));
    assertEquals(0, Level.PML4.base(VA & ((1L << 39) - 1)));
  }

  @Test
  void names_areThoseOfTheMessages() {
    assertEquals("PT", Level.PT.toString());
    assertEquals("PD", Level.PD.toString());
    assertEquals("PDP", Level.PDP.toString());
    assertEquals("PML4", Level.PML4.toString());
  }
}
