package org.vmoracle.checks.lin;

import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;

/**
 * One operation of a concurrent history: who called it, when it was invoked and when it answered
 * (nanoTime), and what it answered.
 */
public record Call(int thread, int index, Op op, Result result, long invoked, long answered) {

  /** Whether this call answered before {@code other} was invoked: real time orders them. */
  public boolean precedes(Call other) {
    return answered < other.invoked;
  }

  @Override
  public String toString() {
    return "t" + thread + "#" + index + " " + op + " -> " + result;
  }
}
