/* np_logend: log ends asked in a thread of their own. See np_logend.h. */
#include "np_logend.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "np_clock.h"

typedef struct answer {
    int64_t end;
    int64_t asked_ms; /* INT64_MIN: none yet */
} answer_t;

struct np_logend {
    size_t n;
    np_logend_ask_fn ask;
    void *ctx;
    int64_t every_ms;
    int timeout_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC, like np_clock_mono_ms */
    bool wanted, stopping;
    answer_t *answers;   /* under mu */
    int64_t *scratch;    /* the thread's only */
    np_logend_stats_t st; /* under mu */
};

static struct timespec mono_deadline(int64_t at_ms) {
    return (struct timespec){.tv_sec = at_ms / 1000, .tv_nsec = (long)(at_ms % 1000) * 1000000L};
}

/* Waits (mu held) until a round is wanted and every_ms has passed since the previous
 * began, or a stop. Returns false on stop. */
static bool wait_for_round(np_logend_t *le, int64_t last_ms) {
    for (;;) {
        if (le->stopping) return false;
        int64_t due = last_ms == INT64_MIN ? INT64_MIN : last_ms + le->every_ms;
        if (le->wanted && np_clock_mono_ms() >= due) return true;
        if (!le->wanted) {
            pthread_cond_wait(&le->cv, &le->mu);
        } else {
            struct timespec ts = mono_deadline(due);
            pthread_cond_timedwait(&le->cv, &le->mu, &ts);
        }
    }
}

static void *run(void *arg) {
    np_logend_t *le = arg;
    int64_t last = INT64_MIN;
    pthread_mutex_lock(&le->mu);
    while (wait_for_round(le, last)) {
        le->wanted = false;
        pthread_mutex_unlock(&le->mu);
        /* Read before the request: whatever the answer says held at some moment after. */
        last = np_clock_mono_ms();
        for (size_t i = 0; i < le->n; i++) le->scratch[i] = -1;
        int rc = le->ask(le->ctx, le->scratch, le->n, le->timeout_ms);
        pthread_mutex_lock(&le->mu);
        le->st.rounds++;
        if (rc < 0) {
            le->st.failed++;
            continue;
        }
        for (size_t i = 0; i < le->n; i++)
            if (le->scratch[i] >= 0) le->answers[i] = (answer_t){le->scratch[i], last};
    }
    pthread_mutex_unlock(&le->mu);
    return NULL;
}

np_logend_t *np_logend_new(size_t n, np_logend_ask_fn ask, void *ctx, int64_t every_ms, int timeout_ms) {
    np_logend_t *le = calloc(1, sizeof(*le));
    if (!le) return NULL;
    le->n = n;
    le->ask = ask;
    le->ctx = ctx;
    le->every_ms = every_ms;
    le->timeout_ms = timeout_ms;
    le->answers = calloc(n ? n : 1, sizeof(*le->answers));
    le->scratch = calloc(n ? n : 1, sizeof(*le->scratch));
    if (!le->answers || !le->scratch) goto err_mem;
    for (size_t i = 0; i < n; i++) le->answers[i] = (answer_t){-1, INT64_MIN};
    pthread_condattr_t ca;
    if (pthread_mutex_init(&le->mu, NULL) != 0) goto err_mem;
    if (pthread_condattr_init(&ca) != 0) goto err_mu;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&le->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) goto err_mu;
    if (pthread_create(&le->thread, NULL, run, le) != 0) goto err_cv;
    return le;
err_cv:
    pthread_cond_destroy(&le->cv);
err_mu:
    pthread_mutex_destroy(&le->mu);
err_mem:
    free(le->answers);
    free(le->scratch);
    free(le);
    return NULL;
}

void np_logend_want(np_logend_t *le) {
    pthread_mutex_lock(&le->mu);
    if (!le->wanted) {
        le->wanted = true;
        pthread_cond_signal(&le->cv);
    }
    pthread_mutex_unlock(&le->mu);
}

bool np_logend_get(np_logend_t *le, size_t i, int64_t *end, int64_t *asked_ms) {
    if (i >= le->n) return false;
    pthread_mutex_lock(&le->mu);
    answer_t a = le->answers[i];
    pthread_mutex_unlock(&le->mu);
    if (a.asked_ms == INT64_MIN) return false;
    *end = a.end;
    *asked_ms = a.asked_ms;
    return true;
}

np_logend_stats_t np_logend_stats(np_logend_t *le) {
    pthread_mutex_lock(&le->mu);
    np_logend_stats_t st = le->st;
    pthread_mutex_unlock(&le->mu);
    return st;
}

void np_logend_stop(np_logend_t *le) {
    pthread_mutex_lock(&le->mu);
    le->stopping = true;
    pthread_cond_signal(&le->cv);
    pthread_mutex_unlock(&le->mu);
}

void np_logend_destroy(np_logend_t **lep) {
    if (!lep || !*lep) return;
    np_logend_t *le = *lep;
    np_logend_stop(le);
    pthread_join(le->thread, NULL);
    pthread_cond_destroy(&le->cv);
    pthread_mutex_destroy(&le->mu);
    free(le->answers);
    free(le->scratch);
    free(le);
    *lep = NULL;
}
