/*
 * netpulse-keygen DIR NAME: a CURVE key pair for netpulse's ZeroMQ links (np_zsock):
 * DIR/NAME.key (the secret key, Z85, mode 0600) and DIR/NAME.pub (the public key, Z85).
 * Give a process its .key with zmq.curve.secret.file; list workers' .pub files in the
 * coordinator's zmq.curve.allow.file, the coordinator's .pub in the gateway's, and the
 * server's .pub as its clients' zmq.curve.server.file. Exit 2 on bad usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static int write_file(const char *path, const char *text, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) return -1;
    size_t n = strlen(text);
    int rc = write(fd, text, n) == (ssize_t)n && write(fd, "\n", 1) == 1 ? 0 : -1;
    return close(fd) == 0 ? rc : -1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: netpulse-keygen DIR NAME  (writes DIR/NAME.key and DIR/NAME.pub)\n");
        return 2;
    }
    if (!zmq_has("curve")) {
        fprintf(stderr, "netpulse-keygen: this libzmq has no CURVE support\n");
        return 1;
    }
    char pub[41], sec[41], path[4096];
    if (zmq_curve_keypair(pub, sec) != 0) {
        fprintf(stderr, "netpulse-keygen: zmq_curve_keypair failed\n");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/%s.key", argv[1], argv[2]);
    if (write_file(path, sec, 0600) < 0) {
        fprintf(stderr, "netpulse-keygen: cannot create %s (exists already?)\n", path);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/%s.pub", argv[1], argv[2]);
    if (write_file(path, pub, 0644) < 0) {
        fprintf(stderr, "netpulse-keygen: cannot create %s\n", path);
        return 1;
    }
    return 0;
}
