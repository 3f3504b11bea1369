package org.vmoracle.checks.nativ;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The C runner {@code vmtrace}, built on demand with the system gcc.
 *
 * <p>The source is the classpath resource {@value #RESOURCE} (copied there from {@code
 * checks/src/main/c/vmtrace.c} by the build, so the shaded jar carries it too). It is compiled into
 * {@code vmtrace} in {@link #directory()}, next to a stamp holding the SHA-256 of the source and
 * the compiler flags; it is compiled again whenever the source (or the flags) changed since. A file
 * lock keeps two runs from building at the same time.
 *
 * <p>It is linked {@code -static-pie}: a static binary has no shared libraries to map, so its whole
 * footprint is one image, the vdso and a small brk heap, placed by the kernel just below the mmap
 * base, far from the addresses traces use (see the C file's opening comment).
 */
public final class NativeBinary {
  private NativeBinary() {}

  /** Where the source lives on the class path. */
  public static final String RESOURCE = "/org/vmoracle/checks/nativ/vmtrace.c";

  /** gcc's flags: C11, warnings on, a static position-independent executable. */
  static final List<String> COMPILE_FLAGS = List.of("-std=c11", "-O2", "-Wall", "-Wextra");

  static final List<String> LINK_FLAGS = List.of("-static-pie");

  /** System property naming the directory for the binary, instead of {@link #directory()}. */
  public static final String DIRECTORY_PROPERTY = "vmoracle.native.dir";

  private static final long BUILD_SECONDS = 180;

  /**
   * Why the native runner cannot run here, without building anything: not Linux on x86-64, or no
   * gcc on the PATH. Empty when it may run (the build can still fail: {@link #ensureBuilt}).
   */
  public static Optional<String> unavailable() {
    String os = System.getProperty("os.name", "");
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (!os.equals("Linux")) {
      return Optional.of("the native runner needs Linux; this is " + os);
    }
    if (!arch.equals("amd64") && !arch.equals("x86_64")) {
      return Optional.of(
          "the native runner needs x86-64 (4 KiB pages, user space ending at 0x7ffffffff000);"
              + " this is "
              + arch);
    }
    if (gcc().isEmpty()) {
      return Optional.of("the native runner needs gcc to build its C part; none is on the PATH");
    }
    return Optional.empty();
  }

  /**
   * The runner binary, built first if it is missing or older than its source. No requirements.
   *
   * @throws NativeUnavailableException when {@link #unavailable()} says so, or the static link
   *     fails (no static C library installed)
   * @throws IllegalStateException when the source does not compile: a bug of vmoracle
   */
  public static Path ensureBuilt() throws NativeUnavailableException {
    Optional<String> why = unavailable();
    if (why.isPresent()) {
      throw new NativeUnavailableException(why.get());
    }
    Path dir = directory();
    byte[] source = source();
    String stamp = stamp(source);
    Path binary = dir.resolve("vmtrace");
    Path stampFile = dir.resolve("vmtrace.stamp");
    try {
      Files.createDirectories(dir);
      try (FileChannel lockChannel =
          FileChannel.open(
              dir.resolve("build.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
        FileLock lock = lockChannel.lock();
        try {
          if (Files.isExecutable(binary)
              && Files.exists(stampFile)
              && Files.readString(stampFile, StandardCharsets.UTF_8).trim().equals(stamp)) {
            return binary;
          }
          build(dir, source, binary);
          Files.writeString(stampFile, stamp + "\n", StandardCharsets.UTF_8);
          return binary;
        } finally {
          lock.release();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot build the native runner in " + dir, e);
    }
  }

  /**
   * The directory of the binary: {@code target/vmoracle/native} of the module this class was loaded
   * from ({@code checks/target/vmoracle.jar} or {@code checks/target/classes}), or the directory
   * the system property {@value #DIRECTORY_PROPERTY} names, or one under {@code java.io.tmpdir}
   * when this class was not loaded from a file.
   */
  public static Path directory() {
    String override = System.getProperty(DIRECTORY_PROPERTY);
    if (override != null && !override.isEmpty()) {
      return Paths.get(override).toAbsolutePath();
    }
    try {
      Path loc =
          Paths.get(NativeBinary.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path target = loc.getParent();
      if (target != null && Files.isWritable(target)) {
        return target.resolve("vmoracle").resolve("native");
      }
    } catch (URISyntaxException | RuntimeException e) {
      // No usable code source (a custom class loader): fall through to the temporary directory.
    }
    return Paths.get(
        System.getProperty("java.io.tmpdir"),
        "vmoracle-native-" + System.getProperty("user.name", "user"));
  }

  private static void build(Path dir, byte[] source, Path binary)
      throws IOException, NativeUnavailableException {
    Path c = dir.resolve("vmtrace.c");
    Path object = dir.resolve("vmtrace.o");
    Path tmp = dir.resolve("vmtrace.tmp");
    Files.write(c, source);
    String gcc = gcc().orElseThrow();
    List<String> compile = new ArrayList<>(List.of(gcc));
    compile.addAll(COMPILE_FLAGS);
    compile.addAll(List.of("-fPIE", "-c", "-o", object.toString(), c.toString()));
    Run cc = run(compile, dir);
    if (cc.code != 0) {
      throw new IllegalStateException(
          "vmtrace.c does not compile (a bug of vmoracle):\n"
              + String.join(" ", compile)
              + "\n"
              + cc.output);
    }
    List<String> link = new ArrayList<>(List.of(gcc));
    link.addAll(LINK_FLAGS);
    link.addAll(List.of("-o", tmp.toString(), object.toString()));
    Run ld = run(link, dir);
    Files.deleteIfExists(object);
    if (ld.code != 0) {
      throw new NativeUnavailableException(
          "gcc could not link the native runner statically; it needs the static C library"
              + " (Debian and Ubuntu: libc6-dev; Fedora: glibc-static):\n"
              + ld.output.strip());
    }
    try {
      Files.move(tmp, binary, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, binary, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** What a finished command printed (stdout and stderr together) and its exit code. */
  private record Run(int code, String output) {}

  private static Run run(List<String> command, Path dir) throws IOException {
    Process p =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    p.getOutputStream().close();
    byte[] out;
    try (InputStream in = p.getInputStream()) {
      out = in.readAllBytes();
    }
    try {
      if (!p.waitFor(BUILD_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(command.get(0) + " took more than " + BUILD_SECONDS + " s");
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while building the native runner", e);
    }
    return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** The source, from the class path. */
  static byte[] source() {
    try (InputStream in = NativeBinary.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            RESOURCE + " is not on the class path: the build did not copy checks/src/main/c");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }

  private static String stamp(byte[] source) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(source);
      md.update(String.join(" ", COMPILE_FLAGS).getBytes(StandardCharsets.UTF_8));
      md.update(String.join(" ", LINK_FLAGS).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** gcc on the PATH, if any. */
  private static Optional<String> gcc() {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String d : path.split(File.pathSeparator)) {
      if (d.isEmpty()) {
        continue;
      }
      Path g = Paths.get(d, "gcc");
      if (Files.isRegularFile(g) && Files.isExecutable(g)) {
        return Optional.of(g.toString());
      }
    }
    return Optional.empty();
  }
}
