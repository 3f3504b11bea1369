package org.vmoracle.checks.bench;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Every figure one {@code vmoracle bench} run reports, as rows of {@code
 * experiment,config,metric,value}: written as a CSV file ({@link #write}) and shown as a table
 * ({@link #table}), in the order they were added.
 *
 * <p>Counts are written as integers, exactly; timed figures and ratios with six significant digits,
 * in plain notation (no exponent), so that a spreadsheet and {@code sort -g} read them alike.
 * Fields are quoted as RFC 4180 says: a field holding a comma, a double quote or a line break is
 * enclosed in double quotes, and each double quote in it is doubled.
 */
public final class Results {

  /** The CSV file's first line. */
  public static final String HEADER = "experiment,config,metric,value";

  /** Where {@code bench} writes its file, relative to the working directory. */
  public static final Path DEFAULT_FILE = Path.of("target", "vmoracle", "bench", "results.csv");

  /** One figure. */
  public record Row(String experiment, String config, String metric, String value) {}

  private final List<Row> rows = new ArrayList<>();

  /** Adds a count, written exactly. */
  public void add(String experiment, String config, String metric, long value) {
    rows.add(new Row(experiment, config, metric, Long.toString(value)));
  }

  /** Adds a measured figure or a ratio, written with six significant digits. */
  public void add(String experiment, String config, String metric, double value) {
    rows.add(new Row(experiment, config, metric, format(value)));
  }

  /** The rows so far, in the order they were added. */
  public List<Row> rows() {
    return Collections.unmodifiableList(rows);
  }

  /** {@code value} with six significant digits and no exponent; NaN and infinities by name. */
  static String format(double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return Double.toString(value);
    }
    if (value == 0) {
      return "0";
    }
    return new BigDecimal(value).round(new MathContext(6)).stripTrailingZeros().toPlainString();
  }

  /** {@code field} as a CSV field: quoted when it holds a comma, a quote or a line break. */
  static String escape(String field) {
    if (field.indexOf(',') < 0
        && field.indexOf('"') < 0
        && field.indexOf('\n') < 0
        && field.indexOf('\r') < 0) {
      return field;
    }
    return '"' + field.replace("\"", "\"\"") + '"';
  }

  /** The whole file: the header, then one line a row, each ended by a line feed. */
  public String csv() {
    StringBuilder sb = new StringBuilder(HEADER).append('\n');
    for (Row r : rows) {
      sb.append(escape(r.experiment()))
          .append(',')
          .append(escape(r.config()))
          .append(',')
          .append(escape(r.metric()))
          .append(',')
          .append(escape(r.value()))
          .append('\n');
    }
    return sb.toString();
  }

  /**
   * Writes {@link #csv} to {@code file} in UTF-8, creating its folders; replaces what was there.
   */
  public void write(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    Files.writeString(file, csv(), StandardCharsets.UTF_8);
  }

  /**
   * The rows as a table of four aligned columns under a heading, values right-aligned, one line
   * each (no line feed after the last).
   */
  public String table() {
    String[] head = {"experiment", "config", "metric", "value"};
    int[] w = {head[0].length(), head[1].length(), head[2].length(), head[3].length()};
    for (Row r : rows) {
      w[0] = Math.max(w[0], r.experiment().length());
      w[1] = Math.max(w[1], r.config().length());
      w[2] = Math.max(w[2], r.metric().length());
      w[3] = Math.max(w[3], r.value().length());
    }
    String line = "%-" + w[0] + "s  %-" + w[1] + "s  %-" + w[2] + "s  %" + w[3] + "s";
    StringBuilder sb = new StringBuilder(String.format(line, (Object[]) head));
    for (Row r : rows) {
      sb.append('\n')
          .append(String.format(line, r.experiment(), r.config(), r.metric(), r.value()));
    }
    return sb.toString();
  }
}
