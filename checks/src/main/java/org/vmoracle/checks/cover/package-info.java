/**
 * Coverage of a hunt ({@code vmoracle hunt --coverage}): a table of classes of operations, their
 * arguments, the states they met and the results they gave ({@link
 * org.vmoracle.checks.cover.Classes}), and the tally that counts them and names the classes never
 * or rarely hit ({@link org.vmoracle.checks.cover.Coverage}). It reads the implementation's state
 * between operations and changes nothing; the model knows nothing of it.
 */
package org.vmoracle.checks.cover;
