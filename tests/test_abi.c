/* ABI guards: the public structs a plugin or a caller compiles against
 * keep their sizes and the host table only grows at the end.  A failure
 * here means a change breaks built plugins: bump the ABI major (or append
 * instead), then update these recorded values (x86-64, LP64). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <weightinit/weightinit.h>

#include "util.h"

START_TEST(struct_sizes)
{
    ck_assert_uint_eq(sizeof(wi_plugin_descriptor_t), 48); /* 1.4: unload */
    ck_assert_uint_eq(WI_PLUGIN_DESCRIPTOR_SIZE_1_0, 40);
    ck_assert_uint_eq(WI_MODULE_TYPE_SIZE_1_1, 40);
    ck_assert_uint_eq(sizeof(wi_initializer_type_t), 72); /* 1.3: init_tensor */
    ck_assert_uint_eq(WI_INITIALIZER_TYPE_SIZE_1_0, 64);
    ck_assert_uint_eq(sizeof(wi_module_type_t), 40);
    ck_assert_uint_eq(sizeof(wi_init_base_t), 48);
    ck_assert_uint_eq(sizeof(wi_error_t), 1036);
}
END_TEST

/* Each minor release's first member sits where it always did. */
START_TEST(host_table_is_append_only)
{
    ck_assert_uint_eq(offsetof(wi_host_t, register_initializer), 16);  /* 1.0 */
    ck_assert_uint_eq(offsetof(wi_host_t, bias_init_with_prob), 408);  /* 1.0 end */
    ck_assert_uint_eq(offsetof(wi_host_t, register_module_type), 416); /* 1.1 */
    ck_assert_uint_eq(offsetof(wi_host_t, module_child_name), 432);    /* 1.1 end */
    ck_assert_uint_eq(offsetof(wi_host_t, load_checkpoint), 440);      /* 1.2 */
    ck_assert_uint_eq(sizeof(wi_host_t), 448);
    const wi_host_t *host = wi_host();
    ck_assert_uint_eq(host->abi_major, WI_PLUGIN_ABI_MAJOR);
    ck_assert_uint_eq(host->abi_minor, WI_PLUGIN_ABI_MINOR);
    ck_assert_uint_eq(host->struct_size, sizeof(wi_host_t));
    ck_assert(WI_HOST_HAS(host, load_checkpoint));
    /* Every slot is filled: a NULL would crash a plugin that trusts it. */
    const char *p = (const char *)host + offsetof(wi_host_t, register_initializer);
    for (size_t off = 0; off + sizeof(void *) <= sizeof(wi_host_t) - 16; off += sizeof(void *)) {
        void *fn;
        memcpy(&fn, p + off, sizeof fn);
        ck_assert_msg(fn != NULL, "host table slot at offset %zu is NULL", off + 16);
    }
}
END_TEST

/* Enum values are part of the ABI too. */
START_TEST(enum_values)
{
    ck_assert_int_eq(WI_DTYPE_F32, 0);
    ck_assert_int_eq(WI_DTYPE_I64, 4);
    ck_assert_int_eq(WI_DTYPE_BOOL, 9);
    ck_assert_int_eq(WI_RNG_AVX2, 0);
    ck_assert_int_eq(WI_RNG_DEFAULT, 1);
    ck_assert_int_eq(WI_RNG_TORCH2_AVX2, 2); /* appended: 0 and 1 keep 1.13 */
    ck_assert_int_eq(WI_RNG_TORCH2_DEFAULT, 3);
    ck_assert_int_eq(WI_VALUE_OBJECT, 0);
    ck_assert_int_eq(WI_VALUE_NULL, 7);
    ck_assert_int_eq(WI_EPLUGIN, -7);
    ck_assert_int_eq(WI_EFILE, -9);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("abi");
    TCase *tc = tcase_create("abi");
    tcase_add_test(tc, struct_sizes);
    tcase_add_test(tc, host_table_is_append_only);
    tcase_add_test(tc, enum_values);
    suite_add_tcase(s, tc);
    return wi_test_run_suite(s);
}
