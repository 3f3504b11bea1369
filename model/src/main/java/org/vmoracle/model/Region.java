package org.vmoracle.model;

import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;

/**
 * One mapping of an address space: {@code pages} pages from {@code start}, showing pages {@code
 * pgoff…} of object {@code obj}. A shared mapping's object is the file, segment, shared anonymous
 * object or shared page itself; a private mapping's object is always its own private overlay
 * ({@link Obj.Kind#PRIVATE_OVERLAY}), which may be shared with a child by {@code share} inheritance
 * (INH-2).
 */
record Region(
    long start,
    long pages,
    Prot prot,
    Sharing sharing,
    Inherit inherit,
    boolean wired,
    int obj,
    long pgoff) {

  long end() {
    return start + pages * Boot.PAGE_SIZE;
  }

  /** The object page index of address {@code a}, which lies in this region. */
  long pageIndex(long a) {
    return pgoff + (a - start) / Boot.PAGE_SIZE;
  }

  /** The part of this region in [from, to), which must overlap it. */
  Region slice(long from, long to) {
    long s = Math.max(from, start);
    long e = Math.min(to, end());
    return new Region(
        s,
        (e - s) / Boot.PAGE_SIZE,
        prot,
        sharing,
        inherit,
        wired,
        obj,
        pgoff + (s - start) / Boot.PAGE_SIZE);
  }

  Region withProt(Prot p) {
    return new Region(start, pages, p, sharing, inherit, wired, obj, pgoff);
  }

  Region withInherit(Inherit i) {
    return new Region(start, pages, prot, sharing, i, wired, obj, pgoff);
  }

  Region withWired(boolean w) {
    return new Region(start, pages, prot, sharing, inherit, w, obj, pgoff);
  }

  Region withObj(int o, Sharing s) {
    return new Region(start, pages, prot, s, inherit, wired, o, pgoff);
  }
}
