/*
 * np_kdd_model: loading, validating and evaluating the NSL-KDD random forest. See
 * np_kdd_model.h; the file format is in docs/intrusion.md.
 */
#include "np_kdd_model.h"
#include "np_crc32.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_META 32
#define GROUP    16 /* trees walked in lockstep: independent loads overlap */
#define MIN_NODE_LINE 10 /* "s F T L R\n", the shortest node line */

/* A leaf points to itself both ways (feat 0), so walking past it stays on it. */
typedef struct node {
    float   thr;  /* largest float32 <= the double threshold: x <= thr as in scikit-learn */
    int32_t feat; /* input index */
    int32_t left; /* node indexes (absolute) */
    int32_t right;
} node_t;

/* The node as prediction reads it: 8 bytes, so more of the forest stays in cache. The left
 * child is the next node (scikit-learn's depth-first layout; the loader checks it), the
 * right child `rdelta` nodes on. A leaf has LEAF_BIT set and rdelta 0: it stays put. */
#define LEAF_BIT  0x8000u
#define FEAT_MASK 0x03ffu
typedef struct fast_node {
    float    thr;
    uint16_t feat; /* input index | LEAF_BIT */
    uint16_t rdelta;
} fast_node_t;

typedef struct sym_input {
    char val[NP_KDD_SYM_MAX];
    int  input;
} sym_input_t;

typedef struct input {
    int  col;               /* NSL-KDD column 0..40 */
    char val[NP_KDD_SYM_MAX]; /* one-hot value, "" for a raw numeric input */
} input_t;

struct np_kdd_model {
    char    *meta_key[MAX_META], *meta_val[MAX_META];
    size_t   nmeta;
    double   weight[NP_KDD_NCLASSES];
    input_t *inputs;
    size_t   ninputs;
    int      num_cols[NP_KDD_NCOLS]; /* input index of a raw column, -1 if unused */
    sym_input_t *sym[3];             /* per symbolic column: its one-hot inputs by value */
    size_t       nsym[3];
    size_t   ntrees, nnodes, nleaves;
    int32_t *roots;
    int32_t *depth; /* per group of GROUP trees: the deepest leaf's depth */
    node_t      *nodes; /* as parsed (validation); freed once fast is built */
    fast_node_t *fast;
    int32_t *leaf;  /* per node: its row in probs (leaves only) */
    double  *probs; /* nleaves x NP_KDD_NCLASSES */
};

typedef struct parser {
    char  *p, *end;
    int    line;
    char  *errstr;
    size_t errlen;
} parser_t;

static int perr(parser_t *ps, const char *fmt, ...)
{
    if (ps->errstr && ps->errlen) {
        int n = snprintf(ps->errstr, ps->errlen, "line %d: ", ps->line);
        va_list ap;
        va_start(ap, fmt);
        if (n >= 0 && (size_t)n < ps->errlen)
            vsnprintf(ps->errstr + n, ps->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Next line, NUL-terminated in place (the buffer is ours); NULL at the end. */
static char *next_line(parser_t *ps)
{
    if (ps->p >= ps->end)
        return NULL;
    char *l = ps->p, *nl = memchr(l, '\n', (size_t)(ps->end - l));
    if (!nl)
        nl = ps->end;
    *nl   = 0;
    ps->p = nl + 1;
    ps->line++;
    return l;
}

/* Checks the trailing "crc32 XXXXXXXX" line against the bytes before it; trims it. */
static int check_crc(char *buf, size_t *len, char *errstr, size_t errlen)
{
    size_t n = *len;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    size_t s = n;
    while (s && buf[s - 1] != '\n')
        s--;
    unsigned long want;
    char          tail[16];
    if (n - s != 14 || sscanf(buf + s, "crc32 %8lx%1s", &want, tail) != 1) {
        snprintf(errstr, errlen, "no crc32 line at the end (truncated or not a model file)");
        return -1;
    }
    uint32_t got = np_crc32((const uint8_t *)buf, s);
    if (got != (uint32_t)want) {
        snprintf(errstr, errlen, "checksum mismatch (crc32 %08x, file says %08lx): corrupt",
                 got, want);
        return -1;
    }
    *len = s;
    return 0;
}

static int parse_double(const char *t, double *v)
{
    char *e;
    errno = 0;
    *v    = strtod(t, &e);
    return (e == t || *e || errno == ERANGE || !isfinite(*v)) ? -1 : 0;
}

static int parse_long(const char *t, long lo, long hi, long *v)
{
    char *e;
    errno = 0;
    *v    = strtol(t, &e, 10);
    return (e == t || *e || errno || *v < lo || *v > hi) ? -1 : 0;
}

/* Splits a line into at most max space-separated words; returns the count. */
static int words(char *l, char **w, int max)
{
    int n = 0;
    for (char *t = strtok(l, " "); t && n < max; t = strtok(NULL, " "))
        w[n++] = t;
    return n;
}

static int parse_meta(parser_t *ps, np_kdd_model_t *m, char *l)
{
    char *k = l + 5, *sp = strchr(k, ' ');
    if (!sp || m->nmeta == MAX_META)
        return perr(ps, "bad meta line");
    *sp                  = 0;
    m->meta_key[m->nmeta] = strdup(k);
    m->meta_val[m->nmeta] = strdup(sp + 1);
    if (!m->meta_key[m->nmeta] || !m->meta_val[m->nmeta++])
        return perr(ps, "out of memory");
    return 0;
}

static int parse_classes(parser_t *ps, char *l)
{
    char *w[8];
    if (words(l, w, 8) != 2 + NP_KDD_NCLASSES || strcmp(w[1], "5") != 0)
        return perr(ps, "want 'classes 5 normal DoS Probe R2L U2R'");
    for (int c = 0; c < NP_KDD_NCLASSES; c++)
        if (strcmp(w[2 + c], np_kdd_class_name(c)) != 0)
            return perr(ps, "class %d is %s, want %s", c, w[2 + c], np_kdd_class_name(c));
    return 0;
}

static int parse_weights(parser_t *ps, np_kdd_model_t *m, char *l)
{
    char *w[8];
    if (words(l, w, 8) != 1 + NP_KDD_NCLASSES)
        return perr(ps, "want 'weights' and 5 numbers");
    for (int c = 0; c < NP_KDD_NCLASSES; c++)
        if (parse_double(w[1 + c], &m->weight[c]) != 0 || m->weight[c] <= 0)
            return perr(ps, "bad weight %s", w[1 + c]);
    return 0;
}

static int parse_input(parser_t *ps, np_kdd_model_t *m, size_t i, char *l)
{
    char *w[5];
    int   n = words(l, w, 5);
    long  col;
    if (n < 3 || strcmp(w[0], "i") != 0 || parse_long(w[2], 0, NP_KDD_NCOLS - 1, &col) != 0)
        return perr(ps, "want 'i num|cat COLUMN [VALUE]'");
    input_t *in = &m->inputs[i];
    in->col     = (int)col;
    if (strcmp(w[1], "num") == 0 && n == 3 && !np_kdd_col_is_symbolic((int)col) &&
        m->num_cols[col] < 0) {
        m->num_cols[col] = (int)i;
        return 0;
    }
    if (strcmp(w[1], "cat") == 0 && n == 4 && np_kdd_col_is_symbolic((int)col) &&
        strlen(w[3]) < NP_KDD_SYM_MAX) {
        strcpy(in->val, w[3]);
        return 0;
    }
    return perr(ps, "bad input %zu", i);
}

static int parse_inputs(parser_t *ps, np_kdd_model_t *m)
{
    char *l = next_line(ps), *w[3];
    long  n;
    if (!l || words(l, w, 3) != 2 || strcmp(w[0], "inputs") != 0 ||
        parse_long(w[1], 1, NP_KDD_MODEL_MAX_INPUTS, &n) != 0)
        return perr(ps, "want 'inputs N' (1..%d)", NP_KDD_MODEL_MAX_INPUTS);
    m->ninputs = (size_t)n;
    if (!(m->inputs = calloc(m->ninputs, sizeof *m->inputs)))
        return perr(ps, "out of memory");
    for (size_t i = 0; i < m->ninputs; i++) {
        if (!(l = next_line(ps)))
            return perr(ps, "file ends inside the inputs");
        if (parse_input(ps, m, i, l) != 0)
            return -1;
    }
    return 0;
}

/* Float threshold that makes (float x) <= t equal to (double)x <= thr for every float x. */
static float float_threshold(double thr)
{
    float t = (float)thr;
    if ((double)t > thr)
        t = nextafterf(t, -INFINITY);
    return t;
}

static int parse_split(parser_t *ps, np_kdd_model_t *m, node_t *nd, char **w, long base,
                       long nn)
{
    long   f, l, r;
    double thr;
    if (parse_long(w[1], 0, (long)m->ninputs - 1, &f) != 0 || parse_double(w[2], &thr) != 0 ||
        parse_long(w[3], 1, nn - 1, &l) != 0 || parse_long(w[4], 1, nn - 1, &r) != 0 || l == r)
        return perr(ps, "bad split node");
    nd->feat  = (int32_t)f;
    nd->thr   = float_threshold(thr);
    nd->left  = (int32_t)(base + l);
    nd->right = (int32_t)(base + r);
    return 0;
}

static int parse_leaf(parser_t *ps, np_kdd_model_t *m, node_t *nd, char **w)
{
    double *p = &m->probs[m->nleaves * NP_KDD_NCLASSES];
    for (int c = 0; c < NP_KDD_NCLASSES; c++)
        if (parse_double(w[1 + c], &p[c]) != 0 || p[c] < 0 || p[c] > 1)
            return perr(ps, "bad leaf probability %s", w[1 + c]);
    int32_t self = (int32_t)(nd - m->nodes);
    nd->feat = 0;
    nd->left = nd->right = self;
    nd->thr              = 0;
    m->leaf[self]        = (int32_t)m->nleaves++;
    return 0;
}

static int parse_tree(parser_t *ps, np_kdd_model_t *m, size_t t, size_t cap)
{
    char *l = next_line(ps), *w[7];
    long  nn;
    if (!l || words(l, w, 3) != 2 || strcmp(w[0], "tree") != 0 ||
        parse_long(w[1], 1, (long)(cap - m->nnodes), &nn) != 0)
        return perr(ps, "want 'tree NNODES' (tree %zu; at most %zu nodes in all)", t, cap);
    long base   = (long)m->nnodes;
    m->roots[t] = (int32_t)base;
    for (long i = 0; i < nn; i++) {
        if (!(l = next_line(ps)))
            return perr(ps, "file ends inside tree %zu", t);
        int     n  = words(l, w, 7);
        node_t *nd = &m->nodes[m->nnodes++];
        if (n == 5 && strcmp(w[0], "s") == 0) {
            if (parse_split(ps, m, nd, w, base, nn) != 0)
                return -1;
        } else if (n == 1 + NP_KDD_NCLASSES && strcmp(w[0], "l") == 0) {
            if (parse_leaf(ps, m, nd, w) != 0)
                return -1;
        } else {
            return perr(ps, "want a split 's F THR L R' or a leaf 'l P0..P4'");
        }
    }
    return 0;
}

/* Children must point forward within the tree, so evaluation always ends at a leaf. */
static int check_tree_links(parser_t *ps, const np_kdd_model_t *m, size_t t)
{
    size_t end = t + 1 < m->ntrees ? (size_t)m->roots[t + 1] : m->nnodes;
    for (size_t i = (size_t)m->roots[t]; i < end; i++) {
        const node_t *nd = &m->nodes[i];
        if ((nd->left == (int32_t)i) != (nd->right == (int32_t)i))
            return perr(ps, "tree %zu node %zu: child out of order", t, i - (size_t)m->roots[t]);
        if (nd->left != (int32_t)i && ((size_t)nd->left <= i || (size_t)nd->right <= i ||
                              (size_t)nd->left >= end || (size_t)nd->right >= end))
            return perr(ps, "tree %zu node %zu: child out of order", t, i - (size_t)m->roots[t]);
    }
    return 0;
}

static int parse_trees(parser_t *ps, np_kdd_model_t *m)
{
    char *l = next_line(ps), *w[4];
    long  nt, cap;
    if (!l || words(l, w, 4) != 3 || strcmp(w[0], "trees") != 0 ||
        parse_long(w[1], 1, NP_KDD_MODEL_MAX_TREES, &nt) != 0 ||
        parse_long(w[2], 1, 50000000, &cap) != 0)
        return perr(ps, "want 'trees NTREES NNODES' (at most %d trees)", NP_KDD_MODEL_MAX_TREES);
    /* A node line takes at least MIN_NODE_LINE bytes, so a count the rest of the file cannot
     * hold is refused before it sizes the arrays (a tiny file must not ask for gigabytes). */
    if ((size_t)cap > (size_t)(ps->end - ps->p) / MIN_NODE_LINE)
        return perr(ps, "NNODES %ld is more than the rest of the file can hold", cap);
    m->ntrees = (size_t)nt;
    m->roots  = calloc(m->ntrees, sizeof *m->roots);
    m->depth  = calloc(m->ntrees / GROUP + 1, sizeof *m->depth);
    m->nodes  = calloc((size_t)cap, sizeof *m->nodes);
    m->leaf   = calloc((size_t)cap, sizeof *m->leaf);
    m->probs  = calloc((size_t)cap * NP_KDD_NCLASSES, sizeof *m->probs);
    if (!m->roots || !m->depth || !m->nodes || !m->leaf || !m->probs)
        return perr(ps, "out of memory");
    for (size_t t = 0; t < m->ntrees; t++)
        if (parse_tree(ps, m, t, (size_t)cap) != 0)
            return -1;
    for (size_t t = 0; t < m->ntrees; t++)
        if (check_tree_links(ps, m, t) != 0)
            return -1;
    if (!(l = next_line(ps)) || strcmp(l, "end") != 0)
        return perr(ps, "want 'end' after the trees");
    if (ps->p < ps->end)
        return perr(ps, "unexpected content after 'end'");
    return m->nnodes == (size_t)cap ? 0 : perr(ps, "%zu nodes, header says %ld", m->nnodes, cap);
}

/* Depth of the deepest leaf of tree t (children always follow their parent). */
static int32_t tree_depth(const np_kdd_model_t *m, size_t t, int32_t *d)
{
    size_t  b = (size_t)m->roots[t], e = t + 1 < m->ntrees ? (size_t)m->roots[t + 1] : m->nnodes;
    int32_t max = 0;
    d[0]        = 0;
    for (size_t i = b; i < e; i++) {
        const node_t *nd = &m->nodes[i];
        if (nd->left != (int32_t)i)
            d[(size_t)nd->left - b] = d[(size_t)nd->right - b] = d[i - b] + 1;
        else if (d[i - b] > max)
            max = d[i - b];
    }
    return max;
}

static int compute_depths(np_kdd_model_t *m)
{
    int32_t *d = calloc(m->nnodes, sizeof *d);
    if (!d)
        return -1;
    for (size_t t = 0; t < m->ntrees; t++) {
        int32_t td = tree_depth(m, t, d);
        if (td > m->depth[t / GROUP])
            m->depth[t / GROUP] = td;
    }
    free(d);
    return 0;
}

static int build_fast(parser_t *ps, np_kdd_model_t *m)
{
    if (!(m->fast = calloc(m->nnodes, sizeof *m->fast)))
        return perr(ps, "out of memory");
    for (size_t i = 0; i < m->nnodes; i++) {
        const node_t *nd = &m->nodes[i];
        fast_node_t  *f  = &m->fast[i];
        f->thr           = nd->thr;
        if (nd->left == (int32_t)i) {
            f->feat = LEAF_BIT;
            continue;
        }
        if ((size_t)nd->left != i + 1 || (size_t)nd->right - i > UINT16_MAX || nd->feat > 1023)
            return perr(ps, "node %zu: the left child must be the next node and the right one "
                            "within 65535 nodes", i);
        f->feat   = (uint16_t)nd->feat;
        f->rdelta = (uint16_t)((size_t)nd->right - i);
    }
    free(m->nodes);
    m->nodes = NULL;
    return 0;
}

static int cmp_sym(const void *a, const void *b)
{
    return strcmp(((const sym_input_t *)a)->val, ((const sym_input_t *)b)->val);
}

/* Per symbolic column, its one-hot inputs sorted by value (encode looks values up). */
static int index_symbols(parser_t *ps, np_kdd_model_t *m)
{
    for (int k = 0; k < 3; k++) {
        if (!(m->sym[k] = calloc(m->ninputs, sizeof *m->sym[k])))
            return perr(ps, "out of memory");
        for (size_t i = 0; i < m->ninputs; i++)
            if (m->inputs[i].val[0] && m->inputs[i].col == k + 1) {
                strcpy(m->sym[k][m->nsym[k]].val, m->inputs[i].val);
                m->sym[k][m->nsym[k]++].input = (int)i;
            }
        qsort(m->sym[k], m->nsym[k], sizeof *m->sym[k], cmp_sym);
        for (size_t j = 1; j < m->nsym[k]; j++)
            if (strcmp(m->sym[k][j - 1].val, m->sym[k][j].val) == 0)
                return perr(ps, "input %s=%s listed twice", np_kdd_col_name(k + 1), m->sym[k][j].val);
    }
    return 0;
}

static int parse_header(parser_t *ps, np_kdd_model_t *m)
{
    char *l = next_line(ps);
    if (!l || strncmp(l, "netpulse-kdd-model ", 19) != 0)
        return perr(ps, "not a netpulse-kdd-model file");
    long v;
    if (parse_long(l + 19, 1, 1000000, &v) != 0 || v != NP_KDD_MODEL_FORMAT)
        return perr(ps, "format version '%s' unsupported (this build reads %d)", l + 19,
                    NP_KDD_MODEL_FORMAT);
    while ((l = next_line(ps)) && strncmp(l, "meta ", 5) == 0)
        if (parse_meta(ps, m, l) != 0)
            return -1;
    if (!l || strncmp(l, "classes ", 8) != 0 || parse_classes(ps, l) != 0)
        return ps->errstr[0] ? -1 : perr(ps, "want 'classes ...'");
    if (!(l = next_line(ps)) || strncmp(l, "weights ", 8) != 0)
        return perr(ps, "want 'weights ...'");
    if (parse_weights(ps, m, l) != 0)
        return -1;
    if (!np_kdd_model_meta(m, "version"))
        return perr(ps, "no 'meta version'");
    return 0;
}

static int parse_all(parser_t *ps, np_kdd_model_t *m)
{
    for (int c = 0; c < NP_KDD_NCOLS; c++)
        m->num_cols[c] = -1;
    if (parse_header(ps, m) != 0 || parse_inputs(ps, m) != 0 || index_symbols(ps, m) != 0 ||
        parse_trees(ps, m) != 0)
        return -1;
    if (compute_depths(m) != 0)
        return perr(ps, "out of memory");
    return build_fast(ps, m);
}

int np_kdd_model_parse(const char *buf, size_t len, np_kdd_model_t **out, char *errstr,
                       size_t errlen)
{
    *out = NULL;
    if (errstr && errlen)
        errstr[0] = 0;
    char *copy = malloc(len + 1);
    np_kdd_model_t *m = calloc(1, sizeof *m);
    if (!copy || !m) {
        free(copy);
        free(m);
        snprintf(errstr, errlen, "out of memory");
        return -1;
    }
    memcpy(copy, buf, len);
    copy[len] = 0;
    parser_t ps = {.p = copy, .end = copy + len, .errstr = errstr, .errlen = errlen};
    int rc = check_crc(copy, &len, errstr, errlen);
    ps.end = copy + len;
    if (rc == 0)
        rc = parse_all(&ps, m);
    free(copy);
    if (rc != 0) {
        np_kdd_model_destroy(&m);
        return -1;
    }
    *out = m;
    return 0;
}

int np_kdd_model_load(const char *path, np_kdd_model_t **out, char *errstr, size_t errlen)
{
    *out    = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errstr, errlen, "kdd model %s: %s", path, strerror(errno));
        return -1;
    }
    char  *buf = malloc(NP_KDD_MODEL_MAX_FILE);
    size_t n   = buf ? fread(buf, 1, NP_KDD_MODEL_MAX_FILE, f) : 0;
    int    big = buf && n == NP_KDD_MODEL_MAX_FILE;
    fclose(f);
    char why[200] = "";
    int  rc       = -1;
    if (!buf)
        snprintf(why, sizeof why, "out of memory");
    else if (big)
        snprintf(why, sizeof why, "larger than %u bytes", NP_KDD_MODEL_MAX_FILE);
    else
        rc = np_kdd_model_parse(buf, n, out, why, sizeof why);
    free(buf);
    if (rc != 0)
        snprintf(errstr, errlen, "kdd model %s: %s", path, why);
    return rc;
}

void np_kdd_model_destroy(np_kdd_model_t **mp)
{
    if (!mp || !*mp)
        return;
    np_kdd_model_t *m = *mp;
    for (size_t i = 0; i < m->nmeta; i++) {
        free(m->meta_key[i]);
        free(m->meta_val[i]);
    }
    free(m->inputs);
    for (int k = 0; k < 3; k++)
        free(m->sym[k]);
    free(m->roots);
    free(m->depth);
    free(m->leaf);
    free(m->nodes);
    free(m->fast);
    free(m->probs);
    free(m);
    *mp = NULL;
}

const char *np_kdd_model_meta(const np_kdd_model_t *m, const char *key)
{
    for (size_t i = 0; i < m->nmeta; i++)
        if (m->meta_key[i] && strcmp(m->meta_key[i], key) == 0)
            return m->meta_val[i];
    return NULL;
}

const char *np_kdd_model_version(const np_kdd_model_t *m)
{
    const char *v = np_kdd_model_meta(m, "version");
    return v ? v : "";
}

size_t np_kdd_model_ninputs(const np_kdd_model_t *m) { return m->ninputs; }
size_t np_kdd_model_ntrees(const np_kdd_model_t *m) { return m->ntrees; }
size_t np_kdd_model_nnodes(const np_kdd_model_t *m) { return m->nnodes; }

void np_kdd_model_encode(const np_kdd_model_t *m, const np_kdd_conn_t *c, float *x)
{
    for (int col = 0; col < NP_KDD_NCOLS; col++)
        if (m->num_cols[col] >= 0)
            x[m->num_cols[col]] = (float)c->num[col];
    for (int k = 0; k < 3; k++) {
        for (size_t j = 0; j < m->nsym[k]; j++)
            x[m->sym[k][j].input] = 0.0f;
        sym_input_t key;
        memcpy(key.val, c->sym[k], sizeof key.val);
        const sym_input_t *hit = bsearch(&key, m->sym[k], m->nsym[k], sizeof key, cmp_sym);
        if (hit)
            x[hit->input] = 1.0f;
    }
}

/* Walks trees [g, g + n) together until all are at a leaf (leaves loop on themselves):
 * the loads of different trees overlap, and the only branch is "anyone still moving". */
static void walk_group(const np_kdd_model_t *m, const float *x, size_t g, size_t n,
                       int32_t *cur)
{
    for (size_t k = 0; k < n; k++)
        cur[k] = m->roots[g + k];
    for (int32_t s = 0, moving = 1; moving && s < m->depth[g / GROUP]; s++) {
        moving = 0;
        for (size_t k = 0; k < n; k++) {
            const fast_node_t *nd   = &m->fast[cur[k]];
            int32_t            step = x[nd->feat & FEAT_MASK] <= nd->thr
                                          ? (int32_t)(~nd->feat >> 15 & 1u)
                                          : (int32_t)nd->rdelta;
            moving |= step;
            cur[k] += step;
        }
    }
}

int np_kdd_model_predict(const np_kdd_model_t *m, const float *x, double *confidence)
{
    double sum[NP_KDD_NCLASSES] = {0};
    for (size_t g = 0; g < m->ntrees; g += GROUP) {
        int32_t cur[GROUP];
        size_t  n = m->ntrees - g < GROUP ? m->ntrees - g : GROUP;
        walk_group(m, x, g, n, cur);
        for (size_t k = 0; k < n; k++) { /* in tree order: the sum is scikit-learn's */
            const double *p = &m->probs[(size_t)m->leaf[cur[k]] * NP_KDD_NCLASSES];
            for (int c = 0; c < NP_KDD_NCLASSES; c++)
                sum[c] += p[c];
        }
    }
    int    best = 0;
    double bs   = -1;
    for (int c = 0; c < NP_KDD_NCLASSES; c++) {
        sum[c] /= (double)m->ntrees;
        double s = sum[c] * m->weight[c];
        if (s > bs) {
            bs   = s;
            best = c;
        }
    }
    if (confidence)
        *confidence = sum[best];
    return best;
}

int np_kdd_model_classify(const np_kdd_model_t *m, const np_kdd_conn_t *c, double *confidence)
{
    float x[NP_KDD_MODEL_MAX_INPUTS];
    np_kdd_model_encode(m, c, x);
    return np_kdd_model_predict(m, x, confidence);
}
