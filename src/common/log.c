/* log.c: the monitor's log lines (see log.h). */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int g_level = ALC_LOG_WARN;
static int g_fd = 2;
static int g_json;

void log_set_level(int level)
{
    g_level = level;
}

int log_get_level(void)
{
    return g_level;
}

void log_set_fd(int fd)
{
    g_fd = fd;
}

int log_get_fd(void)
{
    return g_fd;
}

void log_set_json(int on)
{
    g_json = on;
}

/* One JSON object per line, as runc-style log readers (containerd) parse a runtime's log. */
static size_t json_line(char *out, size_t size, int level, const char *msg)
{
    static const char *const names[] = {"error", "warning", "info", "debug", "trace"};
    size_t n = (size_t)snprintf(out, size, "{\"level\":\"%s\",\"msg\":\"alcove: ",
                                names[level >= 0 && level < 5 ? level : 4]);
    for (const unsigned char *p = (const unsigned char *)msg; *p && n + 8 < size; p++) {
        if (*p == '"' || *p == '\\') {
            out[n++] = '\\';
            out[n++] = (char)*p;
        } else if (*p < 0x20) {
            n += (size_t)snprintf(out + n, size - n, "\\u%04x", *p);
        } else {
            out[n++] = (char)*p;
        }
    }
    n += (size_t)snprintf(out + n, size - n, "\"}\n");
    return n < size ? n : size - 1;
}

void alc_log(int level, const char *fmt, ...)
{
    if (level > g_level)
        return;
    char line[1024];
    if (g_json) {
        char msg[1024];
        va_list aq;
        va_start(aq, fmt);
        vsnprintf(msg, sizeof(msg), fmt, aq);
        va_end(aq);
        char out[2600];
        ssize_t w = write(g_fd, out, json_line(out, sizeof(out), level, msg));
        (void)w;
        return;
    }
    int n = snprintf(line, sizeof(line), "alcove: ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    ssize_t w = write(g_fd, line, len);
    (void)w;
}

int log_level_parse(const char *name)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    for (int i = 0; i < 5; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}
