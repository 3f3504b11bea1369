package org.vmoracle.checks.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.vmoracle.checks.gen.Profile;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;

/** {@link NativeHunt}: kinds of disagreement, and a short hunt against the host kernel. */
class NativeHuntTest {

  @Test
  void signature_valuesLeftOut_sameMistakeCountsOnce() {
    Op a = new Op.Mprotect(1, 0x10000000L, 0, Prot.R);
    Op b = new Op.Mprotect(7, 0x20000000L, 0, Prot.RW);
    assertEquals(
        NativeHunt.signature(a, Result.of(Errno.EINVAL), "ok"),
        NativeHunt.signature(b, Result.of(Errno.EINVAL), "ok"));
    Op r = new Op.Read(1, 0x10000000L);
    assertEquals(
        "read: model a value, kernel a value", NativeHunt.signature(r, Result.value(5), "0x6"));
  }

  @Test
  void hunt_oneSecond_comparesOperations() throws NativeUnavailableException {
    Optional<String> why = NativeBinary.unavailable();
    if (why.isPresent()) {
      abort("native runner unavailable: " + why.get());
    }
    NativeRunner runner = NativeRunner.create();
    StringWriter progress = new StringWriter();
    NativeHunt.Report r =
        NativeHunt.hunt(
            runner, Profile.byWord("mixed").orElseThrow(), 1, 1000, 300, new PrintWriter(progress));
    assertTrue(r.runs() >= 1, progress.toString());
    assertTrue(r.operations() > 0, progress.toString());
    for (NativeHunt.Finding f : r.findings()) {
      // Every reproducer ends on the line the kernel answers differently.
      assertTrue(f.trace().size() >= 1, f.render());
    }
  }
}
