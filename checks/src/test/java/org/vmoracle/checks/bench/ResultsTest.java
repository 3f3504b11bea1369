package org.vmoracle.checks.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The results file: its header, its quoting, its numbers, and the folders it makes. */
class ResultsTest {

  @TempDir Path dir;

  @Test
  void csv_noRows_isTheHeaderAlone() {
    assertEquals("experiment,config,metric,value\n", new Results().csv());
  }

  @Test
  void csv_countsAndRatios_countsExactRatiosSixDigitsNoExponent() {
    Results r = new Results();
    r.add("E1", "share64/pv", "rmap_lock_ops", 32_768L);
    r.add("E1", "share64/pv", "rmap_lock_ratio", 128.0);
    r.add("E3", "static/backing/1t", "execs_per_s", 23_017.4567);
    r.add("E2", "zfod/1t", "faults_per_s", 1.2345678e7);
    r.add("E7", "share64/backing", "rmap_over_page_tables", 0.009765625);
    assertEquals(
        List.of(
            "experiment,config,metric,value",
            "E1,share64/pv,rmap_lock_ops,32768",
            "E1,share64/pv,rmap_lock_ratio,128",
            "E3,static/backing/1t,execs_per_s,23017.5",
            "E2,zfod/1t,faults_per_s,12345700",
            "E7,share64/backing,rmap_over_page_tables,0.00976563"),
        List.of(r.csv().split("\n")));
  }

  @Test
  void csv_fieldsWithCommaQuoteOrNewline_areQuotedAndQuotesDoubled() {
    Results r = new Results();
    r.add("E1", "a,b", "say \"hi\"", 1L);
    r.add("E1", "two\nlines", "plain", 2L);
    assertEquals(
        "experiment,config,metric,value\n"
            + "E1,\"a,b\",\"say \"\"hi\"\"\",1\n"
            + "E1,\"two\nlines\",plain,2\n",
        r.csv());
  }

  @Test
  void write_missingFolders_createsThemAndTheFile() throws IOException {
    Results r = new Results();
    r.add("model", "mixed", "operations", 50_000L);
    Path file = dir.resolve("target/vmoracle/bench/results.csv");
    r.write(file);
    assertEquals(
        "experiment,config,metric,value\nmodel,mixed,operations,50000\n",
        Files.readString(file, StandardCharsets.UTF_8));
    r.write(file); // a second run replaces the file
    assertEquals(2, Files.readAllLines(file).size());
  }

  @Test
  void table_rows_alignedUnderAHeading() {
    Results r = new Results();
    r.add("E1", "share64/backing", "rmap_lock_ops", 256L);
    r.add("E7", "dense2/ptechain", "rmap_over_page_tables", 3.36842);
    String[] lines = r.table().split("\n");
    assertEquals(3, lines.length);
    assertTrue(lines[0].startsWith("experiment  config"), lines[0]);
    assertEquals(lines[0].length(), lines[1].length());
    assertEquals(lines[1].length(), lines[2].length());
    assertTrue(lines[1].endsWith("    256"), lines[1]);
  }
}
