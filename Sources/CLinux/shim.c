#define _GNU_SOURCE
#include <malloc.h>
#include <sys/socket.h>
#include <pthread.h>
#include "CLinux.h"

int clinux_accept_nonblocking(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int clinux_set_thread_name(const char *name) {
    return pthread_setname_np(pthread_self(), name);
}

int clinux_malloc_trim(size_t pad) {
    return malloc_trim(pad);
}
