// SPDX-License-Identifier: MIT
/*
 * zsync-flame: folded stacks ("frame;frame;...;leaf N" lines, what
 * zk_io_profile_write() and ZK_PROFILE=FILE write) to a flame graph in
 * SVG: one box per frame, the outermost at the bottom, each as wide as the
 * time waited under it; hover a box for its name, time and share.
 *
 *   zsync-flame [-e BINARY] [-t TITLE] [-w WIDTH] [FOLDED] > graph.svg
 *
 * -e BINARY names the frames the library could only give as an address
 * ("0x401a2b", a static binary) or as "BINARY+0xoffset" (a function
 * BINARY does not export), with addr2line -f -e BINARY.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW_H		16
#define PAD		10
#define TITLE_H		36
#define CHAR_W		7	/* average glyph width of 12 px monospace */
#define MAX_LINE	65536
#define A2L_BATCH	128

struct node {
	char *name;
	uint64_t value;
	struct node **kids;
	size_t nkids, cap;
};

struct sym {
	char *from, *to;
};

struct syms {
	struct sym *v;
	size_t n, cap;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		perror("zsync-flame");
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xrealloc(NULL, n), s, n);
}

/* ---- symbolizing with addr2line -------------------------------------- */

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* "0x" and hex digits only: it goes on addr2line's command line. */
static bool is_hex(const char *s)
{
	return !strncmp(s, "0x", 2) && s[2] &&
	       strspn(s + 2, "0123456789abcdefABCDEF") == strlen(s + 2);
}

/* The address addr2line wants for @frame, or NULL when it is a name. */
static const char *frame_addr(const char *frame, const char *bin)
{
	size_t bl = strlen(bin);

	if (is_hex(frame))
		return frame;
	if (!strncmp(frame, bin, bl) && frame[bl] == '+' && is_hex(frame + bl + 1))
		return frame + bl + 1;
	return NULL;
}

static struct sym *sym_find(struct syms *s, const char *from)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].from, from))
			return &s->v[i];
	return NULL;
}

static void sym_add(struct syms *s, const char *from)
{
	if (sym_find(s, from))
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n].from = xstrdup(from);
	s->v[s->n++].to = NULL;
}

/* One addr2line run for s->v[first..first+n): two lines of output each. */
static void a2l_batch(struct syms *s, const char *bin_path, const char *bin,
		      size_t first, size_t n)
{
	char *cmd = xrealloc(NULL, strlen(bin_path) + 64 + n * 24);
	char fn[4096], loc[4096];
	size_t i;
	FILE *p;

	sprintf(cmd, "addr2line -f -e '%s'", bin_path);
	for (i = first; i < first + n; i++) {
		strcat(cmd, " ");
		strcat(cmd, frame_addr(s->v[i].from, bin));
	}
	p = popen(cmd, "r");
	for (i = first; p && i < first + n; i++) {
		if (!fgets(fn, sizeof(fn), p) || !fgets(loc, sizeof(loc), p))
			break;
		fn[strcspn(fn, "\n")] = 0;
		if (strcmp(fn, "??"))
			s->v[i].to = xstrdup(fn);
	}
	if (p)
		pclose(p);
	free(cmd);
}

static void a2l_all(struct syms *s, const char *bin_path)
{
	const char *bin = base_name(bin_path);
	size_t i;

	for (i = 0; i < s->n; i += A2L_BATCH)
		a2l_batch(s, bin_path, bin, i, s->n - i < A2L_BATCH ? s->n - i : A2L_BATCH);
}

/* ---- the tree -------------------------------------------------------- */

static struct node *node_new(const char *name)
{
	struct node *n = xrealloc(NULL, sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->name = xstrdup(name);
	return n;
}

static struct node *child(struct node *n, const char *name)
{
	size_t i;

	for (i = 0; i < n->nkids; i++)
		if (!strcmp(n->kids[i]->name, name))
			return n->kids[i];
	if (n->nkids == n->cap) {
		n->cap = n->cap ? n->cap * 2 : 4;
		n->kids = xrealloc(n->kids, n->cap * sizeof(*n->kids));
	}
	return n->kids[n->nkids++] = node_new(name);
}

static const char *rename_frame(struct syms *s, const char *frame)
{
	struct sym *m = s ? sym_find(s, frame) : NULL;

	return m && m->to ? m->to : frame;
}

static void add_stack(struct node *root, char *stack, uint64_t v, struct syms *s)
{
	struct node *n = root;
	char *save = NULL, *f;

	root->value += v;
	for (f = strtok_r(stack, ";", &save); f; f = strtok_r(NULL, ";", &save)) {
		n = child(n, rename_frame(s, f));
		n->value += v;
	}
}

/* Split "stack N" in place; false for a line that is not one. */
static bool parse_line(char *line, char **stack, uint64_t *v)
{
	char *sp, *end;

	line[strcspn(line, "\r\n")] = 0;
	sp = strrchr(line, ' ');
	if (!sp || sp == line)
		return false;
	*sp = 0;
	errno = 0;
	*v = strtoull(sp + 1, &end, 10);
	*stack = line;
	return !errno && *end == 0;
}

struct input {
	char **stacks;
	uint64_t *values;
	size_t n, cap;
};

static void read_input(FILE *in, struct input *inp, struct syms *s, const char *bin)
{
	static char line[MAX_LINE];
	char *stack, *save, *f, *copy;
	uint64_t v;

	while (fgets(line, sizeof(line), in)) {
		if (!parse_line(line, &stack, &v))
			continue;
		if (inp->n == inp->cap) {
			inp->cap = inp->cap ? inp->cap * 2 : 256;
			inp->stacks = xrealloc(inp->stacks, inp->cap * sizeof(char *));
			inp->values = xrealloc(inp->values, inp->cap * sizeof(uint64_t));
		}
		inp->stacks[inp->n] = xstrdup(stack);
		inp->values[inp->n++] = v;
		if (!bin)
			continue;
		copy = xstrdup(stack);
		for (f = strtok_r(copy, ";", &save); f; f = strtok_r(NULL, ";", &save))
			if (frame_addr(f, base_name(bin)))
				sym_add(s, f);
		free(copy);
	}
}

/* ---- SVG -------------------------------------------------------------- */

static unsigned int depth_of(const struct node *n)
{
	unsigned int d = 0, k;
	size_t i;

	for (i = 0; i < n->nkids; i++) {
		k = depth_of(n->kids[i]);
		if (k > d)
			d = k;
	}
	return d + 1;
}

static void xml_text(FILE *o, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] && i < max; i++) {
		switch (s[i]) {
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '&': fputs("&amp;", o); break;
		case '"': fputs("&quot;", o); break;
		default: fputc(s[i], o);
		}
	}
}

/* Warm colors for code, blue for what was waited on ("[sleep]"). */
static void color(const char *name, char *buf, size_t len)
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	if (name[0] == '[')
		snprintf(buf, len, "rgb(%u,%u,230)", 80 + h % 60, 140 + (h >> 8) % 60);
	else
		snprintf(buf, len, "rgb(230,%u,%u)", 90 + h % 120, 40 + (h >> 8) % 50);
}

struct canvas {
	FILE *o;
	double scale;		/* pixels per unit */
	unsigned int height;
	uint64_t total;
};

static void box(struct canvas *c, const struct node *n, double x, unsigned int level)
{
	double w = (double)n->value * c->scale;
	double y = c->height - PAD - (double)(level + 1) * ROW_H;
	size_t fit = (size_t)(w / CHAR_W);
	char rgb[32];

	color(n->name, rgb, sizeof(rgb));
	fputs("<g><title>", c->o);
	xml_text(c->o, n->name, SIZE_MAX);
	fprintf(c->o, " (%llu us, %.2f%%)</title>", (unsigned long long)n->value,
		100.0 * (double)n->value / (double)c->total);
	fprintf(c->o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
		"fill=\"%s\" rx=\"2\"/>", x, y, w, ROW_H - 1, rgb);
	if (fit >= 3) {
		fprintf(c->o, "<text x=\"%.1f\" y=\"%.1f\">", x + 3, y + ROW_H - 4);
		xml_text(c->o, n->name, fit - 1);
		if (strlen(n->name) > fit - 1)
			fputs("..", c->o);
		fputs("</text>", c->o);
	}
	fputs("</g>\n", c->o);
}

static void draw(struct canvas *c, const struct node *n, double x, unsigned int level)
{
	size_t i;

	if ((double)n->value * c->scale < 0.3)
		return;		/* too narrow to see */
	if (level)
		box(c, n, x, level - 1);
	for (i = 0; i < n->nkids; i++) {
		draw(c, n->kids[i], x, level + 1);
		x += (double)n->kids[i]->value * c->scale;
	}
}

static void svg(FILE *o, const struct node *root, const char *title, unsigned int width)
{
	struct canvas c = { .o = o, .total = root->value ? root->value : 1 };

	c.height = TITLE_H + (depth_of(root) - 1) * ROW_H + 2 * PAD;
	c.scale = (double)(width - 2 * PAD) / (double)c.total;
	fprintf(o, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%u\" height=\"%u\" "
		"xmlns=\"http://www.w3.org/2000/svg\" font-family=\"monospace\" "
		"font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"#fdfdf6\"/>\n"
		"<text x=\"%u\" y=\"22\" text-anchor=\"middle\" font-size=\"16\">",
		width, c.height, width / 2);
	xml_text(o, title, SIZE_MAX);
	fprintf(o, " (%llu us waited)</text>\n<g transform=\"translate(%d,0)\">\n",
		(unsigned long long)root->value, PAD);
	draw(&c, root, 0, 0);
	fputs("</g>\n</svg>\n", o);
}

static void usage(FILE *f)
{
	fputs("usage: zsync-flame [-e BINARY] [-t TITLE] [-w WIDTH] [FOLDED] > graph.svg\n"
	      "Folded stacks (\"a;b;c N\" lines) from zk_io_profile_write() or ZK_PROFILE\n"
	      "to an SVG flame graph.  -e names address frames with addr2line.\n", f);
}

int main(int argc, char **argv)
{
	const char *bin = NULL, *title = "Async wait time";
	struct input inp = { 0 };
	struct syms s = { 0 };
	unsigned int width = 1200;
	struct node *root;
	FILE *in = stdin;
	size_t i;
	int opt;

	while ((opt = getopt(argc, argv, "e:t:w:h")) != -1) {
		switch (opt) {
		case 'e': bin = optarg; break;
		case 't': title = optarg; break;
		case 'w': width = (unsigned int)atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc && !(in = fopen(argv[optind], "r"))) {
		perror(argv[optind]);
		return 1;
	}
	if (bin && strchr(bin, '\'')) {
		fprintf(stderr, "zsync-flame: -e %s: a quote in the path\n", bin);
		return 2;
	}
	if (width < 100)
		width = 100;
	read_input(in, &inp, &s, bin);
	if (bin)
		a2l_all(&s, bin);
	root = node_new("all");
	for (i = 0; i < inp.n; i++)
		add_stack(root, inp.stacks[i], inp.values[i], bin ? &s : NULL);
	svg(stdout, root, title, width);
	return ferror(stdout) ? 1 : 0;
}
