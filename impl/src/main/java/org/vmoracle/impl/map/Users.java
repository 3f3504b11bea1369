package org.vmoracle.impl.map;

import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * An object's users ({@link VmObject#users}), a set that counts every link and unlink in a {@link
 * Tally} shared by all the objects of a system: the backing scan's own cost (seed 000: "the new
 * tracking structures are locked"; DragonFly takes the object's backing-list lock to link or unlink
 * a {@code vm_map_backing}), which experiment E1 sets against pv entries and pte chains.
 *
 * <p>Concurrency: a concurrent set, as before; every change happens under the exclusive map lock
 * ({@link VmObject}), reads may come under the shared one.
 */
public final class Users extends AbstractSet<User> {

  /** Links and unlinks over every object of one system. */
  public static final class Tally {
    public final LongAdder links = new LongAdder(); // (a) users added
    public final LongAdder unlinks = new LongAdder(); // (a) users removed

    /** Users linked now, over every object: DragonFly's {@code vm_map_backing}s. */
    public long live() {
      return links.sum() - unlinks.sum();
    }
  }

  private final Set<User> set = ConcurrentHashMap.newKeySet();
  private final Tally tally;

  /** An empty set that counts its changes in {@code tally}. */
  public Users(Tally tally) {
    this.tally = tally;
  }

  @Override
  public boolean add(User u) {
    if (!set.add(u)) {
      return false;
    }
    tally.links.increment();
    return true;
  }

  @Override
  public boolean remove(Object u) {
    if (!set.remove(u)) {
      return false;
    }
    tally.unlinks.increment();
    return true;
  }

  @Override
  public boolean contains(Object u) {
    return set.contains(u);
  }

  @Override
  public int size() {
    return set.size();
  }

  @Override
  public Iterator<User> iterator() {
    Iterator<User> it = set.iterator();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public User next() {
        return it.next();
      }

      @Override
      public void remove() {
        it.remove();
        tally.unlinks.increment();
      }
    };
  }
}
