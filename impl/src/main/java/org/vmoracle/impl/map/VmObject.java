package org.vmoracle.impl.map;

import java.util.function.Consumer;
import org.vmoracle.impl.object.FileStore;
import org.vmoracle.impl.object.PageMap;

/**
 * A VM object: the pages that mappings map, by page index.
 *
 * <h2>Overview</h2>
 *
 * Four kinds, as in the BSDs' {@code vm_object}: anonymous memory ({@link Kind#ANON}, the fronts of
 * private mappings' backing chains and shared anonymous mappings), files ({@link Kind#VNODE}, whose
 * contents live on {@link FileStore "disk"} when not resident), shared-memory segments ({@link
 * Kind#SHM}) and the shared page. A page slot is either a resident frame or a swap slot:
 *
 * <pre>
 *   slot value:  &gt;= 0  frame number
 *                &lt;  0  swap slot -(value + 1)
 * </pre>
 *
 * <p>Every object lists its <b>users</b>: the copy-on-write groups whose chains include it and the
 * shared mappings that map it directly. That list is the reverse map: to find every PTE of page
 * {@code (object, index)}, walk the users and their mappings (DragonFly 2019's backing lists: one
 * record per mapping, none per page; seed 000).
 *
 * <h2>Concurrency</h2>
 *
 * {@code pages} is a concurrent map: faults under the shared map lock insert pages with {@code
 * putIfAbsent}, each new frame busy until its contents are valid (the busy protocol in {@code
 * fault.Fault}). Every removal of a page, every change of {@code size} and of {@code users} happens
 * under the exclusive map lock (legend (x)).
 *
 * <h2>Invariants</h2>
 *
 * A resident frame's owner is this object at that index; an object with a size holds no page at or
 * past it; the shared page is never evicted.
 */
public final class VmObject {

  public enum Kind {
    ANON,
    VNODE,
    SHM,
    SHARED_PAGE
  }

  /** Marks an object without an end (anonymous memory). */
  public static final long UNBOUNDED = -1;

  public final int id; // (c)
  public final Kind kind; // (c)
  public final String name; // (c) file name, for VNODE
  public final long key; // (c) segment key, for SHM
  private volatile long size; // (x) pages, or UNBOUNDED
  public final PageMap pages = new PageMap(); // slots by page index
  public final Users users; // (x) counting its links in the system's tally
  public final FileStore disk; // (c) VNODE only, else null

  /**
   * For {@link Kind#ANON}: whether this is shared anonymous memory (MMAP-5), an object mappings
   * share rather than the private memory of a copy-on-write chain. A chain may end in one (a
   * child's private copy of a shared range, INH-4); then it is what the chain maps, as a file is,
   * and collapse must keep it.
   */
  public volatile boolean sharedAnon; // (x) set once, before the object is mapped

  /**
   * The page tables this object keeps for its sharers (seed 001), or null: made when the first
   * shareable mapping of it is made, with segment page-table sharing on; see {@link SharedTables}.
   */
  public volatile SharedTables tables; // (x) written under the exclusive lock, read under either

  /** An object whose users' links count in a tally of its own. */
  public VmObject(int id, Kind kind, String name, long key, long size, FileStore disk) {
    this(id, kind, name, key, size, disk, new Users.Tally());
  }

  /** An object whose users' links count in {@code tally}, the system's ({@link Users}). */
  public VmObject(
      int id, Kind kind, String name, long key, long size, FileStore disk, Users.Tally tally) {
    this.users = new Users(tally);
    this.id = id;
    this.kind = kind;
    this.name = name;
    this.key = key;
    this.size = size;
    this.disk = disk;
  }

  /**
   * Calls {@code visit} with every map entry that may map a page of this object: the shared entries
   * that map it, and the members of the groups whose chains include it. The caller holds the map
   * lock (either mode).
   */
  public void forEachEntry(Consumer<MapEntry> visit) {
    for (User u : users) {
      u.forEachEntry(visit);
    }
  }

  public long size() {
    return size;
  }

  /** Sets the size. The caller holds the map lock exclusive. */
  public void setSize(long pages) {
    this.size = pages;
  }

  /** Whether page {@code i} lies at or past the end. No requirements. */
  public boolean pastEnd(long i) {
    long s = size;
    return s != UNBOUNDED && i >= s;
  }

  public static boolean isFrame(long slot) {
    return slot >= 0;
  }

  public static long swapSlot(long slot) {
    return -(slot + 1);
  }

  public static long swapMarker(long swapSlot) {
    return -(swapSlot + 1);
  }

  @Override
  public String toString() {
    return kind + "#" + id + (name.isEmpty() ? "" : "(" + name + ")");
  }
}
