package org.vmoracle.impl;

import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.object.PageMap;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;

/**
 * The operations on named objects: creating and resizing files, reading and writing them without a
 * mapping (file I/O), and creating and removing shared-memory segments.
 *
 * <h2>Overview</h2>
 *
 * A file's word is in its page when the page is resident (a frame every shared mapping of the file
 * sees, FILE-6), else on its disk ({@code VmObject.disk}); fwrite and fread go to whichever holds
 * it, and never bring a page in. Resizing a file goes through {@code Teardown.resize}, which unmaps
 * and drops what lies past a new, smaller end (FILE-8). Removing a segment takes its key away; its
 * pages go with its last mapping (SHM-5).
 *
 * <h2>Concurrency</h2>
 *
 * Every method requires the map lock exclusive, and asserts it: a store into a resident file page
 * is seen by every mapping at once, and no access runs meanwhile.
 *
 * <h2>Invariants</h2>
 *
 * A word of a file is read from and written to its resident page when it has one, else its disk:
 * the disk's copy of a resident page is stale until pageout writes the page back. A failed
 * operation changes nothing (ERR-1): fwrite checks the offset (FILE-12) before it grows the file.
 */
final class FileOps {
  private final Machine m; // (c)
  private final Registry reg; // (c)
  private final Teardown teardown; // (c)

  FileOps(Machine m, Registry reg, Teardown teardown) {
    this.m = m;
    this.reg = reg;
    this.teardown = teardown;
  }

  /** file: creates or resizes (FILE-1). The caller holds the map lock exclusive. */
  Result file(Op.File op) {
    assert m.lock.heldExclusively() : "FileOps.file: the caller holds the map lock exclusive";
    VmObject f = reg.files.get(op.name());
    if (f == null) {
      reg.files.put(op.name(), m.newFile(op.name(), op.pages(), 0)); // FILE-1
      return Result.OK;
    }
    teardown.resize(f, op.pages()); // FILE-1, FILE-8, FILE-9
    return Result.OK;
  }

  /** fwrite (FILE-2, FILE-3, FILE-6, FILE-12). The caller holds the map lock exclusive. */
  Result fwrite(Op.Fwrite op) {
    assert m.lock.heldExclusively() : "FileOps.fwrite: the caller holds the map lock exclusive";
    VmObject f = reg.files.get(op.name());
    if (f == null) {
      return Result.of(Errno.ENOENT); // FILE-2
    }
    long i = op.offset() / Boot.PAGE_SIZE;
    if (i >= Op.MAX_PAGES) {
      // FILE-12: checked before anything is touched; the page index would also lie past what
      // an object's page map holds (PageMap.LIMIT).
      return Result.of(Errno.EFBIG);
    }
    int w = (int) ((op.offset() & (Boot.PAGE_SIZE - 1)) >>> 3);
    if (f.pastEnd(i)) {
      teardown.resize(f, i + 1); // FILE-3
    }
    long slot = f.pages.get(i);
    if (slot != PageMap.NONE) {
      m.mem.store((int) slot, w, op.value()); // the page every mapping sees (FILE-6)
    } else {
      long[] page = new long[Boot.WORDS_PER_PAGE];
      f.disk.read(i, page);
      page[w] = op.value();
      f.disk.write(i, page);
    }
    return Result.OK;
  }

  /** fread (FILE-2, FILE-4). The caller holds the map lock exclusive. */
  Result fread(Op.Fread op) {
    assert m.lock.heldExclusively() : "FileOps.fread: the caller holds the map lock exclusive";
    VmObject f = reg.files.get(op.name());
    if (f == null) {
      return Result.of(Errno.ENOENT); // FILE-2
    }
    long i = op.offset() / Boot.PAGE_SIZE;
    if (f.pastEnd(i)) {
      return Result.of(Errno.EINVAL); // FILE-4
    }
    int w = (int) ((op.offset() & (Boot.PAGE_SIZE - 1)) >>> 3);
    long slot = f.pages.get(i);
    return Result.value(slot != PageMap.NONE ? m.mem.load((int) slot, w) : f.disk.word(i, w));
  }

  /** shmget (SHM-1). The caller holds the map lock exclusive. */
  Result shmget(Op.Shmget op) {
    assert m.lock.heldExclusively() : "FileOps.shmget: the caller holds the map lock exclusive";
    if (op.pages() == 0) {
      return Result.of(Errno.EINVAL); // SHM-1
    }
    if (reg.segments.containsKey(op.key())) {
      return Result.of(Errno.EEXIST);
    }
    reg.segments.put(op.key(), m.newSegment(op.key(), op.pages()));
    return Result.OK;
  }

  /** shmrm (SHM-3, SHM-5). The caller holds the map lock exclusive. */
  Result shmrm(Op.Shmrm op) {
    assert m.lock.heldExclusively() : "FileOps.shmrm: the caller holds the map lock exclusive";
    VmObject s = reg.segments.remove(op.key());
    if (s == null) {
      return Result.of(Errno.ENOENT); // SHM-3, DEV-7
    }
    teardown.releaseIfUnused(s);
    return Result.OK;
  }
}
