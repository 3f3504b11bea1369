/**
 * The {@code vmoracle} command line ({@link org.vmoracle.checks.cli.Main}), built into {@code
 * checks/target/vmoracle.jar} and run by {@code ./vmoracle} at the top of the repository.
 *
 * <p>Commands: {@code replay FILE…} ({@link org.vmoracle.checks.cli.ReplayCommand}), {@code hunt},
 * {@code zoo} (the injected bugs, each hunted by its check: {@link org.vmoracle.checks.zoo.Zoo}),
 * {@code bench} and {@code native}. The system a command drives is chosen by {@link
 * org.vmoracle.checks.cli.SystemChoice}, so adding a system adds a constant there and leaves the
 * commands as they are.
 *
 * <p>Contract of every command: results on standard output, usage errors on standard error; the
 * last line is a one-line summary; exit 0 when everything held, 1 when something was found, 2 for
 * bad usage.
 */
package org.vmoracle.checks.cli;
