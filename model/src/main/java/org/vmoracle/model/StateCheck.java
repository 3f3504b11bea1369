package org.vmoracle.model;

import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.pcollections.TreePMap;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Sharing;

/**
 * What every model state must be, read without changing it: the model's own invariant, checked by
 * {@code vmoracle exhaust} on every state it reaches (and by {@code ModelStructureTest}). A broken
 * one is a bug in the model, whatever the implementation does.
 */
public final class StateCheck {
  private StateCheck() {}

  /**
   * The first way {@code s} breaks the model's invariant, or empty:
   *
   * <ul>
   *   <li>every live pid names an address space that exists (PROC-4: clones may share one), and
   *       every address space is some live process's;
   *   <li>regions are keyed by their start, have pages, do not overlap, and lie in the user address
   *       space, but for the shared page's (BOOT-2);
   *   <li>the runs of a space are the union of its regions (Runs);
   *   <li>every region's object exists; a private region's is an overlay, a shared one's is not
   *       (Region); an overlay reads through to nothing or to an object that is not an overlay;
   *   <li>files and segments name objects of their kind, with their name or key;
   *   <li>no object id is at or past {@code nextId}.
   * </ul>
   */
  public static Optional<String> violation(State s) {
    Set<Integer> used = new HashSet<>();
    for (Map.Entry<Integer, Integer> p : s.processes().entrySet()) {
      if (!s.spaces().containsKey(p.getValue())) {
        return Optional.of(
            "pid " + p.getKey() + " names space " + p.getValue() + ", which is gone");
      }
      used.add(p.getValue());
    }
    for (Map.Entry<Integer, TreePMap<Long, Region>> sp : s.spaces().entrySet()) {
      int id = sp.getKey();
      if (!used.contains(id)) {
        return Optional.of("space " + id + " is no live process's");
      }
      long end = 0;
      for (Map.Entry<Long, Region> e : sp.getValue().entrySet()) {
        Region r = e.getValue();
        String where = "space " + id + " region at 0x" + Long.toHexString(r.start());
        if (e.getKey() != r.start() || r.pages() <= 0) {
          return Optional.of(where + " is keyed at 0x" + Long.toHexString(e.getKey()));
        }
        if (r.start() < end) {
          return Optional.of(where + " overlaps the region before it");
        }
        boolean sharedPage = r.start() == Boot.SHARED_PAGE && r.obj() == State.SHARED_PAGE;
        if (!sharedPage && (r.start() < Boot.USER_MIN || r.end() > Boot.USER_MAX)) {
          return Optional.of(where + " leaves the user address space");
        }
        end = r.end();
        Obj o = s.objects().get(r.obj());
        if (o == null) {
          return Optional.of(where + " shows object " + r.obj() + ", which is gone");
        }
        if (o.isOverlay() != (r.sharing() == Sharing.PRIVATE)) {
          return Optional.of(where + " is " + r.sharing() + " over a " + o.kind());
        }
        if (o.isOverlay() && o.backing() != Obj.NONE) {
          Obj b = s.objects().get(o.backing());
          if (b == null || b.isOverlay()) {
            return Optional.of(
                where + "'s overlay reads through to " + (b == null ? "nothing" : "an overlay"));
          }
        }
        if (r.obj() >= s.nextId()) {
          return Optional.of(where + " shows object " + r.obj() + ", at or past nextId");
        }
      }
      if (!Runs.of(sp.getValue()).equals(s.runs().get(id))) {
        return Optional.of("space " + id + "'s runs are not the union of its regions");
      }
    }
    if (!s.runs().keySet().equals(s.spaces().keySet())) {
      return Optional.of(
          "runs are kept for spaces " + s.runs().keySet() + ", not " + s.spaces().keySet());
    }
    for (Map.Entry<String, Integer> f : s.files().entrySet()) {
      Obj o = s.objects().get(f.getValue());
      if (o == null || o.kind() != Obj.Kind.FILE || !o.name().equals(f.getKey())) {
        return Optional.of(
            "file " + f.getKey() + " names object " + f.getValue() + ", not its file");
      }
    }
    for (Map.Entry<Long, Integer> k : s.segments().entrySet()) {
      Obj o = s.objects().get(k.getValue());
      if (o == null || o.kind() != Obj.Kind.SEGMENT || o.key() != k.getKey()) {
        return Optional.of(
            "key " + k.getKey() + " names object " + k.getValue() + ", not its segment");
      }
    }
    return Optional.empty();
  }

  /**
   * What would remain of anonymous memory if no process were left: the kinds of the objects that
   * {@code s} still reaches but that are not files, segments or the shared page, or empty. After
   * every process has exited, only file, segment and swap contents may remain (PROC-5); swap is the
   * implementation's, and the model holds none.
   */
  public static Optional<String> residue(State s) {
    Set<Integer> reached = new HashSet<>(s.files().values());
    reached.addAll(s.segments().values());
    for (TreePMap<Long, Region> regions : s.spaces().values()) {
      for (Region r : regions.values()) {
        reached.add(r.obj());
        reached.add(s.obj(r.obj()).backing());
      }
    }
    reached.remove(Obj.NONE);
    reached.remove(State.SHARED_PAGE);
    for (int id : reached) {
      Obj o = s.obj(id);
      if (o.kind() != Obj.Kind.FILE && o.kind() != Obj.Kind.SEGMENT) {
        return Optional.of("object " + id + ", " + o.kind() + ", is still reached");
      }
    }
    return Optional.empty();
  }

  /**
   * The object that address {@code addr} of {@code pid} shows: its region's object id (a private
   * region's own overlay), or -1 when nothing is mapped there or the pid is not alive. Two
   * addresses that show the same object read and write the same pages (a shared mapping, or a
   * private overlay shared by INH-2).
   */
  public static int objectAt(State s, int pid, long addr) {
    Integer space = s.processes().get(pid);
    if (space == null) {
      return -1;
    }
    Region r = Model.regionAt(s.spaces().get(space), addr);
    return r == null ? -1 : r.obj();
  }

  /** The object a private overlay reads through to, or -1; {@code id} itself for another object. */
  public static int readsThrough(State s, int id) {
    Obj o = s.objects().get(id);
    if (o == null) {
      return -1;
    }
    return o.isOverlay() ? o.backing() : id;
  }

  /**
   * Whether {@code pid} sees exactly the same in {@code a} and {@code b} for want of any change to
   * what it shows: the same regions, and the same objects (and backings) behind them. A fast,
   * conservative test: false does not mean that its view differs.
   */
  public static boolean untouched(State a, State b, int pid) {
    Integer sa = a.processes().get(pid);
    Integer sb = b.processes().get(pid);
    if (sa == null || !sa.equals(sb) || a.spaces().get(sa) != b.spaces().get(sb)) {
      return false;
    }
    for (Region r : a.spaces().get(sa).values()) {
      Obj o = a.obj(r.obj());
      if (o != b.obj(r.obj())) {
        return false;
      }
      if (o.isOverlay() && o.backing() != Obj.NONE && a.obj(o.backing()) != b.obj(o.backing())) {
        return false;
      }
    }
    return true;
  }

  /** What {@code pid} can observe in {@code s} (VIEW-1), or null when it is not alive. */
  public static org.vmoracle.spec.ProcessView viewOf(State s, int pid) {
    Integer space = s.processes().get(pid);
    return space == null ? null : Views.process(s, pid, s.spaces().get(space));
  }
}
