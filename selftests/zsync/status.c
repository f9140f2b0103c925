// SPDX-License-Identifier: GPL-2.0
/*
 * ZSYNC_IOC_RINGS, what `zsyncctl status` shows per ring: every ring set up
 * in the caller's PID namespace with its owner, what waits in it by op,
 * the oldest waiter and its age, CQ fill and overflow.  Admin only; a PID
 * namespace sees its own rings, not its parent's; hostile arguments get
 * errors; a closed ring is gone from the list.
 */
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "helpers.h"
#include "devaccess.h"

#define TAG	0x57a700000000ULL
#define NOBODY	65534

static int rings_ioctl(int fd, struct zsync_rings *r)
{
	return ioctl(fd, ZSYNC_IOC_RINGS, r) ? -errno : 0;
}

/* Every ring we can see, into a static array; returns how many. */
static unsigned int list_rings(struct __test_metadata *_metadata, int fd,
			       struct zsync_ring_info **out)
{
	static struct zsync_ring_info infos[256];
	struct zsync_rings r = {
		.buf = (uintptr_t)infos, .nr = 256, .info_size = sizeof(infos[0]),
	};

	EXPECT_EQ(0, rings_ioctl(fd, &r));
	EXPECT_LE(r.nr, r.total);
	*out = infos;
	return r.nr;
}

/* Our ring's entry (by id, or with id 0 the first we own); false if none. */
static bool find_ring(struct __test_metadata *_metadata, int fd, __u64 id,
		      struct zsync_ring_info *out)
{
	struct zsync_ring_info *infos;
	unsigned int n = list_rings(_metadata, fd, &infos);

	for (unsigned int i = 0; i < n; i++) {
		if (infos[i].id == id || (!id && infos[i].owner_pid == getpid())) {
			*out = infos[i];
			return true;
		}
	}
	return false;
}

/* The id of the newest ring @pid owns (rings are listed oldest first). */
static __u64 newest_ring_of(struct __test_metadata *_metadata, int fd, pid_t pid)
{
	struct zsync_ring_info *infos;
	unsigned int n = list_rings(_metadata, fd, &infos);
	__u64 id = 0;

	for (unsigned int i = 0; i < n; i++)
		if (infos[i].owner_pid == pid)
			id = infos[i].id;
	return id;
}

FIXTURE(status) {
	struct zk_ring ring;
	__u64 id;
	int sv[2];
};

FIXTURE_SETUP(status)
{
	struct zsync_params p = { .flags = ZSYNC_SETUP_CQSIZE, .cq_entries = 8 };

	ZT_REQUIRE_DEV();
	zt_ring_params(_metadata, &self->ring, 8, &p);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, self->sv));
	self->id = newest_ring_of(_metadata, self->ring.fd, getpid());
	ASSERT_NE(0ULL, self->id) TH_LOG("our ring is not listed");
}

FIXTURE_TEARDOWN(status)
{
	zk_ring_exit(&self->ring);
	close(self->sv[0]);
	close(self->sv[1]);
}

TEST_F(status, an_idle_ring_shows_its_owner_and_sizes_and_nothing_waiting)
{
	struct zsync_ring_info info;
	char comm[16] = "";
	FILE *f = fopen("/proc/self/comm", "re");

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	ASSERT_TRUE(find_ring(_metadata, self->ring.fd, self->id, &info));
	zt_check_fdinfo(_metadata, self->ring.fd, "id", (unsigned int)self->id);
	EXPECT_EQ(getpid(), info.owner_pid);
	EXPECT_STREQ(comm, info.owner_comm);
	EXPECT_EQ(8u, info.sq_entries);
	EXPECT_EQ(8u, info.cq_entries);
	EXPECT_EQ(0u, info.inflight);
	EXPECT_EQ(0u, info.cq_ready);
	EXPECT_EQ(0u, info.sq_pending);
	EXPECT_EQ((__u32)ZSYNC_OP_LAST, info.oldest_op);
	for (unsigned int i = 0; i < ZSYNC_RING_INFO_OPS; i++) {
		EXPECT_EQ(0u, info.waiting[i]) TH_LOG("op %u", i);
	}
}

/* RECV on the socketpair's empty end: it waits until data or cancel. */
static void recv_waits(struct __test_metadata *_metadata, FIXTURE_DATA(status) *self,
		       __u64 ud)
{
	static char buf[8];
	struct zsync_sqe *sqe = zt_sqe(_metadata, &self->ring);

	zk_prep_recv(sqe, self->sv[0], buf, sizeof(buf), 0);
	zk_sqe_set_data64(sqe, ud);
}

TEST_F(status, waiting_requests_are_counted_by_op_and_the_oldest_is_named)
{
	struct zsync_ring_info info;
	struct zsync_cqe c[4];
	int64_t t0;

	recv_waits(_metadata, self, TAG | 1);
	zt_submit(_metadata, &self->ring, 1);
	t0 = zt_mono_ns();
	recv_waits(_metadata, self, TAG | 2);
	recv_waits(_metadata, self, TAG | 3);
	zt_timeout(_metadata, &self->ring, TAG | 4, 60000, 0, 0);
	zt_submit(_metadata, &self->ring, 3);
	/* A TIMEOUT's CQE is how this test waits 100 ms: no sleep. */
	zt_timeout(_metadata, &self->ring, TAG | 5, 100, 0, 0);
	zt_submit(_metadata, &self->ring, 1);
	zt_expect_cqe(_metadata, &self->ring, TAG | 5, -ETIME, 0);

	ASSERT_TRUE(find_ring(_metadata, self->ring.fd, self->id, &info));
	EXPECT_EQ(3u, info.waiting[ZSYNC_OP_RECV]);
	EXPECT_EQ(1u, info.waiting[ZSYNC_OP_TIMEOUT]);
	EXPECT_EQ(4u, info.inflight);
	EXPECT_EQ((__u32)ZSYNC_OP_RECV, info.oldest_op);
	EXPECT_EQ(TAG | 1, info.oldest_user_data);
	/* Ages are jiffies, which can lag a slow VM's clock by a few ticks. */
	EXPECT_GE(info.oldest_age_ms, 50u);
	EXPECT_LE((int64_t)info.oldest_age_ms, zt_ms_since(t0) + 20);

	/*
	 * Data for one RECV (which one the socket wakes first is its
	 * business): the oldest of the two left is named.
	 */
	ASSERT_EQ(1, write(self->sv[1], "x", 1));
	zt_reap(_metadata, &self->ring, c, 1, ZT_PROMPT_MS);
	EXPECT_EQ(1, c[0].res);
	ASSERT_TRUE(find_ring(_metadata, self->ring.fd, self->id, &info));
	EXPECT_EQ(2u, info.waiting[ZSYNC_OP_RECV]);
	EXPECT_EQ(3u, info.inflight);
	EXPECT_EQ(c[0].user_data == (TAG | 1) ? TAG | 2 : TAG | 1, info.oldest_user_data);

	/* Cancelled, they are gone from the counts. */
	zk_prep_cancel(zt_sqe(_metadata, &self->ring), 0, ZSYNC_CANCEL_ANY | ZSYNC_CANCEL_ALL);
	zt_submit(_metadata, &self->ring, 1);
	zt_reap(_metadata, &self->ring, c, 4, ZT_PROMPT_MS);
	ASSERT_TRUE(find_ring(_metadata, self->ring.fd, self->id, &info));
	EXPECT_EQ(0u, info.waiting[ZSYNC_OP_RECV]);
	EXPECT_EQ(0u, info.waiting[ZSYNC_OP_TIMEOUT]);
	EXPECT_EQ(0u, info.inflight);
	EXPECT_EQ((__u32)ZSYNC_OP_LAST, info.oldest_op);
}

TEST_F(status, cq_fill_and_overflow_are_shown)
{
	struct zsync_ring_info info;
	struct zsync_cqe c[8];

	for (int i = 0; i < 6; i++)
		zt_nop(_metadata, &self->ring, TAG | (0x10 + i));
	zt_submit(_metadata, &self->ring, 6);
	ASSERT_TRUE(find_ring(_metadata, self->ring.fd, self->id, &info));
	EXPECT_EQ(6u, info.cq_ready);
	EXPECT_EQ(0u, info.overflow);
	for (int i = 0; i < 5; i++)
		zt_nop(_metadata, &self->ring, TAG | (0x20 + i));
	zt_submit(_metadata, &self->ring, 5);
	ASSERT_TRUE(find_ring(_metadata, self->ring.fd, self->id, &info));
	EXPECT_EQ(8u, info.cq_ready);
	EXPECT_EQ(3u, info.overflow);
	EXPECT_EQ(3u, info.overflow_total);
	zt_reap(_metadata, &self->ring, c, 8, ZT_PROMPT_MS);
	zt_reap(_metadata, &self->ring, c, 3, ZT_PROMPT_MS);
	ASSERT_TRUE(find_ring(_metadata, self->ring.fd, self->id, &info));
	EXPECT_EQ(0u, info.cq_ready);
	EXPECT_EQ(0u, info.overflow);
	EXPECT_EQ(3u, info.overflow_total);
}

TEST_F(status, published_sqes_not_yet_entered_are_pending)
{
	struct zsync_ring_info info;

	zt_nop(_metadata, &self->ring, TAG | 0x30);
	zt_nop(_metadata, &self->ring, TAG | 0x31);
	zt_publish_sq(&self->ring);
	ASSERT_TRUE(find_ring(_metadata, self->ring.fd, self->id, &info));
	EXPECT_EQ(2u, info.sq_pending);
	/* A hostile tail is clamped to the ring's size, not believed. */
	zk_store_release(self->ring.sq.ktail, *self->ring.sq.ktail + 1000000);
	ASSERT_TRUE(find_ring(_metadata, self->ring.fd, self->id, &info));
	EXPECT_EQ(8u, info.sq_pending);
	zk_store_release(self->ring.sq.ktail, *self->ring.sq.ktail - 1000000);
}

TEST_F(status, a_closed_ring_is_gone_and_a_new_one_is_listed_after_it)
{
	struct zsync_ring_info info;
	struct zk_ring other;
	__u64 id;

	zt_ring(_metadata, &other, 4, 0);
	id = newest_ring_of(_metadata, self->ring.fd, getpid());
	EXPECT_GT(id, self->id);
	ASSERT_TRUE(find_ring(_metadata, self->ring.fd, id, &info));
	EXPECT_EQ(4u, info.sq_entries);
	zk_ring_exit(&other);
	EXPECT_FALSE(find_ring(_metadata, self->ring.fd, id, &info));
	EXPECT_TRUE(find_ring(_metadata, self->ring.fd, self->id, &info));
}

TEST_F(status, the_list_is_read_in_pieces_with_after_id)
{
	struct zsync_ring_info one, all[256];
	struct zsync_rings r = { .buf = (uintptr_t)all, .nr = 256, .info_size = sizeof(one) };
	struct zk_ring more[3];
	unsigned int n = 0;

	for (int i = 0; i < 3; i++)
		zt_ring(_metadata, &more[i], 2, 0);
	ASSERT_EQ(0, rings_ioctl(self->ring.fd, &r));
	ASSERT_GE(r.total, 4u);
	ASSERT_EQ(r.total, r.nr);
	/* One at a time, following after_id, gives the same list. */
	for (__u64 after = 0;; n++) {
		struct zsync_rings step = {
			.buf = (uintptr_t)&one, .nr = 1, .info_size = sizeof(one), .after_id = after,
		};

		ASSERT_EQ(0, rings_ioctl(self->ring.fd, &step));
		EXPECT_EQ(r.total, step.total);
		if (!step.nr)
			break;
		ASSERT_LT(n, r.nr);
		EXPECT_EQ(all[n].id, one.id);
		EXPECT_GT(one.id, after);
		EXPECT_EQ(one.id, step.after_id);
		after = step.after_id;
	}
	EXPECT_EQ(r.nr, n);
	for (int i = 0; i < 3; i++)
		zk_ring_exit(&more[i]);
}

TEST_F(status, hostile_arguments_get_errors)
{
	struct zsync_ring_info one;
	struct zsync_rings r = { .buf = (uintptr_t)&one, .nr = 1, .info_size = sizeof(one) };

	r.resv[1] = 1;
	EXPECT_EQ(-EINVAL, rings_ioctl(self->ring.fd, &r));
	r.resv[1] = 0;
	r.info_size = sizeof(one) - 8;
	EXPECT_EQ(-EINVAL, rings_ioctl(self->ring.fd, &r));
	r.info_size = sizeof(one);
	r.buf = 0;
	EXPECT_EQ(-EFAULT, rings_ioctl(self->ring.fd, &r));
	r.buf = (uintptr_t)&one;
	EXPECT_EQ(-EFAULT, ioctl(self->ring.fd, ZSYNC_IOC_RINGS, (void *)16) ? -errno : 0);
	/* Room for none: the total only. */
	r.nr = 0;
	ASSERT_EQ(0, rings_ioctl(self->ring.fd, &r));
	EXPECT_EQ(0u, r.nr);
	EXPECT_GE(r.total, 1u);
	/* A buffer it may not write: EFAULT, and nothing else happens. */
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, ro);
	r.buf = (uintptr_t)ro;
	r.nr = 1;
	EXPECT_EQ(-EFAULT, rings_ioctl(self->ring.fd, &r));
	munmap(ro, 4096);
}

/* Child exit codes: 0 is success, anything else names the failed step. */
enum { CHILD_OK = 0, CHILD_SETUP, CHILD_EPERM, CHILD_SEES_PARENT, CHILD_SEES_SELF };

TEST_F(status, without_cap_sys_admin_it_is_refused)
{
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct zsync_ring_info one;
		struct zsync_rings r = { .buf = (uintptr_t)&one, .nr = 1,
					 .info_size = sizeof(one) };

		if (zt_setgroups_dev() || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(CHILD_SETUP);
		/* The ring fd is inherited: the check is on the caller. */
		_exit(rings_ioctl(self->ring.fd, &r) == -EPERM ? CHILD_OK : CHILD_EPERM);
	}
	EXPECT_EQ(CHILD_OK, zt_wait_child(pid, ZT_LATE_MS * 10));
}

/*
 * A process in a new PID namespace lists its own ring under its pid there
 * (1) and not ours; we list its ring under its pid here.
 */
TEST_F(status, a_pid_namespace_sees_its_rings_only)
{
	int go[2], ready[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, unshare(CLONE_NEWPID)) TH_LOG("unshare: %s", strerror(errno));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct zsync_ring_info infos[64];
		struct zsync_rings r = { .buf = (uintptr_t)infos, .nr = 64,
					 .info_size = sizeof(infos[0]) };
		struct zk_ring ring;

		if (zk_ring_init(4, &ring, 0) || rings_ioctl(ring.fd, &r))
			_exit(CHILD_SETUP);
		for (unsigned int i = 0; i < r.nr; i++)
			if (infos[i].id == self->id)
				_exit(CHILD_SEES_PARENT);
		if (r.nr != 1 || r.total != 1 || infos[0].owner_pid != 1)
			_exit(CHILD_SEES_SELF);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(CHILD_SETUP);
		_exit(CHILD_OK);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	EXPECT_NE(0ULL, newest_ring_of(_metadata, self->ring.fd, pid))
		TH_LOG("the child's ring is not listed under its pid %d", pid);
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_EQ(CHILD_OK, zt_wait_child(pid, ZT_LATE_MS * 10));
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

TEST_HARNESS_MAIN
