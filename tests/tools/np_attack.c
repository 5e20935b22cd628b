/*
 * np-attack: what an attacker on the same network sends to netpulse's ZeroMQ ports, for
 * the attack tests (tests/integration/0150-attacks.sh). Not installed; test-only.
 *
 *   np-attack [-k SERVER_PUB_FILE -s CLIENT_SECRET_FILE] CMD ENDPOINT ARGS...
 *     partial EP PARTITION PANE_START PANE_MS RECORDS   one forged Partial; prints acked|no-ack
 *     progress EP N PANE_MS                             progress for N partitions (N total)
 *     panes EP COUNT PANE_MS                            COUNT partials for far-future panes
 *     frame EP MIB                                      one frame of MIB MiB
 *     result EP ID                                      a forged Result to the gateway; acked|no-ack
 * With -k/-s the socket speaks CURVE with those keys.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "netpulse.pb-c.h"
#include "np_zsock.h"

static void *ctx, *sock;

static void die(const char *m) {
    fprintf(stderr, "np-attack: %s\n", m);
    exit(2);
}

static void send_msg(const Netpulse__WorkerMsg *m) {
    size_t n = netpulse__worker_msg__get_packed_size(m);
    uint8_t *b = malloc(n ? n : 1);
    netpulse__worker_msg__pack(m, b);
    if (zmq_send(sock, b, n, 0) < 0) die("send failed");
    free(b);
}

/* Waits up to ms for any reply; returns 1 when one came. */
static int got_reply(int ms) {
    zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
    for (int waited = 0; waited < ms; waited += 100) {
        if (zmq_poll(&it, 1, 100) > 0) {
            zmq_msg_t msg;
            zmq_msg_init(&msg);
            zmq_msg_recv(&msg, sock, 0);
            Netpulse__CoordMsg *cm = netpulse__coord_msg__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
            int ack = cm && cm->n_acks > 0;
            if (cm) netpulse__coord_msg__free_unpacked(cm, NULL);
            Netpulse__ResultAck *ra = ack ? NULL : netpulse__result_ack__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
            if (ra) {
                ack = ra->n_ids > 0;
                netpulse__result_ack__free_unpacked(ra, NULL);
            }
            zmq_msg_close(&msg);
            if (ack) return 1;
        }
    }
    return 0;
}

static void partial(int32_t part, int64_t start, int64_t pane_ms, uint64_t records) {
    Netpulse__Partial p = NETPULSE__PARTIAL__INIT;
    p.partition = part;
    p.pane_start_ms = start;
    p.pane_ms = pane_ms;
    p.records = records;
    p.bytes = records * 100;
    p.packets = records;
    Netpulse__WorkerMsg m = NETPULSE__WORKER_MSG__INIT;
    m.version = 1;
    m.worker_id = "attacker";
    m.session = "0123456789abcdef0123456789abcdef";
    m.body_case = NETPULSE__WORKER_MSG__BODY_PARTIAL;
    m.partial = &p;
    send_msg(&m);
}

int main(int argc, char **argv) {
    const char *kfile = NULL, *sfile = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "k:s:")) != -1) {
        if (opt == 'k') kfile = optarg;
        else if (opt == 's') sfile = optarg;
        else die("usage: np-attack [-k SERVER_PUB -s CLIENT_SECRET] CMD ENDPOINT ARGS...");
    }
    if (argc - optind < 2) die("usage: np-attack [-k SERVER_PUB -s CLIENT_SECRET] CMD ENDPOINT ARGS...");
    const char *cmd = argv[optind], *ep = argv[optind + 1];
    char **a = argv + optind + 2;
    int na = argc - optind - 2;
    ctx = zmq_ctx_new();
    sock = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 3000;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(sock, ZMQ_ROUTING_ID, "attacker", 8);
    if (kfile && sfile) {
        char srv[41], sec[41], pub[41], err[200];
        if (np_zsock_key_read(kfile, srv, err, sizeof(err)) < 0 || np_zsock_key_read(sfile, sec, err, sizeof(err)) < 0)
            die(err);
        zmq_curve_public(pub, sec);
        zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, srv, 40);
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub, 40);
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec, 40);
    }
    if (zmq_connect(sock, ep) != 0) die("connect failed");
    int rc = 0;
    if (!strcmp(cmd, "partial") && na == 4) {
        partial(atoi(a[0]), strtoll(a[1], NULL, 10), strtoll(a[2], NULL, 10), strtoull(a[3], NULL, 10));
        puts(got_reply(3000) ? "acked" : "no-ack");
    } else if (!strcmp(cmd, "panes") && na == 2) {
        int64_t pane = strtoll(a[1], NULL, 10), now = (int64_t)time(NULL) * 1000;
        int64_t base = (now / pane + 100000) * pane; /* far in the future */
        for (int i = 0; i < atoi(a[0]); i++) partial(0, base + i * pane, pane, 1);
        puts(got_reply(2000) ? "acked" : "no-ack");
    } else if (!strcmp(cmd, "progress") && na == 2) {
        int n = atoi(a[0]);
        Netpulse__PartitionProgress *pp = calloc((size_t)n, sizeof(*pp));
        Netpulse__PartitionProgress **ptr = calloc((size_t)n, sizeof(*ptr));
        for (int i = 0; i < n; i++) {
            netpulse__partition_progress__init(&pp[i]);
            pp[i].partition = i;
            pp[i].closed_through_ms = 0; /* holds every pane back */
            pp[i].watermark_ms = 0;
            pp[i].has_data = 1;
            pp[i].epoch = 1;
            pp[i].topic = "network-traffic";
            pp[i].topic_partition = i;
            ptr[i] = &pp[i];
        }
        Netpulse__Progress pr = NETPULSE__PROGRESS__INIT;
        pr.n_partitions = (size_t)n;
        pr.partitions = ptr;
        pr.partitions_total = n;
        Netpulse__WorkerMsg m = NETPULSE__WORKER_MSG__INIT;
        m.version = 1;
        m.worker_id = "attacker";
        m.session = "0123456789abcdef0123456789abcdef";
        m.body_case = NETPULSE__WORKER_MSG__BODY_PROGRESS;
        m.progress = &pr;
        for (int r = 0; r < 20; r++) {
            send_msg(&m);
            usleep(100000);
        }
        free(pp);
        free(ptr);
    } else if (!strcmp(cmd, "frame") && na == 1) {
        /* Zero-copy from untouched calloc pages: the attacker spends no memory on it. */
        size_t n = (size_t)atoi(a[0]) << 20;
        char *b = calloc(1, n);
        zmq_msg_t msg;
        if (!b || zmq_msg_init_data(&msg, b, n, NULL, NULL) != 0) die("out of memory");
        if (zmq_msg_send(&msg, sock, 0) < 0) die("send failed");
        sleep(3);
        free(b);
    } else if (!strcmp(cmd, "result") && na == 1) {
        Netpulse__Result r = NETPULSE__RESULT__INIT, *rp = &r;
        r.id = a[0];
        r.type = "window";
        r.window_start_ms = 0;
        r.window_end_ms = 5000;
        r.json.data = (uint8_t *)"{\"type\":\"window\",\"records\":123456789}";
        r.json.len = strlen((char *)r.json.data);
        Netpulse__ResultBatch b = NETPULSE__RESULT_BATCH__INIT;
        b.version = 1;
        b.n_results = 1;
        b.results = &rp;
        size_t n = netpulse__result_batch__get_packed_size(&b);
        uint8_t *buf = malloc(n);
        netpulse__result_batch__pack(&b, buf);
        if (zmq_send(sock, buf, n, 0) < 0) die("send failed");
        free(buf);
        puts(got_reply(3000) ? "acked" : "no-ack");
    } else {
        die("unknown command or wrong arguments");
    }
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return rc;
}
