/*
 * np_result: the JSON messages netpulse publishes to `processed-data`, built from merged
 * global panes. Formats only; no I/O. The schema is documented in ARCHITECTURE.md and is
 * kept stable: new fields may be added, none renamed or removed.
 */
#ifndef NP_RESULT_H
#define NP_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "np_detect.h"
#include "np_merge.h"
#include "np_strbuf.h"

#define NP_RESULT_TOP_SOURCES 10

/* Longest JSON of any one result (a window with ten IPv6 top sources and every counter at
 * 20 digits, an anomaly whose texts are all escaped): tests/unit/test_budget.c checks it.
 * The outbox's memory bound (np_budget) counts results at this size. */
#define NP_RESULT_JSON_MAX 4096

/* Longest result id + 1, in every process that handles ids (coordinator, gateway): an
 * anomaly on a full IPv6 CIDR, "anomaly:forecast_threshold:<39>/128:<13 digits>", is 85. */
#define NP_RESULT_ID_MAX 160

/* "window:<start>:<end>" into buf; returns its length. */
size_t np_result_window_id(int64_t start_ms, int64_t end_ms, char *buf, size_t buflen);

/* Appends the `window` JSON object for a final global pane (tumbling window = pane).
 * id_out (>= 48 bytes) receives the deterministic id. */
void np_result_window_json(np_strbuf_t *sb, const np_gpane_t *gp, int64_t pane_ms,
                           char *id_out, size_t id_len);

/* Appends an `anomaly` object; id_out (>= 128 bytes) receives
 * "anomaly:<kind>:<entity>:<window_start>", deterministic for the pane and entity. */
void np_result_anomaly_json(np_strbuf_t *sb, const np_anomaly_t *a, char *id_out, size_t id_len);

/* Appends a `forecast` object: the next window's predicted packets and, when there was
 * one, the previous prediction beside the actual value. id "forecast:<start>:<end>". */
void np_result_forecast_json(np_strbuf_t *sb, const np_forecast_t *f, char *id_out, size_t id_len);

/* Appends a `group` object: one of a view's top groups in a pane window, rank 1 = most
 * bytes; view_bytes is the view's total (for `share`). id "group:<view>:<start>:<rank>". */
void np_result_group_json(np_strbuf_t *sb, const np_view_t *v, const np_gagg_t *g, int rank, uint64_t view_bytes,
                          int64_t window_start, int64_t window_ms, char *id_out, size_t id_len);

#endif
