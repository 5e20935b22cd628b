/*
 * np_opts: the options that more than one netpulse process declares, each declared once
 * here so that a key has one meaning (and one help text) in every process. A process puts
 * the macros in its np_opt_t table (np_config.h); where processes legitimately differ (a
 * worker's tables are per partition, the coordinator's per global pane), the macro takes
 * the default and bounds, and a short WHOSE/USE text says what this process applies it
 * to. Keys only one process reads stay in that process's table; families with a module of
 * their own stay beside it (NP_OPTS_ZMQ in np_zsock.h, NP_OPTS_DETECT and NP_OPTS_VIEWS in
 * np_detect_cfg.h, NP_OPTS_COMMON and NP_OPTS_KAFKA in np_config.h).
 */
#ifndef NP_OPTS_H
#define NP_OPTS_H

#include "np_config.h"

/* The Redis connection (np_store_connect_config reads these). USE says what this process
 * keeps there, WITHOUT what redis.port = 0 means for it. */
#define NP_OPTS_REDIS(PORT_DEF, USE, WITHOUT)                                                                \
    {"redis.host", NP_OPT_STR, "127.0.0.1", 1, 0, NULL, "Redis host (" USE ")"},                              \
    {"redis.port", NP_OPT_INT, PORT_DEF, 0, 65535, NULL, "Redis port; 0 = no Redis: " WITHOUT},               \
    {"redis.password", NP_OPT_STR, "", 0, 0, NULL,                                                           \
     "Redis AUTH password: env NETPULSE_REDIS_PASSWORD, a config file or redis.password.file (never a flag)"}, \
    {"redis.password.file", NP_OPT_STR, NULL, 0, 0, NULL, "File holding the Redis AUTH password"},           \
    {"redis.user", NP_OPT_STR, "", 0, 0, NULL, "Redis ACL user for AUTH (empty: the default user)"},         \
    {"redis.db", NP_OPT_INT, "0", 0, 15, NULL, "Redis database number (SELECT on every connect)"}

/* Event time: the same in every process of a cluster (panes are aligned to it). */
#define NP_OPT_PANE_MS                                                                                       \
    {"pane.ms", NP_OPT_INT, "5000", 10, 86400000, NULL,                                                      \
     "Pane length (the tumbling window unit), ms; the same in every process of a cluster"}
#define NP_OPT_LATENESS_MS                                                                                   \
    {"lateness.ms", NP_OPT_INT, "2000", 0, 86400000, NULL,                                                   \
     "Allowed lateness: a partition's watermark = its max event time - this, ms"}
/* The sliding window: the coordinator's, and with bounded partials the workers' too (the same
 * value in both, WHOSE says what the process does with it). */
#define NP_OPT_WINDOW_MS(WHOSE)                                                                              \
    {"window.ms", NP_OPT_INT, "60000", 10, 86400000, NULL,                                                   \
     "Sliding window length, a multiple of pane.ms, sliding by one pane; " WHOSE}

/* The workers' input (the coordinator names them in the ownership records it reads). */
#define NP_OPTS_WORKER_INPUT                                                                                 \
    {"topic", NP_OPT_STR, "network-traffic", 1, 0, NULL, "Input topic of flow records"},                     \
    {"repartition.topic", NP_OPT_STR, "network-traffic-repartition", 0, 0, NULL,                             \
     "Records not keyed by their source IP are re-keyed through this topic (same partition count "           \
     "as the input) so every source's records meet in one partition; empty = count them where they are"},    \
    {"group.id", NP_OPT_STR, "netpulse-workers", 1, 0, NULL, "The workers' Kafka consumer group"}
/* NSL-KDD connection records: the generator's replay writes them, workers classify them. */
#define NP_OPT_KDD_TOPIC                                                                                     \
    {"kdd.topic", NP_OPT_STR, "network-connections", 0, 0, NULL, "Topic of NSL-KDD connection records"}
/* Destinations with NSL-KDD class counts kept per pane (np_classmap); past it, connections
 * are counted in `other` (totals exact) and the eviction counted. */
#define NP_OPT_KDD_MAX_DESTS_PER_PANE(DEF, WHOSE)                                                            \
    {"kdd.max.dests.per.pane", NP_OPT_INT, DEF, 1, 16777216, NULL,                                           \
     "Destinations with NSL-KDD class counts kept " WHOSE "; more are folded into 'other' and counted as "  \
     "evicted"}

/* Caps of the pane tables of this process (WHOSE: "per partition and pane", "per global
 * pane"). Sources and destinations past the cap are folded into one `other` aggregate and
 * counted as evicted (np_srcmap): totals stay exact, per-address detail is what is lost. */
#define NP_OPT_MAX_OPEN_PANES(DEF, MAX, WHOSE)                                                               \
    {"max.open.panes", NP_OPT_INT, DEF, 2, MAX, NULL, "Panes held open at once, " WHOSE}
#define NP_OPT_MAX_SOURCES_PER_PANE(DEF, MAX, WHOSE)                                                         \
    {"max.sources.per.pane", NP_OPT_INT, DEF, 1, MAX, NULL,                                                  \
     "Distinct sources kept " WHOSE "; more are folded into 'other' and counted as evicted"}
#define NP_OPT_MAX_DESTS_PER_PANE(DEF, MIN, MAX, WHOSE)                                                      \
    {"max.dests.per.pane", NP_OPT_INT, DEF, MIN, MAX, NULL,                                                  \
     "Distinct destinations kept " WHOSE " for DDoS fan-in; more are folded into 'other' and counted as "  \
     "evicted"}
#define NP_OPT_HLL_POOL_BLOCKS(DEF)                                                                          \
    {"hll.pool.blocks", NP_OPT_INT, DEF, 0, 16777216, NULL,                                                  \
     "1 KiB blocks for per-source distinct-count sketches past 6 values (bounded; beyond it, lower "         \
     "bounds, counted)"}
/* Bounded partials' per-destination fan-in (np_vhll): one pool of registers per partition
 * and pane (workers) and per global pane (coordinator); the same values in both. */
#define NP_OPTS_FANIN                                                                                        \
    {"fanin.pool.registers", NP_OPT_INT, "262144", 1024, 16777216, NULL,                                     \
     "Bounded partials: one-byte registers of the destinations' shared fan-in pool (np_vhll), a power of "   \
     "two; the same in workers and coordinator"},                                                            \
    {"fanin.registers.per.dest", NP_OPT_INT, "256", 16, 1024, NULL,                                          \
     "Bounded partials: virtual registers per destination in the fan-in pool, a power of two <= "            \
     "fanin.pool.registers / 4 (error ~1.04/sqrt of it); the same in workers and coordinator"}
#define NP_OPT_MAX_EMPTY_RUN                                                                                 \
    {"max.empty.run", NP_OPT_INT, "720", 0, 1000000, NULL,                                                   \
     "Longest run of empty windows emitted between windows with data"}

/* Back-pressure: what this process has sent downstream and holds until it is acknowledged
 * (WHAT); when the outbox is full the process pauses the work that fills it. */
#define NP_OPT_OUTBOX_MAX(DEF, MIN, MAX, WHAT)                                                               \
    {"outbox.max", NP_OPT_INT, DEF, MIN, MAX, NULL,                                                          \
     "Unacknowledged " WHAT " held at most; when full, the process pauses (back-pressure)"}

#endif
