// SPDX-License-Identifier: MIT
/*
 * zk_io_dump_on_signal(): a dump when a signal arrives.  A signal handler
 * may only make async-signal-safe calls, and a dump formats, locks and
 * symbolizes; so the handler only sets the runtime's flag and kicks the
 * root's loop (atomics and an eventfd write(2)), and the root thread
 * writes the dump when it next passes through its loop (zk_loop_wait()).
 *
 * The only global state of the library lives here, because a handler has
 * no other way to find its runtime: which runtime has the signal, the
 * previous action to restore, and a count of handlers running, so that
 * switching off waits until none still touches the runtime.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>

#include "io_internal.h"

static struct zk_runtime *sig_rt;	/* atomic */
static int sig_busy;			/* atomic: handlers inside */
static int sig_no;
static struct sigaction sig_old;
static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;

static void dump_handler(int signo)
{
	int saved = errno;
	struct zk_runtime *rt;

	(void)signo;
	__atomic_add_fetch(&sig_busy, 1, __ATOMIC_SEQ_CST);
	rt = __atomic_load_n(&sig_rt, __ATOMIC_SEQ_CST);
	if (rt) {
		ZK_STORE_SC(&rt->dump_req, 1);
		zk_worker_kick(NULL, &rt->root);
	}
	__atomic_sub_fetch(&sig_busy, 1, __ATOMIC_SEQ_CST);
	errno = saved;
}

/* From zk_loop_wait() when the flag is up: only the root thread dumps. */
void zk_dump_requested(struct zk_io *io)
{
	struct zk_runtime *rt = io->rt;

	if (io != &rt->root || !ZK_XCHG(&rt->dump_req, 0))
		return;
	if (rt->dump_fd >= 0)
		zk_io_dump(io, rt->dump_fd, rt->dump_flags);
}

/* With sig_lock held, and @rt the runtime that has the signal. */
static void signal_off_locked(void)
{
	sigaction(sig_no, &sig_old, NULL);
	ZK_STORE_SC(&sig_rt, NULL);
	while (ZK_LOAD_SC(&sig_busy))
		sched_yield();	/* a handler on another thread is finishing */
	sig_no = 0;
}

void zk_dump_signal_off(struct zk_runtime *rt)
{
	pthread_mutex_lock(&sig_lock);
	if (ZK_LOAD_SC(&sig_rt) == rt)
		signal_off_locked();
	pthread_mutex_unlock(&sig_lock);
}

static int signal_on_locked(struct zk_runtime *rt, int signo)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = dump_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	ZK_STORE_SC(&sig_rt, rt);
	if (sigaction(signo, &sa, &sig_old)) {
		ZK_STORE_SC(&sig_rt, NULL);
		return -errno;
	}
	sig_no = signo;
	return 0;
}

int zk_io_dump_on_signal(struct zk_io *io, int signo, int fd, unsigned int flags)
{
	struct zk_runtime *rt = io->rt;
	struct zk_runtime *owner;
	int ret = 0;

	if (io != &rt->root || signo < 0 || signo >= NSIG || signo == SIGKILL ||
	    signo == SIGSTOP)
		return -EINVAL;
	pthread_mutex_lock(&sig_lock);
	owner = ZK_LOAD_SC(&sig_rt);
	if (owner && owner != rt) {
		ret = -EBUSY;
	} else {
		if (owner)
			signal_off_locked();
		rt->dump_fd = fd;
		rt->dump_flags = flags;
		if (signo)
			ret = signal_on_locked(rt, signo);
	}
	pthread_mutex_unlock(&sig_lock);
	return ret;
}
