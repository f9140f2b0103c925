// SPDX-License-Identifier: GPL-2.0
/*
 * ZSYNC_IOC_SETUP, mmap and ioctl validation on raw /dev/zsync descriptors:
 * ring sizing, flags, reserved fields, state errors, mapping bounds.
 */
#include "helpers.h"

#define PAGE_SZ		((size_t)sysconf(_SC_PAGESIZE))

static size_t page_round(size_t sz)
{
	return (sz + PAGE_SZ - 1) & ~(PAGE_SZ - 1);
}

static unsigned int max_entries(void)
{
	return zt_module_param("max_entries", 4096);
}

/* SETUP on a fresh descriptor; returns the ioctl result or -errno. */
static int setup_fresh(struct __test_metadata *_metadata, struct zsync_params *p)
{
	int fd = zt_open_dev(_metadata);
	int ret = zt_ioctl(fd, ZSYNC_IOC_SETUP, p);

	close(fd);
	return ret;
}

static void init_params(struct zsync_params *p, unsigned int sq,
			unsigned int cq, unsigned int flags)
{
	memset(p, 0, sizeof(*p));
	p->sq_entries = sq;
	p->cq_entries = cq;
	p->flags = flags;
}

/* SETUP must succeed and grant exactly @want_sq / @want_cq. */
static void expect_sizes(struct __test_metadata *_metadata, unsigned int sq,
			 unsigned int cq, unsigned int flags,
			 unsigned int want_sq, unsigned int want_cq)
{
	struct zsync_params p;
	int ret;

	init_params(&p, sq, cq, flags);
	ret = setup_fresh(_metadata, &p);
	ASSERT_EQ(0, ret) TH_LOG("SETUP sq %u cq %u flags %#x: expected 0, got %s",
				 sq, cq, flags, zt_err(ret));
	EXPECT_EQ(want_sq, p.sq_entries)
		TH_LOG("SETUP sq %u cq %u flags %#x: expected sq_entries %u, got %u",
		       sq, cq, flags, want_sq, p.sq_entries);
	EXPECT_EQ(want_cq, p.cq_entries)
		TH_LOG("SETUP sq %u cq %u flags %#x: expected cq_entries %u, got %u",
		       sq, cq, flags, want_cq, p.cq_entries);
}

/* SETUP must fail with exactly @err. */
static void expect_setup_err(struct __test_metadata *_metadata,
			     struct zsync_params *p, int err, const char *what)
{
	int ret = setup_fresh(_metadata, p);

	EXPECT_EQ(err, ret) TH_LOG("SETUP with %s: expected %s, got %s",
				   what, zt_err(err), zt_err(ret));
}

FIXTURE(dev) {
	int fd;
	struct zsync_params p;
};

FIXTURE_SETUP(dev)
{
	self->fd = zt_open_dev(_metadata);
	init_params(&self->p, 8, 0, 0);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

static void do_setup(struct __test_metadata *_metadata, int fd,
		     struct zsync_params *p)
{
	int ret = zt_ioctl(fd, ZSYNC_IOC_SETUP, p);

	ASSERT_EQ(0, ret) TH_LOG("SETUP sq %u: expected 0, got %s",
				 p->sq_entries, zt_err(ret));
}

TEST(sq_rounds_up_to_power_of_two_and_cq_doubles)
{
	static const unsigned int in[] = { 1, 2, 3, 5, 8, 9, 100, 1000, 4096 };
	static const unsigned int out[] = { 1, 2, 4, 8, 8, 16, 128, 1024, 4096 };
	unsigned int i;

	ZT_REQUIRE_DEV();
	for (i = 0; i < ARRAY_SIZE(in); i++) {
		if (out[i] > max_entries())
			continue;
		expect_sizes(_metadata, in[i], 0, 0, out[i], 2 * out[i]);
	}
}

TEST(cqsize_is_honoured_and_rounded)
{
	ZT_REQUIRE_DEV();
	expect_sizes(_metadata, 8, 64, ZSYNC_SETUP_CQSIZE, 8, 64);
	expect_sizes(_metadata, 8, 8, ZSYNC_SETUP_CQSIZE, 8, 8);
	/* Decision: like sq_entries, cq_entries rounds up to a power of two. */
	expect_sizes(_metadata, 8, 100, ZSYNC_SETUP_CQSIZE, 8, 128);
	/* Decision: the cq >= sq check compares the rounded sizes. */
	expect_sizes(_metadata, 5, 6, ZSYNC_SETUP_CQSIZE, 8, 8);
	/* Without CQSIZE an input cq_entries is ignored. */
	expect_sizes(_metadata, 8, 4, 0, 8, 16);
}

TEST(cqsize_smaller_than_sq_is_einval)
{
	struct zsync_params p;

	ZT_REQUIRE_DEV();
	init_params(&p, 16, 8, ZSYNC_SETUP_CQSIZE);
	expect_setup_err(_metadata, &p, -EINVAL, "sq 16, CQSIZE cq 8");
	init_params(&p, 16, 0, ZSYNC_SETUP_CQSIZE);
	expect_setup_err(_metadata, &p, -EINVAL, "sq 16, CQSIZE cq 0");
}

TEST(zero_entries_is_einval)
{
	struct zsync_params p;

	ZT_REQUIRE_DEV();
	init_params(&p, 0, 0, 0);
	expect_setup_err(_metadata, &p, -EINVAL, "sq 0");
	/* Decision: CLAMP clamps too-big sizes only; 0 stays invalid. */
	init_params(&p, 0, 0, ZSYNC_SETUP_CLAMP);
	expect_setup_err(_metadata, &p, -EINVAL, "sq 0 + CLAMP");
}

TEST(too_many_entries_is_einval)
{
	unsigned int max = max_entries();
	struct zsync_params p;

	ZT_REQUIRE_DEV();
	init_params(&p, max + 1, 0, 0);
	expect_setup_err(_metadata, &p, -EINVAL, "sq max_entries+1");
	init_params(&p, 1U << 31, 0, 0);
	expect_setup_err(_metadata, &p, -EINVAL, "sq 2^31");
	init_params(&p, 0xffffffffU, 0, 0);
	expect_setup_err(_metadata, &p, -EINVAL, "sq 0xffffffff");
	/* Decision: the CQ may hold at most 2 * max_entries. */
	init_params(&p, 8, 2 * max + 1, ZSYNC_SETUP_CQSIZE);
	expect_setup_err(_metadata, &p, -EINVAL, "CQSIZE cq 2*max_entries+1");
	init_params(&p, 8, 0xffffffffU, ZSYNC_SETUP_CQSIZE);
	expect_setup_err(_metadata, &p, -EINVAL, "CQSIZE cq 0xffffffff");
}

TEST(clamp_limits_sizes_to_the_maximum)
{
	unsigned int max = max_entries();

	ZT_REQUIRE_DEV();
	expect_sizes(_metadata, 0xffffffffU, 0, ZSYNC_SETUP_CLAMP, max, 2 * max);
	expect_sizes(_metadata, max + 1, 0, ZSYNC_SETUP_CLAMP, max, 2 * max);
	expect_sizes(_metadata, 8, 0xffffffffU,
		     ZSYNC_SETUP_CLAMP | ZSYNC_SETUP_CQSIZE, 8, 2 * max);
	/* CLAMP changes nothing for sizes within range. */
	expect_sizes(_metadata, 5, 0, ZSYNC_SETUP_CLAMP, 8, 16);
}

TEST(unknown_setup_flags_are_einval)
{
	static const unsigned int bad[] = { ZSYNC_SETUP_FLAGS_ALL + 1, 1U << 8,
					    1U << 31 };
	struct zsync_params p;
	char what[64];
	unsigned int i;

	ZT_REQUIRE_DEV();
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		init_params(&p, 8, 0, bad[i]);
		snprintf(what, sizeof(what), "flags %#x", bad[i]);
		expect_setup_err(_metadata, &p, -EINVAL, what);
	}
}

TEST(nonzero_resv_is_einval)
{
	struct zsync_params p;
	char what[64];
	unsigned int i;

	ZT_REQUIRE_DEV();
	for (i = 0; i < ARRAY_SIZE(p.resv); i++) {
		init_params(&p, 8, 0, 0);
		p.resv[i] = 1;
		snprintf(what, sizeof(what), "resv[%u] = 1", i);
		expect_setup_err(_metadata, &p, -EINVAL, what);
	}
}

TEST_F(dev, null_params_is_efault)
{
	int ret = zt_ioctl(self->fd, ZSYNC_IOC_SETUP, NULL);

	EXPECT_EQ(-EFAULT, ret) TH_LOG("SETUP(NULL): expected -EFAULT, got %s",
				       zt_err(ret));
}

TEST_F(dev, failed_setup_leaves_fd_usable)
{
	int ret;

	self->p.sq_entries = 0;
	ret = zt_ioctl(self->fd, ZSYNC_IOC_SETUP, &self->p);
	ASSERT_EQ(-EINVAL, ret) TH_LOG("SETUP sq 0: got %s", zt_err(ret));
	/* Decision: a refused SETUP leaves the descriptor un-set-up. */
	init_params(&self->p, 8, 0, 0);
	ret = zt_ioctl(self->fd, ZSYNC_IOC_SETUP, &self->p);
	EXPECT_EQ(0, ret) TH_LOG("SETUP after a refused SETUP: expected 0, got %s",
				 zt_err(ret));
}

TEST_F(dev, second_setup_is_ebusy)
{
	int ret;

	do_setup(_metadata, self->fd, &self->p);
	init_params(&self->p, 16, 0, 0);
	ret = zt_ioctl(self->fd, ZSYNC_IOC_SETUP, &self->p);
	EXPECT_EQ(-EBUSY, ret) TH_LOG("second SETUP: expected -EBUSY, got %s",
				      zt_err(ret));
}

TEST_F(dev, features_and_offsets_are_reported)
{
	const struct zsync_sq_offsets *so = &self->p.sq_off;
	const struct zsync_cq_offsets *co = &self->p.cq_off;
	const unsigned int want = ZSYNC_FEAT_NODROP | ZSYNC_FEAT_LINKS |
				  ZSYNC_FEAT_RESTRICT | ZSYNC_FEAT_EVENTFD;

	do_setup(_metadata, self->fd, &self->p);
	EXPECT_EQ(want, self->p.features & want)
		TH_LOG("features %#x: expected NODROP|LINKS|RESTRICT|EVENTFD (%#x)",
		       self->p.features, want);
	EXPECT_LT(0u, self->p.overflow_limit)
		TH_LOG("default overflow_limit granted: expected > 0, got 0");
	/* Every __u32 field 4-aligned and distinct; CQEs 8-aligned after them. */
	EXPECT_EQ(0u, (so->head | so->tail | so->ring_mask | so->ring_entries |
		       so->flags) % 4);
	EXPECT_NE(so->head, so->tail);
	EXPECT_NE(so->ring_mask, so->ring_entries);
	EXPECT_EQ(0u, (co->head | co->tail | co->ring_mask | co->ring_entries |
		       co->overflow) % 4);
	EXPECT_NE(co->head, co->tail);
	EXPECT_EQ(0u, co->cqes % 8) TH_LOG("cq_off.cqes %u not 8-aligned", co->cqes);
	EXPECT_LT(co->overflow, co->cqes);
	EXPECT_LT(co->tail, co->cqes);
	EXPECT_LT(co->head, co->cqes);
}

TEST_F(dev, enter_before_setup_is_ebadfd)
{
	struct zsync_enter e = { 0 };
	int ret = zt_enter_raw(self->fd, &e);

	/* Decision: every ring operation before SETUP is -EBADFD. */
	EXPECT_EQ(-EBADFD, ret) TH_LOG("ENTER before SETUP: expected -EBADFD, got %s",
				       zt_err(ret));
}

TEST_F(dev, mmap_before_setup_is_ebadfd)
{
	void *m = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED,
		       self->fd, ZSYNC_OFF_SQ_RING);
	int err = m == MAP_FAILED ? -errno : 0;

	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(-EBADFD, err) TH_LOG("mmap before SETUP: expected -EBADFD, got %s",
				       zt_err(err));
	if (m != MAP_FAILED)
		munmap(m, PAGE_SZ);
}

/* mmap @len at @off; returns 0 (and unmaps) or -errno. */
static int try_mmap(int fd, size_t len, __u64 off)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)off);

	if (m == MAP_FAILED)
		return -errno;
	munmap(m, len);
	return 0;
}

struct region {
	const char *name;
	__u64 off;
	size_t size;
};

static void regions_of(const struct zsync_params *p, struct region r[3])
{
	r[0] = (struct region){ "sq ring", ZSYNC_OFF_SQ_RING,
				p->sq_off.flags + sizeof(__u32) };
	r[1] = (struct region){ "cq ring", ZSYNC_OFF_CQ_RING,
				p->cq_off.cqes + p->cq_entries * sizeof(struct zsync_cqe) };
	r[2] = (struct region){ "sqes", ZSYNC_OFF_SQES,
				p->sq_entries * sizeof(struct zsync_sqe) };
}

TEST_F(dev, mmap_sizes_up_to_the_page_rounded_region)
{
	struct region r[3];
	unsigned int i;
	int ret;

	do_setup(_metadata, self->fd, &self->p);
	regions_of(&self->p, r);
	for (i = 0; i < 3; i++) {
		ret = try_mmap(self->fd, r[i].size, r[i].off);
		EXPECT_EQ(0, ret) TH_LOG("mmap %s, exact size %zu: got %s",
					 r[i].name, r[i].size, zt_err(ret));
		ret = try_mmap(self->fd, page_round(r[i].size), r[i].off);
		EXPECT_EQ(0, ret) TH_LOG("mmap %s, page-rounded size %zu: got %s",
					 r[i].name, page_round(r[i].size), zt_err(ret));
		ret = try_mmap(self->fd, page_round(r[i].size) + PAGE_SZ, r[i].off);
		EXPECT_EQ(-EINVAL, ret)
			TH_LOG("mmap %s, one page too long (%zu): expected -EINVAL, got %s",
			       r[i].name, page_round(r[i].size) + PAGE_SZ, zt_err(ret));
	}
}

TEST_F(dev, mmap_unknown_offset_is_einval)
{
	/* Decision: only the three exact offsets map; no partial mappings. */
	static const __u64 bad[] = { 0x4000000ULL, ZSYNC_OFF_SQ_RING + 4096,
				     ZSYNC_OFF_CQ_RING + 4096, ZSYNC_OFF_SQES + 4096,
				     0x20000000ULL };
	unsigned int i;
	int ret;

	do_setup(_metadata, self->fd, &self->p);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ret = try_mmap(self->fd, PAGE_SZ, bad[i]);
		EXPECT_EQ(-EINVAL, ret) TH_LOG("mmap at offset %#llx: expected -EINVAL, got %s",
					       (unsigned long long)bad[i], zt_err(ret));
	}
}

static unsigned int u32_at(const void *base, __u32 off)
{
	return *(const unsigned int *)((const char *)base + off);
}

TEST_F(dev, mapped_rings_show_sizes_and_zero_indices)
{
	struct zsync_params *p = &self->p;
	struct region r[3];
	void *sq, *cq;

	p->sq_entries = 16;
	do_setup(_metadata, self->fd, p);
	regions_of(p, r);
	sq = mmap(NULL, r[0].size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		  ZSYNC_OFF_SQ_RING);
	ASSERT_NE(MAP_FAILED, sq) TH_LOG("mmap sq ring: %s", strerror(errno));
	cq = mmap(NULL, r[1].size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		  ZSYNC_OFF_CQ_RING);
	ASSERT_NE(MAP_FAILED, cq) TH_LOG("mmap cq ring: %s", strerror(errno));

	EXPECT_EQ(16u, u32_at(sq, p->sq_off.ring_entries));
	EXPECT_EQ(15u, u32_at(sq, p->sq_off.ring_mask));
	EXPECT_EQ(0u, u32_at(sq, p->sq_off.head));
	EXPECT_EQ(0u, u32_at(sq, p->sq_off.tail));
	EXPECT_EQ(0u, u32_at(sq, p->sq_off.flags));
	EXPECT_EQ(32u, u32_at(cq, p->cq_off.ring_entries));
	EXPECT_EQ(31u, u32_at(cq, p->cq_off.ring_mask));
	EXPECT_EQ(0u, u32_at(cq, p->cq_off.head));
	EXPECT_EQ(0u, u32_at(cq, p->cq_off.tail));
	EXPECT_EQ(0u, u32_at(cq, p->cq_off.overflow));
	munmap(sq, r[0].size);
	munmap(cq, r[1].size);
}

/* ENTER on a set-up ring with @e must fail with exactly @err. */
static void expect_enter_err(struct __test_metadata *_metadata, int fd,
			     struct zsync_enter *e, int err, const char *what)
{
	int ret = zt_enter_raw(fd, e);

	EXPECT_EQ(err, ret) TH_LOG("ENTER with %s: expected %s, got %s",
				   what, zt_err(err), zt_err(ret));
}

TEST_F(dev, enter_validates_flags_and_resv)
{
	struct zsync_enter e;
	sigset_t set;
	unsigned int i;
	char what[64];
	int ret;

	do_setup(_metadata, self->fd, &self->p);
	memset(&e, 0, sizeof(e));
	ret = zt_enter_raw(self->fd, &e);
	ASSERT_EQ(0, ret) TH_LOG("ENTER with nothing to do: expected 0, got %s",
				 zt_err(ret));

	e.flags = ZSYNC_ENTER_FLAGS_ALL + 1;
	expect_enter_err(_metadata, self->fd, &e, -EINVAL, "flags ALL+1");
	e.flags = 1U << 31;
	expect_enter_err(_metadata, self->fd, &e, -EINVAL, "flags 1<<31");
	for (i = 0; i < ARRAY_SIZE(e.resv); i++) {
		memset(&e, 0, sizeof(e));
		e.resv[i] = 1;
		snprintf(what, sizeof(what), "resv[%u] = 1", i);
		expect_enter_err(_metadata, self->fd, &e, -EINVAL, what);
	}
	/* Decision: a sigmask whose size is not the kernel sigset's is -EINVAL. */
	sigemptyset(&set);
	memset(&e, 0, sizeof(e));
	e.flags = ZSYNC_ENTER_GETEVENTS;
	e.sigmask = (__u64)(uintptr_t)&set;
	e.sigmask_size = 4;
	expect_enter_err(_metadata, self->fd, &e, -EINVAL, "sigmask_size 4");
	ret = zt_enter_raw(self->fd, NULL);
	EXPECT_EQ(-EFAULT, ret) TH_LOG("ENTER(NULL): expected -EFAULT, got %s",
				       zt_err(ret));
}

TEST_F(dev, unknown_ioctl_is_enotty)
{
	static const unsigned long bad[] = {
		_IO(ZSYNC_IOC_MAGIC, 0x7f),
		_IO(ZSYNC_IOC_MAGIC, 0x40),
		_IOWR(ZSYNC_IOC_MAGIC, 0x00, __u32),	/* SETUP, wrong size */
		_IOWR(ZSYNC_IOC_MAGIC, 0x01, __u64),	/* ENTER, wrong size */
		_IOR('T', 0x01, int),
	};
	__u64 arg[64] = { 0 };
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ret = zt_ioctl(self->fd, bad[i], arg);
		EXPECT_EQ(-ENOTTY, ret) TH_LOG("ioctl %#lx before SETUP: expected -ENOTTY, got %s",
					       bad[i], zt_err(ret));
	}
	do_setup(_metadata, self->fd, &self->p);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ret = zt_ioctl(self->fd, bad[i], arg);
		EXPECT_EQ(-ENOTTY, ret) TH_LOG("ioctl %#lx after SETUP: expected -ENOTTY, got %s",
					       bad[i], zt_err(ret));
	}
}

/*
 * PROBE lists exactly the opcodes the module runs: the core ones always,
 * and for every assigned opcode the same answer RESTRICT gives (RESTRICT
 * refuses to allow an opcode without an op).
 */
TEST_F(dev, probe_lists_exactly_the_implemented_ops)
{
	static const unsigned int core[] = { ZSYNC_OP_NOP, ZSYNC_OP_TIMEOUT,
					     ZSYNC_OP_LINK_TIMEOUT, ZSYNC_OP_CANCEL };
	struct zsync_probe pr;
	unsigned int i;
	int ret;

	memset(&pr, 0, sizeof(pr));
	pr.resv[4] = 1;
	ret = zt_ioctl(self->fd, ZSYNC_IOC_PROBE, &pr);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("PROBE with resv[4] set: expected -EINVAL, got %s",
				       zt_err(ret));
	memset(&pr, 0xff, sizeof(pr));
	memset(pr.resv, 0, sizeof(pr.resv));
	ret = zt_ioctl(self->fd, ZSYNC_IOC_PROBE, &pr);
	ASSERT_EQ(0, ret) TH_LOG("PROBE before SETUP: expected 0, got %s", zt_err(ret));
	EXPECT_EQ((__u32)ZSYNC_OP_LAST, pr.last_op);
	EXPECT_EQ((__u32)ZSYNC_ABI_VERSION, pr.abi_version);
	for (i = 0; i < ARRAY_SIZE(core); i++)
		EXPECT_TRUE(zk_probe_has_op(&pr, core[i]))
			TH_LOG("PROBE does not list core opcode %u", core[i]);
	for (i = ZSYNC_OP_LAST; i < 256; i++)
		EXPECT_FALSE(zk_probe_has_op(&pr, i))
			TH_LOG("PROBE lists opcode %u >= ZSYNC_OP_LAST", i);

	init_params(&self->p, 8, 0, ZSYNC_SETUP_R_DISABLED);
	do_setup(_metadata, self->fd, &self->p);
	EXPECT_EQ(self->p.features, pr.features)
		TH_LOG("PROBE features %#x, SETUP features %#x", pr.features, self->p.features);
	for (i = 0; i < ZSYNC_OP_LAST; i++) {
		struct zsync_restriction r;
		bool listed = zk_probe_has_op(&pr, i);
		int fd = zt_open_dev(_metadata);
		struct zsync_params p;

		init_params(&p, 8, 0, ZSYNC_SETUP_R_DISABLED);
		do_setup(_metadata, fd, &p);
		memset(&r, 0, sizeof(r));
		r.allowed_ops[i / 64] = 1ULL << (i % 64);
		ret = zt_ioctl(fd, ZSYNC_IOC_RESTRICT, &r);
		close(fd);
		EXPECT_EQ(listed ? 0 : -EINVAL, ret)
			TH_LOG("opcode %u: PROBE %s it, RESTRICT allowing it gave %s",
			       i, listed ? "lists" : "does not list", zt_err(ret));
	}
}

TEST_HARNESS_MAIN
