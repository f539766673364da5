/* tierscope placer hint API: explicit placement intent from the application.
 *
 * Link with -ltierscope-placer (the same library that LD_PRELOAD uses). Hints still go through
 * the budget guard: when the asked tier is full, memory comes from the next tier (counted in the
 * stats). Free the result with ts_free() or free(); both are correct for any pointer. When the
 * placer runs with default placement (no tiers, bad configuration) the hints return ordinary
 * heap memory. */
#ifndef TIERSCOPE_PLACER_H_
#define TIERSCOPE_PLACER_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Memory on the fastest tier (the first tier of the tier list). */
void* ts_malloc_hot(size_t size);
/* Memory on the slowest tier (the last tier of the tier list). */
void* ts_malloc_cold(size_t size);
/* Memory on the named tier ("fast", "slow", ... as listed by `tierscope topology`). An unknown
 * name gives ordinary heap memory. */
void* ts_malloc_tier(const char* tier, size_t size);
void ts_free(void* ptr);
/* Index of the tier that holds ptr, -1 for ordinary heap memory or NULL. */
int ts_tier_of(const void* ptr);

#ifdef __cplusplus
}
#endif

#endif /* TIERSCOPE_PLACER_H_ */
