/* test_exec_proto.c: the exec service's frames, requests and rules (lib/execproto/), as the
 * service in the enclave and alcove exec on the host read them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "execproto/exec_proto.h"
#include "execproto/exec_rules.h"

static long next(const void *b, size_t n, enum exec_dir d, struct exec_frame *f)
{
    return exec_frame_next(b, n, d, f);
}

static void test_frames(void **state)
{
    (void)state;
    struct exec_frame f;
    uint8_t buf[16];
    exec_frame_header(buf, EXEC_F_STDIN, 3);
    memcpy(buf + 5, "abc", 3);
    /* whole, then every cut short of it needs more */
    assert_int_equal(next(buf, 8, EXEC_TO_ENCLAVE, &f), 8);
    assert_int_equal(f.type, EXEC_F_STDIN);
    assert_int_equal(f.len, 3);
    assert_memory_equal(f.payload, "abc", 3);
    for (size_t n = 0; n < 8; n++)
        assert_int_equal(next(buf, n, EXEC_TO_ENCLAVE, &f), 0);
    /* a type of the other direction, or none, is refused at once */
    assert_int_equal(next(buf, 8, EXEC_TO_HOST, &f), -1);
    buf[0] = 'Z';
    assert_int_equal(next(buf, 1, EXEC_TO_ENCLAVE, &f), -1);
    /* lengths: over the maximum, and the fixed sizes of SIGNAL, EXIT, PING, FAIL, REQUEST */
    exec_frame_header(buf, EXEC_F_STDOUT, EXEC_FRAME_MAX + 1);
    assert_int_equal(next(buf, 5, EXEC_TO_HOST, &f), -1);
    exec_frame_header(buf, EXEC_F_STDOUT, EXEC_FRAME_MAX);
    assert_int_equal(next(buf, 5, EXEC_TO_HOST, &f), 0);
    exec_frame_header(buf, 0xff, 0); /* a header with 0xff everywhere: no frame */
    memset(buf + 1, 0xff, 4);
    buf[0] = EXEC_F_STDIN;
    assert_int_equal(next(buf, 5, EXEC_TO_ENCLAVE, &f), -1);
    exec_frame_header(buf, EXEC_F_SIGNAL, 2);
    assert_int_equal(next(buf, 7, EXEC_TO_ENCLAVE, &f), -1);
    exec_frame_header(buf, EXEC_F_SIGNAL, 1);
    buf[5] = 15;
    assert_int_equal(next(buf, 6, EXEC_TO_ENCLAVE, &f), 6);
    exec_frame_header(buf, EXEC_F_EXIT, 1);
    assert_int_equal(next(buf, 6, EXEC_TO_HOST, &f), -1);
    exec_frame_header(buf, EXEC_F_EXIT, 2);
    assert_int_equal(next(buf, 7, EXEC_TO_HOST, &f), 7);
    exec_frame_header(buf, EXEC_F_PING, 1);
    assert_int_equal(next(buf, 6, EXEC_TO_ENCLAVE, &f), -1);
    exec_frame_header(buf, EXEC_F_PING, 0);
    assert_int_equal(next(buf, 5, EXEC_TO_ENCLAVE, &f), 5);
    assert_int_equal(next(buf, 5, EXEC_TO_HOST, &f), 5);
    exec_frame_header(buf, EXEC_F_FAIL, 0);
    assert_int_equal(next(buf, 5, EXEC_TO_HOST, &f), -1);
    exec_frame_header(buf, EXEC_F_FAIL, 2 + EXEC_FAIL_TEXT);
    assert_int_equal(next(buf, 5, EXEC_TO_HOST, &f), -1);
    exec_frame_header(buf, EXEC_F_REQUEST, 0);
    assert_int_equal(next(buf, 5, EXEC_TO_ENCLAVE, &f), -1);
    /* STARTED: empty, from the enclave only */
    exec_frame_header(buf, EXEC_F_STARTED, 0);
    assert_int_equal(next(buf, 5, EXEC_TO_HOST, &f), 5);
    assert_int_equal(next(buf, 5, EXEC_TO_ENCLAVE, &f), -1);
    exec_frame_header(buf, EXEC_F_STARTED, 1);
    assert_int_equal(next(buf, 6, EXEC_TO_HOST, &f), -1);
    /* an empty STDIN is end of file */
    exec_frame_header(buf, EXEC_F_STDIN, 0);
    assert_int_equal(next(buf, 5, EXEC_TO_ENCLAVE, &f), 5);
    assert_int_equal(f.len, 0);
    /* WINSIZE: four bytes, from the host only; rows and columns round-trip */
    exec_frame_header(buf, EXEC_F_WINSIZE, 4);
    exec_winsize_encode(buf + 5, &(struct exec_winsize){40, 65535});
    assert_memory_equal(buf + 5, "\x28\x00\xff\xff", 4);
    assert_int_equal(next(buf, 9, EXEC_TO_ENCLAVE, &f), 9);
    assert_int_equal(f.type, EXEC_F_WINSIZE);
    struct exec_winsize ws;
    exec_winsize_decode(f.payload, &ws);
    assert_int_equal(ws.rows, 40);
    assert_int_equal(ws.cols, 65535);
    assert_int_equal(next(buf, 9, EXEC_TO_HOST, &f), -1);
    exec_frame_header(buf, EXEC_F_WINSIZE, 3);
    assert_int_equal(next(buf, 8, EXEC_TO_ENCLAVE, &f), -1);
    exec_frame_header(buf, EXEC_F_WINSIZE, 5);
    assert_int_equal(next(buf, 10, EXEC_TO_ENCLAVE, &f), -1);
}

/* Parses a request given as bytes; returns why on failure, NULL on success. */
static const char *parse(const char *bytes, size_t n, struct exec_request *r)
{
    static char copy[4096];
    memcpy(copy, bytes, n);
    const char *why = NULL;
    return exec_request_parse(copy, n, r, &why) ? why : NULL;
}

#define PARSE(s, r) parse(s, sizeof(s) - 1, r)

static void test_request(void **state)
{
    (void)state;
    struct exec_request r;
    assert_null(PARSE("A/bin/sh\0A-c\0Aecho hi\0EFOO=1\0E_x=\0W/tmp\0", &r));
    assert_int_equal(r.argc, 3);
    assert_string_equal(r.argv[0], "/bin/sh");
    assert_string_equal(r.argv[2], "echo hi");
    assert_null(r.argv[3]);
    assert_int_equal(r.envc, 2);
    assert_string_equal(r.envp[1], "_x=");
    assert_null(r.envp[2]);
    assert_string_equal(r.cwd, "/tmp");
    /* an argument may be empty (the tag alone) */
    assert_null(PARSE("A/bin/echo\0A\0", &r));
    assert_int_equal(r.argc, 2);
    assert_string_equal(r.argv[1], "");
    /* refused */
    assert_non_null(PARSE("A/bin/sh", &r));             /* no final NUL */
    assert_non_null(PARSE("A/bin/sh\0\0", &r));         /* an empty item */
    assert_non_null(PARSE("Abin/sh\0", &r));            /* a relative program */
    assert_non_null(PARSE("EFOO=1\0", &r));             /* no program */
    assert_non_null(PARSE("A/bin/sh\0EFOO\0", &r));     /* no '=' */
    assert_non_null(PARSE("A/bin/sh\0E1X=2\0", &r));    /* a name starting with a digit */
    assert_non_null(PARSE("A/bin/sh\0EA-B=2\0", &r));   /* a name with '-' */
    assert_non_null(PARSE("A/bin/sh\0E=2\0", &r));      /* an empty name */
    assert_non_null(PARSE("A/bin/sh\0Wtmp\0", &r));     /* a relative directory */
    assert_non_null(PARSE("A/bin/sh\0W/a\0W/b\0", &r)); /* two */
    assert_non_null(PARSE("A/bin/sh\0Q\0", &r));        /* an unknown tag */
    assert_non_null(parse("", 0, &r));
    /* a terminal: "ROWS COLS", at most once */
    assert_null(PARSE("A/bin/sh\0W/tmp\0", &r));
    assert_int_equal(r.tty, 0);
    assert_null(PARSE("A/bin/sh\0T24 80\0", &r));
    assert_int_equal(r.tty, 1);
    assert_int_equal(r.ws.rows, 24);
    assert_int_equal(r.ws.cols, 80);
    assert_null(PARSE("A/bin/sh\0T0 65535\0", &r));
    assert_int_equal(r.ws.rows, 0);
    assert_int_equal(r.ws.cols, 65535);
    assert_non_null(PARSE("A/bin/sh\0T24 80\0T24 80\0", &r)); /* two */
    assert_non_null(PARSE("A/bin/sh\0T65536 80\0", &r));      /* over 16 bits */
    assert_non_null(PARSE("A/bin/sh\0T000024 80\0", &r));     /* six digits */
    assert_non_null(PARSE("A/bin/sh\0T24  80\0", &r));        /* two spaces */
    assert_non_null(PARSE("A/bin/sh\0T24 80 \0", &r));        /* more after */
    assert_non_null(PARSE("A/bin/sh\0T24\0", &r));            /* one number */
    assert_non_null(PARSE("A/bin/sh\0T-1 80\0", &r));         /* a sign */
    assert_non_null(PARSE("A/bin/sh\0T\0", &r));              /* empty */
}

static void test_request_limits(void **state)
{
    (void)state;
    static uint8_t buf[EXEC_FRAME_MAX];
    static char *argv[EXEC_MAX_ARGS + 1];
    static char a0[] = "/bin/true", x[] = "x";
    argv[0] = a0;
    for (int i = 1; i <= EXEC_MAX_ARGS; i++)
        argv[i] = x;
    char *env[] = {(char *)"A=1"};
    /* the most arguments round-trips; one more is not encoded, nor parsed */
    size_t n = exec_request_encode(buf, sizeof(buf), argv, EXEC_MAX_ARGS, env, 1, "/", NULL);
    assert_true(n > 0);
    struct exec_request *r = malloc(sizeof(*r));
    const char *why;
    assert_int_equal(exec_request_parse((char *)buf, n, r, &why), 0);
    assert_int_equal(r->argc, EXEC_MAX_ARGS);
    assert_int_equal(r->envc, 1);
    assert_string_equal(r->cwd, "/");
    assert_int_equal(
        exec_request_encode(buf, sizeof(buf), argv, EXEC_MAX_ARGS + 1, env, 1, NULL, NULL), 0);
    static uint8_t big[EXEC_FRAME_MAX];
    size_t k = 0;
    for (int i = 0; i <= EXEC_MAX_ARGS; i++) {
        memcpy(big + k, i ? "Ax" : "A/p", i ? 3 : 4);
        k += i ? 3 : 4;
    }
    assert_int_equal(exec_request_parse((char *)big, k, r, &why), -1);
    /* a buffer too small: 0, never a partial request */
    assert_int_equal(exec_request_encode(buf, 5, argv, 1, NULL, 0, NULL, NULL), 0);
    assert_int_equal(exec_request_encode(buf, 11, argv, 1, NULL, 0, NULL, NULL), 11);
    /* a terminal round-trips, and counts in the size */
    struct exec_winsize ws = {65535, 7};
    assert_int_equal(exec_request_encode(buf, 11 + 8, argv, 1, NULL, 0, NULL, &ws), 0);
    n = exec_request_encode(buf, 11 + 9, argv, 1, NULL, 0, NULL, &ws);
    assert_int_equal(n, 20);
    assert_int_equal(exec_request_parse((char *)buf, n, r, &why), 0);
    assert_int_equal(r->tty, 1);
    assert_int_equal(r->ws.rows, 65535);
    assert_int_equal(r->ws.cols, 7);
    free(r);
}

static void test_rules(void **state)
{
    (void)state;
    struct exec_rules r;
    size_t line;
    char text[] = "entry /bin\nentry /usr/bin/python3\nentry /opt/app/\nuntrusted FOO\n";
    assert_int_equal(exec_rules_parse(text, strlen(text), &r, &line), 0);
    assert_int_equal(r.nentry, 3);
    assert_int_equal(r.nuntrusted, 1);
    assert_true(exec_rules_entry_allowed(&r, "/bin/sh"));
    assert_true(exec_rules_entry_allowed(&r, "/bin"));
    assert_true(exec_rules_entry_allowed(&r, "/usr/bin/python3"));
    assert_true(exec_rules_entry_allowed(&r, "/opt/app/run"));
    assert_false(exec_rules_entry_allowed(&r, "/usr/bin/python3.11"));
    assert_false(exec_rules_entry_allowed(&r, "/binx"));
    assert_false(exec_rules_entry_allowed(&r, "/bin/../etc/x"));
    assert_false(exec_rules_entry_allowed(&r, "/bin//sh"));
    assert_false(exec_rules_entry_allowed(&r, "/bin/./sh"));
    assert_false(exec_rules_entry_allowed(&r, "bin/sh"));
    assert_true(exec_rules_env_allowed(&r, "FOO=1", 3));
    assert_false(exec_rules_env_allowed(&r, "FO", 2));
    assert_false(exec_rules_env_allowed(&r, "FOOD", 4));
    /* "/" admits everything clean */
    char root[] = "entry /\n";
    assert_int_equal(exec_rules_parse(root, strlen(root), &r, &line), 0);
    assert_true(exec_rules_entry_allowed(&r, "/x/y"));
    assert_false(exec_rules_entry_allowed(&r, "/x/../y"));
    /* nothing: nothing runs */
    assert_int_equal(exec_rules_parse(root, 0, &r, &line), 0);
    assert_false(exec_rules_entry_allowed(&r, "/bin/sh"));
    /* refused: a line without its newline, a relative or unclean path, a bad name, a NUL,
     * unknown words */
    const char *bad[] = {"entry /bin",      "entry bin\n", "entry /a/../b\n", "untrusted 1A\n",
                         "untrusted A B\n", "entr /bin\n", "entry /bin\n\n",  "entry \n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char copy[64];
        strcpy(copy, bad[i]);
        assert_int_equal(exec_rules_parse(copy, strlen(copy), &r, &line), -1);
        assert_true(line >= 1);
    }
    char nul[] = "entry /bin\0\n";
    assert_int_equal(exec_rules_parse(nul, sizeof(nul) - 1, &r, &line), -1);
    const char *bad_default[] = {"default X\n", "default =1\n", "default 1A=2\n", "default A B=1\n",
                                 "default \n"};
    for (size_t i = 0; i < sizeof(bad_default) / sizeof(bad_default[0]); i++) {
        char copy[64];
        strcpy(copy, bad_default[i]);
        assert_int_equal(exec_rules_parse(copy, strlen(copy), &r, &line), -1);
    }
}

/* A program's environment: env.default, then the service's own variables under untrusted names
 * only (a host that launched the service with others gets none of them through), then the
 * request's. */
/* The rules text alcove build and alcove-oci write is what the service parses back. */
static void test_rules_text(void **state)
{
    (void)state;
    const char *entry[] = {"/bin", "/usr/bin/env"}, *untrusted[] = {"FOO"},
               *defaults[] = {"PATH=/bin", "MODE=a=b"};
    char *text = exec_rules_text(entry, 2, untrusted, 1, defaults, 2);
    assert_non_null(text);
    assert_string_equal(text, "entry /bin\nentry /usr/bin/env\nuntrusted FOO\ndefault "
                              "PATH=/bin\ndefault MODE=a=b\n");
    struct exec_rules r;
    size_t line;
    assert_int_equal(exec_rules_parse(text, strlen(text), &r, &line), 0);
    assert_int_equal(r.nentry, 2);
    assert_int_equal(r.nuntrusted, 1);
    assert_int_equal(r.ndefault, 2);
    assert_string_equal(r.defaults[1], "MODE=a=b");
    assert_true(exec_rules_entry_allowed(&r, "/usr/bin/env"));
    assert_false(exec_rules_entry_allowed(&r, "/usr/bin/id"));
    free(text);
    text = exec_rules_text(NULL, 0, NULL, 0, NULL, 0); /* no entry point: nothing may run */
    assert_string_equal(text, "");
    free(text);
}

static void test_env_compose(void **state)
{
    (void)state;
    struct exec_rules r;
    size_t line;
    char text[] = "entry /bin\nuntrusted FOO\nuntrusted BAR\ndefault PATH=/bin\n"
                  "default MODE=measured\ndefault FOO=default\ndefault EMPTY=\n";
    assert_int_equal(exec_rules_parse(text, strlen(text), &r, &line), 0);
    assert_int_equal(r.ndefault, 4);
    assert_string_equal(r.defaults[1], "MODE=measured");
    char s0[] = "PATH=/evil", s1[] = "MODE=measured", s2[] = "LD_PRELOAD=/x.so";
    char s3[] = "FOO=start", s4[] = "BAR=start", s5[] = "NOEQUALS", q0[] = "BAR=request";
    char *service[] = {s0, s1, s2, s3, s4, s5, NULL};
    char *req[] = {q0};
    const char *out[4 + 6 + 1 + 1];
    size_t n = exec_env_compose(&r, service, req, 1, out);
    assert_int_equal(n, 5);
    assert_string_equal(out[0], "PATH=/bin");
    assert_string_equal(out[1], "MODE=measured");
    assert_string_equal(out[2], "FOO=start");
    assert_string_equal(out[3], "EMPTY=");
    assert_string_equal(out[4], "BAR=request");
    assert_null(out[5]);
    /* no service environment, no request: the defaults alone */
    assert_int_equal(exec_env_compose(&r, NULL, NULL, 0, out), 4);
    assert_string_equal(out[2], "FOO=default");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames),         cmocka_unit_test(test_request),
        cmocka_unit_test(test_request_limits), cmocka_unit_test(test_rules),
        cmocka_unit_test(test_env_compose),    cmocka_unit_test(test_rules_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
