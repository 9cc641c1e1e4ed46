/* A shared object that is not a plugin: it exports no descriptor. */
__attribute__((visibility("default"))) int wi_test_not_a_descriptor(void);

int wi_test_not_a_descriptor(void)
{
    return 42;
}
