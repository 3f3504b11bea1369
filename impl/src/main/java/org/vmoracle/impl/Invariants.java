package org.vmoracle.impl;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.Cow;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.SharedTables;
import org.vmoracle.impl.map.User;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.object.PageMap;
import org.vmoracle.impl.phys.PhysMem;
import org.vmoracle.impl.pmap.Pte;
import org.vmoracle.impl.pmap.PteRef;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Prot;

/**
 * The structural invariant checker: walks every structure and throws {@link IllegalStateException}
 * with a precise message at the first thing that is wrong. It never repairs anything. Requires the
 * map lock exclusive (nothing moves while it looks).
 *
 * <p>What it checks:
 *
 * <ol>
 *   <li>every valid PTE lies in an entry that may be read, and maps the frame the entry's object or
 *       chain yields for that address (the first level holding the page); a writable PTE needs a
 *       writable entry and a page of its own object (the shared object, or the front of a group
 *       that needs no copy), never one another level or group may see (kernels.md R8);
 *   <li>PTE wired bits agree with their entries, and every page of a wired, accessible entry is
 *       mapped (WIRE-1); frame wire counts equal the wired PTEs that map them;
 *   <li>each pmap's own counts (resident, wired, tables) are right, and the reverse map would find
 *       every valid PTE (its own invariants, {@code rmap.ReverseMap#checkMapping});
 *   <li>every object's users are exactly the live groups and shared entries that use it, every
 *       group's members name it, and a group that needs no copy has an anonymous front;
 *   <li>every used frame is a page-table page of a live pmap or a page of a live object, owned at
 *       that index; no frame is both free and used; swap slots in use are exactly those live
 *       objects point to. So after every process exits only file, segment and swap pages remain.
 * </ol>
 */
final class Invariants {
  private Invariants() {}

  static void check(
      Machine m,
      Map<Integer, VmSpace> processes,
      Map<String, VmObject> files,
      Map<Long, VmObject> segments) {
    PhysMem mem = m.mem;
    mem.awaitReclaims(); // frames an munmap is freeing belong to no one and are not free yet
    Map<VmSpace, Integer> users = new IdentityHashMap<>();
    for (VmSpace sp : processes.values()) {
      users.merge(sp, 1, Integer::sum);
    }
    Map<VmObject, Set<User>> expectedUsers = new IdentityHashMap<>();
    Map<Integer, Integer> wiredPtes = new HashMap<>();
    long tablePages = 0;
    for (Map.Entry<VmSpace, Integer> u : users.entrySet()) {
      VmSpace sp = u.getKey();
      if (sp.users != u.getValue()) {
        fail("space %d counts %d users, %d processes use it", sp.id, sp.users, u.getValue());
      }
      sp.pmap.checkInvariants();
      tablePages += sp.pmap.tablePages();
      checkEntries(m, sp, expectedUsers);
      sp.pmap.forEachOwnLeaf( // a shared table's leaves are checked once, in its object's pmap
          0,
          Boot.USER_MAX,
          (va, pte) -> {
            checkPte(m, sp, va, pte);
            if (Pte.isWired(pte)) {
              wiredPtes.merge(Pte.frame(pte), 1, Integer::sum);
            }
          });
    }
    // Objects: the live ones and their users.
    expectedUsers.computeIfAbsent(m.sharedPage, o -> newSet());
    for (VmObject f : files.values()) {
      expectedUsers.computeIfAbsent(f, o -> newSet());
    }
    for (VmObject s : segments.values()) {
      expectedUsers.computeIfAbsent(s, o -> newSet());
    }
    // Seed 001: the pmaps of the objects' shared tables, checked once each (S1), and their
    // pseudo-entries, users of their objects.
    for (Map.Entry<VmObject, Set<User>> e : expectedUsers.entrySet()) {
      SharedTables t = e.getKey().tables;
      if (t == null) {
        continue;
      }
      for (MapEntry pseudo : new MapEntry[] {t.rw, t.ro}) {
        e.getValue().add(pseudo);
        VmSpace sp = pseudo.space;
        sp.pmap.checkInvariants();
        tablePages += sp.pmap.tablePages();
        sp.pmap.forEachLeaf(0, Boot.USER_MAX, (va, pte) -> checkPte(m, sp, va, pte));
      }
    }
    long objectFrames = 0;
    long swapSlots = 0;
    Integer sharedFrame = null;
    for (Map.Entry<VmObject, Set<User>> e : expectedUsers.entrySet()) {
      VmObject o = e.getKey();
      if (!o.users.equals(e.getValue())) {
        fail("%s lists users %s, but %s use it", o, o.users, e.getValue());
      }
      for (long i : o.pages.keys()) {
        long slot = o.pages.get(i);
        if (o.pastEnd(i)) {
          fail("%s holds page %d past its end %d", o, i, o.size());
        }
        if (VmObject.isFrame(slot)) {
          int f = (int) slot;
          if (mem.testFlag(f, PhysMem.FREE)) {
            fail("%s page %d is frame %d, which is free", o, i, f);
          }
          if (mem.owner(f) != o || mem.ownerIndex(f) != i) {
            fail(
                "frame %d is page %d of %s but owned by %s/%d",
                f, i, o, mem.owner(f), mem.ownerIndex(f));
          }
          if (mem.isBusy(f)) {
            fail("frame %d (page %d of %s) is busy with no fault running", f, i, o);
          }
          objectFrames++;
          if (o == m.sharedPage) {
            sharedFrame = f;
          }
        } else {
          if (m.swap.get(VmObject.swapSlot(slot)) == null) {
            fail(
                "%s page %d points to swap slot %d, which is not in use",
                o, i, VmObject.swapSlot(slot));
          }
          swapSlots++;
        }
      }
    }
    // Wiring of frames.
    for (int f = 0; f < m.config.frames(); f++) {
      int expected =
          wiredPtes.getOrDefault(f, 0) + (sharedFrame != null && f == sharedFrame ? 1 : 0);
      if (mem.wireCount(f) != expected) {
        fail("frame %d has wire count %d, but %d wired PTEs map it", f, mem.wireCount(f), expected);
      }
    }
    // Frames and swap: nothing leaked.
    long used = m.config.frames() - mem.freeFrames();
    if (used != tablePages + objectFrames) {
      fail(
          "%d frames are in use, but live pmaps hold %d table pages and live objects %d pages",
          used, tablePages, objectFrames);
    }
    if (m.swap.used() != swapSlots) {
      fail("%d swap slots are in use, but live objects point to %d", m.swap.used(), swapSlots);
    }
    m.rmap.checkInvariants();
    mem.checkInvariants();
  }

  private static Set<User> newSet() {
    return java.util.Collections.newSetFromMap(new IdentityHashMap<>());
  }

  private static void checkEntries(Machine m, VmSpace sp, Map<VmObject, Set<User>> expected) {
    long lastEnd = 0;
    for (Map.Entry<Long, MapEntry> k : sp.entries.entrySet()) {
      MapEntry e = k.getValue();
      if (k.getKey() != e.start || e.start >= e.end || e.start < lastEnd || e.space != sp) {
        fail("space %d: entry %s is keyed %x, or overlaps the one before", sp.id, e, k.getKey());
      }
      lastEnd = e.end;
      if ((e.object == null) == (e.cow == null)) {
        fail("entry %s must have an object or a group, not both or neither", e);
      }
      checkLinks(sp, e);
      if (e.object != null) {
        expected.computeIfAbsent(e.object, o -> newSet()).add(e);
      } else {
        Cow c = e.cow;
        if (!c.members.contains(e)) {
          fail("entry %s is not a member of its group", e);
        }
        for (MapEntry other : c.members) {
          if (other.cow != c) {
            fail("group of %s lists %s, which is in another group", e, other);
          }
        }
        if (!c.needsCopy && (c.front().kind != VmObject.Kind.ANON || c.front().sharedAnon)) {
          fail("entry %s: a group that needs no copy must have a private anonymous front", e);
        }
        for (VmObject o : c.chain()) {
          expected.computeIfAbsent(o, x -> newSet()).add(c);
        }
      }
      // A wired, accessible range has every page faulted in and wired. Implementation note: not
      // so for file and segment pages, which a truncation may take away and a regrowth not bring
      // back until touched (as in Linux); those are only required to be wired when present.
      if (e.wired && e.prot != Prot.NONE && e.shown().kind == VmObject.Kind.ANON) {
        for (long va = e.start; va < e.end; va += Boot.PAGE_SIZE) {
          long pte = sp.pmap.lookup(va);
          if (!Pte.isPresent(pte) || !Pte.isWired(pte)) {
            fail("wired entry %s has no wired PTE at %x", e, va);
          }
        }
      }
    }
  }

  /**
   * S2 (seed 001): every segment of {@code e} whose PD entry links a shared table is one {@code e}
   * may share (a shared entry of an object with tables, mapping the segment whole, aligned,
   * unwired), and the link is to its object's table for that segment and protection. So no shared
   * table is reachable from a copy-on-write mapping.
   */
  private static void checkLinks(VmSpace sp, MapEntry e) {
    sp.pmap.forEachSharedLink(e.start, e.end, (seg, pt) -> checkLink(e, seg, pt));
  }

  private static void checkLink(MapEntry e, long seg, int pt) {
    if (!SharedTables.shareable(e, seg)) {
      fail("S2: %s links shared table frame %d at %x, but may share no table there", e, pt, seg);
    }
    MapEntry owner = e.object.tables.forProt(e.prot.canWrite());
    PteRef r = owner.space.pmap.ref(owner.addressOf(e.index(seg)));
    if (r == null || r.table() != pt) {
      fail("S2: %s links table frame %d at %x, not its object's table %s", e, pt, seg, r);
    }
  }

  private static void checkPte(Machine m, VmSpace sp, long va, long pte) {
    MapEntry e = sp.entryAt(va);
    if (e == null) {
      fail("space %d: PTE at %x maps frame %d outside every entry", sp.id, va, Pte.frame(pte));
    }
    if (!e.prot.canRead()) {
      fail("PTE at %x in inaccessible entry %s", va, e);
    }
    if (Pte.isWired(pte) != e.wired) {
      fail("PTE at %x is %swired in %s", va, Pte.isWired(pte) ? "" : "not ", e);
    }
    long i = e.index(va);
    int f = Pte.frame(pte);
    VmObject[] levels = e.object != null ? new VmObject[] {e.object} : e.cow.chain();
    int level = -1;
    for (int l = 0; l < levels.length; l++) {
      long slot = levels[l].pages.get(i);
      if (slot != PageMap.NONE) {
        if (!VmObject.isFrame(slot) || slot != f) {
          fail(
              "PTE at %x in %s maps frame %d, but the chain shows %s at level %d",
              va, e, f, VmObject.isFrame(slot) ? "frame " + slot : "a swapped page", l);
        }
        level = l;
        break;
      }
    }
    if (level < 0) {
      fail("PTE at %x in %s maps frame %d, but no level of the chain holds page %d", va, e, f, i);
    }
    m.rmap.checkMapping(e, va, pte, m.mem); // the reverse map would find this PTE
    if (Pte.isWritable(pte)) {
      if (!e.prot.canWrite()) {
        fail("writable PTE at %x in read-only entry %s", va, e);
      }
      if (e.cow != null && (level != 0 || e.cow.needsCopy)) {
        fail(
            "writable PTE at %x in %s maps a page others may see (level %d, needsCopy %b)",
            va, e, level, e.cow.needsCopy);
      }
    }
  }

  private static void fail(String format, Object... args) {
    throw new IllegalStateException("invariant: " + String.format(format, args));
  }
}
