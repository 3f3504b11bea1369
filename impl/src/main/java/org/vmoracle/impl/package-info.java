/**
 * The optimized concurrent VM: physical frames, 4-level page tables, vm_map, backing chains,
 * faults, the reverse map, pageout, collapse and wiring, as DESIGN.md describes. It is issue 3's
 * work and is still to come; until then this module holds no code.
 *
 * <p>It depends on {@code spec} only, never on {@code model}: model and implementation share no
 * logic, so that comparing them checks two independent answers (an ArchUnit test in {@code checks}
 * enforces this).
 */
package org.vmoracle.impl;
