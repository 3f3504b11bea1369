package org.vmoracle.impl.rmap;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.phys.PhysMem;
import org.vmoracle.impl.pmap.Pmap;
import org.vmoracle.impl.pmap.Pte;
import org.vmoracle.impl.pmap.PteRef;
import org.vmoracle.impl.sync.ScalableRwLock;

/**
 * The reverse map of Linux 2.5: pte chains, with a direct pointer for a page mapped once (seed 004;
 * kernels.md §3.2).
 *
 * <h2>Overview</h2>
 *
 * Each page holds either nothing, one direct pointer to the PTE that maps it (PageDirect), or a
 * chain of nodes of PTE addresses. A PTE's address is its {@link PteRef} (page-table frame and
 * index), from which the owner of the table ({@link Pmap#serves}: Linux's {@code ptep_to_mm}) and
 * the address ({@code ptep_to_address}) follow. A node is one cache line: a link word and {@link
 * #NRPTE} = (64 - 8) / 8 = 7 slots of 8 bytes, as {@code struct pte_chain} on a 64-bit machine with
 * 64-byte lines. Every node but the head is full; the head's free slots are its leading ones, and
 * {@link Node#first} is its first used slot (Linux's {@code next_and_idx}).
 *
 * <ul>
 *   <li><b>Insertion</b> ({@link #mapped}): none → direct; direct → a new head node holding both (a
 *       conversion, counted); else the last free slot of the head, or a new head when it is full.
 *   <li><b>Removal</b> ({@link #unmapped}): the direct pointer is cleared; a chained PTE's slot
 *       gets the head's first used PTE moved into it, and the head is freed once empty. With {@code
 *       core.Config.Switch#CHAIN_COLLAPSE_TO_DIRECT} (off by default, as the seed advises), a chain
 *       left with one PTE turns back into a direct pointer (counted).
 * </ul>
 *
 * The figures follow the seed: {@code records} counts chain nodes (its ReverseMaps, the direct
 * pointers not counted, since they live in the page), {@code bytes} is 64 a node, {@code ptes}
 * counts every PTE recorded, so that nodes can be set against PTEs mapped (E7).
 *
 * <h2>Concurrency</h2>
 *
 * As {@link PvEntries}: one lock per page ({@code PG_chainlock}, legend (p)) guards its direct
 * pointer and chain, since faults under the shared map lock in different spaces may map one page at
 * once; the searches come under the exclusive map lock, copy the PTE addresses under the page lock
 * and visit them without it. The checker reads with no page lock: none is held then.
 *
 * <h2>Invariants</h2>
 *
 * C1. Every valid leaf that maps frame {@code f} has its address exactly once in {@code f}'s direct
 * pointer or chain ({@link #checkMapping}). C2. Every address recorded for {@code f} is a valid
 * leaf of a live space that maps {@code f}; a page has a direct pointer or a chain, not both; every
 * node of a chain but the head is full and the head holds at least one PTE; the counts of nodes,
 * direct pointers and PTEs are right ({@link #checkInvariants}). C3. With collapse-to-direct on, no
 * chain holds a single PTE.
 *
 * <p>Lock order: the map lock, then one page's chain lock; no two chain locks are held at once.
 */
public final class PteChains implements ReverseMap {

  /** Bytes of a cache line, and of one node. */
  public static final int NODE_BYTES = 64;

  /** PTE addresses a node holds: (64 - 8) / 8, a link word and seven 8-byte addresses. */
  public static final int NRPTE = (NODE_BYTES - Long.BYTES) / Long.BYTES;

  /** One chain node: a link and {@link #NRPTE} PTE addresses (0: a free slot). */
  private static final class Node {
    Node next; // (p)
    final long[] ptes = new long[NRPTE]; // (p) PTE addresses, encode(ref)
    int first; // (p) first used slot; the slots before it are free (head only)
  }

  private final PhysMem mem; // (c)
  private final ScalableRwLock lock; // (c) the map lock, for assertions
  private final long[] direct; // (p) a page's one PTE address, or 0
  private final Node[] chains; // (p) a page's chain head, or null
  private final PageLocks locks; // (c)
  private final boolean collapseToDirect; // (c) the switch CHAIN_COLLAPSE_TO_DIRECT
  private final boolean headMoveDrops; // (c) the injected bug CHAIN_HEAD_MOVE_DROPS
  private final LongAdder nodes = new LongAdder(); // (a) live
  private final LongAdder directs = new LongAdder(); // (a) live
  private final LongAdder ptes = new LongAdder(); // (a) live
  private final LongAdder toChain = new LongAdder(); // (a) so far
  private final LongAdder toDirect = new LongAdder(); // (a) so far

  /**
   * Pte chains for the frames of {@code mem} under map lock {@code lock}; {@code collapseToDirect}
   * is the switch, {@code headMoveDrops} the injected bug {@code core.Bug.CHAIN_HEAD_MOVE_DROPS}.
   */
  public PteChains(
      PhysMem mem, ScalableRwLock lock, boolean collapseToDirect, boolean headMoveDrops) {
    this.mem = mem;
    this.lock = lock;
    this.direct = new long[mem.frames()];
    this.chains = new Node[mem.frames()];
    this.locks = new PageLocks(mem.frames());
    this.collapseToDirect = collapseToDirect;
    this.headMoveDrops = headMoveDrops;
  }

  /** A PTE's address as a slot holds it: never 0. */
  private static long encode(PteRef r) {
    return (((long) r.table() << Pmap.LEVEL_BITS) | r.index()) + 1;
  }

  private static PteRef decode(long code) {
    long c = code - 1;
    return new PteRef((int) (c >>> Pmap.LEVEL_BITS), (int) (c & (Pmap.ENTRIES - 1)));
  }

  @Override
  public void mapped(MapEntry e, long va, long pte) {
    int f = Pte.frame(pte);
    long code = encode(e.space.pmap.ref(va));
    locks.lock(f);
    try {
      Node head = chains[f];
      if (head == null && direct[f] == 0) {
        direct[f] = code; // PageDirect
        directs.increment();
      } else if (head == null) {
        Node n = new Node(); // the second mapping: direct -> a chain of two
        n.ptes[NRPTE - 1] = direct[f];
        n.ptes[NRPTE - 2] = code;
        n.first = NRPTE - 2;
        chains[f] = n;
        direct[f] = 0;
        directs.decrement();
        nodes.increment();
        toChain.increment();
      } else if (head.first == 0) {
        Node n = new Node(); // the head is full: a new head in front of it
        n.ptes[NRPTE - 1] = code;
        n.first = NRPTE - 1;
        n.next = head;
        chains[f] = n;
        nodes.increment();
      } else {
        head.first--; // the last free slot of the head
        head.ptes[head.first] = code;
      }
    } finally {
      locks.unlock(f);
    }
    ptes.increment();
  }

  @Override
  public void unmapped(MapEntry e, long va, long pte) {
    int f = Pte.frame(pte);
    long code = encode(e.space.pmap.ref(va));
    boolean found;
    locks.lock(f);
    try {
      found = remove(f, code);
    } finally {
      locks.unlock(f);
    }
    if (!found) {
      throw new IllegalStateException(
          "C1: the PTE at va "
              + Long.toHexString(va)
              + " of "
              + e
              + " is in neither the direct pointer nor the chain of frame "
              + f);
    }
    ptes.decrement();
  }

  /** Removes {@code code} from frame {@code f}'s record; the caller holds its lock. */
  private boolean remove(int f, long code) {
    if (direct[f] == code) {
      direct[f] = 0;
      directs.decrement();
      return true;
    }
    Node head = chains[f];
    for (Node n = head; n != null; n = n.next) {
      for (int s = n == head ? n.first : 0; s < NRPTE; s++) {
        if (n.ptes[s] != code) {
          continue;
        }
        // The head's first used PTE moves into the victim's slot (seed 004).
        if (headMoveDrops) {
          head.ptes[head.first] = 0; // injected bug: cleared before it is read
          n.ptes[s] = head.ptes[head.first];
        } else {
          n.ptes[s] = head.ptes[head.first];
          head.ptes[head.first] = 0;
        }
        head.first++;
        if (head.first == NRPTE) {
          chains[f] = head.next; // the head is empty: free it
          nodes.decrement();
        }
        Node h = chains[f];
        if (collapseToDirect && h != null && h.next == null && h.first == NRPTE - 1) {
          direct[f] = h.ptes[NRPTE - 1]; // one PTE left: back to PageDirect
          chains[f] = null;
          nodes.decrement();
          directs.increment();
          toDirect.increment();
        }
        return true;
      }
    }
    return false;
  }

  @Override
  public void forEachMapping(VmObject o, long i, int f, Visitor v) {
    assert lock.heldExclusively() : "forEachMapping: the caller holds the map lock exclusive";
    List<Long> copy;
    locks.lock(f);
    try {
      copy = recorded(f);
    } finally {
      locks.unlock(f);
    }
    visit(f, copy, v);
  }

  /**
   * The PTE addresses frame {@code f}'s direct pointer and chain hold, in chain order. The caller
   * holds {@code f}'s lock, or the map lock exclusive with no page lock held (the checker).
   */
  private List<Long> recorded(int f) {
    List<Long> copy = new ArrayList<>();
    if (direct[f] != 0) {
      copy.add(direct[f]);
    }
    for (Node n = chains[f]; n != null; n = n.next) {
      for (int s = n.first; s < NRPTE; s++) {
        copy.add(n.ptes[s]);
      }
    }
    return copy;
  }

  /**
   * Calls {@code v} for each of {@code codes} that is a valid leaf of frame {@code f} in an entry.
   */
  private void visit(int f, List<Long> codes, Visitor v) {
    for (long code : codes) {
      PteRef r = decode(code);
      VmSpace sp = spaceOf(r);
      long va = r.va(mem);
      long pte = r.load(mem);
      MapEntry e = sp == null ? null : sp.entryAt(va);
      if (e != null && Pte.isPresent(pte) && Pte.frame(pte) == f) {
        v.visit(e, va, pte);
      }
    }
  }

  /** The space whose pmap owns the table of {@code r}, or null when it is no pmap's. */
  private VmSpace spaceOf(PteRef r) {
    Object owner = r.owner(mem);
    return owner instanceof Pmap && ((Pmap) owner).serves() instanceof VmSpace
        ? (VmSpace) ((Pmap) owner).serves()
        : null;
  }

  @Override
  public void checkMapping(MapEntry e, long va, long pte, PhysMem mem) {
    int f = Pte.frame(pte);
    int n = Collections.frequency(recorded(f), encode(e.space.pmap.ref(va)));
    if (n != 1) {
      throw new IllegalStateException(
          "C1: PTE at va "
              + Long.toHexString(va)
              + " of "
              + e
              + " maps frame "
              + f
              + ", whose direct pointer and chain name it "
              + n
              + " times, not once");
    }
  }

  @Override
  public void checkInvariants() {
    long nodeCount = 0;
    long directCount = 0;
    long pteCount = 0;
    for (int f = 0; f < chains.length; f++) {
      if (locks.held(f)) {
        throw new IllegalStateException(
            "frame " + f + "'s chain lock is held with nothing running");
      }
      if (direct[f] != 0) {
        if (chains[f] != null) {
          throw new IllegalStateException("C2: frame " + f + " has a direct pointer and a chain");
        }
        directCount++;
        pteCount++;
        checkRecorded(f, direct[f]);
      }
      int inChain = 0;
      for (Node n = chains[f]; n != null; n = n.next) {
        nodeCount++;
        int from = n == chains[f] ? n.first : 0;
        if (from < 0 || from >= NRPTE) {
          throw new IllegalStateException(
              "C2: frame " + f + "'s chain head has its first used slot at " + from);
        }
        for (int s = 0; s < NRPTE; s++) {
          boolean used = s >= from;
          if (used != (n.ptes[s] != 0)) {
            throw new IllegalStateException(
                "C2: frame "
                    + f
                    + "'s chain has "
                    + (used ? "an empty slot where a PTE belongs" : "a PTE in a free slot")
                    + " (node "
                    + nodeCount
                    + ", slot "
                    + s
                    + ")");
          }
          if (used) {
            inChain++;
            checkRecorded(f, n.ptes[s]);
          }
        }
      }
      int here = inChain + (direct[f] != 0 ? 1 : 0);
      int[] found = {0};
      if (here > 0) {
        visit(f, recorded(f), (e, va, pte) -> found[0]++); // what a search of f would visit
      }
      if (found[0] != here) {
        throw new IllegalStateException(
            "C4: a search of frame " + f + " visits " + found[0] + " of its " + here + " PTEs");
      }
      if (collapseToDirect && inChain == 1) {
        throw new IllegalStateException(
            "C3: frame " + f + "'s chain holds one PTE with collapse-to-direct on");
      }
      pteCount += inChain;
    }
    if (nodeCount != nodes.sum() || directCount != directs.sum() || pteCount != ptes.sum()) {
      throw new IllegalStateException(
          String.format(
              "C2: the chains hold %d nodes, %d direct pointers and %d PTEs; counted %d, %d, %d",
              nodeCount, directCount, pteCount, nodes.sum(), directs.sum(), ptes.sum()));
    }
  }

  /** C2 for one recorded address of frame {@code f}. */
  private void checkRecorded(int f, long code) {
    PteRef r = decode(code);
    VmSpace sp = mem.testFlag(r.table(), PhysMem.FREE) ? null : spaceOf(r);
    long pte = sp != null && sp.users > 0 ? r.load(mem) : 0;
    if (!Pte.isPresent(pte) || Pte.frame(pte) != f) {
      throw new IllegalStateException(
          "C2: frame "
              + f
              + " records the PTE "
              + r
              + ", which "
              + (sp == null || sp.users == 0 ? "no live pmap owns" : "does not map the frame"));
    }
  }

  @Override
  public boolean keepsRecords() {
    return true;
  }

  @Override
  public Figures figures() {
    long n = nodes.sum();
    return new Figures(
        locks.acquisitions(),
        n,
        n * NODE_BYTES,
        ptes.sum(),
        directs.sum(),
        toChain.sum(),
        toDirect.sum());
  }
}
