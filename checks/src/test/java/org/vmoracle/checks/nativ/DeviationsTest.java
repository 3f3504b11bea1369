package org.vmoracle.checks.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.vmoracle.checks.ProjectFiles;
import org.vmoracle.model.Model;
import org.vmoracle.model.Outcome;
import org.vmoracle.model.State;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.trace.TraceLine;
import org.vmoracle.spec.trace.TraceParser;
import org.vmoracle.spec.trace.TraceSyntaxException;

/**
 * The predicates of {@link Deviations}, without a kernel: each DEV- rule holds on the lines it is
 * about and not on their close neighbours that Linux answers as the model does.
 */
class DeviationsTest {

  /** A host whose runner lives at [0x7ffff0000000, 0x7ffffffff000), with a 1 MiB wiring budget. */
  private static final Deviations.Host HOST =
      new Deviations.Host(
          List.of(new Deviations.Range(0x7ffff0000000L, 0x7ffffffff000L)), 0x10000, 1 << 20);

  /**
   * A host like {@link #HOST} whose work directory is on ext4 (files up to 16 TiB - 4 KiB), whose
   * shared memory takes 2^46 bytes, and whose runner makes at most 2 live processes.
   */
  private static final Deviations.Host SMALL =
      new Deviations.Host(HOST.reserved(), 0x10000, 1 << 20, (1L << 44) - 4096, 1L << 46, 2);

  /** The rule for the last line of the trace, after the model ran the others. */
  private static Optional<String> ruleOfLast(String... lines) throws TraceSyntaxException {
    return ruleOfLast(HOST, List.of(), lines).map(Deviations.Rule::id);
  }

  /** The rule for the last line on {@code host}, with {@code extra} rules after the list. */
  private static Optional<Deviations.Rule> ruleOfLast(
      Deviations.Host host, List<Deviations.Rule> extra, String... lines)
      throws TraceSyntaxException {
    List<TraceLine> parsed = TraceParser.parse("t", String.join("\n", lines) + "\n").lines();
    State s = Model.boot();
    for (int i = 0; i < parsed.size() - 1; i++) {
      s = Model.step(s, parsed.get(i).op()).state();
    }
    Op last = parsed.get(parsed.size() - 1).op();
    Outcome o = Model.step(s, last);
    return Deviations.check(new Deviations.Context(last, s, o.result(), host), extra);
  }

  private static Optional<String> ruleOnSmall(String... lines) throws TraceSyntaxException {
    return ruleOfLast(SMALL, List.of(), lines).map(Deviations.Rule::id);
  }

  private static void assertRule(String id, String... lines) throws TraceSyntaxException {
    assertEquals(Optional.of(id), ruleOfLast(lines), String.join(" / ", lines));
  }

  private static void assertAskable(String... lines) throws TraceSyntaxException {
    assertEquals(Optional.empty(), ruleOfLast(lines), String.join(" / ", lines));
  }

  @Test
  void dev1_sharedPageTouched_unsupported() throws TraceSyntaxException {
    // DEV-1, BOOT-2, UNMAP-4: Linux user space ends at 0x7ffffffff000.
    assertRule("DEV-1", "spawn 1", "read 1 0x7ffffffff000");
    assertRule("DEV-1", "spawn 1", "write 1 0x7ffffffffff8 1");
    assertRule("DEV-1", "spawn 1", "munmap 1 0x7ffffffff000 1");
    assertRule("DEV-1", "spawn 1", "collapse 1 0x7ffffffff000");
    assertRule("DEV-1", "spawn 1", "mmap 1 0x7ffffffff000 1 r private anon fixed");
    // Past the end of user space both answer EINVAL (munmap) or ENOMEM (fixed mmap) at once.
    assertAskable("spawn 1", "munmap 1 0x7ffffffff000 2");
    assertAskable("spawn 1", "mmap 1 0x7ffffffff000 2 rw private anon fixed");
    assertAskable("spawn 1", "read 1 0x800000000000");
    // ESRCH never reaches the kernel.
    assertAskable("read 1 0x7ffffffff000");
  }

  @Test
  void dev2_noRoomForPlacement_unsupported() throws TraceSyntaxException {
    // DEV-2, PLACE-3: only the model's placement can say there is no room.
    assertRule(
        "DEV-2",
        "spawn 1",
        "mmap 1 0 0x7ffef0000 rw private anon",
        "mmap 1 0 0x7ffef0000 rw private anon");
  }

  @Test
  void dev3_shareOfPrivateOrCopyOfShared_unsupported() throws TraceSyntaxException {
    // DEV-3, INH-2, INH-4; INH-3 and INH-1 defaults are expressible.
    assertRule("DEV-3", "spawn 1", "mmap 1 0 1 rw private anon", "minherit 1 0x10000000 1 share");
    assertRule("DEV-3", "spawn 1", "mmap 1 0 1 rw shared anon", "minherit 1 0x10000000 1 copy");
    assertAskable("spawn 1", "mmap 1 0 1 rw private anon", "minherit 1 0x10000000 1 copy");
    assertAskable("spawn 1", "mmap 1 0 1 rw shared anon", "minherit 1 0x10000000 1 share");
  }

  @Test
  void dev4_mlockHoleAfterMappedPages_unsupported() throws TraceSyntaxException {
    // DEV-4, WIRE-4, WIRE-5, WIRE-8: Linux wires (or unwires) up to the failure.
    assertRule("DEV-4", "spawn 1", "mmap 1 0 1 rw private anon", "mlock 1 0x10000000 2");
    assertRule("DEV-4", "spawn 1", "mmap 1 0 1 rw private anon", "munlock 1 0x10000000 2");
    assertRule(
        "DEV-4", "file f 1", "spawn 1", "mmap 1 0 2 rw shared file f 0", "mlock 1 0x10000000 2");
    // A range starting in a hole changes nothing on Linux either.
    assertAskable("spawn 1", "mmap 1 0 1 rw private anon", "mlock 1 0x20000000 2");
  }

  @Test
  void dev5_belowMmapMinAddr_unsupported() throws TraceSyntaxException {
    // DEV-5, PLACE-4, MMAP-7.
    assertRule("DEV-5", "spawn 1", "mmap 1 0x2000 1 rw private anon fixed");
    assertRule("DEV-5", "spawn 1", "mmap 1 0x1000 1 rw private anon");
    assertRule("DEV-5", "spawn 1", "mmap 1 0 1 rw private anon fixed");
    // ERR-2: the missing file is found first, on both sides.
    assertAskable("spawn 1", "mmap 1 0 1 rw private file nosuch 0 fixed");
  }

  @Test
  void dev6_minheritPartlyApplied_unsupported() throws TraceSyntaxException {
    // DEV-6, INH-6, INH-7: madvise changes the mapped part before it fails.
    assertRule("DEV-6", "spawn 1", "mmap 1 0 1 rw private anon", "minherit 1 0x10000000 2 none");
    assertRule(
        "DEV-6",
        "spawn 1",
        "mmap 1 0 1 rw private anon",
        "mmap 1 0 1 rw shared anon",
        "minherit 1 0x10000000 2 zero");
    // The first mapping refuses MADV_WIPEONFORK: nothing changed on Linux either.
    assertAskable(
        "spawn 1",
        "mmap 1 0 1 rw shared anon",
        "mmap 1 0 1 rw private anon",
        "minherit 1 0x10000000 2 zero");
    assertAskable("spawn 1", "minherit 1 0x10000000 2 none");
  }

  @Test
  void dev8_writableSharedPage_unsupported() throws TraceSyntaxException {
    // DEV-8, PROT-6.
    assertRule("DEV-8", "spawn 1", "mprotect 1 0x7ffffffff000 1 rw");
    assertRule("DEV-1", "spawn 1", "mprotect 1 0x7ffffffff000 1 r");
  }

  @Test
  void dev9_unalignedWiringAddress_unsupported() throws TraceSyntaxException {
    // DEV-9, WIRE-6.
    assertRule("DEV-9", "spawn 1", "mlock 1 0x10000008 1");
    assertRule("DEV-9", "spawn 1", "munlock 1 0x10000010 1");
    assertAskable("spawn 1", "mprotect 1 0x10000008 1 r");
  }

  @Test
  void host1_runnerMemory_unsupported() throws TraceSyntaxException {
    // MMAP-6: a hint into the runner's memory; ACC-1: a read there.
    assertRule("HOST-1", "spawn 1", "mmap 1 0x7ffff0000000 1 rw private anon");
    assertRule("HOST-1", "spawn 1", "read 1 0x7ffff7000000");
    assertRule("HOST-1", "spawn 1", "mmap 1 0x7fffeffff000 2 rw private anon fixed");
    assertAskable("spawn 1", "read 1 0x7fffeffff000");
  }

  @Test
  void host2_wiringPastTheBudget_unsupported() throws TraceSyntaxException {
    // WIRE-1: 512 pages is 2 MiB, over this host's 1 MiB budget.
    assertRule("HOST-2", "spawn 1", "mmap 1 0 512 rw private anon", "mlock 1 0x10000000 512");
    assertAskable("spawn 1", "mmap 1 0 256 rw private anon", "mlock 1 0x10000000 256");
  }

  @Test
  void dev13_lastWordBefore2pow63_unsupported() throws TraceSyntaxException {
    // DEV-13, FILE-12, ERR-2: only the word whose end is 2^63, and only when the file exists; the
    // word before it is EFBIG on both.
    assertRule("DEV-13", "file f 1", "fwrite f 0x7ffffffffffffff8 1");
    assertAskable("fwrite nosuch 0x7ffffffffffffff8 1"); // ENOENT from open(2) first
    assertAskable("file f 1", "fwrite f 0x7ffffffffffffff0 1");
    assertAskable("file f 1", "fread f 0x7ffffffffffffff8");
  }

  @Test
  void host3_executableSegmentOnNoexecShm_unsupported() throws TraceSyntaxException {
    // HOST-3, MMAP-4: only where /dev/shm is noexec, and only for an executable mapping.
    String[] rx = {"shmget 1 1", "spawn 1", "mmap 1 0 1 rx shared shm 1"};
    assertEquals(
        Optional.of("HOST-3"),
        ruleOfLast(HOST, List.of(Deviations.host3(true)), rx).map(Deviations.Rule::id));
    assertEquals(Optional.empty(), ruleOfLast(HOST, List.of(Deviations.host3(false)), rx));
    assertEquals(
        Optional.empty(),
        ruleOfLast(
            HOST,
            List.of(Deviations.host3(true)),
            "shmget 1 1",
            "spawn 1",
            "mmap 1 0 1 rw shared shm 1"));
  }

  @Test
  void host4_fileOrSegmentPastTheHostsLargest_unsupported() throws TraceSyntaxException {
    // HOST-4, FILE-1, FILE-3, FILE-12, SHM-1: ext4 takes 16 TiB - 4 KiB; past it the kernel says
    // EFBIG where the model grows the file. At 2^47 both answer EFBIG, so that is compared.
    assertEquals(Optional.of("HOST-4"), ruleOnSmall("file f 0x100000000"));
    assertEquals(Optional.empty(), ruleOnSmall("file f 0xffffffff"));
    assertEquals(Optional.of("HOST-4"), ruleOnSmall("file f 1", "fwrite f 0xffffffff000 1"));
    assertEquals(Optional.empty(), ruleOnSmall("file f 1", "fwrite f 0xfffffffeff8 1"));
    assertEquals(Optional.empty(), ruleOnSmall("file f 1", "fwrite f 0x800000000000 1"));
    assertEquals(Optional.empty(), ruleOnSmall("fwrite nosuch 0x100000000000 1"));
    assertEquals(Optional.of("HOST-4"), ruleOnSmall("shmget 1 0x800000000"));
    assertEquals(Optional.empty(), ruleOnSmall("shmget 1 0x400000000"));
    // A host that takes the largest file of FILE-12 compares every such line.
    assertAskable("file f 0x800000000");
    assertAskable("file f 1", "fwrite f 0x7ffffffffff8 1");
    assertAskable("shmget 1 0x800000000");
  }

  @Test
  void host5_moreLiveProcessesThanTheCap_unsupportedAndNamed() throws TraceSyntaxException {
    // HOST-5, PROC-1, PROC-2, PROC-3, PROC-4: the third live process on a host capped at 2.
    Optional<Deviations.Rule> r = ruleOfLast(SMALL, List.of(), "spawn 1", "spawn 2", "spawn 3");
    assertEquals("HOST-5", r.map(Deviations.Rule::id).orElse("none"));
    assertTrue(r.get().title().contains("more than 2 live processes"), r.get().toString());
    assertEquals(Optional.of("HOST-5"), ruleOnSmall("spawn 1", "spawn 2", "fork 1 3"));
    assertEquals(Optional.of("HOST-5"), ruleOnSmall("spawn 1", "spawn 2", "clone 2 3"));
    // Failures make no process: the kernel's answer is compared.
    assertEquals(Optional.empty(), ruleOnSmall("spawn 1", "spawn 2", "spawn 2"));
    assertEquals(Optional.empty(), ruleOnSmall("spawn 1", "spawn 2", "fork 3 4"));
    // Exited processes are not counted, and exec makes none.
    assertEquals(Optional.empty(), ruleOnSmall("spawn 1", "spawn 2", "exit 1", "spawn 3"));
    assertEquals(Optional.empty(), ruleOnSmall("spawn 1", "spawn 2", "exec 2 static"));
    assertAskable("spawn 1", "spawn 2", "spawn 3");
  }

  @Test
  void rules_everyDevRuleOfSemantics_known() throws IOException {
    // The runner knows the list: every DEV- rule of SEMANTICS.md is one of Deviations.RULES.
    Set<String> defined = new TreeSet<>();
    Matcher m = Pattern.compile("(?m)^###\\s+(DEV-[0-9]+)\\b").matcher(ProjectFiles.semantics());
    while (m.find()) {
      defined.add(m.group(1));
    }
    Set<String> known =
        Deviations.RULES.stream().map(Deviations.Rule::id).collect(Collectors.toSet());
    assertTrue(defined.size() >= 9, "DEV rules found: " + defined);
    for (String id : defined) {
      assertTrue(known.contains(id), id + " of SEMANTICS.md is not in Deviations.RULES");
    }
  }
}
