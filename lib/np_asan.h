/* np_asan: NP_ASAN is defined when built with AddressSanitizer (gcc or clang), for code
 * that poisons memory it gives back (np_arena) and tests that measure malloc (ASan's
 * allocator is not glibc's). */
#ifndef NP_ASAN_H
#define NP_ASAN_H
#if defined(__SANITIZE_ADDRESS__)
#define NP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NP_ASAN 1
#endif
#endif
#endif
