// SPDX-License-Identifier: GPL-2.0
/*
 * An op may block its submitter inside ENTER as its syscall would: OPENAT
 * of a FIFO that has no writer waits for one, as open(2) does.  The ring's
 * other submitters then wait for the submission to end, but interruptibly:
 * a signal ends their ENTER with EINTR (they never sit in D state), and the
 * blocked op completes normally once the FIFO gets its writer.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "helpers.h"

#define UD_OPEN	0x0fe7

struct opener {
	struct zk_ring *ring;
	const char *path;
	pid_t tid;
	int ret;
};

/* Submits OPENAT(path, O_RDONLY), which waits in the kernel for a writer. */
static void *open_fifo(void *arg)
{
	struct opener *o = arg;
	struct zsync_sqe *sqe = zk_get_sqe(o->ring);

	zk_prep_openat(sqe, AT_FDCWD, o->path, O_RDONLY | O_CLOEXEC, 0);
	sqe->user_data = UD_OPEN;
	__atomic_store_n(&o->tid, syscall(SYS_gettid), __ATOMIC_RELEASE);
	o->ret = zk_submit(o->ring);
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

TEST(other_submitters_wait_interruptibly)
{
	struct opener o = { 0 };
	struct zsync_cqe *cqe;
	struct zk_ring ring;
	char path[64];
	int status, wfd;
	pthread_t th;
	pid_t pid;

	zt_ring(_metadata, &ring, 8, 0);
	snprintf(path, sizeof(path), "/tmp/zsync-submit-block.%d", getpid());
	unlink(path);
	ASSERT_EQ(0, mkfifo(path, 0600));
	o.ring = &ring;
	o.path = path;
	ASSERT_EQ(0, pthread_create(&th, NULL, open_fifo, &o));
	while (!__atomic_load_n(&o.tid, __ATOMIC_ACQUIRE))
		zt_sleep_ms(1);
	ASSERT_TRUE(zt_wait_state(o.tid, 'S', ZT_PROMPT_MS))
		TH_LOG("the OPENAT never blocked in the FIFO's open");

	/* Another submitter of the same ring (shared across fork). */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
		int ret;

		sigaction(SIGUSR1, &sa, NULL);
		zk_prep_nop(zk_get_sqe(&ring));
		ret = zk_submit(&ring);
		_exit(ret == -EINTR ? 0 : 10);
	}
	ASSERT_TRUE(zt_wait_state(pid, 'S', ZT_PROMPT_MS))
		TH_LOG("the second submitter waits in state %c, not interruptibly",
		       zt_proc_state(pid) ?: '-');
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	status = zt_wait_child(pid, ZT_PROMPT_MS);
	if (status < 0)
		kill(pid, SIGKILL);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("second submitter: status %#x (0: its ENTER ended with EINTR)", status);

	/* A writer arrives: the blocked OPENAT completes with a descriptor. */
	wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, wfd) TH_LOG("open for writing: %s", strerror(errno));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(1, o.ret) TH_LOG("the OPENAT's submission: %s", zt_err(o.ret));
	ASSERT_EQ(0, zk_wait_cqe(&ring, &cqe));
	EXPECT_EQ((__u64)UD_OPEN, cqe->user_data);
	EXPECT_LE(0, cqe->res) TH_LOG("OPENAT: %s", zt_err(cqe->res));
	if (cqe->res >= 0)
		close(cqe->res);
	zk_cqe_seen(&ring, cqe);
	close(wfd);
	unlink(path);
	zk_ring_exit(&ring);
}

TEST_HARNESS_MAIN
