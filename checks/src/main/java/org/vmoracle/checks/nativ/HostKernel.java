package org.vmoracle.checks.nativ;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One run of {@code vmtrace}: a freshly booted host system (the boot files made, no processes, no
 * segments), spoken to one line at a time in the protocol of the C file's opening comment.
 *
 * <p>It owns a temporary work directory (the trace's files) and a prefix for its POSIX
 * shared-memory names; {@link #close()} ends the coordinator, which kills its workers and removes
 * what it made, and then removes whatever is left of both, so nothing outlives a run even when the
 * coordinator was killed. Not thread-safe.
 */
final class HostKernel implements AutoCloseable {

  /** How long one operation may take before the run is abandoned. */
  static final long ANSWER_SECONDS = 60;

  /** The line the reader thread puts when the coordinator's output ends. */
  private static final String END = "\u0000end";

  private final Process process;
  private final OutputStream in;
  private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
  private final StringBuilder stderr = new StringBuilder();
  private final Path workdir;
  private final String shmPrefix;
  private final List<Deviations.Range> reserved;
  private final String memlock;
  private final long fileMax;
  private final long shmMax;
  private boolean closed;

  private HostKernel(Process process, Path workdir, String shmPrefix) throws IOException {
    this.process = process;
    this.in = process.getOutputStream();
    this.workdir = workdir;
    this.shmPrefix = shmPrefix;
    pump(process.getInputStream(), answers);
    drain(process.getErrorStream(), stderr);
    String ready = next();
    if (!ready.startsWith("ready ") && !ready.equals("ready")) {
      throw new IOException("the native runner did not start: " + describe(ready));
    }
    List<Deviations.Range> r = new ArrayList<>();
    String mem = "?";
    long files = -1;
    long shm = -1;
    for (String field : ready.split(" ")) {
      if (field.startsWith("reserved=")) {
        for (String range : field.substring(9).split(",")) {
          String[] ends = range.split("-");
          if (ends.length != 2 || !ends[0].startsWith("0x") || !ends[1].startsWith("0x")) {
            continue; // no range (an empty list)
          }
          r.add(
              new Deviations.Range(
                  Long.parseUnsignedLong(ends[0].substring(2), 16),
                  Long.parseUnsignedLong(ends[1].substring(2), 16)));
        }
      } else if (field.startsWith("memlock=")) {
        mem = field.substring(8);
      } else if (field.startsWith("filemax=0x")) {
        files = Long.parseUnsignedLong(field.substring(10), 16);
      } else if (field.startsWith("shmmax=0x")) {
        shm = Long.parseUnsignedLong(field.substring(9), 16);
      }
    }
    if (files < 0 || shm < 0) {
      throw new IOException("the native runner did not say its largest file: " + ready);
    }
    this.reserved = List.copyOf(r);
    this.memlock = mem;
    this.fileMax = files;
    this.shmMax = shm;
  }

  /**
   * Starts a coordinator of {@code binary} with a new work directory under {@code runs}, making at
   * most {@code maxProcesses} live processes (HOST-5). No requirements.
   */
  static HostKernel start(Path binary, Path runs, int maxProcesses) throws IOException {
    Files.createDirectories(runs);
    Path workdir = Files.createTempDirectory(runs, "vmoracle-run-");
    byte[] nonce = new byte[6];
    new SecureRandom().nextBytes(nonce);
    StringBuilder prefix = new StringBuilder("vmoracle-" + ProcessHandle.current().pid() + "-");
    for (byte b : nonce) {
      prefix.append(String.format("%02x", b));
    }
    Process p;
    try {
      p =
          new ProcessBuilder(
                  binary.toString(),
                  "coordinator",
                  workdir.toString(),
                  prefix.toString(),
                  Integer.toString(maxProcesses))
              .directory(workdir.toFile())
              .start();
    } catch (IOException e) {
      deleteTree(workdir);
      throw e;
    }
    try {
      return new HostKernel(p, workdir, prefix.toString());
    } catch (IOException | RuntimeException e) {
      p.destroyForcibly();
      deleteTree(workdir);
      throw e;
    }
  }

  /** The host ranges the trace must not touch: the runner's own memory. */
  List<Deviations.Range> reserved() {
    return reserved;
  }

  /** RLIMIT_MEMLOCK of the workers, as the coordinator reported it ("unlimited" or bytes). */
  String memlock() {
    return memlock;
  }

  /** The largest file in bytes the work directory takes, at most 2^47, as probed (HOST-4). */
  long fileMax() {
    return fileMax;
  }

  /** The largest POSIX shared-memory object in bytes, at most 2^47, as probed (HOST-4). */
  long shmMax() {
    return shmMax;
  }

  /**
   * Sends one command line and answers the reply line: {@code 0x…}, {@code ok}, an errno name,
   * {@code SEGV}, {@code BUS}, or {@code ERROR …}. Requires a run that is not closed.
   *
   * @throws IOException when the coordinator died or did not answer in time
   */
  String ask(String line) throws IOException {
    if (closed) {
      throw new IllegalStateException("the run is closed");
    }
    try {
      in.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
      in.flush();
    } catch (IOException e) {
      throw new IOException("the native runner is gone: " + e.getMessage() + stderrTail(), e);
    }
    return next();
  }

  private String next() throws IOException {
    String a;
    try {
      a = answers.poll(ANSWER_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for the native runner", e);
    }
    if (a == null) {
      throw new IOException(
          "the native runner did not answer within " + ANSWER_SECONDS + " s" + stderrTail());
    }
    if (a.equals(END)) {
      throw new IOException("the native runner exited" + stderrTail());
    }
    return a;
  }

  private String describe(String line) {
    return line.equals(END) ? "it exited" + stderrTail() : line + stderrTail();
  }

  /** The last lines the coordinator and its workers wrote to stderr, for reports. */
  String stderrTail() {
    synchronized (stderr) {
      String s = stderr.toString().strip();
      return s.isEmpty() ? "" : " (stderr: " + s + ")";
    }
  }

  /**
   * Ends the run: {@code quit}, then SIGTERM and SIGKILL if it lingers; then removes the work
   * directory and the run's shared-memory names if anything is left of them. No requirements.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      try {
        in.write("quit\n".getBytes(StandardCharsets.US_ASCII));
        in.close();
      } catch (IOException e) {
        // Already gone: the cleanup below still runs.
      }
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          process.waitFor(5, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    } finally {
      deleteTree(workdir);
      removeShm(shmPrefix);
    }
  }

  private static void pump(InputStream s, BlockingQueue<String> q) {
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(s, StandardCharsets.US_ASCII))) {
                String line;
                while ((line = r.readLine()) != null) {
                  q.add(line);
                }
              } catch (IOException e) {
                // The process is gone; the END below says so.
              }
              q.add(END);
            },
            "vmtrace-stdout");
    t.setDaemon(true);
    t.start();
  }

  /** Keeps the last 4 KiB the process wrote to stderr. */
  private static void drain(InputStream s, StringBuilder into) {
    Thread t =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(s, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  synchronized (into) {
                    into.append(line).append('\n');
                    if (into.length() > 4096) {
                      into.delete(0, into.length() - 4096);
                    }
                  }
                }
              } catch (IOException e) {
                // The process is gone.
              }
            },
            "vmtrace-stderr");
    t.setDaemon(true);
    t.start();
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    } catch (NoSuchFileException e) {
      // Removed meanwhile.
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove the native runner's directory " + dir, e);
    }
  }

  /** glibc keeps POSIX shared memory in /dev/shm: remove what the coordinator left there. */
  private static void removeShm(String prefix) {
    Path shm = Paths.get("/dev/shm");
    if (!Files.isDirectory(shm)) {
      return;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(shm, prefix + "-*")) {
      for (Path p : ds) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove shared-memory names " + prefix + "-*", e);
    }
  }
}
