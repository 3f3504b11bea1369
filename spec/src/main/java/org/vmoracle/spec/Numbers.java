package org.vmoracle.spec;

/** How numbers are written in traces and reports: one canonical form, so printing is stable. */
public final class Numbers {
  private Numbers() {}

  /**
   * A value in canonical form: decimal when it is in [0, 65536), otherwise {@code 0x} and its
   * unsigned hexadecimal digits. Both forms parse back to the same 64-bit value.
   */
  public static String value(long v) {
    return (v >= 0 && v < 0x10000) ? Long.toString(v) : hex(v);
  }

  /** {@code 0x} and the unsigned hexadecimal digits of {@code v}, lower case. */
  public static String hex(long v) {
    return "0x" + Long.toHexString(v);
  }
}
