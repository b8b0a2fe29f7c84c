/* Helpers for the tests that run several processes of themselves (fork + exec) on one store.
 * Include after store_util.h, with _XOPEN_SOURCE 700 defined before any system header. */
#ifndef MSGSTORE_PROC_UTIL_H
#define MSGSTORE_PROC_UTIL_H

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* Starts `self` (this program) with `argv` in a child process. */
static inline pid_t spawn_self(const char *self, char *const argv[]) {
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    execv(self, argv);
    _exit(127);
  }
  return pid;
}

/* Waits for a child: its exit code, or 128 + the signal that ended it. */
static inline int wait_child(pid_t pid) {
  int status = 0;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Maps `size` bytes of the file at `path`, shared between processes; `create` makes (or empties)
 * the file and sizes it. */
static inline void *map_shared_file(const char *path, size_t size, int create) {
  int fd = open(path, create ? (O_RDWR | O_CREAT | O_TRUNC) : O_RDWR, 0600);
  void *p;
  CHECK(fd >= 0);
  if (create) CHECK_EQ(ftruncate(fd, (off_t)size), 0);
  p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK(p != MAP_FAILED);
  close(fd);
  return p;
}

#endif
