/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "http2/gmulti-http2-mem.h"

/* Each block starts with its size class (or, above the largest, its size), padded so
 * that what nghttp2 gets is aligned as malloc()'s would be. */
typedef union {
  struct {
    gsize size;                 /* what the block holds after this header */
    guint klass;                /* GMULTI_HTTP2_MEM_N_CLASSES: not kept on a list */
  } h;
  max_align_t align;
} Header;

#define SMALLEST 64             /* 1 << 6 */
/* At most this many freed blocks of a class wait: about a hundred streams' worth. */
#define KEEP_PER_CLASS 128

/* The smallest class that holds @size bytes; GMULTI_HTTP2_MEM_N_CLASSES above them. */
static inline guint
class_of (gsize size)
{
  guint klass;

  if (size <= SMALLEST)
    return 0;
  /* 65..128 bytes: 1; 129..256: 2; ... */
  klass = g_bit_storage (size - 1) - 6;
  return MIN (klass, GMULTI_HTTP2_MEM_N_CLASSES);
}

static void *
mem_malloc (size_t size,
            void  *user_data)
{
  GMultiHttp2Mem *self = user_data;
  guint klass = class_of (size);
  Header *header;

  if (klass < GMULTI_HTTP2_MEM_N_CLASSES && self->free_list[klass] != NULL)
    {
      header = self->free_list[klass];
      self->free_list[klass] = *(gpointer *) (header + 1);
      self->n_free[klass]--;
      return header + 1;
    }
  if (klass < GMULTI_HTTP2_MEM_N_CLASSES)
    size = (gsize) SMALLEST << klass;
  header = malloc (sizeof (Header) + size);
  if (header == NULL)
    return NULL;
  header->h.size = size;
  header->h.klass = klass;
  return header + 1;
}

static void
mem_free (void *ptr,
          void *user_data)
{
  GMultiHttp2Mem *self = user_data;
  Header *header;
  guint klass;

  if (ptr == NULL)
    return;
  header = (Header *) ptr - 1;
  klass = header->h.klass;
  if (klass < GMULTI_HTTP2_MEM_N_CLASSES && self->n_free[klass] < KEEP_PER_CLASS)
    {
      *(gpointer *) ptr = self->free_list[klass];
      self->free_list[klass] = header;
      self->n_free[klass]++;
      return;
    }
  free (header);
}

static void *
mem_calloc (size_t nmemb,
            size_t size,
            void  *user_data)
{
  void *ptr;

  if (size != 0 && nmemb > G_MAXSIZE / size)
    return NULL;
  ptr = mem_malloc (nmemb * size, user_data);
  if (ptr != NULL)
    memset (ptr, 0, nmemb * size);
  return ptr;
}

static void *
mem_realloc (void   *ptr,
             size_t  size,
             void   *user_data)
{
  Header *header;
  void *grown;

  if (ptr == NULL)
    return mem_malloc (size, user_data);
  header = (Header *) ptr - 1;
  if (size <= header->h.size)
    return ptr;
  grown = mem_malloc (size, user_data);
  if (grown == NULL)
    return NULL;
  memcpy (grown, ptr, header->h.size);
  mem_free (ptr, user_data);
  return grown;
}

nghttp2_mem *
gmulti_http2_mem_init (GMultiHttp2Mem *self)
{
  memset (self, 0, sizeof *self);
  self->mem.mem_user_data = self;
  self->mem.malloc = mem_malloc;
  self->mem.free = mem_free;
  self->mem.calloc = mem_calloc;
  self->mem.realloc = mem_realloc;
  return &self->mem;
}

void
gmulti_http2_mem_clear (GMultiHttp2Mem *self)
{
  for (guint klass = 0; klass < GMULTI_HTTP2_MEM_N_CLASSES; klass++)
    {
      while (self->free_list[klass] != NULL)
        {
          Header *header = self->free_list[klass];

          self->free_list[klass] = *(gpointer *) (header + 1);
          free (header);
        }
      self->n_free[klass] = 0;
    }
}
