/*
 * A fixed pool of worker threads for tsml's native kernels (pool.h). The caller's thread works too, so a pool of
 * n threads starts n - 1 workers. A run publishes (task, context, units) under the lock and bumps `generation`;
 * every thread then takes unit numbers from an atomic counter until none is left, and the caller waits until every
 * worker has finished the run before returning (so the task's context, on the caller's stack, outlives its use).
 * Runs are serialised by `run_lock` (Node's main thread calls in; worker_threads that load the addon share the pool).
 */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER;
static pthread_cond_t work_done = PTHREAD_COND_INITIALIZER;

static pthread_t *workers = NULL;
static unsigned int worker_count = 0;
static int stopping = 0;
static unsigned long generation = 0;
static unsigned int busy = 0; /* workers still in the current run */

static pool_task current_task = NULL;
static void *current_context = NULL;
static unsigned int current_units = 0;
static atomic_uint next_unit;

static void run_units(pool_task task, void *context, unsigned int units) {
  for (;;) {
    const unsigned int unit = atomic_fetch_add(&next_unit, 1);
    if (unit >= units) return;
    task(context, unit);
  }
}

/* `start` is the generation when the worker was created: a run that begins before the worker first takes the lock
 * is still one it has not seen. */
static void *worker_main(void *start) {
  unsigned long seen = (unsigned long)(uintptr_t)start;
  pthread_mutex_lock(&lock);
  for (;;) {
    while (!stopping && generation == seen) pthread_cond_wait(&work_ready, &lock);
    if (stopping) break;
    seen = generation;
    pool_task task = current_task;
    void *context = current_context;
    const unsigned int units = current_units;
    pthread_mutex_unlock(&lock);
    run_units(task, context, units);
    pthread_mutex_lock(&lock);
    if (--busy == 0) pthread_cond_signal(&work_done);
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

static void stop_workers(void) {
  pthread_mutex_lock(&lock);
  stopping = 1;
  pthread_cond_broadcast(&work_ready);
  pthread_mutex_unlock(&lock);
  for (unsigned int i = 0; i < worker_count; i++) pthread_join(workers[i], NULL);
  free(workers);
  workers = NULL;
  worker_count = 0;
  stopping = 0;
}

int pool_set_threads(unsigned int threads) {
  if (threads < 1) threads = 1;
  pthread_mutex_lock(&run_lock);
  int error = 0;
  if (threads - 1 != worker_count) {
    stop_workers();
    workers = calloc(threads - 1, sizeof *workers);
    if (workers == NULL && threads > 1) error = ENOMEM;
    for (unsigned int i = 0; !error && i < threads - 1; i++) {
      error = pthread_create(&workers[i], NULL, worker_main, (void *)(uintptr_t)generation);
      if (!error) worker_count++;
    }
  }
  pthread_mutex_unlock(&run_lock);
  return error;
}

unsigned int pool_threads(void) {
  pthread_mutex_lock(&run_lock);
  const unsigned int threads = worker_count + 1;
  pthread_mutex_unlock(&run_lock);
  return threads;
}

void pool_run(unsigned int units, pool_task task, void *context) {
  pthread_mutex_lock(&run_lock);
  atomic_store(&next_unit, 0);
  if (worker_count == 0 || units < 2) {
    run_units(task, context, units);
    pthread_mutex_unlock(&run_lock);
    return;
  }
  pthread_mutex_lock(&lock);
  current_task = task;
  current_context = context;
  current_units = units;
  busy = worker_count;
  generation++;
  pthread_cond_broadcast(&work_ready);
  pthread_mutex_unlock(&lock);
  run_units(task, context, units);
  pthread_mutex_lock(&lock);
  while (busy > 0) pthread_cond_wait(&work_done, &lock);
  pthread_mutex_unlock(&lock);
  pthread_mutex_unlock(&run_lock);
}
