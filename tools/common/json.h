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
 * Writes @s to @f as a JSON string (RFC 8259, section 7): quoted, with '"'
 * and '\' escaped, the control characters U+0000..U+001F as the short
 * escapes \b \f \n \r \t or else \u00XX.  Every other byte (DEL, UTF-8
 * sequences) is written as it is: JSON allows them unescaped.
 */
static inline void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

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
