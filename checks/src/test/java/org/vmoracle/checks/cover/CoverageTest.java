package org.vmoracle.checks.cover;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vmoracle.checks.gen.Mix;
import org.vmoracle.checks.gen.Profile;
import org.vmoracle.checks.hunt.Hunt;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/** The classifier puts hand-made operations, on a hand-made state, into the right classes. */
class CoverageTest {
  private static final long BASE = 0x10000000L;
  private static final long PAGE = 4096;

  private final Coverage coverage = new Coverage(Mix.MIXED);
  private ImplVm vm;

  @BeforeEach
  void boot() {
    vm = new ImplVm(Profile.MIXED.config());
    run(new Op.Spawn(1));
  }

  private List<String> run(Op op) {
    return coverage.classify(vm, op);
  }

  private static Op.Mmap anon(long pages, Sharing sharing) {
    return new Op.Mmap(1, 0, pages, Prot.RW, sharing, new Source.Anon(), false);
  }

  /** File f of 2 pages, mapped private rw at BASE. */
  private void mapPrivateFile() {
    run(new Op.File("f", 2));
    run(new Op.Mmap(1, 0, 2, Prot.RW, Sharing.PRIVATE, new Source.FileRange("f", 0), false));
  }

  @Test
  void mlock_zeroLengthAtBottomPage_einvalZeroLengthBottom() {
    List<String> c = run(new Op.Mlock(1, 0x1000, 0));
    assertTrue(c.contains("result: mlock EINVAL"), c::toString);
    assertTrue(c.contains("address: range: zero length"), c::toString);
    assertFalse(c.contains("address: range: the bottom user page"), "no page: " + c);
    c = run(new Op.Mlock(1, 0x1000, 1));
    assertTrue(c.contains("address: range: the bottom user page"), c::toString);
    assertTrue(c.contains("shape: nothing mapped in the range"), c::toString);
    assertTrue(c.contains("result: mlock ENOMEM"), c::toString);
  }

  @Test
  void munmap_sharedPageAndPastTop_topClasses() {
    List<String> c = run(new Op.Munmap(1, 0x7ffffffff000L, 1));
    assertTrue(c.contains("address: range: the shared page (top page)"), c::toString);
    assertTrue(c.contains("address: range: ends at the top of user space"), c::toString);
    assertTrue(c.contains("shape: exactly one entry"), c::toString);
    c = run(new Op.Munmap(1, 0x7ffffffff000L, 2));
    assertTrue(c.contains("address: range: past the top of user space"), c::toString);
    assertTrue(c.contains("result: munmap EINVAL"), c::toString);
    assertFalse(c.contains("shape: exactly one entry"), "not in user space: " + c);
  }

  @Test
  void ranges_againstTwoEntries_shapes() {
    run(anon(4, Sharing.PRIVATE));
    run(anon(4, Sharing.SHARED)); // next to it: two entries, [BASE, BASE + 8 pages)
    List<String> c = run(new Op.Mprotect(1, BASE + PAGE, 2, Prot.R));
    assertTrue(c.contains("shape: inside one entry, off both its ends"), c::toString);
    assertTrue(c.contains("prot: downgrade"), c::toString);
    assertTrue(c.contains("length: 2 to 511 pages"), c::toString);
    c = run(new Op.Minherit(1, BASE + 2 * PAGE, 4, Inherit.NONE));
    assertTrue(c.contains("shape: two or more entries, no hole"), c::toString);
    assertFalse(c.contains("shape: inside one entry, off both its ends"), c::toString);
    c = run(new Op.Mlock(1, BASE + 4 * PAGE, 6));
    assertTrue(c.contains("shape: mapped in part: a hole in the range"), c::toString);
    assertTrue(c.contains("shape: starts at an entry's start"), c::toString);
    assertTrue(c.contains("result: mlock ENOMEM"), c::toString);
  }

  @Test
  void write_afterReadOfPrivateFilePage_readOnlyPteThenCopied() {
    mapPrivateFile();
    List<String> c = run(new Op.Read(1, BASE));
    assertTrue(c.contains("access: read: private file"), c::toString);
    assertTrue(c.contains("access: read: no PTE"), c::toString);
    c = run(new Op.Write(1, BASE, 5));
    assertTrue(c.contains("state: write to a private file page mapped read-only"), c::toString);
    assertTrue(c.contains("access: write: read-only PTE"), c::toString);
    c = run(new Op.Fwrite("f", 0, 7));
    assertTrue(c.contains("state: fwrite to a file page a private mapping copied"), c::toString);
    c = run(new Op.Fwrite("f", PAGE, 7));
    assertTrue(c.contains("state: fwrite to a file page mapped private"), c::toString);
    assertFalse(c.contains("state: fwrite to a file page a private mapping copied"), c::toString);
  }

  @Test
  void mlock_overReadPages_residentReadOnly() {
    mapPrivateFile();
    run(new Op.Read(1, BASE + PAGE));
    List<String> c = run(new Op.Mlock(1, BASE, 2));
    assertTrue(c.contains("state: mlock of writable private pages mapped read-only"), c::toString);
    assertTrue(c.contains("shape: exactly one entry"), c::toString);
    c = run(new Op.Fwrite("f", 0, 1));
    assertTrue(c.contains("state: fwrite to a file page wired in a private mapping"), c::toString);
  }

  @Test
  void fork_ofWiredPrivatePages_wiredCowShared() {
    run(anon(1, Sharing.PRIVATE));
    run(new Op.Write(1, BASE, 1));
    run(new Op.Mlock(1, BASE, 1));
    List<String> c = run(new Op.Fork(1, 2));
    assertTrue(c.contains("state: fork with wired private pages resident"), c::toString);
    c = run(new Op.Fork(1, 2));
    assertTrue(c.contains("result: fork EEXIST"), c::toString);
    c = run(new Op.Read(9, BASE));
    assertTrue(c.contains("result: read ESRCH"), c::toString);
  }

  @Test
  void print_neverAndRare_listed() {
    run(new Op.Read(1, 0x7ffffffff000L));
    StringWriter w = new StringWriter();
    coverage.print(new PrintWriter(w, true));
    String report = w.toString();
    assertTrue(report.contains("never ("), report);
    assertTrue(report.contains("  address: range: past the top of user space\n"), report);
    assertEquals(1, coverage.count("address", "access: the shared page (top page)"));
    assertEquals(-1, coverage.count("address", "nosuch"));
    assertFalse(coverage.never().contains("kind: read"));
  }

  @Test
  void watcher_inAHunt_countsEveryOperation() {
    Profile p = Profile.MIXED;
    Coverage cov = new Coverage(p.mix());
    Hunt.run(new Hunt.Settings(p, p.config(), 3, 3000, 0, 1000, 0), x -> {}, 0, cov);
    assertEquals(3000, cov.operations());
    assertTrue(cov.count("kind", "read") > 300, "reads: " + cov.count("kind", "read"));
  }
}
