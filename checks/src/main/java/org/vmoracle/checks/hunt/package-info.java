/**
 * The sequential hunt ({@code vmoracle hunt}): runs of generated operations from successive seeds
 * through model and implementation side by side ({@link org.vmoracle.checks.hunt.Hunt}), and the
 * trace file a finding becomes ({@link org.vmoracle.checks.hunt.FindingFile}), shrunk by {@link
 * org.vmoracle.checks.shrink.DivergenceShrinker}. The operations come from a profile of {@link
 * org.vmoracle.checks.gen.Profile}; concurrent hunting lives in {@code org.vmoracle.checks.lin}.
 */
package org.vmoracle.checks.hunt;
