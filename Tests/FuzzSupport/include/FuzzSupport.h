#ifndef FUZZ_SUPPORT_H
#define FUZZ_SUPPORT_H
/* libFuzzer's entry point for a program that has its own main (Swift's @main), present when
 * the fuzz target is linked with -sanitize=fuzzer (`make fuzz`); never called otherwise. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
