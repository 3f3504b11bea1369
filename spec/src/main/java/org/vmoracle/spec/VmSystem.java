package org.vmoracle.spec;

/**
 * A virtual-memory system: what the model and the implementation both are, so the checks can drive
 * either the same way. A new system is booted: the boot files of {@link Boot} exist, and there are
 * no processes and no shared-memory segments (BOOT-1).
 */
public interface VmSystem {

  /** Carries out one operation and answers its result (the rules of SEMANTICS.md). */
  Result apply(Op op);

  /** What can be observed now (VIEW-*). */
  View view();
}
