package org.vmoracle.impl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.vmoracle.spec.trace.Replay;
import org.vmoracle.spec.trace.TraceParser;

/**
 * The order of {@link RangeCheck}'s answers when several failures apply (ERR-2), for every {@link
 * RangeCheck.Bound}, through {@link ImplVm#apply}. The model answers the same (the differential
 * tests in {@code checks} compare the two); these traces pin the order on the implementation's side
 * at the edges the random traces rarely reach: addresses at and above {@code USER_MAX}.
 */
class RangeCheckTest {

  /** One process with one page mapped at 0x10000000; pid 9 is not alive. */
  private static final String SETUP = "spawn 1\nmmap 1 0 1 rw private anon -> 0x10000000\n";

  private static void replay(String lines) throws Exception {
    ImplVm vm = new ImplVm();
    Replay.Report r = Replay.run(TraceParser.parse("RangeCheckTest", SETUP + lines), vm);
    assertTrue(r.passed(), () -> r.unmet().get().message());
    vm.checkInvariants();
  }

  // ERR-2, PROC-3, PROT-4, PROT-3
  @Test
  void mprotect_severalFailures_esrchThenEinvalThenEnomem() throws Exception {
    replay(
        """
        mprotect 9 0x800000000008 0 r -> ESRCH
        mprotect 1 0x800000000008 1 r -> EINVAL
        mprotect 1 0x800000000000 0 r -> EINVAL
        mprotect 1 0x800000000000 1 r -> ENOMEM
        """);
  }

  // ERR-2, INH-7, INH-6: above user space the hole answers before zero's EINVAL
  @Test
  void minherit_severalFailures_esrchThenEinvalThenEnomemBeforeZeroCheck() throws Exception {
    replay(
        """
        minherit 9 0x800000000008 0 zero -> ESRCH
        minherit 1 0x800000000008 1 zero -> EINVAL
        minherit 1 0x800000000000 0 none -> EINVAL
        minherit 1 0x800000000000 1 zero -> ENOMEM
        minherit 1 0x10000000 2 none -> ENOMEM
        """);
  }

  // ERR-2, WIRE-6, DEV-9, WIRE-4, WIRE-8
  @Test
  void mlockAndMunlock_severalFailures_esrchThenEinvalThenEnomem() throws Exception {
    replay(
        """
        mlock 9 0x800000000008 0 -> ESRCH
        mlock 1 0x800000000008 1 -> EINVAL
        mlock 1 0x800000000000 0 -> EINVAL
        mlock 1 0x800000000000 1 -> ENOMEM
        munlock 9 0x800000000008 0 -> ESRCH
        munlock 1 0x800000000008 1 -> EINVAL
        munlock 1 0x800000000000 0 -> EINVAL
        munlock 1 0x800000000000 1 -> ENOMEM
        """);
  }

  // ERR-2, UNMAP-4: past user space is a bad argument for munmap, not a hole
  @Test
  void munmap_rangePastUserSpace_einvalAfterEsrch() throws Exception {
    replay(
        """
        munmap 9 0x800000000000 1 -> ESRCH
        munmap 1 0x800000000000 1 -> EINVAL
        munmap 1 0x7ffffffff000 2 -> EINVAL
        munmap 1 0x7ffffffff000 1 -> ok
        """);
  }

  // ERR-2, MMAP-2, MMAP-3: arguments before names
  @Test
  void mmap_severalFailures_esrchThenEinvalThenEnoent() throws Exception {
    replay(
        """
        mmap 9 0x10000008 0 rw private file nosuch 0 -> ESRCH
        mmap 1 0x10000008 1 rw private file nosuch 0 -> EINVAL
        mmap 1 0 0 rw private file nosuch 0 -> EINVAL
        mmap 1 0x900000000000 1 rw private file nosuch 0 -> ENOENT
        """);
  }
}
