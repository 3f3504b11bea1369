package org.vmoracle.impl.map;

import java.util.Objects;
import org.vmoracle.spec.Boot;

/**
 * The page tables an object keeps for the address spaces that share them (seed 001): DragonFly's
 * 2012 segment optimization stores "a truncated pmap (PD, PT, and PTEs) in the VM object itself",
 * and every process that maps a whole, aligned segment of the object links the segment's PT from
 * its own PD.
 *
 * <h2>Overview</h2>
 *
 * Two object pmaps, one whose leaves are writable (for read-write mappings) and one whose leaves
 * are read-only (for read-only ones): a leaf's W bit is the mapping's, and a sharer links the table
 * of its mapping's protection. Each is the pmap of an address space of its own that no process runs
 * in, holding one pseudo-entry ({@link #rw}, {@link #ro}): a shared mapping of the whole object
 * from address 0, so that page {@code i} of the object sits at address {@code i * 4 KiB}. The
 * pseudo-entries are users of the object, as any shared mapping is: the reverse map finds a page's
 * PTE in a shared table through them, once, whatever the number of sharers; the sharers' own
 * entries stay users too, but their probes skip a segment whose table they only link.
 *
 * <h2>Lifetime</h2>
 *
 * Made under the exclusive map lock when the first shareable mapping of the object is made; kept
 * while the object lives, so that the tables survive the processes (a new sharer of a file or a
 * segment with a key finds its pages present); torn down with the object's pages when nothing but
 * the pseudo-entries uses it ({@code Teardown}). Tables of an object pmap are never pruned, so a
 * table a sharer links stays allocated while it is linked.
 *
 * <h2>Invariants</h2>
 *
 * S1. Every leaf of an object pmap maps the frame of the object's page at that index, and none is
 * WIRED (wiring is per mapping: a wired sharer has a private copy). S2. A sharer's PD entry links
 * only the table of its own entry's object and protection for that segment, from a shared entry
 * that maps the whole segment, aligned, unwired: no shared table is reachable from a copy-on-write
 * mapping. The implementation's invariant checker verifies both.
 *
 * <p>Lock order: none of its own; its fields are constant.
 */
public final class SharedTables {
  /** 4 KiB pages in a 2 MiB segment, the span of one PT page. */
  public static final long SEGMENT_PAGES = 512;

  /** The pseudo-entry whose pmap holds the tables of read-write sharers. */
  public final MapEntry rw; // (c)

  /** The pseudo-entry whose pmap holds the tables of read-only sharers. */
  public final MapEntry ro; // (c)

  /** The tables behind {@code rw} and {@code ro}, two shared entries of the whole object. */
  public SharedTables(MapEntry rw, MapEntry ro) {
    this.rw = Objects.requireNonNull(rw, "rw");
    this.ro = Objects.requireNonNull(ro, "ro");
  }

  /** The pseudo-entry whose tables a mapping that is {@code writable} or not links. */
  public MapEntry forProt(boolean writable) {
    return writable ? rw : ro;
  }

  /**
   * Whether the segment of {@code e} at {@code seg} (2 MiB aligned) may link its object's shared
   * table: {@code e} maps an object with shared tables directly, unwired and accessible, and maps
   * the segment whole, at a 2 MiB-aligned page of the object (S2). No requirements.
   */
  public static boolean shareable(MapEntry e, long seg) {
    VmObject o = e.object;
    return o != null && o.tables != null && !e.wired && e.prot.canRead() && mapsWhole(e, seg);
  }

  /**
   * Whether {@code e} maps the 2 MiB segment at {@code seg} (2 MiB aligned) whole, from a 2
   * MiB-aligned page of what it maps: the shape a shared table needs, whatever else {@link
   * #shareable} asks. No requirements.
   */
  public static boolean mapsWhole(MapEntry e, long seg) {
    return seg >= e.start && seg + Boot.SEGMENT_SIZE <= e.end && e.index(seg) % SEGMENT_PAGES == 0;
  }

  /** Whether {@code e} is one of the two pseudo-entries. No requirements. */
  public boolean isPseudo(MapEntry e) {
    return e == rw || e == ro;
  }
}
