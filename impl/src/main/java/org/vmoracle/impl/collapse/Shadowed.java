package org.vmoracle.impl.collapse;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.Cow;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.User;
import org.vmoracle.impl.map.VmObject;

/**
 * Finds and frees completely shadowed anonymous pages (seed 000's third "still to do").
 *
 * <h2>Overview</h2>
 *
 * A page of an anonymous object deep in copy-on-write chains is dead when no one can read it any
 * more: for every group whose chain includes the object, either a level above it holds the same
 * index, or no member of the group shows that index at all. Members' ranges only ever shrink
 * (clipping, unmapping; a fork's new group shows a subset of its parent's), so a dead page stays
 * dead and can be freed. No PTE maps it: a PTE maps the first level of its chain that holds the
 * page ({@code checkInvariants} checks that), and for every group a level above holds it.
 *
 * <p>Run when a group drops out of an object's users (its last member went) and on the levels a
 * collapse cut, the moments when pages can become dead. Shared anonymous objects (mapped by shared
 * entries directly) are never scanned: every page of them is live while they are mapped.
 *
 * <h2>Concurrency</h2>
 *
 * Requires the map lock exclusive.
 */
public final class Shadowed {
  private Shadowed() {}

  /** Frees every dead page of {@code o}; answers how many. The map lock is held exclusive. */
  public static int free(Machine m, VmObject o) {
    assert m.lock.heldExclusively() : "Shadowed.free: the caller holds the map lock exclusive";
    if (o.kind != VmObject.Kind.ANON || o.users.isEmpty()) {
      return 0;
    }
    List<Cow> groups = new ArrayList<>();
    for (User u : o.users) {
      if (u.group() == null) {
        return 0; // a shared anonymous object: all of it is live
      }
      groups.add(u.group());
    }
    int freed = 0;
    for (long i : o.pages.keys()) {
      if (live(o, i, groups)) {
        continue;
      }
      long slot = o.pages.remove(i);
      if (VmObject.isFrame(slot)) {
        m.mem.free((int) slot);
      } else {
        m.swap.free(VmObject.swapSlot(slot));
      }
      freed++;
    }
    m.counters.shadowedFreed.add(freed);
    return freed;
  }

  private static boolean live(VmObject o, long i, List<Cow> groups) {
    for (Cow g : groups) {
      VmObject[] chain = g.chain();
      int level = Arrays.asList(chain).indexOf(o);
      boolean shadowed = false;
      for (int above = 0; above < level && !shadowed; above++) {
        shadowed = chain[above].pages.containsKey(i);
      }
      if (shadowed) {
        continue;
      }
      for (MapEntry e : g.members) {
        if (e.addressOf(i) >= 0) {
          return true;
        }
      }
    }
    return false;
  }
}
