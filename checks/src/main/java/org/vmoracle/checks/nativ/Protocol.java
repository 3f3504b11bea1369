package org.vmoracle.checks.nativ;

import java.util.Optional;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;

/**
 * The command line for the coordinator that asks the kernel an operation, in the protocol of the C
 * file's opening comment. Built after the model has answered: a placed or hinted {@code mmap} the
 * model made at address A is asked at A with {@code MAP_FIXED_NOREPLACE} (DEV-2), a {@code fixed}
 * one with {@code MAP_FIXED}; an {@code mmap} the model refused is asked as the trace wrote it (an
 * address without {@code fixed} as a plain hint), so the kernel gives its own answer.
 *
 * <p>A visitor over every operation: a new operation does not compile until it has a command.
 */
final class Protocol implements Op.Visitor<String> {

  private final Result model;

  private Protocol(Result model) {
    this.model = model;
  }

  /** The command for {@code op}, given the model's answer to it. No requirements. */
  static String command(Op op, Result model) {
    return op.accept(new Protocol(model));
  }

  /**
   * Parses a reply line into a result: {@code 0x…} a value, {@code ok}, or an errno or signal name
   * of the trace language; empty for anything else (another errno name, {@code ERROR …}).
   */
  static Optional<Result> parse(String reply) {
    if (reply.startsWith("0x")) {
      try {
        return Optional.of(Result.value(Long.parseUnsignedLong(reply.substring(2), 16)));
      } catch (NumberFormatException e) {
        return Optional.empty();
      }
    }
    if (reply.equals("ok")) {
      return Optional.of(Result.OK);
    }
    Errno e = Errno.fromWord(reply);
    return e == null ? Optional.empty() : Optional.of(Result.of(e));
  }

  private static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }

  private static String range(String verb, int pid, long addr, long pages) {
    return verb + " " + pid + " " + hex(addr) + " " + pages;
  }

  @Override
  public String spawn(Op.Spawn op) {
    return "spawn " + op.pid();
  }

  @Override
  public String fork(Op.Fork op) {
    return "fork " + op.parent() + " " + op.child();
  }

  @Override
  public String clone(Op.Clone op) {
    return "clone " + op.parent() + " " + op.child();
  }

  /**
   * {@code exec P IMAGE SEG…} with the image's segments (EXEC-2, EXEC-3); an image the boot
   * environment does not have goes without segments, so the coordinator makes no link for it and
   * the kernel's execve answers ENOENT.
   */
  @Override
  public String exec(Op.Exec op) {
    StringBuilder sb = new StringBuilder("exec " + op.pid() + " " + op.image());
    Boot.image(op.image())
        .ifPresent(
            image -> {
              for (Boot.Segment s : image.segments()) {
                sb.append(' ')
                    .append(hex(s.start()))
                    .append(',')
                    .append(s.pages())
                    .append(',')
                    .append(s.prot().word())
                    .append(',')
                    .append(s.sharing().word())
                    .append(',')
                    .append(s.source().toString().replace(' ', ','));
              }
            });
    return sb.toString();
  }

  @Override
  public String exit(Op.Exit op) {
    return "exit " + op.pid();
  }

  /**
   * How the kernel is asked to place an mmap: exactly where the model put the mapping (DEV-2: the
   * model places bottom-up, Linux top-down), or, when the model refused it, at the trace's own
   * address and mode, so that the kernel refuses too or says otherwise.
   */
  enum Placement {
    /** MAP_FIXED: replace what is there. */
    FIXED,
    /** MAP_FIXED_NOREPLACE at the model's address. */
    NOREPLACE,
    /** The trace's address as a hint (or 0). */
    HINT;

    static Placement of(Op.Mmap op, Result model) {
      return op.fixed() ? FIXED : model instanceof Result.Value ? NOREPLACE : HINT;
    }
  }

  /** The address an mmap is asked at ({@link Placement}): the model's, or else the trace's. */
  static long mmapAddress(Op.Mmap op, Result model) {
    return model instanceof Result.Value ? ((Result.Value) model).value() : op.addr();
  }

  @Override
  public String mmap(Op.Mmap op) {
    long addr = mmapAddress(op, model);
    String mode = Placement.of(op, model).name().toLowerCase(java.util.Locale.ROOT);
    return "mmap "
        + op.pid()
        + " "
        + hex(addr)
        + " "
        + op.pages()
        + " "
        + op.prot().word()
        + " "
        + op.sharing().word()
        + " "
        + mode
        + " "
        + op.source();
  }

  @Override
  public String munmap(Op.Munmap op) {
    return range("munmap", op.pid(), op.addr(), op.pages());
  }

  @Override
  public String mprotect(Op.Mprotect op) {
    return range("mprotect", op.pid(), op.addr(), op.pages()) + " " + op.prot().word();
  }

  @Override
  public String minherit(Op.Minherit op) {
    return range("minherit", op.pid(), op.addr(), op.pages()) + " " + op.inherit().word();
  }

  @Override
  public String mlock(Op.Mlock op) {
    return range("mlock", op.pid(), op.addr(), op.pages());
  }

  @Override
  public String munlock(Op.Munlock op) {
    return range("munlock", op.pid(), op.addr(), op.pages());
  }

  @Override
  public String read(Op.Read op) {
    return "read " + op.pid() + " " + hex(op.addr());
  }

  @Override
  public String write(Op.Write op) {
    return "write " + op.pid() + " " + hex(op.addr()) + " " + hex(op.value());
  }

  @Override
  public String file(Op.File op) {
    return "file " + op.name() + " " + op.pages();
  }

  @Override
  public String fwrite(Op.Fwrite op) {
    return "fwrite " + op.name() + " " + hex(op.offset()) + " " + hex(op.value());
  }

  @Override
  public String fread(Op.Fread op) {
    return "fread " + op.name() + " " + hex(op.offset());
  }

  @Override
  public String shmget(Op.Shmget op) {
    return "shmget " + op.key() + " " + op.pages();
  }

  @Override
  public String shmrm(Op.Shmrm op) {
    return "shmrm " + op.key();
  }

  /** {@code pageout} in every worker; the count is the kernel's to choose (SYS-1). */
  @Override
  public String pageout(Op.Pageout op) {
    return "pageout";
  }

  @Override
  public String collapse(Op.Collapse op) {
    return "collapse " + op.pid() + " " + hex(op.addr());
  }
}
