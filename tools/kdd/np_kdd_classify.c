/*
 * np-kdd-classify: classifies NSL-KDD records (one per line, CSV in column order or JSON)
 * with a model file, exactly as the worker does, and writes one line per record in the
 * format of `tools/kdd/train.py predict`: class index, class name, confidence as a hex
 * float. The exactness test compares the two outputs byte for byte. A final line on
 * stderr gives the accuracy when the records carry labels.
 *
 *     np-kdd-classify MODEL [INPUT]   (INPUT defaults to stdin)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "np_kdd_model.h"

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: np-kdd-classify MODEL [INPUT]\n");
        return 2;
    }
    char            err[512];
    np_kdd_model_t *m = NULL;
    if (np_kdd_model_load(argv[1], &m, err, sizeof err) != 0) {
        fprintf(stderr, "np-kdd-classify: %s\n", err);
        return 1;
    }
    FILE *in = argc == 3 ? fopen(argv[2], "r") : stdin;
    if (!in) {
        perror(argv[2]);
        np_kdd_model_destroy(&m);
        return 1;
    }
    char   line[4096];
    long   n = 0, labelled = 0, right = 0, bad = 0;
    while (fgets(line, sizeof line, in)) {
        np_kdd_conn_t c;
        n++;
        if (np_kdd_conn_parse(line, strlen(line), &c, err, sizeof err) != 0) {
            fprintf(stderr, "line %ld: %s\n", n, err);
            bad++;
            continue;
        }
        double conf;
        int    cls = np_kdd_model_classify(m, &c, &conf);
        printf("%d %s %a\n", cls, np_kdd_class_name(cls), conf);
        if (c.label >= 0) {
            labelled++;
            right += cls == c.label;
        }
    }
    if (labelled)
        fprintf(stderr, "%ld records, %ld labelled, accuracy %.4f\n", n, labelled,
                (double)right / (double)labelled);
    if (in != stdin)
        fclose(in);
    np_kdd_model_destroy(&m);
    return bad ? 1 : 0;
}
