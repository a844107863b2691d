/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <dlfcn.h>

#include <glib.h>

/* Linked into the test programs of a ThreadSanitizer build only.
 *
 * GLib is not built with ThreadSanitizer, and on Linux its GMutex and GCond are made of
 * atomics and futex calls, which ThreadSanitizer does not see: every access guarded by
 * a GMutex would look like a race, and so would data handed to a GThreadPool worker
 * (GLib queues it under such a mutex). These wrappers take the place of GLib's
 * functions for every caller outside GLib (gmulti and the tests: GLib's own calls stay
 * inside it) and tell ThreadSanitizer what each one guarantees. They only add
 * happens-before edges that GLib really provides; they hide no access. */

void __tsan_acquire (void *addr);
void __tsan_release (void *addr);

/* The project builds with hidden symbols; these must win over GLib's. */
#define WRAPPER __attribute__ ((visibility ("default")))

/* GLib's own function, looked up once (by whichever thread comes first). */
#define REAL(name) \
  static __typeof__ (name) *real_ptr = NULL; \
  __typeof__ (name) *real = __atomic_load_n (&real_ptr, __ATOMIC_ACQUIRE); \
  if (G_UNLIKELY (real == NULL)) \
    { \
      real = (__typeof__ (name) *) dlsym (RTLD_NEXT, #name); \
      __atomic_store_n (&real_ptr, real, __ATOMIC_RELEASE); \
    }

WRAPPER void
g_mutex_lock (GMutex *mutex)
{
  REAL (g_mutex_lock);
  real (mutex);
  __tsan_acquire (mutex);
}

WRAPPER gboolean
g_mutex_trylock (GMutex *mutex)
{
  REAL (g_mutex_trylock);
  if (!real (mutex))
    return FALSE;
  __tsan_acquire (mutex);
  return TRUE;
}

WRAPPER void
g_mutex_unlock (GMutex *mutex)
{
  REAL (g_mutex_unlock);
  __tsan_release (mutex);
  real (mutex);
}

/* Waiting releases the mutex and takes it again. */
WRAPPER void
g_cond_wait (GCond  *cond,
             GMutex *mutex)
{
  REAL (g_cond_wait);
  __tsan_release (mutex);
  real (cond, mutex);
  __tsan_acquire (mutex);
}

WRAPPER gboolean
g_cond_wait_until (GCond  *cond,
                   GMutex *mutex,
                   gint64  end_time)
{
  gboolean signalled;

  REAL (g_cond_wait_until);
  __tsan_release (mutex);
  signalled = real (cond, mutex, end_time);
  __tsan_acquire (mutex);
  return signalled;
}

/* A job pushed happens before the worker runs it: the job's pointer carries the edge,
 * through a stand-in for the pool's function. */
typedef struct {
  GFunc func;
  gpointer user_data;
} PoolFunc;

static void
pool_trampoline (gpointer data,
                 gpointer user_data)
{
  PoolFunc *pool_func = user_data;

  __tsan_acquire (pool_func);
  __tsan_acquire (data);
  pool_func->func (data, pool_func->user_data);
}

WRAPPER GThreadPool *
g_thread_pool_new (GFunc     func,
                   gpointer  user_data,
                   gint      max_threads,
                   gboolean  exclusive,
                   GError  **error)
{
  /* Lives as long as the process: a pool may run jobs after it was freed. */
  PoolFunc *pool_func = g_new (PoolFunc, 1);

  REAL (g_thread_pool_new);
  pool_func->func = func;
  pool_func->user_data = user_data;
  /* The pool's threads start inside GLib. */
  __tsan_release (pool_func);
  return real (pool_trampoline, pool_func, max_threads, exclusive, error);
}

WRAPPER gboolean
g_thread_pool_push (GThreadPool  *pool,
                    gpointer      data,
                    GError      **error)
{
  REAL (g_thread_pool_push);
  __tsan_release (data);
  return real (pool, data, error);
}
