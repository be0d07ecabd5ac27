/* A fixed pool of worker threads that run the units of one task at a time (native/pool.c). */
#ifndef TSML_POOL_H
#define TSML_POOL_H

/* One unit of a task: unit is in [0, units). */
typedef void (*pool_task)(void *context, unsigned int unit);

/* Sets the number of threads that run tasks (the caller's thread included); returns 0, or an errno when a thread
 * could not be started (the pool then has the threads that did start). */
int pool_set_threads(unsigned int threads);

/* The number of threads that run tasks, the caller's included (1 until pool_set_threads). */
unsigned int pool_threads(void);

/* Runs task(context, u) for every u in [0, units), on the pool's threads and the caller's, and returns when all have
 * run. Units are taken in order by whichever thread is free: a task must make each unit's output independent of the
 * others (disjoint writes, no shared accumulators), so that the result never depends on the thread count. */
void pool_run(unsigned int units, pool_task task, void *context);

#endif
