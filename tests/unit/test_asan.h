/* ASAN is defined when the unit tests are built with AddressSanitizer (gcc or clang), for
 * tests that measure malloc (ASan's allocator is not glibc's) or poison memory. */
#ifndef TEST_ASAN_H
#define TEST_ASAN_H
#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif
#endif
