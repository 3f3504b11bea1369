package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.replay;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;

/**
 * PLACE-*: where mappings go. Some tests fill the whole address space above {@code MMAP_BASE} with
 * one fixed mapping, so a system must not spend memory on untouched anonymous pages.
 */
class PlaceRulesTest {

  /** Pages from MMAP_BASE up to the last page below the placement limit (0x7ffffffff000). */
  static final String ALL_BUT_LAST_PAGE = "0x7fffefffe";

  /** Pages from MMAP_BASE up to the placement limit. */
  static final String ALL_PAGES = "0x7fffeffff";

  // PLACE-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_addressZero_firstFitSkipsHolesTooSmall(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        mmap 1 0 1 rw private anon -> 0x10000000
        mmap 1 0 1 r private anon -> 0x10001000
        mmap 1 0 2 rw shared anon -> 0x10002000
        mmap 1 0 1 rx private anon -> 0x10004000
        munmap 1 0x10001000 1 -> ok
        mmap 1 0 2 rw private anon -> 0x10005000
        mmap 1 0 1 rw private anon -> 0x10001000
        mmap 1 0 1 rw private anon -> 0x10007000
        munmap 1 0x10000000 2 -> ok
        munmap 1 0x10004000 1 -> ok
        mmap 1 0 3 rw private anon -> 0x10008000
        mmap 1 0 2 rw private anon -> 0x10000000
        mmap 1 0 1 rw private anon -> 0x10004000
        """);
  }

  // PLACE-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_addressZero_ignoresRoomBelowBaseAndSkipsFixedMappings(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        mmap 1 0x1000 1 rw private anon fixed -> 0x1000
        mmap 1 0x10000000 1 rw private anon fixed -> 0x10000000
        mmap 1 0x10002000 1 rw private anon fixed -> 0x10002000
        mmap 1 0 2 rw private anon -> 0x10003000
        mmap 1 0 1 rw private anon -> 0x10001000
        """);
  }

  // PLACE-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_addressZero_usesTheLastPageBelowTheSharedPageNeverAbove(NamedSystem sys) {
    Run run =
        replay(
            sys,
            "spawn 1\nmmap 1 0x10000000 "
                + ALL_BUT_LAST_PAGE
                + " rw private anon fixed -> 0x10000000\n"
                + """
                    munmap 1 0x7ffffffff000 1 -> ok
                    mmap 1 0 1 rw private anon -> 0x7fffffffe000
                    write 1 0x7fffffffeff8 5 -> ok
                    """);
    run.unchanged("mmap 1 0 1 rw private anon -> ENOMEM");
    assertEquals(1, run.maps(1).size(), run.mapsText(1));
  }

  // PLACE-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_segmentMultiples_alignedOthersFillTheGapsFirstFit(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        mmap 1 0 1 rw private anon -> 0x10000000
        mmap 1 0 1024 rw private anon -> 0x10200000
        mmap 1 0 512 r private file lib/libc 0 -> 0x10600000
        mmap 1 0 513 rw private anon -> 0x10800000
        mmap 1 0 511 rw private anon -> 0x10001000
        mmap 1 0 1 rw private anon -> 0x10a01000
        """);
  }

  // PLACE-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_segmentMultiple_usesAnAlignedHoleLowerDown(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        mmap 1 0 1024 rw shared anon -> 0x10000000
        mmap 1 0 1 rw private anon -> 0x10400000
        munmap 1 0x10000000 512 -> ok
        mmap 1 0 512 rw private anon -> 0x10000000
        munmap 1 0x10001000 1 -> ok
        mmap 1 0 512 rw private anon -> 0x10600000
        mmap 1 0 1 rw private anon -> 0x10001000
        """);
  }

  // PLACE-2, PLACE-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_segmentMultipleWhereOnlyUnalignedRoomIsLeft_enomem(NamedSystem sys) {
    Run run =
        replay(sys, "spawn 1\nmmap 1 0x10000000 0x7fffefc01 rw private anon fixed -> 0x10000000\n");
    run.unchanged("mmap 1 0 512 rw private anon -> ENOMEM");
    run.then(
        """
        mmap 1 0 513 rw private anon -> 0x7fffffc01000
        mmap 1 0 1 rw private anon -> 0x7fffffe02000
        """);
  }

  // PLACE-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_noRoomAboveBase_enomemEvenWithRoomBelowAndAboveTheLimit(NamedSystem sys) {
    Run run =
        replay(
            sys,
            "spawn 1\nmmap 1 0x10000000 "
                + ALL_PAGES
                + " rw private anon fixed -> 0x10000000\nmunmap 1 0x7ffffffff000 1\n");
    run.unchanged("mmap 1 0 1 rw private anon -> ENOMEM")
        .unchanged("mmap 1 0x20000000 1 rw private anon -> ENOMEM")
        .unchanged("mmap 1 0 512 rw shared anon -> ENOMEM")
        .then(
            """
            mmap 1 0x1000 1 rw private anon -> 0x1000
            mmap 1 0x7ffffffff000 1 rw private anon -> 0x7ffffffff000
            """);
  }

  // PLACE-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_freeHint_usedExactlyWhateverItsAlignment(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        mmap 1 0x5000 512 rw private anon -> 0x5000
        mmap 1 0x10001000 1024 rw shared anon -> 0x10001000
        mmap 1 0x30003000 3 rw private anon -> 0x30003000
        mmap 1 0 512 rw private anon -> 0x10600000
        mmap 1 0 1 rw private anon -> 0x10000000
        write 1 0x204ff8 1 -> ok
        read 1 0x205000 -> SEGV
        """);
  }
}
