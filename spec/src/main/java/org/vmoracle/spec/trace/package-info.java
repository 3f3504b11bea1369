/**
 * The trace language: a public contract (DESIGN.md, "The trace language"), so keep it compatible.
 *
 * <p>A trace is text, one operation a line; {@code #} starts a comment anywhere on a line; blank
 * lines are allowed; tokens are separated by spaces or tabs, and {@code ->} is a token of its own
 * even when written against its neighbours. Grammar:
 *
 * <pre>
 * line    = [ op [ "->" result ] ] [ "#" comment ]
 * result  = VALUE | "ok" | EINVAL | ENOMEM | EAGAIN | ESRCH | EEXIST | ENOENT | EACCES
 *         | EFBIG | SEGV | BUS | OOM
 * op      = "spawn" P | "fork" P C | "clone" P C | "exec" P IMAGE | "exit" P
 *         | "mmap" P ADDR PAGES PROT SHARING SOURCE [ "fixed" ]
 *         | "munmap" P ADDR PAGES | "mprotect" P ADDR PAGES PROT
 *         | "minherit" P ADDR PAGES ( "share" | "copy" | "none" | "zero" )
 *         | "mlock" P ADDR PAGES | "munlock" P ADDR PAGES
 *         | "read" P ADDR | "write" P ADDR VALUE
 *         | "file" NAME PAGES | "fwrite" NAME OFF VALUE | "fread" NAME OFF
 *         | "shmget" KEY PAGES | "shmrm" KEY | "pageout" PAGES | "collapse" P ADDR
 * PROT    = "none" | "r" | "rw" | "rx" | "rwx"
 * SHARING = "private" | "shared"
 * SOURCE  = "anon" | "file" NAME PGOFF | "shm" KEY
 * </pre>
 *
 * <p>Numbers are decimal or {@code 0x} hexadecimal. A VALUE (a word written, or an expected result)
 * is any 64-bit pattern: decimal from -2^63 to 2^64-1, or {@code 0x} and at most 16 hex digits, so
 * {@code 0xffffffffffffffff} and {@code -1} are the same value. Every other number (pid, address,
 * page count, page offset, byte offset, key) is written without a sign, lies below 2^63, and must
 * be accepted by the {@link org.vmoracle.spec.Op} constructor it goes to.
 *
 * <p>{@link org.vmoracle.spec.trace.TraceParser} reads it, {@link
 * org.vmoracle.spec.trace.TracePrinter} writes its canonical form and {@link
 * org.vmoracle.spec.trace.Replay} runs it against a {@link org.vmoracle.spec.VmSystem}.
 */
package org.vmoracle.spec.trace;
