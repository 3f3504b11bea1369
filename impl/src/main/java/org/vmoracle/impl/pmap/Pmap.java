package org.vmoracle.impl.pmap;

import static org.vmoracle.impl.pmap.PmapArgs.checkPage;
import static org.vmoracle.impl.pmap.PmapArgs.checkRange;
import static org.vmoracle.impl.pmap.PmapArgs.checkUserVa;
import static org.vmoracle.impl.pmap.PmapArgs.hex;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.vmoracle.impl.phys.PhysMem;

/**
 * The page tables of one address space: a 4-level radix tree (PML4, PDP, PD, PT) of 512-entry
 * tables, each table a frame of {@link PhysMem} flagged {@link PhysMem#PTPAGE}, its entries the
 * frame's words. Leaves are 4 KiB {@link Pte} entries, and 2 MiB PS leaves that the wiring fast
 * path makes (seed 003, invariant P7); lookups are lock-free. A PD entry may also link a page table
 * that someone else owns and other pmaps link too, seed 001's shared page tables ({@link
 * #linkShared}, {@link #unlinkShared}, {@link #unshare}; invariant P6).
 */
public final class Pmap {
  /*
  * Overview:
  * ---------
  * A user virtual address (below 2^47) indexes the tree with four 9-bit fields:
  *
  *   |63 .. 48|47 ..... 39|38 ..... 30|29 ..... 21|20 ..... 12|11 ....... 0|
  *   |  zero  | PML4 index| PDP index | PD index  | PT index  | page offset |
  *
  * The levels are the enum Level (shift, bytes an entry maps, index, next boundary); every walk
  * here is a loop over the levels from the top down, never a hand-unrolled one (the fault path's,
  * fastWalk, counts level numbers in an int for speed; the others loop over the enum).
  *
  * An entry is 0 or one of four kinds; Level says which levels admit which:
  *
  *   4 KiB leaf     PT entries. Present, not PS (Pte.make's form). "Valid" means non-zero: a
  *                  non-zero entry that is not present never occurs.
  *   own table      PML4, PDP and PD entries. Exactly Pte.table(child): P|W|U and the frame of
  *                  a table this pmap owns (PhysMem.owner(child) == this).
  *   shared table   PD entries only (seed 001). Exactly Pte.sharedTable(child): P|W|U, the
  *                  software bit SHARED_TABLE and the frame of a PT that someone else owns.
  *                  DragonFly's 2012 segment optimization keeps the PT of a shared 2 MiB
  *                  segment in the VM object ("a truncated pmap (PD, PT, and PTEs) in the VM
  *                  object itself") and links it from the PD of every process that maps it.
  *   PS leaf        PD entries only (seed 003). Present, PS: one 2 MiB mapping of 512 frames
  *                  from a 2 MiB-aligned one, as FreeBSD's pmap_enter_pde makes; seed 003
  *                  wires large ranges with them.
  *
  * The kinds are told apart by the entry alone: PS marks a leaf, SHARED_TABLE a shared table.
  * The owner in PhysMem is the truth the mark stands for (P1: a link has SHARED_TABLE exactly
  * when this pmap does not own the table), and the checker compares the two. The mark is there
  * so that the fault path tells a link to an own table from everything else by one test of the
  * entry it already loaded (LINK_TEST), as the old walk's test for 0 did, instead of loading the
  * PT's owner on every enter (about 1 ns of a 13 ns install in the harness of Level's essay).
  * DragonFly marked nothing and knew a shared PT by its missing local pv (pmap_scan's sharept);
  * this pmap keeps no pv. The owner is an Object: a VM object, or the truncated pmap DragonFly
  * hangs off one. release and prune, which free tables, trust neither alone: they free only a
  * table whose link is not marked and whose owner is this pmap.
  *
  * The PML4 is allocated by create() and lives until release(); PDP, PD and PT tables are
  * allocated by enter() on demand and also live until release(). DragonFly's 2019 pmap does the
  * same: "empty page table pages are just left in the pmap until exit() to avoid racing the
  * pmap's pmap_page_*() code" (seed 000). FreeBSD instead frees a table when its last entry goes
  * (pmap_unuse_pt); prune() does that for a range, for callers that can keep every other call
  * out meanwhile (the implementation prunes under its map lock exclusive, behind a switch).
  * Every table enters the tree through linkTable, every entry but a leaf through linkCounted.
  *
  * Accounting follows FreeBSD D32569 (seed 002): residentCount() counts the valid leaves plus
  * every page-table page, the top-level PML4 included, so a fresh pmap has resident count 1 and
  * the first leaf at a fresh address costs 3 tables and 1 leaf (resident 5). Replacing a valid
  * leaf with another leaves the count alone (kernels.md R39). wiredCount() counts the leaves
  * with the software WIRED bit. P4 says how PS leaves and shared tables count, and why.
  *
  * The D32569 fast path: removeRange() on a pmap whose resident count equals TOP_LEVEL_PAGES
  * (nothing resident but the PML4) returns at once without walking, and counts that in
  * earlyReturns(). Config.earlyReturn is its kill switch.
  *
  * Concurrency:
  * ------------
  * Any number of threads may call lookup, enter, compareAndSet, remove, protect, removeRange,
  * forEachLeaf, linkShared, sharedTableAt and unlinkShared at once, on different or the same
  * addresses (unshare has requirements of its own, P6). Nothing here takes a lock:
  *
  *   - Tables are freed while the pmap is alive only by prune(), which requires that no other
  *     call be in flight; so a walker holding a table's frame number can always read it: the
  *     walk needs no lock, no hazard pointer, no epoch.
  *   - A new table is zeroed by PhysMem.allocate() (plain stores), labelled (PTPAGE, owner) and
  *     then installed by a volatile CAS of the parent entry from 0. The CAS's release half
  *     publishes the zeroes and the label; walkers load every entry with acquire, so they see a
  *     zeroed table, never the frame's old contents. Losing the CAS means another thread
  *     installed a table there first: we use the winner's and free ours (or keep it for the next
  *     level down). No walker reads a table's owner to decide where to go (the entry's marks
  *     say); prune and release, which do, run alone.
  *   - Leaves change only by volatile CAS (enter and remove are CAS loops too). The linearization
  *     point of enter, compareAndSet and remove is their successful leaf CAS (remove of an
  *     absent leaf: the acquire load that saw 0; lookup: its acquire load of the leaf).
  *     protect and removeRange are linearizable per leaf, not as a whole, like their kernel
  *     counterparts under a pmap lock that faults on other pages do not take.
  *   - Counters are split LongAdders (SplitCount), so that two threads faulting in one address
  *     space do not bounce a shared counter line on every new leaf (seed 000). A change that adds
  *     (new table, new leaf, WIRED turned on) adds BEFORE its CAS and undoes it if the CAS fails;
  *     a change that removes subtracts AFTER its CAS. When no call is in flight the counts are
  *     exact; while calls run, a read is at least the count at some moment during it (one
  *     LongAdder's sum() is not: it can see a removal and miss the fill before it, SplitCount
  *     says how). So removeRange's fast path (resident == 1 means nothing to remove) needs only
  *     that no leaf of its range be filled concurrently: its caller either excludes every fill
  *     (the implementation's map lock exclusive) or removes a range no one can fill any more (the
  *     second half of munmap, whose entries are gone). A leaf that was in the range counted
  *     before its CAS and stays counted, and fills elsewhere only raise the bound, so resident ==
  *     1 then does mean that the range holds nothing.
  *   - A shared table is not this pmap's: its owner and the other pmaps that link it may change
  *     its entries at any time, even while this pmap is quiescent, and its owner must keep it
  *     allocated while any pmap links it (DragonFly wires the PT page once per linking PD).
  *     This pmap reads it only in lookup and ref (acquire loads, as any walk), in unshare's copy
  *     and in prune's test for emptiness. A sharer that fills it after that test and before
  *     prune's unlinking CAS loses nothing: its leaf stays in the shared table, and only this
  *     pmap's view of it goes, as an unlink by munmap would take it (kernels.md R50).
  *   - A link appears by one CAS from 0 (linkShared) and goes by one CAS, to 0 (unlinkShared,
  *     prune, release's plain store: it runs alone) or to an own copy (unshare). A walker that
  *     loaded the link before it went may still read the shared table after; that is safe, since
  *     its owner keeps it allocated, and it is the translation a TLB would hold until the
  *     shootdown. So a walk sees each PD entry as it was at one acquire load of it, and entries
  *     change under a walk only by single CASes: 0 to a link, a PS leaf to its deposit's link
  *     (P7), a link to a shared table to 0 or to an own PT.
  *   - release(), prune() and checkInvariants() need the pmap quiescent: no other call in
  *     flight.
  *
  * Out of memory: enter() first counts the tables it lacks and allocates them all; if one
  * allocation fails it frees the others and returns false with nothing changed. Only then does
  * it install them, top down. Tables only ever appear, so the count is an upper bound of what
  * the install needs.
  *
  * Invariants (when quiescent; checkInvariants verifies P1-P4):
  * -----------
  *   P1. Tables. Every non-zero PML4, PDP or PD entry that is not a PS leaf links a table
  *       flagged PTPAGE and not FREE, and is either
  *         own:    exactly Pte.TABLE_BITS plus the frame of a table owned by this pmap, with
  *                 owner index (first VA it maps) >>> 12, linked from exactly one entry of this
  *                 pmap; the root is one too (index 0, linked from none); or
  *         shared: exactly Pte.SHARED_TABLE_BITS plus the frame of a table owned by someone
  *                 neither null nor this pmap; only in PD entries, possibly more than once within
  *                 this pmap (two mappings of one segment of an object, seed 001);
  *                 other pmaps may link it too (seed 001), and its owner index and its entries
  *                 are its owner's, so the checker reads neither.
  *   P2. No PML4 entry at index >= 256 (addresses >= 2^47) is used.
  *   P3. Leaves. Every non-zero entry of an own PT is present, not PS, has no bits outside
  *       Pte.LEAF_FLAGS and PFN, and maps a frame of memory that is neither free nor a
  *       page-table page. A PS leaf is a PD entry (never a PT, PDP or PML4 one: no 1 GiB pages):
  *       present, no bits outside Pte.LEAF_FLAGS and PFN, mapping from its 2 MiB-aligned VA
  *       the 512 frames from a 2 MiB-aligned frame (a multiple of 512), each of them memory
  *       that is neither free nor a page-table page.
  *   P4. Counts. tablePages() == the own tables in the tree (PML4 included) and the deposits (P7); a shared table is
  *       its owner's page and counted by it, never here. residentCount() == tablePages()
  *         + 1 for each valid 4 KiB leaf of an own PT
  *         + 512 for each PS leaf (NBPDR / PAGE_SIZE: FreeBSD's pmap_enter_pde adds it and
  *           pmap_remove_pde takes it off, kernels.md R34)
  *         + 1 for each link to a shared table: the PT page it stands for, as DragonFly's 2012
  *           pmap_allocpte_seg counted it in the process (kernels.md R51). It also keeps
  *           removeRange's early return sound: a pmap with a link is never "PML4 alone".
  *       The leaves of a shared table count in no sharer: they are its owner's, as DragonFly's
  *       pmap_enter counted a leaf in pt_pv->pv_pmap, for a shared PT the object's pmap. A leaf
  *       one process enters there is at once every sharer's (R49), so no sharer could count it
  *       with its CAS, and seed 001's point is that such bookkeeping is "no longer multiplied by
  *       the number of processes". unshare turns the link's 1 into the copy's table page and
  *       counts the copied leaves (and their wires) here from then on, as the PT would count had
  *       this pmap built it.
  *       wiredCount() == WIRED 4 KiB leaves of own PTs + 512 for each WIRED PS leaf (FreeBSD
  *       counts a wired 2 MiB page as 512 wired pages). After release() all three are 0.
  *   P5. While calls are in flight each counter is >= its true value (see Concurrency).
  *   P6. Shared tables (seed 001). linkShared is the one way a link to a shared table enters
  *       the tree; unlinkShared, unshare, prune and release are the ways one leaves it;
  *       sharedTableAt tells which table a PD entry links. No operation frees a shared table or
  *       changes or counts its leaves; lookup and ref read them, and unshare copies them. Meeting
  *       one, each operation does this:
  *         lookup, ref        reads through it, the translation the MMU would make (R49)
  *         sharedTableAt      answers its frame
  *         linkShared, enterSuperpage
  *                            CHANGED: the PD entry is not 0, and nothing changed
  *         unlinkShared       clears it if it links the table named (resident - 1), never reads
  *                            or frees the table
  *         unshare            replaces it by an own PT holding a copy of its 512 entries, the
  *                            visitor told of each copied leaf before the copy is published
  *                            (counts as P4 says), the shared table untouched
  *         segmentIsEmpty     false: the segment's PD entry is not 0
  *         enter, install, compareAndSet, remove, reserveTable
  *                            refuses it, having changed no leaf
  *         protect, removeRange, forEachLeaf
  *                            refuses it when its address-order walk reaches it, having done its
  *                            work on the range below it and none above
  *         forEachOwnLeaf     skips its span: those leaves are its owner's
  *         release            unlinks it (resident - 1), never reads or frees it
  *         prune              unlinks one that holds no entry (resident - 1), never frees it; one
  *                            that holds an entry stays linked
  *       A refusal, not a skip, because a skip is silent: a protect that skipped a shared table
  *       would leave its leaves writable, a removeRange would leave them mapped, and a
  *       forEachLeaf would hide them from a caller that asked for every leaf the address space
  *       maps. A changer of a leaf under a link first makes the leaf this pmap's own (unshare) or
  *       drops the link (unlinkShared), and says so; the one walk that skips has its own name,
  *       forEachOwnLeaf, for the caller that means "the leaves this pmap holds" (the VM's
  *       checker, which checks each shared table once, through its owner).
  *       unshare is seed 001's private copy made "before anything changes": the frame is the
  *       caller's before the call, so, like a demotion (P7), it cannot fail halfway. Its caller
  *       keeps every other change of the PD entry out, and every change of the shared table's
  *       leaves, the owner's and other sharers' included, during the copy: a leaf unmapped there
  *       after its copy would stay mapped in the copy.
  *   P7. Deposits (seed 003). Every PS leaf has a deposit: a PT page this pmap owns, labelled
  *       for the leaf's address, linked from no entry, holding exactly the 512 4 KiB leaves the
  *       PS leaf stands for (Pte.pageOf), and counted as a table page; no deposit outlives its
  *       leaf. enterSuperpage fills it before the leaf is published. Demotion is one CAS of the
  *       PD entry from the PS leaf to a link to the deposit: it allocates nothing, so it cannot
  *       fail halfway (FreeBSD's pmap_demote_pde must allocate and can fail; Linux deposits a
  *       table with every huge PMD for the same reason), and it changes no count, since the
  *       deposit and the leaf were counted as the PT and the 512 leaves would be. Every changer
  *       of a leaf demotes a PS leaf it meets first and then works on the 4 KiB leaves:
  *         enter, remove, protect, removeRange, and install or compareAndSet from a leaf
  *                            demote (so munmap, mprotect and munlock of a segment or of part of
  *                            it, fork's write-protect, and pageout or collapse reaching a page
  *                            of one all demote; the callers need not know)
  *         install or compareAndSet from 0, reserveTable
  *                            leave it whole: the page has a leaf, so a fill from 0 fails
  *                            (CHANGED, false), and the table reserveTable would make is the
  *                            deposit (true); a fault that raced the fast path and lost thus
  *                            costs the segment no demotion
  *         lookup, ref, forEachLeaf
  *                            read through it without demoting: lookup and forEachLeaf answer
  *                            Pte.pageOf's leaves, ref names the page's slot in the deposit,
  *                            the PTE that will hold the page after demotion, so a pte chain's
  *                            name for it stays right across the demotion (seed 004)
  *         release            refuses it (a leaf still mapped); prune leaves it (its PD is not
  *                            empty)
  *       A reader that meets the PS leaf and then finds it demoted walks again; two demoters
  *       race on the one CAS, and the loser goes on through the winner's link.

  * Lock order: none (lock-free). Callers may hold any of their locks while calling in.
  *
  * References: FreeBSD sys/amd64/amd64/pmap.c (pmap_remove's early return, D32569;
  * pmap_enter_pde, pmap_remove_pde); DragonFly BSD sys/platform/pc64/x86_64/pmap.c (2019
  * rework; 2012 pmap_allocpte_seg, pmap_mmu_optimize); seeds 000, 001, 002 and 003; kernels.md
  * R34, R39, R49-R51.
  */

  // ---------------------------------------------------------------- Configuration

  /**
   * The pmap's switches.
   *
   * @param earlyReturn the D32569 fast path: {@link #removeRange} returns at once, without walking,
   *     when nothing but the top-level page is resident. The kill switch: false makes every
   *     removeRange walk (seed 002's "early exit off" side of experiment E5).
   * @param doubleCountTables the injected bug DOUBLE_COUNTED_PT_PAGES of the implementation's
   *     {@code core.Bug}: every new page-table page counts twice in the resident count
   * @param demotionLosesPage the injected bug DEMOTION_LOSES_PAGE of {@code core.Bug}: the table
   *     deposited for a 2 MiB leaf, which its demotion links, lacks the segment's last page
   * @param releaseKeepsRoot the injected bug EXIT_LEAKS_ROOT_TABLE of {@code core.Bug}: {@link
   *     #release} frees every table but the PML4
   */
  public record Config(
      boolean earlyReturn,
      boolean doubleCountTables,
      boolean demotionLosesPage,
      boolean releaseKeepsRoot) {
    /** The pmap's switches with the first three injected bugs or not. */
    public Config(boolean earlyReturn, boolean doubleCountTables, boolean demotionLosesPage) {
      this(earlyReturn, doubleCountTables, demotionLosesPage, false);
    }

    /** Every optimization on. */
    public static final Config DEFAULT = new Config(true);

    /** The pmap's switches with no injected bug. */
    public Config(boolean earlyReturn) {
      this(earlyReturn, false, false);
    }

    /** The pmap's switches with the first injected bug or not. */
    public Config(boolean earlyReturn, boolean doubleCountTables) {
      this(earlyReturn, doubleCountTables, false);
    }
  }

  /** What {@link #forEachLeaf} calls for each valid leaf. */
  @FunctionalInterface
  public interface LeafVisitor {
    /** Called with the page-aligned address of a valid leaf and the leaf as loaded (acquire). */
    void visit(long va, long pte);
  }

  // ---------------------------------------------------------------- Constants

  /** log2 of the page size: 12, because pages are 4 KiB (DESIGN.md). */
  public static final int PAGE_SHIFT = 12;

  /** The page size in bytes: 4096. */
  public static final long PAGE_SIZE = 1L << PAGE_SHIFT;

  /** Address bits each level resolves: 9, because a 4 KiB table holds 512 eight-byte entries. */
  public static final int LEVEL_BITS = 9;

  /** Entries in a table: 512, one frame of {@link PhysMem#WORDS_PER_FRAME} words. */
  public static final int ENTRIES = 1 << LEVEL_BITS;

  /** Levels in the tree: 4 (PML4, PDP, PD, PT), x86-64's 48-bit paging. */
  public static final int LEVELS = 4;

  /** The end of user addresses: 2^47 bytes, the lower half of x86-64's 48-bit space. */
  public static final long USER_VA_LIMIT = 1L << 47;

  /**
   * Top-level pages of a pmap: 1, the PML4 (FreeBSD counts 2 with PTI, for the user copy; this pmap
   * has none). removeRange's fast path compares the resident count with this.
   */
  public static final long TOP_LEVEL_PAGES = 1;

  static {
    if (ENTRIES != PhysMem.WORDS_PER_FRAME) {
      throw new AssertionError("a table must fill exactly one frame");
    }
    if (Level.values().length != LEVELS || Level.TOP.entryBytes() * ENTRIES != 2 * USER_VA_LIMIT) {
      throw new AssertionError("the levels must resolve 48 address bits, the user half below 2^47");
    }
  }

  // ---------------------------------------------------------------- Fields
  //
  // Lock legend:
  //   (c) const after create()
  //   (a) atomic only (LongAdder / SplitCount / ConcurrentHashMap)
  //   (q) needs quiescence: written only by release(), which requires that no other call is in
  //       flight; read plainly elsewhere only to catch callers that break that rule

  private final PhysMem mem; // (c)
  private final Config config; // (c)
  private final int root; // (c) the PML4's frame
  private final SplitCount resident = new SplitCount(); // (a) exact when quiescent, see essay
  private final SplitCount wired = new SplitCount(); // (a) exact when quiescent
  private final SplitCount tables = new SplitCount(); // (a) exact when quiescent
  private final LongAdder earlyReturns = new LongAdder(); // (a)
  private final LongAdder tableRaceLosses = new LongAdder(); // (a)
  private final LongAdder superpages = new LongAdder(); // (a) PS leaves in the tree
  private final LongAdder demotions = new LongAdder(); // (a)
  // (a) the deposit of each PS leaf: segment base va -> the PT frame its demotion links (P7)
  private final ConcurrentHashMap<Long, Integer> deposits = new ConcurrentHashMap<>();
  private boolean released; // (q)
  private volatile Object space; // set once, before any leaf: what serves() answers

  private Pmap(PhysMem mem, Config config, int root) {
    this.mem = mem;
    this.config = config;
    this.root = root;
  }

  /**
   * A new, empty pmap with the default {@link Config}, or null when no frame is free for its
   * top-level page.
   *
   * <p>No requirements.
   */
  public static Pmap create(PhysMem mem) {
    return create(mem, Config.DEFAULT);
  }

  /**
   * A new, empty pmap: one zeroed PML4 frame, resident count 1 (D32569), table pages 1; or null
   * when no frame is free for the PML4, and then nothing has changed.
   *
   * <p>No requirements.
   */
  public static Pmap create(PhysMem mem, Config config) {
    Objects.requireNonNull(mem, "mem");
    Objects.requireNonNull(config, "config");
    int pml4 = mem.allocate();
    if (pml4 < 0) {
      return null;
    }
    mem.setFlag(pml4, PhysMem.PTPAGE);
    Pmap pmap = new Pmap(mem, config, pml4);
    pmap.label(pml4, 0);
    pmap.tables.add(1); // the pmap is not shared yet
    pmap.resident.add(1);
    return pmap;
  }

  // ---------------------------------------------------------------- Accessors and counters

  /**
   * Names the address space this pmap serves, once, before any leaf is entered: the way Linux's
   * page-table pages name their mm ({@code ptep_to_mm}, seed 004), so that a reverse map that keeps
   * PTE addresses ({@link PteRef}) finds the space from the table's owner. An opaque label here:
   * the pmap sits below the maps.
   *
   * @throws IllegalStateException if it was named already
   */
  public void serve(Object space) {
    Objects.requireNonNull(space, "space");
    if (this.space != null) {
      throw new IllegalStateException("pmap already serves " + this.space);
    }
    this.space = space;
  }

  /** The address space {@link #serve} named, or null before. No requirements. */
  public Object serves() {
    return space;
  }

  /** The physical memory the tables live in. No requirements. */
  public PhysMem physMem() {
    return mem;
  }

  /** This pmap's switches. No requirements. */
  public Config config() {
    return config;
  }

  /** The frame of the PML4 (its words are the PML4 entries). No requirements. */
  public int rootFrame() {
    return root;
  }

  /**
   * Valid leaves plus page-table pages, the PML4 included (D32569); 0 after {@link #release}. A 2
   * MiB PS leaf counts 512 and a link to a shared table 1; a shared table's leaves count here not
   * at all (P4). An upper bound while calls are in flight, exact when quiescent. Volatile read.
   *
   * <p>No requirements.
   */
  public long residentCount() {
    return resident.upperBound();
  }

  /**
   * Valid leaves with the WIRED bit, a 2 MiB PS leaf counting 512 (P4). An upper bound while calls
   * are in flight, exact when quiescent. Volatile read.
   *
   * <p>No requirements.
   */
  public long wiredCount() {
    return wired.upperBound();
  }

  /**
   * Page-table pages this pmap owns (PML4, PDP, PD and PT; not the shared tables it links, P4); 0
   * after {@link #release}. An upper bound while calls are in flight, exact when quiescent.
   * Volatile read.
   *
   * <p>No requirements.
   */
  public long tablePages() {
    return tables.upperBound();
  }

  /** How often {@link #removeRange} took the D32569 early return. No requirements. */
  public long earlyReturns() {
    return earlyReturns.sum();
  }

  /**
   * The own table pages above the PT level: the PML4, the PDPs and the PDs, counted by a walk that
   * does not descend into PTs; {@link #tablePages} less this is the PT pages and deposits. For
   * reports (E4 counts the PT pages that sharing shares). The caller keeps the pmap quiescent.
   */
  public long upperTablePages() {
    checkAlive();
    return countUpper(root, Level.TOP);
  }

  private long countUpper(int t, Level level) {
    long n = 1;
    if (level.below() == Level.PT) {
      return n; // t is a PD: what it links are PTs (own or shared) and PS leaves
    }
    for (int i = 0; i < ENTRIES; i++) {
      long e = mem.loadAcquire(t, i);
      if ((e & LINK_TEST) == Pte.P && mem.owner(Pte.frame(e)) == this) {
        n += countUpper(Pte.frame(e), level.below());
      }
    }
    return n;
  }

  /** The 2 MiB PS leaves in the tree (seed 003); exact when quiescent. No requirements. */
  public long superpages() {
    return superpages.sum();
  }

  /** The PS leaves demoted to 512 4 KiB leaves so far (P7). No requirements. */
  public long demotions() {
    return demotions.sum();
  }

  /** The deposits of the PS leaves, by segment address; for the checker, which runs alone. */
  java.util.Map<Long, Integer> deposits() {
    return java.util.Collections.unmodifiableMap(deposits);
  }

  /** How often enter() lost the race to install a table and used another thread's. */
  public long tableRaceLosses() {
    return tableRaceLosses.sum();
  }

  // ---------------------------------------------------------------- Lookup

  /**
   * The leaf mapping the page that holds {@code va}, or 0. Acquire loads all the way down; never
   * allocates, never blocks. Linearizes at the acquire load that returned the answer. Reads through
   * a shared table like any other (P6).
   *
   * <p>The caller passes a user address (0 ≤ va &lt; 2^47; it need not be page-aligned).
   *
   * <p>Through a 2 MiB PS leaf it answers the 4 KiB leaf the MMU's translation makes ({@link
   * Pte#pageOf}), which is also the leaf its demotion puts there (P7); it linearizes then at the
   * acquire load of the PD entry.
   */
  public long lookup(long va) {
    checkUserVa(va);
    checkAlive();
    for (; ; ) {
      int pt = tableFor(va, Level.PT_NUMBER, true);
      if (pt != SUPERPAGE) {
        return pt < 0 ? 0 : mem.loadAcquire(pt, ptIndex(va));
      }
      long pde = pdEntry(va);
      if (Pte.isSuperpage(pde)) {
        return Pte.pageOf(pde, ptIndex(va));
      }
      // Demoted between the two walks: the page now has a 4 KiB leaf; walk again.
    }
  }

  /**
   * The identity of the PTE for the page that holds {@code va}: its PT's frame and its index there
   * ({@link PteRef}); null when no PT holds that page yet. Reads through a shared table, which then
   * names the shared table's PTE. Acquire loads; never allocates, never blocks.
   *
   * <p>The caller passes a user address (0 ≤ va &lt; 2^47; it need not be page-aligned).
   *
   * <p>Under a 2 MiB PS leaf it names the slot of the page in the leaf's deposit (P7): the PTE the
   * page's demotion links in place, so that the name stays right across the demotion.
   */
  public PteRef ref(long va) {
    checkUserVa(va);
    checkAlive();
    for (; ; ) {
      int pt = tableFor(va, Level.PT_NUMBER, true);
      if (pt != SUPERPAGE) {
        return pt < 0 ? null : new PteRef(pt, ptIndex(va));
      }
      Integer deposit = deposits.get(Level.PD.base(va));
      if (deposit != null) {
        return new PteRef(deposit, ptIndex(va));
      }
      // Demoted between the walk and the map: the deposit is linked now; walk again.
    }
  }

  // ---------------------------------------------------------------- Changing leaves

  /**
   * Installs {@code pte} as the leaf for page {@code va}, replacing whatever leaf was there,
   * allocating missing tables. A new leaf adds 1 to the resident count, a replaced one adds nothing
   * (R39); the wired count follows the WIRED bit of the old and new leaf. Linearizes at the
   * successful leaf CAS.
   *
   * <p>Returns false, having changed nothing, when a frame for a table cannot be allocated.
   *
   * <p>The caller passes a page-aligned user address and a present, non-PS leaf (e.g. from {@link
   * Pte#make}) whose frame lies in this memory.
   *
   * @throws IllegalStateException if a shared table maps {@code va} (P6); a PS leaf there is
   *     demoted first (P7); nothing has changed then
   */
  public boolean enter(long va, long pte) {
    checkPage(va);
    checkLeaf(pte, "pte");
    checkAlive();
    int pt = tableFor(va, Level.PT_NUMBER, false);
    if (pt < 0) {
      pt = grow(va, Level.PT);
      if (pt < 0) {
        return false;
      }
    }
    int idx = ptIndex(va);
    for (; ; ) {
      long old = mem.loadAcquire(pt, idx);
      if (casLeaf(pt, idx, old, pte)) {
        return true;
      }
      // Failed CAS: another thread changed this leaf since our load; retry with what it wrote.
    }
  }

  /**
   * Replaces the leaf for page {@code va} with {@code update} if it is {@code expect}; 0 as either
   * means "no leaf". Keeps the resident and wired counts right for every transition. Returns false
   * if the leaf was something else, or if its page table does not exist (this method never
   * allocates; a 0 → valid transition on a missing table needs {@link #enter}). Linearizes at the
   * leaf CAS (or the acquire load that found the table missing).
   *
   * <p>The caller passes a page-aligned user address; {@code expect} and {@code update} are each 0
   * or a present, non-PS leaf.
   *
   * @throws IllegalStateException if a shared table maps {@code va} (P6); a PS leaf there is
   *     demoted first (P7); nothing has changed then
   */
  public boolean compareAndSet(long va, long expect, long update) {
    checkPage(va);
    if (expect != 0) {
      checkLeaf(expect, "expect");
    }
    if (update != 0) {
      checkLeaf(update, "update");
    }
    checkAlive();
    int pt = expect == 0 ? fillerTable(va) : tableFor(va, Level.PT_NUMBER, false);
    return pt >= 0 && casLeaf(pt, ptIndex(va), expect, update); // SUPERPAGE: not 0 there
  }

  /** How {@link #install}, {@link #enterSuperpage} and {@link #linkShared} ended. */
  public enum Install {
    /** The entry was what the call expected (for install {@code expect}, else 0) and is now new. */
    INSTALLED,
    /** The entry was something else: nothing changed. */
    CHANGED,
    /** A table frame could not be allocated: nothing changed. */
    NO_MEMORY
  }

  /**
   * Replaces the leaf for page {@code va} with {@code pte} if it is {@code expect} (0: no leaf),
   * allocating missing tables when {@code expect} is 0. This is the fault handler's install: a PTE
   * goes in only over the one the fault saw, so a slow fault cannot overwrite a faster one's newer
   * PTE. Linearizes at the leaf CAS (or at the load that found a table missing when {@code expect}
   * was a leaf).
   *
   * <p>The caller passes a page-aligned user address, {@code expect} 0 or a present leaf, and a
   * present, non-PS {@code pte}.
   *
   * @throws IllegalStateException if a shared table maps {@code va} (P6); a PS leaf there is
   *     demoted first (P7); nothing has changed then
   */
  public Install install(long va, long expect, long pte) {
    checkPage(va);
    if (expect != 0) {
      checkLeaf(expect, "expect");
    }
    checkLeaf(pte, "pte");
    checkAlive();
    int pt = expect == 0 ? fillerTable(va) : tableFor(va, Level.PT_NUMBER, false);
    if (pt == SUPERPAGE) {
      return Install.CHANGED; // the page has a 2 MiB leaf, not 0 (P7)
    }
    if (pt < 0) {
      if (expect != 0) {
        return Install.CHANGED; // the leaf the caller saw cannot live in a missing table
      }
      pt = grow(va, Level.PT);
      if (pt < 0) {
        return Install.NO_MEMORY;
      }
    }
    return casLeaf(pt, ptIndex(va), expect, pte) ? Install.INSTALLED : Install.CHANGED;
  }

  /**
   * Makes sure the page-table page that will hold the leaf of page {@code va} exists, allocating
   * the missing levels; false, with nothing allocated past what was there, when no frame is free. A
   * later {@link #install} at {@code va} then cannot answer {@link Install#NO_MEMORY} as long as no
   * one prunes the table meanwhile (pruning takes the map lock exclusive). Linearizes at the
   * table's publication, or at the acquire load that found it.
   *
   * <p>The caller passes a page-aligned user address.
   *
   * @throws IllegalStateException if a shared table maps {@code va} (P6; a PS leaf there is
   *     demoted, P7); the tables above it may have been built
   */
  public boolean reserveTable(long va) {
    checkPage(va);
    checkAlive();
    int pt = fillerTable(va);
    return pt >= 0 || pt == SUPERPAGE || grow(va, Level.PT) >= 0; // under a PS leaf: its deposit
  }

  /**
   * Makes sure the PD that holds the entry for {@code va} exists, allocating a missing PDP and PD;
   * false, with nothing allocated past what was there, when no frame is free. A later {@link
   * #enterSuperpage} at {@code va} then cannot answer {@link Install#NO_MEMORY} as long as no one
   * prunes meanwhile. Linearizes as {@link #reserveTable}.
   *
   * <p>The caller passes a user address.
   */
  public boolean reserveDirectory(long va) {
    checkUserVa(va);
    checkAlive();
    return tableFor(va, Level.PD_NUMBER, false) >= 0 || grow(va, Level.PD) >= 0;
  }

  /**
   * Whether the PD entry for {@code va} is 0: no table, no leaf and no shared table maps any page
   * of its 2 MiB segment. An acquire load; no requirements beyond a user address.
   */
  public boolean segmentIsEmpty(long va) {
    checkUserVa(va);
    checkAlive();
    return pdEntry(va) == 0;
  }

  /**
   * Installs {@code pde}, a 2 MiB PS leaf, in the PD entry for {@code va} if that entry is 0 (seed
   * 003: FreeBSD's pmap_enter_pde), allocating a missing PDP and PD, and takes {@code deposit} as
   * the leaf's deposit: the PT its demotion will link, filled here with the leaf's 512 4 KiB leaves
   * (P7; Linux's pgtable_trans_huge_deposit, filled ahead). Counts the PS leaf as 512 resident
   * pages (and 512 wired with WIRED), and the deposit as a table page, as a PT holding those 512
   * leaves would count, so that demotion changes no count. Counts before the CAS and takes them
   * back if it fails, as every install here. Linearizes at the PD entry's CAS (release: it
   * publishes the filled deposit).
   *
   * <p>Answers {@link Install#INSTALLED}; {@link Install#CHANGED} when the PD entry was not 0 (a
   * table or a leaf is there); {@link Install#NO_MEMORY} when a PDP or PD could not be allocated.
   * On either failure nothing changed, and {@code deposit} is freed.
   *
   * <p>The caller passes a 2 MiB-aligned user address; a PS leaf from {@link Pte#superpage} whose
   * 512 frames lie in this memory, are in use and are no page-table pages; and a frame it allocated
   * from this memory ({@link PhysMem#allocate}: zeroed, no flags) and gives up to the pmap.
   *
   * @throws IllegalArgumentException if {@code va} or {@code pde} is not such; nothing changed
   * @throws IllegalStateException if a shared table lies on the way, which no PD entry under a PS
   *     leaf could (P6); the tables above it may have been built
   */
  public Install enterSuperpage(long va, long pde, int deposit) {
    checkUserVa(va);
    checkAlive();
    checkSegment(va);
    checkSuperpageLeaf(pde);
    int pd = tableFor(va, Level.PD_NUMBER, false);
    if (pd < 0) {
      pd = grow(va, Level.PD);
      if (pd < 0) {
        mem.free(deposit);
        return Install.NO_MEMORY;
      }
    }
    int idx = Level.PD.index(va);
    if (mem.loadAcquire(pd, idx) != 0) {
      mem.free(deposit);
      return Install.CHANGED; // seen without building the deposit: the common fall-back
    }
    int pages = (int) Level.PD.pages();
    int filled = config.demotionLosesPage() ? pages - 1 : pages; // injected bug: one page short
    for (int i = 0; i < filled; i++) {
      mem.store(deposit, i, Pte.pageOf(pde, i)); // plain: the CAS below publishes them
    }
    mem.setFlag(deposit, PhysMem.PTPAGE);
    label(deposit, va >>> PAGE_SHIFT);
    if (deposits.putIfAbsent(va, deposit) != null) {
      throw new IllegalStateException(
          "a deposit for va " + hex(va) + " is left from an earlier 2 MiB leaf (P7)");
    }
    long wiredPages = Pte.isWired(pde) ? pages : 0;
    if (!linkCounted(pd, idx, pde, 1, pages + 1L, wiredPages)) {
      deposits.remove(va, deposit);
      mem.free(deposit);
      return Install.CHANGED;
    }
    superpages.increment();
    return Install.INSTALLED;
  }

  /** The checks of {@link #enterSuperpage} on its leaf (P3). */
  private void checkSuperpageLeaf(long pde) {
    int f = Pte.frame(pde);
    long pages = Level.PD.pages();
    if (!Pte.isSuperpage(pde)
        || f < 0
        || !Pte.isPresent(pde)
        || (pde & ~(Pte.LEAF_FLAGS | Pte.PFN_MASK)) != 0
        || f % pages != 0
        || f + pages > mem.frames()) {
      throw new IllegalArgumentException(
          Pte.toString(pde)
              + ": a PS leaf is present, has known bits only and maps 512 frames of memory from"
              + " a multiple of 512");
    }
  }

  /**
   * Clears the leaf for page {@code va} and returns it, or returns 0 if there was none. A CAS loop;
   * linearizes at the successful CAS (or at the acquire load that saw no leaf).
   *
   * <p>The caller passes a page-aligned user address.
   *
   * @throws IllegalStateException if a shared table maps {@code va} (P6); a PS leaf there is
   *     demoted first (P7); nothing has changed then
   */
  public long remove(long va) {
    checkPage(va);
    checkAlive();
    int pt = tableFor(va, Level.PT_NUMBER, false);
    return pt < 0 ? 0 : clearLeaf(pt, ptIndex(va));
  }

  /**
   * Clears W on every valid leaf in [sva, eva), one CAS loop per leaf; skips a missing PDP, PD or
   * PT in one step (it never visits the 512 entries a missing table would hold). Linearizable per
   * leaf only.
   *
   * <p>The caller passes page-aligned user addresses with sva ≤ eva ≤ {@link #USER_VA_LIMIT}.
   *
   * @throws IllegalStateException when the walk reaches a shared table (P6; a PS leaf is demoted,
   *     or for forEachLeaf read through, P7); the leaves below it in the range are protected then,
   *     those above it untouched
   */
  public void protect(long sva, long eva) {
    checkRange(sva, eva);
    checkAlive();
    walk(
        sva,
        eva,
        (pt, idx, va) -> {
          for (; ; ) {
            long old = mem.loadAcquire(pt, idx);
            if (old == 0 || !Pte.isWritable(old)) {
              return false;
            }
            if (mem.cas(pt, idx, old, Pte.withoutBits(old, Pte.W))) {
              return false; // linearization point for this leaf
            }
            // Failed CAS: the leaf changed (enter, remove, another protect); look again.
          }
        },
        true);
  }

  /**
   * Clears every valid leaf in [sva, eva), calling {@code removed} with its address and the old
   * leaf after it is cleared (as pmap_remove hands pages back to the VM). Linearizable per leaf
   * only.
   *
   * <p>The D32569 fast path: when {@link Config#earlyReturn} is on and the resident count equals
   * {@link #TOP_LEVEL_PAGES}, returns at once without walking and counts it in {@link
   * #earlyReturns}. The caller must keep every call that fills a leaf out meanwhile (see the class
   * essay): then the count is exact and the fast path sound.
   *
   * <p>The caller passes page-aligned user addresses with sva ≤ eva ≤ {@link #USER_VA_LIMIT};
   * {@code removed} must not call back into this pmap's removeRange for the same range.
   *
   * @throws IllegalStateException when the walk reaches a shared table (P6; a PS leaf is demoted,
   *     or for forEachLeaf read through, P7); the leaves below it in the range are removed (and
   *     reported) then, those above it untouched
   */
  public void removeRange(long sva, long eva, LeafVisitor removed) {
    checkRange(sva, eva);
    Objects.requireNonNull(removed, "removed");
    checkAlive();
    if (config.earlyReturn() && resident.upperBound() == TOP_LEVEL_PAGES) {
      earlyReturns.increment(); // nothing but the PML4 is resident: no leaf to remove
      return;
    }
    walk(
        sva,
        eva,
        (pt, idx, va) -> {
          long old = clearLeaf(pt, idx);
          if (old != 0) {
            removed.visit(va, old);
          }
          return false;
        },
        true);
  }

  /**
   * Frees every page-table page that maps part of [sva, eva) and holds no entry any more, bottom up
   * (a PT, then the PD above it if that became empty, and so on; never the PML4), clearing the
   * entries that pointed to them, and answers how many it freed (FreeBSD's pmap_unuse_pt, for a
   * range). After the last leaf of a pmap goes this way, its resident count is {@link
   * #TOP_LEVEL_PAGES} again, and {@link #removeRange}'s early return can fire.
   *
   * <p>What is not this pmap's is never freed (P6): a PS leaf is a leaf, so the PD holding it is
   * not empty; a shared table in the range that holds no entry is unlinked (resident count - 1) but
   * not freed, nor counted in the answer; one that holds an entry stays linked.
   *
   * <p>The caller passes page-aligned user addresses with sva ≤ eva ≤ {@link #USER_VA_LIMIT}, and
   * keeps every other call on this pmap out meanwhile (a walker could hold a table being freed).
   */
  public long prune(long sva, long eva) {
    checkRange(sva, eva);
    checkAlive();
    return sva == eva ? 0 : pruneBelow(root, Level.TOP, 0, sva, eva);
  }

  /**
   * Prunes below table {@code t} of level {@code level}, which maps from {@code base}, within [sva,
   * eva); answers the tables freed.
   */
  private long pruneBelow(int t, Level level, long base, long sva, long eva) {
    long span = level.entryBytes();
    int first = level.index(Math.max(sva, base));
    int last = level.index(Math.min(eva, base + span * ENTRIES) - 1);
    long freed = 0;
    for (int i = first; i <= last; i++) {
      long e = mem.loadAcquire(t, i);
      if (e == 0) {
        continue;
      }
      if (Pte.isSuperpage(e)) {
        continue; // a 2 MiB leaf, not a table: never freed as one (P6)
      }
      int child = Pte.frame(e);
      if (Pte.isSharedTable(e) || mem.owner(child) != this) { // either says: not ours to free
        // A shared table (seed 001): its owner frees it. Drop our link only if it holds nothing,
        // so that no translation goes (see Concurrency for a sharer filling it meanwhile).
        if (isEmptyTable(child) && mem.cas(t, i, e, 0)) {
          resident.decrement(); // after the CAS, as every removal; the link counted 1 (P4)
        }
        continue;
      }
      Level childLevel = level.below();
      if (childLevel != Level.PT) {
        freed += pruneBelow(child, childLevel, base + i * span, sva, eva);
      }
      if (isEmptyTable(child) && mem.cas(t, i, e, 0)) {
        mem.free(child);
        tables.decrement(); // after the CAS, as every removal (see Concurrency)
        resident.decrement();
        freed++;
      }
    }
    return freed;
  }

  private boolean isEmptyTable(int t) {
    for (int i = 0; i < ENTRIES; i++) {
      if (mem.loadAcquire(t, i) != 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Calls {@code v} with (va, pte) for each valid leaf in [sva, eva), in address order; each leaf
   * is an acquire load, so under concurrent changes the visit is no snapshot. Skips missing tables
   * in one step. Through a PS leaf it visits the 512 4 KiB leaves the translation makes, without
   * demoting it (P7).
   *
   * <p>It refuses a link to a shared table rather than skip it (P6): its callers ask for every leaf
   * the address space maps, and a skip would hide the shared ones from them without a word. A
   * caller that wants only the leaves this pmap holds itself calls {@link #forEachOwnLeaf}.
   *
   * <p>The caller passes page-aligned user addresses with sva ≤ eva ≤ {@link #USER_VA_LIMIT};
   * {@code v} may change this pmap.
   *
   * @throws IllegalStateException when the walk reaches a shared table (P6); the leaves below it in
   *     the range have been visited then
   */
  public void forEachLeaf(long sva, long eva, LeafVisitor v) {
    visitLeaves(sva, eva, v, false);
  }

  /**
   * {@link #forEachLeaf}, but skipping the 2 MiB span of every link to a shared table instead of
   * refusing it (P6): the leaves this pmap holds itself, in its own PTs and under its PS leaves,
   * and none of a shared table's, which are its owner's. For a checker that walks each sharer's own
   * leaves and each shared table once, through its owner. No snapshot, as forEachLeaf.
   *
   * <p>The caller passes page-aligned user addresses with sva ≤ eva ≤ {@link #USER_VA_LIMIT};
   * {@code v} may change this pmap.
   */
  public void forEachOwnLeaf(long sva, long eva, LeafVisitor v) {
    visitLeaves(sva, eva, v, true);
  }

  /**
   * forEachLeaf's and forEachOwnLeaf's walk: refuses a link to a shared table, or with {@code
   * skipShared} skips its span.
   */
  private void visitLeaves(long sva, long eva, LeafVisitor v, boolean skipShared) {
    checkRange(sva, eva);
    Objects.requireNonNull(v, "v");
    checkAlive();
    walk(
        sva,
        eva,
        new SlotAction() {
          @Override
          public boolean apply(int pt, int idx, long va) {
            long pte = mem.loadAcquire(pt, idx);
            if (pte != 0) {
              v.visit(va, pte);
            }
            return false;
          }

          @Override
          public boolean superpage(Level level, int idx, long base, long pde) {
            // The 4 KiB leaves the translation makes (P7); the visitor may demote it meanwhile,
            // and the leaves it then finds are these.
            long to = Math.min(eva, base + level.entryBytes());
            for (long va = Math.max(sva, base); va < to; va += PAGE_SIZE) {
              v.visit(va, Pte.pageOf(pde, (int) ((va - base) >>> PAGE_SHIFT)));
            }
            return false;
          }

          @Override
          public boolean sharedTable(Level level, int idx, long va, long e, Object owner) {
            if (!skipShared) {
              return SlotAction.super.sharedTable(level, idx, va, e, owner); // refuses it (P6)
            }
            return false; // its owner's leaves: the walk goes on past its span
          }
        });
  }

  /**
   * Frees every table page of this pmap, the PML4 last, and unlinks every shared table without
   * freeing or reading it (P6: its owner's); afterwards the resident count and table pages are 0
   * and the pmap must not be used again.
   *
   * <p>The caller has removed every leaf, 2 MiB PS leaves included, and makes sure no other call is
   * in flight, now or later.
   *
   * @throws IllegalStateException if a leaf is still valid (naming the lowest such address) or the
   *     pmap was released before; nothing has changed then
   */
  public void release() {
    checkAlive();
    long[] leftover = {-1, 0}; // the lowest address still mapped, and its leaf
    walk(
        0,
        USER_VA_LIMIT,
        new SlotAction() {
          @Override
          public boolean apply(int pt, int idx, long va) {
            long pte = mem.loadAcquire(pt, idx);
            return pte != 0 && stop(va, pte);
          }

          @Override
          public boolean superpage(Level level, int idx, long va, long pde) {
            return stop(va, pde); // a leaf still mapped, like any other
          }

          @Override
          public boolean sharedTable(Level level, int idx, long va, long e, Object owner) {
            return false; // its leaves are its owner's, not ours to have removed
          }

          private boolean stop(long va, long pte) {
            leftover[0] = va;
            leftover[1] = pte;
            return true;
          }
        });
    if (leftover[0] >= 0) {
      throw new IllegalStateException(
          "release of a pmap that still maps va "
              + hex(leftover[0])
              + " ("
              + Pte.toString(leftover[1])
              + "): remove every leaf first");
    }
    long[] tally = new long[2]; // tables freed, shared-table links dropped
    freeTree(root, Level.TOP, tally, config.releaseKeepsRoot());
    tables.add(-tally[0]); // volatile; 0 if the counts were right (checkInvariants tells)
    resident.add(-(tally[0] + tally[1]));
    released = true;
  }

  // ---------------------------------------------------------------- Shared tables (seed 001)

  /**
   * Links the page table in frame {@code table}, which someone else owns, from the PD entry for
   * {@code va}: seed 001's PD entry "that points to the PT page table page stored in the
   * VM_OBJECT's pmap". Builds a missing PDP and PD as enter() does, then CASes the PD entry from 0
   * to {@code Pte.sharedTable(table)} (volatile; the linearization point; its release half passes
   * on to this pmap's walkers what the caller saw of the table, its owner's zeroing of it among
   * that, as its owner's own link did to the owner's walkers). Counts the link as P4 says, 1
   * resident and no table page, before the CAS, and takes it back if the CAS fails (P5). From the
   * CAS on, lookup here reads the owner's leaves (R49), and every leaf the owner or another sharer
   * enters there is at once this pmap's translation too.
   *
   * <p>Answers {@link Install#INSTALLED}; {@link Install#CHANGED} when the PD entry was not 0 (an
   * own table, a PS leaf or a link is there), and then nothing changed but the PDP and PD it may
   * have built; {@link Install#NO_MEMORY} when a PDP or PD could not be allocated, with nothing
   * changed.
   *
   * <p>The caller passes a 2 MiB-aligned user address and a frame of this memory flagged PTPAGE,
   * not free, whose owner ({@link PhysMem#owner}) is neither null nor this pmap, and that it
   * learned of after its owner published it (under a lock the owner took, or by an acquire load of
   * the owner's link, as {@link #ref} makes one). The owner keeps the table allocated, and at the
   * same frame, while any pmap links it (DragonFly held the PT page once per linking PD); no caller
   * links one table twice within one pmap (P1). Other calls may run meanwhile.
   *
   * @throws IllegalArgumentException if {@code va} or {@code table} is not such; nothing changed
   */
  public Install linkShared(long va, int table) {
    checkUserVa(va);
    checkAlive();
    checkSegment(va);
    if (table < 0
        || table >= mem.frames()
        || !mem.testFlag(table, PhysMem.PTPAGE)
        || mem.testFlag(table, PhysMem.FREE)
        || mem.owner(table) == null
        || mem.owner(table) == this) {
      throw new IllegalArgumentException(
          "table frame "
              + table
              + ": a shared table is a PTPAGE frame of this memory in use that someone other than"
              + " this pmap owns");
    }
    int pd = tableFor(va, Level.PD_NUMBER, false);
    if (pd < 0) {
      pd = grow(va, Level.PD);
      if (pd < 0) {
        return Install.NO_MEMORY;
      }
    }
    // The link stands for the PT page (P4): 1 resident, no table page.
    boolean linked = linkCounted(pd, Level.PD.index(va), Pte.sharedTable(table), 0, 1, 0);
    return linked ? Install.INSTALLED : Install.CHANGED; // failed CAS: an entry is there
  }

  /** What {@link #forEachSharedLink} calls for each link to a shared table. */
  @FunctionalInterface
  public interface LinkVisitor {
    /** Called with the 2 MiB-aligned address a link maps from and the shared table's frame. */
    void visit(long va, int table);
  }

  /**
   * Calls {@code v} with every link to a shared table in the PD entries that map part of [sva,
   * eva), in address order: a walk of the PDs only, skipping a missing PDP or PD in one step, so
   * that a range of terabytes costs its PDs, not its segments. Acquire loads; no snapshot while
   * links change.
   *
   * <p>The caller passes page-aligned user addresses with sva &lt;= eva &lt;= {@link
   * #USER_VA_LIMIT}; {@code v} may unlink the link it is given.
   */
  public void forEachSharedLink(long sva, long eva, LinkVisitor v) {
    checkRange(sva, eva);
    Objects.requireNonNull(v, "v");
    checkAlive();
    long va = Level.PD.base(sva);
    while (va < eva) {
      long next = Level.PDP.nextBoundary(va); // where the next PD's span begins
      int pd = tableFor(va, Level.PD_NUMBER, true);
      if (pd >= 0) {
        long end = Math.min(eva, next);
        for (long a = va; a < end; a += Level.PD.entryBytes()) {
          long e = mem.loadAcquire(pd, Level.PD.index(a));
          if (isSharedLink(e)) {
            v.visit(a, Pte.frame(e));
          }
        }
      }
      va = next;
    }
  }

  /**
   * The frame of the shared table that the PD entry for {@code va} links, or -1 when that entry is
   * no link to a shared table (0, an own PT, a PS leaf, or the PD is missing). Acquire loads, as
   * lookup's walk; linearizes at the load of the PD entry.
   *
   * <p>The caller passes a user address (it need not be aligned).
   */
  public int sharedTableAt(long va) {
    checkUserVa(va);
    checkAlive();
    long e = pdEntry(va);
    return isSharedLink(e) ? Pte.frame(e) : -1;
  }

  /**
   * Clears the PD entry for {@code va} if it links the shared table in frame {@code table}, and
   * answers whether it did: one CAS from {@code Pte.sharedTable(table)} to 0 (volatile; the
   * linearization point; a failed CAS means the entry holds something else, and nothing changed).
   * Takes the link's 1 resident off after the CAS (P4, P5). Never reads, changes or frees the
   * table: its leaves stay its owner's and every other sharer's (seed 001's munmap of one process's
   * view).
   *
   * <p>A walker that loaded the link before the CAS may still read the table afterwards, as a TLB
   * holds a translation until its shootdown; the owner keeps the table allocated (see {@link
   * #linkShared}), so that read is safe. A caller that needs no walk to outlast the unlink keeps
   * the walkers out (the implementation's map lock exclusive).
   *
   * <p>The caller passes a 2 MiB-aligned user address and a frame number ≥ 0. Other calls may run
   * meanwhile.
   *
   * @throws IllegalArgumentException if {@code va} or {@code table} is not such; nothing changed
   */
  public boolean unlinkShared(long va, int table) {
    checkUserVa(va);
    checkAlive();
    checkSegment(va);
    long link = Pte.sharedTable(table); // IllegalArgumentException for a negative frame
    int pd = tableFor(va, Level.PD_NUMBER, false);
    if (pd < 0 || !mem.cas(pd, Level.PD.index(va), link, 0)) {
      return false; // no PD, or its entry is something else: nothing to unlink
    }
    resident.decrement(); // after the CAS, as every removal (P5)
    return true;
  }

  /**
   * Replaces the link to a shared table in the PD entry for {@code va} by an own PT in frame {@code
   * fresh} that holds a copy of the shared table's 512 entries, and answers whether it did: seed
   * 001's private copy, for an address space that is about to change a leaf of the segment
   * (write-protect, wire, unmap part of it). The copy is made before anything changes, so nothing
   * can fail halfway: the frame is the caller's before the call (P7's deposit works so too).
   *
   * <p>In this order: copies every entry with an acquire load of the shared table and a plain store
   * into {@code fresh}, calling {@code copied.visit(va_i, leaf)} for each valid leaf in address
   * order right after its copy, BEFORE the link is replaced (the record-before-publication rule of
   * mmu.Mmu's essay: from the CAS on, the copy's leaves are this pmap's, and a clearer must find
   * their records); flags {@code fresh} PTPAGE and labels it as linkTable does (owner this pmap,
   * index va >>> 12); counts 1 table page, 1 resident per copied leaf and 1 wired per WIRED one;
   * then CASes the PD entry from the link to {@code Pte.table(fresh)} (volatile; its release half
   * publishes the copy and its label; the linearization point) and takes the link's 1 resident off
   * after it. Net: the link's 1 resident has become the PT page's, and the copied leaves count here
   * now (P4); the shared table and its owner's counts are untouched.
   *
   * <p>Answers false, with {@code fresh} freed and no count changed, when the PD entry for {@code
   * va} is no link to a shared table: then either before any visit (no link there when it looked),
   * or, when the link went or changed during the copy (the CAS failed), after every visit; the
   * caller undoes those visits then. Under the caller's requirements below the second cannot
   * happen; it is still handled. If {@code copied} throws, {@code fresh} is freed, nothing here
   * changed, and the exception propagates; the visits made so far are the caller's to undo.
   *
   * <p>The caller passes a 2 MiB-aligned user address; {@code fresh} a frame of this memory that it
   * allocated ({@link PhysMem#allocate}: no flags, no owner; its contents need not be zero, as
   * every entry is written) and gives up to the pmap; and a visitor that does not call back into
   * this pmap. It keeps every other change of this PD entry out (the implementation's map lock
   * exclusive, if every link, unlink and prune of it is made under that lock), and it makes sure
   * that no one changes the shared table's leaves while it copies: not this address space's faults
   * (the same map lock), and not the owner's nor another sharer's, which that lock does not keep
   * out (a lock of the owner's: the VM object's). A leaf changed there during the copy would leave
   * the copy mapping a frame the change unmapped.
   *
   * @throws IllegalArgumentException if {@code va} or {@code fresh} is not such; nothing changed
   *     and {@code fresh} is not freed
   */
  public boolean unshare(long va, int fresh, LeafVisitor copied) {
    checkUserVa(va);
    Objects.requireNonNull(copied, "copied");
    checkAlive();
    checkSegment(va);
    if (fresh < 0 || fresh >= mem.frames() || mem.flags(fresh) != 0 || mem.owner(fresh) != null) {
      throw new IllegalArgumentException(
          "frame "
              + fresh
              + ": unshare's table is a frame of this memory fresh from allocate(): no flags, no"
              + " owner");
    }
    int pd = tableFor(va, Level.PD_NUMBER, false);
    int idx = Level.PD.index(va);
    long link = pd < 0 ? 0 : mem.loadAcquire(pd, idx);
    if (!isSharedLink(link)) {
      mem.free(fresh);
      return false; // nothing to replace: no visit made
    }
    int shared = Pte.frame(link);
    long leaves = 0;
    long wiredLeaves = 0;
    try {
      for (int i = 0; i < ENTRIES; i++) {
        long leaf = mem.loadAcquire(shared, i);
        mem.store(fresh, i, leaf); // plain: the PD CAS below publishes the copy
        if (leaf != 0) {
          leaves++;
          if (Pte.isWired(leaf)) {
            wiredLeaves++;
          }
          copied.visit(va + ((long) i << PAGE_SHIFT), leaf); // before publication (Mmu's rule)
        }
      }
    } catch (RuntimeException | Error t) {
      mem.free(fresh); // not labelled yet, linked from nowhere
      throw t;
    }
    mem.setFlag(fresh, PhysMem.PTPAGE);
    label(fresh, va >>> PAGE_SHIFT);
    tables.add(1); // before the CAS: upper bounds (P5)
    resident.add(leaves + 1);
    wired.add(wiredLeaves);
    if (mem.cas(pd, idx, link, Pte.table(fresh))) { // linearization point
      resident.decrement(); // the link's 1, after the CAS as every removal (P4, P5)
      return true;
    }
    // Failed CAS: the link went or changed during the copy, which the caller's lock should have
    // kept out. The copy was never published: give everything back.
    tables.add(-1);
    resident.add(-(leaves + 1));
    wired.add(-wiredLeaves);
    mem.free(fresh); // drops PTPAGE and the owner (PhysMem.free)
    return false;
  }

  /** Checks that {@code va} is where a PD entry maps from, a 2 MiB boundary. No requirements. */
  private static void checkSegment(long va) {
    if (Level.PD.base(va) != va) {
      throw new IllegalArgumentException(
          "va " + hex(va) + ": a PD entry maps from a 2 MiB boundary");
    }
  }

  // ---------------------------------------------------------------- Invariants

  /**
   * Walks the whole tree and checks invariants P1–P4 of the class essay, PS leaves and links to
   * shared tables included (PmapChecker). Never repairs anything.
   *
   * <p>The caller makes sure no other call on this pmap, and no allocation or free of its frames,
   * is in flight.
   *
   * @throws IllegalStateException naming the address and level where the tree is wrong, or the
   *     counter that differs and by how much
   */
  public void checkInvariants() {
    PmapChecker.check(this);
  }

  // ---------------------------------------------------------------- Internals

  /**
   * The frame of the table of the level numbered {@code number} (Level.number) that holds the entry
   * for {@code va}, or -1 if a table on the way is missing: the root for PML4, and one acquire load
   * per level below it. With {@code throughShared}, a reader's walk, it walks through a link to a
   * shared table (lookup, P6) and answers {@link #SUPERPAGE} at a PS leaf on the way; without, a
   * changer's walk, it refuses a shared table and demotes a PS leaf on the way (P7), going on into
   * the table the demotion linked.
   *
   * <p>The fault path's walk, so it costs what the old hand-unrolled one did (see fastWalk); what
   * is rare, a PS leaf or a shared table on the way, is walked again from the root by rareWalk. The
   * second walk answers the tree as it is at its own loads: entries change while a walk may run
   * only by single CASes (0 to a link, a PS leaf to its deposit's link, a shared link to 0 or to an
   * own copy; prune and release run alone), so its answer is as good as the first's would have
   * been.
   *
   * @throws IllegalStateException if without {@code throughShared} a shared table lies on the way
   *     (P6); or an entry that is neither 0 nor a link (a broken tree)
   */
  private int tableFor(long va, int number, boolean throughShared) {
    int t = fastWalk(va, number);
    return t != RARE ? t : rareWalk(va, number, throughShared, !throughShared);
  }

  /**
   * A filler's walk to the PT for {@code va} (install or compareAndSet from 0, reserveTable): as a
   * changer's, but answering {@link #SUPERPAGE} at a PS leaf instead of demoting it, since the page
   * has a leaf there already and a fill from 0 would fail anyway (P7). So a fault that raced the
   * wiring fast path and lost leaves its 2 MiB leaf whole.
   */
  private int fillerTable(long va) {
    int t = fastWalk(va, Level.PT_NUMBER);
    return t != RARE ? t : rareWalk(va, Level.PT_NUMBER, false, false);
  }

  /** What fastWalk answers when it meets an entry that is neither 0 nor a link to an own table. */
  private static final int RARE = -2;

  /** What a reader's tableFor answers when a 2 MiB PS leaf maps the address. */
  private static final int SUPERPAGE = -3;

  /**
   * tableFor's fast path: the table's frame, -1 (missing) or {@link #RARE}. It counts level numbers
   * in an int and indexes by Level.indexOf, arithmetic the JIT unrolls into constants (a loop over
   * Level's fields would load them after each acquire, see Level's essay); and it tells a link to
   * an own table from everything else, 0 included, by one test of the entry already loaded: P set,
   * PS and SHARED_TABLE clear (LINK_TEST), as the old walk tested for 0. Every exit leaves the loop
   * with a constant: a call to the rare path inside the loop cost lookup 0.4 ns in the harness of
   * Level's essay. No allocation, no virtual dispatch, no load of an owner.
   */
  private int fastWalk(long va, int number) {
    int t = root;
    for (int n = Level.TOP_NUMBER; n > number; n--) {
      long e = mem.loadAcquire(t, Level.indexOf(n, va));
      if ((e & LINK_TEST) != Pte.P) {
        return e == 0 ? -1 : RARE;
      }
      t = Pte.frame(e);
    }
    return t;
  }

  /**
   * tableFor's rare path: the same walk from the root with every test, going on through a link to a
   * shared table if {@code throughShared}, refusing everything else that is not 0 or a link to an
   * own table.
   */
  private int rareWalk(long va, int number, boolean throughShared, boolean demoting) {
    int t = root;
    for (int n = Level.TOP_NUMBER; n > number; n--) {
      int idx = Level.indexOf(n, va);
      long e = mem.loadAcquire(t, idx);
      if (e == 0) {
        return -1;
      }
      if (Pte.isSuperpage(e) && n == Level.PD_NUMBER) {
        if (!demoting) {
          return SUPERPAGE; // a reader or a filler: its caller deals with the PS leaf itself
        }
        e = demote(t, idx, e, Level.PD.base(va)); // a changer: 4 KiB leaves from here on (P7)
        if (e == 0) {
          return -1;
        }
      }
      if ((e & LINK_TEST) != Pte.P && !(throughShared && isSharedLink(e))) {
        throw refusedOnTheWay(n, idx, va, e);
      }
      t = Pte.frame(e);
    }
    return t;
  }

  /**
   * The PD entry for {@code va} as an acquire load, 0 if the PD is missing. A PD entry is never
   * below a PS leaf (no 1 GiB pages, P3), so the walk to the PD meets none.
   */
  private long pdEntry(long va) {
    int pd = tableFor(va, Level.PD_NUMBER, true);
    return pd < 0 ? 0 : mem.loadAcquire(pd, Level.PD.index(va));
  }

  /**
   * Demotes the PS leaf {@code pde} in entry {@code idx} of PD {@code pd}, which maps from {@code
   * base}: one CAS replaces it by a link to its deposit, the PT that already holds its 512 leaves
   * (P7), so no frame is allocated and nothing can fail halfway; the counts stay as they are (the
   * deposit counted as a table page from the PS leaf's install, its leaves as the PS leaf's 512
   * pages). Answers the entry now there, never a PS leaf: the link, or what a concurrent changer
   * left (another demotion's link). Lock-free, like every change here; linearizes at the CAS.
   */
  private long demote(int pd, int idx, long pde, long base) {
    long e = pde;
    while (Pte.isSuperpage(e)) {
      Integer deposit = deposits.get(base);
      if (deposit == null) {
        long now = mem.loadAcquire(pd, idx);
        if (now == e) {
          throw new IllegalStateException(
              "PS leaf " + Pte.toString(e) + " at va " + hex(base) + " has no deposit (P7)");
        }
        e = now; // demoted meanwhile by another changer, who took the deposit out of the map
        continue;
      }
      long link = Pte.table(deposit);
      if (mem.cas(pd, idx, e, link)) {
        deposits.remove(base, deposit);
        superpages.decrement();
        demotions.increment();
        return link;
      }
      e = mem.loadAcquire(pd, idx); // another changer demoted it first
    }
    return e;
  }

  /**
   * Entry {@code e}, entry {@code idx} of table {@code t} of level {@code l} on a changer's way to
   * {@code va}: demoted first if it is a PS leaf (P7), as it is otherwise.
   */
  private long settle(int t, int idx, long e, Level l, long va) {
    return l == Level.PD && Pte.isSuperpage(e) ? demote(t, idx, e, l.base(va)) : e;
  }

  /**
   * The index of {@code va}'s leaf in its PT, {@code Level.PT.index(va)} by arithmetic alone: on
   * the fault path the enum's field load, after the walk's acquire loads, cost lookup 0.3 ns (the
   * harness of Level's essay).
   */
  private static int ptIndex(long va) {
    return Level.indexOf(Level.PT_NUMBER, va);
  }

  /** tableFor's refusal of entry {@code e}, index {@code idx} at level number {@code n}. */
  private IllegalStateException refusedOnTheWay(int n, int idx, long va, long e) {
    Level l = Level.of(n);
    return refused(l, idx, l.base(va), e, ownerOf(e), "change a leaf");
  }

  /**
   * The bits tableFor tests to tell a link to an own table (P alone of the three) from 0, a PS
   * leaf, a shared-table link or a broken entry.
   */
  private static final long LINK_TEST = Pte.P | Pte.PS | Pte.SHARED_TABLE;

  /** Whether {@code e} is a link to a shared table: present, SHARED_TABLE, not PS. */
  private static boolean isSharedLink(long e) {
    return (e & LINK_TEST) == (Pte.P | Pte.SHARED_TABLE);
  }

  /** For messages: the owner of the table {@code e} links, or null if it is no link. */
  private Object ownerOf(long e) {
    int f = Pte.frame(e);
    return Pte.isSuperpage(e) || f >= mem.frames() ? null : mem.owner(f);
  }

  /**
   * Why an operation refuses entry {@code idx} of level {@code level}, which maps from {@code va}
   * and is {@code e}: a PS leaf or a shared-table link (P6), or neither 0 nor a link (a broken
   * tree). {@code owner} is the linked table's owner, for the message; {@code what} is what the
   * operation would do in a shared table. No requirements.
   */
  private static IllegalStateException refused(
      Level level, int idx, long va, long e, Object owner, String what) {
    String where = level + " entry " + idx + " (va " + hex(va) + ")";
    if (Pte.isSuperpage(e)) {
      return new IllegalStateException(
          where
              + " is a PS leaf "
              + Pte.toString(e)
              + ": this walk neither demotes nor reads through one (P7: changers demote, readers"
              + " read through, release refuses, prune leaves it)");
    }
    if (isSharedLink(e)) {
      return new IllegalStateException(
          where
              + " links table frame "
              + Pte.frame(e)
              + " of "
              + owner
              + ", a shared table: no pmap operation may "
              + what
              + " in one (P6: its leaves are its owner's; unshare makes them this pmap's own,"
              + " unlinkShared drops the link)");
    }
    return new IllegalStateException(
        where + " is " + Pte.toString(e) + ", neither 0 nor a table link: checkInvariants tells");
  }

  /**
   * Makes the tables down to the table of level {@code level} for {@code va} exist and returns that
   * table's frame, or -1 with nothing changed when memory ran out. See "Out of memory" in the class
   * essay.
   */
  private int grow(long va, Level level) {
    // Pass 1: how many tables are missing below the deepest one present (an upper bound of what
    // pass 2 installs, since tables never disappear).
    int missing = 0;
    int t = root;
    for (Level l = Level.TOP; l != level; l = l.below()) {
      int idx = l.index(va);
      long e = settle(t, idx, mem.loadAcquire(t, idx), l, va);
      if (e == 0) {
        missing = l.number() - level.number(); // one table per level from l's child down
        break;
      }
      if ((e & LINK_TEST) != Pte.P) {
        throw refused(l, idx, l.base(va), e, ownerOf(e), "link a table"); // nothing allocated yet
      }
      t = Pte.frame(e);
    }
    if (missing == 0) {
      return t; // another thread built the path since our caller looked
    }
    int[] spare = new int[missing];
    for (int i = 0; i < missing; i++) {
      spare[i] = mem.allocate();
      if (spare[i] < 0) {
        for (int j = 0; j < i; j++) {
          mem.free(spare[j]);
        }
        return -1;
      }
      mem.setFlag(spare[i], PhysMem.PTPAGE);
    }
    // Pass 2: install top down, racing other threads that extend the same path.
    int used = 0;
    t = root;
    for (Level l = Level.TOP; l != level; l = l.below()) {
      int idx = l.index(va);
      long e = mem.loadAcquire(t, idx);
      if (e == 0) {
        if (used == missing) {
          throw new IllegalStateException("table for va " + hex(va) + " vanished during enter");
        }
        e = linkTable(t, idx, spare[used], l.base(va)); // the child maps what the entry maps
        if (e == Pte.table(spare[used])) {
          used++;
        }
      }
      e = settle(t, idx, e, l, va); // a 2 MiB leaf put here since pass 1 is demoted too
      if (e == 0) {
        throw new IllegalStateException("table for va " + hex(va) + " vanished during enter");
      }
      if ((e & LINK_TEST) != Pte.P) {
        // Only a linkShared racing us could put a shared table here (P6); give back what we did
        // not link, then refuse it.
        for (int i = used; i < missing; i++) {
          mem.free(spare[i]);
        }
        throw refused(l, idx, l.base(va), e, ownerOf(e), "link a table");
      }
      t = Pte.frame(e);
    }
    for (int i = used; i < missing; i++) {
      mem.free(spare[i]);
    }
    return t;
  }

  /**
   * Links the fresh table in frame {@code fresh}, which will map from {@code base}, under the entry
   * {@code idx} of table {@code parent}, if that entry is still 0: the one way a table enters the
   * tree. Labels it (owner this pmap, index base >>> 12), counts it BEFORE the CAS (counters stay
   * upper bounds, P5), CASes the entry from 0 (release: publishes the zeroed, labelled table; the
   * linearization point of the table's appearance) and undoes the count if the CAS lost. Returns
   * the entry now in the slot: {@code Pte.table(fresh)} when ours went in, the winner's otherwise
   * (an acquire load after the failed CAS); on a loss {@code fresh} stays the caller's.
   *
   * <p>The caller allocated {@code fresh}, zeroed (PhysMem.allocate) and flagged PTPAGE, and links
   * nothing else into it before this returns.
   */
  private long linkTable(int parent, int idx, int fresh, long base) {
    label(fresh, base >>> PAGE_SHIFT);
    long ne = Pte.table(fresh);
    if (linkCounted(parent, idx, ne, 1, 1, 0)) {
      if (config.doubleCountTables()) {
        resident.increment(); // injected bug: counted twice
      }
      return ne;
    }
    // Lost: another thread installed a table here first. The caller uses the winner's; ours stays
    // spare for the next level down or is freed.
    tableRaceLosses.increment();
    return mem.loadAcquire(parent, idx);
  }

  /**
   * Stores {@code e} in entry {@code idx} of table {@code parent} if it is 0, with its counts: adds
   * them BEFORE the CAS (counters stay upper bounds, P5), CASes (volatile; release publishes
   * whatever {@code e} points to; the linearization point of the entry's appearance) and takes them
   * back if the CAS failed, which means another thread stored an entry there first. Returns whether
   * {@code e} went in. The one way a non-leaf entry enters the tree from 0: new tables through
   * linkTable, PS leaves through enterSuperpage, links to shared tables through linkShared.
   *
   * <p>The caller has made {@code e} ready to be seen (a table zeroed and labelled).
   */
  private boolean linkCounted(
      int parent, int idx, long e, long addTables, long addResident, long addWired) {
    tables.add(addTables);
    resident.add(addResident);
    wired.add(addWired);
    if (mem.cas(parent, idx, 0, e)) {
      return true;
    }
    tables.add(-addTables);
    resident.add(-addResident);
    wired.add(-addWired);
    return false;
  }

  /** Records this pmap as the owner of table frame {@code f}, which maps from page {@code idx}. */
  private void label(int f, long pageIndex) {
    if (!mem.tryBusy(f)) {
      throw new IllegalStateException("fresh table frame " + f + " is busy: someone else holds it");
    }
    mem.setOwner(f, this, pageIndex);
    mem.unbusy(f);
  }

  /**
   * CAS of one leaf with the counters kept as upper bounds: increments before, decrements after.
   * Returns whether the CAS succeeded; if not, the counters are as before.
   */
  private boolean casLeaf(int pt, int idx, long expect, long update) {
    boolean fills = expect == 0 && update != 0;
    boolean wires = !Pte.isWired(expect) && Pte.isWired(update);
    if (fills) {
      resident.increment();
    }
    if (wires) {
      wired.increment();
    }
    if (mem.cas(pt, idx, expect, update)) { // linearization point of the leaf change
      if (expect != 0 && update == 0) {
        resident.decrement();
      }
      if (Pte.isWired(expect) && !Pte.isWired(update)) {
        wired.decrement();
      }
      return true;
    }
    if (fills) {
      resident.decrement();
    }
    if (wires) {
      wired.decrement();
    }
    return false;
  }

  /** Clears one leaf by a CAS loop; returns the old leaf, 0 if there was none. */
  private long clearLeaf(int pt, int idx) {
    for (; ; ) {
      long old = mem.loadAcquire(pt, idx);
      if (old == 0 || casLeaf(pt, idx, old, 0)) {
        return old;
      }
      // Failed CAS: the leaf changed since our load; retry with its new value.
    }
  }

  /**
   * What {@link #walk} does: {@link #apply} at each PT slot of an own PT, and at an entry that is
   * not a link to an own table, {@link #superpage} or {@link #sharedTable}, which refuse it (P6)
   * unless the walk's owner says otherwise. Each answers true to stop the walk; false goes on, past
   * all that the entry maps.
   */
  @FunctionalInterface
  private interface SlotAction {
    /** At slot {@code idx} of the own PT {@code pt}, which maps page {@code va}. */
    boolean apply(int pt, int idx, long va);

    /** At entry {@code idx} of level {@code level}, a PS leaf {@code e} mapping from {@code va}. */
    default boolean superpage(Level level, int idx, long va, long e) {
      throw refused(level, idx, va, e, null, "visit or change a leaf");
    }

    /**
     * At entry {@code idx} of level {@code level}, a link {@code e} mapping from {@code va} to a
     * table that {@code owner} owns, not this pmap.
     */
    default boolean sharedTable(Level level, int idx, long va, long e, Object owner) {
      throw refused(level, idx, va, e, owner, "visit or change a leaf");
    }
  }

  /**
   * Calls {@code action} for every PT slot of [sva, eva) whose PT exists and is this pmap's, in
   * address order; skips the span of a missing table at any level in one step, and hands an entry
   * that is a PS leaf or links a shared table to the action (P6) before it skips that entry's span.
   * Returns true if the action stopped the walk.
   */
  private boolean walk(long sva, long eva, SlotAction action) {
    return walk(sva, eva, action, false);
  }

  /**
   * {@link #walk(long, long, SlotAction)}, demoting each PS leaf on the way first when {@code
   * demoting} (protect and removeRange: a changer's walk, P7), so that the action sees the 512
   * slots of its deposit instead of the leaf.
   */
  private boolean walk(long sva, long eva, SlotAction action, boolean demoting) {
    long va = sva;
    descend:
    while (va < eva) {
      int t = root;
      for (Level l = Level.TOP; l != Level.PT; l = l.below()) {
        int idx = l.index(va);
        long e = mem.loadAcquire(t, idx);
        if (demoting) {
          e = settle(t, idx, e, l, va);
        }
        if (e == 0) {
          va = l.nextBoundary(va); // nothing below this entry: skip all it maps
          continue descend;
        }
        if ((e & LINK_TEST) != Pte.P) { // a PS leaf, a shared table, or a broken entry
          boolean stop;
          if (Pte.isSuperpage(e)) {
            stop = action.superpage(l, idx, l.base(va), e);
          } else if (isSharedLink(e)) {
            stop = action.sharedTable(l, idx, l.base(va), e, ownerOf(e));
          } else {
            throw refused(l, idx, l.base(va), e, null, "walk");
          }
          if (stop) {
            return true;
          }
          va = l.nextBoundary(va); // past all the entry maps
          continue descend;
        }
        t = Pte.frame(e);
      }
      long end = Math.min(eva, Level.PD.nextBoundary(va)); // the rest of this PT
      for (; va < end; va += PAGE_SIZE) {
        if (action.apply(t, Level.PT.index(va), va)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Frees the own table in {@code f} of level {@code level} and every own table below it, adding
   * them to {@code tally[0]}; clears every link to a shared table without freeing or reading that
   * table (P6), adding them to {@code tally[1]}. PT entries are not read: release found none.
   *
   * <p>The caller is release(), which found no leaf, 2 MiB ones included, and runs alone.
   */
  private void freeTree(int f, Level level, long[] tally, boolean keep) {
    if (level != Level.PT) {
      for (int i = 0; i < ENTRIES; i++) {
        long e = mem.loadAcquire(f, i);
        if (e == 0) {
          continue;
        }
        if (Pte.isSuperpage(e)) {
          // release's walk stops at every PS leaf, so this is a broken tree; never free its frames.
          throw new IllegalStateException(
              "release found "
                  + level
                  + " entry "
                  + i
                  + " of table frame "
                  + f
                  + " a PS leaf "
                  + Pte.toString(e)
                  + " after its walk saw none: not freeing its frames");
        }
        int child = Pte.frame(e);
        if (isSharedLink(e) || mem.owner(child) != this) { // either says: not ours to free
          mem.storeRelease(f, i, 0); // unlink only: the owner frees it (seed 001)
          tally[1]++;
        } else {
          freeTree(child, level.below(), tally, false);
        }
      }
    }
    if (keep) {
      return; // injected bug EXIT_LEAKS_ROOT_TABLE: the PML4 is left to no one
    }
    mem.free(f);
    tally[0]++;
  }

  private void checkAlive() {
    if (released) {
      throw new IllegalStateException("pmap used after release()");
    }
  }

  private void checkLeaf(long pte, String what) {
    PmapArgs.checkLeaf(pte, what, mem.frames());
  }

  /** Whether {@link #release} ran; read by the checker. The caller keeps the pmap quiescent. */
  boolean isReleased() {
    return released;
  }

  /** Names this pmap in messages by its root frame. No requirements. */
  @Override
  public String toString() {
    return "Pmap[pml4 frame " + root + "]";
  }
}
