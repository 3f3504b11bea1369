package org.vmoracle.checks.hunt;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.vmoracle.checks.shrink.DivergenceShrinker;
import org.vmoracle.checks.shrink.Subject;

/**
 * What a sequential hunt's finding becomes: its run shrunk ({@link DivergenceShrinker}) on the
 * hunt's own implementation settings (injected bugs included), then written as a {@link
 * FindingFile}. Used by {@code vmoracle hunt} and {@code vmoracle zoo}.
 *
 * @param shrunk the shrunk run; empty when the run agreed when run again on fresh systems (the
 *     implementation is not deterministic for one thread: a finding too, but not one a trace holds)
 * @param file where the trace was written; empty when it was not shrunk or could not be written
 * @param problem why {@code shrunk} or {@code file} is empty; empty when neither is
 * @param second where the second finding met while shrinking ({@link
 *     DivergenceShrinker.Shrunk#other()}, a failure of another kind) was written, beside {@code
 *     file}; empty when there was none, or it could not be written
 */
public record Reproducer(
    Optional<DivergenceShrinker.Shrunk> shrunk,
    Optional<Path> file,
    String problem,
    Optional<Path> second) {

  /** Shrinks {@code f}, found by a hunt with {@code s}, within {@code budget}; writes it to dir. */
  public static Reproducer make(Hunt.Settings s, Hunt.Finding f, Duration budget, Path dir) {
    DivergenceShrinker.Shrunk shrunk;
    try {
      shrunk =
          DivergenceShrinker.shrink(f.ops(), f.divergence(), Subject.lockstep(s.config()), budget);
    } catch (IllegalStateException e) {
      return new Reproducer(Optional.empty(), Optional.empty(), e.getMessage(), Optional.empty());
    }
    Path file;
    try {
      file = FindingFile.write(dir, s, f, shrunk);
    } catch (IOException e) {
      return new Reproducer(
          Optional.of(shrunk),
          Optional.empty(),
          "cannot write the finding to " + dir + ": " + e,
          Optional.empty());
    }
    if (shrunk.other().isEmpty()) {
      return new Reproducer(Optional.of(shrunk), Optional.of(file), "", Optional.empty());
    }
    try {
      Path second = FindingFile.writeSecond(dir, s, f, file, shrunk.other().get());
      return new Reproducer(Optional.of(shrunk), Optional.of(file), "", Optional.of(second));
    } catch (IOException e) {
      return new Reproducer(
          Optional.of(shrunk),
          Optional.of(file),
          "cannot write the second finding to " + dir + ": " + e,
          Optional.empty());
    }
  }
}
