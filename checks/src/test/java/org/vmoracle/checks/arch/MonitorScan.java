package org.vmoracle.checks.arch;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Finds {@code synchronized} blocks, which ArchUnit cannot see: it models the {@code SYNCHRONIZED}
 * method modifier but not the {@code MONITORENTER} instruction a block compiles to (notes,
 * verification-tools.md §3, F7). Class files are read as classpath resources, so classes inside the
 * reactor's jars are scanned like those in directories.
 */
final class MonitorScan {
  private MonitorScan() {}

  /**
   * Every method of the named classes that enters a monitor, as {@code Class#method}, in the order
   * found. A class whose class file is not on the class path of {@code loader} is an error, not a
   * silent pass. No requirements.
   */
  static List<String> monitorEnters(ClassLoader loader, Collection<String> classNames) {
    List<String> found = new ArrayList<>();
    for (String name : classNames) {
      String resource = name.replace('.', '/') + ".class";
      try (InputStream in = loader.getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException("class file " + resource + " is not on the class path");
        }
        new ClassReader(in).accept(new Finder(name, found), ClassReader.SKIP_FRAMES);
      } catch (IOException e) {
        throw new UncheckedIOException("reading " + resource, e);
      }
    }
    return found;
  }

  private static final class Finder extends ClassVisitor {
    private final String className;
    private final List<String> found;

    Finder(String className, List<String> found) {
      super(Opcodes.ASM9);
      this.className = className;
      this.found = found;
    }

    @Override
    public MethodVisitor visitMethod(
        int access, String method, String descriptor, String signature, String[] exceptions) {
      String where = className + "#" + method;
      return new MethodVisitor(Opcodes.ASM9) {
        @Override
        public void visitInsn(int opcode) {
          if (opcode == Opcodes.MONITORENTER && !found.contains(where)) {
            found.add(where);
          }
        }
      };
    }
  }
}
