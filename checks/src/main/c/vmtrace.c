/*
 * vmtrace: runs vmoracle trace operations on the host Linux kernel (x86-64), so that the model
 * can be validated against a real kernel (issue 5). Built at run time by the Java side
 * (org.vmoracle.checks.nativ.NativeBinary) with
 *
 *     gcc -std=c11 -O2 -Wall -Wextra -static-pie -o vmtrace vmtrace.c
 *
 * C11 and libc only. Every system call's result is checked.
 *
 * ------------------------------------------------------------------------------------------
 * Processes
 * ------------------------------------------------------------------------------------------
 *
 *   vmtrace coordinator WORKDIR SHMPREFIX [MAXPROCS]
 *                                            the process Java talks to (stdin/stdout); at most
 *                                            MAXPROCS workers live at once (default
 *                                            DEFAULT_MAX_WORKERS, HOST-5)
 *   vmtrace worker FD                        one per live trace pid; never started by hand
 *
 * The coordinator owns the trace's files (in WORKDIR, which Java creates empty and deletes
 * afterwards), its POSIX shared-memory names (/SHMPREFIX-KEY) and one worker process per live
 * trace pid, each connected to it by its own SOCK_SEQPACKET socket pair. It answers one line for
 * every line it reads, in order, and never runs two workers at once: a worker runs only between
 * a command and its reply, so workers that share an address space (clone) never run together.
 *
 * A worker is always a fresh execve of this binary (spawn, exec) or a fork/clone of a worker.
 * Before the execve the coordinator turns address-space randomization off
 * (personality(ADDR_NO_RANDOMIZE)) and sets RLIMIT_STACK to 8 MiB, so every fresh worker has the
 * same layout: the static-PIE image, vdso and a 32 MiB PROT_NONE arena (clone stacks) just below
 * the kernel's mmap base (0x7ffff7fff000 on x86-64), the startup brk heap, and the stack just
 * below 0x7ffffffff000. A fresh worker reports those ranges (the "reserved" ranges, widened for
 * stack growth); the trace must not touch them, and Java reports a trace that would as
 * unsupported (HOST-1). Everything else of the address space is the trace's.
 *
 * If the coordinator dies, every worker sees end-of-file on its socket and exits. The
 * coordinator is a child subreaper, so workers whose parent worker exited are reaped by it.
 *
 * ------------------------------------------------------------------------------------------
 * The line protocol (Java -> coordinator on stdin; one reply line each on stdout)
 * ------------------------------------------------------------------------------------------
 *
 * Tokens are separated by single spaces. ADDR, VALUE and OFF are numbers as strtoull(base 0)
 * reads them (Java writes 0x and hex digits); P, C, PAGES, PGOFF and KEY are decimal.
 * PROT is none|r|rw|rx|rwx, SHARING private|shared.
 *
 *   spawn P                          a fresh worker for trace pid P
 *   fork P C                         worker P forks (fork(2)); the child becomes worker C
 *   clone P C                        worker P clones with CLONE_VM; the child becomes worker C
 *   exec P IMAGE [SEG...]            worker P execve()s WORKDIR/images/IMAGE (a link to this
 *                                    binary, made when SEGs are given) and the new image maps
 *                                    each SEG with MAP_FIXED_NOREPLACE. A SEG is
 *                                    ADDR,PAGES,PROT,SHARING,anon or
 *                                    ADDR,PAGES,PROT,SHARING,file,NAME,PGOFF
 *   exit P                           worker P calls _exit(0)
 *   mmap P ADDR PAGES PROT SHARING MODE SOURCE
 *                                    MODE: fixed (MAP_FIXED), noreplace (MAP_FIXED_NOREPLACE)
 *                                    or hint (neither); SOURCE: anon | file NAME PGOFF | shm KEY.
 *                                    MAP_NORESERVE is always given: the model has no commit
 *                                    accounting, so the kernel's overcommit heuristic must not
 *                                    refuse large sparse mappings.
 *   munmap P ADDR PAGES              munmap(2)
 *   mprotect P ADDR PAGES PROT       mprotect(2)
 *   minherit P ADDR PAGES INH        madvise(2): none = DONTFORK+KEEPONFORK,
 *                                    zero = WIPEONFORK+DOFORK, copy|share = DOFORK+KEEPONFORK
 *   mlock P ADDR PAGES               mlock(2)
 *   munlock P ADDR PAGES             munlock(2)
 *   read P ADDR                      a 64-bit load; SIGSEGV and SIGBUS are caught
 *   write P ADDR VALUE               a 64-bit store; likewise
 *   collapse P ADDR                  msync(page, 4096, MS_ASYNC): ok when mapped, else ENOMEM
 *   pageout                          every worker: madvise(MADV_PAGEOUT) on each of its mappings
 *                                    outside the reserved ranges (errors ignored: locked ranges)
 *   file NAME PAGES                  open(O_CREAT) + ftruncate(PAGES * 4096)
 *   fwrite NAME OFF VALUE            pwrite(2) of one word at any OFF below 2^63, then
 *                                    ftruncate()s to the end of OFF's page when the file ends
 *                                    before it (trace sizes are pages). The kernel itself refuses
 *                                    OFF at or past 2^47 with EFBIG (FILE-12): RLIMIT_FSIZE is
 *                                    2^47 and SIGXFSZ ignored
 *   fread NAME OFF                   pread(2) of one word at any OFF below 2^63; 0 bytes read
 *                                    answers EINVAL
 *   shmget KEY PAGES                 shm_open(O_CREAT|O_EXCL) + ftruncate; 0 pages answers EINVAL
 *                                    (shmget(2): size below SHMMIN)
 *   shmrm KEY                        shm_unlink(3)
 *   quit                             ends the run (so does end of input)
 *
 * File NAMEs map to WORKDIR/f_N, N the name's number in the order the run first made them, so
 * every name the trace language allows (up to 255 characters of [A-Za-z0-9_./-], "." and ".."
 * included) is one flat host file; a name never made is no file (ENOENT). The boot files bin/static,
 * bin/dynamic and lib/libc (20, 20, 68 pages; word w of file k reads (k << 32) | w) are made at
 * start. Pids the coordinator does not know answer ESRCH; spawn, fork and clone onto a live pid
 * answer EEXIST (a dead parent is checked first).
 *
 * Replies: "0x" and lower-case hex digits (an address or a word), "ok", an errno name (EINVAL,
 * ENOMEM, ...; unknown numbers as E<n>), "SEGV" or "BUS" (the signal an access took), or
 * "ERROR <text>" when the runner itself failed (a worker died, a malformed line). Before the
 * first command the coordinator prints
 *
 *   ready reserved=LO-HI[,LO-HI...] memlock=N|unlimited filemax=N shmmax=N
 *
 * filemax and shmmax are the largest sizes in bytes (at most 2^47, FILE-12) that a file in
 * WORKDIR and a POSIX shared-memory object can be given here: the file system's own limit
 * (s_maxbytes: 16 TiB - 4 KiB on ext4) may be lower than 2^47; Java reports a line that would need
 * more as unsupported (HOST-4).
 *
 * or an ERROR line and exits. Diagnostics go to stderr.
 *
 * Cleanup, on quit, end of input, SIGTERM, SIGINT or SIGHUP: every worker is killed (through a
 * pidfd when the kernel has them), the shared-memory names made by shmget are unlinked, and the
 * files made in WORKDIR and then WORKDIR itself are removed.
 */
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
#ifndef MADV_KEEPONFORK
#define MADV_KEEPONFORK 19
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define PAGE ((uint64_t)4096)
#define MIB ((uint64_t)1 << 20)
/* Top of user space on x86-64 with 4-level paging (TASK_SIZE): where the stack ends. */
#define TASK_TOP ((uint64_t)0x7ffffffff000)
/* The workers' stack limit: fixes the mmap base (TASK_TOP - 128 MiB) and the stack's reach. */
#define WORKER_STACK_LIMIT (8 * MIB)
/* Reserved below the stack: its limit plus the kernel's stack guard gap (256 pages). */
#define STACK_RESERVE (WORKER_STACK_LIMIT + MIB)
/* Reserved above the startup brk heap: room for libc to grow it (the worker never mallocs). */
#define HEAP_RESERVE MIB
/* The arena: clone stacks are cut from it, so they never land in the trace's address space. */
#define ARENA_SIZE (32 * MIB)
#define CLONE_STACK ((uint64_t)128 << 10)
#define MAX_RESERVED 16
#define PATH_LEN 4096
#define LINE_MAX_LEN 65536
#define BOOT_WORDS_PER_PAGE 512
/* The largest file, in bytes (FILE-12): RLIMIT_FSIZE, so the kernel answers EFBIG past it. */
#define FILE_MAX ((uint64_t)1 << 47)
/* The longest file name of the trace language (Source.NAME_MAX). */
#define NAME_MAX_LEN 255
/*
 * Live workers (host processes) at once, unless the coordinator is told otherwise: a trace that
 * would have more is unsupported (HOST-5), so that a trace of 50,000 spawns cannot exhaust the
 * host's pids (pid_max is 32,768 by default) or its RLIMIT_NPROC. Each worker costs a few hundred
 * KiB (page tables, stack, its pages of the static image), so 256 stay well under 100 MiB, and
 * traces of the generator and the examples use a handful.
 */
#define DEFAULT_MAX_WORKERS 256

/* ------------------------------------------------------------------------------------------
 * Messages between the coordinator and a worker (one SOCK_SEQPACKET datagram each)
 * ------------------------------------------------------------------------------------------ */

enum wop {
  W_MMAP = 1,
  W_MUNMAP,
  W_MPROTECT,
  W_MINHERIT,
  W_MLOCK,
  W_MUNLOCK,
  W_READ,
  W_WRITE,
  W_FORK, /* carries the child's socket as SCM_RIGHTS */
  W_CLONE, /* likewise */
  W_EXEC,
  W_EXIT,
  W_PAGEOUT,
  W_COLLAPSE
};

enum source { SRC_ANON = 0, SRC_FILE, SRC_SHM };
enum inherit { INH_SHARE = 0, INH_COPY, INH_NONE, INH_ZERO };

struct wmsg {
  uint32_t op;
  int32_t prot; /* PROT_* (mmap, mprotect) */
  int32_t flags; /* MAP_* (mmap) */
  int32_t source; /* enum source (mmap) */
  int32_t inherit; /* enum inherit (minherit) */
  int32_t pad;
  uint64_t addr;
  uint64_t len;
  uint64_t value;
  uint64_t off;
  char path[PATH_LEN]; /* file path or shm name (mmap), image path (exec) */
};

enum rkind { REP_OK = 1, REP_VALUE, REP_ERRNO, REP_SEGV, REP_BUS, REP_HELLO };

struct wreply {
  uint32_t kind;
  int32_t err; /* REP_ERRNO */
  uint64_t value; /* REP_VALUE */
  int32_t pid; /* REP_HELLO */
  uint32_t nreserved; /* REP_HELLO of a fresh image; 0 after fork and clone */
  uint64_t reserved[2 * MAX_RESERVED];
};

/* ------------------------------------------------------------------------------------------
 * Small helpers shared by both roles
 * ------------------------------------------------------------------------------------------ */

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void diag(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) {
    return;
  }
  size_t len = (size_t)n < sizeof buf - 1 ? (size_t)n : sizeof buf - 2;
  buf[len++] = '\n';
  /* Best effort: a diagnostic that cannot be written is dropped. */
  ssize_t w = write(2, buf, len);
  (void)w;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int send_msg(int sock, const void *m, size_t len, int fd_to_pass) {
  struct iovec iov = {.iov_base = (void *)m, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  if (fd_to_pass >= 0) {
    memset(&control, 0, sizeof control);
    mh.msg_control = control.buf;
    mh.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd_to_pass, sizeof(int));
  }
  for (;;) {
    ssize_t w = sendmsg(sock, &mh, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w < 0) {
      return -1;
    }
    if ((size_t)w != len) {
      errno = EMSGSIZE;
      return -1;
    }
    return 0;
  }
}

/*
 * Receives one datagram of at most len bytes into m. Answers its length, 0 when the peer closed
 * the socket, -1 on error. A passed descriptor, if any, goes to *fd (else *fd is -1).
 */
static ssize_t recv_msg(int sock, void *m, size_t len, int *fd) {
  struct iovec iov = {.iov_base = m, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control.buf;
  mh.msg_controllen = sizeof control.buf;
  if (fd != NULL) {
    *fd = -1;
  }
  ssize_t r;
  do {
    r = recvmsg(sock, &mh, 0);
  } while (r < 0 && errno == EINTR);
  if (r <= 0) {
    return r;
  }
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int got;
      memcpy(&got, CMSG_DATA(c), sizeof got);
      if (fd != NULL && *fd < 0) {
        *fd = got;
      } else if (close(got) != 0) {
        diag("vmtrace: close of an unexpected descriptor: %s", strerror(errno));
      }
    }
  }
  return r;
}

/* ------------------------------------------------------------------------------------------
 * The worker
 * ------------------------------------------------------------------------------------------ */

/*
 * Globals of a worker. They are written only at startup of a fresh image (before any fork or
 * clone), except g_fault_env and g_fault_sig, which belong to the one access running at a time:
 * workers that share an address space share these variables, and never run together.
 */
static uint64_t g_reserved[2 * MAX_RESERVED];
static unsigned g_nreserved;
static unsigned char *g_arena;
static sigjmp_buf *volatile g_fault_env;
static volatile sig_atomic_t g_fault_sig;

/* The arena's first page: the next free clone-stack slot of this address space. */
struct arena_header {
  uint32_t next_slot;
};

static void on_fault(int sig, siginfo_t *si, void *uc) {
  (void)si;
  (void)uc;
  sigjmp_buf *env = g_fault_env;
  if (env == NULL) {
    /* Not a guarded access: a bug of the runner. Die of the signal on return. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
    return;
  }
  g_fault_sig = sig;
  siglongjmp(*env, 1);
}

/*
 * One 64-bit load or store at addr. Answers REP_VALUE (with *out set), REP_OK, REP_SEGV or
 * REP_BUS. No local variable changes between sigsetjmp and a possible siglongjmp.
 */
static int guarded_access(uint64_t addr, int is_write, uint64_t value, uint64_t *out) {
  sigjmp_buf env;
  if (sigsetjmp(env, 1) != 0) {
    g_fault_env = NULL;
    return g_fault_sig == SIGBUS ? REP_BUS : REP_SEGV;
  }
  g_fault_sig = 0;
  g_fault_env = &env;
  volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)addr;
  if (is_write) {
    *p = value;
  } else {
    *out = *p;
  }
  g_fault_env = NULL;
  return is_write ? REP_OK : REP_VALUE;
}

static int overlaps_reserved(uint64_t start, uint64_t end) {
  for (unsigned i = 0; i < g_nreserved; i++) {
    if (start < g_reserved[2 * i + 1] && g_reserved[2 * i] < end) {
      return 1;
    }
  }
  return 0;
}

static void add_reserved(uint64_t start, uint64_t end) {
  start &= ~(MIB - 1);
  end = (end + MIB - 1) & ~(MIB - 1);
  if (end > TASK_TOP) {
    end = TASK_TOP;
  }
  /* Merge with an overlapping or adjacent range, else append. */
  for (unsigned i = 0; i < g_nreserved; i++) {
    uint64_t *r = &g_reserved[2 * i];
    if (start <= r[1] && r[0] <= end) {
      r[0] = start < r[0] ? start : r[0];
      r[1] = end > r[1] ? end : r[1];
      return;
    }
  }
  if (g_nreserved == MAX_RESERVED) {
    diag("vmtrace worker: more than %d reserved ranges", MAX_RESERVED);
    _exit(3);
  }
  g_reserved[2 * g_nreserved] = start;
  g_reserved[2 * g_nreserved + 1] = end;
  g_nreserved++;
}

/*
 * Calls fn(start, end, name, arg) for every line of /proc/self/maps. Answers 0, or -1 with errno
 * set when the file cannot be read.
 */
static int for_each_mapping(void (*fn)(uint64_t, uint64_t, const char *, void *), void *arg) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  char buf[8192];
  size_t have = 0;
  for (;;) {
    ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int e = errno;
      close(fd);
      errno = e;
      return -1;
    }
    have += (size_t)n;
    buf[have] = '\0';
    char *line = buf;
    char *nl;
    while ((nl = memchr(line, '\n', (size_t)(buf + have - line))) != NULL) {
      *nl = '\0';
      char *dash;
      uint64_t start = strtoull(line, &dash, 16);
      uint64_t end = (*dash == '-') ? strtoull(dash + 1, NULL, 16) : 0;
      /* The path name, if any, is the sixth field. */
      const char *name = "";
      int field = 0;
      for (char *q = line; *q != '\0' && field < 5; q++) {
        if (*q == ' ' && q[1] != ' ') {
          field++;
          if (field == 5) {
            name = q + 1;
          }
        }
      }
      fn(start, end, name, arg);
      line = nl + 1;
    }
    size_t rest = (size_t)(buf + have - line);
    if (n == 0) {
      break;
    }
    if (rest == sizeof buf - 1) {
      /* A line longer than the buffer: /proc/self/maps lines are far shorter. */
      close(fd);
      errno = EOVERFLOW;
      return -1;
    }
    memmove(buf, line, rest);
    have = rest;
  }
  if (close(fd) != 0) {
    return -1;
  }
  return 0;
}

static void reserve_mapping(uint64_t start, uint64_t end, const char *name, void *arg) {
  (void)arg;
  if (strcmp(name, "[vsyscall]") == 0) {
    return; /* above user space: no trace address reaches it */
  }
  if (strcmp(name, "[stack]") == 0) {
    add_reserved(start > STACK_RESERVE ? start - STACK_RESERVE : 0, end);
  } else if (strcmp(name, "[heap]") == 0) {
    add_reserved(start, end + HEAP_RESERVE);
  } else {
    add_reserved(start, end);
  }
}

static void pageout_mapping(uint64_t start, uint64_t end, const char *name, void *arg) {
  (void)name;
  (void)arg;
  if (end <= start || end > TASK_TOP || overlaps_reserved(start, end)) {
    return;
  }
  /* Errors are expected (EINVAL for locked ranges) and change nothing. */
  (void)madvise((void *)(uintptr_t)start, (size_t)(end - start), MADV_PAGEOUT);
}

static int reply_plain(int sock, uint32_t kind, int err, uint64_t value) {
  struct wreply r;
  memset(&r, 0, sizeof r);
  r.kind = kind;
  r.err = err;
  r.value = value;
  return send_msg(sock, &r, sizeof r, -1);
}

static int reply_errno_or_ok(int sock, int rc) {
  return rc == 0 ? reply_plain(sock, REP_OK, 0, 0) : reply_plain(sock, REP_ERRNO, errno, 0);
}

static void send_hello(int sock, int fresh) {
  struct wreply r;
  memset(&r, 0, sizeof r);
  r.kind = REP_HELLO;
  r.pid = (int32_t)getpid();
  if (fresh) {
    r.nreserved = g_nreserved;
    memcpy(r.reserved, g_reserved, sizeof r.reserved);
  }
  if (send_msg(sock, &r, sizeof r, -1) != 0) {
    _exit(4);
  }
}

static int do_minherit(const struct wmsg *m) {
  void *a = (void *)(uintptr_t)m->addr;
  size_t len = (size_t)m->len;
  int first;
  int second;
  switch (m->inherit) {
    case INH_NONE:
      first = MADV_DONTFORK;
      second = MADV_KEEPONFORK;
      break;
    case INH_ZERO:
      first = MADV_WIPEONFORK;
      second = MADV_DOFORK;
      break;
    case INH_SHARE:
    case INH_COPY:
      first = MADV_DOFORK;
      second = MADV_KEEPONFORK;
      break;
    default:
      errno = EINVAL;
      return -1;
  }
  if (madvise(a, len, first) != 0) {
    return -1;
  }
  return madvise(a, len, second);
}

static int do_mmap(const struct wmsg *m, uint64_t *out) {
  int fd = -1;
  if (m->source == SRC_FILE) {
    fd = open(m->path, O_RDWR | O_CLOEXEC);
  } else if (m->source == SRC_SHM) {
    fd = shm_open(m->path, O_RDWR, 0);
  }
  if (m->source != SRC_ANON && fd < 0) {
    return -1;
  }
  int flags = m->flags | (m->source == SRC_ANON ? MAP_ANONYMOUS : 0);
  void *p = mmap((void *)(uintptr_t)m->addr, (size_t)m->len, m->prot, flags, fd, (off_t)m->off);
  int e = errno;
  if (fd >= 0 && close(fd) != 0) {
    diag("vmtrace worker: close after mmap: %s", strerror(errno));
  }
  if (p == MAP_FAILED) {
    errno = e;
    return -1;
  }
  *out = (uint64_t)(uintptr_t)p;
  return 0;
}

static void worker_loop(int sock) __attribute__((noreturn));

struct clone_start {
  int sock; /* the clone's own socket */
  int parent_sock; /* the parent's socket, which the clone's copy of the fd table holds too */
};

static int clone_main(void *arg) {
  struct clone_start *cs = arg;
  int sock = cs->sock;
  if (close(cs->parent_sock) != 0) {
    _exit(5);
  }
  send_hello(sock, 0);
  worker_loop(sock);
}

/* A stack for a clone, from this address space's arena: [*lo, *hi), or -1 when it is full. */
static int clone_stack(unsigned char **hi) {
  struct arena_header *h = (struct arena_header *)g_arena;
  uint64_t slots = (ARENA_SIZE - PAGE) / CLONE_STACK;
  if (h->next_slot >= slots) {
    errno = EAGAIN;
    return -1;
  }
  unsigned char *slot = g_arena + PAGE + (uint64_t)h->next_slot * CLONE_STACK;
  /* The slot's first page stays PROT_NONE: a guard below the stack. */
  if (mprotect(slot + PAGE, CLONE_STACK - PAGE, PROT_READ | PROT_WRITE) != 0) {
    return -1;
  }
  h->next_slot++;
  *hi = slot + CLONE_STACK;
  return 0;
}

static void do_fork(int *sock, int child_sock) {
  long pid = syscall(SYS_fork);
  if (pid < 0) {
    int e = errno;
    if (close(child_sock) != 0) {
      diag("vmtrace worker: close: %s", strerror(errno));
    }
    if (reply_plain(*sock, REP_ERRNO, e, 0) != 0) {
      _exit(4);
    }
    return;
  }
  if (pid == 0) {
    if (close(*sock) != 0) {
      _exit(5);
    }
    *sock = child_sock;
    send_hello(*sock, 0);
    return;
  }
  if (close(child_sock) != 0) {
    diag("vmtrace worker: close: %s", strerror(errno));
  }
  if (reply_plain(*sock, REP_VALUE, 0, (uint64_t)pid) != 0) {
    _exit(4);
  }
}

static void do_clone(int sock, int child_sock) {
  unsigned char *hi;
  if (clone_stack(&hi) != 0) {
    int e = errno;
    if (close(child_sock) != 0) {
      diag("vmtrace worker: close: %s", strerror(errno));
    }
    if (reply_plain(sock, REP_ERRNO, e, 0) != 0) {
      _exit(4);
    }
    return;
  }
  /* The start block lives at the top of the new stack, which the parent never touches again. */
  struct clone_start *cs = (struct clone_start *)(hi - 64);
  cs->sock = child_sock;
  cs->parent_sock = sock;
  int pid = clone(clone_main, (void *)cs, CLONE_VM | SIGCHLD, cs);
  int e = errno;
  if (close(child_sock) != 0) {
    diag("vmtrace worker: close: %s", strerror(errno));
  }
  int rc = pid < 0 ? reply_plain(sock, REP_ERRNO, e, 0)
                   : reply_plain(sock, REP_VALUE, 0, (uint64_t)pid);
  if (rc != 0) {
    _exit(4);
  }
}

static void do_exec(int sock, const struct wmsg *m) {
  char fdarg[16];
  int n = snprintf(fdarg, sizeof fdarg, "%d", sock);
  if (n < 0 || (size_t)n >= sizeof fdarg) {
    _exit(6);
  }
  char *argv[] = {"vmtrace", "worker", fdarg, NULL};
  char *envp[] = {NULL};
  execve(m->path, argv, envp);
  /* Only a failed execve returns. */
  if (reply_plain(sock, REP_ERRNO, errno, 0) != 0) {
    _exit(4);
  }
}

static void worker_loop(int sock) {
  for (;;) {
    struct wmsg m;
    int passed = -1;
    ssize_t n = recv_msg(sock, &m, sizeof m, &passed);
    if (n == 0) {
      _exit(0); /* the coordinator is gone */
    }
    if (n < 0 || (size_t)n != sizeof m) {
      diag("vmtrace worker %d: bad message (%zd bytes): %s", (int)getpid(), n, strerror(errno));
      _exit(7);
    }
    if (passed >= 0 && m.op != W_FORK && m.op != W_CLONE) {
      diag("vmtrace worker: a descriptor came with operation %u", m.op);
      _exit(7);
    }
    void *a = (void *)(uintptr_t)m.addr;
    size_t len = (size_t)m.len;
    int rc = 0;
    uint64_t v = 0;
    switch (m.op) {
      case W_MMAP:
        rc = do_mmap(&m, &v) == 0 ? reply_plain(sock, REP_VALUE, 0, v)
                                  : reply_plain(sock, REP_ERRNO, errno, 0);
        break;
      case W_MUNMAP:
        rc = reply_errno_or_ok(sock, munmap(a, len));
        break;
      case W_MPROTECT:
        rc = reply_errno_or_ok(sock, mprotect(a, len, m.prot));
        break;
      case W_MINHERIT:
        rc = reply_errno_or_ok(sock, do_minherit(&m));
        break;
      case W_MLOCK:
        rc = reply_errno_or_ok(sock, mlock(a, len));
        break;
      case W_MUNLOCK:
        rc = reply_errno_or_ok(sock, munlock(a, len));
        break;
      case W_READ:
      case W_WRITE: {
        int kind = guarded_access(m.addr, m.op == W_WRITE, m.value, &v);
        rc = reply_plain(sock, (uint32_t)kind, 0, v);
        break;
      }
      case W_COLLAPSE:
        rc = reply_errno_or_ok(sock,
                               msync((void *)(uintptr_t)(m.addr & ~(PAGE - 1)), PAGE, MS_ASYNC));
        break;
      case W_PAGEOUT:
        rc = reply_errno_or_ok(sock, for_each_mapping(pageout_mapping, NULL));
        break;
      case W_FORK:
        if (passed < 0) {
          _exit(7);
        }
        do_fork(&sock, passed);
        break;
      case W_CLONE:
        if (passed < 0) {
          _exit(7);
        }
        do_clone(sock, passed);
        break;
      case W_EXEC:
        do_exec(sock, &m);
        break;
      case W_EXIT:
        _exit(0);
      default:
        diag("vmtrace worker: unknown operation %u", m.op);
        _exit(7);
    }
    if (rc != 0) {
      _exit(4); /* the coordinator is gone */
    }
  }
}

static int worker_main(const char *fdarg) {
  char *end;
  errno = 0;
  long fd = strtol(fdarg, &end, 10);
  if (errno != 0 || *end != '\0' || fd < 0 || fd > INT_MAX) {
    diag("vmtrace worker: bad descriptor '%s'", fdarg);
    return 2;
  }
  int sock = (int)fd;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN;
  /* Children of workers are reaped by the kernel; orphans by the coordinator (a subreaper). */
  if (sigaction(SIGCHLD, &sa, NULL) != 0 || sigaction(SIGPIPE, &sa, NULL) != 0) {
    diag("vmtrace worker: sigaction: %s", strerror(errno));
    return 2;
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO;
  if (sigemptyset(&sa.sa_mask) != 0 || sigaction(SIGSEGV, &sa, NULL) != 0
      || sigaction(SIGBUS, &sa, NULL) != 0) {
    diag("vmtrace worker: sigaction: %s", strerror(errno));
    return 2;
  }

  void *arena =
      mmap(NULL, ARENA_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (arena == MAP_FAILED) {
    diag("vmtrace worker: arena: %s", strerror(errno));
    return 2;
  }
  g_arena = arena;
  if (mprotect(g_arena, PAGE, PROT_READ | PROT_WRITE) != 0) {
    diag("vmtrace worker: arena header: %s", strerror(errno));
    return 2;
  }
  ((struct arena_header *)g_arena)->next_slot = 0;

  if (for_each_mapping(reserve_mapping, NULL) != 0) {
    diag("vmtrace worker: /proc/self/maps: %s", strerror(errno));
    return 2;
  }
  send_hello(sock, 1);
  worker_loop(sock);
}

/* ------------------------------------------------------------------------------------------
 * The coordinator
 * ------------------------------------------------------------------------------------------ */

struct worker {
  int tpid; /* the trace's pid */
  pid_t pid; /* the host's */
  int sock;
  int pidfd; /* -1 when the kernel has no pidfd_open */
};

static struct worker *g_workers;
static size_t g_nworkers;
static size_t g_capworkers;
static size_t g_maxworkers = DEFAULT_MAX_WORKERS;
static char **g_files; /* file names by number: WORKDIR/f_N is g_files[N] */
static size_t g_nfiles;
static size_t g_capfiles;
static const char *g_workdir;
static const char *g_shmprefix;
static char g_self[PATH_MAX];
static long long *g_shmkeys;
static size_t g_nshmkeys;
static size_t g_capshmkeys;
static uint64_t g_announced[2 * MAX_RESERVED];
static unsigned g_nannounced;
static volatile sig_atomic_t g_stop;

static void on_stop(int sig) {
  g_stop = sig;
}

static void out_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One reply line on stdout. A reader that went away ends the run. */
static void out_line(const char *fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) {
    n = snprintf(buf, sizeof buf - 1, "ERROR formatting a reply");
  }
  size_t len = (size_t)n < sizeof buf - 1 ? (size_t)n : sizeof buf - 2;
  buf[len++] = '\n';
  if (write_all(1, buf, len) != 0) {
    g_stop = SIGPIPE;
  }
}

static const char *errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ETXTBSY: return "ETXTBSY";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ELOOP: return "ELOOP";
    case EOVERFLOW: return "EOVERFLOW";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return NULL;
  }
}

static void out_errno(int e) {
  const char *name = errno_name(e);
  if (name != NULL) {
    out_line("%s", name);
  } else {
    out_line("E%d", e);
  }
}

static struct worker *find_worker(int tpid) {
  for (size_t i = 0; i < g_nworkers; i++) {
    if (g_workers[i].tpid == tpid) {
      return &g_workers[i];
    }
  }
  return NULL;
}

static int add_worker(int tpid, pid_t pid, int sock) {
  if (g_nworkers == g_capworkers) {
    size_t cap = g_capworkers == 0 ? 16 : 2 * g_capworkers;
    struct worker *w = realloc(g_workers, cap * sizeof *w);
    if (w == NULL) {
      return -1;
    }
    g_workers = w;
    g_capworkers = cap;
  }
  int pidfd = -1;
#ifdef SYS_pidfd_open
  long r = syscall(SYS_pidfd_open, (long)pid, 0L);
  if (r >= 0) {
    pidfd = (int)r;
    if (fcntl(pidfd, F_SETFD, FD_CLOEXEC) != 0) {
      diag("vmtrace: fcntl(pidfd): %s", strerror(errno));
    }
  }
#endif
  g_workers[g_nworkers++] = (struct worker){.tpid = tpid, .pid = pid, .sock = sock, .pidfd = pidfd};
  return 0;
}

static void close_quietly(int fd) {
  if (fd >= 0 && close(fd) != 0) {
    diag("vmtrace: close(%d): %s", fd, strerror(errno));
  }
}

static void kill_worker(struct worker *w) {
  int done = 0;
#ifdef SYS_pidfd_send_signal
  if (w->pidfd >= 0) {
    /* ESRCH: it has exited already. */
    done = syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0) == 0 || errno == ESRCH;
  }
#endif
  if (!done && w->pidfd < 0 && kill(w->pid, SIGKILL) != 0 && errno != ESRCH) {
    diag("vmtrace: kill(%d): %s", (int)w->pid, strerror(errno));
  }
}

static void remove_worker(struct worker *w) {
  close_quietly(w->sock);
  close_quietly(w->pidfd);
  size_t i = (size_t)(w - g_workers);
  g_workers[i] = g_workers[--g_nworkers];
}

static void reap(void) {
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

static void shm_name(char *buf, size_t size, long long key) {
  int n = snprintf(buf, size, "/%s-%lld", g_shmprefix, key);
  if (n < 0 || (size_t)n >= size) {
    buf[0] = '\0';
  }
}

/*
 * WORKDIR/f_N for the file named name: N its number, given when create is set and the name is
 * new. Answers 0, or -1 with errno ENOENT (a name never made, without create), ENAMETOOLONG or
 * ENOMEM.
 */
static int file_path(char *buf, size_t size, const char *name, int create) {
  size_t n = 0;
  while (n < g_nfiles && strcmp(g_files[n], name) != 0) {
    n++;
  }
  if (n == g_nfiles) {
    if (!create) {
      errno = ENOENT;
      return -1;
    }
    if (g_nfiles == g_capfiles) {
      size_t cap = g_capfiles == 0 ? 16 : 2 * g_capfiles;
      char **f = realloc(g_files, cap * sizeof *f);
      if (f == NULL) {
        errno = ENOMEM;
        return -1;
      }
      g_files = f;
      g_capfiles = cap;
    }
    char *copy = strdup(name);
    if (copy == NULL) {
      errno = ENOMEM;
      return -1;
    }
    g_files[g_nfiles++] = copy;
  }
  int w = snprintf(buf, size, "%s/f_%zu", g_workdir, n);
  if (w < 0 || (size_t)w >= size) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

static void cleanup(void) {
  for (size_t i = 0; i < g_nworkers; i++) {
    kill_worker(&g_workers[i]);
    close_quietly(g_workers[i].sock);
    close_quietly(g_workers[i].pidfd);
  }
  g_nworkers = 0;
  /* Reap what we can; the rest die on SIGKILL or on end-of-file of their socket. */
  for (int tries = 0; tries < 100; tries++) {
    pid_t p = waitpid(-1, NULL, WNOHANG);
    if (p < 0) {
      break; /* ECHILD: no children left */
    }
    if (p == 0) {
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    }
  }
  for (size_t i = 0; i < g_nshmkeys; i++) {
    char name[PATH_LEN];
    shm_name(name, sizeof name, g_shmkeys[i]);
    if (name[0] != '\0' && shm_unlink(name) != 0 && errno != ENOENT) {
      diag("vmtrace: shm_unlink(%s): %s", name, strerror(errno));
    }
  }
  g_nshmkeys = 0;
  /* Everything this run made in WORKDIR: f_* files and the images directory. */
  if (g_workdir == NULL) {
    return;
  }
  char path[PATH_LEN];
  int n = snprintf(path, sizeof path, "%s/images", g_workdir);
  if (n > 0 && (size_t)n < sizeof path) {
    DIR *d = opendir(path);
    if (d != NULL) {
      struct dirent *e;
      while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0
            && unlinkat(dirfd(d), e->d_name, 0) != 0) {
          diag("vmtrace: unlink images/%s: %s", e->d_name, strerror(errno));
        }
      }
      closedir(d);
      if (rmdir(path) != 0) {
        diag("vmtrace: rmdir %s: %s", path, strerror(errno));
      }
    }
  }
  DIR *d = opendir(g_workdir);
  if (d != NULL) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (strncmp(e->d_name, "f_", 2) == 0 && unlinkat(dirfd(d), e->d_name, 0) != 0) {
        diag("vmtrace: unlink %s: %s", e->d_name, strerror(errno));
      }
    }
    closedir(d);
  }
  /* WORKDIR itself, now empty (Java removes it too, unless Java is gone). */
  if (rmdir(g_workdir) != 0 && errno != ENOENT) {
    diag("vmtrace: rmdir %s: %s", g_workdir, strerror(errno));
  }
}

/*
 * Sends m to worker w and waits for its reply into *r. Answers 0, or -1 after printing an
 * ERROR line (the worker died or the socket failed; the worker is then forgotten).
 */
static int ask(struct worker *w, const struct wmsg *m, int fd_to_pass, struct wreply *r) {
  if (send_msg(w->sock, m, sizeof *m, fd_to_pass) != 0) {
    out_line("ERROR sending to worker %d: %s", w->tpid, strerror(errno));
    remove_worker(w);
    return -1;
  }
  ssize_t n = recv_msg(w->sock, r, sizeof *r, NULL);
  if (n != (ssize_t)sizeof *r) {
    out_line("ERROR worker %d (host pid %d) died or failed: %s", w->tpid, (int)w->pid,
             n == 0 ? "end of file" : strerror(errno));
    remove_worker(w);
    return -1;
  }
  return 0;
}

/* Whether every range of a fresh worker's hello lies within the ranges announced at start. */
static int within_announced(const struct wreply *h) {
  for (unsigned i = 0; i < h->nreserved && i < MAX_RESERVED; i++) {
    int inside = 0;
    for (unsigned j = 0; j < g_nannounced; j++) {
      if (g_announced[2 * j] <= h->reserved[2 * i]
          && h->reserved[2 * i + 1] <= g_announced[2 * j + 1]) {
        inside = 1;
      }
    }
    if (!inside) {
      return 0;
    }
  }
  return 1;
}

/*
 * Starts a fresh worker: fork, then in the child ASLR off, an 8 MiB stack limit, stdin and
 * stdout on /dev/null, and execve of this binary. Waits for its hello into *hello. Answers 0, or
 * -1 with a message in why.
 */
static int start_worker(int *sock_out, pid_t *pid_out, struct wreply *hello, char *why,
                        size_t whylen) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    snprintf(why, whylen, "socketpair: %s", strerror(errno));
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(why, whylen, "fork: %s", strerror(errno));
    close_quietly(sv[0]);
    close_quietly(sv[1]);
    return -1;
  }
  if (pid == 0) {
    /* The child: only async-signal-safe calls from here to execve. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigset_t none;
    int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    int persona = personality(0xffffffff);
    struct rlimit st;
    char fdarg[16];
    if (sigaction(SIGPIPE, &dfl, NULL) != 0 || sigaction(SIGTERM, &dfl, NULL) != 0
        || sigaction(SIGINT, &dfl, NULL) != 0 || sigaction(SIGHUP, &dfl, NULL) != 0
        || sigemptyset(&none) != 0 || sigprocmask(SIG_SETMASK, &none, NULL) != 0 || nul < 0
        || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || fcntl(sv[1], F_SETFD, 0) != 0
        || persona == -1 || personality((unsigned long)persona | ADDR_NO_RANDOMIZE) == -1
        || getrlimit(RLIMIT_STACK, &st) != 0) {
      _exit(126);
    }
    if (st.rlim_max == RLIM_INFINITY || st.rlim_max >= WORKER_STACK_LIMIT) {
      st.rlim_cur = WORKER_STACK_LIMIT;
    } else {
      st.rlim_cur = st.rlim_max;
    }
    int n = snprintf(fdarg, sizeof fdarg, "%d", sv[1]);
    if (setrlimit(RLIMIT_STACK, &st) != 0 || n < 0 || (size_t)n >= sizeof fdarg) {
      _exit(126);
    }
    char *argv[] = {"vmtrace", "worker", fdarg, NULL};
    char *envp[] = {NULL};
    execve(g_self, argv, envp);
    _exit(127);
  }
  close_quietly(sv[1]);
  ssize_t n = recv_msg(sv[0], hello, sizeof *hello, NULL);
  if (n != (ssize_t)sizeof *hello || hello->kind != REP_HELLO) {
    snprintf(why, whylen, "a new worker did not start (%s)",
             n == 0 ? "it exited; see stderr" : strerror(errno));
    close_quietly(sv[0]);
    if (kill(pid, SIGKILL) != 0 && errno != ESRCH) {
      diag("vmtrace: kill: %s", strerror(errno));
    }
    return -1;
  }
  *sock_out = sv[0];
  *pid_out = pid;
  return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
  if (s == NULL || *s == '\0' || *s == '-') {
    return -1;
  }
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno != 0 || *end != '\0') {
    return -1;
  }
  *out = v;
  return 0;
}

static int parse_pid(const char *s, int *out) {
  uint64_t v;
  if (parse_u64(s, &v) != 0 || v < 1 || v > INT_MAX) {
    return -1;
  }
  *out = (int)v;
  return 0;
}

/* A page count, as bytes: at most 2^35 pages (Op.MAX_PAGES). */
static int parse_pages(const char *s, uint64_t *bytes) {
  uint64_t v;
  if (parse_u64(s, &v) != 0 || v > ((uint64_t)1 << 35)) {
    return -1;
  }
  *bytes = v * PAGE;
  return 0;
}

static int parse_prot(const char *s, int32_t *prot) {
  if (s == NULL) {
    return -1;
  }
  if (strcmp(s, "none") == 0) {
    *prot = PROT_NONE;
  } else if (strcmp(s, "r") == 0) {
    *prot = PROT_READ;
  } else if (strcmp(s, "rw") == 0) {
    *prot = PROT_READ | PROT_WRITE;
  } else if (strcmp(s, "rx") == 0) {
    *prot = PROT_READ | PROT_EXEC;
  } else if (strcmp(s, "rwx") == 0) {
    *prot = PROT_READ | PROT_WRITE | PROT_EXEC;
  } else {
    return -1;
  }
  return 0;
}

static int parse_sharing(const char *s, int32_t *flags) {
  if (s != NULL && strcmp(s, "private") == 0) {
    *flags = MAP_PRIVATE;
  } else if (s != NULL && strcmp(s, "shared") == 0) {
    *flags = MAP_SHARED;
  } else {
    return -1;
  }
  return 0;
}

static int parse_name(const char *s) {
  if (s == NULL || *s == '\0' || strlen(s) > NAME_MAX_LEN) {
    return -1;
  }
  for (const char *p = s; *p != '\0'; p++) {
    char c = *p;
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
             || c == '.' || c == '/' || c == '-';
    if (!ok) {
      return -1;
    }
  }
  return 0;
}

/*
 * Fills the source part of an mmap message from tokens: anon | file NAME PGOFF | shm KEY.
 * Answers the number of tokens used, or -1.
 */
static int parse_source(char **t, int nt, struct wmsg *m) {
  if (nt >= 1 && strcmp(t[0], "anon") == 0) {
    m->source = SRC_ANON;
    m->off = 0;
    return 1;
  }
  if (nt >= 3 && strcmp(t[0], "file") == 0) {
    uint64_t pgoff;
    if (parse_name(t[1]) != 0 || parse_u64(t[2], &pgoff) != 0 || pgoff > ((uint64_t)1 << 35)) {
      return -1;
    }
    if (file_path(m->path, sizeof m->path, t[1], 0) != 0) {
      if (errno != ENOENT) {
        return -1;
      }
      m->path[0] = '\0'; /* never made: open("") answers ENOENT, as for a missing file */
    }
    m->source = SRC_FILE;
    m->off = pgoff * PAGE;
    return 3;
  }
  if (nt >= 2 && strcmp(t[0], "shm") == 0) {
    uint64_t key;
    if (parse_u64(t[1], &key) != 0 || key > INT_MAX) {
      return -1;
    }
    shm_name(m->path, sizeof m->path, (long long)key);
    m->source = SRC_SHM;
    m->off = 0;
    return 2;
  }
  return -1;
}

/* Answers a worker's reply to an operation that maps, reads, or answers ok or an errno. */
static void out_reply(const struct wreply *r) {
  switch (r->kind) {
    case REP_OK:
      out_line("ok");
      break;
    case REP_VALUE:
      out_line("0x%" PRIx64, r->value);
      break;
    case REP_ERRNO:
      out_errno(r->err);
      break;
    case REP_SEGV:
      out_line("SEGV");
      break;
    case REP_BUS:
      out_line("BUS");
      break;
    default:
      out_line("ERROR unexpected reply kind %u", r->kind);
  }
}

/* Whether one more worker would pass the cap; then an ERROR line says so (HOST-5). */
static int at_worker_cap(void) {
  if (g_nworkers < g_maxworkers) {
    return 0;
  }
  out_line("ERROR the runner's cap of %zu live processes is reached (HOST-5)", g_maxworkers);
  return 1;
}

static void cmd_spawn(int tpid) {
  if (find_worker(tpid) != NULL) {
    out_line("EEXIST");
    return;
  }
  if (at_worker_cap()) {
    return;
  }
  int sock;
  pid_t pid;
  struct wreply hello;
  char why[256];
  if (start_worker(&sock, &pid, &hello, why, sizeof why) != 0) {
    out_line("ERROR spawn: %s", why);
    return;
  }
  if (!within_announced(&hello)) {
    out_line("ERROR spawn: the new worker's layout differs from the announced reserved ranges");
    close_quietly(sock);
    if (kill(pid, SIGKILL) != 0) {
      diag("vmtrace: kill: %s", strerror(errno));
    }
    return;
  }
  if (add_worker(tpid, pid, sock) != 0) {
    out_line("ERROR spawn: out of memory");
    close_quietly(sock);
    return;
  }
  out_line("ok");
}

/* fork and clone: worker P makes a child that becomes worker C. */
static void cmd_fork(int parent, int child, uint32_t op) {
  struct worker *p = find_worker(parent);
  if (p == NULL) {
    out_line("ESRCH");
    return;
  }
  if (find_worker(child) != NULL) {
    out_line("EEXIST");
    return;
  }
  if (at_worker_cap()) {
    return;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    out_line("ERROR socketpair: %s", strerror(errno));
    return;
  }
  struct wmsg m;
  memset(&m, 0, sizeof m);
  m.op = op;
  struct wreply r;
  int rc = ask(p, &m, sv[1], &r);
  close_quietly(sv[1]);
  if (rc != 0) {
    close_quietly(sv[0]);
    return;
  }
  if (r.kind != REP_VALUE) {
    close_quietly(sv[0]);
    out_reply(&r);
    return;
  }
  struct wreply hello;
  ssize_t n = recv_msg(sv[0], &hello, sizeof hello, NULL);
  if (n != (ssize_t)sizeof hello || hello.kind != REP_HELLO) {
    close_quietly(sv[0]);
    out_line("ERROR the child of worker %d did not start", parent);
    return;
  }
  if (add_worker(child, (pid_t)r.value, sv[0]) != 0) {
    close_quietly(sv[0]);
    out_line("ERROR out of memory");
    return;
  }
  out_line("ok");
}

/* exec P IMAGE [SEG...]: see the protocol at the top. */
static void cmd_exec(int tpid, char **t, int nt) {
  struct worker *w = find_worker(tpid);
  if (w == NULL) {
    out_line("ESRCH");
    return;
  }
  if (nt < 1 || parse_name(t[0]) != 0 || strchr(t[0], '/') != NULL) {
    out_line("ERROR exec: bad image name");
    return;
  }
  /* Parse every segment before anything happens. */
  enum { MAX_SEGS = 16 };
  struct wmsg segs[MAX_SEGS];
  int nsegs = nt - 1;
  if (nsegs > MAX_SEGS) {
    out_line("ERROR exec: too many segments");
    return;
  }
  for (int i = 0; i < nsegs; i++) {
    char *f[8];
    int nf = 0;
    char *save = NULL;
    for (char *s = strtok_r(t[1 + i], ",", &save); s != NULL && nf < 8;
         s = strtok_r(NULL, ",", &save)) {
      f[nf++] = s;
    }
    struct wmsg *m = &segs[i];
    memset(m, 0, sizeof *m);
    m->op = W_MMAP;
    int32_t sharing;
    if (nf < 5 || parse_u64(f[0], &m->addr) != 0 || parse_pages(f[1], &m->len) != 0
        || parse_prot(f[2], &m->prot) != 0 || parse_sharing(f[3], &sharing) != 0
        || parse_source(f + 4, nf - 4, m) != nf - 4) {
      out_line("ERROR exec: bad segment %d", i + 1);
      return;
    }
    m->flags = sharing | MAP_FIXED_NOREPLACE | MAP_NORESERVE;
  }
  char dir[PATH_LEN];
  struct wmsg m;
  memset(&m, 0, sizeof m);
  m.op = W_EXEC;
  int n1 = snprintf(dir, sizeof dir, "%s/images", g_workdir);
  int n2 = snprintf(m.path, sizeof m.path, "%s/images/%s", g_workdir, t[0]);
  if (n1 < 0 || (size_t)n1 >= sizeof dir || n2 < 0 || (size_t)n2 >= sizeof m.path) {
    out_line("ERROR exec: path too long");
    return;
  }
  if (nsegs > 0) {
    /* A known image: make its link to this binary, once. */
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
      out_line("ERROR exec: mkdir %s: %s", dir, strerror(errno));
      return;
    }
    if (symlink(g_self, m.path) != 0 && errno != EEXIST) {
      out_line("ERROR exec: symlink %s: %s", m.path, strerror(errno));
      return;
    }
  }
  struct wreply r;
  if (ask(w, &m, -1, &r) != 0) {
    return;
  }
  if (r.kind != REP_HELLO) {
    out_reply(&r); /* the execve failed; the worker runs on unchanged */
    return;
  }
  if (!within_announced(&r)) {
    out_line("ERROR exec: the new image's layout differs from the announced reserved ranges");
    kill_worker(w);
    remove_worker(w);
    return;
  }
  for (int i = 0; i < nsegs; i++) {
    if (ask(w, &segs[i], -1, &r) != 0) {
      return;
    }
    if (r.kind != REP_VALUE || r.value != segs[i].addr) {
      if (r.kind == REP_VALUE) {
        out_line("ERROR exec: segment %d was placed at 0x%" PRIx64, i + 1, r.value);
      } else {
        out_reply(&r);
      }
      return;
    }
  }
  out_line("ok");
}

static void cmd_exit(int tpid) {
  struct worker *w = find_worker(tpid);
  if (w == NULL) {
    out_line("ESRCH");
    return;
  }
  struct wmsg m;
  memset(&m, 0, sizeof m);
  m.op = W_EXIT;
  if (send_msg(w->sock, &m, sizeof m, -1) != 0) {
    out_line("ERROR sending to worker %d: %s", tpid, strerror(errno));
    remove_worker(w);
    return;
  }
  /* Its socket closes when it has exited (exit_files comes after exit_mm in do_exit). */
  struct wreply r;
  ssize_t n = recv_msg(w->sock, &r, sizeof r, NULL);
  remove_worker(w);
  if (n != 0) {
    out_line("ERROR worker %d answered exit", tpid);
    return;
  }
  out_line("ok");
}

static void cmd_pageout(void) {
  struct wmsg m;
  memset(&m, 0, sizeof m);
  m.op = W_PAGEOUT;
  for (size_t i = 0; i < g_nworkers; i++) {
    struct wreply r;
    if (ask(&g_workers[i], &m, -1, &r) != 0) {
      return;
    }
    /* The walk of /proc/self/maps failed: say so, it is the runner's failure. */
    if (r.kind != REP_OK) {
      out_line("ERROR pageout in worker %d: %s", g_workers[i].tpid, strerror(r.err));
      return;
    }
  }
  out_line("ok");
}

static void cmd_file(const char *name, const char *pages) {
  char path[PATH_LEN];
  uint64_t bytes;
  if (parse_name(name) != 0 || parse_pages(pages, &bytes) != 0) {
    out_line("ERROR file: bad arguments");
    return;
  }
  if (file_path(path, sizeof path, name, 1) != 0) {
    out_errno(errno);
    return;
  }
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    out_errno(errno);
    return;
  }
  int rc = ftruncate(fd, (off_t)bytes);
  int e = errno;
  close_quietly(fd);
  if (rc != 0) {
    out_errno(e);
  } else {
    out_line("ok");
  }
}

static void cmd_fwrite(const char *name, const char *off_s, const char *val_s) {
  char path[PATH_LEN];
  uint64_t off;
  uint64_t value;
  if (parse_name(name) != 0 || parse_u64(off_s, &off) != 0 || parse_u64(val_s, &value) != 0
      || (off & 7) != 0 || off > (uint64_t)INT64_MAX) {
    out_line("ERROR fwrite: bad arguments");
    return;
  }
  if (file_path(path, sizeof path, name, 0) != 0) {
    out_errno(errno);
    return;
  }
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    out_errno(errno);
    return;
  }
  /*
   * The word first: at or past RLIMIT_FSIZE (2^47) or the file system's s_maxbytes the kernel
   * answers EFBIG and nothing changed (FILE-12). Then FILE-3: a file that ends within the word's
   * page grows to hold the whole page; that end lies at or below 2^47, so it cannot overflow.
   */
  ssize_t w;
  do {
    w = pwrite(fd, &value, sizeof value, (off_t)off);
  } while (w < 0 && errno == EINTR);
  int rc = w < 0 ? -1 : 0;
  struct stat st;
  uint64_t page_end = (off / PAGE + 1) * PAGE;
  if (rc == 0 && w == (ssize_t)sizeof value) {
    rc = fstat(fd, &st);
    if (rc == 0 && (uint64_t)st.st_size < page_end) {
      rc = ftruncate(fd, (off_t)page_end);
    }
  }
  int e = errno;
  close_quietly(fd);
  if (rc != 0) {
    out_errno(e);
  } else if (w != (ssize_t)sizeof value) {
    out_line("ERROR fwrite: short write of %zd bytes", w);
  } else {
    out_line("ok");
  }
}

static void cmd_fread(const char *name, const char *off_s) {
  char path[PATH_LEN];
  uint64_t off;
  if (parse_name(name) != 0 || parse_u64(off_s, &off) != 0 || (off & 7) != 0
      || off > (uint64_t)INT64_MAX) {
    out_line("ERROR fread: bad arguments");
    return;
  }
  if (file_path(path, sizeof path, name, 0) != 0) {
    out_errno(errno);
    return;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    out_errno(errno);
    return;
  }
  uint64_t value = 0;
  ssize_t r;
  do {
    r = pread(fd, &value, sizeof value, (off_t)off);
  } while (r < 0 && errno == EINTR);
  int e = errno;
  close_quietly(fd);
  if (r < 0) {
    out_errno(e);
  } else if (r == 0) {
    out_line("EINVAL"); /* FILE-4: no word at or past the end */
  } else if (r != (ssize_t)sizeof value) {
    out_line("ERROR fread: short read of %zd bytes", r);
  } else {
    out_line("0x%" PRIx64, value);
  }
}

static void cmd_shmget(const char *key_s, const char *pages) {
  uint64_t key;
  uint64_t bytes;
  if (parse_u64(key_s, &key) != 0 || key > INT_MAX || parse_pages(pages, &bytes) != 0) {
    out_line("ERROR shmget: bad arguments");
    return;
  }
  if (bytes == 0) {
    out_line("EINVAL"); /* shmget(2): the size is below SHMMIN */
    return;
  }
  if (g_nshmkeys == g_capshmkeys) {
    size_t cap = g_capshmkeys == 0 ? 16 : 2 * g_capshmkeys;
    long long *k = realloc(g_shmkeys, cap * sizeof *k);
    if (k == NULL) {
      out_line("ERROR shmget: out of memory");
      return;
    }
    g_shmkeys = k;
    g_capshmkeys = cap;
  }
  char name[PATH_LEN];
  shm_name(name, sizeof name, (long long)key);
  int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    out_errno(errno);
    return;
  }
  g_shmkeys[g_nshmkeys++] = (long long)key;
  int rc = ftruncate(fd, (off_t)bytes);
  int e = errno;
  close_quietly(fd);
  if (rc != 0) {
    out_errno(e);
  } else {
    out_line("ok");
  }
}

static void cmd_shmrm(const char *key_s) {
  uint64_t key;
  if (parse_u64(key_s, &key) != 0 || key > INT_MAX) {
    out_line("ERROR shmrm: bad arguments");
    return;
  }
  char name[PATH_LEN];
  shm_name(name, sizeof name, (long long)key);
  if (shm_unlink(name) != 0) {
    out_errno(errno);
  } else {
    out_line("ok");
  }
}

/* mmap, munmap, mprotect, minherit, mlock, munlock, read, write, collapse: sent to worker P. */
static void cmd_worker_op(const char *verb, char **t, int nt) {
  int tpid;
  if (nt < 1 || parse_pid(t[0], &tpid) != 0) {
    out_line("ERROR %s: bad pid", verb);
    return;
  }
  struct wmsg m;
  memset(&m, 0, sizeof m);
  int ok = 0;
  if (strcmp(verb, "mmap") == 0) {
    int32_t sharing;
    m.op = W_MMAP;
    if (nt >= 7 && parse_u64(t[1], &m.addr) == 0 && parse_pages(t[2], &m.len) == 0
        && parse_prot(t[3], &m.prot) == 0 && parse_sharing(t[4], &sharing) == 0
        && parse_source(t + 6, nt - 6, &m) == nt - 6) {
      int mode;
      if (strcmp(t[5], "fixed") == 0) {
        mode = MAP_FIXED;
      } else if (strcmp(t[5], "noreplace") == 0) {
        mode = MAP_FIXED_NOREPLACE;
      } else if (strcmp(t[5], "hint") == 0) {
        mode = 0;
      } else {
        mode = -1;
      }
      if (mode >= 0) {
        m.flags = sharing | mode | MAP_NORESERVE;
        ok = 1;
      }
    }
  } else if (strcmp(verb, "munmap") == 0 || strcmp(verb, "mlock") == 0
             || strcmp(verb, "munlock") == 0) {
    m.op = verb[0] == 'u' ? W_MUNMAP : verb[1] == 'l' ? W_MLOCK : W_MUNLOCK;
    if (strcmp(verb, "munmap") == 0) {
      m.op = W_MUNMAP;
    }
    ok = nt == 3 && parse_u64(t[1], &m.addr) == 0 && parse_pages(t[2], &m.len) == 0;
  } else if (strcmp(verb, "mprotect") == 0) {
    m.op = W_MPROTECT;
    ok = nt == 4 && parse_u64(t[1], &m.addr) == 0 && parse_pages(t[2], &m.len) == 0
         && parse_prot(t[3], &m.prot) == 0;
  } else if (strcmp(verb, "minherit") == 0) {
    m.op = W_MINHERIT;
    ok = nt == 4 && parse_u64(t[1], &m.addr) == 0 && parse_pages(t[2], &m.len) == 0;
    if (ok) {
      if (strcmp(t[3], "share") == 0) {
        m.inherit = INH_SHARE;
      } else if (strcmp(t[3], "copy") == 0) {
        m.inherit = INH_COPY;
      } else if (strcmp(t[3], "none") == 0) {
        m.inherit = INH_NONE;
      } else if (strcmp(t[3], "zero") == 0) {
        m.inherit = INH_ZERO;
      } else {
        ok = 0;
      }
    }
  } else if (strcmp(verb, "read") == 0 || strcmp(verb, "collapse") == 0) {
    m.op = verb[0] == 'r' ? W_READ : W_COLLAPSE;
    ok = nt == 2 && parse_u64(t[1], &m.addr) == 0;
  } else if (strcmp(verb, "write") == 0) {
    m.op = W_WRITE;
    ok = nt == 3 && parse_u64(t[1], &m.addr) == 0 && parse_u64(t[2], &m.value) == 0;
  }
  if (!ok) {
    out_line("ERROR %s: bad arguments", verb);
    return;
  }
  struct worker *w = find_worker(tpid);
  if (w == NULL) {
    out_line("ESRCH");
    return;
  }
  struct wreply r;
  if (ask(w, &m, -1, &r) == 0) {
    out_reply(&r);
  }
}

/* Writes boot file number k (1, 2, 3): pages pages whose word w reads (k << 32) | w. */
static int make_boot_file(const char *name, uint64_t k, uint64_t pages) {
  char path[PATH_LEN];
  if (file_path(path, sizeof path, name, 1) != 0) {
    return -1;
  }
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return -1;
  }
  uint64_t words[BOOT_WORDS_PER_PAGE];
  for (uint64_t p = 0; p < pages; p++) {
    for (uint64_t i = 0; i < BOOT_WORDS_PER_PAGE; i++) {
      words[i] = (k << 32) | (p * BOOT_WORDS_PER_PAGE + i);
    }
    if (write_all(fd, (const char *)words, sizeof words) != 0) {
      int e = errno;
      close_quietly(fd);
      errno = e;
      return -1;
    }
  }
  return close(fd);
}

/* Reads one line of stdin into buf (without the newline). Answers its length, -1 at the end. */
static ssize_t read_line(char *buf, size_t size) {
  static char in[8192];
  static size_t have;
  static size_t pos;
  size_t n = 0;
  for (;;) {
    if (pos == have) {
      if (g_stop) {
        return -1;
      }
      ssize_t r = read(0, in, sizeof in);
      if (r < 0 && errno == EINTR) {
        continue;
      }
      if (r <= 0) {
        return -1;
      }
      have = (size_t)r;
      pos = 0;
    }
    char c = in[pos++];
    if (c == '\n') {
      buf[n < size ? n : size - 1] = '\0';
      return n < size ? (ssize_t)n : (ssize_t)size; /* size means: too long */
    }
    if (n < size - 1) {
      buf[n] = c;
    }
    n++;
  }
}

static void dispatch(char **t, int nt) {
  const char *v = t[0];
  int a;
  int b;
  if (strcmp(v, "spawn") == 0 && nt == 2 && parse_pid(t[1], &a) == 0) {
    cmd_spawn(a);
  } else if ((strcmp(v, "fork") == 0 || strcmp(v, "clone") == 0) && nt == 3
             && parse_pid(t[1], &a) == 0 && parse_pid(t[2], &b) == 0) {
    cmd_fork(a, b, v[0] == 'f' ? W_FORK : W_CLONE);
  } else if (strcmp(v, "exec") == 0 && nt >= 3 && parse_pid(t[1], &a) == 0) {
    cmd_exec(a, t + 2, nt - 2);
  } else if (strcmp(v, "exit") == 0 && nt == 2 && parse_pid(t[1], &a) == 0) {
    cmd_exit(a);
  } else if (strcmp(v, "pageout") == 0 && nt == 1) {
    cmd_pageout();
  } else if (strcmp(v, "file") == 0 && nt == 3) {
    cmd_file(t[1], t[2]);
  } else if (strcmp(v, "fwrite") == 0 && nt == 4) {
    cmd_fwrite(t[1], t[2], t[3]);
  } else if (strcmp(v, "fread") == 0 && nt == 3) {
    cmd_fread(t[1], t[2]);
  } else if (strcmp(v, "shmget") == 0 && nt == 3) {
    cmd_shmget(t[1], t[2]);
  } else if (strcmp(v, "shmrm") == 0 && nt == 2) {
    cmd_shmrm(t[1]);
  } else if (strcmp(v, "mmap") == 0 || strcmp(v, "munmap") == 0 || strcmp(v, "mprotect") == 0
             || strcmp(v, "minherit") == 0 || strcmp(v, "mlock") == 0
             || strcmp(v, "munlock") == 0 || strcmp(v, "read") == 0 || strcmp(v, "write") == 0
             || strcmp(v, "collapse") == 0) {
    cmd_worker_op(v, t + 1, nt - 1);
  } else {
    out_line("ERROR unknown or malformed command '%s'", v);
  }
}

/*
 * The largest size, a multiple of a page and at most FILE_MAX, that ftruncate can give fd (an
 * empty file, left empty): a binary search, cheap since the file stays sparse.
 */
static uint64_t probe_max_size(int fd) {
  uint64_t lo = 0; /* lo pages fit */
  uint64_t hi = FILE_MAX / PAGE + 1; /* hi pages do not */
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (ftruncate(fd, (off_t)(mid * PAGE)) == 0) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  if (ftruncate(fd, 0) != 0) {
    diag("vmtrace: ftruncate of a probe: %s", strerror(errno));
  }
  return lo * PAGE;
}

/* filemax and shmmax of the ready line; answers -1 with errno set when a probe cannot be made. */
static int probe_limits(uint64_t *filemax, uint64_t *shmmax) {
  char path[PATH_LEN];
  int n = snprintf(path, sizeof path, "%s/probe", g_workdir);
  if (n < 0 || (size_t)n >= sizeof path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return -1;
  }
  *filemax = probe_max_size(fd);
  close_quietly(fd);
  if (unlink(path) != 0) {
    return -1;
  }
  char name[PATH_LEN];
  n = snprintf(name, sizeof name, "/%s-probe", g_shmprefix);
  if (n < 0 || (size_t)n >= sizeof name) {
    errno = ENAMETOOLONG;
    return -1;
  }
  fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return -1;
  }
  *shmmax = probe_max_size(fd);
  close_quietly(fd);
  return shm_unlink(name);
}

static int coordinator_main(const char *workdir, const char *shmprefix, const char *maxprocs) {
  g_workdir = workdir;
  if (maxprocs != NULL) {
    uint64_t cap;
    if (parse_u64(maxprocs, &cap) != 0 || cap < 1 || cap > INT_MAX) {
      out_line("ERROR bad process cap '%s'", maxprocs);
      return 2;
    }
    g_maxworkers = (size_t)cap;
  }
  g_shmprefix = shmprefix;
  for (const char *p = shmprefix; *p != '\0'; p++) {
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) {
      out_line("ERROR bad shared-memory prefix");
      return 2;
    }
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN;
  /* FILE-12: past RLIMIT_FSIZE the kernel answers EFBIG; without SIGXFSZ, which would kill. */
  if (sigaction(SIGPIPE, &sa, NULL) != 0 || sigaction(SIGXFSZ, &sa, NULL) != 0) {
    out_line("ERROR sigaction: %s", strerror(errno));
    return 2;
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop; /* no SA_RESTART: a blocked read returns EINTR */
  if (sigemptyset(&sa.sa_mask) != 0 || sigaction(SIGTERM, &sa, NULL) != 0
      || sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGHUP, &sa, NULL) != 0) {
    out_line("ERROR sigaction: %s", strerror(errno));
    return 2;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) != 0) {
    out_line("ERROR prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
    return 2;
  }
  ssize_t n = readlink("/proc/self/exe", g_self, sizeof g_self - 1);
  if (n <= 0 || (size_t)n >= sizeof g_self - 1) {
    out_line("ERROR readlink /proc/self/exe: %s", strerror(errno));
    return 2;
  }
  g_self[n] = '\0';

  /* mlock must not fail for the limit's sake (we may be root: then there is none). */
  struct rlimit ml;
  if (getrlimit(RLIMIT_MEMLOCK, &ml) != 0) {
    out_line("ERROR getrlimit: %s", strerror(errno));
    return 2;
  }
  struct rlimit inf = {RLIM_INFINITY, RLIM_INFINITY};
  if (setrlimit(RLIMIT_MEMLOCK, &inf) == 0) {
    ml = inf;
  } else {
    ml.rlim_cur = ml.rlim_max;
    if (setrlimit(RLIMIT_MEMLOCK, &ml) != 0) {
      diag("vmtrace: setrlimit(RLIMIT_MEMLOCK): %s", strerror(errno));
    }
  }
  /* A worker that dies of a runner bug should not leave a core file in the caller's directory. */
  struct rlimit nocore = {0, 0};
  if (setrlimit(RLIMIT_CORE, &nocore) != 0) {
    diag("vmtrace: setrlimit(RLIMIT_CORE): %s", strerror(errno));
  }
  /* FILE-12: the largest file is 2^47 bytes; a lower hard limit shows in filemax (HOST-4). */
  struct rlimit fsize;
  if (getrlimit(RLIMIT_FSIZE, &fsize) != 0) {
    out_line("ERROR getrlimit: %s", strerror(errno));
    return 2;
  }
  fsize.rlim_cur = fsize.rlim_max != RLIM_INFINITY && fsize.rlim_max < FILE_MAX ? fsize.rlim_max
                                                                                 : FILE_MAX;
  if (setrlimit(RLIMIT_FSIZE, &fsize) != 0) {
    out_line("ERROR setrlimit(RLIMIT_FSIZE): %s", strerror(errno));
    return 2;
  }
  uint64_t filemax;
  uint64_t shmmax;
  if (probe_limits(&filemax, &shmmax) != 0) {
    out_line("ERROR probing the largest file in %s: %s", workdir, strerror(errno));
    return 2;
  }

  if (make_boot_file("bin/static", 1, 20) != 0 || make_boot_file("bin/dynamic", 2, 20) != 0
      || make_boot_file("lib/libc", 3, 68) != 0) {
    out_line("ERROR boot files in %s: %s", workdir, strerror(errno));
    cleanup();
    return 2;
  }

  /* A probe worker shows the layout every fresh worker will have. */
  int sock;
  pid_t pid;
  struct wreply hello;
  char why[256];
  if (start_worker(&sock, &pid, &hello, why, sizeof why) != 0) {
    out_line("ERROR %s", why);
    cleanup();
    return 2;
  }
  close_quietly(sock); /* the probe exits on end of file */
  if (waitpid(pid, NULL, 0) < 0) {
    diag("vmtrace: waitpid: %s", strerror(errno));
  }
  g_nannounced = hello.nreserved < MAX_RESERVED ? hello.nreserved : MAX_RESERVED;
  memcpy(g_announced, hello.reserved, sizeof g_announced);
  char ranges[2 * MAX_RESERVED * 20];
  size_t used = 0;
  for (unsigned i = 0; i < g_nannounced; i++) {
    int w = snprintf(ranges + used, sizeof ranges - used, "%s0x%" PRIx64 "-0x%" PRIx64,
                     i == 0 ? "" : ",", g_announced[2 * i], g_announced[2 * i + 1]);
    if (w < 0 || (size_t)w >= sizeof ranges - used) {
      break;
    }
    used += (size_t)w;
  }
  ranges[used] = '\0';
  char memlock[32];
  if (ml.rlim_cur == RLIM_INFINITY) {
    snprintf(memlock, sizeof memlock, "unlimited");
  } else {
    snprintf(memlock, sizeof memlock, "%llu", (unsigned long long)ml.rlim_cur);
  }
  out_line("ready reserved=%s memlock=%s filemax=0x%" PRIx64 " shmmax=0x%" PRIx64, ranges, memlock,
           filemax, shmmax);

  static char line[LINE_MAX_LEN];
  static char *tokens[LINE_MAX_LEN / 2];
  while (!g_stop) {
    ssize_t len = read_line(line, sizeof line);
    if (len < 0) {
      break;
    }
    if ((size_t)len >= sizeof line) {
      out_line("ERROR line too long");
      continue;
    }
    int nt = 0;
    char *save = NULL;
    for (char *s = strtok_r(line, " ", &save); s != NULL; s = strtok_r(NULL, " ", &save)) {
      tokens[nt++] = s;
    }
    if (nt == 0) {
      out_line("ERROR empty line");
      continue;
    }
    if (strcmp(tokens[0], "quit") == 0) {
      break;
    }
    dispatch(tokens, nt);
    reap();
  }
  cleanup();
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "worker") == 0) {
    return worker_main(argv[2]);
  }
  if ((argc == 4 || argc == 5) && strcmp(argv[1], "coordinator") == 0) {
    return coordinator_main(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
  }
  diag("usage: vmtrace coordinator WORKDIR SHMPREFIX [MAXPROCS]  (run by vmoracle native)");
  return 2;
}
