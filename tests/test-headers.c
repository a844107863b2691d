/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-error.h"
#include "gmulti-headers.h"
#include "gmulti-headers-private.h"

/* "name=value|name=value" for easy comparison of the whole list. */
static char *
flatten (GMultiHeaders *headers)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < gmulti_headers_get_length (headers); i++)
    {
      if (i > 0)
        g_string_append_c (s, '|');
      g_string_append_printf (s, "%s=%s", gmulti_headers_get_name (headers, i),
                              gmulti_headers_get_value (headers, i));
    }

  return g_string_free (s, FALSE);
}

static void
assert_fields (GMultiHeaders *headers,
               const char    *expected)
{
  g_autofree char *flat = flatten (headers);

  g_assert_cmpstr (flat, ==, expected);
}

static void
append_ok (GMultiHeaders *headers,
           const char    *name,
           const char    *value)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (gmulti_headers_append (headers, name, value, &error));
  g_assert_no_error (error);
}

static void
test_basic (void)
{
  g_autoptr(GMultiHeaders) headers = gmulti_headers_new ();
  g_autofree char *list = NULL;

  g_assert_cmpuint (gmulti_headers_get_length (headers), ==, 0);
  g_assert_null (gmulti_headers_get_one (headers, "Accept"));
  g_assert_null (gmulti_headers_get_list (headers, "Accept"));
  g_assert_false (gmulti_headers_contains (headers, "Accept"));

  append_ok (headers, "Accept", "text/html");
  append_ok (headers, "X-Custom", "1");
  append_ok (headers, "accept", "application/json");

  assert_fields (headers, "Accept=text/html|X-Custom=1|accept=application/json");
  g_assert_cmpuint (gmulti_headers_get_length (headers), ==, 3);
  g_assert_cmpstr (gmulti_headers_get_one (headers, "ACCEPT"), ==, "text/html");
  g_assert_cmpstr (gmulti_headers_get_one (headers, "x-custom"), ==, "1");
  g_assert_true (gmulti_headers_contains (headers, "aCcEpT"));
  g_assert_false (gmulti_headers_contains (headers, "Accep"));
  g_assert_false (gmulti_headers_contains (headers, "Accepts"));

  list = gmulti_headers_get_list (headers, "Accept");
  g_assert_cmpstr (list, ==, "text/html, application/json");
  g_clear_pointer (&list, g_free);
  list = gmulti_headers_get_list (headers, "X-CUSTOM");
  g_assert_cmpstr (list, ==, "1");
}

static void
test_trim (void)
{
  g_autoptr(GMultiHeaders) headers = gmulti_headers_new ();

  append_ok (headers, "A", "  \t spaced out \t ");
  append_ok (headers, "B", "   ");
  append_ok (headers, "C", "");
  append_ok (headers, "D", "in\tner  tab");

  assert_fields (headers, "A=spaced out|B=|C=|D=in\tner  tab");
}

static void
assert_invalid (const char *name,
                const char *value,
                const char *message_part)
{
  g_autoptr(GMultiHeaders) headers = gmulti_headers_new ();
  g_autoptr(GError) error = NULL;

  append_ok (headers, "Keep", "me");

  g_assert_false (gmulti_headers_append (headers, name, value, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);
  g_assert_nonnull (strstr (error->message, message_part));
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_clear_error (&error);

  g_assert_false (gmulti_headers_replace (headers, name, value, &error));
  g_assert_error (error, GMULTI_ERROR, GMULTI_ERROR_INVALID_HEADER);

  /* A refused field leaves the list untouched. */
  assert_fields (headers, "Keep=me");
}

static void
test_validation (void)
{
  assert_invalid ("", "x", "empty");
  assert_invalid ("Bad Name", "x", "Bad Name");
  assert_invalid ("Bad:Name", "x", "Bad:Name");
  assert_invalid ("Evil\r\nX-Injected", "x", "Evil\\r\\nX-Injected");
  assert_invalid ("Caf\xc3\xa9", "x", "Caf\\303\\251");
  assert_invalid ("(comment)", "x", "(comment)");
  assert_invalid ("X-Value", "a\r\nX-Injected: 1", "X-Value");
  assert_invalid ("X-Value", "a\r\nX-Injected: 1", "0x0D");
  assert_invalid ("X-Value", "line\nfeed", "0x0A");
  assert_invalid ("X-Value", "bell\a", "0x07");
  assert_invalid ("X-Value", "del\x7f", "0x7F");
  assert_invalid ("X-Value", "esc\x1b[0m", "0x1B");
}

static void
test_valid_chars (void)
{
  g_autoptr(GMultiHeaders) headers = gmulti_headers_new ();

  /* Every tchar, and obs-text (UTF-8) in values, are fine. */
  append_ok (headers, "!#$%&'*+-.^_`|~09azAZ", "v");
  append_ok (headers, "X-Utf8", "caf\xc3\xa9 \xe2\x82\xac");
  append_ok (headers, "X-Quotes", "\"quoted\" (comment) <a@b> {x}");

  g_assert_cmpstr (gmulti_headers_get_one (headers, "x-utf8"), ==, "caf\xc3\xa9 \xe2\x82\xac");
  g_assert_cmpuint (gmulti_headers_get_length (headers), ==, 3);

  /* The scanners shared with the request writer agree with append(). */
  g_assert_cmpuint (gmulti_headers_find_non_tchar ("abc d", 5), ==, 3);
  g_assert_cmpuint (gmulti_headers_find_non_tchar ("abc", 3), ==, 3);
  g_assert_cmpuint (gmulti_headers_find_bad_value_char ("a\tb\rc", 5), ==, 3);
  g_assert_cmpuint (gmulti_headers_find_bad_value_char ("a\tb", 3), ==, 3);
}

static void
test_remove (void)
{
  g_autoptr(GMultiHeaders) headers = gmulti_headers_new ();

  append_ok (headers, "A", "1");
  append_ok (headers, "B", "2");
  append_ok (headers, "a", "3");
  append_ok (headers, "C", "4");
  append_ok (headers, "A", "5");

  g_assert_cmpuint (gmulti_headers_remove (headers, "nope"), ==, 0);
  g_assert_cmpuint (gmulti_headers_remove (headers, "a"), ==, 3);
  assert_fields (headers, "B=2|C=4");
  g_assert_cmpuint (gmulti_headers_remove (headers, "C"), ==, 1);
  g_assert_cmpuint (gmulti_headers_remove (headers, "B"), ==, 1);
  g_assert_cmpuint (gmulti_headers_get_length (headers), ==, 0);

  append_ok (headers, "New", "x");
  assert_fields (headers, "New=x");
}

static void
test_replace (void)
{
  g_autoptr(GMultiHeaders) headers = gmulti_headers_new ();
  g_autoptr(GError) error = NULL;

  /* Appends when absent. */
  g_assert_true (gmulti_headers_replace (headers, "A", "1", &error));
  g_assert_no_error (error);
  append_ok (headers, "B", "2");
  append_ok (headers, "a", "3");
  append_ok (headers, "C", "4");
  append_ok (headers, "A", "5");

  /* Keeps the first position, drops the later duplicates. */
  g_assert_true (gmulti_headers_replace (headers, "a", "  new  ", &error));
  g_assert_no_error (error);
  assert_fields (headers, "a=new|B=2|C=4");

  g_assert_true (gmulti_headers_replace (headers, "D", "6", &error));
  assert_fields (headers, "a=new|B=2|C=4|D=6");
}

static void
test_replace_many (void)
{
  g_autoptr(GMultiHeaders) headers = gmulti_headers_new ();
  guint i;

  append_ok (headers, "First", "stays");

  /* Enough replacements to force compaction of the dead strings several times;
   * the values must stay right throughout. */
  for (i = 0; i < 5000; i++)
    {
      g_autofree char *value = g_strdup_printf ("value-%u-%s", i, i % 2 ? "odd" : "even");
      g_autoptr(GError) error = NULL;

      g_assert_true (gmulti_headers_replace (headers, "Counter", value, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (gmulti_headers_get_one (headers, "counter"), ==, value);
      g_assert_cmpstr (gmulti_headers_get_one (headers, "first"), ==, "stays");
      g_assert_cmpuint (gmulti_headers_get_length (headers), ==, 2);
    }

  /* Appending never moves existing strings. */
  {
    g_autoptr(GMultiHeaders) other = gmulti_headers_new ();
    const char *first;

    append_ok (other, "First", "stable");
    first = gmulti_headers_get_one (other, "First");
    for (i = 0; i < 1000; i++)
      append_ok (other, "Filler", "0123456789abcdef0123456789abcdef");
    g_assert_true (gmulti_headers_get_one (other, "First") == first);
    g_assert_cmpstr (first, ==, "stable");
    g_assert_cmpuint (gmulti_headers_get_length (other), ==, 1001);
  }
}

static void
test_large_values (void)
{
  g_autoptr(GMultiHeaders) headers = gmulti_headers_new ();
  g_autofree char *big = g_strnfill (100000, 'x');
  g_autofree char *big2 = g_strnfill (3000, 'y');

  append_ok (headers, "Small", "s");
  append_ok (headers, "Big", big);
  append_ok (headers, "Mid", big2);
  append_ok (headers, "Small2", "t");

  g_assert_cmpstr (gmulti_headers_get_one (headers, "big"), ==, big);
  g_assert_cmpstr (gmulti_headers_get_one (headers, "mid"), ==, big2);
  g_assert_cmpstr (gmulti_headers_get_one (headers, "small"), ==, "s");
  g_assert_cmpstr (gmulti_headers_get_one (headers, "small2"), ==, "t");
}

static void
test_clear (void)
{
  g_autoptr(GMultiHeaders) headers = gmulti_headers_new ();
  guint i;

  for (i = 0; i < 100; i++)
    append_ok (headers, "X", "some longer value to fill more than one block");
  gmulti_headers_clear (headers);
  g_assert_cmpuint (gmulti_headers_get_length (headers), ==, 0);
  g_assert_null (gmulti_headers_get_one (headers, "X"));

  append_ok (headers, "Y", "1");
  assert_fields (headers, "Y=1");

  /* Clearing an empty list is fine too. */
  {
    g_autoptr(GMultiHeaders) empty = gmulti_headers_new ();

    gmulti_headers_clear (empty);
    g_assert_cmpuint (gmulti_headers_get_length (empty), ==, 0);
  }
}

static void
test_copy (void)
{
  g_autoptr(GMultiHeaders) headers = gmulti_headers_new ();
  g_autoptr(GMultiHeaders) copy = NULL;
  g_autoptr(GMultiHeaders) empty_copy = NULL;

  empty_copy = gmulti_headers_copy (headers);
  g_assert_cmpuint (gmulti_headers_get_length (empty_copy), ==, 0);
  append_ok (empty_copy, "Z", "1");
  g_assert_cmpuint (gmulti_headers_get_length (headers), ==, 0);

  append_ok (headers, "A", "1");
  append_ok (headers, "B", "");
  append_ok (headers, "a", "3");

  copy = gmulti_headers_copy (headers);
  g_assert_true (copy != headers);
  assert_fields (copy, "A=1|B=|a=3");

  /* Independent afterwards, and the copy can grow. */
  gmulti_headers_remove (headers, "A");
  append_ok (copy, "C", "4");
  append_ok (copy, "D", "5");
  assert_fields (headers, "B=");
  assert_fields (copy, "A=1|B=|a=3|C=4|D=5");
}

static void
test_unchecked (void)
{
  g_autoptr(GMultiHeaders) headers = gmulti_headers_new ();
  const char raw[] = "Content-Type: text/plain";

  /* Not NUL-terminated slices of a larger buffer. */
  gmulti_headers_append_unchecked (headers, raw, 12, raw + 14, 10);
  gmulti_headers_append_unchecked (headers, "Empty", 5, "", 0);
  assert_fields (headers, "Content-Type=text/plain|Empty=");
  g_assert_cmpstr (gmulti_headers_get_one (headers, "content-type"), ==, "text/plain");
}

typedef struct {
  GString *seen;
  guint stop_after;
  guint calls;
} ForeachData;

static gboolean
collect_cb (const char *name,
            const char *value,
            gpointer    user_data)
{
  ForeachData *data = user_data;

  g_string_append_printf (data->seen, "%s=%s;", name, value);
  data->calls++;

  return data->calls < data->stop_after;
}

static void
test_foreach (void)
{
  g_autoptr(GMultiHeaders) headers = gmulti_headers_new ();
  ForeachData data = { g_string_new (NULL), G_MAXUINT, 0 };

  gmulti_headers_foreach (headers, collect_cb, &data);
  g_assert_cmpuint (data.calls, ==, 0);

  append_ok (headers, "Set-Cookie", "a=1");
  append_ok (headers, "X", "y");
  append_ok (headers, "Set-Cookie", "b=2");

  gmulti_headers_foreach (headers, collect_cb, &data);
  g_assert_cmpstr (data.seen->str, ==, "Set-Cookie=a=1;X=y;Set-Cookie=b=2;");

  g_string_truncate (data.seen, 0);
  data.calls = 0;
  data.stop_after = 2;
  gmulti_headers_foreach (headers, collect_cb, &data);
  g_assert_cmpstr (data.seen->str, ==, "Set-Cookie=a=1;X=y;");

  g_string_free (data.seen, TRUE);
}

static void
test_boxed (void)
{
  GMultiHeaders *headers = gmulti_headers_new ();
  GMultiHeaders *dup;
  GValue value = G_VALUE_INIT;

  g_assert_true (G_TYPE_IS_BOXED (GMULTI_TYPE_HEADERS));
  g_assert_cmpstr (g_type_name (GMULTI_TYPE_HEADERS), ==, "GMultiHeaders");

  append_ok (headers, "A", "1");

  g_value_init (&value, GMULTI_TYPE_HEADERS);
  g_value_set_boxed (&value, headers);
  /* Copying the boxed type is taking a reference: the same object comes back. */
  dup = g_value_dup_boxed (&value);
  g_assert_true (dup == headers);
  gmulti_headers_unref (dup);
  g_value_unset (&value);

  /* Still alive: the value's reference was dropped, ours remains. */
  g_assert_cmpstr (gmulti_headers_get_one (headers, "A"), ==, "1");

  g_assert_true (gmulti_headers_ref (headers) == headers);
  gmulti_headers_unref (headers);
  gmulti_headers_unref (headers);
}

/* The first fields live in the first block: every way the block or the fields can
 * move (growth past them, a second block, clear, compaction, copy) keeps each field. */
static void
check_numbered (GMultiHeaders *headers,
                guint          n,
                gsize          value_len)
{
  g_assert_cmpuint (gmulti_headers_get_length (headers), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("X-Field-%u", i);
      const char *value = gmulti_headers_get_one (headers, name);

      g_assert_nonnull (value);
      g_assert_cmpuint (strlen (value), ==, value_len);
      g_assert_cmpint (value[0], ==, 'a' + (int) (i % 26));
      g_assert_cmpstr (gmulti_headers_get_name (headers, i), ==, name);
    }
}

static void
append_numbered (GMultiHeaders *headers,
                 guint          from,
                 guint          to,
                 gsize          value_len)
{
  for (guint i = from; i < to; i++)
    {
      g_autofree char *name = g_strdup_printf ("X-Field-%u", i);
      g_autofree char *value = g_strnfill (value_len, 'a' + (char) (i % 26));

      g_assert_true (gmulti_headers_append (headers, name, value, NULL));
    }
}

static void
test_storage_moves (void)
{
  g_autoptr (GMultiHeaders) headers = gmulti_headers_new ();
  g_autoptr (GMultiHeaders) copy = NULL;

  /* Few and short: all in the first block. */
  append_numbered (headers, 0, 5, 4);
  check_numbered (headers, 5, 4);
  /* Strings overflow into a second block while the fields stay in the first. */
  append_numbered (headers, 5, 9, 200);
  /* Clear keeps only the newest block: the fields must leave the first. */
  gmulti_headers_clear (headers);
  g_assert_cmpuint (gmulti_headers_get_length (headers), ==, 0);
  append_numbered (headers, 0, 40, 30);
  check_numbered (headers, 40, 30);

  gmulti_headers_clear (headers);
  append_numbered (headers, 0, 3, 8);
  /* Replacing in a loop compacts: the block the fields live in goes. */
  for (guint round = 0; round < 200; round++)
    {
      g_autofree char *value = g_strnfill (8, 'a' + (char) (round % 26));

      g_assert_true (gmulti_headers_replace (headers, "X-Field-1", value, NULL));
    }
  g_assert_cmpuint (gmulti_headers_get_length (headers), ==, 3);
  g_assert_cmpstr (gmulti_headers_get_one (headers, "X-Field-0"), ==, "aaaaaaaa");
  g_assert_cmpstr (gmulti_headers_get_one (headers, "X-Field-2"), ==, "cccccccc");

  /* Growth past the first fields, then a copy. */
  gmulti_headers_clear (headers);
  append_numbered (headers, 0, 11, 4);
  copy = gmulti_headers_copy (headers);
  check_numbered (headers, 11, 4);
  check_numbered (copy, 11, 4);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/GMulti/Headers/basic", test_basic);
  g_test_add_func ("/GMulti/Headers/trim", test_trim);
  g_test_add_func ("/GMulti/Headers/validation", test_validation);
  g_test_add_func ("/GMulti/Headers/valid-chars", test_valid_chars);
  g_test_add_func ("/GMulti/Headers/remove", test_remove);
  g_test_add_func ("/GMulti/Headers/replace", test_replace);
  g_test_add_func ("/GMulti/Headers/replace-many", test_replace_many);
  g_test_add_func ("/GMulti/Headers/large-values", test_large_values);
  g_test_add_func ("/GMulti/Headers/clear", test_clear);
  g_test_add_func ("/GMulti/Headers/copy", test_copy);
  g_test_add_func ("/GMulti/Headers/unchecked", test_unchecked);
  g_test_add_func ("/GMulti/Headers/foreach", test_foreach);
  g_test_add_func ("/GMulti/Headers/boxed", test_boxed);
  g_test_add_func ("/GMulti/Headers/storage-moves", test_storage_moves);

  return g_test_run ();
}
