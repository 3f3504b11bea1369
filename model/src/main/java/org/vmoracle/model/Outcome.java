package org.vmoracle.model;

import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Result;

/** What one step gives: the state after the operation and its result. */
public record Outcome(State state, Result result) {

  static Outcome ok(State s) {
    return new Outcome(s, Result.OK);
  }

  static Outcome value(State s, long v) {
    return new Outcome(s, Result.value(v));
  }

  /** A failure: the state is the one before the operation (ERR-1). */
  static Outcome fail(State unchanged, Errno e) {
    return new Outcome(unchanged, Result.of(e));
  }
}
