package org.vmoracle.model;

import org.pcollections.TreePMap;

/**
 * A memory object: what mappings map. Every object is one of:
 *
 * <ul>
 *   <li>a <b>file</b> ({@code name} set): {@code size} pages; pages below {@code pristine} that
 *       were never stored to read their boot-file words (BOOT-1), other absent pages read zero;
 *   <li>a <b>segment</b> ({@code key} &ge; 0): {@code size} pages, zero-filled (SHM-1);
 *   <li>a <b>shared anonymous</b> object: no size, zero-filled (MMAP-5);
 *   <li>the <b>shared page</b>: one page of its own words (BOOT-2);
 *   <li>a <b>private overlay</b> ({@code privateOverlay}): the pages a private mapping has copied.
 *       A page it lacks reads through to {@code backing} (another object, at the same page index)
 *       or, without a backing, reads zero. This is copy-on-write in one level: a fork copies the
 *       overlay's page map, which a persistent map makes free (COW-1, FILE-7).
 * </ul>
 *
 * <p>Implementation note: overlays index pages exactly as their backing does, so a private mapping
 * of file page {@code i} keeps its copy at index {@code i}. Truncating a file drops its overlays'
 * pages past the new end (FILE-8).
 *
 * @param size pages, or -1 when the object has no end (anonymous memory, overlays)
 * @param backing the object an overlay reads through to, or -1
 */
record Obj(
    Kind kind,
    String name,
    long key,
    long size,
    int bootNumber,
    long pristine,
    TreePMap<Long, Page> pages,
    int backing) {

  enum Kind {
    FILE,
    SEGMENT,
    SHARED_ANON,
    SHARED_PAGE,
    PRIVATE_OVERLAY
  }

  static final int NONE = -1;

  static Obj file(String name, long size, int bootNumber) {
    return new Obj(
        Kind.FILE, name, -1, size, bootNumber, bootNumber > 0 ? size : 0, TreePMap.empty(), NONE);
  }

  static Obj segment(long key, long size) {
    return new Obj(Kind.SEGMENT, "", key, size, 0, 0, TreePMap.empty(), NONE);
  }

  static Obj sharedAnon() {
    return new Obj(Kind.SHARED_ANON, "", -1, -1, 0, 0, TreePMap.empty(), NONE);
  }

  static Obj sharedPage() {
    return new Obj(
        Kind.SHARED_PAGE, "", -1, 1, 0, 0, TreePMap.singleton(0L, Page.sharedPage()), NONE);
  }

  /** A private overlay reading through to {@code backing} (or to zeros, with {@link #NONE}). */
  static Obj overlay(int backing, TreePMap<Long, Page> pages) {
    return new Obj(Kind.PRIVATE_OVERLAY, "", -1, -1, 0, 0, pages, backing);
  }

  boolean isOverlay() {
    return kind == Kind.PRIVATE_OVERLAY;
  }

  /** True when page {@code i} lies at or past the end of this (non-overlay) object. */
  boolean pastEnd(long i) {
    return size >= 0 && i >= size;
  }

  /**
   * Page {@code i} of a non-overlay object, which must not be past its end: stored, pristine boot
   * content, or zeros.
   */
  Page page(long i) {
    Page p = pages.get(i);
    if (p != null) {
      return p;
    }
    if (i < pristine) {
      return Page.bootFile(bootNumber, i);
    }
    return Page.ZERO;
  }

  Obj withPage(long i, Page p) {
    return new Obj(kind, name, key, size, bootNumber, pristine, pages.plus(i, p), backing);
  }

  Obj withPages(TreePMap<Long, Page> newPages) {
    return new Obj(kind, name, key, size, bootNumber, pristine, newPages, backing);
  }

  /**
   * This file resized to {@code n} pages: content past the end goes; pristine boot pages past it
   * are forgotten, so growing again shows zeros (FILE-1).
   */
  Obj resized(long n) {
    TreePMap<Long, Page> kept = n < size ? pages.headMap(n) : pages;
    return new Obj(kind, name, key, n, bootNumber, Math.min(pristine, n), kept, backing);
  }
}
