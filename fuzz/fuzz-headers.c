/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmulti-error.h"
#include "gmulti-headers.h"
#include "http1/gmulti-http1-parser.h"
#include "http1/gmulti-http1-request.h"

/* Every header field the library interprets, and the GMultiHeaders API itself. The
 * first byte, modulo 4, picks the mode:
 *
 *   0  API: the rest is lines "OP NAME:VALUE" run against a GMultiHeaders and a plain
 *      list kept beside it (OP: a append, r replace, d remove, c clear, y copy and go
 *      on with the copy, s stop iterating at that index); after each, every lookup
 *      (length, index, get_one, get_list, contains, foreach) must agree with the list.
 *      What is accepted must be a token name and a value that cannot end its line.
 *   1  response head (3: the same, answering HEAD): the rest is one (or interim then
 *      final) response head, parsed whole. The status line, and how Content-Length, Transfer-Encoding and
 *      Connection decide the framing and reuse, are worked out again from the fields
 *      the parser stored, and must agree (RFC 9112 6.1-6.3, 9.3).
 *   2  request head: the rest is header lines for a request; the head written must
 *      carry Host first and once, no application framing fields, and one well-formed
 *      line per field.
 *
 * The library reads no other response field: not Keep-Alive (only the Connection
 * token), Retry-After or Content-Type. Location has its own target (fuzz-redirect.c:
 * resolution, and Location fields as the parser stores them); the engine's use of it
 * is in fuzz-exchange. */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond) \
  G_STMT_START { \
    if (G_UNLIKELY (!(cond))) \
      { \
        fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        abort (); \
      } \
  } G_STMT_END

static gboolean
is_tchar (guchar c)
{
  return g_ascii_isalnum (c) || (c != 0 && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

static gboolean
is_token (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s != '\0'; s++)
    if (!is_tchar ((guchar) *s))
      return FALSE;
  return TRUE;
}

/* Accepted text must never end a header line or smuggle a control byte into it. */
static void
check_field_text (const char *value)
{
  for (const char *p = value; *p != '\0'; p++)
    CHECK (*p == '\t' || ((guchar) *p >= 0x20 && *p != 0x7f));
}

static void
check_stored_value (const char *value)
{
  gsize len = strlen (value);

  check_field_text (value);
  /* Stored without surrounding whitespace. */
  CHECK (len == 0 || (value[0] != ' ' && value[0] != '\t' &&
                      value[len - 1] != ' ' && value[len - 1] != '\t'));
}

/* ---- mode 0: the API against a plain list ---- */

typedef struct {
  char *name;
  char *value;
} Field;

static void
field_free (gpointer data)
{
  Field *f = data;

  g_free (f->name);
  g_free (f->value);
  g_free (f);
}

static char *
trimmed (const char *value)
{
  const char *end = value + strlen (value);

  while (*value == ' ' || *value == '\t')
    value++;
  while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  return g_strndup (value, end - value);
}

typedef struct {
  GPtrArray *model;
  guint index;
  guint stop_at;
} ForeachState;

static gboolean
foreach_cb (const char *name,
            const char *value,
            gpointer    user_data)
{
  ForeachState *state = user_data;
  Field *f;

  CHECK (state->index < state->model->len);
  f = state->model->pdata[state->index];
  CHECK (strcmp (f->name, name) == 0 && strcmp (f->value, value) == 0);
  state->index++;
  return state->index != state->stop_at;
}

static void
check_against (GMultiHeaders *headers,
               GPtrArray     *model,
               const char    *name,
               guint          stop_at)
{
  ForeachState state = { model, 0, stop_at };
  const char *first = NULL;
  GString *list = NULL;
  char *got_list;

  CHECK (gmulti_headers_get_length (headers) == model->len);
  for (guint i = 0; i < model->len; i++)
    {
      Field *f = model->pdata[i];

      CHECK (strcmp (gmulti_headers_get_name (headers, i), f->name) == 0);
      CHECK (strcmp (gmulti_headers_get_value (headers, i), f->value) == 0);
      if (g_ascii_strcasecmp (f->name, name) == 0)
        {
          if (first == NULL)
            {
              first = f->value;
              list = g_string_new (f->value);
            }
          else
            g_string_append_printf (list, ", %s", f->value);
        }
    }

  CHECK (g_strcmp0 (gmulti_headers_get_one (headers, name), first) == 0);
  CHECK (gmulti_headers_contains (headers, name) == (first != NULL));
  got_list = gmulti_headers_get_list (headers, name);
  CHECK (g_strcmp0 (got_list, list != NULL ? list->str : NULL) == 0);
  g_free (got_list);
  if (list != NULL)
    g_string_free (list, TRUE);

  gmulti_headers_foreach (headers, foreach_cb, &state);
  CHECK (state.index == (stop_at != 0 && stop_at <= model->len ? stop_at : model->len));
}

static void
run_api (const char *text)
{
  GMultiHeaders *headers = gmulti_headers_new ();
  GPtrArray *model = g_ptr_array_new_with_free_func (field_free);
  char **lines = g_strsplit (text, "\n", 200);

  for (guint l = 0; lines[l] != NULL; l++)
    {
      const char *line = lines[l];
      char op = line[0];
      g_autofree char *name = NULL;
      const char *value = "";
      const char *colon;
      guint stop_at = 0;

      if (op == '\0')
        continue;
      line++;
      colon = strchr (line, ':');
      name = colon != NULL ? g_strndup (line, colon - line) : g_strdup (line);
      if (colon != NULL)
        value = colon + 1;

      switch (op)
        {
        case 'a':
        case 'r':
          {
            GError *error = NULL;
            gboolean ok = op == 'a' ? gmulti_headers_append (headers, name, value, &error)
                                    : gmulti_headers_replace (headers, name, value, &error);
            gboolean clean_value = TRUE;

            for (const char *p = value; *p != '\0'; p++)
              if (!(*p == '\t' || (*p >= 0x20 && *p < 0x7f)))
                clean_value = FALSE;

            if (!ok)
              {
                CHECK (g_error_matches (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER));
                /* A token and printable ASCII are always taken. */
                CHECK (!is_token (name) || !clean_value);
                g_error_free (error);
                break;
              }
            CHECK (error == NULL);
            CHECK (is_token (name));
            {
              Field *f = g_new0 (Field, 1);

              f->name = g_strdup (name);
              f->value = trimmed (value);
              check_stored_value (f->value);
              if (op == 'r')
                {
                  guint i;

                  /* The first of the name keeps its place; the others go. */
                  for (i = 0; i < model->len; i++)
                    if (g_ascii_strcasecmp (((Field *) model->pdata[i])->name, name) == 0)
                      break;
                  if (i < model->len)
                    {
                      field_free (model->pdata[i]);
                      model->pdata[i] = f;
                      for (guint j = model->len; j > i + 1; j--)
                        if (g_ascii_strcasecmp (((Field *) model->pdata[j - 1])->name,
                                                name) == 0)
                          g_ptr_array_remove_index (model, j - 1);
                      break;
                    }
                }
              g_ptr_array_add (model, f);
            }
          }
          break;
        case 'd':
          {
            guint expected = 0;

            for (guint j = model->len; j > 0; j--)
              if (g_ascii_strcasecmp (((Field *) model->pdata[j - 1])->name, name) == 0)
                {
                  g_ptr_array_remove_index (model, j - 1);
                  expected++;
                }
            CHECK (gmulti_headers_remove (headers, name) == expected);
          }
          break;
        case 'c':
          gmulti_headers_clear (headers);
          g_ptr_array_set_size (model, 0);
          break;
        case 'y':
          {
            GMultiHeaders *copy = gmulti_headers_copy (headers);

            check_against (copy, model, name, 0);
            gmulti_headers_unref (headers);
            headers = copy;
          }
          break;
        case 's':
          stop_at = (guint) g_ascii_strtoull (name, NULL, 10);
          break;
        default:
          break;
        }

      check_against (headers, model, name, stop_at);
    }

  g_strfreev (lines);
  g_ptr_array_unref (model);
  gmulti_headers_unref (headers);
}

/* ---- mode 1: a response head, and what its fields mean ---- */

static gboolean
list_has (GMultiHeaders *headers,
          const char    *name,
          const char    *token,
          gboolean       last_only)
{
  g_autofree char *list = gmulti_headers_get_list (headers, name);
  gboolean found = FALSE;
  char **elements;

  if (list == NULL)
    return FALSE;
  elements = g_strsplit (list, ",", -1);
  for (guint i = 0; elements[i] != NULL; i++)
    {
      char *element = g_strstrip (elements[i]);

      if (*element == '\0')
        continue;
      found = g_ascii_strcasecmp (element, token) == 0 ? TRUE : (last_only ? FALSE : found);
    }
  g_strfreev (elements);
  return found;
}

static guint
count_fields (GMultiHeaders *headers,
              const char    *name)
{
  guint n = 0;

  for (guint i = 0; i < gmulti_headers_get_length (headers); i++)
    if (g_ascii_strcasecmp (gmulti_headers_get_name (headers, i), name) == 0)
      n++;
  return n;
}

static void
check_final_head (GMultiHttp1Parser *parser)
{
  GMultiHeaders *headers = parser->headers;
  guint n_cl = count_fields (headers, "Content-Length");
  guint n_te = count_fields (headers, "Transfer-Encoding");
  gboolean close = list_has (headers, "Connection", "close", FALSE);
  gboolean keep = list_has (headers, "Connection", "keep-alive", FALSE);
  GMultiHttp1BodyMode mode;
  gboolean keep_alive;

  CHECK (parser->status >= 200 && parser->status <= 999);
  CHECK (parser->version_minor <= 1);
  CHECK (parser->reason != NULL);
  /* A reason phrase may end in whitespace (RFC 9112 4). */
  check_field_text (parser->reason);
  for (guint i = 0; i < gmulti_headers_get_length (headers); i++)
    {
      CHECK (is_token (gmulti_headers_get_name (headers, i)));
      check_stored_value (gmulti_headers_get_value (headers, i));
    }

  /* Ambiguous framing is refused, never guessed. */
  CHECK (n_cl <= 1);
  CHECK (n_cl == 0 || n_te == 0);

  if (parser->head_request || parser->status == 204 || parser->status == 304)
    mode = GMULTI_HTTP1_BODY_NONE;
  else if (n_te > 0)
    mode = list_has (headers, "Transfer-Encoding", "chunked", TRUE)
           ? GMULTI_HTTP1_BODY_CHUNKED : GMULTI_HTTP1_BODY_CLOSE;
  else if (n_cl == 1)
    mode = GMULTI_HTTP1_BODY_LENGTH;
  else
    mode = GMULTI_HTTP1_BODY_CLOSE;
  CHECK (parser->body_mode == mode);

  if (mode == GMULTI_HTTP1_BODY_LENGTH)
    {
      const char *value = gmulti_headers_get_one (headers, "Content-Length");
      char *end = NULL;
      guint64 length;

      CHECK (*value != '\0');
      for (const char *p = value; *p != '\0'; p++)
        CHECK (g_ascii_isdigit (*p));
      length = g_ascii_strtoull (value, &end, 10);
      CHECK (*end == '\0' && length <= G_MAXINT64);
      CHECK (parser->content_length == (gint64) length);
    }
  else
    CHECK (parser->content_length == -1);

  keep_alive = parser->version_minor >= 1 ? !close : keep && !close;
  if (mode == GMULTI_HTTP1_BODY_CLOSE || (parser->version_minor == 0 && n_te > 0))
    keep_alive = FALSE;
  CHECK (parser->keep_alive == keep_alive);
}

static void
run_response_head (const guint8 *data,
                   gsize         size,
                   gboolean      head_request)
{
  GMultiHttp1Parser parser;
  gsize pos = 0;

  gmulti_http1_parser_init (&parser);
  gmulti_http1_parser_reset (&parser, head_request);
  for (;;)
    {
      GError *error = NULL;
      const guint8 *body = NULL;
      gsize body_length = 0, consumed = 0;
      GMultiHttp1Event event;

      event = gmulti_http1_parser_feed (&parser, size > 0 ? data + pos : (const guint8 *) "",
                                        size - pos, &consumed, &body, &body_length, &error);
      pos += consumed;
      if (event == GMULTI_HTTP1_HEADERS)
        {
          CHECK (parser.headers != NULL);
          if (parser.status >= 200)
            {
              check_final_head (&parser);
              break;
            }
          CHECK (parser.status >= 100);
          continue;
        }
      if (event == GMULTI_HTTP1_ERROR)
        {
          CHECK (error != NULL && error->domain == GMULTI_ERROR);
          g_error_free (error);
        }
      CHECK (event != GMULTI_HTTP1_BODY && event != GMULTI_HTTP1_DONE);
      break;
    }
  gmulti_http1_parser_clear (&parser);
}

/* ---- mode 2: the request head written from application fields ---- */

static void
run_request_head (const char *text)
{
  GMultiHeaders *headers = gmulti_headers_new ();
  char **lines = g_strsplit (text, "\n", 100);
  GString *head = g_string_new (NULL);
  char **out;
  guint n_out, n_app = 0, n_host = 0;
  gint64 framing = text[0] == '\0' ? GMULTI_HTTP1_NO_BODY
                   : text[0] == 'C' ? GMULTI_HTTP1_CHUNKED : (gint64) (guchar) text[0] % 5;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *colon = strchr (lines[i], ':');

      if (colon == NULL)
        continue;
      *colon = '\0';
      if (gmulti_headers_append (headers, lines[i], colon + 1, NULL))
        n_app++;
    }

  gmulti_http1_write_request_head (head, "GET", "/", "example.com", headers, framing,
                                   text[0] & 1 ? "gmulti-fuzz" : NULL);
  CHECK (strlen (head->str) == head->len);
  CHECK (g_str_has_suffix (head->str, "\r\n\r\n"));
  out = g_strsplit (head->str, "\r\n", -1);
  n_out = g_strv_length (out);
  CHECK (n_out >= 4);
  CHECK (strcmp (out[0], "GET / HTTP/1.1") == 0);
  CHECK (g_str_has_prefix (out[1], "Host: "));
  for (guint i = 1; i + 2 < n_out; i++)
    {
      char *colon = strstr (out[i], ": ");

      CHECK (colon != NULL);
      *colon = '\0';
      CHECK (is_token (out[i]));
      CHECK (strpbrk (colon + 2, "\r\n") == NULL);
      check_stored_value (colon + 2);
      if (g_ascii_strcasecmp (out[i], "Host") == 0)
        n_host++;
      /* The engine frames the body; application framing fields never reach the wire. */
      if (g_ascii_strcasecmp (out[i], "Content-Length") == 0)
        CHECK (framing >= 0 || framing == GMULTI_HTTP1_NO_BODY);
      if (g_ascii_strcasecmp (out[i], "Transfer-Encoding") == 0)
        CHECK (framing == GMULTI_HTTP1_CHUNKED && strcmp (colon + 2, "chunked") == 0);
    }
  CHECK (n_host == 1);
  CHECK (*out[n_out - 2] == '\0' && *out[n_out - 1] == '\0');
  CHECK (n_out - 3 >= n_app - (guint) count_fields (headers, "Host") -
                      count_fields (headers, "Content-Length") -
                      count_fields (headers, "Transfer-Encoding"));

  g_strfreev (out);
  g_string_free (head, TRUE);
  g_strfreev (lines);
  gmulti_headers_unref (headers);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  char *text;

  if (size < 1)
    return 0;

  switch (data[0] % 4)
    {
    case 0:
      text = g_strndup ((const char *) data + 1, size - 1);
      run_api (text);
      g_free (text);
      break;
    case 1:
    case 3:
      run_response_head (data + 1, size - 1, data[0] % 4 == 3);
      break;
    default:
      text = g_strndup ((const char *) data + 1, size - 1);
      run_request_head (text);
      g_free (text);
      break;
    }
  return 0;
}
