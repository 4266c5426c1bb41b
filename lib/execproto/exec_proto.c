/* exec_proto.c: frames and requests of the exec service (exec_proto.h). */
#include "execproto/exec_proto.h"

#include <stdio.h>
#include <string.h>

static int type_ok(uint8_t t, enum exec_dir dir)
{
    if (dir == EXEC_TO_ENCLAVE)
        return t == EXEC_F_REQUEST || t == EXEC_F_STDIN || t == EXEC_F_SIGNAL ||
               t == EXEC_F_WINSIZE || t == EXEC_F_PING;
    return t == EXEC_F_STDOUT || t == EXEC_F_STDERR || t == EXEC_F_EXIT || t == EXEC_F_FAIL ||
           t == EXEC_F_PING || t == EXEC_F_STARTED;
}

long exec_frame_next(const uint8_t *buf, size_t len, enum exec_dir dir, struct exec_frame *f)
{
    if (len < 1)
        return 0;
    if (!type_ok(buf[0], dir))
        return -1;
    if (len < EXEC_FRAME_HDR)
        return 0;
    uint32_t n =
        (uint32_t)buf[1] | (uint32_t)buf[2] << 8 | (uint32_t)buf[3] << 16 | (uint32_t)buf[4] << 24;
    if (n > EXEC_FRAME_MAX)
        return -1;
    if ((buf[0] == EXEC_F_SIGNAL && n != 1) || (buf[0] == EXEC_F_EXIT && n != 2) ||
        (buf[0] == EXEC_F_WINSIZE && n != EXEC_WINSIZE_LEN) ||
        (buf[0] == EXEC_F_FAIL && (n < 1 || n > 1 + EXEC_FAIL_TEXT)) ||
        ((buf[0] == EXEC_F_PING || buf[0] == EXEC_F_STARTED) && n != 0) ||
        (buf[0] == EXEC_F_REQUEST && n == 0))
        return -1;
    if (len - EXEC_FRAME_HDR < n)
        return 0;
    f->type = buf[0];
    f->len = n;
    f->payload = buf + EXEC_FRAME_HDR;
    return (long)(EXEC_FRAME_HDR + n);
}

void exec_frame_header(uint8_t hdr[EXEC_FRAME_HDR], uint8_t type, uint32_t len)
{
    hdr[0] = type;
    hdr[1] = (uint8_t)len;
    hdr[2] = (uint8_t)(len >> 8);
    hdr[3] = (uint8_t)(len >> 16);
    hdr[4] = (uint8_t)(len >> 24);
}

int exec_env_name_ok(const char *name, size_t n)
{
    if (n == 0 || !((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z') ||
                    name[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

/* "ROWS COLS": two decimal numbers up to 65535, one space between, nothing else */
static int parse_size(const char *s, struct exec_winsize *ws)
{
    unsigned long v[2];
    for (int k = 0; k < 2; k++) {
        if (*s < '0' || *s > '9')
            return -1;
        v[k] = 0;
        for (int digits = 0; *s >= '0' && *s <= '9'; s++) {
            if (++digits > 5)
                return -1;
            v[k] = v[k] * 10 + (unsigned long)(*s - '0');
        }
        if (v[k] > 65535 || *s != (k == 0 ? ' ' : 0))
            return -1;
        s++;
    }
    ws->rows = (uint16_t)v[0];
    ws->cols = (uint16_t)v[1];
    return 0;
}

int exec_request_parse(char *payload, size_t len, struct exec_request *r, const char **why)
{
    memset(r, 0, sizeof(*r));
    if (len == 0 || payload[len - 1] != 0) {
        *why = "the request does not end with a NUL";
        return -1;
    }
    for (size_t pos = 0; pos < len;) {
        char *item = payload + pos;
        size_t n = strlen(item); /* stops at the NUL the check above guarantees */
        pos += n + 1;
        if (n == 0) {
            *why = "an empty item";
            return -1;
        }
        char *text = item + 1;
        switch (item[0]) {
        case 'A':
            if (r->argc == EXEC_MAX_ARGS) {
                *why = "too many arguments";
                return -1;
            }
            r->argv[r->argc++] = text;
            break;
        case 'E': {
            char *eq = strchr(text, '=');
            if (!eq || !exec_env_name_ok(text, (size_t)(eq - text))) {
                *why = "a variable that is not NAME=VALUE";
                return -1;
            }
            if (r->envc == EXEC_MAX_ENV) {
                *why = "too many variables";
                return -1;
            }
            r->envp[r->envc++] = text;
            break;
        }
        case 'W':
            if (r->cwd || text[0] != '/') {
                *why = "a second or relative working directory";
                return -1;
            }
            r->cwd = text;
            break;
        case 'T':
            if (r->tty || parse_size(text, &r->ws)) {
                *why = "a second terminal, or a size that is not ROWS COLS";
                return -1;
            }
            r->tty = 1;
            break;
        default:
            *why = "an unknown item";
            return -1;
        }
    }
    if (r->argc == 0 || r->argv[0][0] != '/') {
        *why = "no program, or one that is not an absolute path";
        return -1;
    }
    r->argv[r->argc] = NULL;
    r->envp[r->envc] = NULL;
    return 0;
}

static size_t put_item(uint8_t *buf, size_t cap, size_t used, char tag, const char *s)
{
    size_t n = strlen(s);
    if (used > cap || n + 2 > cap - used)
        return 0;
    buf[used] = (uint8_t)tag;
    memcpy(buf + used + 1, s, n + 1);
    return used + n + 2;
}

size_t exec_request_encode(uint8_t *buf, size_t cap, char *const *argv, int argc, char *const *envp,
                           int envc, const char *cwd, const struct exec_winsize *tty)
{
    if (argc < 1 || argc > EXEC_MAX_ARGS || envc < 0 || envc > EXEC_MAX_ENV)
        return 0;
    size_t used = 0;
    for (int i = 0; i < argc; i++)
        if (!(used = put_item(buf, cap, used, 'A', argv[i])))
            return 0;
    for (int i = 0; i < envc; i++)
        if (!(used = put_item(buf, cap, used, 'E', envp[i])))
            return 0;
    if (cwd && !(used = put_item(buf, cap, used, 'W', cwd)))
        return 0;
    if (tty) {
        char size[16];
        snprintf(size, sizeof(size), "%u %u", (unsigned)tty->rows, (unsigned)tty->cols);
        if (!(used = put_item(buf, cap, used, 'T', size)))
            return 0;
    }
    return used;
}

void exec_winsize_encode(uint8_t out[EXEC_WINSIZE_LEN], const struct exec_winsize *ws)
{
    out[0] = (uint8_t)ws->rows;
    out[1] = (uint8_t)(ws->rows >> 8);
    out[2] = (uint8_t)ws->cols;
    out[3] = (uint8_t)(ws->cols >> 8);
}

void exec_winsize_decode(const uint8_t in[EXEC_WINSIZE_LEN], struct exec_winsize *ws)
{
    ws->rows = (uint16_t)(in[0] | in[1] << 8);
    ws->cols = (uint16_t)(in[2] | in[3] << 8);
}
