package org.vmoracle.checks.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code vmoracle} command line: the entry point of {@code checks/target/vmoracle.jar}, which
 * {@code ./vmoracle} at the top of the repository builds and runs.
 *
 * <p>Exit codes are the same for every command: 0 when everything held, 1 when something was found
 * (an unmet expectation, a syntax error in a trace, an exception out of the system under test), 2
 * for bad usage (unknown option, missing argument, unreadable file). The last line a command prints
 * is a one-line summary.
 */
@Command(
    name = "vmoracle",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    synopsisSubcommandLabel = "COMMAND",
    description = {
      "Checks a kernel virtual-memory design against a formal model.",
      "",
      "Run 'vmoracle COMMAND --help' for the options of a command."
    },
    subcommands = {
      ReplayCommand.class,
      ReplayHistoryCommand.class,
      HuntCommand.class,
      ZooCommand.class,
      ExhaustCommand.class,
      BenchCommand.class,
      NativeCommand.class,
      HelpCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:everything held",
      "1:something was found (unmet expectation, syntax error)",
      "2:bad usage"
    })
public final class Main implements Callable<Integer> {

  /** Everything held. */
  static final int OK = 0;

  /** Something was found: an unmet expectation, a bad trace, an exception in the system. */
  static final int FOUND = 1;

  /** Bad usage: unknown option, missing argument, unreadable file. */
  static final int USAGE = 2;

  @Spec CommandSpec spec;

  /** Runs the command line and exits with its code. */
  public static void main(String[] args) {
    Charset cs = Charset.defaultCharset();
    PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, cs), true);
    PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, cs), true);
    System.exit(run(args, out, err));
  }

  /**
   * Runs the command line with the given streams and answers the exit code. Both streams are
   * flushed before it returns. No requirements.
   */
  static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new Main());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExitCodeExceptionMapper(e -> e instanceof ParameterException ? USAGE : FOUND);
    cl.setParameterExceptionHandler(Main::usageError);
    cl.setExecutionExceptionHandler(Main::internalError);
    try {
      return cl.execute(args);
    } finally {
      out.flush();
      err.flush();
    }
  }

  /** {@code vmoracle} with no command is bad usage. */
  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "missing command");
  }

  /** One line naming the problem, one pointing at the help: the whole usage text buries it. */
  private static int usageError(ParameterException e, String[] args) {
    CommandLine cl = e.getCommandLine();
    PrintWriter err = cl.getErr();
    err.println(cl.getCommandSpec().qualifiedName() + ": " + e.getMessage());
    UnmatchedArgumentException.printSuggestions(e, err);
    err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for more information.");
    return USAGE;
  }

  /** An exception no command caught is a bug in vmoracle: say so, with the whole trace. */
  private static int internalError(Exception e, CommandLine cl, ParseResult parsed) {
    PrintWriter err = cl.getErr();
    err.println("vmoracle: internal error, please report: " + e);
    e.printStackTrace(err);
    return FOUND;
  }

  /** The version from the filtered resource {@code version.properties} (the project version). */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"vmoracle " + version()};
    }

    static String version() {
      Properties p = new Properties();
      try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
        if (in != null) {
          p.load(in);
        }
      } catch (IOException e) {
        return "(version unknown: " + e.getMessage() + ")";
      }
      return p.getProperty("version", "(version unknown)");
    }
  }
}
