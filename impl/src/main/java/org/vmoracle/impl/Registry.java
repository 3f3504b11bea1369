package org.vmoracle.impl;

import java.util.concurrent.ConcurrentHashMap;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.spec.Source;

/**
 * The names of the system: which pid runs in which address space, and which file name and segment
 * key name which object.
 *
 * <h2>Overview</h2>
 *
 * Three maps and nothing else. Several pids may name one space (clones, PROC-4); a space's {@code
 * users} counts them. A file or segment stays in its map while it has its name, however many
 * mappings use it (FILE-10, SHM-5); {@link Teardown} asks these maps whether an object that lost
 * its last user still has a name.
 *
 * <h2>Concurrency</h2>
 *
 * The maps change under the exclusive map lock only (legend (x)). Being concurrent maps, they can
 * be read under the shared one: the access path looks its pid up there ({@link Access}), and a
 * lookup that runs beside no writer needs no more than the map's own volatile reads.
 *
 * <h2>Invariants</h2>
 *
 * Every space a pid names is live (its pmap not released), and its {@code users} equals the number
 * of pids that name it ({@link Invariants} checks this). Every object a name maps is a file ({@code
 * VNODE}) or a segment ({@code SHM}) of that name or key: only boot ({@link ImplVm}) and {@link
 * FileOps} put objects into these maps, each one made for its name.
 */
final class Registry {
  final ConcurrentHashMap<Integer, VmSpace> processes = new ConcurrentHashMap<>(); // (x)
  final ConcurrentHashMap<String, VmObject> files = new ConcurrentHashMap<>(); // (x)
  final ConcurrentHashMap<Long, VmObject> segments = new ConcurrentHashMap<>(); // (x)

  /**
   * Whether the file or segment that {@code s} names exists; anonymous sources always do (MMAP-3,
   * MMAP-4, EXEC-1). The caller holds the map lock.
   */
  boolean sourceExists(Source s) {
    if (s instanceof Source.FileRange) {
      return files.containsKey(((Source.FileRange) s).name());
    }
    if (s instanceof Source.Shm) {
      return segments.containsKey(((Source.Shm) s).key());
    }
    return true;
  }
}
