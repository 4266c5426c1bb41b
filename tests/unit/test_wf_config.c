/* test_wf_config.c: alcove.json (cli/wf_config.c): sizes in Occlum's forms, the entry-point and
 * environment rules alcove run enforces, the canonical form that is measured, and that the
 * template `alcove init` writes parses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/wf_config.h"

static int parse(const char *text, struct wf_config *c)
{
    return wf_config_parse(text, strlen(text), "test", false, c);
}

static void test_template(void **state)
{
    (void)state;
    char *t = wf_config_template("web \"x\"");
    struct wf_config c;
    assert_int_equal(parse(t, &c), 0);
    assert_int_equal(c.user_space_size, 256u << 20);
    assert_int_equal(c.max_threads, 64);
    assert_int_equal(c.stack_size, 4u << 20);
    assert_int_equal(c.nentry, 1);
    assert_string_equal(c.entry_points[0], "/bin");
    assert_string_equal(c.name, "web \"x\"");
    assert_false(c.debuggable);
    assert_int_equal(c.ntmpfs, 0); /* /tmp always has one */
    wf_config_free(&c);
    free(t);
}

static void size_is(const char *v, uint64_t want)
{
    char text[256];
    snprintf(text, sizeof(text),
             "{\"entry_points\": [\"/a\"], \"resource_limits\": {\"user_space_size\": %s}}", v);
    struct wf_config c;
    int r = parse(text, &c);
    if (want == 0) {
        if (r == 0)
            fail_msg("%s accepted", v);
        return;
    }
    if (r)
        fail_msg("%s refused", v);
    assert_int_equal(c.user_space_size, want);
    wf_config_free(&c);
}

static void test_sizes(void **state)
{
    (void)state;
    size_is("\"256MB\"", 256ull << 20);
    size_is("\"1GB\"", 1ull << 30);
    size_is("\"2G\"", 2ull << 30);
    size_is("\"4096KB\"", 4ull << 20);
    size_is("\"8MiB\"", 8ull << 20);
    size_is("16777216", 16ull << 20);
    size_is("\"1048576B\"", 1ull << 20);
    size_is("\"0MB\"", 0);
    size_is("\"512KB\"", 0); /* below 1 MB */
    size_is("\"1TB\"", 0);
    size_is("\"300GB\"", 0); /* over half of the largest enclave */
    size_is("\"MB\"", 0);
    size_is("\"12 MB\"", 0);
    size_is("\"-1MB\"", 0);
    size_is("1.5", 0);
    size_is("true", 0);
}

static void test_entry_points(void **state)
{
    (void)state;
    struct wf_config c;
    assert_int_equal(
        parse("{\"entry_points\": [\"/bin\", \"/usr/lib/jvm/bin/java\", \"/opt/\"]}", &c), 0);
    assert_true(wf_entry_allowed(&c, "/bin/sh"));
    assert_true(wf_entry_allowed(&c, "/bin/sub/x"));
    assert_true(wf_entry_allowed(&c, "/usr/lib/jvm/bin/java"));
    assert_true(wf_entry_allowed(&c, "/opt/app"));
    assert_true(wf_entry_allowed(&c, "/bin")); /* an entry may name a program itself */
    assert_false(wf_entry_allowed(&c, "/binx"));
    assert_false(wf_entry_allowed(&c, "/bin/../etc/x"));
    assert_false(wf_entry_allowed(&c, "/bin/./sh"));
    assert_false(wf_entry_allowed(&c, "/bin//sh"));
    assert_false(wf_entry_allowed(&c, "bin/sh"));
    assert_false(wf_entry_allowed(&c, "/usr/lib/jvm/bin/javac"));
    assert_false(wf_entry_allowed(&c, ""));
    wf_config_free(&c);
    assert_int_equal(parse("{\"entry_points\": [\"/\"]}", &c), 0);
    assert_true(wf_entry_allowed(&c, "/anything"));
    wf_config_free(&c);
    assert_int_not_equal(parse("{\"entry_points\": []}", &c), 0);
    assert_int_not_equal(parse("{}", &c), 0);
    assert_int_not_equal(parse("{\"entry_points\": [\"/a/../b\"]}", &c), 0);
    assert_int_not_equal(parse("{\"entry_points\": [\"/a\\nb\"]}", &c), 0);
}

static void test_env(void **state)
{
    (void)state;
    struct wf_config c;
    assert_int_equal(parse("{\"entry_points\": [\"/a\"], \"env\": {\"default\": [\"A=1\", "
                           "\"B==x\"], \"untrusted\": [\"HOST_NAME\", \"_X\"]}}",
                           &c),
                     0);
    assert_int_equal(c.nenv_default, 2);
    assert_true(wf_env_allowed(&c, "HOST_NAME", 9));
    assert_true(wf_env_allowed(&c, "HOST_NAME=1", 9));
    assert_true(wf_env_allowed(&c, "_X", 2));
    assert_false(wf_env_allowed(&c, "HOST", 4));
    assert_false(wf_env_allowed(&c, "A", 1));
    wf_config_free(&c);
    assert_int_not_equal(
        parse("{\"entry_points\": [\"/a\"], \"env\": {\"default\": [\"=1\"]}}", &c), 0);
    assert_int_not_equal(
        parse("{\"entry_points\": [\"/a\"], \"env\": {\"untrusted\": [\"A=B\"]}}", &c), 0);
    assert_int_not_equal(parse("{\"entry_points\": [\"/a\"], \"env\": []}", &c), 0);
}

static void test_canonical(void **state)
{
    (void)state;
    struct wf_config a, b;
    assert_int_equal(parse("{\"metadata\": {\"debuggable\": true, \"name\": \"n\"}, "
                           "\"entry_points\": [\"/a\"], \"resource_limits\": "
                           "{\"user_space_size\": \"1GB\"}, \"mount\": [{\"target\": \"/d\", "
                           "\"type\": \"ramfs\"}, {\"target\": \"/proc\", \"type\": \"procfs\"}]}",
                           &a),
                     0);
    assert_int_equal(parse("{\"entry_points\":[\"/a\"],\"resource_limits\":{\"user_space_size\":"
                           "1073741824},\"mount\":[{\"type\":\"ramfs\",\"target\":\"/d\"}],"
                           "\"metadata\":{\"name\":\"n\",\"debuggable\":true}}",
                           &b),
                     0);
    char *ca = wf_config_canonical(&a), *cb = wf_config_canonical(&b);
    assert_string_equal(ca, cb);
    assert_non_null(strstr(ca, "\"debuggable\":true"));
    assert_non_null(strstr(ca, "\"target\":\"/d\""));
    /* the canonical form parses to the same */
    struct wf_config c;
    assert_int_equal(parse(ca, &c), 0);
    char *cc = wf_config_canonical(&c);
    assert_string_equal(ca, cc);
    free(ca);
    free(cb);
    free(cc);
    wf_config_free(&a);
    wf_config_free(&b);
    wf_config_free(&c);
}

static void test_mounts_and_json(void **state)
{
    (void)state;
    struct wf_config c;
    assert_int_not_equal(parse("{\"entry_points\": [\"/a\"], \"mount\": [{\"target\": \"/h\", "
                               "\"type\": \"hostfs\"}]}",
                               &c),
                         0);
    assert_int_not_equal(
        parse("{\"entry_points\": [\"/a\"], \"mount\": [{\"target\": \"/\", \"type\": \"ramfs\"}]}",
              &c),
        0);
    assert_int_not_equal(
        parse("{\"entry_points\": [\"/a\"], \"mount\": [{\"type\": \"ramfs\"}]}", &c), 0);
    assert_int_not_equal(parse("{\"entry_points\": [\"/a\"]} {}", &c), 0);
    assert_int_not_equal(parse("[1]", &c), 0);
    assert_int_not_equal(parse("", &c), 0);
    assert_int_not_equal(
        parse("{\"entry_points\": [\"/a\"], \"metadata\": {\"debuggable\": 1}}", &c), 0);
    assert_int_not_equal(
        parse("{\"entry_points\": [\"/a\"], \"resource_limits\": {\"max_num_of_threads\": 4097}}",
              &c),
        0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template),     cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_entry_points), cmocka_unit_test(test_env),
        cmocka_unit_test(test_canonical),    cmocka_unit_test(test_mounts_and_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
