/* SPDX-License-Identifier: MIT */
/*
 * zk-httpd: HTTP/1.1 request parsing (zk-httpd-parse.c), kept apart from
 * the server (zk-httpd.c) so it is plain code over a buffer: no I/O, no
 * allocation, and the same for every executor.
 */
#ifndef ZK_HTTPD_H
#define ZK_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

/* Limits: a request past any of them gets 400 and its connection closed. */
#define HTTP_LINE_MAX		4096	/* the request line */
#define HTTP_HEADERS_MAX	64	/* header fields */
#define HTTP_HEAD_DEFAULT	8192	/* request line and headers (--max-head) */

struct http_req {
	const char *method, *target;
	size_t method_len, target_len;
	int minor;			/* HTTP/1.<minor> */
	bool keep_alive;		/* the connection may serve another request */
	bool has_body;			/* Content-Length > 0 or Transfer-Encoding */
};

/*
 * http_parse() - parse the request head at the start of @buf
 * @buf, @len: what the connection has received and not yet consumed
 * @head_max: the most a head may take
 * @scan: where the search for the head's end resumes (0 for a new head):
 *	a client sending a byte at a time costs one byte of scanning each
 * @req: out: the request (pointers into @buf)
 *
 * Return: the bytes the head takes (its blank line included), 0 if it is
 * not complete yet, -1 if it is malformed or past a limit.
 */
long http_parse(const char *buf, size_t len, size_t head_max, size_t *scan,
		struct http_req *req);

/* Does @s (of @len bytes) equal the NUL-terminated @lit, ignoring case? */
bool http_eq(const char *s, size_t len, const char *lit);

#endif
