package org.vmoracle.checks.nativ;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.vmoracle.model.Model;
import org.vmoracle.model.Outcome;
import org.vmoracle.model.State;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceLine;

/**
 * A trace as a standalone C program ({@code vmoracle native --emit-c}, like syzkaller's prog2c):
 * the fixed prelude {@value #PRELUDE} (helpers that ask the kernel one operation each, as the
 * native runner does) and a {@code replay()} of one call a line. The program prints every line's
 * answer and whether it met the trace's expectation, and exits 1 at the first that did not.
 *
 * <p>What the runner did with the trace ({@link NativeVerdict}) decides what is run: a line it
 * passed over (a DEV- or HOST- rule, changing nothing) is printed as unsupported with its rule; at
 * a line that ended its run as unsupported the program prints the rule and stops. A placed {@code
 * mmap} is asked at the model's address with {@code MAP_FIXED_NOREPLACE} (DEV-2), as {@link
 * Protocol} asks it; the model is stepped beside the lines for that.
 *
 * <p>A visitor over every operation: a new operation does not compile until it has a call.
 */
public final class CProgram implements Op.Visitor<String> {

  /** The prelude on the class path (copied there from {@code checks/src/main/c}). */
  public static final String PRELUDE = "/org/vmoracle/checks/nativ/emit-prelude.c";

  /** File numbers: boot files are 0, 1, 2; each new name the next (the prelude's f_N). */
  private final Map<String, Integer> files = new HashMap<>();

  private TraceLine line;
  private Result model;

  private CProgram() {
    for (Boot.BootFile f : Boot.BOOT_FILES) {
      files.put(f.name(), files.size());
    }
  }

  /**
   * The program for {@code trace}, given what the runner made of it. No requirements.
   *
   * @param verdict the runner's verdict on this trace, with {@code skip} as the caller ran it
   */
  public static String emit(Trace trace, NativeVerdict verdict) {
    CProgram p = new CProgram();
    StringBuilder out = new StringBuilder(prelude());
    out.append("/* ").append(comment(trace.source())).append(" */\n");
    out.append("static void replay(void) {\n");
    Map<Integer, Deviations.Rule> skipped = new HashMap<>();
    for (NativeVerdict.Skip s : verdict.skipped()) {
      skipped.put(s.line(), s.rule());
    }
    Set<Integer> exhausted = new HashSet<>(verdict.exhausted());
    State state = Model.boot();
    for (TraceLine l : trace.lines()) {
      Outcome o = Model.step(state, l.op());
      boolean stop = verdict.kind() == NativeVerdict.Kind.UNSUPPORTED && verdict.line() == l.line();
      Deviations.Rule rule = stop ? verdict.rule() : skipped.get(l.line());
      if (rule != null) {
        out.append("  /* line ")
            .append(l.line())
            .append(", not asked: ")
            .append(rule.toString().replace("*/", "* /"))
            .append(" */\n");
        out.append("  skipped(")
            .append(l.line())
            .append(", ")
            .append(string(l.op().toString()))
            .append(", ")
            .append(string(rule.toString()))
            .append(");\n");
        if (stop) {
          out.append("  return; /* the runner stops here: the line changes the model */\n");
          break;
        }
        continue;
      }
      p.line = l;
      p.model = o.result();
      out.append("  ").append(l.op().accept(p)).append('\n');
      if (!exhausted.contains(l.line())) {
        state = o.state(); // MEM-1: where the kernel ran out, neither side moved on
      }
    }
    out.append("}\n");
    return out.toString();
  }

  private static String prelude() {
    try (InputStream in = CProgram.class.getResourceAsStream(PRELUDE)) {
      if (in == null) {
        throw new IllegalStateException(PRELUDE + " is not on the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + PRELUDE, e);
    }
  }

  /** {@code s} as a C string literal. */
  static String string(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20 || c > 0x7e) {
        b.append(String.format("\\%03o", (int) c & 0xff));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }

  private static String comment(String s) {
    return "the replay of " + s.replace("*/", "* /") + ", written by vmoracle native --emit-c";
  }

  private static String u64(long v) {
    return "0x" + Long.toHexString(v) + "ULL";
  }

  /** The expectation as the prelude prints answers ({@code 0x…}, {@code ok}, a name), or NULL. */
  private String expect() {
    Optional<Result> e = line.expect();
    if (e.isEmpty()) {
      return "NULL";
    }
    Result r = e.get();
    if (r instanceof Result.Value) {
      return string("0x" + Long.toHexString(((Result.Value) r).value()));
    }
    return string(r.toString());
  }

  /** {@code L, "OP"}: the first arguments of every call. */
  private String head() {
    return line.line() + ", " + string(line.op().toString());
  }

  private String call(String helper, String args) {
    return helper + "(" + head() + ", " + args + ", " + expect() + ");";
  }

  private int file(String name) {
    return files.getOrDefault(name, -1); // -1: never made, the prelude answers ENOENT
  }

  private static String prot(Prot p) {
    return switch (p) {
      case NONE -> "PROT_NONE";
      case R -> "PROT_READ";
      case RW -> "PROT_READ | PROT_WRITE";
      case RX -> "PROT_READ | PROT_EXEC";
      case RWX -> "PROT_READ | PROT_WRITE | PROT_EXEC";
    };
  }

  private static String sharing(Sharing s) {
    return s == Sharing.SHARED ? "MAP_SHARED" : "MAP_PRIVATE";
  }

  private String simple(String op, int pid, long addr, long pages, String arg, long value) {
    return call(
        "op_simple",
        op + ", " + pid + ", " + u64(addr) + ", " + u64(pages) + ", " + arg + ", " + u64(value));
  }

  @Override
  public String spawn(Op.Spawn op) {
    return call("op_spawn", Integer.toString(op.pid()));
  }

  @Override
  public String fork(Op.Fork op) {
    return call("op_fork", op.parent() + ", " + op.child() + ", 0");
  }

  @Override
  public String clone(Op.Clone op) {
    return call("op_fork", op.parent() + ", " + op.child() + ", 1");
  }

  /** A known image's segments as an array of the prelude's {@code struct seg} (EXEC-2, EXEC-3). */
  @Override
  public String exec(Op.Exec op) {
    Optional<Boot.Image> image = Boot.image(op.image());
    if (image.isEmpty()) {
      return call("op_exec", op.pid() + ", " + string(op.image()) + ", NULL, 0");
    }
    StringBuilder segs = new StringBuilder("{ static const struct seg s[] = {");
    for (Boot.Segment g : image.get().segments()) {
      int f = -1;
      long pgoff = 0;
      if (g.source() instanceof Source.FileRange) {
        f = file(((Source.FileRange) g.source()).name());
        pgoff = ((Source.FileRange) g.source()).pgoff();
      }
      segs.append("{")
          .append(u64(g.start()))
          .append(", ")
          .append(g.pages())
          .append(", ")
          .append(prot(g.prot()))
          .append(", ")
          .append(sharing(g.sharing()))
          .append(", ")
          .append(f)
          .append(", ")
          .append(pgoff)
          .append("}, ");
    }
    segs.append("};\n    ");
    int n = image.get().segments().size();
    return segs + call("op_exec", op.pid() + ", " + string(op.image()) + ", s, " + n) + " }";
  }

  @Override
  public String exit(Op.Exit op) {
    return call("op_exit", Integer.toString(op.pid()));
  }

  /** As {@link Protocol#mmap}: the model's address when it made the mapping, else the trace's. */
  @Override
  public String mmap(Op.Mmap op) {
    long addr = Protocol.mmapAddress(op, model);
    String mode =
        switch (Protocol.Placement.of(op, model)) {
          case FIXED -> " | MAP_FIXED";
          case NOREPLACE -> " | MAP_FIXED_NOREPLACE";
          case HINT -> "";
        };
    String src;
    if (op.source() instanceof Source.FileRange) {
      Source.FileRange f = (Source.FileRange) op.source();
      src = "S_FILE, " + file(f.name()) + ", 0, " + u64(f.pgoff());
    } else if (op.source() instanceof Source.Shm) {
      src = "S_SHM, -1, " + ((Source.Shm) op.source()).key() + "L, 0";
    } else {
      src = "S_ANON, -1, 0, 0";
    }
    return call(
        "op_mmap",
        op.pid()
            + ", "
            + u64(addr)
            + ", "
            + u64(op.pages())
            + ", "
            + prot(op.prot())
            + ", "
            + sharing(op.sharing())
            + mode
            + ", "
            + src);
  }

  @Override
  public String munmap(Op.Munmap op) {
    return simple("W_MUNMAP", op.pid(), op.addr(), op.pages(), "0", 0);
  }

  @Override
  public String mprotect(Op.Mprotect op) {
    return simple("W_MPROTECT", op.pid(), op.addr(), op.pages(), prot(op.prot()), 0);
  }

  @Override
  public String minherit(Op.Minherit op) {
    String inh =
        switch (op.inherit()) {
          case SHARE -> "I_SHARE";
          case COPY -> "I_COPY";
          case NONE -> "I_NONE";
          case ZERO -> "I_ZERO";
        };
    return simple("W_MINHERIT", op.pid(), op.addr(), op.pages(), inh, 0);
  }

  @Override
  public String mlock(Op.Mlock op) {
    return simple("W_MLOCK", op.pid(), op.addr(), op.pages(), "0", 0);
  }

  @Override
  public String munlock(Op.Munlock op) {
    return simple("W_MUNLOCK", op.pid(), op.addr(), op.pages(), "0", 0);
  }

  @Override
  public String read(Op.Read op) {
    return simple("W_READ", op.pid(), op.addr(), 0, "0", 0);
  }

  @Override
  public String write(Op.Write op) {
    return simple("W_WRITE", op.pid(), op.addr(), 0, "0", op.value());
  }

  @Override
  public String file(Op.File op) {
    files.putIfAbsent(op.name(), files.size()); // FILE-1: the file is made here
    return call("op_file", file(op.name()) + ", " + u64(op.pages()));
  }

  @Override
  public String fwrite(Op.Fwrite op) {
    return call("op_fwrite", file(op.name()) + ", " + u64(op.offset()) + ", " + u64(op.value()));
  }

  @Override
  public String fread(Op.Fread op) {
    return call("op_fread", file(op.name()) + ", " + u64(op.offset()));
  }

  @Override
  public String shmget(Op.Shmget op) {
    return call("op_shmget", op.key() + "L, " + u64(op.pages()));
  }

  @Override
  public String shmrm(Op.Shmrm op) {
    return call("op_shmrm", op.key() + "L");
  }

  @Override
  public String pageout(Op.Pageout op) {
    return "op_pageout(" + head() + ", " + expect() + ");";
  }

  @Override
  public String collapse(Op.Collapse op) {
    return simple("W_COLLAPSE", op.pid(), op.addr(), 0, "0", 0);
  }
}
