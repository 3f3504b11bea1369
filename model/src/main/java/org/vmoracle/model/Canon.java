package org.vmoracle.model;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.pcollections.TreePMap;

/**
 * The canonical form of a state, for exhaustive search (`vmoracle exhaust`): two states get equal
 * keys exactly when one is the other with its object and address-space ids renamed, its unreachable
 * objects dropped, and, optionally, its pids and stored values permuted within given sets. Equal
 * keys mean the same future: every operation gives them results that are equal (and states that are
 * equal again) once the same renaming is applied to the operation.
 *
 * <p>Why each reduction is sound:
 *
 * <ul>
 *   <li><b>Ids.</b> The model compares object and address-space ids only for equality and hands out
 *       new ones above every id in use ({@code nextId}); so which numbers the ids are never
 *       matters, only which regions share one. The key names each id by its first appearance in a
 *       walk in a fixed order (processes, their regions, files, segments, then the objects
 *       reached).
 *   <li><b>Unreachable objects.</b> An object that no region, file or segment reaches, directly or
 *       as an overlay's backing, can never be reached again (objects are reached only through those
 *       roots) and never be read: it is left out, as the model's own sweep would drop it. So are
 *       {@code nextId}, {@code sweepAt} and the runs, which the regions determine (Runs).
 *   <li><b>Pids.</b> The model treats pids only as names: no rule orders or compares them but for
 *       equality. If the operations searched are closed under swapping two pids of {@code pids}
 *       (the scope generates the same operations for every one of them), states that differ by a
 *       permutation of those pids have futures that differ by the same permutation. The key is the
 *       least encoding over every permutation.
 *   <li><b>Values.</b> The model never branches on a stored word: words are only carried from a
 *       store to a read. With the operations closed under permuting {@code values} (every store and
 *       file write of one of them exists for each), states that differ by such a permutation of
 *       their stored words are equally interchangeable. The values must differ from every word the
 *       system shows on its own (zero, boot-file words, the shared page's words).
 * </ul>
 *
 * <p>The key over-distinguishes rather than under-: two pages that read the same but were built
 * differently (a word stored with its base's own value) get different keys. That costs states,
 * never soundness.
 */
public final class Canon {
  private Canon() {}

  /**
   * A canonical key: compared by content.
   *
   * @param order the pids in canonical order: {@code order[i]} is the pid that the permutation
   *     chosen names {@code i}-th (the first of equally small encodings), then the live pids
   *     outside the symmetric set; for reading the implementation's state in the same order
   */
  public static final class Key {
    private final String bytes; // one char a byte: Latin-1 strings keep a byte a char
    private final int hash;
    private final String order; // the pids, comma-separated

    Key(String bytes, int[] order) {
      this.bytes = bytes;
      this.hash = bytes.hashCode();
      this.order =
          Arrays.stream(order)
              .mapToObj(Integer::toString)
              .collect(java.util.stream.Collectors.joining(","));
    }

    /** The pids in the order the key lists them. */
    public int[] order() {
      return order.isEmpty()
          ? new int[0]
          : Arrays.stream(order.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    /** Bytes the key holds. */
    public int size() {
      return bytes.length();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key && hash == ((Key) o).hash && bytes.equals(((Key) o).bytes);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  /**
   * The key of {@code s}, least over every permutation of {@code pids} and of {@code values}. Live
   * pids outside {@code pids} keep their names and follow in pid order.
   */
  public static Key key(State s, int[] pids, long[] values) {
    int[][] pidPerms = permutations(pids.length);
    int[][] valuePerms = permutations(values.length);
    String best = null;
    int[] bestOrder = null;
    StringBuilder out = new StringBuilder(256);
    for (int[] pp : pidPerms) {
      int[] order = new int[pids.length];
      for (int i = 0; i < pids.length; i++) {
        order[i] = pids[pp[i]];
      }
      for (int[] vp : valuePerms) {
        Map<Long, Long> rename = new HashMap<>();
        for (int i = 0; i < values.length; i++) {
          rename.put(values[vp[i]], values[i]);
        }
        out.setLength(0);
        int[] listed = encode(s, order, rename, out);
        String b = out.toString();
        if (best == null || b.compareTo(best) < 0) {
          best = b;
          bestOrder = listed;
        }
      }
    }
    return new Key(best, bestOrder);
  }

  /** Writes {@code s} to {@code out}; answers the pids in the order written. */
  private static int[] encode(State s, int[] order, Map<Long, Long> values, StringBuilder out) {
    Map<Integer, Integer> spaceLabels = new HashMap<>();
    Map<Integer, Integer> objLabels = new HashMap<>();
    ArrayDeque<Integer> objs = new ArrayDeque<>();
    ArrayDeque<Integer> spaces = new ArrayDeque<>();
    java.util.List<Integer> pidsInOrder = new java.util.ArrayList<>();
    for (int p : order) {
      pidsInOrder.add(p);
    }
    for (Integer p : s.processes().keySet()) {
      if (!pidsInOrder.contains(p)) {
        pidsInOrder.add(p); // outside the symmetric set: its own name, in pid order
      }
    }
    for (int i = 0; i < pidsInOrder.size(); i++) {
      Integer space = s.processes().get(pidsInOrder.get(i));
      if (i >= order.length) {
        put(out, pidsInOrder.get(i));
      }
      if (space == null) {
        put(out, -1);
        continue;
      }
      Integer label = spaceLabels.get(space);
      if (label == null) {
        label = spaceLabels.size();
        spaceLabels.put(space, label);
        spaces.add(space);
      }
      put(out, label);
    }
    for (int space : spaces) {
      TreePMap<Long, Region> regions = s.spaces().get(space);
      put(out, regions.size());
      for (Region r : regions.values()) {
        put(out, r.start());
        put(out, r.pages());
        put(out, r.prot().ordinal());
        put(out, r.sharing().ordinal());
        put(out, r.inherit().ordinal());
        put(out, r.wired() ? 1 : 0);
        put(out, label(r.obj(), objLabels, objs));
        put(out, r.pgoff());
      }
    }
    put(out, s.files().size());
    for (Map.Entry<String, Integer> f : s.files().entrySet()) {
      put(out, f.getKey());
      put(out, label(f.getValue(), objLabels, objs));
    }
    put(out, s.segments().size());
    for (Map.Entry<Long, Integer> k : s.segments().entrySet()) {
      put(out, k.getKey());
      put(out, label(k.getValue(), objLabels, objs));
    }
    while (!objs.isEmpty()) {
      Obj o = s.obj(objs.poll());
      put(out, o.kind().ordinal());
      put(out, o.name());
      put(out, o.key());
      put(out, o.size());
      put(out, o.bootNumber());
      put(out, o.pristine());
      put(out, o.backing() == Obj.NONE ? -1 : label(o.backing(), objLabels, objs));
      put(out, o.pages().size());
      for (Map.Entry<Long, Page> e : o.pages().entrySet()) {
        Page p = e.getValue();
        put(out, e.getKey());
        put(out, p.base());
        put(out, p.index());
        put(out, p.words().size());
        for (Map.Entry<Integer, Long> w : p.words().entrySet()) {
          put(out, w.getKey());
          put(out, values.getOrDefault(w.getValue(), w.getValue()));
        }
      }
    }
    return pidsInOrder.stream().mapToInt(Integer::intValue).toArray();
  }

  /** The label of object {@code id}, given on first sight; a new one is queued to be written. */
  private static int label(int id, Map<Integer, Integer> labels, ArrayDeque<Integer> queue) {
    Integer l = labels.get(id);
    if (l == null) {
      l = labels.size();
      labels.put(id, l);
      queue.add(id);
    }
    return l;
  }

  /** Every permutation of 0..n-1, the identity first. */
  static int[][] permutations(int n) {
    java.util.List<int[]> all = new java.util.ArrayList<>();
    permute(new int[n], new boolean[n], 0, all);
    return all.toArray(new int[0][]);
  }

  private static void permute(int[] p, boolean[] used, int at, java.util.List<int[]> all) {
    if (at == p.length) {
      all.add(p.clone());
      return;
    }
    for (int i = 0; i < p.length; i++) {
      if (!used[i]) {
        used[i] = true;
        p[at] = i;
        permute(p, used, at + 1, all);
        used[i] = false;
      }
    }
  }

  /**
   * Appends {@code v} to {@code out} as a zig-zag varint, a char a byte: small numbers take one.
   */
  private static void put(StringBuilder out, long v) {
    long z = (v << 1) ^ (v >> 63);
    while ((z & ~0x7FL) != 0) {
      out.append((char) ((z & 0x7F) | 0x80));
      z >>>= 7;
    }
    out.append((char) z);
  }

  /** Appends {@code str}'s length, then its chars. */
  private static void put(StringBuilder out, String str) {
    put(out, str.length());
    for (int i = 0; i < str.length(); i++) {
      put(out, str.charAt(i));
    }
  }
}
