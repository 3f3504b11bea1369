package org.vmoracle.impl.core;

/**
 * Injected bugs: named faults that can be switched on in the implementation ({@link
 * Config#withBug}), each after a real class of VM bug, so that the checks can show they catch them
 * (the "zoo"). None is on by default; every one must make some check fail.
 */
public enum Bug {
  /**
   * Two threads zero-filling the same page both install their page: the later insert overwrites the
   * earlier, losing whatever was stored through it (the classic lost zero-fill race; what the busy
   * protocol and {@code putIfAbsent} prevent).
   */
  LOST_ZERO_FILL_RACE,

  /**
   * Faults do not wait for a change of the map to finish: the shared side of the map lock lets
   * readers in while a writer holds it (a missing lock around a structure the fault path reads).
   */
  UNLOCKED_FAULTS,

  /**
   * A collapse cuts the terminal file object from the chain too (seed 000: what DragonFly's
   * vm_fault_collapse did before the "retain backing vnodes" work), so uncopied pages of a private
   * file mapping read as zeros.
   */
  COLLAPSE_DROPS_FILE,

  /**
   * exec and exit remove the shared page from an address space before checking that no other
   * process still uses it (seed 002: D32569's review asks to remove it only after the last
   * reference).
   */
  SHARED_PAGE_REMOVED_WHILE_SHARED,

  /** munmap removes the entries but leaves their PTEs (a stale TLB/PTE after unmap). */
  STALE_PTE_AFTER_MUNMAP,

  /**
   * fork marks the parent's private ranges copy-on-write but leaves their PTEs writable, so the
   * parent's next stores land in pages the child still reads (the classic fork bug that write
   * protection on fork exists to prevent; kernels.md R12).
   */
  FORK_NO_WRITE_PROTECT,

  /**
   * The pmap counts every new page-table page twice in its resident count (seed 002: the review of
   * FreeBSD D32569 turned on exactly which pages the count holds, since the early return of
   * pmap_remove trusts it).
   */
  DOUBLE_COUNTED_PT_PAGES,

  /**
   * A read fault of a private copy of shared anonymous memory (INH-4) that finds the page nowhere
   * in its chain zero-fills it in the copy's front, as it would for private anonymous memory,
   * instead of taking it from the shared object: later stores through the shared mappings never
   * show in the copy. (The first implementation had it: it told private from shared anonymous
   * memory by the object's kind alone.)
   */
  SHARED_ANON_COPY_FILLS_PRIVATELY,

  /**
   * The PTE writer drops a frame's wire only when a wired leaf is cleared, not when it is replaced
   * by a leaf of another frame (a copy-on-write of a wired page, collapse re-pointing a wired PTE):
   * the old frame stays wired with nothing mapping it, and pageout never evicts it. The bug a
   * single writer of PTEs is most likely to have: its callers used to keep wire counts themselves,
   * each for its own transition, and one rule must now cover them all.
   */
  WIRE_KEPT_ON_REPOINT,

  /**
   * Pte chains ({@code Config.Rmap.PTECHAIN}): a removal from a node behind the head moves the
   * head's first used slot into the victim's place but clears the head slot before it has read it,
   * so the PTE that slot named drops out of the chain (seed 004's "removal moves the head pte of
   * the head member onto the victim": two stores whose order matters). Pageout then cannot find
   * that PTE and frees a frame it still maps.
   */
  CHAIN_HEAD_MOVE_DROPS,

  /**
   * pv entries ({@code Config.Rmap.PV}): munmap of part of an entry clears the PTEs of the range
   * but frees no pv entry for them (a pmap_remove that skips the pv lists when the range is not a
   * whole entry), so the page's list names PTEs that are gone, or that now map another page.
   */
  PV_LEFT_ON_PARTIAL_MUNMAP,

  /**
   * pv entries ({@code Config.Rmap.PV}): a fault adds its pv entry to the page's list without the
   * page's list lock, so two PTEs of one page made at once (two processes faulting one shared page)
   * can lose one of the entries: a race, for the concurrent checks.
   */
  PV_UNLOCKED_INSERT,

  /**
   * The wiring fast path (seed 003) puts its 512 frames into the object and lets go of their busy
   * bits before it has zeroed them, so that for the moment the zeroing takes a fault by another
   * thread (the map lock is downgraded to shared then) finds a page that is in the object, not busy
   * and not yet valid, maps it and reads what the frame's last user left there. The review of
   * FreeBSD D43594 objected exactly to this: wired, invalid, unbusied pages that collapse, pageout
   * or a fault can see. A race, for the concurrent checks.
   */
  FAST_WIRE_EXPOSES_INVALID,

  /**
   * The table deposited for a 2 MiB PS leaf, which its demotion links in one CAS, is filled one
   * page short: the segment's last page. Demotion (by munmap, mprotect or munlock of part of the
   * segment, by fork's write-protect, by a fault) then loses that page's PTE while its frame keeps
   * the wire the PS leaf held, and the reverse map's record of it names an empty slot.
   */
  DEMOTION_LOSES_PAGE,

  /**
   * Segment page-table sharing (seed 001) takes a private mapping of a shared object for a sharer
   * too, when its segment is aligned: its faults go through the object's shared table, so the page
   * a copy-on-write fault copies for one process is what every process sharing that table reads (no
   * shared table may be reachable from a copy-on-write mapping).
   */
  SHARED_TABLE_UNDER_COW,

  /**
   * munmap of a segment whose table is shared (seed 001) clears the table's leaves as if they were
   * its own, instead of only unlinking the table from its PD: every sharer loses its translations,
   * and the object's pmap keeps counting leaves that are gone.
   */
  UNMAP_CLEARS_SHARED_TABLE,

  /**
   * A copy-on-write fault makes its PTEs (the writable one, and the read-only ones it cleared in
   * other members) before it has copied the page into the new frame: another thread of the address
   * space that loads through the new PTE meanwhile reads zeros, or a half-made copy (a PTE
   * published before the page contents are written: the ordering bug behind Linux's "mm: fix
   * missing wmb" fixes). A race, for the controlled concurrent hunt.
   */
  COPY_PUBLISHED_BEFORE_FILL,

  /**
   * A store fault that needs a new copy-on-write front (after a fork) pushes it under the shared
   * map lock instead of the exclusive one: two threads storing at once both build their front on
   * the old chain, and the first one's front, with the page it copied and stored into, is lost
   * (DragonFly and FreeBSD take the map lock exclusive for vm_map_entry_shadow for this reason). A
   * race.
   */
  COW_FRONT_UNDER_SHARED_LOCK,

  /**
   * mprotect that takes write permission away write-protects the PTEs of every entry of the range
   * but the wired ones, as if wired pages had to stay mapped exactly as they were: a wired range
   * made read-only keeps writable PTEs, and stores through them land without a fault (PROT-2). The
   * class of every "downgrade left a writable PTE" bug (Linux's change_protection paths, BSD's
   * pmap_protect callers). The lockstep sees a store answer {@code ok} where the model says SEGV,
   * and the invariant checker a writable PTE in a read-only entry.
   */
  MPROTECT_SKIPS_WIRED,

  /**
   * A file's shrink unmaps and frees the file's own pages past the new end but not the private
   * copies of them in the chains over the file (Linux's {@code unmap_mapping_range} with {@code
   * even_cows=0}, the call truncate_pagecache makes twice because the first cannot catch every COW
   * page). Accesses past the end still give BUS, since the fault looks at the file's size first;
   * but when the file grows again, a page a private mapping had copied shows the old copy instead
   * of the file's zeros (FILE-8).
   */
  TRUNCATE_KEEPS_PRIVATE_COPIES,

  /**
   * Pageout's clock does not skip wired frames: a wired page is unmapped and sent to swap or its
   * file like any other, so a wired range has pages with no PTE (SYS-3, WIRE-1; what a lost or
   * ignored wire count does in any kernel). Contents come back on the next fault, so only the
   * invariant checker sees it: a wired entry with no wired PTE.
   */
  PAGEOUT_EVICTS_WIRED,

  /**
   * mlock wires entry by entry and checks each one only when it gets there: at a range with
   * protection {@code none} or a page past the end of its file it answers ENOMEM, leaving the
   * entries before it wired (WIRE-5, WIRE-12, DEV-4). What Linux does (VM_LOCKED stays on the VMAs
   * before the failure) and what BSD's vm_map_wire rolls back (kernels.md R26); here a failed
   * operation must change nothing (ERR-1), and the view shows the wired lines.
   */
  MLOCK_NO_ROLLBACK,

  /**
   * fork handles a wired, writable private range like any other, marking it copy-on-write instead
   * of copying it for the child (FORK-3), and the write-protect of the parent's group skips the
   * wired PTEs, since a wired page must not fault: the parent's stores then land in pages the child
   * still reads. The class of Linux's fork of pinned pages (CVE-2020-29374, fixed by copying pinned
   * pages at fork, "mm: Do early cow for pinned pages during fork()"), and the reason BSD's
   * vm_map_copy_entry copies wired entries eagerly.
   */
  FORK_SKIPS_WIRED_COPY,

  /**
   * A file page read in by a fault lands on a frame the pool did not zero (the fault asks for one
   * it will fill itself, as FreeBSD skips pmap_zero_page for a page about to be read), but the read
   * stores only the disk's nonzero words: the zero words of the file show what the frame's last
   * user left there, a leak of one process's data into another's view of a file (FILE-6, FILE-7).
   */
  FILE_READ_ONTO_DIRTY_FRAME,

  /**
   * Tearing a pmap down at exit or exec frees every page-table page below the PML4 and leaves the
   * PML4 itself to a caller that never frees it (the top level is allocated apart from the tree, as
   * Linux's pgd_alloc/pgd_free and BSD's pmap_pinit/pmap_release pair it, and a teardown that frees
   * the tree alone leaks it): every exit leaks one page-table page, which the invariant checker
   * sees as a frame used by no live pmap or object.
   */
  EXIT_LEAKS_ROOT_TABLE,

  /**
   * Clipping a shared entry (munmap or mprotect of part of it) makes the new upper piece but does
   * not put it on its object's list of users (DragonFly's backing list, which vm_map_clip_start
   * must attach the new entry to): what walks the object's users misses it, and when the lower
   * piece goes the object looks unused and its pages are freed under the upper piece's PTEs. The
   * invariant checker sees the list short of a user; accesses see freed frames.
   */
  CLIP_LEAVES_USER_OFF_LIST,

  /**
   * Collapse pulls a swapped page up into the front by moving its swap slot there instead of
   * copying the page, while the level below still names the slot too: one slot, two owners, and no
   * count. When the level below goes (dead after the collapse, or torn down later) its slot is
   * freed and reused by the next pageout before the front's page is read back, or the front's
   * swap-in frees it under the other. The class of Linux's swap-slot use-after-free bugs (a swap
   * entry copied without swap_duplicate, its count reaching zero while another still held it); the
   * invariant checker sees more references than slots in use, accesses another page's words.
   */
  COLLAPSE_SHARES_SWAP_SLOT,

  /**
   * A read fault that maps a page found deeper in the chain does not look again, after its PTE is
   * in, whether a level above has gained the page meanwhile (a copy-on-write by another thread of
   * the group): its read-only PTE then shows the page the copy shadows, and later stores into the
   * copy never show through it (the re-check that installDeep's Dekker handshake exists for). A
   * race.
   */
  DEEP_INSTALL_SKIPS_RECHECK,
}
