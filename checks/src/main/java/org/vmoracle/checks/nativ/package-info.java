/**
 * The host-kernel runner: traces run op by op in the model and on the real Linux kernel, and every
 * result is compared, so the model is validated against a kernel ({@code vmoracle native FILE…}).
 *
 * <ul>
 *   <li>{@link org.vmoracle.checks.nativ.NativeBinary} builds the C runner {@code vmtrace} (source:
 *       {@code checks/src/main/c/vmtrace.c}, also a classpath resource) with the system gcc, once,
 *       into {@code target/vmoracle/native/};
 *   <li>{@link org.vmoracle.checks.nativ.HostKernel} is one run of it: a coordinator process with
 *       one worker process per trace pid, spoken to in the line protocol that the C file's opening
 *       comment defines;
 *   <li>{@link org.vmoracle.checks.nativ.Deviations} is the list of what Linux cannot express (the
 *       {@code DEV-} rules of SEMANTICS.md, and the runner's own limits, {@code HOST-}), each a
 *       predicate over the operation, the model's state before it and the model's answer;
 *   <li>{@link org.vmoracle.checks.nativ.NativeRunner} runs a trace: the model first (so the kernel
 *       can be given the model's placement), then the kernel, and reports the first disagreement,
 *       the first unsupported line, or agreement ({@link org.vmoracle.checks.nativ.NativeVerdict});
 *       its {@link org.vmoracle.checks.nativ.NativeRunner.Session} steps one operation at a time;
 *   <li>{@link org.vmoracle.checks.nativ.NativeHunt} drives sessions with the random generator and
 *       collects the kinds of disagreement it meets, each with a shrunk reproducer.
 * </ul>
 */
package org.vmoracle.checks.nativ;
