// SPDX-License-Identifier: MIT
/*
 * zk-httpd-parse: an HTTP/1.1 request head parser (RFC 9112), strict where
 * leniency would let two parsers disagree on where a request ends (no
 * obsolete line folding, no space before a header's colon, one valid
 * Content-Length), and bounded: the request line, the head and the number
 * of header fields have limits (zk-httpd.h).
 *
 * It works on whatever the connection has received: a head is parsed once
 * its blank line is in the buffer, so pipelined requests are taken one
 * after the other from the same buffer.
 */
#include <string.h>
#include <strings.h>

#include "zk-httpd.h"

/* RFC 9110 tchar: the characters of a method or a header name. */
static bool is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Control characters other than tab (and DEL) are never in a field. */
static bool is_ctl(unsigned char ch)
{
	return (ch < 0x20 && ch != '\t') || ch == 0x7f;
}

bool http_eq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

/*
 * The end of the head: the byte after its blank line ("\r\n\r\n", or bare
 * "\n" line ends, which RFC 9112 lets a server accept), or 0.
 */
static size_t head_end(const char *buf, size_t len, size_t *scan)
{
	size_t i;

	for (i = *scan; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
		if (i + 2 >= len) {
			*scan = i;	/* the blank line may still be coming */
			return 0;
		}
	}
	*scan = len;
	return 0;
}

/* The next line of [*p, end): sets it and its length without "\r\n". */
static bool next_line(const char **p, const char *end, const char **line, size_t *len)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));

	if (!nl)
		return false;
	*line = *p;
	*len = (size_t)(nl - *p);
	if (*len && (*p)[*len - 1] == '\r')
		(*len)--;
	*p = nl + 1;
	return true;
}

/* method SP request-target SP HTTP-version */
static bool parse_request_line(const char *s, size_t len, struct http_req *req)
{
	const char *end = s + len, *sp;
	size_t i;

	if (len > HTTP_LINE_MAX)
		return false;
	sp = memchr(s, ' ', len);
	if (!sp || sp == s)
		return false;
	req->method = s;
	req->method_len = (size_t)(sp - s);
	for (i = 0; i < req->method_len; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	s = sp + 1;
	sp = memchr(s, ' ', (size_t)(end - s));
	if (!sp || sp == s || *s != '/')
		return false;
	req->target = s;
	req->target_len = (size_t)(sp - s);
	for (i = 0; i < req->target_len; i++)
		if (is_ctl((unsigned char)s[i]) || s[i] == '\t' || (unsigned char)s[i] >= 0x80)
			return false;
	s = sp + 1;
	if ((size_t)(end - s) != 8 || strncmp(s, "HTTP/1.", 7) || (s[7] != '0' && s[7] != '1'))
		return false;
	req->minor = s[7] - '0';
	req->keep_alive = req->minor == 1;
	return true;
}

/* Connection: a comma-separated list of options, of which two matter. */
static void parse_connection(const char *v, size_t len, struct http_req *req)
{
	const char *end = v + len;

	while (v < end) {
		const char *comma = memchr(v, ',', (size_t)(end - v));
		const char *e = comma ? comma : end;

		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (http_eq(v, (size_t)(e - v), "close"))
			req->keep_alive = false;
		else if (http_eq(v, (size_t)(e - v), "keep-alive") && req->minor == 0)
			req->keep_alive = true;
		v = comma ? comma + 1 : end;
	}
}

/* Content-Length: digits only; a second one must say the same. */
static bool parse_content_length(const char *v, size_t len, long *cl)
{
	long n = 0;
	size_t i;

	if (!len || len > 15)
		return false;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		n = n * 10 + (v[i] - '0');
	}
	if (*cl >= 0 && *cl != n)
		return false;
	*cl = n;
	return true;
}

struct fields {
	long content_length;	/* -1: none */
	bool host, chunked;
};

/* name ":" OWS value OWS, no space before the colon, no folding. */
static bool parse_field(const char *s, size_t len, struct http_req *req, struct fields *f)
{
	const char *colon = memchr(s, ':', len), *v, *end = s + len;
	size_t i, nlen;

	if (!colon || colon == s)
		return false;
	nlen = (size_t)(colon - s);
	for (i = 0; i < nlen; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (i = 0; i < (size_t)(end - v); i++)
		if (is_ctl((unsigned char)v[i]))
			return false;
	if (http_eq(s, nlen, "connection"))
		parse_connection(v, (size_t)(end - v), req);
	else if (http_eq(s, nlen, "content-length"))
		return parse_content_length(v, (size_t)(end - v), &f->content_length);
	else if (http_eq(s, nlen, "transfer-encoding"))
		f->chunked = true;
	else if (http_eq(s, nlen, "host"))
		f->host = true;
	return true;
}

/* Is the incomplete @buf already past a limit? */
static bool over_limit(const char *buf, size_t len, size_t head_max)
{
	if (len >= head_max)
		return true;
	return len > HTTP_LINE_MAX && !memchr(buf, '\n', HTTP_LINE_MAX + 1);
}

static long parse_head(const char *buf, size_t hlen, size_t skip, struct http_req *req)
{
	struct fields f = { .content_length = -1 };
	const char *p = buf + skip, *end = buf + hlen, *line;
	unsigned int nfields = 0;
	size_t llen;

	if (!next_line(&p, end, &line, &llen) || !parse_request_line(line, llen, req))
		return -1;
	while (next_line(&p, end, &line, &llen) && llen) {
		if (++nfields > HTTP_HEADERS_MAX || *line == ' ' || *line == '\t' ||
		    memchr(line, '\r', llen) || !parse_field(line, llen, req, &f))
			return -1;
	}
	/* HTTP/1.1 requires Host (RFC 9112 3.2); a body with chunking is ambiguous. */
	if ((req->minor == 1 && !f.host) || (f.chunked && f.content_length >= 0))
		return -1;
	req->has_body = f.chunked || f.content_length > 0;
	return (long)hlen;
}

long http_parse(const char *buf, size_t len, size_t head_max, size_t *scan,
		struct http_req *req)
{
	size_t skip = 0, hlen;

	/* Empty lines before a request line are ignored (RFC 9112 2.2). */
	while (skip < len && (buf[skip] == '\r' || buf[skip] == '\n'))
		skip++;
	if (skip == len)
		return skip > 4 ? -1 : 0;
	if (*scan < skip)
		*scan = skip;
	hlen = head_end(buf, len, scan);
	if (!hlen)
		return over_limit(buf + skip, len - skip, head_max) ? -1 : 0;
	if (hlen > head_max)
		return -1;
	return parse_head(buf, hlen, skip, req);
}
