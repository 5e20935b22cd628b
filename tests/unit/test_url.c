/* Unit tests for np_url (redacting URLs for logs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "np_url.h"

static void test_redact(void **s) {
    (void)s;
    char b[128];
    np_url_redact("https://hooks.example.com/services/T000/B000/XXXXSECRET", b, sizeof(b));
    assert_string_equal(b, "https://hooks.example.com/...");
    np_url_redact("http://user:pa55@10.0.0.1:8080/hook?token=abc", b, sizeof(b));
    assert_string_equal(b, "http://10.0.0.1:8080/...");
    np_url_redact("http://127.0.0.1:9000", b, sizeof(b));
    assert_string_equal(b, "http://127.0.0.1:9000");
    np_url_redact("no scheme secret", b, sizeof(b));
    assert_string_equal(b, "(not shown)");
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_redact)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
