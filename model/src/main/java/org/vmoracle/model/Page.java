package org.vmoracle.model;

import org.pcollections.IntTreePMap;
import org.vmoracle.spec.Boot;

/**
 * The contents of one page: a base pattern (zeros, a boot file's words, or the shared page's) with
 * the words stored over it. Immutable; {@link #with} gives a new page.
 *
 * @param base {@link #ZERO_BASE}, {@link #SHARED_PAGE_BASE}, or a boot file number (BOOT-1)
 * @param index the page's index in its boot file (used only by a boot-file base)
 * @param words the words stored over the base, by index in the page
 */
record Page(int base, long index, IntTreePMap<Long> words) {

  static final int ZERO_BASE = 0;
  static final int SHARED_PAGE_BASE = -1;

  static final Page ZERO = new Page(ZERO_BASE, 0, IntTreePMap.empty());

  static Page bootFile(int number, long index) {
    return new Page(number, index, IntTreePMap.empty());
  }

  static Page sharedPage() {
    return new Page(SHARED_PAGE_BASE, 0, IntTreePMap.empty());
  }

  long word(int w) {
    Long stored = words.get(w);
    if (stored != null) {
      return stored;
    }
    if (base == ZERO_BASE) {
      return 0;
    }
    if (base == SHARED_PAGE_BASE) {
      return Boot.sharedPageWord(w); // BOOT-2
    }
    return ((long) base << 32) | (index * Boot.WORDS_PER_PAGE + w); // BOOT-1
  }

  Page with(int w, long value) {
    return new Page(base, index, words.plus(w, value));
  }
}
