package org.vmoracle.impl.object;

import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The swap area: a fixed number of page-sized slots that anonymous and segment pages go to when
 * pageout evicts them, and come back from on a fault.
 *
 * <p>Concurrency: pageout fills slots under the exclusive map lock; faults under the shared one
 * read a slot and free it after moving the page into a frame. {@code lock} (a leaf lock, taken
 * last) guards the free list; a slot's contents never change while it is in use.
 */
public final class Swap {
  private final int capacity; // (c)
  private final ConcurrentHashMap<Long, long[]> slots = new ConcurrentHashMap<>(); // (x)
  private final ArrayDeque<Long> freeSlots = new ArrayDeque<>(); // (l) lock
  private long next; // (l) lock
  private final java.util.concurrent.locks.ReentrantLock lock =
      new java.util.concurrent.locks.ReentrantLock();

  public Swap(int capacity) {
    this.capacity = capacity;
  }

  /** Stores a copy of {@code page}; answers its slot, or -1 when swap is full. No requirements. */
  public long put(long[] page) {
    long slot;
    lock.lock();
    try {
      if (!freeSlots.isEmpty()) {
        slot = freeSlots.pop();
      } else if (next < capacity) {
        slot = next++;
      } else {
        return -1;
      }
    } finally {
      lock.unlock();
    }
    slots.put(slot, page.clone());
    return slot;
  }

  /**
   * The contents of a slot, or null when it is no longer in use (a concurrent swap-in moved the
   * page into a frame: look at the object again). No requirements.
   */
  public long[] get(long slot) {
    return slots.get(slot);
  }

  /** Gives a slot back. The caller owns the slot (no one else can free it). */
  public void free(long slot) {
    if (slots.remove(slot) == null) {
      throw new IllegalStateException("swap slot " + slot + " freed twice");
    }
    lock.lock();
    try {
      freeSlots.push(slot);
    } finally {
      lock.unlock();
    }
  }

  public int used() {
    return slots.size();
  }

  public java.util.Set<Long> usedSlots() {
    return slots.keySet();
  }
}
