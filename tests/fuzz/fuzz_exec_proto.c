/* fuzz_exec_proto.c: the exec service's parsers on arbitrary bytes (lib/execproto/): the input
 * is read as a stream of frames in both directions (every frame found lies inside the input and
 * has a valid type and length), each REQUEST payload is parsed (every string it gives lies inside
 * the payload, the program is absolute, variables are NAME=..., a terminal's size encodes and
 * parses back the same), and the whole input as a rules
 * file (every entry point is a clean absolute path; the checks never read outside). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "execproto/exec_proto.h"
#include "execproto/exec_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const char *s, const char *lo, const char *hi)
{
    if (s < lo || s + strlen(s) >= hi)
        abort();
}

static void request(const uint8_t *p, size_t n)
{
    static struct exec_request r;
    char *copy = malloc(n ? n : 1);
    memcpy(copy, p, n);
    const char *why = NULL;
    if (exec_request_parse(copy, n, &r, &why) == 0) {
        if (r.argc < 1 || r.argc > EXEC_MAX_ARGS || r.argv[0][0] != '/' || r.argv[r.argc] ||
            r.envc > EXEC_MAX_ENV || r.envp[r.envc])
            abort();
        for (int i = 0; i < r.argc; i++)
            inside(r.argv[i], copy, copy + n);
        for (int i = 0; i < r.envc; i++) {
            inside(r.envp[i], copy, copy + n);
            const char *eq = strchr(r.envp[i], '=');
            if (!eq || !exec_env_name_ok(r.envp[i], (size_t)(eq - r.envp[i])))
                abort();
        }
        if (r.cwd)
            inside(r.cwd, copy, copy + n);
        /* what parses encodes again, in no more bytes */
        uint8_t *again = malloc(n + 1);
        size_t m = exec_request_encode(again, n + 1, r.argv, r.argc, r.envp, r.envc, r.cwd,
                                       r.tty ? &r.ws : NULL);
        if (!m)
            abort();
        /* and parses to the same terminal */
        static struct exec_request r2;
        const char *why2 = NULL;
        if (exec_request_parse((char *)again, m, &r2, &why2) || r2.tty != r.tty ||
            (r.tty && (r2.ws.rows != r.ws.rows || r2.ws.cols != r.ws.cols)))
            abort();
        free(again);
    } else if (!why) {
        abort();
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int d = 0; d < 2; d++) {
        size_t pos = 0;
        struct exec_frame f;
        long used;
        while ((used = exec_frame_next(data + pos, size - pos, (enum exec_dir)d, &f)) > 0) {
            if ((size_t)used > size - pos || f.len > EXEC_FRAME_MAX ||
                f.payload != data + pos + EXEC_FRAME_HDR || (size_t)used != EXEC_FRAME_HDR + f.len)
                abort();
            if (f.type == EXEC_F_REQUEST)
                request(f.payload, f.len);
            if (f.type == EXEC_F_WINSIZE && f.len != EXEC_WINSIZE_LEN)
                abort();
            pos += (size_t)used;
        }
    }
    request(data, size);
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    static struct exec_rules r;
    size_t line;
    if (exec_rules_parse(text, size, &r, &line) == 0) {
        for (size_t i = 0; i < r.nentry; i++)
            if (!exec_path_ok(r.entry[i]) || !exec_rules_entry_allowed(&r, r.entry[i]))
                abort();
        for (size_t i = 0; i < r.nuntrusted; i++)
            if (!exec_rules_env_allowed(&r, r.untrusted[i], strlen(r.untrusted[i])))
                abort();
        /* the defaults alone make an environment of NAME=VALUE entries, each name once */
        static const char *env[EXEC_RULES_MAX + 1];
        size_t n = exec_env_compose(&r, NULL, NULL, 0, env);
        if (n > r.ndefault || env[n])
            abort();
        for (size_t i = 0; i < n; i++) {
            size_t len = strcspn(env[i], "=");
            if (env[i][len] != '=' || !exec_env_name_ok(env[i], len))
                abort();
            for (size_t j = 0; j < i; j++)
                if (strncmp(env[j], env[i], len + 1) == 0)
                    abort();
        }
    }
    free(text);
    return 0;
}
