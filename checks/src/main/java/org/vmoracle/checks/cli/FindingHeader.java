package org.vmoracle.checks.cli;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.vmoracle.checks.hunt.FindingFile;
import org.vmoracle.impl.core.Bug;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The options a trace's header gives {@code vmoracle replay}: a comment line {@code # vmoracle:
 * --system both --bug NAME --config frames=N,...} among the comments and blank lines before the
 * first operation, as a finding file has it ({@link FindingFile#OPTIONS_MARK}). The trace language
 * sees a comment; replay reads the line with the same options as its own command line, so a name
 * that replay rejects is rejected here too.
 *
 * @param line the header line's number, from 1
 * @param text the options as written, after the mark
 * @param system {@code --system}, when the header gives it
 * @param bugs the bugs it names, each once
 * @param impl its {@code --frames} and {@code --config}
 */
record FindingHeader(
    int line, String text, Optional<SystemChoice> system, List<Bug> bugs, ImplOptions impl) {

  /** What a header may say: the options of replay that set up what runs. */
  @Command(name = "header")
  static final class Options {
    @Option(names = "--system", converter = SystemChoice.Converter.class)
    SystemChoice system;

    @Mixin BugNames.Choice bugs;

    @Mixin ImplOptions impl;
  }

  /** A header line that does not read as replay's options. */
  static final class BadHeader extends Exception {
    private static final long serialVersionUID = 1L;
    final int line;

    BadHeader(int line, String message) {
      super(message);
      this.line = line;
    }
  }

  /**
   * The header's options in {@code utf8}, a trace's bytes; empty when its header has no {@link
   * FindingFile#OPTIONS_MARK} line. Only the lines before the first operation are read.
   *
   * @throws BadHeader if the line does not read as replay's options, or there are two
   */
  static Optional<FindingHeader> read(byte[] utf8) throws BadHeader {
    byte[] mark = FindingFile.OPTIONS_MARK.getBytes(StandardCharsets.UTF_8);
    Optional<FindingHeader> found = Optional.empty();
    int number = 0;
    int start = 0;
    while (start < utf8.length) {
      int end = start;
      while (end < utf8.length && utf8[end] != '\n' && utf8[end] != '\r') {
        end++;
      }
      number++;
      int first = start;
      while (first < end && (utf8[first] == ' ' || utf8[first] == '\t')) {
        first++;
      }
      if (first < end && utf8[first] != '#') {
        break; // the first operation: the header is over
      }
      if (end - first >= mark.length
          && Arrays.equals(utf8, first, first + mark.length, mark, 0, mark.length)) {
        if (found.isPresent()) {
          throw new BadHeader(
              number,
              "a second '"
                  + FindingFile.OPTIONS_MARK
                  + "' line (the first is line "
                  + found.get().line()
                  + "): put every option on one");
        }
        String text =
            new String(utf8, first + mark.length, end - first - mark.length, StandardCharsets.UTF_8)
                .trim();
        found = Optional.of(parse(number, text));
      }
      boolean crlf = end + 1 < utf8.length && utf8[end] == '\r' && utf8[end + 1] == '\n';
      start = end + (crlf ? 2 : 1);
    }
    return found;
  }

  /** The options of header line {@code number}. */
  private static FindingHeader parse(int number, String text) throws BadHeader {
    Options o = new Options();
    List<String> args = new ArrayList<>(Arrays.asList(text.split("[ \t]+")));
    args.removeIf(String::isEmpty);
    try {
      new CommandLine(o).parseArgs(args.toArray(new String[0]));
    } catch (ParameterException e) {
      throw new BadHeader(number, e.getMessage());
    }
    return new FindingHeader(
        number, String.join(" ", args), Optional.ofNullable(o.system), o.bugs.named(), o.impl);
  }
}
