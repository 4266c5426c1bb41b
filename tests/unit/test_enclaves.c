/* test_enclaves.c: the name a new enclave gets when none is given (enclaves_unique_name): the
 * stem, else stem_1, stem_2 ... the first that none of the caller's own enclaves has; another
 * user's enclave of that name does not take it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/enclaves.h"

static struct enclave_rec rec(const char *name, uid_t owner)
{
    struct enclave_rec r = {.cid = 4, .running = true, .owner = owner};
    r.desc = cJSON_CreateObject();
    cJSON_AddStringToObject(r.desc, "EnclaveName", name);
    cJSON_AddStringToObject(r.desc, "EnclaveID", "i-0");
    return r;
}

static void test_unique_name(void **state)
{
    (void)state;
    char out[64];
    enclaves_unique_name(NULL, 0, "app", out, sizeof(out));
    assert_string_equal(out, "app");
    struct enclave_rec r[4] = {rec("app", geteuid()), rec("app_1", geteuid()),
                               rec("app_2", geteuid() + 1), rec("web", geteuid())};
    enclaves_unique_name(r, 4, "app", out, sizeof(out));
    assert_string_equal(out, "app_2"); /* app_2 is another user's: not taken for us */
    enclaves_unique_name(r, 1, "app", out, sizeof(out));
    assert_string_equal(out, "app_1");
    enclaves_unique_name(r, 4, "db", out, sizeof(out));
    assert_string_equal(out, "db");
    for (int i = 0; i < 4; i++)
        cJSON_Delete(r[i].desc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_unique_name)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
