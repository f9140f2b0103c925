/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The JSON writer that zsyncctl and the zsync-bench* programs share.
 * Header-only: each tool prints its objects with printf() and calls
 * json_string() for every string, so escaping lives in one place.
 */
#ifndef ZSYNC_TOOLS_JSON_H
#define ZSYNC_TOOLS_JSON_H

#include <stdio.h>

/*
 * The length of the well-formed UTF-8 sequence at @s (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static inline int json_utf8_len(const unsigned char *s)
{
	int n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/*
 * Writes @s to @f as a JSON string (RFC 8259, section 7): quoted, with '"'
 * and '\' escaped, the control characters U+0000..U+001F as the short
 * escapes \b \f \n \r \t or else \u00XX.  DEL and well-formed UTF-8 are
 * written as they are; a byte that is not part of well-formed UTF-8 (a
 * file name can hold any) becomes U+FFFD, so the output is always valid
 * JSON text.
 */
static inline void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int n;

		if (c >= 0x80) {
			n = json_utf8_len((const unsigned char *)s);
			if (!n) {
				fputs("\\ufffd", f);
				continue;
			}
			fwrite(s, 1, (size_t)n, f);
			s += n - 1;
			continue;
		}

		switch (c) {
		case '"':	fputs("\\\"", f); break;
		case '\\':	fputs("\\\\", f); break;
		case '\b':	fputs("\\b", f); break;
		case '\f':	fputs("\\f", f); break;
		case '\n':	fputs("\\n", f); break;
		case '\r':	fputs("\\r", f); break;
		case '\t':	fputs("\\t", f); break;
		default:
			if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

#endif /* ZSYNC_TOOLS_JSON_H */
