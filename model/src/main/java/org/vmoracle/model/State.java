package org.vmoracle.model;

import org.pcollections.IntTreePMap;
import org.pcollections.TreePMap;

/**
 * The whole state of the model: an immutable value. Forking a process copies nothing but the
 * references of persistent maps, so states share structure freely.
 *
 * @param processes live pid to the id of its address space (clones share one, PROC-4)
 * @param spaces address-space id to its regions, by start address
 * @param runs address-space id to the runs its regions make ({@link Runs}), for placement
 * @param objects object id to object; id 0 is the shared page
 * @param files file name to object id (files are never removed, FILE-10)
 * @param segments shared-memory key to object id (removed by shmrm, SHM-3)
 * @param nextId the next free object or address-space id
 * @param sweepAt the object count at which unreachable objects are next swept away
 */
public record State(
    IntTreePMap<Integer> processes,
    IntTreePMap<TreePMap<Long, Region>> spaces,
    IntTreePMap<TreePMap<Long, Long>> runs,
    IntTreePMap<Obj> objects,
    TreePMap<String, Integer> files,
    TreePMap<Long, Integer> segments,
    int nextId,
    int sweepAt) {

  /** The object id of the shared page, the same in every address space (BOOT-3). */
  static final int SHARED_PAGE = 0;

  State withProcesses(IntTreePMap<Integer> p) {
    return new State(p, spaces, runs, objects, files, segments, nextId, sweepAt);
  }

  /**
   * Space {@code id} with {@code regions} that map just what it mapped before: only protection,
   * inheritance or wiring changed, or a region was split or joined.
   */
  State withSpace(int id, TreePMap<Long, Region> regions) {
    return new State(
        processes, spaces.plus(id, regions), runs, objects, files, segments, nextId, sweepAt);
  }

  /** A new address space {@code id} of {@code regions}. */
  State withNewSpace(int id, TreePMap<Long, Region> regions) {
    return withNewSpace(id, regions, Runs.of(regions));
  }

  /** A new address space {@code id} of {@code regions}, whose runs are {@code regionRuns}. */
  State withNewSpace(int id, TreePMap<Long, Region> regions, TreePMap<Long, Long> regionRuns) {
    return new State(
        processes,
        spaces.plus(id, regions),
        runs.plus(id, regionRuns),
        objects,
        files,
        segments,
        nextId,
        sweepAt);
  }

  /** Space {@code id} with {@code regions}, which map [start, end) as well as what was mapped. */
  State withMapped(int id, TreePMap<Long, Region> regions, long start, long end) {
    return withNewSpace(id, regions, Runs.add(runs.get(id), start, end));
  }

  /** Space {@code id} with {@code regions}, which no longer map [start, end). */
  State withUnmapped(int id, TreePMap<Long, Region> regions, long start, long end) {
    return withNewSpace(id, regions, Runs.remove(runs.get(id), start, end));
  }

  /** Without address space {@code id}, which nobody uses any more. */
  State withoutSpace(int id) {
    return new State(
        processes, spaces.minus(id), runs.minus(id), objects, files, segments, nextId, sweepAt);
  }

  /** The runs of space {@code id} ({@link Runs}). */
  TreePMap<Long, Long> runsOf(int id) {
    return runs.get(id);
  }

  State withObjects(IntTreePMap<Obj> o) {
    return new State(processes, spaces, runs, o, files, segments, nextId, sweepAt);
  }

  State withObject(int id, Obj o) {
    return withObjects(objects.plus(id, o));
  }

  State withFiles(TreePMap<String, Integer> f) {
    return new State(processes, spaces, runs, objects, f, segments, nextId, sweepAt);
  }

  State withSegments(TreePMap<Long, Integer> s) {
    return new State(processes, spaces, runs, objects, files, s, nextId, sweepAt);
  }

  State withNextId(int n) {
    return new State(processes, spaces, runs, objects, files, segments, n, sweepAt);
  }

  State withSweepAt(int n) {
    return new State(processes, spaces, runs, objects, files, segments, nextId, n);
  }

  Obj obj(int id) {
    return objects.get(id);
  }

  /** The regions of pid's address space; the pid must be alive. */
  TreePMap<Long, Region> regionsOf(int pid) {
    return spaces.get(processes.get(pid));
  }
}
