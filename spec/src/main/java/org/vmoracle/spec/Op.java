package org.vmoracle.spec;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One operation of the vocabulary: every line of a trace is one of these records. Each record's
 * Javadoc is its meaning in brief and names its rules in {@code spec/SEMANTICS.md}; the rules are
 * the contract. {@link #toString()} is the canonical trace-language line (without expectation).
 *
 * <p>Compact constructors reject values that no trace may contain (a pid below 1, a negative page
 * count, a misaligned word address); values that are legal to write but wrong to ask for (a
 * misaligned {@code mmap} address, a zero length) are accepted here and answered with an errno.
 *
 * <p>Java 17 has no pattern {@code switch}: callers get exhaustiveness from {@link Visitor}, never
 * from a {@code default} branch.
 */
public sealed interface Op {

  /** Largest page count or page offset: the whole user address space, 2^35 pages. */
  long MAX_PAGES = 1L << 35;

  /** Addresses lie in [0, 2^63): large enough for every user and kernel address we model. */
  long MAX_ADDRESS = Long.MAX_VALUE;

  /** Image names: lower-case letters, digits and underscores, at most {@link Source#NAME_MAX}. */
  Pattern IMAGE_NAME = Pattern.compile("[a-z0-9_]+");

  <R> R accept(Visitor<R> v);

  /**
   * The failure this operation may answer when memory runs out, leaving everything as it was
   * (MEM-1, MEM-2, WIRE-7); empty for operations that need no memory.
   */
  Optional<Errno> exhaustion();

  /** One method per operation: the way to handle every operation, checked by the compiler. */
  interface Visitor<R> {
    R spawn(Spawn op);

    R fork(Fork op);

    R clone(Clone op);

    R exec(Exec op);

    R exit(Exit op);

    R mmap(Mmap op);

    R munmap(Munmap op);

    R mprotect(Mprotect op);

    R minherit(Minherit op);

    R mlock(Mlock op);

    R munlock(Munlock op);

    R read(Read op);

    R write(Write op);

    R file(File op);

    R fwrite(Fwrite op);

    R fread(Fread op);

    R shmget(Shmget op);

    R shmrm(Shmrm op);

    R pageout(Pageout op);

    R collapse(Collapse op);
  }

  // ---------------------------------------------------------------- processes

  /**
   * {@code spawn P}: a new process with a fresh address space holding only the shared page
   * (PROC-1).
   */
  record Spawn(int pid) implements Op {
    public Spawn {
      checkPid(pid);
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.spawn(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.ENOMEM);
    }

    @Override
    public String toString() {
      return "spawn " + pid;
    }
  }

  /**
   * {@code fork P C}: C gets a copy of P's address space, range by range by inheritance (FORK-*,
   * INH-*).
   */
  record Fork(int parent, int child) implements Op {
    public Fork {
      checkPid(parent);
      checkPid(child);
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.fork(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.ENOMEM);
    }

    @Override
    public String toString() {
      return "fork " + parent + " " + child;
    }
  }

  /** {@code clone P C}: C shares P's address space itself, like CLONE_VM (PROC-4). */
  record Clone(int parent, int child) implements Op {
    public Clone {
      checkPid(parent);
      checkPid(child);
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.clone(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.ENOMEM);
    }

    @Override
    public String toString() {
      return "clone " + parent + " " + child;
    }
  }

  /** {@code exec P IMAGE}: P gets a fresh address space laid out from the image (EXEC-*). */
  record Exec(int pid, String image) implements Op {
    public Exec {
      checkPid(pid);
      if (image == null || !IMAGE_NAME.matcher(image).matches()) {
        throw new IllegalArgumentException(
            "bad image name '" + image + "': image names are lower-case letters, digits and _");
      }
      if (image.length() > Source.NAME_MAX) {
        throw new IllegalArgumentException(
            "image name of "
                + image.length()
                + " characters: names have at most "
                + Source.NAME_MAX);
      }
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.exec(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.ENOMEM);
    }

    @Override
    public String toString() {
      return "exec " + pid + " " + image;
    }
  }

  /** {@code exit P}: P ends; its address space goes with its last user (PROC-5). */
  record Exit(int pid) implements Op {
    public Exit {
      checkPid(pid);
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.exit(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.empty();
    }

    @Override
    public String toString() {
      return "exit " + pid;
    }
  }

  // ---------------------------------------------------------------- mappings

  /**
   * {@code mmap P ADDR PAGES PROT private|shared SOURCE [fixed]}: maps {@code pages} pages and
   * answers the start address. ADDR 0 lets the system place it (PLACE-*); another ADDR is a hint,
   * used when free, or with {@code fixed} the exact place, replacing what was there (MMAP-*).
   */
  record Mmap(
      int pid, long addr, long pages, Prot prot, Sharing sharing, Source source, boolean fixed)
      implements Op {
    public Mmap {
      checkPid(pid);
      checkAddress(addr);
      checkPages(pages);
      if (prot == null || sharing == null || source == null) {
        throw new IllegalArgumentException("mmap needs a protection, a sharing and a source");
      }
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.mmap(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.ENOMEM);
    }

    @Override
    public String toString() {
      return "mmap "
          + pid
          + " "
          + Numbers.hex(addr)
          + " "
          + pages
          + " "
          + prot.word()
          + " "
          + sharing.word()
          + " "
          + source
          + (fixed ? " fixed" : "");
    }
  }

  /** {@code munmap P ADDR PAGES}: removes every mapping in the range; holes are fine (UNMAP-*). */
  record Munmap(int pid, long addr, long pages) implements Op {
    public Munmap {
      checkPid(pid);
      checkAddress(addr);
      checkPages(pages);
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.munmap(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.ENOMEM);
    }

    @Override
    public String toString() {
      return "munmap " + pid + " " + Numbers.hex(addr) + " " + pages;
    }
  }

  /** {@code mprotect P ADDR PAGES PROT}: changes the protection of a mapped range (PROT-*). */
  record Mprotect(int pid, long addr, long pages, Prot prot) implements Op {
    public Mprotect {
      checkPid(pid);
      checkAddress(addr);
      checkPages(pages);
      if (prot == null) {
        throw new IllegalArgumentException("mprotect needs a protection");
      }
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.mprotect(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.ENOMEM);
    }

    @Override
    public String toString() {
      return "mprotect " + pid + " " + Numbers.hex(addr) + " " + pages + " " + prot.word();
    }
  }

  /** {@code minherit P ADDR PAGES share|copy|none|zero}: sets what a fork gives a child (INH-*). */
  record Minherit(int pid, long addr, long pages, Inherit inherit) implements Op {
    public Minherit {
      checkPid(pid);
      checkAddress(addr);
      checkPages(pages);
      if (inherit == null) {
        throw new IllegalArgumentException("minherit needs an inheritance");
      }
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.minherit(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.ENOMEM);
    }

    @Override
    public String toString() {
      return "minherit " + pid + " " + Numbers.hex(addr) + " " + pages + " " + inherit.word();
    }
  }

  /** {@code mlock P ADDR PAGES}: faults in and wires every page of a mapped range (WIRE-*). */
  record Mlock(int pid, long addr, long pages) implements Op {
    public Mlock {
      checkPid(pid);
      checkAddress(addr);
      checkPages(pages);
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.mlock(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.EAGAIN);
    }

    @Override
    public String toString() {
      return "mlock " + pid + " " + Numbers.hex(addr) + " " + pages;
    }
  }

  /** {@code munlock P ADDR PAGES}: unwires a mapped range (WIRE-*). */
  record Munlock(int pid, long addr, long pages) implements Op {
    public Munlock {
      checkPid(pid);
      checkAddress(addr);
      checkPages(pages);
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.munlock(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.ENOMEM);
    }

    @Override
    public String toString() {
      return "munlock " + pid + " " + Numbers.hex(addr) + " " + pages;
    }
  }

  // ---------------------------------------------------------------- access

  /** {@code read P ADDR}: the 64-bit word at ADDR, or SEGV / BUS (ACC-*). */
  record Read(int pid, long addr) implements Op {
    public Read {
      checkPid(pid);
      checkWordAddress(addr, "read and write");
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.read(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.OOM);
    }

    @Override
    public String toString() {
      return "read " + pid + " " + Numbers.hex(addr);
    }
  }

  /** {@code write P ADDR VALUE}: stores a 64-bit word, or SEGV / BUS (ACC-*, COW-*). */
  record Write(int pid, long addr, long value) implements Op {
    public Write {
      checkPid(pid);
      checkWordAddress(addr, "read and write");
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.write(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.OOM);
    }

    @Override
    public String toString() {
      return "write " + pid + " " + Numbers.hex(addr) + " " + Numbers.value(value);
    }
  }

  // ---------------------------------------------------------------- files and shm

  /** {@code file NAME PAGES}: creates the file, or truncates / grows it to PAGES pages (FILE-*). */
  record File(String name, long pages) implements Op {
    public File {
      Source.checkName(name);
      checkPages(pages);
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.file(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.ENOMEM);
    }

    @Override
    public String toString() {
      return "file " + name + " " + pages;
    }
  }

  /**
   * {@code fwrite NAME OFF VALUE}: pwrite of one word at byte offset OFF; grows the file (FILE-*).
   */
  record Fwrite(String name, long offset, long value) implements Op {
    public Fwrite {
      Source.checkName(name);
      checkWordAddress(offset, "fwrite and fread offsets");
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.fwrite(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.ENOMEM);
    }

    @Override
    public String toString() {
      return "fwrite " + name + " " + Numbers.hex(offset) + " " + Numbers.value(value);
    }
  }

  /** {@code fread NAME OFF}: pread of one word at byte offset OFF (FILE-*). */
  record Fread(String name, long offset) implements Op {
    public Fread {
      Source.checkName(name);
      checkWordAddress(offset, "fwrite and fread offsets");
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.fread(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.ENOMEM);
    }

    @Override
    public String toString() {
      return "fread " + name + " " + Numbers.hex(offset);
    }
  }

  /** {@code shmget KEY PAGES}: creates a zero-filled shared-memory segment (SHM-*). */
  record Shmget(long key, long pages) implements Op {
    public Shmget {
      checkKey(key);
      checkPages(pages);
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.shmget(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.ENOMEM);
    }

    @Override
    public String toString() {
      return "shmget " + key + " " + pages;
    }
  }

  /** {@code shmrm KEY}: removes the key; the segment lives while it is mapped (SHM-*). */
  record Shmrm(long key) implements Op {
    public Shmrm {
      checkKey(key);
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.shmrm(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.empty();
    }

    @Override
    public String toString() {
      return "shmrm " + key;
    }
  }

  // ---------------------------------------------------------------- system

  /**
   * {@code pageout N}: evicts up to N unwired pages; nothing a process can read changes (SYS-1).
   */
  record Pageout(long count) implements Op {
    public Pageout {
      checkPages(count);
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.pageout(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.empty();
    }

    @Override
    public String toString() {
      return "pageout " + count;
    }
  }

  /**
   * {@code collapse P ADDR}: collapses the backing chain under ADDR; nothing visible changes
   * (SYS-2).
   */
  record Collapse(int pid, long addr) implements Op {
    public Collapse {
      checkPid(pid);
      checkAddress(addr);
    }

    @Override
    public <R> R accept(Visitor<R> v) {
      return v.collapse(this);
    }

    @Override
    public Optional<Errno> exhaustion() {
      return Optional.of(Errno.ENOMEM);
    }

    @Override
    public String toString() {
      return "collapse " + pid + " " + Numbers.hex(addr);
    }
  }

  // ---------------------------------------------------------------- validation

  /** Pids are positive: 0 is nobody. */
  static void checkPid(int pid) {
    if (pid < 1) {
      throw new IllegalArgumentException("bad pid " + pid + ": pids are at least 1");
    }
  }

  static void checkAddress(long addr) {
    if (addr < 0) {
      throw new IllegalArgumentException(
          "address " + Numbers.hex(addr) + " out of range: addresses lie below 2^63");
    }
  }

  static void checkPages(long pages) {
    if (pages < 0 || pages > MAX_PAGES) {
      throw new IllegalArgumentException(
          "page count " + pages + " out of range: it must lie in [0, 2^35]");
    }
  }

  static void checkKey(long key) {
    if (key < 0 || key > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "bad shm key " + key + ": keys lie in [0, " + Integer.MAX_VALUE + "]");
    }
  }

  static void checkWordAddress(long addr, String what) {
    checkAddress(addr);
    if ((addr & 7) != 0) {
      throw new IllegalArgumentException(
          "unaligned address " + Numbers.hex(addr) + ": " + what + " are 8-byte aligned");
    }
  }
}
