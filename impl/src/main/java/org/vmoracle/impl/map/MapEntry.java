package org.vmoracle.impl.map;

import java.util.function.Consumer;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;

/**
 * One mapping of an address space: [start, end) showing pages {@code pgoff…} of an object. A shared
 * entry names its object directly; a private entry belongs to a copy-on-write group ({@link Cow})
 * whose chain it shows. Page index {@code pgoff + (va - start) / 4096} is the same in every object
 * of the chain.
 *
 * <p>Concurrency: every field changes under the exclusive map lock (legend (x)); faults read them
 * under the shared lock.
 */
public final class MapEntry implements User {
  public final VmSpace space; // (c)
  public long start; // (x)
  public long end; // (x)
  public long pgoff; // (x)
  public Prot prot; // (x)
  public Sharing sharing; // (x)
  public Inherit inherit; // (x)
  public boolean wired; // (x)
  public VmObject object; // (x) shared entries only
  public Cow cow; // (x) private entries only

  public MapEntry(
      VmSpace space,
      long start,
      long end,
      long pgoff,
      Prot prot,
      Sharing sharing,
      Inherit inherit,
      VmObject object,
      Cow cow) {
    this.space = space;
    this.start = start;
    this.end = end;
    this.pgoff = pgoff;
    this.prot = prot;
    this.sharing = sharing;
    this.inherit = inherit;
    this.object = object;
    this.cow = cow;
  }

  public long pages() {
    return (end - start) / Boot.PAGE_SIZE;
  }

  /** The object page index of {@code va}, which lies in this entry. */
  public long index(long va) {
    return pgoff + (va - start) / Boot.PAGE_SIZE;
  }

  /** The address showing page {@code i}, or -1 when this entry does not show it. */
  public long addressOf(long i) {
    if (i < pgoff || i >= pgoff + pages()) {
      return -1;
    }
    return start + (i - pgoff) * Boot.PAGE_SIZE;
  }

  /** The object that gives this entry's map line its name: the shared object or the terminal. */
  public VmObject shown() {
    return object != null ? object : cow.terminal();
  }

  /** This entry itself: a shared entry stands for itself (and a private one never is a user). */
  @Override
  public void forEachEntry(Consumer<MapEntry> visit) {
    visit.accept(this);
  }

  /** Null: a map entry that is a user is a shared entry, which belongs to no group. */
  @Override
  public Cow group() {
    return null;
  }

  @Override
  public String toString() {
    return String.format(
        "%x-%x %s %s %s%s",
        start, end, prot.word(), sharing.word(), shown(), wired ? " wired" : "");
  }
}
