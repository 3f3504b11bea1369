package org.vmoracle.checks.cover;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vmoracle.checks.cover.Classes.Cls;
import org.vmoracle.checks.gen.Mix;
import org.vmoracle.checks.gen.OpKind;
import org.vmoracle.checks.hunt.Hunt;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;

/**
 * {@code vmoracle hunt --coverage}: how often the operations a hunt ran fell into each class of
 * {@link Classes} (what the generator made, what it met in the implementation's state, what it
 * answered), and which classes it never or rarely reached. Watches a hunt ({@link Hunt.Watcher}):
 * each operation is classified against the implementation's state just before it ran and the result
 * and counters just after.
 *
 * <p>Not thread-safe: it watches one sequential hunt.
 */
public final class Coverage implements Hunt.Watcher {

  /** A class hit by fewer than this share of all operations is rare: 0.1%. */
  static final double RARE = 0.001;

  private final List<Cls> table;
  private final long[] counts;

  /** Results no row declares (MEM-1's exhaustion answers), by name, as they are seen. */
  private final Map<String, Long> others = new LinkedHashMap<>();

  private final List<String> last = new ArrayList<>();
  private Sample pending;
  private ImplVm impl;
  private long operations;

  /** Coverage of the classes for the kinds {@code mix} makes. */
  public Coverage(Mix mix) {
    this.table = Classes.table(mix);
    this.counts = new long[table.size()];
  }

  @Override
  public void before(Op op, ImplVm impl) {
    this.impl = impl;
    this.pending = Sample.before(op, impl);
  }

  @Override
  public void after(Op op, Result result) {
    Sample s = pending.after(result, impl.counters());
    pending = null;
    operations++;
    last.clear();
    for (int i = 0; i < table.size(); i++) {
      if (table.get(i).test().test(s)) {
        counts[i]++;
        last.add(table.get(i).area() + ": " + table.get(i).name());
      }
    }
    OpKind k = s.kind;
    if (!result.succeeded() && !Classes.RESULTS.get(k).contains(((Result.Failed) result).errno())) {
      String name = Classes.resultName(k, result);
      others.merge(name, 1L, Long::sum);
      last.add("result: " + name);
    }
  }

  /**
   * Runs {@code op} on {@code impl}, watched, and answers the classes it hit as {@code "area:
   * name"}: for tests and for looking at one operation by hand.
   */
  public List<String> classify(ImplVm impl, Op op) {
    before(op, impl);
    after(op, impl.apply(op));
    return List.copyOf(last);
  }

  /** Operations watched. */
  public long operations() {
    return operations;
  }

  /** How often class {@code name} of {@code area} was hit; -1 when there is no such class. */
  public long count(String area, String name) {
    for (int i = 0; i < table.size(); i++) {
      if (table.get(i).area().equals(area) && table.get(i).name().equals(name)) {
        return counts[i];
      }
    }
    return -1;
  }

  /** The classes never hit, as {@code "area: name"}. */
  public List<String> never() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < table.size(); i++) {
      if (counts[i] == 0) {
        out.add(table.get(i).area() + ": " + table.get(i).name());
      }
    }
    return out;
  }

  /**
   * The report: every class by area with its count and share of all operations, then the classes
   * never hit and those hit rarely (under 0.1%).
   */
  public void print(PrintWriter out) {
    out.printf("coverage: %,d operations, %d classes%n", operations, table.size());
    String area = "";
    List<Integer> rare = new ArrayList<>();
    for (int i = 0; i < table.size(); i++) {
      Cls c = table.get(i);
      if (!c.area().equals(area)) {
        area = c.area();
        out.println(area);
      }
      line(out, "  ", c.name(), counts[i]);
      if (counts[i] > 0 && counts[i] < RARE * operations) {
        rare.add(i);
      }
    }
    if (!others.isEmpty()) {
      out.println("result, out of memory (MEM-1; not counted as holes)");
      others.forEach((name, n) -> line(out, "  ", name, n));
    }
    List<String> never = never();
    out.printf("never (%d classes hit 0 times):%n", never.size());
    for (String n : never) {
      out.println("  " + n);
    }
    out.printf("rare (%d classes hit in under %.1f%% of operations):%n", rare.size(), RARE * 100);
    for (int i : rare) {
      line(out, "  ", table.get(i).area() + ": " + table.get(i).name(), counts[i]);
    }
  }

  private void line(PrintWriter out, String indent, String name, long n) {
    out.printf(
        "%s%-62s %,10d %8.3f%%%n", indent, name, n, operations == 0 ? 0 : 100.0 * n / operations);
  }
}
