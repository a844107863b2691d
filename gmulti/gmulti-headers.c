/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-headers.h"
#include "gmulti-headers-private.h"
#include "http1/gmulti-http1-request.h"

/* Strings live in a few large blocks instead of one allocation per field. Blocks never
 * move, so a pointer handed out stays valid while its field is present; removed fields
 * leave dead bytes behind, reclaimed by compaction once they dominate.
 *
 * The first block also holds the first FIRST_FIELD_COUNT fields, after its strings: a
 * typical response head (about ten fields, a few hundred bytes) then costs one
 * allocation besides the object, and a list that grows past it moves its fields out. */
#define FIRST_BLOCK_SIZE 320
#define FIRST_FIELD_COUNT 10
#define COMPACT_MIN_DEAD 1024

typedef struct _Block Block;

struct _Block
{
  Block *next;  /* older blocks */
  gsize size;
  gsize used;
  char data[];
};

typedef struct
{
  const char *name;
  const char *value;
  gsize name_len;
  gsize value_len;
} Field;

G_STATIC_ASSERT ((sizeof (Block) + FIRST_BLOCK_SIZE) % G_ALIGNOF (Field) == 0);

struct _GMultiHeaders
{
  gatomicrefcount ref_count;
  guint n_fields;
  guint n_allocated;
  Field *fields;
  Block *blocks;      /* newest first; appends go to the newest */
  Block *fields_home; /* the block @fields lives in, or NULL: @fields is its own */
  gsize dead_bytes;   /* string bytes of removed fields still in the blocks */
};

G_DEFINE_BOXED_TYPE (GMultiHeaders, gmulti_headers, gmulti_headers_ref, gmulti_headers_unref)

static void
free_blocks (Block *block)
{
  while (block != NULL)
    {
      Block *next = block->next;

      g_free (block);
      block = next;
    }
}

/* Gives the fields an allocation of their own before the block they live in goes. */
static void
move_fields_out (GMultiHeaders *self)
{
  if (self->fields_home == NULL)
    return;
  self->fields = g_memdup2 (self->fields, self->n_allocated * sizeof (Field));
  self->fields_home = NULL;
}

static char *
reserve_bytes (GMultiHeaders *self,
               gsize          needed)
{
  Block *block = self->blocks;
  char *ret;

  if (block == NULL || block->size - block->used < needed)
    {
      gsize size = block != NULL ? block->size * 2 : FIRST_BLOCK_SIZE;

      size = MAX (size, needed);
      block = g_malloc (sizeof (Block) + size);
      block->size = size;
      block->used = 0;
      block->next = self->blocks;
      self->blocks = block;
    }

  ret = block->data + block->used;
  block->used += needed;

  return ret;
}

/* Copies a name and a value into the blocks as two NUL-terminated strings. */
static void
store_field (GMultiHeaders *self,
             Field         *field,
             const char    *name,
             gsize          name_len,
             const char    *value,
             gsize          value_len)
{
  char *p = reserve_bytes (self, name_len + value_len + 2);

  memcpy (p, name, name_len);
  p[name_len] = '\0';
  field->name = p;
  field->name_len = name_len;

  p += name_len + 1;
  if (value_len > 0)
    memcpy (p, value, value_len);
  p[value_len] = '\0';
  field->value = p;
  field->value_len = value_len;
}

static inline gsize
field_bytes (const Field *field)
{
  return field->name_len + field->value_len + 2;
}

static inline gboolean
field_has_name (const Field *field,
                const char  *name,
                gsize        name_len)
{
  return field->name_len == name_len &&
         g_ascii_strncasecmp (field->name, name, name_len) == 0;
}

/* Moves the live strings into one new block when removed fields waste more than they
 * keep, so that replacing a value in a loop does not grow the object forever. */
static void
maybe_compact (GMultiHeaders *self)
{
  gsize live = 0;
  Block *old;
  guint i;

  for (i = 0; i < self->n_fields; i++)
    live += field_bytes (&self->fields[i]);

  if (self->dead_bytes < COMPACT_MIN_DEAD || self->dead_bytes < live)
    return;

  move_fields_out (self);
  old = self->blocks;
  self->blocks = NULL;
  self->dead_bytes = 0;

  for (i = 0; i < self->n_fields; i++)
    {
      Field *field = &self->fields[i];

      store_field (self, field, field->name, field->name_len, field->value, field->value_len);
    }

  free_blocks (old);
}

static Field *
add_field (GMultiHeaders *self)
{
  if (self->n_fields == self->n_allocated)
    {
      if (self->n_allocated == 0 && self->blocks == NULL)
        {
          /* The first block, with room for the first fields after its strings. */
          Block *block = g_malloc (sizeof (Block) + FIRST_BLOCK_SIZE +
                                   FIRST_FIELD_COUNT * sizeof (Field));

          block->size = FIRST_BLOCK_SIZE;
          block->used = 0;
          block->next = NULL;
          self->blocks = block;
          self->fields = (Field *) (block->data + FIRST_BLOCK_SIZE);
          self->fields_home = block;
          self->n_allocated = FIRST_FIELD_COUNT;
        }
      else if (self->fields_home != NULL)
        {
          Field *fields = g_new (Field, self->n_allocated * 2);

          memcpy (fields, self->fields, self->n_fields * sizeof (Field));
          self->fields = fields;
          self->fields_home = NULL;
          self->n_allocated *= 2;
        }
      else
        {
          self->n_allocated = MAX (self->n_allocated * 2, FIRST_FIELD_COUNT);
          self->fields = g_renew (Field, self->fields, self->n_allocated);
        }
    }

  return &self->fields[self->n_fields++];
}

static void
trim_ows (const char **value,
          gsize       *len)
{
  const char *start = *value;
  const char *end = start + *len;

  while (start < end && gmulti_headers_is_ows (*start))
    start++;
  while (end > start && gmulti_headers_is_ows (end[-1]))
    end--;

  *value = start;
  *len = end - start;
}

gsize
gmulti_headers_find_non_tchar (const char *name,
                               gsize       len)
{
  gsize i;

  for (i = 0; i < len; i++)
    if (!gmulti_headers_is_tchar (name[i]))
      break;

  return i;
}

gsize
gmulti_headers_find_bad_value_char (const char *value,
                                    gsize       len)
{
  gsize i;

  for (i = 0; i < len; i++)
    if (!gmulti_headers_is_value_char (value[i]))
      break;

  return i;
}

/* The check every request head uses (http1/), so that a field accepted here is one
 * the engine can send. */
static gboolean
validate_field (const char  *name,
                const char  *value,
                GError     **error)
{
  return gmulti_http1_check_part (GMULTI_HTTP1_PART_FIELD_NAME, name, NULL, error) &&
         gmulti_http1_check_part (GMULTI_HTTP1_PART_FIELD_VALUE, value, name, error);
}

void
gmulti_headers_append_unchecked (GMultiHeaders *self,
                                 const char    *name,
                                 gsize          name_len,
                                 const char    *value,
                                 gsize          value_len)
{
  Field *field = add_field (self);

  store_field (self, field, name, name_len, value, value_len);
}

/**
 * gmulti_headers_new:
 *
 * Creates an empty list of header fields.
 *
 * Returns: (transfer full): a new [struct@Headers]
 *
 * Since: 0.1
 */
GMultiHeaders *
gmulti_headers_new (void)
{
  GMultiHeaders *self = g_new0 (GMultiHeaders, 1);

  g_atomic_ref_count_init (&self->ref_count);

  return self;
}

/**
 * gmulti_headers_ref:
 * @self: a [struct@Headers]
 *
 * Takes a reference on @self. The reference count is atomic, but changing the fields
 * from several threads at once needs the caller's own locking.
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
GMultiHeaders *
gmulti_headers_ref (GMultiHeaders *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);

  return self;
}

/**
 * gmulti_headers_unref:
 * @self: (transfer full): a [struct@Headers]
 *
 * Drops a reference on @self and frees it when it was the last one.
 *
 * Since: 0.1
 */
void
gmulti_headers_unref (GMultiHeaders *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  if (self->fields_home == NULL)
    g_free (self->fields);
  free_blocks (self->blocks);
  g_free (self);
}

/**
 * gmulti_headers_copy:
 * @self: a [struct@Headers]
 *
 * Makes an independent copy of @self with the same fields in the same order, for
 * example to change a request's headers without touching the original.
 *
 * Returns: (transfer full): a new [struct@Headers]
 *
 * Since: 0.1
 */
GMultiHeaders *
gmulti_headers_copy (GMultiHeaders *self)
{
  GMultiHeaders *copy;
  gsize live = 0;
  guint i;

  g_return_val_if_fail (self != NULL, NULL);

  copy = gmulti_headers_new ();
  if (self->n_fields == 0)
    return copy;

  for (i = 0; i < self->n_fields; i++)
    live += field_bytes (&self->fields[i]);

  /* One exact block and one exact array: a copy is usually not extended much. */
  copy->blocks = g_malloc (sizeof (Block) + live);
  copy->blocks->size = live;
  copy->blocks->used = 0;
  copy->blocks->next = NULL;
  copy->fields = g_new (Field, self->n_fields);
  copy->n_allocated = self->n_fields;

  for (i = 0; i < self->n_fields; i++)
    {
      const Field *field = &self->fields[i];

      store_field (copy, add_field (copy), field->name, field->name_len,
                   field->value, field->value_len);
    }

  return copy;
}

/**
 * gmulti_headers_append:
 * @self: a [struct@Headers]
 * @name: the field name, an RFC 9110 token such as `Accept-Language`
 * @value: the field value
 * @error: return location for a #GError
 *
 * Adds a field after all others, keeping any fields of the same name. Leading and
 * trailing spaces and tabs of @value are dropped.
 *
 * The name must consist of token characters only, and the value must not contain CR,
 * LF, NUL or another control character except the horizontal tab; otherwise nothing
 * is added and %GMULTI_ERROR_INVALID_HEADER is reported. This is what keeps a header
 * from smuggling extra lines into a request.
 *
 * Returns: %TRUE when the field was added, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
gmulti_headers_append (GMultiHeaders  *self,
                       const char     *name,
                       const char     *value,
                       GError        **error)
{
  gsize name_len, value_len;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  name_len = strlen (name);
  value_len = strlen (value);
  if (!validate_field (name, value, error))
    return FALSE;

  trim_ows (&value, &value_len);
  gmulti_headers_append_unchecked (self, name, name_len, value, value_len);

  return TRUE;
}

static void
remove_from (GMultiHeaders *self,
             guint          start,
             const char    *name,
             gsize          name_len,
             guint         *n_removed)
{
  guint i, kept = start;

  for (i = start; i < self->n_fields; i++)
    {
      Field *field = &self->fields[i];

      if (field_has_name (field, name, name_len))
        {
          self->dead_bytes += field_bytes (field);
          (*n_removed)++;
        }
      else
        {
          self->fields[kept++] = *field;
        }
    }

  self->n_fields = kept;
}

/**
 * gmulti_headers_replace:
 * @self: a [struct@Headers]
 * @name: the field name, an RFC 9110 token
 * @value: the new value
 * @error: return location for a #GError
 *
 * Sets the field @name to the single value @value. The first existing field of that
 * name takes the new name and value in place and later ones are removed; when there
 * is none, the field is appended. @name and @value are checked as in
 * [method@Headers.append].
 *
 * Returns: %TRUE when the field was set, %FALSE with @error set otherwise
 *
 * Since: 0.1
 */
gboolean
gmulti_headers_replace (GMultiHeaders  *self,
                        const char     *name,
                        const char     *value,
                        GError        **error)
{
  gsize name_len, value_len;
  guint i, n_removed = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  name_len = strlen (name);
  value_len = strlen (value);
  if (!validate_field (name, value, error))
    return FALSE;

  trim_ows (&value, &value_len);

  for (i = 0; i < self->n_fields; i++)
    if (field_has_name (&self->fields[i], name, name_len))
      break;

  if (i == self->n_fields)
    {
      gmulti_headers_append_unchecked (self, name, name_len, value, value_len);
      return TRUE;
    }

  self->dead_bytes += field_bytes (&self->fields[i]);
  store_field (self, &self->fields[i], name, name_len, value, value_len);
  remove_from (self, i + 1, name, name_len, &n_removed);
  maybe_compact (self);

  return TRUE;
}

/**
 * gmulti_headers_remove:
 * @self: a [struct@Headers]
 * @name: the field name to remove, compared case-insensitively
 *
 * Removes every field called @name; the others keep their order.
 *
 * Returns: the number of fields removed
 *
 * Since: 0.1
 */
guint
gmulti_headers_remove (GMultiHeaders *self,
                       const char    *name)
{
  guint n_removed = 0;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (name != NULL, 0);

  remove_from (self, 0, name, strlen (name), &n_removed);
  if (n_removed > 0)
    maybe_compact (self);

  return n_removed;
}

/**
 * gmulti_headers_clear:
 * @self: a [struct@Headers]
 *
 * Removes all fields. The memory is kept for the fields added next.
 *
 * Since: 0.1
 */
void
gmulti_headers_clear (GMultiHeaders *self)
{
  g_return_if_fail (self != NULL);

  self->n_fields = 0;
  self->dead_bytes = 0;

  if (self->blocks != NULL)
    {
      /* Keep the newest, largest block only (and the fields, wherever they are). */
      if (self->fields_home != NULL && self->fields_home != self->blocks)
        move_fields_out (self);
      free_blocks (self->blocks->next);
      self->blocks->next = NULL;
      self->blocks->used = 0;
    }
}

/**
 * gmulti_headers_get_one:
 * @self: a [struct@Headers]
 * @name: the field name, compared case-insensitively
 *
 * Looks up the value of the first field called @name. Use
 * [method@Headers.get_list] for fields that may be repeated.
 *
 * Returns: (nullable) (transfer none): the value, owned by @self, or %NULL when there
 *   is no such field. Appending keeps it valid; removing, replacing or clearing
 *   fields may not.
 *
 * Since: 0.1
 */
const char *
gmulti_headers_get_one (GMultiHeaders *self,
                        const char    *name)
{
  gsize name_len;
  guint i;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  name_len = strlen (name);
  for (i = 0; i < self->n_fields; i++)
    if (field_has_name (&self->fields[i], name, name_len))
      return self->fields[i].value;

  return NULL;
}

/**
 * gmulti_headers_get_list:
 * @self: a [struct@Headers]
 * @name: the field name, compared case-insensitively
 *
 * Combines the values of all fields called @name, in order, separated by `", "`, as
 * HTTP allows for list-based fields. (`Set-Cookie` is the well-known exception: read
 * its fields one by one with [method@Headers.foreach].)
 *
 * Returns: (nullable) (transfer full): the combined value, or %NULL when there is no
 *   such field
 *
 * Since: 0.1
 */
char *
gmulti_headers_get_list (GMultiHeaders *self,
                         const char    *name)
{
  GString *list = NULL;
  gsize name_len;
  guint i;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  name_len = strlen (name);
  for (i = 0; i < self->n_fields; i++)
    {
      const Field *field = &self->fields[i];

      if (!field_has_name (field, name, name_len))
        continue;

      if (list == NULL)
        {
          list = g_string_new_len (field->value, field->value_len);
        }
      else
        {
          g_string_append_len (list, ", ", 2);
          g_string_append_len (list, field->value, field->value_len);
        }
    }

  return list != NULL ? g_string_free (list, FALSE) : NULL;
}

/**
 * gmulti_headers_contains:
 * @self: a [struct@Headers]
 * @name: the field name, compared case-insensitively
 *
 * Checks whether at least one field is called @name.
 *
 * Returns: %TRUE when such a field is present
 *
 * Since: 0.1
 */
gboolean
gmulti_headers_contains (GMultiHeaders *self,
                         const char    *name)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return gmulti_headers_get_one (self, name) != NULL;
}

/**
 * gmulti_headers_get_length:
 * @self: a [struct@Headers]
 *
 * Counts the fields, repeated names included.
 *
 * Returns: the number of fields
 *
 * Since: 0.1
 */
guint
gmulti_headers_get_length (GMultiHeaders *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->n_fields;
}

/**
 * gmulti_headers_get_name:
 * @self: a [struct@Headers]
 * @index: the position of a field, below [method@Headers.get_length]
 *
 * Gets the name of the field at @index, spelled as it was added or received.
 *
 * Returns: (transfer none): the name, owned by @self. Appending keeps it valid;
 *   removing, replacing or clearing fields may not.
 *
 * Since: 0.1
 */
const char *
gmulti_headers_get_name (GMultiHeaders *self,
                         guint          index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->n_fields, NULL);

  return self->fields[index].name;
}

/**
 * gmulti_headers_get_value:
 * @self: a [struct@Headers]
 * @index: the position of a field, below [method@Headers.get_length]
 *
 * Gets the value of the field at @index.
 *
 * Returns: (transfer none): the value, owned by @self. Appending keeps it valid;
 *   removing, replacing or clearing fields may not.
 *
 * Since: 0.1
 */
const char *
gmulti_headers_get_value (GMultiHeaders *self,
                          guint          index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->n_fields, NULL);

  return self->fields[index].value;
}

/**
 * gmulti_headers_foreach:
 * @self: a [struct@Headers]
 * @func: (scope call) (closure user_data): the function to call for each field
 * @user_data: data passed to @func
 *
 * Calls @func for each field in order, until it returns %FALSE. @func must not change
 * @self.
 *
 * Since: 0.1
 */
void
gmulti_headers_foreach (GMultiHeaders            *self,
                        GMultiHeadersForeachFunc  func,
                        gpointer                  user_data)
{
  guint i;

  g_return_if_fail (self != NULL);
  g_return_if_fail (func != NULL);

  /* Re-read the count each time so a misbehaving callback cannot make us overrun. */
  for (i = 0; i < self->n_fields; i++)
    {
      const Field *field = &self->fields[i];

      if (!func (field->name, field->value, user_data))
        break;
    }
}
