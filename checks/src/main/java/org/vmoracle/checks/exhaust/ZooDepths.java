package org.vmoracle.checks.exhaust;

import static java.util.Map.entry;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;

/**
 * Where {@code exhaust} finds each sequential bug of the zoo: the scope, and the depth to search it
 * to (the depth of its shortest path, measured, is at most this); a bug of one reverse-map design
 * is searched on that design. {@code vmoracle exhaust --zoo} runs them all; races are the
 * controlled-scheduling hunt's, and the two stresses' bugs need threads, so neither is here.
 */
public final class ZooDepths {
  private ZooDepths() {}

  /**
   * Where a bug is found.
   *
   * @param scope the scope's name
   * @param depth the depth searched to
   * @param rmap the reverse map the bug lives in, or null for the scope's own
   */
  public record Entry(String scope, int depth, Config.Rmap rmap) {
    /** The scope with this entry's reverse map and {@code bug} switched on. */
    public Scope scopeWith(Bug bug) {
      Scope s = Scope.named(scope).orElseThrow();
      Config c = rmap == null ? s.config() : s.config().withRmap(rmap);
      return s.withConfig(c.withBug(bug));
    }
  }

  private static Entry at(String scope, int depth) {
    return new Entry(scope, depth, null);
  }

  private static final Map<Bug, Entry> TABLE =
      new EnumMap<>(
          Map.ofEntries(
              entry(Bug.EXIT_LEAKS_ROOT_TABLE, at("small", 1)),
              entry(Bug.COLLAPSE_DROPS_FILE, at("small", 2)),
              entry(Bug.SHARED_PAGE_REMOVED_WHILE_SHARED, at("small", 2)),
              entry(Bug.STALE_PTE_AFTER_MUNMAP, at("small", 2)),
              entry(Bug.DOUBLE_COUNTED_PT_PAGES, at("small", 1)),
              entry(Bug.CLIP_LEAVES_USER_OFF_LIST, at("small", 2)),
              entry(Bug.FORK_NO_WRITE_PROTECT, at("small", 3)),
              entry(Bug.PV_LEFT_ON_PARTIAL_MUNMAP, new Entry("small", 3, Config.Rmap.PV)),
              entry(Bug.MLOCK_NO_ROLLBACK, at("small", 4)),
              entry(Bug.TRUNCATE_KEEPS_PRIVATE_COPIES, at("file", 4)),
              entry(Bug.FILE_READ_ONTO_DIRTY_FRAME, at("file", 4)),
              entry(Bug.DEMOTION_LOSES_PAGE, at("wire", 2)),
              entry(Bug.MPROTECT_SKIPS_WIRED, at("wire", 3)),
              entry(Bug.PAGEOUT_EVICTS_WIRED, at("wire", 3)),
              entry(Bug.FORK_SKIPS_WIRED_COPY, at("wire", 3)),
              entry(Bug.SHARED_TABLE_UNDER_COW, at("shm", 4)),
              entry(Bug.UNMAP_CLEARS_SHARED_TABLE, at("shm", 4)),
              entry(Bug.WIRE_KEPT_ON_REPOINT, at("fork", 5)),
              entry(Bug.CHAIN_HEAD_MOVE_DROPS, new Entry("fork", 5, Config.Rmap.PTECHAIN)),
              entry(Bug.SHARED_ANON_COPY_FILLS_PRIVATELY, at("fork", 6)),
              entry(Bug.COLLAPSE_SHARES_SWAP_SLOT, at("chain", 6))));

  /** Where {@code bug} is found, if exhaust finds it. */
  public static Optional<Entry> of(Bug bug) {
    return Optional.ofNullable(TABLE.get(bug));
  }

  /** Every bug exhaust finds, in the order bugs are declared. */
  public static Map<Bug, Entry> all() {
    return java.util.Collections.unmodifiableMap(TABLE);
  }
}
