/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include "alloc-count.h"

/* The sanitizers' runtimes define malloc() themselves. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ALLOC_COUNT_WRAPPED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define ALLOC_COUNT_WRAPPED 0
#endif
#endif
#ifndef ALLOC_COUNT_WRAPPED
#define ALLOC_COUNT_WRAPPED 1
#endif

#if ALLOC_COUNT_WRAPPED

/* glibc's own entry points, which a program that defines malloc() may call. */
extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t n, size_t size);
extern void *__libc_realloc (void *ptr, size_t size);
extern void *__libc_memalign (size_t alignment, size_t size);
extern void *__libc_valloc (size_t size);
extern void *__libc_pvalloc (size_t size);
extern void  __libc_free (void *ptr);

/* The project builds with hidden visibility; these must replace the C library's for
 * every shared library too. */
#define EXPORTED __attribute__ ((visibility ("default")))

static gint64 live;
static gint64 live_bytes;

static inline void *
counted (void *ptr)
{
  if (ptr != NULL)
    {
      __atomic_add_fetch (&live, 1, __ATOMIC_RELAXED);
      __atomic_add_fetch (&live_bytes, malloc_usable_size (ptr), __ATOMIC_RELAXED);
    }
  return ptr;
}

static inline void
uncounted (void *ptr)
{
  __atomic_sub_fetch (&live, 1, __ATOMIC_RELAXED);
  __atomic_sub_fetch (&live_bytes, malloc_usable_size (ptr), __ATOMIC_RELAXED);
}

EXPORTED void *
malloc (size_t size)
{
  return counted (__libc_malloc (size));
}

EXPORTED void *
calloc (size_t n,
        size_t size)
{
  return counted (__libc_calloc (n, size));
}

EXPORTED void *
realloc (void   *ptr,
         size_t  size)
{
  size_t old_size;
  void *result;

  if (ptr == NULL)
    return counted (__libc_realloc (NULL, size));

  /* glibc frees the block for a size of 0; a failed resize keeps it. */
  old_size = malloc_usable_size (ptr);
  result = __libc_realloc (ptr, size);
  if (result != NULL)
    __atomic_add_fetch (&live_bytes, malloc_usable_size (result) - old_size,
                        __ATOMIC_RELAXED);
  else if (size == 0)
    {
      __atomic_sub_fetch (&live, 1, __ATOMIC_RELAXED);
      __atomic_sub_fetch (&live_bytes, old_size, __ATOMIC_RELAXED);
    }
  return result;
}

EXPORTED void *
memalign (size_t alignment,
          size_t size)
{
  return counted (__libc_memalign (alignment, size));
}

EXPORTED void *
aligned_alloc (size_t alignment,
               size_t size)
{
  return counted (__libc_memalign (alignment, size));
}

EXPORTED int
posix_memalign (void   **out,
                size_t   alignment,
                size_t   size)
{
  void *ptr;

  if (alignment % sizeof (void *) != 0 || (alignment & (alignment - 1)) != 0 ||
      alignment == 0)
    return EINVAL;
  ptr = __libc_memalign (alignment, size);
  if (ptr == NULL)
    return ENOMEM;
  *out = counted (ptr);
  return 0;
}

EXPORTED void *
valloc (size_t size)
{
  return counted (__libc_valloc (size));
}

EXPORTED void *
pvalloc (size_t size)
{
  return counted (__libc_pvalloc (size));
}

EXPORTED void
free (void *ptr)
{
  if (ptr == NULL)
    return;
  uncounted (ptr);
  __libc_free (ptr);
}

gboolean
alloc_count_available (void)
{
  return TRUE;
}

gint64
alloc_count_live (void)
{
  return __atomic_load_n (&live, __ATOMIC_RELAXED);
}

gint64
alloc_count_live_bytes (void)
{
  return __atomic_load_n (&live_bytes, __ATOMIC_RELAXED);
}

#else

gboolean
alloc_count_available (void)
{
  return FALSE;
}

gint64
alloc_count_live (void)
{
  return 0;
}

gint64
alloc_count_live_bytes (void)
{
  return 0;
}

#endif
