/**
 * Shrinking failing operation lists: {@link org.vmoracle.checks.shrink.Shrinker} (delta debugging,
 * then argument simplification) for any deterministic "still fails" test, and {@link
 * org.vmoracle.checks.shrink.DivergenceShrinker}, which turns a divergence between model and
 * implementation into a short trace whose expectations are the model's results, ready for the
 * regression corpus ({@code checks/src/test/resources/regressions/}). Usable outside JUnit.
 */
package org.vmoracle.checks.shrink;
