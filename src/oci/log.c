/* log.c: alcove-oci's log lines (see log.h). */
#include "oci/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/errors.h"

static int g_fd = -1;
static int g_json;
static int g_debug;

int oci_log_open(const char *path, int json)
{
    g_json = json;
    if (!path || !*path)
        return 0;
    g_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (g_fd < 0) {
        int e = errno;
        alc_err_report(E_FILE_OPERATION, "--log %s: %s", path, strerror(e));
        return -1;
    }
    return 0;
}

int oci_log_fd(void)
{
    return g_fd >= 0 ? g_fd : 2;
}

int oci_log_is_json(void)
{
    return g_json;
}

void oci_log_set_debug(int on)
{
    g_debug = on;
}

static void emit(int fd, const char *level, const char *msg)
{
    char when[40];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof(when) - n, ".%09ldZ", ts.tv_nsec);
    char *line = NULL;
    if (g_json && fd != 2) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "level", level);
        cJSON_AddStringToObject(o, "msg", msg);
        cJSON_AddStringToObject(o, "time", when);
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (s && asprintf(&line, "%s\n", s) < 0)
            line = NULL;
        cJSON_free(s);
    } else if (fd != 2) {
        cJSON *m = cJSON_CreateString(msg); /* quoted as logrus quotes it */
        char *q = m ? cJSON_PrintUnformatted(m) : NULL;
        cJSON_Delete(m);
        if (q && asprintf(&line, "time=\"%s\" level=%s msg=%s\n", when, level, q) < 0)
            line = NULL;
        cJSON_free(q);
    } else if (asprintf(&line, "alcove-oci: %s\n", msg) < 0) {
        line = NULL;
    }
    if (line) {
        ssize_t w = write(fd, line, strlen(line));
        (void)w;
        free(line);
    }
}

static void vlog(const char *level, int also_stderr, const char *prefix, const char *fmt,
                 va_list ap)
{
    char msg[2048];
    int n = snprintf(msg, sizeof(msg), "%s", prefix);
    if (n < 0 || (size_t)n >= sizeof(msg))
        n = 0;
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    emit(oci_log_fd(), level, msg);
    if (also_stderr && g_fd >= 0)
        emit(2, level, msg);
}

void oci_err(int code, const char *fmt, ...)
{
    char prefix[256];
    const char *desc = alc_err_description(code);
    snprintf(prefix, sizeof(prefix), "[ E%02d ] %s: ", code, desc ? desc : "Error");
    va_list ap;
    va_start(ap, fmt);
    vlog("error", 1, prefix, fmt, ap);
    va_end(ap);
}

void oci_info(const char *fmt, ...)
{
    /* without --log, stderr is the container's own (podman passes no --log): info lines
     * would land in its output, so they go only with --debug */
    if (g_fd < 0 && !g_debug)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog("info", 0, "", fmt, ap);
    va_end(ap);
}

void oci_debug(const char *fmt, ...)
{
    if (!g_debug)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog("debug", 0, "", fmt, ap);
    va_end(ap);
}
