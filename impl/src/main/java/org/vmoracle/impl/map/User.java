package org.vmoracle.impl.map;

import java.util.function.Consumer;

/**
 * A user of a {@link VmObject}: what may map its pages. Either a shared {@link MapEntry} that maps
 * the object itself, or a copy-on-write group ({@link Cow}) whose backing chain includes it. The
 * object's users are its reverse map in the backing-chain design (DragonFly 2019's backing lists,
 * seed 000): page {@code i} of an object is mapped, if at all, at {@link MapEntry#addressOf} of one
 * of the entries its users stand for.
 *
 * <p>Concurrency: a user joins and leaves an object's list under the exclusive map lock only.
 */
public sealed interface User permits MapEntry, Cow {
  /**
   * Calls {@code visit} with every map entry this user stands for: the entry itself, or each member
   * of the group. The caller holds the map lock (either mode).
   */
  void forEachEntry(Consumer<MapEntry> visit);

  /** The group, or null for a shared entry. No requirements. */
  Cow group();
}
