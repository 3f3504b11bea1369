/*
 * The fixed part of a program written by `vmoracle native --emit-c`: helpers that replay one trace
 * line each on the Linux kernel (x86-64) with plain system calls, as the native runner does. The
 * generated part, after this prelude, is replay(): one call a line. Each call prints the line, the
 * kernel's answer and, where the trace expects one, whether it matched; the program exits 1 on the
 * first mismatch and 0 when every expectation held. Build with gcc -std=c11 -Wall -Werror.
 *
 * Every trace pid is a worker process that executes the operations on its own address space; the
 * main process (the coordinator) sends it each one over a SOCK_SEQPACKET socket. A spawned or
 * exec'd worker is a fresh execve of this program; fork and clone (CLONE_VM) are the worker's own.
 * Address-space randomization is off, so the layout is the native runner's. A placed mmap is asked
 * at the model's address with MAP_FIXED_NOREPLACE (DEV-2); minherit is madvise (DONTFORK,
 * WIPEONFORK); segments are POSIX shared memory (DEV-7); files live in a temporary directory, on
 * /dev/shm when possible, with RLIMIT_FSIZE at 2^47 (FILE-12). Lines the runner does not ask the
 * kernel are comments naming their SEMANTICS.md rule.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
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
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
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
#define FILE_MAX ((uint64_t)1 << 47) /* FILE-12 */
#define TASK_TOP ((uint64_t)0x7ffffffff000)
#define MAX_PIDS 256 /* HOST-5 */
#define MAX_FILES 1024
/* A helper the generated part may or may not call. */
#define HELPER static __attribute__((unused))

enum wop { W_MMAP = 1, W_MUNMAP, W_MPROTECT, W_MINHERIT, W_MLOCK, W_MUNLOCK, W_READ, W_WRITE,
           W_FORK, W_CLONE, W_EXEC, W_EXIT, W_PAGEOUT, W_COLLAPSE };
enum inh { I_SHARE, I_COPY, I_NONE, I_ZERO };
enum src { S_ANON, S_FILE, S_SHM };
enum rkind { K_OK = 1, K_VALUE, K_ERRNO, K_SEGV, K_BUS, K_HELLO };

struct msg {
  int op, prot, flags, arg;
  uint64_t addr, len, value, off;
  char path[512];
};
struct reply {
  int kind, err;
  uint64_t value;
};
/* One mapping of an exec image, made as a fixed mmap. */
struct seg {
  uint64_t addr, pages;
  int prot, flags, file;
  uint64_t pgoff;
};

static sigjmp_buf *volatile g_env;
static volatile sig_atomic_t g_sig;
static char g_dir[256];
static pid_t g_pid[MAX_PIDS + 1];
static int g_chan[MAX_PIDS + 1];
static int g_tpid[MAX_PIDS + 1];
static int g_n;
static long g_keys[MAX_FILES];
static int g_nkeys;
static int g_files; /* files made: f_0 .. f_(g_files - 1) */

static void die(const char *what) {
  fprintf(stderr, "replay: %s: %s\n", what, strerror(errno));
  exit(2);
}

static int send_fd(int sock, const void *m, size_t len, int fd) {
  struct iovec iov = {.iov_base = (void *)m, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } c;
  struct msghdr h;
  memset(&h, 0, sizeof h);
  memset(&c, 0, sizeof c);
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  if (fd >= 0) {
    h.msg_control = c.buf;
    h.msg_controllen = sizeof c.buf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&h);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  }
  return sendmsg(sock, &h, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static ssize_t recv_fd(int sock, void *m, size_t len, int *fd) {
  struct iovec iov = {.iov_base = m, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } c;
  struct msghdr h;
  memset(&h, 0, sizeof h);
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  h.msg_control = c.buf;
  h.msg_controllen = sizeof c.buf;
  ssize_t r;
  do {
    r = recvmsg(sock, &h, 0);
  } while (r < 0 && errno == EINTR);
  if (fd != NULL) {
    *fd = -1;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&h);
    if (r > 0 && cm != NULL && cm->cmsg_type == SCM_RIGHTS) {
      memcpy(fd, CMSG_DATA(cm), sizeof *fd);
    }
  }
  return r;
}

/* ---------------------------------------------------------------- the worker */

static void on_fault(int sig) {
  g_sig = sig;
  if (g_env != NULL) {
    siglongjmp(*g_env, 1);
  }
  signal(sig, SIG_DFL);
}

/*
 * A worker's socket is a parameter, never a global: a clone (CLONE_VM) shares every global with
 * the worker it came from, but has a socket of its own.
 */
static void reply(int sock, int kind, int err, uint64_t value) {
  struct reply r = {kind, err, value};
  if (send_fd(sock, &r, sizeof r, -1) != 0) {
    _exit(4);
  }
}

static void reply_rc(int sock, int rc) {
  reply(sock, rc == 0 ? K_OK : K_ERRNO, errno, 0);
}

static void access_word(int sock, const struct msg *m) {
  sigjmp_buf env;
  uint64_t v = 0;
  if (sigsetjmp(env, 1) != 0) {
    g_env = NULL;
    reply(sock, g_sig == SIGBUS ? K_BUS : K_SEGV, 0, 0);
    return;
  }
  g_env = &env;
  volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)m->addr;
  if (m->op == W_WRITE) {
    *p = m->value;
  } else {
    v = *p;
  }
  g_env = NULL;
  reply(sock, m->op == W_WRITE ? K_OK : K_VALUE, 0, v);
}

static void pageout(int sock) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (f == NULL) {
    reply(sock, K_ERRNO, errno, 0);
    return;
  }
  char line[512];
  uint64_t lo, hi;
  while (fgets(line, sizeof line, f) != NULL) {
    if (sscanf(line, "%" SCNx64 "-%" SCNx64, &lo, &hi) == 2 && hi <= TASK_TOP) {
      (void)madvise((void *)(uintptr_t)lo, hi - lo, MADV_PAGEOUT); /* locked ranges: EINVAL */
    }
  }
  fclose(f);
  reply(sock, K_OK, 0, 0);
}

static void worker_loop(int sock) __attribute__((noreturn));

/* What a clone starts with, at the top of its stack: its socket, and its parent's to close. */
struct clone_start {
  int sock, parent;
};

static int clone_main(void *arg) {
  struct clone_start *cs = arg;
  int sock = cs->sock;
  close(cs->parent); /* its copy of the descriptor table holds the parent's socket too */
  reply(sock, K_HELLO, 0, 0);
  worker_loop(sock);
}

static void worker_loop(int sock) {
  for (;;) {
    struct msg m;
    int fd = -1;
    ssize_t n = recv_fd(sock, &m, sizeof m, &fd);
    if (n != (ssize_t)sizeof m) {
      _exit(0); /* the coordinator is gone */
    }
    void *a = (void *)(uintptr_t)m.addr;
    switch (m.op) {
      case W_MMAP: {
        int file = -1;
        if (m.arg == S_FILE) {
          file = open(m.path, O_RDWR | O_CLOEXEC);
        } else if (m.arg == S_SHM) {
          file = shm_open(m.path, O_RDWR, 0);
        }
        if (m.arg != S_ANON && file < 0) {
          reply(sock, K_ERRNO, errno, 0);
          break;
        }
        int flags = m.flags | (m.arg == S_ANON ? MAP_ANONYMOUS : 0) | MAP_NORESERVE;
        void *p = mmap(a, m.len, m.prot, flags, file, (off_t)m.off);
        int e = errno;
        if (file >= 0) {
          close(file);
        }
        reply(sock, p == MAP_FAILED ? K_ERRNO : K_VALUE, e, (uint64_t)(uintptr_t)p);
        break;
      }
      case W_MUNMAP:
        reply_rc(sock, munmap(a, m.len));
        break;
      case W_MPROTECT:
        reply_rc(sock, mprotect(a, m.len, m.prot));
        break;
      case W_MINHERIT: {
        static const int advice[4][2] = {{MADV_DOFORK, MADV_KEEPONFORK},
                                         {MADV_DOFORK, MADV_KEEPONFORK},
                                         {MADV_DONTFORK, MADV_KEEPONFORK},
                                         {MADV_WIPEONFORK, MADV_DOFORK}};
        int rc = madvise(a, m.len, advice[m.arg][0]);
        reply_rc(sock, rc != 0 ? rc : madvise(a, m.len, advice[m.arg][1]));
        break;
      }
      case W_MLOCK:
        reply_rc(sock, mlock(a, m.len));
        break;
      case W_MUNLOCK:
        reply_rc(sock, munlock(a, m.len));
        break;
      case W_READ:
      case W_WRITE:
        access_word(sock, &m);
        break;
      case W_COLLAPSE:
        reply_rc(sock, msync((void *)(uintptr_t)(m.addr & ~(PAGE - 1)), PAGE, MS_ASYNC));
        break;
      case W_PAGEOUT:
        pageout(sock);
        break;
      case W_FORK: {
        pid_t pid = fork();
        if (pid == 0) {
          close(sock);
          sock = fd;
          reply(sock, K_HELLO, 0, 0);
          break;
        }
        int e = errno;
        close(fd);
        reply(sock, pid < 0 ? K_ERRNO : K_VALUE, e, (uint64_t)pid);
        break;
      }
      case W_CLONE: {
        size_t size = 128 << 10;
        char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        int pid = -1;
        if (stack != MAP_FAILED) {
          struct clone_start *cs = (struct clone_start *)(stack + size - 64);
          cs->sock = fd;
          cs->parent = sock;
          pid = clone(clone_main, cs, CLONE_VM | SIGCHLD, cs);
        }
        int e = errno;
        close(fd);
        reply(sock, pid < 0 ? K_ERRNO : K_VALUE, e, (uint64_t)pid);
        break;
      }
      case W_EXEC: {
        char arg[16];
        snprintf(arg, sizeof arg, "%d", sock);
        char *argv[] = {"replay", "worker", arg, NULL};
        char *envp[] = {NULL};
        execve(m.path, argv, envp);
        reply(sock, K_ERRNO, errno, 0);
        break;
      }
      case W_EXIT:
        _exit(0);
      default:
        _exit(7);
    }
  }
}

static int worker_main(const char *fd) {
  int sock = atoi(fd);
  signal(SIGCHLD, SIG_IGN);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fault;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, NULL) != 0 || sigaction(SIGBUS, &sa, NULL) != 0) {
    return 2;
  }
  reply(sock, K_HELLO, 0, 0);
  worker_loop(sock);
}

/* ---------------------------------------------------------------- the coordinator */

static const char *errno_name(int e) {
  static char other[16];
  switch (e) {
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EAGAIN: return "EAGAIN";
    case ESRCH: return "ESRCH";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EFBIG: return "EFBIG";
    case EPERM: return "EPERM";
    case EBADF: return "EBADF";
    case ENODEV: return "ENODEV";
    case EOVERFLOW: return "EOVERFLOW";
    default:
      snprintf(other, sizeof other, "E%d", e);
      return other;
  }
}

static void cleanup(void) {
  for (int i = 0; i < g_n; i++) {
    kill(g_pid[i], SIGKILL);
    close(g_chan[i]);
  }
  while (waitpid(-1, NULL, 0) > 0) {
  }
  for (int i = 0; i < g_nkeys; i++) {
    char name[64];
    snprintf(name, sizeof name, "/replay-%d-%ld", (int)getpid(), g_keys[i]);
    shm_unlink(name);
  }
  for (int i = 0; i < g_files; i++) {
    char path[300];
    snprintf(path, sizeof path, "%s/f_%d", g_dir, i);
    unlink(path);
  }
  rmdir(g_dir);
}

/* Prints one line's answer; a mismatch with its expectation ends the program with 1. */
static void report(int line, const char *what, const char *got, const char *expect) {
  if (expect == NULL) {
    printf("%d: %s -> %s\n", line, what, got);
  } else if (strcmp(got, expect) == 0) {
    printf("%d: %s -> %s (as expected)\n", line, what, got);
  } else {
    printf("%d: %s -> %s MISMATCH: the trace expects %s\n", line, what, got, expect);
    fflush(stdout);
    cleanup();
    exit(1);
  }
  fflush(stdout);
}

static void report_reply(int line, const char *what, const struct reply *r, const char *expect) {
  char buf[32];
  switch (r->kind) {
    case K_OK: report(line, what, "ok", expect); break;
    case K_VALUE:
      snprintf(buf, sizeof buf, "0x%" PRIx64, r->value);
      report(line, what, buf, expect);
      break;
    case K_ERRNO: report(line, what, errno_name(r->err), expect); break;
    case K_SEGV: report(line, what, "SEGV", expect); break;
    case K_BUS: report(line, what, "BUS", expect); break;
    default: report(line, what, "ERROR", expect);
  }
}

static int find(int tpid) {
  for (int i = 0; i < g_n; i++) {
    if (g_tpid[i] == tpid) {
      return i;
    }
  }
  return -1;
}

static void forget(int i) {
  close(g_chan[i]);
  g_n--;
  g_tpid[i] = g_tpid[g_n];
  g_pid[i] = g_pid[g_n];
  g_chan[i] = g_chan[g_n];
}

/* Sends m to worker i (with fd, if any) and waits for its reply; a dead worker ends the program. */
static void ask(int i, const struct msg *m, int fd, struct reply *r) {
  if (send_fd(g_chan[i], m, sizeof *m, fd) != 0
      || recv_fd(g_chan[i], r, sizeof *r, NULL) != (ssize_t)sizeof *r) {
    fprintf(stderr, "replay: worker %d died\n", g_tpid[i]);
    cleanup();
    exit(2);
  }
}

static void file_path(char *buf, size_t size, int file) {
  if (file < 0) {
    buf[0] = '\0'; /* no such file: open("") answers ENOENT */
  } else {
    snprintf(buf, size, "%s/f_%d", g_dir, file);
  }
}

HELPER void op_spawn(int line, const char *what, int p, const char *expect) {
  if (find(p) >= 0) {
    report(line, what, "EEXIST", expect);
    return;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    die("socketpair");
  }
  pid_t pid = fork();
  if (pid == 0) {
    char arg[16];
    snprintf(arg, sizeof arg, "%d", sv[1]);
    fcntl(sv[1], F_SETFD, 0);
    char *argv[] = {"replay", "worker", arg, NULL};
    char *envp[] = {NULL};
    execve("/proc/self/exe", argv, envp);
    _exit(127);
  }
  close(sv[1]);
  struct reply r;
  if (pid < 0 || recv_fd(sv[0], &r, sizeof r, NULL) != (ssize_t)sizeof r) {
    die("spawn");
  }
  g_tpid[g_n] = p;
  g_pid[g_n] = pid;
  g_chan[g_n++] = sv[0];
  report(line, what, "ok", expect);
}

HELPER void op_fork(int line, const char *what, int p, int c, int clone, const char *expect) {
  int i = find(p);
  if (i < 0 || find(c) >= 0) {
    report(line, what, i < 0 ? "ESRCH" : "EEXIST", expect);
    return;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    die("socketpair");
  }
  struct msg m;
  memset(&m, 0, sizeof m);
  m.op = clone ? W_CLONE : W_FORK;
  struct reply r;
  ask(i, &m, sv[1], &r);
  close(sv[1]);
  struct reply hello;
  if (r.kind != K_VALUE) {
    close(sv[0]);
    report_reply(line, what, &r, expect);
    return;
  }
  if (recv_fd(sv[0], &hello, sizeof hello, NULL) != (ssize_t)sizeof hello) {
    die("fork");
  }
  g_tpid[g_n] = c;
  g_pid[g_n] = (pid_t)r.value;
  g_chan[g_n++] = sv[0];
  report(line, what, "ok", expect);
}

HELPER void op_exit(int line, const char *what, int p, const char *expect) {
  int i = find(p);
  if (i < 0) {
    report(line, what, "ESRCH", expect);
    return;
  }
  struct msg m;
  memset(&m, 0, sizeof m);
  m.op = W_EXIT;
  struct reply r;
  send_fd(g_chan[i], &m, sizeof m, -1);
  recv_fd(g_chan[i], &r, sizeof r, NULL); /* end of file: it has exited */
  forget(i);
  report(line, what, "ok", expect);
}

/* exec: a known image (segs != NULL) is a fresh execve of this program, mapping its segments. */
HELPER void op_exec(int line, const char *what, int p, const char *image, const struct seg *segs,
                    int nsegs, const char *expect) {
  int i = find(p);
  if (i < 0) {
    report(line, what, "ESRCH", expect);
    return;
  }
  struct msg m;
  memset(&m, 0, sizeof m);
  m.op = W_EXEC;
  if (segs != NULL) {
    snprintf(m.path, sizeof m.path, "/proc/self/exe");
  } else {
    snprintf(m.path, sizeof m.path, "%s/images/%s", g_dir, image); /* no such image: ENOENT */
  }
  struct reply r;
  ask(i, &m, -1, &r);
  for (int k = 0; r.kind == K_HELLO && k < nsegs; k++) {
    memset(&m, 0, sizeof m);
    m.op = W_MMAP;
    m.addr = segs[k].addr;
    m.len = segs[k].pages * PAGE;
    m.prot = segs[k].prot;
    m.flags = segs[k].flags | MAP_FIXED_NOREPLACE;
    m.arg = segs[k].file >= 0 ? S_FILE : S_ANON;
    m.off = segs[k].pgoff * PAGE;
    file_path(m.path, sizeof m.path, segs[k].file);
    ask(i, &m, -1, &r);
    if (r.kind == K_VALUE) {
      r.kind = K_HELLO;
    }
  }
  if (r.kind == K_HELLO) {
    r.kind = K_OK;
  }
  report_reply(line, what, &r, expect);
}

/* Any operation a worker answers: m is filled in by the caller, but for pid. */
HELPER void op_worker(int line, const char *what, int p, struct msg *m, const char *expect) {
  int i = find(p);
  if (i < 0) {
    report(line, what, "ESRCH", expect);
    return;
  }
  struct reply r;
  ask(i, m, -1, &r);
  report_reply(line, what, &r, expect);
}

HELPER void op_mmap(int line, const char *what, int p, uint64_t addr, uint64_t pages, int prot,
                    int flags, int source, int file, long key, uint64_t pgoff, const char *expect) {
  struct msg m;
  memset(&m, 0, sizeof m);
  m.op = W_MMAP;
  m.addr = addr;
  m.len = pages * PAGE;
  m.prot = prot;
  m.flags = flags;
  m.arg = source;
  m.off = pgoff * PAGE;
  if (source == S_FILE) {
    file_path(m.path, sizeof m.path, file);
  } else if (source == S_SHM) {
    snprintf(m.path, sizeof m.path, "/replay-%d-%ld", (int)getpid(), key);
  }
  op_worker(line, what, p, &m, expect);
}

/* munmap, mprotect (arg: PROT_*), minherit (arg: enum inh), mlock, munlock, read, write, collapse. */
HELPER void op_simple(int line, const char *what, int op, int p, uint64_t addr, uint64_t pages,
                      int arg, uint64_t value, const char *expect) {
  struct msg m;
  memset(&m, 0, sizeof m);
  m.op = op;
  m.addr = addr;
  m.len = pages * PAGE;
  m.prot = arg;
  m.arg = arg;
  m.value = value;
  op_worker(line, what, p, &m, expect);
}

HELPER void op_pageout(int line, const char *what, const char *expect) {
  struct msg m;
  memset(&m, 0, sizeof m);
  m.op = W_PAGEOUT;
  struct reply r = {K_OK, 0, 0};
  for (int i = 0; i < g_n && r.kind == K_OK; i++) {
    ask(i, &m, -1, &r);
  }
  report_reply(line, what, &r, expect);
}

HELPER void op_file(int line, const char *what, int file, uint64_t pages, const char *expect) {
  char path[300];
  file_path(path, sizeof path, file);
  if (file >= g_files) {
    g_files = file + 1;
  }
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  int rc = fd < 0 ? -1 : ftruncate(fd, (off_t)(pages * PAGE));
  int e = errno;
  if (fd >= 0) {
    close(fd);
  }
  report(line, what, rc == 0 ? "ok" : errno_name(e), expect);
}

/* FILE-3, FILE-12: the word first (EFBIG at or past RLIMIT_FSIZE), then the file to its page. */
HELPER void op_fwrite(int line, const char *what, int file, uint64_t off, uint64_t value,
                      const char *expect) {
  char path[300];
  file_path(path, sizeof path, file);
  int fd = open(path, O_RDWR | O_CLOEXEC);
  int rc = fd < 0 ? -1 : 0;
  if (rc == 0 && pwrite(fd, &value, sizeof value, (off_t)off) != (ssize_t)sizeof value) {
    rc = -1;
  }
  struct stat st;
  if (rc == 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size < (off / PAGE + 1) * PAGE) {
    rc = ftruncate(fd, (off_t)((off / PAGE + 1) * PAGE));
  }
  int e = errno;
  if (fd >= 0) {
    close(fd);
  }
  report(line, what, rc == 0 ? "ok" : errno_name(e), expect);
}

HELPER void op_fread(int line, const char *what, int file, uint64_t off, const char *expect) {
  char path[300];
  file_path(path, sizeof path, file);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  uint64_t v = 0;
  ssize_t n = fd < 0 ? -1 : pread(fd, &v, sizeof v, (off_t)off);
  int e = errno;
  if (fd >= 0) {
    close(fd);
  }
  char buf[32];
  snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  report(line, what, n < 0 ? errno_name(e) : n == 0 ? "EINVAL" : buf, expect); /* FILE-4 */
}

HELPER void op_shmget(int line, const char *what, long key, uint64_t pages, const char *expect) {
  if (pages == 0) {
    report(line, what, "EINVAL", expect); /* shmget(2): below SHMMIN */
    return;
  }
  char name[64];
  snprintf(name, sizeof name, "/replay-%d-%ld", (int)getpid(), key);
  int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd >= 0 && g_nkeys < MAX_FILES) {
    g_keys[g_nkeys++] = key;
  }
  int rc = fd < 0 ? -1 : ftruncate(fd, (off_t)(pages * PAGE));
  int e = errno;
  if (fd >= 0) {
    close(fd);
  }
  report(line, what, rc == 0 ? "ok" : errno_name(e), expect);
}

HELPER void op_shmrm(int line, const char *what, long key, const char *expect) {
  char name[64];
  snprintf(name, sizeof name, "/replay-%d-%ld", (int)getpid(), key);
  report(line, what, shm_unlink(name) == 0 ? "ok" : errno_name(errno), expect);
}

/* A line the native runner does not ask the kernel: printed, not run. */
HELPER void skipped(int line, const char *what, const char *why) {
  printf("%d: %s -> UNSUPPORTED %s\n", line, what, why);
  fflush(stdout);
}

/* Boot file number k: pages pages whose word w reads (k << 32) | w (BOOT-1). */
static void boot_file(int file, uint64_t k, uint64_t pages) {
  char path[300];
  file_path(path, sizeof path, file);
  g_files = file + 1 > g_files ? file + 1 : g_files;
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    die(path);
  }
  uint64_t words[512];
  for (uint64_t p = 0; p < pages; p++) {
    for (uint64_t i = 0; i < 512; i++) {
      words[i] = (k << 32) | (p * 512 + i);
    }
    if (write(fd, words, sizeof words) != (ssize_t)sizeof words) {
      die(path);
    }
  }
  close(fd);
}

static void replay(void);

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "worker") == 0) {
    return worker_main(argv[2]);
  }
  /* The native runner's layout: no randomization, an 8 MiB stack limit; then run afresh. */
  int persona = personality(0xffffffff);
  if (persona != -1 && !(persona & ADDR_NO_RANDOMIZE)) {
    struct rlimit st = {8 << 20, 8 << 20};
    struct rlimit now;
    if (getrlimit(RLIMIT_STACK, &now) == 0 && now.rlim_max != RLIM_INFINITY
        && now.rlim_max < st.rlim_max) {
      st.rlim_cur = st.rlim_max = now.rlim_max;
    }
    st.rlim_max = now.rlim_max;
    if (personality((unsigned long)persona | ADDR_NO_RANDOMIZE) != -1
        && setrlimit(RLIMIT_STACK, &st) == 0) {
      execv("/proc/self/exe", argv);
    }
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN); /* FILE-12: EFBIG, not death */
  struct rlimit fsize = {FILE_MAX, FILE_MAX};
  struct rlimit mem = {RLIM_INFINITY, RLIM_INFINITY};
  if (getrlimit(RLIMIT_FSIZE, &fsize) == 0) {
    fsize.rlim_cur = fsize.rlim_max != RLIM_INFINITY && fsize.rlim_max < FILE_MAX
                         ? fsize.rlim_max : FILE_MAX;
    setrlimit(RLIMIT_FSIZE, &fsize);
  }
  if (setrlimit(RLIMIT_MEMLOCK, &mem) != 0 && getrlimit(RLIMIT_MEMLOCK, &mem) == 0) {
    mem.rlim_cur = mem.rlim_max;
    setrlimit(RLIMIT_MEMLOCK, &mem);
  }
  prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L);
  snprintf(g_dir, sizeof g_dir, "/dev/shm/replay-XXXXXX");
  if (mkdtemp(g_dir) == NULL) {
    snprintf(g_dir, sizeof g_dir, "/tmp/replay-XXXXXX");
    if (mkdtemp(g_dir) == NULL) {
      die("mkdtemp");
    }
  }
  boot_file(0, 1, 20);
  boot_file(1, 2, 20);
  boot_file(2, 3, 68);
  replay();
  cleanup();
  printf("replay: every expectation held\n");
  return 0;
}

/* ---------------------------------------------------------------- the trace */
