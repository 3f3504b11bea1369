package org.vmoracle.checks.nativ;

/**
 * The native runner cannot run on this machine: not Linux on x86-64, no gcc, or no static C library
 * to link {@code vmtrace} with. The message says which, in words for a person.
 */
public final class NativeUnavailableException extends Exception {
  private static final long serialVersionUID = 1L;

  public NativeUnavailableException(String message) {
    super(message);
  }
}
