// SPDX-License-Identifier: MIT
/*
 * zk-httpd: a small HTTP/1.1 server on libzsync-k, one task per connection.
 *
 *   zk-httpd [--executor green|stackless|threads] [--backend NAME]
 *            [--port N] [--root DIR]
 *
 * GET and HEAD of a static page at "/" and of the regular files under
 * --root DIR; keep-alive and pipelining (responses in request order);
 * 400 and a closed connection for a malformed request or one past a
 * limit (zk-httpd.h), 404, 403 for a path that leaves the root, 405 for
 * other methods.  Accepting, signals and shutdown are zk-server.c's,
 * shared with zk-echo: on SIGTERM the root stops accepting and every
 * connection finishes the responses it owes, then ends.
 *
 * A connection is a small loop: parse every complete request it has
 * received into responses (http_advance()), send them, receive more.
 * http_conn() runs it as sequential code (green threads, the thread
 * pool), http_step() as a state machine (stackless), over the same
 * http_advance().
 *
 * Files are opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
 * under the root's descriptor, so neither ".." nor a symbolic link leads
 * out of it, and read with pread(): they are small (--max-file) and in the
 * page cache, which is what a static server's working set is; the
 * runtime's ops carry the network traffic.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "zk-httpd.h"
#include "zk-server.h"

/* Stop parsing pipelined requests once this much output waits. */
#define OUT_FLUSH	(64 * 1024)

static const char index_body[] = "Hello from zk-httpd\n";

static struct {
	const char *root;
	int root_fd;		/* -1: only "/" is served */
	size_t head_max, max_file;
} cfg = { .root_fd = -1, .head_max = HTTP_HEAD_DEFAULT, .max_file = 1 << 20 };

struct conn {
	struct zks_conn z;
	char *in;		/* cfg.head_max bytes */
	size_t in_len, in_off, scan;
	char *out;		/* responses to send */
	size_t out_len, out_cap, sent;
	bool closing;		/* after what is in out, close */
};

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

static bool out_reserve(struct conn *c, size_t more)
{
	size_t cap = c->out_cap ? c->out_cap : 1024;
	char *p;

	if (c->out_len + more <= c->out_cap)
		return true;
	while (cap < c->out_len + more)
		cap *= 2;
	p = realloc(c->out, cap);
	if (!p)
		return false;
	c->out = p;
	c->out_cap = cap;
	return true;
}

/*
 * All of the output went out: a buffer a large file grew is given back,
 * so an idle keep-alive connection costs its small buffers only.
 */
static void out_sent(struct conn *c)
{
	c->out_len = 0;
	if (c->out_cap > 2 * OUT_FLUSH) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
}

/* RFC 9110's IMF-fixdate, formatted once a second per thread. */
static const char *http_date(void)
{
	static _Thread_local char buf[40];
	static _Thread_local time_t last;
	time_t now = time(NULL);
	struct tm tm;

	if (now != last) {
		last = now;
		gmtime_r(&now, &tm);
		strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	}
	return buf;
}

static const char *content_type(const char *path)
{
	static const char *const types[][2] = {
		{ ".html", "text/html" }, { ".txt", "text/plain" }, { ".css", "text/css" },
		{ ".js", "text/javascript" }, { ".json", "application/json" },
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" },
	};
	const char *dot = path ? strrchr(path, '.') : NULL;
	size_t i;

	for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i][0]))
			return types[i][1];
	return path ? "application/octet-stream" : "text/plain";
}

/*
 * Append a response head; the body (@body_len bytes) follows unless HEAD.
 * On allocation failure the connection is closed after what it has.
 */
static bool put_head(struct conn *c, int status, const char *reason, const char *type,
		     size_t body_len, const char *extra)
{
	int n;

	if (!out_reserve(c, 256 + strlen(extra))) {
		c->closing = true;
		return false;
	}
	n = snprintf(c->out + c->out_len, c->out_cap - c->out_len,
		     "HTTP/1.1 %d %s\r\nServer: zk-httpd\r\nDate: %s\r\n"
		     "Content-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
		     status, reason, http_date(), type, body_len, extra,
		     c->closing ? "Connection: close\r\n" : "");
	c->out_len += (size_t)n;
	return true;
}

static void put_body(struct conn *c, const char *body, size_t len)
{
	if (!out_reserve(c, len)) {
		c->closing = true;
		return;
	}
	memcpy(c->out + c->out_len, body, len);
	c->out_len += len;
}

/* A status with its reason phrase as the body. */
static void put_error(struct conn *c, int status, const char *reason, bool head_only,
		      const char *extra)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, reason);

	if (put_head(c, status, reason, "text/plain", (size_t)n, extra) && !head_only)
		put_body(c, body, (size_t)n);
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * The target's path, percent-decoded, without its query and leading '/'s,
 * into @path: false if it is malformed (a bad escape, a NUL) or too long.
 */
static bool target_path(const char *t, size_t len, char *path, size_t size)
{
	size_t i, n = 0;

	for (i = 0; i < len && t[i] != '?' && t[i] != '#'; i++) {
		char ch = t[i];

		if (ch == '%') {
			int hi = i + 2 < len ? hexval(t[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(t[i + 2]) : -1;

			if (lo < 0 || (hi == 0 && lo == 0))
				return false;
			ch = (char)(hi * 16 + lo);
			i += 2;
		}
		if (n + 1 >= size)
			return false;
		if (n || ch != '/')
			path[n++] = ch;
	}
	path[n] = '\0';
	return true;
}

/* Open @path beneath the root and nowhere else: no "..", no symlinks. */
static int open_beneath(const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, cfg.root_fd, path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/* Read all @len bytes of @fd into the output. */
static int read_file(struct conn *c, int fd, size_t len)
{
	size_t got = 0;

	if (!out_reserve(c, len))
		return -ENOMEM;
	while (got < len) {
		ssize_t n = pread(fd, c->out + c->out_len + got, len - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;	/* it shrank */
		got += (size_t)n;
	}
	c->out_len += len;
	return 0;
}

static void put_open_error(struct conn *c, int err, bool head_only)
{
	switch (err) {
	case -ENOENT: case -ENOTDIR: case -ENAMETOOLONG:
		put_error(c, 404, "Not Found", head_only, "");
		break;
	case -EXDEV: case -ELOOP: case -EACCES: case -EPERM:
		put_error(c, 403, "Forbidden", head_only, "");
		break;
	default:
		put_error(c, 500, "Internal Server Error", head_only, "");
	}
}

static void put_file(struct conn *c, const char *path, bool head_only)
{
	struct stat st;
	size_t mark;
	int fd, r;

	fd = cfg.root_fd < 0 ? -ENOENT : open_beneath(path);
	if (fd < 0) {
		put_open_error(c, fd, head_only);
		return;
	}
	if (fstat(fd, &st) < 0) {
		put_open_error(c, -errno, head_only);
		close(fd);
		return;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > cfg.max_file) {
		/* directories, devices, and files too big for this example */
		put_error(c, S_ISREG(st.st_mode) ? 403 : 404,
			  S_ISREG(st.st_mode) ? "Forbidden" : "Not Found", head_only, "");
		close(fd);
		return;
	}
	mark = c->out_len;
	if (put_head(c, 200, "OK", content_type(path), (size_t)st.st_size, "") && !head_only) {
		r = read_file(c, fd, (size_t)st.st_size);
		if (r < 0) {
			c->out_len = mark;
			put_error(c, 500, "Internal Server Error", false, "");
		}
	}
	close(fd);
}

/* ------------------------------------------------------------------ */
/* One request, one response                                           */
/* ------------------------------------------------------------------ */

static void respond(struct conn *c, const struct http_req *rq)
{
	bool head = http_eq(rq->method, rq->method_len, "HEAD");
	char path[1024];

	/* A body we do not read would be taken for the next request. */
	if (!rq->keep_alive || rq->has_body)
		c->closing = true;
	if (!head && !http_eq(rq->method, rq->method_len, "GET")) {
		c->closing = true;
		put_error(c, 405, "Method Not Allowed", false, "Allow: GET, HEAD\r\n");
	} else if (!target_path(rq->target, rq->target_len, path, sizeof(path))) {
		c->closing = true;
		put_error(c, 400, "Bad Request", head, "");
	} else if (!path[0]) {
		if (put_head(c, 200, "OK", "text/plain", sizeof(index_body) - 1, "") && !head)
			put_body(c, index_body, sizeof(index_body) - 1);
	} else {
		put_file(c, path, head);
	}
}

enum next { NEXT_SEND, NEXT_RECV, NEXT_CLOSE };

/*
 * Turn every complete request received into its response, in order, and
 * say what the connection does next: send what is owed, receive more,
 * or close.  Called with nothing left to send.
 */
static enum next http_advance(struct conn *c)
{
	struct http_req rq;
	long n;

	while (!c->closing && c->out_len < OUT_FLUSH) {
		n = http_parse(c->in + c->in_off, c->in_len - c->in_off, cfg.head_max, &c->scan, &rq);
		if (n == 0)
			break;
		if (n < 0) {
			c->closing = true;
			put_error(c, 400, "Bad Request", false, "");
			break;
		}
		respond(c, &rq);
		c->in_off += (size_t)n;
		c->scan = 0;
	}
	if (c->out_len)
		return NEXT_SEND;
	if (c->closing)
		return NEXT_CLOSE;
	if (c->in_off) {	/* keep the partial request at the start */
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->scan = c->scan > c->in_off ? c->scan - c->in_off : 0;
		c->in_off = 0;
	}
	return NEXT_RECV;
}

/* Direct style: green threads and the thread pool. */
static int64_t http_conn(struct zk_io *io, void *arg)
{
	struct conn *c = arg;
	ssize_t n = 0;

	for (;;) {
		switch (http_advance(c)) {
		case NEXT_SEND:
			n = zks_send_all(io, c->z.fd, c->out, c->out_len);
			out_sent(c);
			if (n < 0)
				goto done;
			continue;
		case NEXT_RECV:
			n = zk_recv(io, c->z.fd, c->in + c->in_len, cfg.head_max - c->in_len, 0);
			if (n <= 0)
				goto done;
			c->in_len += (size_t)n;
			continue;
		case NEXT_CLOSE:
			goto done;
		}
	}
done:
	zks_close(io, c->z.fd);
	return zks_conn_end(io, &c->z, n);
}

/* The same loop as a state machine: stackless tasks. */
enum { ST_START, ST_RECV, ST_SEND, ST_CLOSE };

static int64_t step_next(struct zk_io *io, struct conn *c)
{
	switch (http_advance(c)) {
	case NEXT_SEND:
		c->sent = 0;
		return zks_step_send(io, &c->z, ST_SEND, c->out, c->out_len);
	case NEXT_RECV:
		return zks_step_recv(io, &c->z, ST_RECV, c->in + c->in_len,
				     cfg.head_max - c->in_len);
	default:
		return zks_step_close(io, &c->z, ST_CLOSE);
	}
}

static int64_t http_step(struct zk_io *io, void *arg)
{
	struct conn *c = arg;
	int64_t r = zks_step_begin(io, &c->z);

	switch (c->z.state) {
	case ST_RECV:
		if (r <= 0)
			return zks_step_close(io, &c->z, ST_CLOSE);
		c->in_len += (size_t)r;
		break;
	case ST_SEND:
		if (r < 0)
			return zks_step_close(io, &c->z, ST_CLOSE);
		c->sent += (size_t)r;
		if (c->sent < c->out_len)
			return zks_step_send(io, &c->z, ST_SEND, c->out + c->sent,
					     c->out_len - c->sent);
		out_sent(c);
		break;
	case ST_CLOSE:
		return zks_step_closed(io, &c->z, r, r);
	}
	return step_next(io, c);
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */
/* ------------------------------------------------------------------ */

static void http_conn_init(struct zks_conn *z)
{
	struct conn *c = (struct conn *)z;

	c->in = malloc(cfg.head_max);
	if (!c->in)
		c->closing = true;	/* it closes without reading */
}

static void http_conn_free(struct zks_conn *z)
{
	struct conn *c = (struct conn *)z;

	free(c->in);
	free(c->out);
}

static int http_option(int opt, const char *arg)
{
	switch (opt) {
	case 'r': cfg.root = arg; return 0;
	case 'H': cfg.head_max = zks_parse_num("zk-httpd", "--max-head", arg, 256, 1 << 20); return 0;
	case 'F': cfg.max_file = zks_parse_num("zk-httpd", "--max-file", arg, 0, 1UL << 30); return 0;
	default: return -EINVAL;
	}
}

static int http_init(struct zks *s)
{
	(void)s;
	if (!cfg.root)
		return 0;
	cfg.root_fd = open(cfg.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cfg.root_fd < 0) {
		fprintf(stderr, "zk-httpd: --root %s: %s\n", cfg.root, strerror(errno));
		return -errno;
	}
	return 0;
}

static const struct option http_longopts[] = {
	{ "root", required_argument, NULL, 'r' },
	{ "max-head", required_argument, NULL, 'H' },
	{ "max-file", required_argument, NULL, 'F' },
	{ 0 }
};

static const struct zks_app http_app = {
	.name = "zk-httpd",
	.summary = "An HTTP/1.1 server on libzsync-k: GET and HEAD of '/' and of files\n"
		   "under --root, keep-alive and pipelining, one task per connection.",
	.usage = "  --root DIR        serve the regular files under DIR (default: only '/')\n"
		 "  --max-head BYTES  longest request head (default 8192); longer: 400\n"
		 "  --max-file BYTES  largest file served (default 1 MiB); larger: 403\n",
	.default_port = 8080,
	.conn_size = sizeof(struct conn),
	.run = http_conn,
	.step = http_step,
	.longopts = http_longopts,
	.shortopts = "r:H:F:",
	.option = http_option,
	.init = http_init,
	.conn_init = http_conn_init,
	.conn_free = http_conn_free,
};

int main(int argc, char **argv)
{
	return zks_main(&http_app, argc, argv);
}
