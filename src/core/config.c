/*
 * config.c - loads the FreeSWITCH-style XML configuration: expat builds the tree while
 * the X-PRE-PROCESS directives and $${var} expansion run in document order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glob.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <expat.h>
#include <re.h>
#include "core/config.h"
#include "core/log.h"
#include "core/vars.h"

enum {
	/* Real trees nest includes three or four deep; 32 only happens in a loop. */
	MAX_INCLUDE_DEPTH = 32,
	/* Bounds the recursive walkers (destructor, config_module) on hostile input. */
	MAX_ELEMENT_DEPTH = 256,
	READ_CHUNK = 65536,
	EXEC_LINE_MAX = 4096,
};

struct config {
	struct xml_node *root;
	char *dir;                   /* absolute conf dir; NULL for a parsed buffer */
};

/* The public part comes first, so a struct xml_node * is also the allocation. */
struct node {
	struct xml_node x;
	struct xml_node *last;       /* last child, so appending is O(1) */
	struct mbuf *cdata;          /* character data while the element is open */
};

/* One load: the root file and everything it includes share it. */
struct loader {
	const char *dir;             /* conf dir; NULL turns the preprocessor off */
	struct xml_node *root;
	char *msg;
	size_t msgsz;
	int err;                     /* first error; its message is in msg */
};

/* An open element of the file being parsed. */
struct frame {
	struct node *node;           /* NULL for elements that make no node */
	struct xml_node *parent;     /* where the element's children go */
};

/* One file, or one exec output, being parsed. */
struct parse {
	struct loader *ld;
	const struct parse *up;      /* the including file; NULL for the root file */
	XML_Parser xp;
	char *file;                  /* the nodes hold references to it */
	struct xml_node *attach;     /* parent of top-level elements; NULL: the root */
	unsigned incdepth;
	unsigned base;               /* elements open in the including files */
	unsigned depth;
	int err;
	struct frame frames[MAX_ELEMENT_DEPTH];
};

static struct config *current;

static void ld_errf(struct loader *ld, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct parse *p, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Only the first error is reported: the later ones are its consequences. */
static void ld_errf(struct loader *ld, int err, const char *fmt, ...)
{
	va_list ap;

	if (ld->err)
		return;
	ld->err = err;
	if (!ld->msg || !ld->msgsz)
		return;
	va_start(ap, fmt);
	vsnprintf(ld->msg, ld->msgsz, fmt, ap);
	va_end(ap);
}

static unsigned cur_line(const struct parse *p)
{
	return p->xp ? (unsigned)XML_GetCurrentLineNumber(p->xp) : 0;
}

/* Records "file:line: what" and stops this file's parser. */
static void fail(struct parse *p, int err, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ld_errf(p->ld, err, "%s:%u: %s", p->file, cur_line(p), text);
	p->err = err;
	if (p->xp)
		XML_StopParser(p->xp, XML_FALSE);
}

static void node_destructor(void *arg)
{
	struct node *n = arg;
	struct xml_node *c = n->x.child;

	/* Siblings are walked, not recursed into, so long lists cost no stack. */
	while (c) {
		struct xml_node *next = c->next;

		mem_deref(c);
		c = next;
	}
	mem_deref(n->x.name);
	mem_deref(n->x.attrs);
	mem_deref(n->x.text);
	mem_deref((char *)n->x.file);
	mem_deref(n->cdata);
}

static void attrs_destructor(void *arg)
{
	char **a;

	for (a = arg; *a; a++)
		mem_deref(*a);
}

static void config_destructor(void *arg)
{
	struct config *cfg = arg;

	mem_deref(cfg->root);
	mem_deref(cfg->dir);
}

/* $${name} becomes the global variable ("" when unset); ${name} is left for run
 * time, when channel variables exist (spec core.md section 9). */
static int expand(char **outp, const char *in, size_t len)
{
	const char *s = in, *end = in + len;
	struct mbuf *mb = mbuf_alloc(len + 1);
	int err = 0;

	if (!mb)
		return ENOMEM;
	while (!err && s < end) {
		const char *d = memmem(s, end - s, "$${", 3);
		const char *close = d ? memchr(d + 3, '}', end - d - 3) : NULL;
		char *name = NULL, *value;

		if (!close) {
			err = mbuf_write_mem(mb, (const uint8_t *)s, end - s);
			break;
		}
		err = mbuf_write_mem(mb, (const uint8_t *)s, d - s);
		if (!err)
			err = re_sdprintf(&name, "%b", d + 3, (size_t)(close - d - 3));
		if (err)
			break;
		value = vars_global_dup(name);
		if (value)
			err = mbuf_write_str(mb, value);
		mem_deref(value);
		mem_deref(name);
		s = close + 1;
	}
	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, outp, mb->end);
	}
	mem_deref(mb);
	return err;
}

static int text_dup(char **outp, const char *s, size_t len, bool vars)
{
	return vars ? expand(outp, s, len) : re_sdprintf(outp, "%b", s, len);
}

static int attrs_dup(char ***attrsp, const XML_Char **atts, bool vars)
{
	size_t n = 0, i;
	char **a;
	int err = 0;

	while (atts[n])
		n++;
	a = mem_zalloc((n + 1) * sizeof(*a), attrs_destructor);
	if (!a)
		return ENOMEM;
	/* Filled in order, so the destructor stops at the first NULL on failure. */
	for (i = 0; i < n && !err; i++) {
		if (i % 2)
			err = text_dup(&a[i], atts[i], strlen(atts[i]), vars);
		else
			err = str_dup(&a[i], atts[i]);
	}
	if (err) {
		mem_deref(a);
		return err;
	}
	*attrsp = a;
	return 0;
}

static int node_alloc(struct node **np, struct parse *p, const char *name,
		      const XML_Char **atts)
{
	struct node *n = mem_zalloc(sizeof(*n), node_destructor);
	int err;

	if (!n)
		return ENOMEM;
	n->x.file = mem_ref(p->file);
	n->x.line = cur_line(p);
	err = str_dup(&n->x.name, name);
	if (!err)
		err = attrs_dup(&n->x.attrs, atts, p->ld->dir != NULL);
	if (err) {
		mem_deref(n);
		return err;
	}
	*np = n;
	return 0;
}

static void node_append(struct xml_node *parent, struct node *n)
{
	struct node *pn = (struct node *)parent;

	n->x.parent = parent;
	if (pn->last)
		pn->last->next = &n->x;
	else
		parent->child = &n->x;
	pn->last = &n->x;
}

static const char *att(const XML_Char **atts, const char *name)
{
	for (; atts[0]; atts += 2)
		if (!strcmp(atts[0], name))
			return atts[1];
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* "name=value"; FreeSWITCH's preprocessor also drops the blanks around '='. */
static bool split_assign(char *data, char **namep, char **valuep)
{
	char *eq = strchr(data, '=');

	if (!eq)
		return false;
	*eq = '\0';
	*namep = trim(data);
	*valuep = trim(eq + 1);
	return **namep != '\0';
}

static void parse_nested(struct parse *up, const char *file, FILE *f, bool wrap);

static void include_file(struct parse *p, const char *path)
{
	const struct parse *a;
	struct stat st;
	int err = 0;
	FILE *f;

	for (a = p; a; a = a->up) {
		if (!strcmp(a->file, path)) {
			fail(p, ELOOP, "include loop: %s includes itself", path);
			return;
		}
	}
	f = fopen(path, "r");
	if (!f) {
		fail(p, errno, "cannot include %s: %s", path, strerror(errno));
		return;
	}
	/* A directory opens fine and only fails on read: say so at the include. */
	if (fstat(fileno(f), &st))
		err = errno;
	else if (S_ISDIR(st.st_mode))
		err = EISDIR;
	if (err)
		fail(p, err, "cannot include %s: %s", path, strerror(err));
	else
		parse_nested(p, path, f, false);
	fclose(f);
}

/* The conf dir goes into a glob pattern, so its own metacharacters are escaped. */
static int include_pattern(char **outp, const char *dir, const char *data)
{
	struct mbuf *mb;
	int err = 0;

	if (data[0] == '/')
		return str_dup(outp, data);
	mb = mbuf_alloc(256);
	if (!mb)
		return ENOMEM;
	for (; *dir && !err; dir++) {
		if (strchr("*?[\\", *dir))
			err = mbuf_write_u8(mb, '\\');
		if (!err)
			err = mbuf_write_u8(mb, (uint8_t)*dir);
	}
	if (!err)
		err = mbuf_printf(mb, "/%s", data);
	if (!err) {
		mb->pos = 0;
		err = mbuf_strdup(mb, outp, mb->end);
	}
	mem_deref(mb);
	return err;
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * cmd="include": a glob relative to the directory of the file that includes it
 * (as FreeSWITCH resolves it, so a vanilla tree's "../sip_profiles/..." and
 * "default/..." patterns work), expanded in sorted order; a pattern that matches
 * nothing is fine, a plain file name that is missing is not.
 */
/* The directory of the file being parsed; the conf dir for generated text. */
static int including_dir(char **dirp, const struct parse *p)
{
	const char *slash = p->file ? strrchr(p->file, '/') : NULL;

	if (!slash || p->file[0] != '/')
		return str_dup(dirp, p->ld->dir);
	return re_sdprintf(dirp, "%b", p->file, (size_t)(slash - p->file));
}

static void pp_include(struct parse *p, char *data)
{
	char *pattern = NULL, *dir = NULL;
	glob_t g;
	size_t i;
	int rc;

	memset(&g, 0, sizeof(g));
	if (!*data) {
		fail(p, EINVAL, "include without data");
		return;
	}
	if (including_dir(&dir, p) || include_pattern(&pattern, dir, data)) {
		mem_deref(dir);
		fail(p, ENOMEM, "out of memory");
		return;
	}
	mem_deref(dir);
	rc = glob(pattern, GLOB_NOSORT, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		if (!strpbrk(data, "*?["))
			fail(p, ENOENT, "cannot include %s: %s", data, strerror(ENOENT));
		goto out;
	}
	if (rc) {
		fail(p, rc == GLOB_NOSPACE ? ENOMEM : EIO, "cannot include %s: %s", data,
		     rc == GLOB_NOSPACE ? "out of memory" : "cannot read the directory");
		goto out;
	}
	/* glob's own sort follows the locale; byte order is the same everywhere. */
	qsort(g.gl_pathv, g.gl_pathc, sizeof(*g.gl_pathv), path_cmp);
	for (i = 0; i < g.gl_pathc && !p->err; i++)
		include_file(p, g.gl_pathv[i]);
 out:
	globfree(&g);
	mem_deref(pattern);
}

static void set_global(struct parse *p, char *data, bool env)
{
	char *name, *value;
	int err;

	if (!split_assign(data, &name, &value)) {
		log_warn("%s:%u: X-PRE-PROCESS wants data=\"name=value\", got \"%s\"; ignored",
			 p->file, cur_line(p), data);
		return;
	}
	if (env && setenv(name, value, 1)) {
		fail(p, errno, "env-set %s: %s", name, strerror(errno));
		return;
	}
	err = vars_global_set(name, value);
	if (err)
		fail(p, err, "cannot set %s: %s", name, strerror(err));
}

static void pp_set(struct parse *p, char *data)
{
	set_global(p, data, false);
}

/* FreeSWITCH's env-set sets the environment and the global variable alike. */
static void pp_env_set(struct parse *p, char *data)
{
	set_global(p, data, true);
}

static void warn_status(const struct parse *p, const char *cmd, int status)
{
	if (status == -1)
		log_warn("%s:%u: \"%s\": %s", p->file, cur_line(p), cmd, strerror(errno));
	else if (WIFSIGNALED(status))
		log_warn("%s:%u: \"%s\" was killed by signal %d", p->file, cur_line(p), cmd,
			 WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status))
		log_warn("%s:%u: \"%s\" exited with status %d", p->file, cur_line(p), cmd,
			 WEXITSTATUS(status));
}

/* cmd="exec-set" data="name=command": the first line of the output, trimmed. */
static void pp_exec_set(struct parse *p, char *data)
{
	char line[EXEC_LINE_MAX] = "", drain[512], *name, *cmd;
	FILE *f;
	int err;

	if (!split_assign(data, &name, &cmd)) {
		log_warn("%s:%u: exec-set wants data=\"name=command\", got \"%s\"; ignored",
			 p->file, cur_line(p), data);
		return;
	}
	f = popen(cmd, "r");
	if (!f) {
		fail(p, errno ? errno : ENOMEM, "exec-set %s: cannot run \"%s\"", name, cmd);
		return;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	/* Read the rest so the command finishes normally instead of on SIGPIPE. */
	while (fread(drain, 1, sizeof(drain), f) > 0)
		;
	warn_status(p, cmd, pclose(f));
	err = vars_global_set(name, trim(line));
	if (err)
		fail(p, err, "cannot set %s: %s", name, strerror(err));
}

/* cmd="exec": the command's output is XML spliced in place, as FreeSWITCH does;
 * wrapped in <include> so several top-level elements are allowed. */
static void pp_exec(struct parse *p, char *cmd)
{
	char *name = NULL;
	FILE *f;

	if (re_sdprintf(&name, "exec:%s", cmd)) {
		fail(p, ENOMEM, "out of memory");
		return;
	}
	f = popen(cmd, "r");
	if (!f) {
		fail(p, errno ? errno : ENOMEM, "exec: cannot run \"%s\"", cmd);
		goto out;
	}
	parse_nested(p, name, f, true);
	warn_status(p, cmd, pclose(f));
 out:
	mem_deref(name);
}

static void pp_stun_set(struct parse *p, char *data)
{
	log_warn("%s:%u: X-PRE-PROCESS stun-set is not supported; \"%s\" ignored",
		 p->file, cur_line(p), data);
}

static const struct {
	const char *cmd;
	void (*h)(struct parse *p, char *data);
} pp_cmds[] = {
	{"include",  pp_include},
	{"set",      pp_set},
	{"env-set",  pp_env_set},
	{"exec-set", pp_exec_set},
	{"exec",     pp_exec},
	{"stun-set", pp_stun_set},
};

static void preprocess(struct parse *p, const XML_Char **atts)
{
	const char *cmd = att(atts, "cmd"), *raw = att(atts, "data");
	char *data = NULL;
	size_t i;

	if (!raw)
		raw = "";
	if (!cmd) {
		log_warn("%s:%u: X-PRE-PROCESS without cmd ignored", p->file, cur_line(p));
		return;
	}
	/* data is expanded first, so set data="domain=$${local_ip_v4}" works. */
	if (expand(&data, raw, strlen(raw))) {
		fail(p, ENOMEM, "out of memory");
		return;
	}
	for (i = 0; i < sizeof(pp_cmds) / sizeof(pp_cmds[0]); i++) {
		if (!strcasecmp(cmd, pp_cmds[i].cmd)) {
			pp_cmds[i].h(p, data);
			goto out;
		}
	}
	log_warn("%s:%u: unknown X-PRE-PROCESS cmd \"%s\" ignored", p->file, cur_line(p), cmd);
 out:
	mem_deref(data);
}

static void XMLCALL on_start(void *arg, const XML_Char *name, const XML_Char **atts)
{
	struct parse *p = arg;
	struct xml_node *parent;
	struct frame *f;
	struct node *n;
	int err;

	if (p->err)
		return;
	if (p->base + p->depth >= MAX_ELEMENT_DEPTH) {
		fail(p, EINVAL, "elements nested deeper than %u", MAX_ELEMENT_DEPTH);
		return;
	}
	parent = p->depth ? p->frames[p->depth - 1].parent : p->attach;
	f = &p->frames[p->depth++];
	*f = (struct frame){NULL, parent};
	if (p->ld->dir && !strcmp(name, "X-PRE-PROCESS")) {
		preprocess(p, atts);
		return;
	}
	/* An included file's <include> root only carries its children (spec section 9). */
	if (p->up && p->depth == 1 && !strcmp(name, "include"))
		return;
	err = node_alloc(&n, p, name, atts);
	if (err) {
		fail(p, err, "out of memory");
		return;
	}
	if (parent) {
		node_append(parent, n);
	}
	else if (!p->ld->root) {
		p->ld->root = &n->x;
	}
	else {
		mem_deref(n);
		fail(p, EINVAL, "<%s> is a second document element", name);
		return;
	}
	f->node = n;
	f->parent = &n->x;
}

static void XMLCALL on_end(void *arg, const XML_Char *name)
{
	struct parse *p = arg;
	struct node *n;
	int err;

	if (p->err || !p->depth)
		return;
	n = p->frames[--p->depth].node;
	if (!n)
		return;
	err = text_dup(&n->x.text, n->cdata ? (const char *)n->cdata->buf : "",
		       n->cdata ? n->cdata->end : 0, p->ld->dir != NULL);
	n->cdata = mem_deref(n->cdata);
	if (err)
		fail(p, err, "out of memory");
}

static void XMLCALL on_cdata(void *arg, const XML_Char *s, int len)
{
	struct parse *p = arg;
	struct node *n;

	if (p->err || !p->depth || len <= 0)
		return;
	n = p->frames[p->depth - 1].node;
	if (!n)
		return;
	if (!n->cdata)
		n->cdata = mbuf_alloc(64);
	if (!n->cdata || mbuf_write_mem(n->cdata, (const uint8_t *)s, (size_t)len))
		fail(p, ENOMEM, "out of memory");
}

/* Entity declarations are how "billion laughs" documents blow up; no
 * configuration needs them. */
static void XMLCALL on_entity(void *arg, const XML_Char *name, int is_param,
			      const XML_Char *value, int value_length,
			      const XML_Char *base, const XML_Char *system_id,
			      const XML_Char *public_id, const XML_Char *notation)
{
	fail(arg, EINVAL, "entity declarations are not supported");
}

static void parse_init(struct parse *p, struct loader *ld, const struct parse *up,
		       char *file, struct xml_node *attach)
{
	memset(p, 0, offsetof(struct parse, frames));
	p->ld = ld;
	p->up = up;
	p->file = file;
	p->attach = attach;
}

static int parser_start(struct parse *p)
{
	p->xp = XML_ParserCreate(NULL);
	if (!p->xp) {
		fail(p, ENOMEM, "out of memory");
		return ENOMEM;
	}
	XML_SetUserData(p->xp, p);
	XML_SetElementHandler(p->xp, on_start, on_end);
	XML_SetCharacterDataHandler(p->xp, on_cdata);
	XML_SetEntityDeclHandler(p->xp, on_entity);
	return 0;
}

/* Feeds one piece; a syntax error is reported with expat's own words. */
static bool feed(struct parse *p, const char *buf, size_t len, bool final)
{
	if (XML_Parse(p->xp, buf, (int)len, final) == XML_STATUS_OK)
		return true;
	if (!p->err)
		fail(p, EINVAL, "%s", XML_ErrorString(XML_GetErrorCode(p->xp)));
	return false;
}

static int parse_stream(struct parse *p, FILE *f, bool wrap)
{
	bool eof = false;

	if (parser_start(p))
		return p->err;
	/* No newline after <include>, so the lines of the output keep their numbers. */
	if (wrap && !feed(p, "<include>", 9, false))
		goto out;
	while (!eof) {
		void *buf = XML_GetBuffer(p->xp, READ_CHUNK);
		size_t n;

		if (!buf) {
			fail(p, ENOMEM, "out of memory");
			goto out;
		}
		n = fread(buf, 1, READ_CHUNK, f);
		if (ferror(f)) {
			fail(p, errno ? errno : EIO, "read error: %s", strerror(errno ? errno : EIO));
			goto out;
		}
		eof = n < READ_CHUNK;
		if (XML_ParseBuffer(p->xp, (int)n, eof && !wrap) != XML_STATUS_OK) {
			if (!p->err)
				fail(p, EINVAL, "%s", XML_ErrorString(XML_GetErrorCode(p->xp)));
			goto out;
		}
	}
	if (wrap)
		feed(p, "</include>", 10, true);
 out:
	XML_ParserFree(p->xp);
	p->xp = NULL;
	return p->err;
}

static void parse_nested(struct parse *up, const char *file, FILE *f, bool wrap)
{
	struct parse *c;
	int err;

	if (up->incdepth >= MAX_INCLUDE_DEPTH) {
		fail(up, ELOOP, "includes nested deeper than %u (an include loop?)",
		     MAX_INCLUDE_DEPTH);
		return;
	}
	/* The frames are too big to stack up once per include level. */
	c = mem_alloc(sizeof(*c), NULL);
	if (!c) {
		fail(up, ENOMEM, "out of memory");
		return;
	}
	/* The X-PRE-PROCESS frame is open, and its parent is where the nodes go. */
	parse_init(c, up->ld, up, NULL, up->frames[up->depth - 1].parent);
	c->incdepth = up->incdepth + 1;
	c->base = up->base + up->depth;
	err = str_dup(&c->file, file);
	if (err)
		fail(up, err, "out of memory");
	else
		err = parse_stream(c, f, wrap);
	mem_deref(c->file);
	mem_deref(c);
	if (err) {
		/* The included file already said what is wrong; stop the includer. */
		up->err = err;
		XML_StopParser(up->xp, XML_FALSE);
	}
}

static int config_new(struct config **cfgp, struct loader *ld, const char *dir)
{
	struct config *cfg = mem_zalloc(sizeof(*cfg), config_destructor);

	if (!cfg || (dir && str_dup(&cfg->dir, dir))) {
		mem_deref(cfg);
		ld_errf(ld, ENOMEM, "out of memory");
		return ENOMEM;
	}
	cfg->root = ld->root;
	ld->root = NULL;
	*cfgp = cfg;
	return 0;
}

int config_parse_buf(struct config **cfgp, const char *buf, size_t len,
		     const char *name, char *err, size_t errsz)
{
	struct loader ld = {.msg = err, .msgsz = errsz};
	struct parse *p = NULL;
	size_t off = 0;

	if (err && errsz)
		err[0] = '\0';
	if (!cfgp || (!buf && len)) {
		ld_errf(&ld, EINVAL, "no buffer to parse");
		return EINVAL;
	}
	p = mem_alloc(sizeof(*p), NULL);
	if (!p) {
		ld_errf(&ld, ENOMEM, "out of memory");
		return ENOMEM;
	}
	parse_init(p, &ld, NULL, NULL, NULL);
	if (str_dup(&p->file, name ? name : "(buffer)")) {
		ld_errf(&ld, ENOMEM, "out of memory");
		goto out;
	}
	if (parser_start(p))
		goto out;
	/* XML_Parse takes an int length: feed big buffers in pieces. */
	do {
		size_t n = len - off < READ_CHUNK ? len - off : READ_CHUNK;

		if (!feed(p, buf ? buf + off : "", n, off + n == len))
			break;
		off += n;
	} while (off < len);
	XML_ParserFree(p->xp);
	if (!ld.err)
		config_new(cfgp, &ld, NULL);
 out:
	mem_deref(p->file);
	mem_deref(p);
	mem_deref(ld.root);
	return ld.err;
}

static int set_default(const char *name, const char *value)
{
	char *cur = vars_global_dup(name);

	if (cur) {
		mem_deref(cur);
		return 0;
	}
	return vars_global_set(name, value);
}

/* First usable address of each family: not loopback, and for IPv6 not link-local,
 * which is useless without its interface. */
static void local_ips(char *v4, size_t v4sz, char *v6, size_t v6sz)
{
	struct ifaddrs *ifa, *i;
	bool have4 = false, have6 = false;

	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i; i = i->ifa_next) {
		int af = i->ifa_addr ? i->ifa_addr->sa_family : AF_UNSPEC;

		if ((i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
			continue;
		if (af == AF_INET && !have4) {
			const struct sockaddr_in *sin = (const void *)i->ifa_addr;

			have4 = inet_ntop(AF_INET, &sin->sin_addr, v4, v4sz) != NULL;
		}
		else if (af == AF_INET6 && !have6) {
			const struct sockaddr_in6 *sin6 = (const void *)i->ifa_addr;

			if (!IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
				have6 = inet_ntop(AF_INET6, &sin6->sin6_addr, v6, v6sz) != NULL;
		}
	}
	freeifaddrs(ifa);
}

static int set_net_defaults(void)
{
	char host[HOST_NAME_MAX + 1] = "localhost";
	char v4[INET_ADDRSTRLEN] = "127.0.0.1", v6[INET6_ADDRSTRLEN] = "::1";
	int err;

	if (gethostname(host, sizeof(host)))
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	local_ips(v4, sizeof(v4), v6, sizeof(v6));
	err = set_default("hostname", host);
	if (!err)
		err = set_default("local_ip_v4", v4);
	if (!err)
		err = set_default("local_ip_v6", v6);
	return err;
}

/* conf_dir and base_dir first; the others derive from whatever those two are, so
 * a caller that sets base_dir moves them all. */
static int set_dir_defaults(const char *absdir)
{
	static const struct {
		const char *var, *sub;
		bool under_conf;
	} dirs[] = {
		{"script_dir", "scripts", true},
		{"sounds_dir", "sounds", false},
		{"recordings_dir", "recordings", false},
		{"log_dir", "log", false},
		{"run_dir", "run", false},
		{"db_dir", "db", false},
	};
	char *parent = NULL, *conf = NULL, *base = NULL, *path = NULL, *slash;
	size_t i;
	int err;

	err = str_dup(&parent, absdir);
	if (err)
		goto out;
	slash = strrchr(parent, '/');
	if (slash)
		slash[slash == parent ? 1 : 0] = '\0';
	err = set_default("conf_dir", absdir);
	if (!err)
		err = set_default("base_dir", parent);
	conf = vars_global_dup("conf_dir");
	base = vars_global_dup("base_dir");
	for (i = 0; !err && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		const char *top = dirs[i].under_conf ? conf : base;
		size_t tl = top ? strlen(top) : 0;

		err = re_sdprintf(&path, "%s%s%s", top ? top : "",
				  tl && top[tl - 1] == '/' ? "" : "/", dirs[i].sub);
		if (!err)
			err = set_default(dirs[i].var, path);
		path = mem_deref(path);
	}
 out:
	mem_deref(parent);
	mem_deref(conf);
	mem_deref(base);
	return err;
}

/* DESIGN.md: confab.xml is the root; freeswitch.xml lets a FreeSWITCH tree run as is. */
static int find_root(char **pathp, const char *dir)
{
	static const char *const names[] = {"confab.xml", "freeswitch.xml"};
	size_t i;
	int err;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		err = re_sdprintf(pathp, "%s/%s", dir, names[i]);
		if (err)
			return err;
		if (!access(*pathp, F_OK))
			return 0;
		*pathp = mem_deref(*pathp);
	}
	return ENOENT;
}

static int parse_root_file(struct loader *ld, const char *path)
{
	struct parse *p;
	FILE *f = fopen(path, "r");
	int err;

	if (!f) {
		err = errno;
		ld_errf(ld, err, "%s: %s", path, strerror(err));
		return err;
	}
	p = mem_alloc(sizeof(*p), NULL);
	if (!p) {
		ld_errf(ld, ENOMEM, "out of memory");
		goto out;
	}
	parse_init(p, ld, NULL, NULL, NULL);
	if (str_dup(&p->file, path))
		ld_errf(ld, ENOMEM, "out of memory");
	else
		parse_stream(p, f, false);
	if (!ld->err && !ld->root)
		ld_errf(ld, EINVAL, "%s: no document element", path);
	mem_deref(p->file);
	mem_deref(p);
 out:
	fclose(f);
	return ld->err;
}

int config_load(struct config **cfgp, const char *dir, char *err, size_t errsz)
{
	struct loader ld = {.msg = err, .msgsz = errsz};
	char *absdir = NULL, *root = NULL;
	int e;

	if (err && errsz)
		err[0] = '\0';
	if (!cfgp || !dir) {
		ld_errf(&ld, EINVAL, "no configuration directory given");
		return EINVAL;
	}
	absdir = realpath(dir, NULL);
	if (!absdir) {
		e = errno;
		ld_errf(&ld, e, "%s: %s", dir, strerror(e));
		return e;
	}
	e = find_root(&root, absdir);
	if (e) {
		ld_errf(&ld, e, "%s: no confab.xml or freeswitch.xml found", absdir);
		goto out;
	}
	e = set_dir_defaults(absdir);
	if (!e)
		e = set_net_defaults();
	if (e) {
		ld_errf(&ld, e, "cannot set the built-in variables: %s", strerror(e));
		goto out;
	}
	ld.dir = absdir;
	if (!parse_root_file(&ld, root))
		config_new(cfgp, &ld, absdir);
	e = ld.err;
 out:
	mem_deref(ld.root);
	mem_deref(root);
	free(absdir);
	return e;
}

const struct xml_node *config_root(const struct config *cfg)
{
	return cfg ? cfg->root : NULL;
}

const char *config_dir(const struct config *cfg)
{
	return cfg ? cfg->dir : NULL;
}

/* Attribute values are matched case-insensitively, as FreeSWITCH's
 * switch_xml_find_child does ("Event_Socket.conf" finds event_socket.conf). */
static bool attr_is(const struct xml_node *n, const char *attr, const char *value)
{
	const char *v = xml_attr(n, attr);

	return v && value && !strcasecmp(v, value);
}

/* Depth first, in document order; the depth is bounded by MAX_ELEMENT_DEPTH. */
static const struct xml_node *find_module(const struct xml_node *n, const char *name)
{
	for (; n; n = n->next) {
		const struct xml_node *m;

		if (!strcmp(n->name, "configuration") && attr_is(n, "name", name))
			return n;
		m = find_module(n->child, name);
		if (m)
			return m;
	}
	return NULL;
}

const struct xml_node *config_module(const struct config *cfg, const char *name)
{
	const struct xml_node *root = config_root(cfg), *s;

	if (!root || !name)
		return NULL;
	if (!strcmp(root->name, "configuration"))
		return attr_is(root, "name", name) ? root : NULL;
	for (s = xml_child(root, "section"); s; s = xml_next(s)) {
		const struct xml_node *m;

		if (!attr_is(s, "name", "configuration"))
			continue;
		m = find_module(s->child, name);
		if (m)
			return m;
	}
	return NULL;
}

const struct xml_node *config_section(const struct config *cfg, const char *name)
{
	return xml_child_by_attr(config_root(cfg), "section", "name", name);
}

void config_set_current(struct config *cfg)
{
	struct config *old = current;

	current = mem_ref(cfg);
	mem_deref(old);
}

struct config *config_current(void)
{
	return current;
}

/* Subsystems that derive state from the tree (ACLs, dialplan, directory). */
#define MAX_RELOAD_HOOKS 16
static config_reload_h *reload_hooks[MAX_RELOAD_HOOKS];
static size_t nreload_hooks;

int config_on_reload(config_reload_h *h)
{
	if (!h || nreload_hooks == MAX_RELOAD_HOOKS)
		return EINVAL;
	reload_hooks[nreload_hooks++] = h;
	return 0;
}

void config_reload_hooks_clear(void)
{
	nreload_hooks = 0;
}

static int run_reload_hooks(const struct config *cfg, char *err, size_t errsz)
{
	char msg[512];
	size_t i;
	int first = 0;

	for (i = 0; i < nreload_hooks; i++) {
		int e;

		msg[0] = '\0';
		e = reload_hooks[i](cfg, msg, sizeof(msg));
		if (!e)
			continue;
		log_err("reloadxml: %s", msg[0] ? msg : strerror(e));
		if (!first) {
			first = e;
			snprintf(err, errsz, "%s", msg[0] ? msg : strerror(e));
		}
	}
	return first;
}

int config_reload(char *err, size_t errsz)
{
	struct loader ld = {.msg = err, .msgsz = errsz};
	struct config *cfg = NULL;
	int e;

	if (!current || !current->dir) {
		ld_errf(&ld, ENOENT, "no configuration directory to reload from");
		return ENOENT;
	}
	e = config_load(&cfg, current->dir, err, errsz);
	if (e)
		return e;
	config_set_current(cfg);
	log_info("configuration reloaded from %s", cfg->dir);
	e = run_reload_hooks(cfg, err, errsz);
	mem_deref(cfg);
	return e;
}

const char *xml_attr(const struct xml_node *n, const char *name)
{
	char **a;

	if (!n || !name || !n->attrs)
		return NULL;
	for (a = n->attrs; a[0] && a[1]; a += 2)
		if (!strcmp(a[0], name))
			return a[1];
	return NULL;
}

const struct xml_node *xml_child(const struct xml_node *n, const char *name)
{
	const struct xml_node *c;

	if (!n || !name)
		return NULL;
	for (c = n->child; c; c = c->next)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

const struct xml_node *xml_next(const struct xml_node *n)
{
	const struct xml_node *s;

	if (!n)
		return NULL;
	for (s = n->next; s; s = s->next)
		if (!strcmp(s->name, n->name))
			return s;
	return NULL;
}

const struct xml_node *xml_child_by_attr(const struct xml_node *n, const char *name,
					 const char *attr, const char *value)
{
	const struct xml_node *c;

	for (c = xml_child(n, name); c; c = xml_next(c))
		if (attr_is(c, attr, value))
			return c;
	return NULL;
}

void config_params(const struct xml_node *n, config_param_h *h, void *arg)
{
	const struct xml_node *p;

	if (!h)
		return;
	for (p = xml_child(n, "param"); p; p = xml_next(p)) {
		const char *name = xml_attr(p, "name"), *value = xml_attr(p, "value");

		if (name)
			h(name, value ? value : "", p, arg);
	}
}

/* FreeSWITCH's switch_true(): the words below, or a non-zero integer. */
bool config_true(const char *v)
{
	static const char *const yes[] = {"true", "t", "yes", "on", "enabled", "active",
					  "allow"};
	char *end;
	size_t i;
	long l;

	if (!v || !*v)
		return false;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!strcasecmp(v, yes[i]))
			return true;
	l = strtol(v, &end, 10);
	return *end == '\0' && l != 0;
}
