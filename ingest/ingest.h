/*
 * netpulse-ingest internals shared by its two inputs: the UDP collector (main.c) and pcap
 * replay (replay.c). Both hand flows to ingest_produce_flow.
 */
#ifndef INGEST_H
#define INGEST_H

#include <librdkafka/rdkafka.h>

#include "np_flow.h"
#include "np_proc.h"

typedef struct ingest ingest_t;

/* Produces one flow to the records topic (key = source IP, timestamp = event time);
 * waits while librdkafka's queue is full. Thread-safe. */
void ingest_produce_flow(void *ing, const np_flow_t *f);

/* pcap replay: reads path (pcap or pcapng), builds flows and produces them; speedup 1 =
 * original speed, N = N times faster, 0 = as fast as possible. Returns the exit code. */
int ingest_replay(ingest_t *ing, const np_config_t *c, const char *path);

/* Serves delivery reports (replay.c calls it as it goes). */
void ingest_poll(ingest_t *ing);

/* Counters replay.c updates. */
void ingest_count_replay(ingest_t *ing, uint64_t packets, uint64_t skipped);

#endif
