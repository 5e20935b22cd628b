/* np_outbox: unacknowledged partials of one partition. See np_outbox.h. */
#include "np_outbox.h"

#include <stdlib.h>
#include <string.h>

void np_outbox_init(np_outbox_t *ob) { memset(ob, 0, sizeof(*ob)); }

void np_outbox_free(np_outbox_t *ob) {
    for (size_t i = 0; i < ob->n; i++) free(ob->items[i].data);
    free(ob->items);
    memset(ob, 0, sizeof(*ob));
}

/* The records of two partials of one pane: an unknown bound stays unknown. */
static int64_t min_offset_of(int64_t a, int64_t b) {
    if (a == NP_OUTBOX_OFFSET_UNKNOWN || b == NP_OUTBOX_OFFSET_UNKNOWN) return NP_OUTBOX_OFFSET_UNKNOWN;
    return a < b ? a : b;
}

int np_outbox_push(np_outbox_t *ob, int64_t pane_start, int64_t min_offset, const uint8_t *data, size_t len) {
    /* A pane closes once per partition, so a second item for it replaces the first
     * (the same pane re-closed after a restore carries the same records). */
    for (size_t i = 0; i < ob->n; i++)
        if (ob->items[i].pane_start == pane_start) {
            uint8_t *d = malloc(len ? len : 1);
            if (!d) return -1;
            memcpy(d, data, len);
            free(ob->items[i].data);
            ob->items[i].data = d;
            ob->items[i].len = len;
            ob->items[i].min_offset = min_offset_of(ob->items[i].min_offset, min_offset);
            ob->items[i].next_send = 0;
            return 0;
        }
    if (ob->n == ob->cap) {
        size_t cap = ob->cap ? ob->cap * 2 : 8;
        np_outbox_item_t *ni = realloc(ob->items, cap * sizeof(*ni));
        if (!ni) return -1;
        ob->items = ni;
        ob->cap = cap;
    }
    uint8_t *d = malloc(len ? len : 1);
    if (!d) return -1;
    memcpy(d, data, len);
    ob->items[ob->n++] = (np_outbox_item_t){pane_start, min_offset, d, len, 0, 0};
    return 0;
}

bool np_outbox_ack(np_outbox_t *ob, int64_t pane_start) {
    for (size_t i = 0; i < ob->n; i++)
        if (ob->items[i].pane_start == pane_start) {
            free(ob->items[i].data);
            memmove(&ob->items[i], &ob->items[i + 1], (ob->n - i - 1) * sizeof(*ob->items));
            ob->n--;
            return true;
        }
    return false;
}

void np_outbox_sent(np_outbox_item_t *it, int64_t now_ms, int64_t max_ms) {
    int64_t delay = 250;
    for (uint32_t i = 0; i < it->attempts && delay < max_ms; i++) delay *= 2;
    if (delay > max_ms) delay = max_ms;
    it->attempts++;
    it->next_send = now_ms + delay;
}

