#ifndef CLINUX_H
#define CLINUX_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/sendfile.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <pthread.h>

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC; needs _GNU_SOURCE, so it lives in shim.c.
int clinux_accept_nonblocking(int fd, struct sockaddr *addr, socklen_t *len);

/// pthread_setname_np(3) for the calling thread; also a GNU extension.
int clinux_set_thread_name(const char *name);

/// epoll_event is packed on x86_64 (12 bytes), so Swift never touches its layout: these wrappers take plain values
/// and index into a buffer of events that only C code interprets.
static inline int clinux_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}
static inline void *clinux_epoll_events_allocate(int count) {
    return calloc((size_t)count, sizeof(struct epoll_event));
}
static inline int clinux_epoll_wait(int epfd, void *events, int max, int timeout_ms) {
    return epoll_wait(epfd, (struct epoll_event *)events, max, timeout_ms);
}
static inline uint32_t clinux_epoll_events_at(const void *events, int i) {
    return ((const struct epoll_event *)events)[i].events;
}
static inline uint64_t clinux_epoll_data_at(const void *events, int i) {
    return ((const struct epoll_event *)events)[i].data.u64;
}

/// Constants Swift cannot import (macros built from enums or casts).
static const uint32_t CLINUX_EPOLLIN = EPOLLIN;
static const uint32_t CLINUX_EPOLLOUT = EPOLLOUT;
static const uint32_t CLINUX_EPOLLERR = EPOLLERR;
static const uint32_t CLINUX_EPOLLHUP = EPOLLHUP;
static const uint32_t CLINUX_EPOLLRDHUP = EPOLLRDHUP;
static const uint32_t CLINUX_EPOLLET = EPOLLET;
static const int CLINUX_EFD_NONBLOCK = EFD_NONBLOCK;
static const int CLINUX_EFD_CLOEXEC = EFD_CLOEXEC;
static const int CLINUX_EPOLL_CLOEXEC = EPOLL_CLOEXEC;
static const int CLINUX_SOCK_NONBLOCK = SOCK_NONBLOCK;
static const int CLINUX_SOCK_CLOEXEC = SOCK_CLOEXEC;
static const int CLINUX_EPOLL_CTL_ADD = EPOLL_CTL_ADD;
static const int CLINUX_EPOLL_CTL_MOD = EPOLL_CTL_MOD;
static const int CLINUX_EPOLL_CTL_DEL = EPOLL_CTL_DEL;

/// Returns memory glibc holds but no longer uses to the kernel (malloc_trim(3)); Glibc's Swift module omits
/// <malloc.h>.
int clinux_malloc_trim(size_t pad);

#endif
