package org.vmoracle.impl.object;

import java.util.concurrent.ConcurrentHashMap;
import org.vmoracle.spec.Boot;

/**
 * A file's contents on "disk": the pages written back to it, over the boot pattern for pages below
 * {@code pristine} (BOOT-1) and zeros elsewhere. A page is on disk when it is not resident in the
 * file's object; pageout writes dirty file pages here and faults read them back.
 *
 * <p>Concurrency: pages are replaced whole; changes happen under the exclusive map lock, reads
 * under either mode (legend (x)).
 */
public final class FileStore {
  private final ConcurrentHashMap<Long, long[]> written = new ConcurrentHashMap<>(); // (x)
  private final int bootNumber; // (c) 0 for a file that is not a boot file
  private volatile long pristine; // (x) pages below this never written read the boot pattern

  public FileStore(int bootNumber, long pristine) {
    this.bootNumber = bootNumber;
    this.pristine = pristine;
  }

  /** Fills {@code into} (512 words) with page {@code i} as on disk. No requirements. */
  public void read(long i, long[] into) {
    long[] w = written.get(i);
    if (w != null) {
      System.arraycopy(w, 0, into, 0, Boot.WORDS_PER_PAGE);
    } else if (i < pristine) {
      long base = i * Boot.WORDS_PER_PAGE;
      for (int k = 0; k < Boot.WORDS_PER_PAGE; k++) {
        into[k] = ((long) bootNumber << 32) | (base + k);
      }
    } else {
      java.util.Arrays.fill(into, 0L);
    }
  }

  /** Word {@code w} of page {@code i} as on disk. No requirements. */
  public long word(long i, int w) {
    long[] page = written.get(i);
    if (page != null) {
      return page[w];
    }
    return i < pristine ? ((long) bootNumber << 32) | (i * Boot.WORDS_PER_PAGE + w) : 0;
  }

  /** Whether page {@code i} may hold nonzero words on disk. No requirements. */
  public boolean mayHoldData(long i) {
    return i < pristine || written.containsKey(i);
  }

  /** Writes page {@code i} back. The caller holds the map lock exclusive. */
  public void write(long i, long[] page) {
    written.put(i, page.clone());
  }

  /** Forgets everything at or past page {@code n} (truncation). The caller holds it exclusive. */
  public void truncate(long n) {
    written.keySet().removeIf(i -> i >= n);
    pristine = Math.min(pristine, n);
  }

  /** The written pages' indexes, for views. */
  public java.util.Set<Long> writtenPages() {
    return written.keySet();
  }

  public long pristine() {
    return pristine;
  }
}
