package org.vmoracle.checks.shrink;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntUnaryOperator;
import java.util.function.LongUnaryOperator;
import java.util.function.UnaryOperator;
import org.vmoracle.model.ModelVm;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * The argument simplifications the {@link Shrinker} tries: for one operation, variants that are
 * simpler, simplest first; for a whole list, pids and segment keys renumbered densely in order of
 * first use. "Simpler" always means smaller by some measure (a smaller number, a page start for an
 * address inside a page, a placed mapping for a hinted or fixed one, anonymous memory for a file),
 * so repeated simplification ends.
 */
final class Simplify {
  private Simplify() {}

  /** Whole-list rewrites: pids 1, 2, 3… and keys 1, 2, 3… in order of first use. */
  static List<UnaryOperator<List<Op>>> wholeList() {
    return List.of(Simplify::densePids, Simplify::denseKeys);
  }

  private static List<Op> densePids(List<Op> ops) {
    Map<Integer, Integer> pids = new LinkedHashMap<>();
    Rewrite learn = new Rewrite(p -> pids.computeIfAbsent(p, x -> pids.size() + 1), k -> k, a -> a);
    for (Op op : ops) {
      op.accept(learn);
    }
    return map(ops, 0, new Rewrite(pids::get, k -> k, a -> a));
  }

  private static List<Op> denseKeys(List<Op> ops) {
    Map<Long, Long> keys = new LinkedHashMap<>();
    Rewrite learn =
        new Rewrite(p -> p, k -> keys.computeIfAbsent(k, x -> (long) keys.size() + 1), a -> a);
    for (Op op : ops) {
      op.accept(learn);
    }
    return map(ops, 0, new Rewrite(p -> p, keys::get, a -> a));
  }

  /**
   * The word addresses of reads, writes and collapses that are not page starts, each once: the
   * shrinker tries moving each to its page start in every operation at once (a store and the load
   * that sees it move together).
   */
  static List<Long> unalignedAddresses(List<Op> ops) {
    Set<Long> seen = new LinkedHashSet<>();
    for (Op op : ops) {
      long a =
          op instanceof Op.Read
              ? ((Op.Read) op).addr()
              : op instanceof Op.Write
                  ? ((Op.Write) op).addr()
                  : op instanceof Op.Collapse ? ((Op.Collapse) op).addr() : 0;
      if ((a & (Boot.PAGE_SIZE - 1)) != 0) {
        seen.add(a);
      }
    }
    return new ArrayList<>(seen);
  }

  /** {@code ops} with address {@code from} made its page start wherever it appears. */
  static List<Op> toPageStart(List<Op> ops, long from) {
    long to = from & -Boot.PAGE_SIZE;
    return map(ops, 0, new Rewrite(p -> p, k -> k, a -> a == from ? to : a));
  }

  /**
   * Removals that ddmin cannot make because later operations name what the removed one made: a
   * {@code fork} or {@code clone} removed with its child's later operations given to the parent; an
   * {@code mmap} removed with the later addresses in mappings that are now placed elsewhere moved
   * with them. {@code results} are the model's answers to {@code ops}.
   */
  static List<List<Op>> removals(List<Op> ops, int i, List<Result> results) {
    Op op = ops.get(i);
    if (op instanceof Op.Fork) {
      int child = ((Op.Fork) op).child();
      int parent = ((Op.Fork) op).parent();
      return List.of(without(ops, i, new Rewrite(p -> p == child ? parent : p, k -> k, a -> a)));
    }
    if (op instanceof Op.Clone) {
      int child = ((Op.Clone) op).child();
      int parent = ((Op.Clone) op).parent();
      return List.of(without(ops, i, new Rewrite(p -> p == child ? parent : p, k -> k, a -> a)));
    }
    if (op instanceof Op.Mmap && results.get(i) instanceof Result.Value) {
      return List.of(relocated(ops, results, i, null));
    }
    return List.of();
  }

  /**
   * {@code ops} with operation {@code i} replaced by {@code replacement} (removed when null), and
   * every mapping from {@code i} on that the model now places elsewhere taking along the later
   * addresses that pointed into it, so the operations after it still hit what they hit before.
   * {@code results} are the model's answers to {@code ops}.
   */
  static List<Op> relocated(List<Op> ops, List<Result> results, int i, Op replacement) {
    ModelVm model = new ModelVm();
    List<long[]> moves = new ArrayList<>(); // {old start, old end, new start}, newest first
    Rewrite translate =
        new Rewrite(
            p -> p,
            k -> k,
            a -> {
              for (long[] m : moves) {
                if (a >= m[0] && a < m[1]) {
                  return m[2] + (a - m[0]);
                }
              }
              return a;
            });
    List<Op> out = new ArrayList<>(ops.size());
    for (int j = 0; j < ops.size(); j++) {
      Op op;
      if (j < i) {
        op = ops.get(j);
      } else if (j == i) {
        if (replacement == null) {
          continue;
        }
        op = replacement;
      } else {
        op = ops.get(j).accept(translate);
      }
      Result now = model.apply(op);
      out.add(op);
      Op was = ops.get(j);
      if (j >= i
          && op instanceof Op.Mmap
          && was instanceof Op.Mmap
          && results.get(j) instanceof Result.Value
          && now instanceof Result.Value) {
        long from = ((Result.Value) results.get(j)).value();
        long to = ((Result.Value) now).value();
        if (from != to) {
          moves.add(0, new long[] {from, from + ((Op.Mmap) was).pages() * Boot.PAGE_SIZE, to});
        }
      }
    }
    return out;
  }

  /** {@code ops} without operation {@code i}, the operations after it rewritten. */
  private static List<Op> without(List<Op> ops, int i, Rewrite after) {
    List<Op> out = new ArrayList<>(ops.subList(0, i));
    out.addAll(map(ops.subList(i + 1, ops.size()), 0, after));
    return out;
  }

  private static List<Op> map(List<Op> ops, int from, Rewrite r) {
    List<Op> out = new ArrayList<>(ops.subList(0, from));
    for (Op op : ops.subList(from, ops.size())) {
      out.add(op.accept(r));
    }
    return out;
  }

  /** Simpler variants of {@code op}, simplest first; empty when there is none. */
  static List<Op> candidates(Op op) {
    return op.accept(CANDIDATES);
  }

  /** Smaller values for a word: 0, 1, 2, then the value's low bits. */
  private static List<Long> smallerValues(long v) {
    List<Long> out = new ArrayList<>();
    for (long c : new long[] {0, 1, 2}) {
      if (Long.compareUnsigned(c, v) < 0) {
        out.add(c);
      }
    }
    if (Long.compareUnsigned(v, 1000) > 0) {
      out.add(Long.remainderUnsigned(v, 1000) + 3);
    }
    return out;
  }

  /** Smaller page counts: 1, then half. */
  private static List<Long> smallerCounts(long n, long least) {
    List<Long> out = new ArrayList<>();
    if (least < n) {
      out.add(least);
    }
    if (n / 2 > least) {
      out.add(n / 2);
    }
    return out;
  }

  /** The start of the page holding {@code addr}, if that is a different address. */
  private static List<Long> pageStart(long addr) {
    long p = addr & -Boot.PAGE_SIZE;
    return p == addr ? List.of() : List.of(p);
  }

  /** Smaller byte offsets in a file: 0, the start of the page, half (word aligned). */
  private static List<Long> smallerOffsets(long off) {
    List<Long> out = new ArrayList<>();
    if (off > 0) {
      out.add(0L);
    }
    long page = off & -Boot.PAGE_SIZE;
    if (page > 0 && page != off) {
      out.add(page);
    }
    long half = (off / 2) & -Boot.WORD_SIZE;
    if (half > 0 && half != page) {
      out.add(half);
    }
    return out;
  }

  private static final Op.Visitor<List<Op>> CANDIDATES =
      new Op.Visitor<>() {
        @Override
        public List<Op> spawn(Op.Spawn op) {
          return List.of();
        }

        @Override
        public List<Op> fork(Op.Fork op) {
          return List.of();
        }

        @Override
        public List<Op> clone(Op.Clone op) {
          return List.of();
        }

        @Override
        public List<Op> exec(Op.Exec op) {
          return op.image().equals("static") ? List.of() : List.of(new Op.Exec(op.pid(), "static"));
        }

        @Override
        public List<Op> exit(Op.Exit op) {
          return List.of();
        }

        @Override
        public List<Op> mmap(Op.Mmap op) {
          List<Op> out = new ArrayList<>();
          if (op.addr() != 0) {
            out.add(
                new Op.Mmap(op.pid(), 0, op.pages(), op.prot(), op.sharing(), op.source(), false));
          }
          if (op.fixed()) {
            out.add(
                new Op.Mmap(
                    op.pid(), op.addr(), op.pages(), op.prot(), op.sharing(), op.source(), false));
          }
          for (long n : smallerCounts(op.pages(), 1)) {
            out.add(
                new Op.Mmap(
                    op.pid(), op.addr(), n, op.prot(), op.sharing(), op.source(), op.fixed()));
          }
          if (!(op.source() instanceof Source.Anon)) {
            out.add(
                new Op.Mmap(
                    op.pid(),
                    op.addr(),
                    op.pages(),
                    op.prot(),
                    op.sharing(),
                    new Source.Anon(),
                    op.fixed()));
          }
          if (op.source() instanceof Source.FileRange
              && ((Source.FileRange) op.source()).pgoff() > 0) {
            out.add(
                new Op.Mmap(
                    op.pid(),
                    op.addr(),
                    op.pages(),
                    op.prot(),
                    op.sharing(),
                    new Source.FileRange(((Source.FileRange) op.source()).name(), 0),
                    op.fixed()));
          }
          if (op.sharing() == Sharing.SHARED) {
            out.add(
                new Op.Mmap(
                    op.pid(),
                    op.addr(),
                    op.pages(),
                    op.prot(),
                    Sharing.PRIVATE,
                    op.source(),
                    op.fixed()));
          }
          if (op.prot() != Prot.RW && op.prot() != Prot.R) {
            out.add(
                new Op.Mmap(
                    op.pid(),
                    op.addr(),
                    op.pages(),
                    Prot.RW,
                    op.sharing(),
                    op.source(),
                    op.fixed()));
          }
          return out;
        }

        @Override
        public List<Op> munmap(Op.Munmap op) {
          List<Op> out = new ArrayList<>();
          for (long n : smallerCounts(op.pages(), 1)) {
            out.add(new Op.Munmap(op.pid(), op.addr(), n));
          }
          return out;
        }

        @Override
        public List<Op> mprotect(Op.Mprotect op) {
          List<Op> out = new ArrayList<>();
          for (long n : smallerCounts(op.pages(), 1)) {
            out.add(new Op.Mprotect(op.pid(), op.addr(), n, op.prot()));
          }
          return out;
        }

        @Override
        public List<Op> minherit(Op.Minherit op) {
          List<Op> out = new ArrayList<>();
          for (long n : smallerCounts(op.pages(), 1)) {
            out.add(new Op.Minherit(op.pid(), op.addr(), n, op.inherit()));
          }
          return out;
        }

        @Override
        public List<Op> mlock(Op.Mlock op) {
          List<Op> out = new ArrayList<>();
          for (long n : smallerCounts(op.pages(), 1)) {
            out.add(new Op.Mlock(op.pid(), op.addr(), n));
          }
          return out;
        }

        @Override
        public List<Op> munlock(Op.Munlock op) {
          List<Op> out = new ArrayList<>();
          for (long n : smallerCounts(op.pages(), 1)) {
            out.add(new Op.Munlock(op.pid(), op.addr(), n));
          }
          return out;
        }

        @Override
        public List<Op> read(Op.Read op) {
          List<Op> out = new ArrayList<>();
          for (long a : pageStart(op.addr())) {
            out.add(new Op.Read(op.pid(), a));
          }
          return out;
        }

        @Override
        public List<Op> write(Op.Write op) {
          List<Op> out = new ArrayList<>();
          for (long v : smallerValues(op.value())) {
            out.add(new Op.Write(op.pid(), op.addr(), v));
          }
          for (long a : pageStart(op.addr())) {
            out.add(new Op.Write(op.pid(), a, op.value()));
          }
          return out;
        }

        @Override
        public List<Op> file(Op.File op) {
          List<Op> out = new ArrayList<>();
          for (long n : smallerCounts(op.pages(), 0)) {
            out.add(new Op.File(op.name(), n));
          }
          return out;
        }

        @Override
        public List<Op> fwrite(Op.Fwrite op) {
          List<Op> out = new ArrayList<>();
          for (long v : smallerValues(op.value())) {
            out.add(new Op.Fwrite(op.name(), op.offset(), v));
          }
          for (long off : smallerOffsets(op.offset())) {
            out.add(new Op.Fwrite(op.name(), off, op.value()));
          }
          return out;
        }

        @Override
        public List<Op> fread(Op.Fread op) {
          List<Op> out = new ArrayList<>();
          for (long off : smallerOffsets(op.offset())) {
            out.add(new Op.Fread(op.name(), off));
          }
          return out;
        }

        @Override
        public List<Op> shmget(Op.Shmget op) {
          List<Op> out = new ArrayList<>();
          for (long n : smallerCounts(op.pages(), 1)) {
            out.add(new Op.Shmget(op.key(), n));
          }
          return out;
        }

        @Override
        public List<Op> shmrm(Op.Shmrm op) {
          return List.of();
        }

        @Override
        public List<Op> pageout(Op.Pageout op) {
          List<Op> out = new ArrayList<>();
          for (long n : smallerCounts(op.count(), 1)) {
            out.add(new Op.Pageout(n));
          }
          return out;
        }

        @Override
        public List<Op> collapse(Op.Collapse op) {
          List<Op> out = new ArrayList<>();
          for (long a : pageStart(op.addr())) {
            out.add(new Op.Collapse(op.pid(), a));
          }
          return out;
        }
      };

  /** An operation with its pids, segment keys and addresses mapped. */
  private static final class Rewrite implements Op.Visitor<Op> {
    private final IntUnaryOperator pid;
    private final LongUnaryOperator key;
    private final LongUnaryOperator addr;

    Rewrite(IntUnaryOperator pid, LongUnaryOperator key, LongUnaryOperator addr) {
      this.pid = pid;
      this.key = key;
      this.addr = addr;
    }

    private int p(int x) {
      return pid.applyAsInt(x);
    }

    private long a(long x) {
      return addr.applyAsLong(x);
    }

    @Override
    public Op spawn(Op.Spawn op) {
      return new Op.Spawn(p(op.pid()));
    }

    @Override
    public Op fork(Op.Fork op) {
      return new Op.Fork(p(op.parent()), p(op.child()));
    }

    @Override
    public Op clone(Op.Clone op) {
      return new Op.Clone(p(op.parent()), p(op.child()));
    }

    @Override
    public Op exec(Op.Exec op) {
      return new Op.Exec(p(op.pid()), op.image());
    }

    @Override
    public Op exit(Op.Exit op) {
      return new Op.Exit(p(op.pid()));
    }

    @Override
    public Op mmap(Op.Mmap op) {
      Source s = op.source();
      if (s instanceof Source.Shm) {
        s = new Source.Shm(key.applyAsLong(((Source.Shm) s).key()));
      }
      long at = op.addr() == 0 ? 0 : a(op.addr()); // 0 asks for placement: not an address
      return new Op.Mmap(p(op.pid()), at, op.pages(), op.prot(), op.sharing(), s, op.fixed());
    }

    @Override
    public Op munmap(Op.Munmap op) {
      return new Op.Munmap(p(op.pid()), a(op.addr()), op.pages());
    }

    @Override
    public Op mprotect(Op.Mprotect op) {
      return new Op.Mprotect(p(op.pid()), a(op.addr()), op.pages(), op.prot());
    }

    @Override
    public Op minherit(Op.Minherit op) {
      return new Op.Minherit(p(op.pid()), a(op.addr()), op.pages(), op.inherit());
    }

    @Override
    public Op mlock(Op.Mlock op) {
      return new Op.Mlock(p(op.pid()), a(op.addr()), op.pages());
    }

    @Override
    public Op munlock(Op.Munlock op) {
      return new Op.Munlock(p(op.pid()), a(op.addr()), op.pages());
    }

    @Override
    public Op read(Op.Read op) {
      return new Op.Read(p(op.pid()), a(op.addr()));
    }

    @Override
    public Op write(Op.Write op) {
      return new Op.Write(p(op.pid()), a(op.addr()), op.value());
    }

    @Override
    public Op file(Op.File op) {
      return op;
    }

    @Override
    public Op fwrite(Op.Fwrite op) {
      return op;
    }

    @Override
    public Op fread(Op.Fread op) {
      return op;
    }

    @Override
    public Op shmget(Op.Shmget op) {
      return new Op.Shmget(key.applyAsLong(op.key()), op.pages());
    }

    @Override
    public Op shmrm(Op.Shmrm op) {
      return new Op.Shmrm(key.applyAsLong(op.key()));
    }

    @Override
    public Op pageout(Op.Pageout op) {
      return op;
    }

    @Override
    public Op collapse(Op.Collapse op) {
      return new Op.Collapse(p(op.pid()), a(op.addr()));
    }
  }
}
