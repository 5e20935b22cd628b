/* np_zsock: hardened ZeroMQ sockets (limits, CURVE, ZAP allow-list). See np_zsock.h. */
#include "np_zsock.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "np_log.h"

int np_zsock_key_read(const char *path, char out[NP_ZSOCK_KEY_Z85 + 1], char *errstr, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(errstr, errlen, "cannot read key file %s", path);
        return -1;
    }
    size_t n = 0;
    int ch;
    while (n < NP_ZSOCK_KEY_Z85 && (ch = fgetc(f)) != EOF)
        if (!isspace(ch)) out[n++] = (char)ch;
    fclose(f);
    out[n] = '\0';
    uint8_t bin[32];
    if (n != NP_ZSOCK_KEY_Z85 || !zmq_z85_decode(bin, out)) {
        snprintf(errstr, errlen, "key file %s does not hold a 40-character Z85 CURVE key", path);
        return -1;
    }
    return 0;
}

static int allow_load(np_zsock_cfg_t *zc, const char *path, char *errstr, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(errstr, errlen, "zmq.curve.allow.file: cannot read %s", path);
        return -1;
    }
    zc->allow = calloc(NP_ZSOCK_ALLOW_MAX, sizeof(*zc->allow));
    char line[256];
    int rc = zc->allow ? 0 : -1;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *s = line;
        while (isspace((unsigned char)*s)) s++;
        size_t n = strcspn(s, " \t\r\n");
        if (n == 0) continue;
        uint8_t bin[32];
        char c0 = s[n];
        s[n] = '\0';
        bool key = n == NP_ZSOCK_KEY_Z85 && zmq_z85_decode(bin, s);
        s[n] = c0;
        if (!key && *s == '#') continue; /* a comment ('#' is also a Z85 digit: keys are tried first) */
        if (!key || zc->nallow == NP_ZSOCK_ALLOW_MAX) {
            snprintf(errstr, errlen, "zmq.curve.allow.file: %s: not a Z85 public key (or more than %d)", path,
                     NP_ZSOCK_ALLOW_MAX);
            rc = -1;
            break;
        }
        s[n] = '\0';
        memcpy(zc->allow[zc->nallow++], s, NP_ZSOCK_KEY_Z85 + 1);
    }
    fclose(f);
    return rc;
}

int np_zsock_cfg_load(np_zsock_cfg_t *zc, const np_config_t *cfg, char *errstr, size_t errlen) {
    memset(zc, 0, sizeof(*zc));
    zc->max_msg_bytes = np_config_int(cfg, "zmq.max.message.bytes");
    zc->rcvhwm = (int)np_config_int(cfg, "zmq.rcvhwm");
    zc->plaintext_allow = np_config_bool(cfg, "zmq.plaintext.allow");
    const char *sec = np_config_str(cfg, "zmq.curve.secret.file");
    const char *srv = np_config_str(cfg, "zmq.curve.server.file");
    const char *allow = np_config_str(cfg, "zmq.curve.allow.file");
    char why[200];
    if (sec && *sec) {
        if (!zmq_has("curve")) {
            snprintf(errstr, errlen, "zmq.curve.secret.file: this libzmq has no CURVE support");
            return -1;
        }
        if (np_zsock_key_read(sec, zc->secret, why, sizeof(why)) < 0 ||
            zmq_curve_public(zc->public_, zc->secret) != 0) {
            snprintf(errstr, errlen, "zmq.curve.secret.file: %s", why);
            return -1;
        }
        zc->curve = true;
    }
    if (srv && *srv && np_zsock_key_read(srv, zc->server, why, sizeof(why)) < 0) {
        snprintf(errstr, errlen, "zmq.curve.server.file: %s", why);
        return -1;
    }
    if (allow && *allow && allow_load(zc, allow, errstr, errlen) < 0) {
        np_zsock_cfg_free(zc);
        return -1;
    }
    if (!zc->curve && (zc->server[0] || zc->allow)) {
        snprintf(errstr, errlen, "zmq.curve.server.file / zmq.curve.allow.file need zmq.curve.secret.file");
        np_zsock_cfg_free(zc);
        return -1;
    }
    return 0;
}

void np_zsock_cfg_free(np_zsock_cfg_t *zc) {
    free(zc->allow);
    zc->allow = NULL;
    zc->nallow = 0;
}

bool np_zsock_endpoint_local(const char *ep) {
    if (!strncmp(ep, "ipc://", 6) || !strncmp(ep, "inproc://", 9)) return true;
    if (strncmp(ep, "tcp://", 6) != 0) return false;
    const char *h = ep + 6;
    const char *semi = strchr(h, ';'); /* tcp://src;dst: judge the destination */
    if (semi) h = semi + 1;
    return !strncmp(h, "127.", 4) || !strncmp(h, "localhost:", 10) || !strncmp(h, "[::1]:", 6) ||
           !strncmp(h, "lo:", 3);
}

int np_zsock_check(const np_zsock_cfg_t *zc, bool server, const char *ep, char *errstr, size_t errlen) {
    if (!zc->curve && !zc->plaintext_allow && !np_zsock_endpoint_local(ep)) {
        snprintf(errstr, errlen, "'%s' is not loopback: set zmq.curve.secret.file (CURVE) or zmq.plaintext.allow=true",
                 ep);
        return -1;
    }
    if (zc->curve && !server && !zc->server[0]) {
        snprintf(errstr, errlen, "zmq.curve.server.file is needed to connect to '%s' with CURVE", ep);
        return -1;
    }
    return 0;
}

int np_zsock_setup(const np_zsock_cfg_t *zc, void *sock, bool server, const char *ep, char *errstr,
                   size_t errlen) {
    int64_t max = zc->max_msg_bytes;
    int hwm = zc->rcvhwm, one = 1;
    if (np_zsock_check(zc, server, ep, errstr, errlen) < 0) return -1;
    if (zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof(max)) != 0 ||
        zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof(hwm)) != 0) {
        snprintf(errstr, errlen, "zmq: cannot set limits: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    if (!zc->curve) return 0;
    int rc;
    if (server) {
        rc = zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof(one)) |
             zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, zc->secret, NP_ZSOCK_KEY_Z85) |
             zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "netpulse", 8);
    } else {
        rc = zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, zc->server, NP_ZSOCK_KEY_Z85) |
             zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, zc->public_, NP_ZSOCK_KEY_Z85) |
             zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, zc->secret, NP_ZSOCK_KEY_Z85);
    }
    if (rc != 0) {
        snprintf(errstr, errlen, "zmq: cannot set CURVE options: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

/* ---- ZAP (RFC 27) ------------------------------------------------------------------ */

struct np_zap {
    void *sock;
    pthread_t thread;
    _Atomic int stop;
    const np_zsock_cfg_t *zc;
    np_counter_t *refused;
};

static bool key_allowed(const np_zap_t *z, const char *mech, const zmq_msg_t *cred) {
    if (strcmp(mech, "CURVE") != 0 || zmq_msg_size((zmq_msg_t *)cred) != 32) return false;
    if (!z->zc->allow) return true;
    char txt[NP_ZSOCK_KEY_Z85 + 1];
    zmq_z85_encode(txt, zmq_msg_data((zmq_msg_t *)cred), 32);
    for (size_t i = 0; i < z->zc->nallow; i++)
        if (memcmp(txt, z->zc->allow[i], NP_ZSOCK_KEY_Z85) == 0) return true;
    return false;
}

static void zap_reply(void *s, const zmq_msg_t *reqid, bool ok) {
    zmq_send(s, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(s, zmq_msg_data((zmq_msg_t *)reqid), zmq_msg_size((zmq_msg_t *)reqid), ZMQ_SNDMORE);
    zmq_send(s, ok ? "200" : "400", 3, ZMQ_SNDMORE);
    zmq_send(s, ok ? "OK" : "key not allowed", ok ? 2 : 15, ZMQ_SNDMORE);
    zmq_send(s, "", 0, ZMQ_SNDMORE);
    zmq_send(s, "", 0, 0);
}

/* One request: version, request id, domain, address, routing id, mechanism, credentials. */
static void zap_handle(np_zap_t *z) {
    zmq_msg_t f[7];
    size_t n = 0;
    int more = 1;
    while (more) {
        zmq_msg_t tmp;
        zmq_msg_init(&tmp);
        if (zmq_msg_recv(&tmp, z->sock, 0) < 0) {
            zmq_msg_close(&tmp);
            break;
        }
        more = zmq_msg_more(&tmp);
        if (n < 7) f[n++] = tmp;
        else zmq_msg_close(&tmp);
    }
    if (n >= 6) {
        char mech[16] = {0}, addr[64] = {0};
        size_t ml = zmq_msg_size(&f[5]) < sizeof(mech) - 1 ? zmq_msg_size(&f[5]) : sizeof(mech) - 1;
        size_t al = zmq_msg_size(&f[3]) < sizeof(addr) - 1 ? zmq_msg_size(&f[3]) : sizeof(addr) - 1;
        memcpy(mech, zmq_msg_data(&f[5]), ml);
        memcpy(addr, zmq_msg_data(&f[3]), al);
        bool ok = n == 7 && key_allowed(z, mech, &f[6]);
        if (!ok) {
            static np_log_rl_t rl = NP_LOG_RL_INIT;
            if (z->refused) np_counter_inc(z->refused);
            np_log_rl(&rl, NP_LOG_WARN, "zmq_peer_refused", "mechanism=%s address=%s", mech, addr);
        }
        zap_reply(z->sock, &f[1], ok);
    }
    for (size_t i = 0; i < n; i++) zmq_msg_close(&f[i]);
}

static void *zap_main(void *arg) {
    np_zap_t *z = arg;
    zmq_pollitem_t it = {z->sock, 0, ZMQ_POLLIN, 0};
    while (!atomic_load(&z->stop))
        if (zmq_poll(&it, 1, 100) > 0) zap_handle(z);
    zmq_close(z->sock);
    return NULL;
}

np_zap_t *np_zsock_zap_start(void *ctx, const np_zsock_cfg_t *zc, np_counter_t *refused, char *errstr,
                             size_t errlen) {
    np_zap_t *z = calloc(1, sizeof(*z));
    if (!z) return NULL;
    z->zc = zc;
    z->refused = refused;
    z->sock = zmq_socket(ctx, ZMQ_REP);
    if (!z->sock || zmq_bind(z->sock, "inproc://zeromq.zap.01") != 0 ||
        pthread_create(&z->thread, NULL, zap_main, z) != 0) {
        snprintf(errstr, errlen, "zmq: cannot start the ZAP handler: %s", zmq_strerror(zmq_errno()));
        if (z->sock) zmq_close(z->sock);
        free(z);
        return NULL;
    }
    return z;
}

void np_zsock_zap_stop(np_zap_t **zp) {
    if (!zp || !*zp) return;
    atomic_store(&(*zp)->stop, 1);
    pthread_join((*zp)->thread, NULL);
    free(*zp);
    *zp = NULL;
}
