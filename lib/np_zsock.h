/*
 * np_zsock: how every netpulse ZeroMQ socket is hardened. Limits (ZMQ_MAXMSGSIZE: a
 * bigger frame drops the connection before it is buffered; bounded receive queues),
 * CURVE encryption and authentication (key files in Z85 text, as zmq_curve_keypair
 * makes them), a ZAP handler that admits only client keys from an allow-list file and
 * counts refusals, and the rule that plain TCP is used only on loopback unless the
 * operator allows it explicitly (zmq.plaintext.allow).
 *
 * Not for: message formats (np_partial), who owns a partition (the coordinator).
 * Threads: set-up from the main thread; the ZAP handler runs in its own thread, on the
 * socket's context, until np_zsock_zap_stop.
 */
#ifndef NP_ZSOCK_H
#define NP_ZSOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "np_config.h"
#include "np_metrics.h"

#define NP_ZSOCK_KEY_Z85 40 /* a CURVE key in Z85 text */
#define NP_ZSOCK_ALLOW_MAX 1024

#define NP_OPTS_ZMQ                                                                              \
    {"zmq.max.message.bytes", NP_OPT_INT, "134217728", 1024, 2147483647, NULL,                   \
     "Largest ZeroMQ frame accepted; a peer sending a bigger one is disconnected"},              \
    {"zmq.rcvhwm", NP_OPT_INT, "10000", 1, 10000000, NULL,                                       \
     "Messages queued per peer before ZeroMQ stops reading from it"},                            \
    {"zmq.curve.secret.file", NP_OPT_STR, NULL, 0, 0, NULL,                                      \
     "This process's CURVE secret key (Z85, 40 characters; public key derived); enables CURVE"}, \
    {"zmq.curve.server.file", NP_OPT_STR, NULL, 0, 0, NULL,                                      \
     "Public key (Z85) of the server this process connects to (CURVE client side)"},             \
    {"zmq.curve.allow.file", NP_OPT_STR, NULL, 0, 0, NULL,                                       \
     "Public keys (Z85, one a line) allowed to connect to this process's bound socket"},          \
    {"zmq.plaintext.allow", NP_OPT_BOOL, "false", 0, 0, NULL,                                    \
     "Allow ZeroMQ over plain TCP to a non-loopback address (otherwise CURVE is required)"}

typedef struct np_zsock_cfg {
    int64_t max_msg_bytes;
    int rcvhwm;
    bool curve;                              /* zmq.curve.secret.file given */
    char secret[NP_ZSOCK_KEY_Z85 + 1];
    char public_[NP_ZSOCK_KEY_Z85 + 1];      /* derived from secret */
    char server[NP_ZSOCK_KEY_Z85 + 1];       /* "" when not given */
    char (*allow)[NP_ZSOCK_KEY_Z85 + 1];     /* NULL when not given */
    size_t nallow;
    bool plaintext_allow;
} np_zsock_cfg_t;

/* Reads the zmq.* options and key files. Returns 0, or -1 with errstr naming the key
 * (a configuration error: exit 2). Frees with np_zsock_cfg_free. */
int np_zsock_cfg_load(np_zsock_cfg_t *zc, const np_config_t *cfg, char *errstr, size_t errlen);
void np_zsock_cfg_free(np_zsock_cfg_t *zc);

/* Reads a Z85 key: the first 40 non-blank characters of the file. Returns 0 or -1. */
int np_zsock_key_read(const char *path, char out[NP_ZSOCK_KEY_Z85 + 1], char *errstr, size_t errlen);

/* True when the endpoint is loopback, ipc:// or inproc://. */
bool np_zsock_endpoint_local(const char *endpoint);

/* The configuration checks of np_zsock_setup alone, for start-up before any connection:
 * a non-loopback endpoint without CURVE (unless allowed), a CURVE client without the
 * server's key. Returns 0 or -1 with errstr (exit 2). */
int np_zsock_check(const np_zsock_cfg_t *zc, bool server, const char *endpoint, char *errstr, size_t errlen);

/* Limits and, as configured, CURVE. server: the socket binds (CURVE server, needs the
 * allow-list handler); otherwise it connects (needs zmq.curve.server.file). Checks the
 * endpoint rule. Returns 0 or -1 with errstr (exit 2). */
int np_zsock_setup(const np_zsock_cfg_t *zc, void *sock, bool server, const char *endpoint, char *errstr,
                   size_t errlen);

/* Starts the ZAP handler on ctx: CURVE clients whose key is in zc->allow are admitted,
 * others refused and counted in *refused (may be NULL). With no allow-list every CURVE
 * client with a valid handshake is admitted. Returns a handle or NULL. */
typedef struct np_zap np_zap_t;
np_zap_t *np_zsock_zap_start(void *ctx, const np_zsock_cfg_t *zc, np_counter_t *refused, char *errstr,
                             size_t errlen);
/* Stops it; call before zmq_ctx_term (it closes its socket). NULLs *z. */
void np_zsock_zap_stop(np_zap_t **z);

#endif
