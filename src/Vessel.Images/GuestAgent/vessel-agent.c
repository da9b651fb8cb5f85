/*
 * vessel-agent: the Vessel guest agent. The guest kit's /init starts it (respawned by busybox init) when the VM
 * has a virtio-console port, /dev/hvc0. The host (the VM's worker process) sends requests over that port; the
 * agent answers one request at a time. Static, no dependencies beyond libc.
 *
 * Protocol version 1. Every message, either way, is one frame; integers are little-endian:
 *
 *   offset size  field
 *    0      3    magic "VAG"
 *    3      1    protocol version (1)
 *    4      1    type
 *    5      3    zero
 *    8      4    request id (u32), chosen by the host and echoed in the reply
 *   12      4    payload length (u32), at most 4 MiB
 *   16      4    CRC-32 (IEEE 802.3, as in zlib) of the payload
 *   20      4    CRC-32 of bytes 0..19 (the header check: a garbage header is refused at once, so the agent never
 *                waits for a bogus payload length)
 *   24      ..   payload
 *
 * Types and payloads:
 *   1 PING        host->guest   empty
 *   2 PONG        guest->host   UTF-8 "vessel-agent 1 <kernel release>"
 *   3 EXEC        host->guest   u32 timeout in ms (0: none), u32 argc (1..256), argc x (u32 length, bytes),
 *                               u32 stdin length (at most 1 MiB), stdin bytes
 *   4 EXEC_RESULT guest->host   u32 flags (1 stdout truncated, 2 stderr truncated, 4 timed out, 8 killed by a
 *                               signal), i32 exit status or signal number, u32 length + stdout, u32 length + stderr
 *   5 ERROR       guest->host   UTF-8 message (bad frame, unknown type, malformed request, cannot fork)
 *
 * Robustness: bytes that do not start a valid frame are skipped one at a time until a valid header is found (so
 * the agent resynchronises after garbage); a bad header, length, version or payload checksum is answered with an
 * ERROR. Output beyond 1 MiB per stream is drained and dropped with the truncated flag set, so a command that
 * writes without end cannot exhaust memory; a timed-out command's whole process group is killed.
 *
 * Usage: vessel-agent [DEVICE]   (default /dev/hvc0; "-" talks over stdin/stdout, for tests)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PROTOCOL_VERSION 1
#define HEADER_SIZE 24
#define MAX_PAYLOAD (4u << 20)
#define MAX_STDIN (1u << 20)
#define MAX_OUTPUT (1u << 20)
#define MAX_ARGS 256

enum { T_PING = 1, T_PONG = 2, T_EXEC = 3, T_EXEC_RESULT = 4, T_ERROR = 5 };
enum { F_STDOUT_TRUNCATED = 1, F_STDERR_TRUNCATED = 2, F_TIMED_OUT = 4, F_SIGNALED = 8 };

static int in_fd, out_fd;
static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--)
        c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = v;
    p[1] = v >> 8;
    p[2] = v >> 16;
    p[3] = v >> 24;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void send_frame(uint8_t type, uint32_t id, const uint8_t *payload, uint32_t length)
{
    uint8_t h[HEADER_SIZE] = { 'V', 'A', 'G', PROTOCOL_VERSION, type };
    put32(h + 8, id);
    put32(h + 12, length);
    put32(h + 16, crc32(payload, length));
    put32(h + 20, crc32(h, 20));
    if (write_all(out_fd, h, HEADER_SIZE) < 0 || write_all(out_fd, payload, length) < 0) {
        perror("vessel-agent: write");
        exit(1);
    }
}

static void send_error(uint32_t id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void send_error(uint32_t id, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if (n >= (int)sizeof message)
        n = sizeof message - 1;
    send_frame(T_ERROR, id, (const uint8_t *)message, (uint32_t)n);
}

static void handle_ping(uint32_t id)
{
    struct utsname u;
    char text[256];
    if (uname(&u) != 0)
        strcpy(u.release, "unknown");
    int n = snprintf(text, sizeof text, "vessel-agent %d %s", PROTOCOL_VERSION, u.release);
    send_frame(T_PONG, id, (const uint8_t *)text, (uint32_t)(n < (int)sizeof text ? n : (int)sizeof text - 1));
}

/* Output of one stream: the first MAX_OUTPUT bytes are kept, the rest counted as truncated. */
struct capture {
    uint8_t *data;
    uint32_t length;
    int truncated;
};

static void capture_read(int *fd, struct capture *c)
{
    uint8_t buffer[16384];
    ssize_t n = read(*fd, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close(*fd);
        *fd = -1;
        return;
    }
    uint32_t room = MAX_OUTPUT - c->length;
    uint32_t keep = (uint32_t)n < room ? (uint32_t)n : room;
    memcpy(c->data + c->length, buffer, keep);
    c->length += keep;
    if (keep < (uint32_t)n)
        c->truncated = 1;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void handle_exec(uint32_t id, const uint8_t *p, uint32_t length)
{
    const uint8_t *end = p + length;
    char *argv[MAX_ARGS + 1];
    if (length < 8) {
        send_error(id, "exec: request too short");
        return;
    }
    uint32_t timeout_ms = get32(p), argc = get32(p + 4);
    p += 8;
    if (argc < 1 || argc > MAX_ARGS) {
        send_error(id, "exec: argc %u is not between 1 and %d", argc, MAX_ARGS);
        return;
    }
    /* Copy each argument out (they must be NUL-terminated); one allocation for all of them. */
    char *strings = malloc(length + argc);
    if (strings == NULL) {
        send_error(id, "exec: out of memory");
        return;
    }
    char *s = strings;
    for (uint32_t i = 0; i < argc; i++) {
        if (end - p < 4 || (uint32_t)(end - p - 4) < get32(p)) {
            send_error(id, "exec: argument %u runs past the end of the request", i);
            free(strings);
            return;
        }
        uint32_t n = get32(p);
        if (memchr(p + 4, 0, n) != NULL) {
            send_error(id, "exec: argument %u contains a NUL byte", i);
            free(strings);
            return;
        }
        memcpy(s, p + 4, n);
        s[n] = 0;
        argv[i] = s;
        s += n + 1;
        p += 4 + n;
    }
    argv[argc] = NULL;
    if (end - p < 4 || (uint32_t)(end - p - 4) != get32(p) || get32(p) > MAX_STDIN) {
        send_error(id, "exec: stdin length does not match the request (or is over %u bytes)", MAX_STDIN);
        free(strings);
        return;
    }
    const uint8_t *input = p + 4;
    uint32_t input_length = get32(p), input_done = 0;

    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
        send_error(id, "exec: pipe: %s", strerror(errno));
        free(strings);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        send_error(id, "exec: fork: %s", strerror(errno));
        free(strings);
        close(in_pipe[0]), close(in_pipe[1]), close(out_pipe[0]), close(out_pipe[1]), close(err_pipe[0]), close(err_pipe[1]);
        return;
    }
    if (pid == 0) {
        /* Own session and process group, so a timeout kills everything the command started. */
        setsid();
        signal(SIGPIPE, SIG_DFL);
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        if (chdir("/root") != 0 && chdir("/") != 0)
            _exit(126);
        execvp(argv[0], argv);
        int e = errno;
        dprintf(2, "vessel-agent: %s: %s\n", argv[0], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
    int in_w = in_pipe[1], out_r = out_pipe[0], err_r = err_pipe[0];
    if (input_length == 0) {
        close(in_w);
        in_w = -1;
    }

    struct capture out = { malloc(MAX_OUTPUT), 0, 0 }, err = { malloc(MAX_OUTPUT), 0, 0 };
    uint32_t flags = 0;
    int status = 0;
    int exited = 0;
    int64_t deadline = timeout_ms ? now_ms() + timeout_ms : 0;
    if (out.data == NULL || err.data == NULL) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        send_error(id, "exec: out of memory");
        goto done;
    }
    /* Until the command has exited and both outputs are at end of file (a background child holding them open is
       cut off once the command itself has exited and the pipes are quiet). */
    for (;;) {
        if (!exited && waitpid(pid, &status, WNOHANG) == pid)
            exited = 1;
        if (out_r < 0 && err_r < 0 && exited)
            break;
        struct pollfd fds[3];
        int n = 0;
        if (in_w >= 0)
            fds[n++] = (struct pollfd){ in_w, POLLOUT, 0 };
        if (out_r >= 0)
            fds[n++] = (struct pollfd){ out_r, POLLIN, 0 };
        if (err_r >= 0)
            fds[n++] = (struct pollfd){ err_r, POLLIN, 0 };
        int wait_ms = exited ? 200 : 50;
        if (deadline) {
            int64_t left = deadline - now_ms();
            if (left <= 0) {
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                flags |= F_TIMED_OUT;
                deadline = 0;
                continue;
            }
            if (left < wait_ms)
                wait_ms = (int)left;
        }
        int ready = n ? poll(fds, n, wait_ms) : (usleep(wait_ms * 1000), 0);
        if (ready < 0 && errno != EINTR)
            break;
        if (ready == 0 && exited)
            break; /* the command is gone and nothing more arrives: stop waiting for grandchildren */
        for (int i = 0; i < n && ready > 0; i++) {
            if (!fds[i].revents)
                continue;
            if (fds[i].fd == in_w) {
                ssize_t w = write(in_w, input + input_done, input_length - input_done);
                if (w > 0)
                    input_done += (uint32_t)w;
                if ((w < 0 && errno != EAGAIN && errno != EINTR) || input_done == input_length || (fds[i].revents & (POLLERR | POLLHUP))) {
                    close(in_w);
                    in_w = -1;
                }
            } else if (fds[i].fd == out_r) {
                capture_read(&out_r, &out);
            } else if (fds[i].fd == err_r) {
                capture_read(&err_r, &err);
            }
        }
    }
    if (!exited)
        waitpid(pid, &status, 0);
    if (out.truncated)
        flags |= F_STDOUT_TRUNCATED;
    if (err.truncated)
        flags |= F_STDERR_TRUNCATED;
    int32_t code;
    if (WIFSIGNALED(status)) {
        flags |= F_SIGNALED;
        code = WTERMSIG(status);
    } else {
        code = WEXITSTATUS(status);
    }
    {
        uint32_t total = 16 + out.length + err.length;
        uint8_t *reply = malloc(total);
        if (reply == NULL) {
            send_error(id, "exec: out of memory for the reply");
            goto done;
        }
        put32(reply, flags);
        put32(reply + 4, (uint32_t)code);
        put32(reply + 8, out.length);
        memcpy(reply + 12, out.data, out.length);
        put32(reply + 12 + out.length, err.length);
        memcpy(reply + 16 + out.length, err.data, err.length);
        send_frame(T_EXEC_RESULT, id, reply, total);
        free(reply);
    }
done:
    if (in_w >= 0)
        close(in_w);
    if (out_r >= 0)
        close(out_r);
    if (err_r >= 0)
        close(err_r);
    free(out.data);
    free(err.data);
    free(strings);
}

/* Handles the frame at the start of buf if there is a whole one; returns the bytes consumed (0: need more). */
static size_t take_frame(const uint8_t *buf, size_t have)
{
    /* Resynchronise: a frame starts with "VAG"; anything else is dropped a byte at a time. */
    if (have >= 1 && buf[0] != 'V')
        return 1;
    if (have >= 2 && buf[1] != 'A')
        return 1;
    if (have >= 3 && buf[2] != 'G')
        return 1;
    if (have < HEADER_SIZE)
        return 0;
    if (get32(buf + 20) != crc32(buf, 20))
        return 1; /* not a header after all (garbage that starts with "VAG") */
    uint32_t id = get32(buf + 8), length = get32(buf + 12);
    if (buf[3] != PROTOCOL_VERSION) {
        send_error(id, "unsupported protocol version %u (this agent speaks %d)", buf[3], PROTOCOL_VERSION);
        return HEADER_SIZE;
    }
    if (length > MAX_PAYLOAD) {
        send_error(id, "payload of %u bytes is over the %u-byte limit", length, MAX_PAYLOAD);
        return 1;
    }
    if (have < HEADER_SIZE + length)
        return 0;
    const uint8_t *payload = buf + HEADER_SIZE;
    if (crc32(payload, length) != get32(buf + 16)) {
        send_error(id, "payload checksum mismatch");
        return 1;
    }
    switch (buf[4]) {
    case T_PING:
        handle_ping(id);
        break;
    case T_EXEC:
        handle_exec(id, payload, length);
        break;
    default:
        send_error(id, "unknown message type %u", buf[4]);
        break;
    }
    return HEADER_SIZE + length;
}

int main(int argc, char **argv)
{
    const char *device = argc > 1 ? argv[1] : "/dev/hvc0";
    crc_init();
    signal(SIGPIPE, SIG_IGN);
    if (strcmp(device, "-") == 0) {
        in_fd = 0;
        out_fd = 1;
    } else {
        int fd = open(device, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "vessel-agent: %s: %s\n", device, strerror(errno));
            sleep(5); /* respawned by init: do not spin */
            return 1;
        }
        /* A tty would echo, translate CR/LF and act on ^C; the protocol needs every byte as sent. */
        struct termios t;
        if (tcgetattr(fd, &t) == 0) {
            cfmakeraw(&t);
            tcsetattr(fd, TCSANOW, &t);
            tcflush(fd, TCIFLUSH);
        }
        in_fd = out_fd = fd;
    }

    size_t capacity = HEADER_SIZE + MAX_PAYLOAD, have = 0;
    uint8_t *buf = malloc(capacity);
    if (buf == NULL) {
        fprintf(stderr, "vessel-agent: out of memory\n");
        return 1;
    }
    for (;;) {
        ssize_t n = read(in_fd, buf + have, capacity - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? 1 : 0;
        have += (size_t)n;
        size_t used = 0, step;
        while (used < have && (step = take_frame(buf + used, have - used)) > 0)
            used += step;
        memmove(buf, buf + used, have - used);
        have -= used;
    }
}
