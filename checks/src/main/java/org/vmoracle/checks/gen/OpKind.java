package org.vmoracle.checks.gen;

import java.util.List;
import org.vmoracle.spec.Op;

/**
 * The kinds of operation, one per record of {@link Op}: what a profile weighs, what a shrinker
 * keeps fixed ("a RESULT divergence on a read stays one on a read"), and which areas of {@code
 * spec/SEMANTICS.md} an operation of the kind exercises, so a finding can name the rules to read.
 */
public enum OpKind {
  SPAWN("spawn", "PROC"),
  FORK("fork", "FORK", "INH", "COW"),
  CLONE("clone", "PROC"),
  EXEC("exec", "EXEC", "PROC"),
  EXIT("exit", "PROC"),
  MMAP("mmap", "MMAP", "PLACE"),
  MUNMAP("munmap", "UNMAP"),
  MPROTECT("mprotect", "PROT", "WIRE"),
  MINHERIT("minherit", "INH"),
  MLOCK("mlock", "WIRE"),
  MUNLOCK("munlock", "WIRE"),
  READ("read", "ACC", "COW", "FILE", "SHM"),
  WRITE("write", "ACC", "COW", "PROT", "FILE", "SHM"),
  FILE("file", "FILE"),
  FWRITE("fwrite", "FILE"),
  FREAD("fread", "FILE"),
  SHMGET("shmget", "SHM"),
  SHMRM("shmrm", "SHM"),
  PAGEOUT("pageout", "SYS", "MEM"),
  COLLAPSE("collapse", "SYS");

  private final String word;
  private final List<String> areas;

  OpKind(String word, String... areas) {
    this.word = word;
    this.areas = List.of(areas);
  }

  /** The operation's first word in the trace language. */
  public String word() {
    return word;
  }

  /** The rule areas of SEMANTICS.md ({@code FORK}, {@code COW}) an operation of this kind meets. */
  public List<String> areas() {
    return areas;
  }

  /** The kind of {@code op}. */
  public static OpKind of(Op op) {
    return op.accept(KIND);
  }

  /** The kind named by a trace word, or null. */
  public static OpKind fromWord(String word) {
    for (OpKind k : values()) {
      if (k.word.equals(word)) {
        return k;
      }
    }
    return null;
  }

  /** Exhaustive by construction: a new operation does not compile until it has a kind. */
  private static final Op.Visitor<OpKind> KIND =
      new Op.Visitor<>() {
        @Override
        public OpKind spawn(Op.Spawn op) {
          return SPAWN;
        }

        @Override
        public OpKind fork(Op.Fork op) {
          return FORK;
        }

        @Override
        public OpKind clone(Op.Clone op) {
          return CLONE;
        }

        @Override
        public OpKind exec(Op.Exec op) {
          return EXEC;
        }

        @Override
        public OpKind exit(Op.Exit op) {
          return EXIT;
        }

        @Override
        public OpKind mmap(Op.Mmap op) {
          return MMAP;
        }

        @Override
        public OpKind munmap(Op.Munmap op) {
          return MUNMAP;
        }

        @Override
        public OpKind mprotect(Op.Mprotect op) {
          return MPROTECT;
        }

        @Override
        public OpKind minherit(Op.Minherit op) {
          return MINHERIT;
        }

        @Override
        public OpKind mlock(Op.Mlock op) {
          return MLOCK;
        }

        @Override
        public OpKind munlock(Op.Munlock op) {
          return MUNLOCK;
        }

        @Override
        public OpKind read(Op.Read op) {
          return READ;
        }

        @Override
        public OpKind write(Op.Write op) {
          return WRITE;
        }

        @Override
        public OpKind file(Op.File op) {
          return FILE;
        }

        @Override
        public OpKind fwrite(Op.Fwrite op) {
          return FWRITE;
        }

        @Override
        public OpKind fread(Op.Fread op) {
          return FREAD;
        }

        @Override
        public OpKind shmget(Op.Shmget op) {
          return SHMGET;
        }

        @Override
        public OpKind shmrm(Op.Shmrm op) {
          return SHMRM;
        }

        @Override
        public OpKind pageout(Op.Pageout op) {
          return PAGEOUT;
        }

        @Override
        public OpKind collapse(Op.Collapse op) {
          return COLLAPSE;
        }
      };
}
