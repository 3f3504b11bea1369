package org.vmoracle.spec.trace;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * Random operations of every kind, built through their constructors, with arguments drawn across
 * the whole range each constructor accepts and biased towards its edges (0, the largest value).
 */
final class RandomOps {
  private final SplittableRandom random;

  RandomOps(long seed) {
    this.random = new SplittableRandom(seed);
  }

  /** One maker per operation kind; a test checks that together they make every kind of Op. */
  private final List<Supplier<Op>> makers =
      List.of(
          () -> new Op.Spawn(pid()),
          () -> new Op.Fork(pid(), pid()),
          () -> new Op.Clone(pid(), pid()),
          () -> new Op.Exec(pid(), image()),
          () -> new Op.Exit(pid()),
          () -> new Op.Mmap(pid(), address(), pages(), prot(), sharing(), source(), fixed()),
          () -> new Op.Munmap(pid(), address(), pages()),
          () -> new Op.Mprotect(pid(), address(), pages(), prot()),
          () -> new Op.Minherit(pid(), address(), pages(), inherit()),
          () -> new Op.Mlock(pid(), address(), pages()),
          () -> new Op.Munlock(pid(), address(), pages()),
          () -> new Op.Read(pid(), wordAddress()),
          () -> new Op.Write(pid(), wordAddress(), value()),
          () -> new Op.File(name(), pages()),
          () -> new Op.Fwrite(name(), wordAddress(), value()),
          () -> new Op.Fread(name(), wordAddress()),
          () -> new Op.Shmget(key(), pages()),
          () -> new Op.Shmrm(key()),
          () -> new Op.Pageout(pages()),
          () -> new Op.Collapse(pid(), address()));

  Op op() {
    return makers.get(random.nextInt(makers.size())).get();
  }

  /** No expectation a third of the time; otherwise a value, ok or an errno. */
  Optional<Result> expect() {
    switch (random.nextInt(6)) {
      case 0:
      case 1:
        return Optional.empty();
      case 2:
        return Optional.of(Result.OK);
      case 3:
        Errno[] errnos = Errno.values();
        return Optional.of(Result.of(errnos[random.nextInt(errnos.length)]));
      default:
        return Optional.of(Result.value(value()));
    }
  }

  /** A trace of {@code n} random lines, numbered 1 to n. */
  Trace trace(String source, int n) {
    List<TraceLine> lines = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      lines.add(new TraceLine(i, op(), expect()));
    }
    return new Trace(source, lines);
  }

  private int pid() {
    switch (random.nextInt(4)) {
      case 0:
        return 1;
      case 1:
        return Integer.MAX_VALUE;
      default:
        return 1 + random.nextInt(Integer.MAX_VALUE);
    }
  }

  private long address() {
    switch (random.nextInt(5)) {
      case 0:
        return 0;
      case 1:
        return Long.MAX_VALUE;
      case 2:
        return random.nextLong(1L << 47);
      default:
        return random.nextLong(Long.MAX_VALUE);
    }
  }

  private boolean fixed() {
    return random.nextBoolean();
  }

  private long wordAddress() {
    return address() & ~7L;
  }

  private long pages() {
    switch (random.nextInt(4)) {
      case 0:
        return 0;
      case 1:
        return Op.MAX_PAGES;
      case 2:
        return random.nextLong(1024);
      default:
        return random.nextLong(Op.MAX_PAGES + 1);
    }
  }

  private long key() {
    switch (random.nextInt(3)) {
      case 0:
        return 0;
      case 1:
        return Integer.MAX_VALUE;
      default:
        return random.nextLong(Integer.MAX_VALUE + 1L);
    }
  }

  private long value() {
    switch (random.nextInt(6)) {
      case 0:
        return 0;
      case 1:
        return -1;
      case 2:
        return Long.MIN_VALUE;
      case 3:
        return random.nextLong(0x10000); // printed in decimal
      default:
        return random.nextLong();
    }
  }

  private static final String NAME_CHARS =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-";
  private static final String IMAGE_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_";

  private String name() {
    return word(NAME_CHARS);
  }

  private String image() {
    return word(IMAGE_CHARS);
  }

  private String word(String alphabet) {
    StringBuilder sb = new StringBuilder();
    int n = 1 + random.nextInt(12);
    for (int i = 0; i < n; i++) {
      sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  private Prot prot() {
    return pick(Prot.values());
  }

  private Sharing sharing() {
    return pick(Sharing.values());
  }

  private Inherit inherit() {
    return pick(Inherit.values());
  }

  private Source source() {
    switch (random.nextInt(3)) {
      case 0:
        return new Source.Anon();
      case 1:
        return new Source.FileRange(name(), pages());
      default:
        return new Source.Shm(key());
    }
  }

  private <E> E pick(E[] values) {
    return values[random.nextInt(values.length)];
  }
}
