package org.vmoracle.spec;

/**
 * What one operation answered: a value (a word read, an address placed), {@code ok}, or a failure.
 * {@link #toString()} is the trace-language spelling used after {@code ->}.
 */
public sealed interface Result permits Result.Value, Result.Ok, Result.Failed {

  /** The success with nothing to say. */
  Result OK = new Ok();

  static Result value(long v) {
    return new Value(v);
  }

  static Result of(Errno e) {
    return new Failed(e);
  }

  /** True for {@link Value} and {@link Ok}. */
  default boolean succeeded() {
    return !(this instanceof Failed);
  }

  /** A 64-bit answer: a word read, or the address where a mapping was placed. */
  record Value(long value) implements Result {
    @Override
    public String toString() {
      return Numbers.value(value);
    }
  }

  /** Success without a value. */
  record Ok() implements Result {
    @Override
    public String toString() {
      return "ok";
    }
  }

  /** Failure with an errno, or a signal for memory accesses. */
  record Failed(Errno errno) implements Result {
    public Failed {
      if (errno == null) {
        throw new IllegalArgumentException("a failure needs an errno");
      }
    }

    @Override
    public String toString() {
      return errno.name();
    }
  }
}
