package org.vmoracle.impl.map;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A copy-on-write group: the private mappings that show the same private memory. Usually one map
 * entry (or the pieces it was clipped into); more when a private range was inherited with {@code
 * share} (INH-2), possibly across address spaces.
 *
 * <h2>Overview</h2>
 *
 * The group's backing chain lists objects front first: a store goes into the front object, a read
 * takes the first object that has the page, and the last object is what the mapping maps (a file, a
 * segment, shared anonymous memory, or anonymous memory that started the chain). This is the
 * DragonFly 2019 shape: the chain hangs off the mapping, not off the objects, and each object lists
 * the groups that include it ({@link VmObject#users}), so the reverse map needs no per-page records
 * (seed 000).
 *
 * <p>{@code needsCopy}: the front may also be seen by other groups (after a fork), so a store must
 * first push a new front (shadow) for this group.
 *
 * <h2>Concurrency</h2>
 *
 * Everything changes under the exclusive map lock (legend (x)); faults read under the shared lock.
 * {@code chain} is volatile and replaced whole, never changed in place.
 *
 * <h2>Invariants</h2>
 *
 * Every member's cow is this group; every object of the chain has this group among its users, once;
 * the front object is anonymous; when {@code needsCopy} is false no other group's chain includes
 * the front.
 */
public final class Cow implements User {
  private volatile VmObject[] chain; // (x)
  public boolean needsCopy; // (x)
  public final Set<MapEntry> members = new LinkedHashSet<>(); // (x)

  public Cow(VmObject[] chain, boolean needsCopy) {
    this.chain = chain;
    this.needsCopy = needsCopy;
  }

  /** The chain, front first. Never modify the array. No requirements. */
  public VmObject[] chain() {
    return chain;
  }

  /** Replaces the chain. The caller holds the map lock exclusive and keeps users right. */
  public void setChain(VmObject[] c) {
    this.chain = c;
  }

  public VmObject front() {
    return chain[0];
  }

  public VmObject terminal() {
    return chain[chain.length - 1];
  }

  /** Every member. The caller holds the map lock (either mode). */
  @Override
  public void forEachEntry(Consumer<MapEntry> visit) {
    for (MapEntry e : members) {
      visit.accept(e);
    }
  }

  /** This group. No requirements. */
  @Override
  public Cow group() {
    return this;
  }
}
