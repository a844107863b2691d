/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "gmulti.h"
#include "cookies/gmulti-cookie-private.h"
#include "test-server.h"

/* Cookies (RFC 6265): the rules of parsing and sending as a table, the limits, the
 * Netscape file with real curl, and sessions and transfers carrying them against the
 * loopback server. */

#define WAIT_MS 10000

static guint
count_cookies (GMultiCookieJar *jar)
{
  g_autoptr (GPtrArray) all = gmulti_cookie_jar_list (jar, NULL);

  return all->len;
}

static void
assert_header (GMultiCookieJar *jar,
               const char      *uri,
               const char      *expected)
{
  g_autofree char *header = gmulti_cookie_jar_get_cookie_header (jar, uri);

  g_assert_cmpstr (header, ==, expected);
}

/* ------------------------------------------------------------ the RFC table */

typedef struct {
  const char *uri;          /* where the Set-Cookie came from */
  const char *set_cookie;
  const char *request;      /* where the next request goes */
  const char *expected;     /* its Cookie field; NULL: none */
} SetSendCase;

static const SetSendCase set_send_cases[] = {
  /* Plain, host-only: the host itself, not its subdomains, not its parent. */
  { "http://example.com/", "a=1", "http://example.com/", "a=1" },
  { "http://example.com/", "a=1", "http://www.example.com/", NULL },
  { "http://www.example.com/", "a=1", "http://example.com/", NULL },
  /* Domain: its subdomains too; a leading dot does not matter; case does not. */
  { "http://www.example.com/", "a=1; Domain=example.com", "http://x.y.example.com/", "a=1" },
  { "http://www.example.com/", "a=1; Domain=.EXAMPLE.com", "http://example.com/", "a=1" },
  /* A domain the host is not in, or only a suffix of a label of. */
  { "http://www.example.com/", "a=1; Domain=other.com", "http://other.com/", NULL },
  { "http://notexample.com/", "a=1; Domain=example.com", "http://example.com/", NULL },
  /* Public suffixes: refused for another host, host-only for the suffix itself. */
  { "http://www.example.co.uk/", "a=1; Domain=co.uk", "http://other.co.uk/", NULL },
  { "http://www.example.com/", "a=1; Domain=com", "http://www.example.com/", NULL },
  { "http://co.uk/", "a=1; Domain=co.uk", "http://co.uk/", "a=1" },
  { "http://co.uk/", "a=1; Domain=co.uk", "http://www.co.uk/", NULL },
  /* Addresses: no domain matching. */
  { "http://127.0.0.1/", "a=1; Domain=0.0.1", "http://127.0.0.1/", NULL },
  { "http://127.0.0.1/", "a=1", "http://127.0.0.1/", "a=1" },
  /* Paths: the default is the directory of the request; a match is by segment. */
  { "http://example.com/dir/page", "a=1", "http://example.com/dir/other", "a=1" },
  { "http://example.com/dir/page", "a=1", "http://example.com/", NULL },
  { "http://example.com/dir/page", "a=1", "http://example.com/directory", NULL },
  { "http://example.com/page", "a=1", "http://example.com/x/y", "a=1" },
  { "http://example.com/", "a=1; Path=/docs", "http://example.com/docs/x", "a=1" },
  { "http://example.com/", "a=1; Path=/docs", "http://example.com/docs", "a=1" },
  { "http://example.com/", "a=1; Path=/docs", "http://example.com/docsx", NULL },
  { "http://example.com/", "a=1; Path=/docs/", "http://example.com/docs/x", "a=1" },
  { "http://example.com/x/y", "a=1; Path=relative", "http://example.com/x/z", "a=1" },
  { "http://example.com/x/y", "a=1; Path=relative", "http://example.com/", NULL },
  /* Secure: set only over https, sent only over https. */
  { "https://example.com/", "a=1; Secure", "https://example.com/", "a=1" },
  { "https://example.com/", "a=1; Secure", "http://example.com/", NULL },
  { "http://example.com/", "a=1; Secure", "https://example.com/", NULL },
  /* Prefixes. */
  { "https://example.com/", "__Secure-a=1; Secure", "https://example.com/", "__Secure-a=1" },
  { "https://example.com/", "__Secure-a=1", "https://example.com/", NULL },
  { "https://example.com/", "__Host-a=1; Secure; Path=/", "https://example.com/", "__Host-a=1" },
  { "https://www.example.com/", "__Host-a=1; Secure; Path=/; Domain=example.com",
    "https://www.example.com/", NULL },
  { "https://example.com/", "__Host-a=1; Secure; Path=/x", "https://example.com/x", NULL },
  { "https://example.com/x/y", "__Host-a=1; Secure", "https://example.com/x/", NULL },
  /* Malformed: no '=', an empty name, a control character. */
  { "http://example.com/", "novalue", "http://example.com/", NULL },
  { "http://example.com/", "=1", "http://example.com/", NULL },
  { "http://example.com/", "a=1\x01", "http://example.com/", NULL },
  /* Whitespace around names and values, and empty values. */
  { "http://example.com/", "  a  =  1 2  ; Path=/", "http://example.com/", "a=1 2" },
  { "http://example.com/", "a=", "http://example.com/", "a=" },
  /* Expiry: in the past is not stored; Max-Age wins over Expires either way round. */
  { "http://example.com/", "a=1; Expires=Thu, 01 Jan 1970 00:00:01 GMT", "http://example.com/", NULL },
  { "http://example.com/", "a=1; Max-Age=0", "http://example.com/", NULL },
  { "http://example.com/", "a=1; Max-Age=-5", "http://example.com/", NULL },
  { "http://example.com/", "a=1; Max-Age=100; Expires=Thu, 01 Jan 1970 00:00:01 GMT",
    "http://example.com/", "a=1" },
  { "http://example.com/", "a=1; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=100",
    "http://example.com/", "a=1" },
  { "http://example.com/", "a=1; Expires=Wed, 01 Jan 2070 00:00:00 GMT; Max-Age=0",
    "http://example.com/", NULL },
  /* A bad Max-Age or Expires is ignored: a session cookie. */
  { "http://example.com/", "a=1; Max-Age=1x", "http://example.com/", "a=1" },
  { "http://example.com/", "a=1; Expires=yesterday", "http://example.com/", "a=1" },
};

static void
test_set_send_table (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (set_send_cases); i++)
    {
      const SetSendCase *c = &set_send_cases[i];
      g_autoptr (GMultiCookieJar) jar = gmulti_cookie_jar_new ();
      g_autofree char *header = NULL;

      gmulti_cookie_jar_set_cookie (jar, c->uri, c->set_cookie, NULL);
      header = gmulti_cookie_jar_get_cookie_header (jar, c->request);
      if (g_strcmp0 (header, c->expected) != 0)
        g_error ("case %u (%s from %s, to %s): got %s, expected %s", i, c->set_cookie,
                 c->uri, c->request, header, c->expected);
    }
}

typedef struct {
  const char *text;
  gint64 expected;          /* -1: refused */
} DateCase;

static void
test_dates (void)
{
  static const DateCase cases[] = {
    { "Sun, 06 Nov 1994 08:49:37 GMT", 784111777 },      /* RFC 1123 */
    { "Sunday, 06-Nov-94 08:49:37 GMT", 784111777 },     /* RFC 850 */
    { "Sun Nov  6 08:49:37 1994", 784111777 },           /* asctime() */
    { "Sun, 6-Nov-1994 08:49:37", 784111777 },
    { "06 Nov 1994 8:49:37", 784111777 },
    { "1994 Nov 06 08:49:37 GMT", 784111777 },            /* any order */
    { "Nov 06 08:49:37 1994xyz", 784111777 },
    { "Thu, 01 Jan 1970 00:00:00 GMT", 0 },
    { "Wed, 01 Jan 2070 00:00:00 GMT", 3155760000 },
    { "Sat, 01 Jan 00 00:00:00 GMT", 946684800 },         /* 00-69: 2000-2069 */
    { "Fri, 01 Jan 99 00:00:00 GMT", 915148800 },         /* 70-99: 1970-1999 */
    { "Sun, 31 Feb 2021 00:00:00 GMT", -1 },
    { "Sun, 32 Jan 2021 00:00:00 GMT", -1 },
    { "Sun, 01 Jan 2021 24:00:00 GMT", -1 },
    { "Sun, 01 Jan 1600 00:00:00 GMT", -1 },
    { "Sun, 01 Jan 2021 GMT", -1 },
    { "Sun, 01 2021 00:00:00 GMT", -1 },
    { "", -1 },
    { "001 Jan 2021 00:00:00", -1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gint64 when = -1;
      gboolean ok = gmulti_cookie_parse_date (cases[i].text, strlen (cases[i].text), &when);

      if (cases[i].expected < 0)
        g_assert_false (ok);
      else
        {
          g_assert_true (ok);
          g_assert_cmpint (when, ==, cases[i].expected);
        }
    }
}

static void
test_parse (void)
{
  g_autoptr (GMultiCookie) cookie = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  cookie = gmulti_cookie_parse ("id=a3fWa; Max-Age=3600; Domain=Example.com; Path=/app; "
                                "Secure; HttpOnly; SameSite=Lax",
                                "https://www.example.com/app/login");
  g_assert_nonnull (cookie);
  g_assert_cmpstr (gmulti_cookie_get_name (cookie), ==, "id");
  g_assert_cmpstr (gmulti_cookie_get_value (cookie), ==, "a3fWa");
  g_assert_cmpstr (gmulti_cookie_get_domain (cookie), ==, "example.com");
  g_assert_cmpstr (gmulti_cookie_get_path (cookie), ==, "/app");
  g_assert_false (gmulti_cookie_get_host_only (cookie));
  g_assert_true (gmulti_cookie_get_secure (cookie));
  g_assert_true (gmulti_cookie_get_http_only (cookie));
  g_assert_cmpint (gmulti_cookie_get_same_site (cookie), ==, GMULTI_COOKIE_SAME_SITE_LAX);
  g_assert_cmpint (gmulti_cookie_get_expires (cookie), >=, now + 3599);
  g_assert_cmpint (gmulti_cookie_get_expires (cookie), <=, now + 3601);
  g_clear_pointer (&cookie, gmulti_cookie_unref);

  /* The last of an attribute wins; an unknown SameSite is unset. */
  cookie = gmulti_cookie_parse ("a=b; Path=/one; Path=/two; SameSite=Strict; SameSite=odd",
                                "http://example.com/");
  g_assert_cmpstr (gmulti_cookie_get_path (cookie), ==, "/two");
  g_assert_cmpint (gmulti_cookie_get_same_site (cookie), ==, GMULTI_COOKIE_SAME_SITE_UNSET);
  g_assert_true (gmulti_cookie_get_host_only (cookie));
  g_assert_cmpint (gmulti_cookie_get_expires (cookie), ==, 0);
  g_clear_pointer (&cookie, gmulti_cookie_unref);

  g_assert_null (gmulti_cookie_parse ("a=b; Domain=com", "http://example.com/"));
  g_assert_null (gmulti_cookie_parse ("a=b", "not a uri"));
}

static void
count_changed_cb (GMultiCookieJar *jar,
                  GMultiCookie    *old_cookie,
                  GMultiCookie    *new_cookie,
                  gpointer         user_data)
{
  guint *counts = user_data;

  if (old_cookie == NULL)
    counts[0]++;        /* added */
  else if (new_cookie == NULL)
    counts[1]++;        /* removed */
  else
    counts[2]++;        /* replaced */
}

static void
test_replace_and_delete (void)
{
  g_autoptr (GMultiCookieJar) jar = gmulti_cookie_jar_new ();
  g_autofree char *header = NULL;
  guint counts[3] = { 0, 0, 0 };

  g_signal_connect (jar, "changed", G_CALLBACK (count_changed_cb), counts);
  g_assert_true (gmulti_cookie_jar_set_cookie (jar, "http://example.com/", "a=1", NULL));
  g_assert_true (gmulti_cookie_jar_set_cookie (jar, "http://example.com/", "b=2", NULL));
  /* Set again: replaced, keeping its place before b. */
  g_assert_true (gmulti_cookie_jar_set_cookie (jar, "http://example.com/", "a=3", NULL));
  header = gmulti_cookie_jar_get_cookie_header (jar, "http://example.com/");
  g_assert_cmpstr (header, ==, "a=3; b=2");
  g_clear_pointer (&header, g_free);
  /* Max-Age=0 deletes. */
  g_assert_true (gmulti_cookie_jar_set_cookie (jar, "http://example.com/", "a=x; Max-Age=0",
                                               NULL));
  header = gmulti_cookie_jar_get_cookie_header (jar, "http://example.com/");
  g_assert_cmpstr (header, ==, "b=2");
  g_assert_cmpuint (counts[0], ==, 2);
  g_assert_cmpuint (counts[1], ==, 1);
  g_assert_cmpuint (counts[2], ==, 1);
  gmulti_cookie_jar_clear (jar);
  g_assert_cmpuint (counts[1], ==, 2);
  g_assert_cmpuint (count_cookies (jar), ==, 0);
}

static void
test_order (void)
{
  g_autoptr (GMultiCookieJar) jar = gmulti_cookie_jar_new ();
  g_autofree char *header = NULL;

  gmulti_cookie_jar_set_cookie (jar, "http://www.example.com/", "short=1; Path=/", NULL);
  gmulti_cookie_jar_set_cookie (jar, "http://www.example.com/", "old=1; Path=/a/b", NULL);
  gmulti_cookie_jar_set_cookie (jar, "http://www.example.com/", "mid=1; Path=/a", NULL);
  gmulti_cookie_jar_set_cookie (jar, "http://www.example.com/",
                                "new=1; Path=/a/b; Domain=example.com", NULL);
  header = gmulti_cookie_jar_get_cookie_header (jar, "http://www.example.com/a/b/c");
  g_assert_cmpstr (header, ==, "old=1; new=1; mid=1; short=1");
}

static void
test_expiry (void)
{
  g_autoptr (GMultiCookieJar) jar = gmulti_cookie_jar_new ();
  g_autoptr (GMultiCookie) soon = NULL;
  g_autoptr (GPtrArray) list = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  guint counts[3] = { 0, 0, 0 };

  /* Added with an expiry about to pass; once it has, a request drops it. */
  soon = gmulti_cookie_new ("a", "1", "example.com", "/", now + 1, FALSE, FALSE,
                            GMULTI_COOKIE_SAME_SITE_UNSET, TRUE);
  gmulti_cookie_jar_add (jar, soon);
  g_signal_connect (jar, "changed", G_CALLBACK (count_changed_cb), counts);
  g_usleep (2100 * 1000);
  list = gmulti_cookie_jar_list (jar, "http://example.com/");
  g_assert_cmpuint (list->len, ==, 0);
  g_assert_cmpuint (counts[1], ==, 1);
  g_assert_cmpuint (count_cookies (jar), ==, 0);
}

static void
test_limits (void)
{
  g_autoptr (GMultiCookieJar) jar = gmulti_cookie_jar_new ();
  g_autoptr (GPtrArray) all = NULL;
  gboolean first_left = FALSE;

  for (guint i = 0; i < GMULTI_COOKIE_JAR_MAX_PER_DOMAIN + 5; i++)
    {
      g_autofree char *set = g_strdup_printf ("c%u=%u", i, i);

      gmulti_cookie_jar_set_cookie (jar, "http://example.com/", set, NULL);
    }
  all = gmulti_cookie_jar_list (jar, NULL);
  g_assert_cmpuint (all->len, ==, GMULTI_COOKIE_JAR_MAX_PER_DOMAIN);
  /* The oldest went first. */
  for (guint i = 0; i < all->len; i++)
    if (strcmp (gmulti_cookie_get_name (g_ptr_array_index (all, i)), "c0") == 0)
      first_left = TRUE;
  g_assert_false (first_left);
  g_clear_pointer (&all, g_ptr_array_unref);

  for (guint d = 0; d < GMULTI_COOKIE_JAR_MAX_COOKIES / 100 + 2; d++)
    for (guint i = 0; i < 100; i++)
      {
        g_autofree char *uri = g_strdup_printf ("http://host%u.example.org/", d);
        g_autofree char *set = g_strdup_printf ("c%u=%u", i, i);

        gmulti_cookie_jar_set_cookie (jar, uri, set, NULL);
      }
  all = gmulti_cookie_jar_list (jar, NULL);
  g_assert_cmpuint (all->len, ==, GMULTI_COOKIE_JAR_MAX_COOKIES);
  /* example.com's were the oldest. */
  assert_header (jar, "http://example.com/", NULL);
}

static void
test_policy (void)
{
  g_autoptr (GMultiCookieJar) jar = gmulti_cookie_jar_new ();

  gmulti_cookie_jar_set_accept_policy (jar, GMULTI_COOKIE_ACCEPT_NEVER);
  g_assert_false (gmulti_cookie_jar_set_cookie (jar, "http://example.com/", "a=1", NULL));
  gmulti_cookie_jar_set_accept_policy (jar, GMULTI_COOKIE_ACCEPT_NO_THIRD_PARTY);
  g_assert_false (gmulti_cookie_jar_set_cookie (jar, "http://ads.tracker.net/", "a=1",
                                                "http://www.example.co.uk/page"));
  g_assert_true (gmulti_cookie_jar_set_cookie (jar, "http://static.example.co.uk/", "a=1",
                                               "http://www.example.co.uk/page"));
  g_assert_false (gmulti_cookie_jar_set_cookie (jar, "http://other.co.uk/", "a=1",
                                                "http://www.example.co.uk/page"));
  g_assert_cmpuint (count_cookies (jar), ==, 1);
}

/* ------------------------------------------------------------ files */

static char *
temp_file (const char *name)
{
  g_autofree char *dir = g_dir_make_tmp ("gmulti-cookies-XXXXXX", NULL);

  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static void
remove_temp (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_file_round_trip (void)
{
  g_autofree char *path = temp_file ("cookies.txt");
  g_autofree char *contents = NULL;
  g_autoptr (GMultiCookieJar) again = NULL;
  g_autoptr (GPtrArray) list = NULL;
  GMultiCookieJar *jar;
  GError *error = NULL;

  jar = gmulti_cookie_jar_new_for_file (path, &error);
  g_assert_no_error (error);
  gmulti_cookie_jar_set_cookie (jar, "https://www.example.com/", "s=1; Secure; HttpOnly; "
                                "Domain=example.com; Max-Age=3600", NULL);
  gmulti_cookie_jar_set_cookie (jar, "http://example.com/dir/x", "session=2", NULL);
  /* Debounced: saved once the main context runs. */
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_nonnull (strstr (contents, "#HttpOnly_.example.com\tTRUE\t/\tTRUE\t"));
  g_assert_nonnull (strstr (contents, "\ts\t1\n"));
  g_assert_nonnull (strstr (contents, "\nexample.com\tFALSE\t/dir\tFALSE\t0\tsession\t2\n"));
  g_object_unref (jar);

  again = gmulti_cookie_jar_new_for_file (path, &error);
  g_assert_no_error (error);
  list = gmulti_cookie_jar_list (again, NULL);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_true (gmulti_cookie_get_http_only (g_ptr_array_index (list, 0)) ||
                 gmulti_cookie_get_http_only (g_ptr_array_index (list, 1)));
  assert_header (again, "https://a.example.com/", "s=1");
  assert_header (again, "http://example.com/dir", "session=2");
  g_clear_object (&again);
  remove_temp (path);
}

/* The moz_cookies table as Firefox and libsoup read it: persistent cookies only, a
 * leading dot for domain cookies. */
static void
test_sqlite (void)
{
  g_autofree char *path = temp_file ("cookies.sqlite");
  g_autoptr (GMultiCookieJar) again = NULL;
  GMultiCookieJar *jar;
  GError *error = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  jar = gmulti_cookie_jar_new_for_sqlite (path, &error);
  g_assert_no_error (error);
  gmulti_cookie_jar_set_cookie (jar, "https://www.example.com/", "d=1; Domain=example.com; "
                                "Max-Age=3600; Secure; HttpOnly; SameSite=Strict", NULL);
  gmulti_cookie_jar_set_cookie (jar, "http://example.com/", "h=2; Max-Age=3600", NULL);
  gmulti_cookie_jar_set_cookie (jar, "http://example.com/", "session=3", NULL);
  g_assert_true (gmulti_cookie_jar_save (jar, &error));
  g_assert_no_error (error);
  g_object_unref (jar);

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT host, name, isSecure, isHttpOnly, "
                                       "sameSite FROM moz_cookies ORDER BY name", -1,
                                       &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, ".example.com");
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 1), ==, "d");
  g_assert_cmpint (sqlite3_column_int (stmt, 2), ==, 1);
  g_assert_cmpint (sqlite3_column_int (stmt, 3), ==, 1);
  g_assert_cmpint (sqlite3_column_int (stmt, 4), ==, 2);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "example.com");
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  again = gmulti_cookie_jar_new_for_sqlite (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_cookies (again), ==, 2);
  assert_header (again, "https://a.example.com/", "d=1");
  assert_header (again, "http://example.com/", "h=2");
  g_clear_object (&again);
  remove_temp (path);
}

/* A cookie the application added may hold a line break; saved, it must not become a
 * cookie of another domain when the file is read again. */
static void
test_file_no_injection (void)
{
  g_autofree char *path = temp_file ("cookies.txt");
  g_autoptr (GMultiCookieJar) jar = gmulti_cookie_jar_new ();
  g_autoptr (GMultiCookieJar) again = gmulti_cookie_jar_new ();
  g_autoptr (GMultiCookie) evil = NULL;
  GError *error = NULL;

  evil = gmulti_cookie_new ("evil", "1\nexample.net\tFALSE\t/\tFALSE\t0\tinjected\t1",
                            "example.com", "/", 0, FALSE, FALSE,
                            GMULTI_COOKIE_SAME_SITE_UNSET, TRUE);
  gmulti_cookie_jar_add (jar, evil);
  g_assert_true (gmulti_cookie_jar_set_cookie (jar, "http://example.com/", "good=1", NULL));
  g_assert_false (gmulti_cookie_jar_set_cookie (jar, "http://example.com/",
                                                "p=1; Path=/x\nexample.net\tFALSE", NULL));
  g_assert_true (gmulti_cookie_jar_save_to_file (jar, path, &error));
  g_assert_no_error (error);
  g_assert_true (gmulti_cookie_jar_load_from_file (again, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_cookies (again), ==, 1);
  assert_header (again, "http://example.net/", NULL);
  assert_header (again, "http://example.com/", "good=1");
  remove_temp (path);
}

/* ------------------------------------------------------------ the server */

static gboolean
has_session_cookie (TestRequest *req)
{
  const char *cookie = test_request_get_header (req, "Cookie");

  return cookie != NULL && strstr (cookie, "session=s3cr3t") != NULL;
}

static gboolean
handler (TestServer  *server,
         TestConn    *conn,
         TestRequest *req,
         gpointer     user_data)
{
  const char *cookie = test_request_get_header (req, "Cookie");

  if (strcmp (req->target, "/set-on-redirect") == 0)
    return test_conn_respond_with_headers (conn, 302,
                                           "Set-Cookie: hop=1; Path=/\r\n"
                                           "Location: /echo\r\n", "", 0);
  if (strcmp (req->target, "/echo") == 0)
    return test_conn_respond (conn, 200, "text/plain", cookie != NULL ? cookie : "-",
                              cookie != NULL ? strlen (cookie) : 1);
  if (strcmp (req->target, "/login") == 0 && strcmp (req->method, "POST") == 0)
    {
      gsize size = 0;
      const char *body = req->body != NULL ? g_bytes_get_data (req->body, &size) : NULL;

      if (body == NULL || size != strlen ("user=alice&password=secret") ||
          memcmp (body, "user=alice&password=secret", size) != 0)
        return test_conn_respond (conn, 403, "text/plain", "no", 2);
      return test_conn_respond_with_headers (conn, 200,
                                             "Set-Cookie: session=s3cr3t; Path=/; HttpOnly\r\n"
                                             "Set-Cookie: theme=dark; Path=/\r\n",
                                             "ok", 2);
    }
  if (strcmp (req->target, "/private") == 0)
    {
      if (!has_session_cookie (req))
        return test_conn_respond (conn, 401, "text/plain", "who?", 4);
      return test_conn_respond (conn, 200, "text/plain", "welcome alice", 13);
    }
  return test_conn_respond (conn, 404, "text/plain", "", 0);
}

/* Runs @transfer in @session to its end. */
static void
run_in_session (GMultiSession  *session,
                GMultiTransfer *transfer)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;
  GError *error = NULL;

  g_assert_true (gmulti_session_add (session, transfer, &error));
  g_assert_no_error (error);
  while (gmulti_transfer_get_state (transfer) != GMULTI_TRANSFER_DONE)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_no_error (gmulti_transfer_get_error (transfer));
}

static char *
body_text (GMultiTransfer *transfer)
{
  g_autoptr (GBytes) body = gmulti_transfer_get_response_body (transfer);
  gsize size;
  const char *data = g_bytes_get_data (body, &size);

  return g_strndup (data, size);
}

static GMultiTransfer *
fetch (GMultiSession *session,
       TestServer    *server,
       const char    *path)
{
  g_autofree char *uri = test_server_uri (server, path);
  GMultiTransfer *transfer = gmulti_transfer_new (uri);

  gmulti_transfer_set_collect_body (transfer, TRUE);
  gmulti_transfer_set_follow_redirects (transfer, TRUE);
  run_in_session (session, transfer);
  return transfer;
}

static GMultiTransfer *
log_in (GMultiSession *session,
        TestServer    *server)
{
  g_autofree char *uri = test_server_uri (server, "/login");
  g_autoptr (GBytes) form = g_bytes_new_static ("user=alice&password=secret", 26);
  GMultiTransfer *transfer = gmulti_transfer_new (uri);

  g_assert_true (gmulti_transfer_set_request_body (transfer, form));
  gmulti_transfer_set_collect_body (transfer, TRUE);
  run_in_session (session, transfer);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  return transfer;
}

static void
test_session_redirect (void)
{
  g_autoptr (TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr (GMultiSession) session = gmulti_session_new ();
  g_autoptr (GMultiCookieJar) jar = gmulti_cookie_jar_new ();
  g_autoptr (GMultiTransfer) transfer = NULL;
  g_autofree char *body = NULL;

  g_assert_null (gmulti_session_get_cookie_jar (session));
  gmulti_session_set_cookie_jar (session, jar);
  g_assert_true (gmulti_session_get_cookie_jar (session) == jar);
  transfer = fetch (session, server, "/set-on-redirect");
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  /* The cookie of the 302 went with the next hop. */
  body = body_text (transfer);
  g_assert_cmpstr (body, ==, "hop=1");
  g_clear_object (&transfer);

  /* Without a jar, nothing is sent (and nothing kept). */
  gmulti_session_set_cookie_jar (session, NULL);
  transfer = fetch (session, server, "/echo");
  g_free (body);
  body = body_text (transfer);
  g_assert_cmpstr (body, ==, "-");
}

static void
test_session_secure (void)
{
  g_autoptr (TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr (GMultiSession) session = gmulti_session_new ();
  g_autoptr (GMultiCookieJar) jar = gmulti_cookie_jar_new ();
  g_autoptr (GMultiCookie) secure = NULL, plain = NULL;
  g_autoptr (GMultiTransfer) transfer = NULL;
  g_autofree char *body = NULL;

  secure = gmulti_cookie_new ("s", "1", "127.0.0.1", "/", 0, TRUE, FALSE,
                              GMULTI_COOKIE_SAME_SITE_UNSET, TRUE);
  plain = gmulti_cookie_new ("p", "2", "127.0.0.1", "/", 0, FALSE, FALSE,
                             GMULTI_COOKIE_SAME_SITE_UNSET, TRUE);
  gmulti_cookie_jar_add (jar, secure);
  gmulti_cookie_jar_add (jar, plain);
  g_object_set (session, "cookie-jar", jar, NULL);
  transfer = fetch (session, server, "/echo");
  body = body_text (transfer);
  g_assert_cmpstr (body, ==, "p=2");
}

static void
test_session_login (void)
{
  g_autoptr (TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autoptr (GMultiSession) session = gmulti_session_new ();
  g_autoptr (GMultiCookieJar) jar = gmulti_cookie_jar_new ();
  g_autoptr (GMultiTransfer) login = NULL, page = NULL, own = NULL;
  g_autofree char *body = NULL;

  /* Not logged in. */
  gmulti_session_set_cookie_jar (session, jar);
  page = fetch (session, server, "/private");
  g_assert_cmpuint (gmulti_transfer_get_status (page), ==, 401);
  g_clear_object (&page);

  login = log_in (session, server);
  g_assert_cmpuint (count_cookies (jar), ==, 2);
  page = fetch (session, server, "/private");
  g_assert_cmpuint (gmulti_transfer_get_status (page), ==, 200);
  body = body_text (page);
  g_assert_cmpstr (body, ==, "welcome alice");
  g_clear_object (&page);

  /* A transfer's own (empty) jar wins over the session's. */
  {
    g_autofree char *uri = test_server_uri (server, "/private");
    g_autoptr (GMultiCookieJar) empty = gmulti_cookie_jar_new ();

    own = gmulti_transfer_new (uri);
    gmulti_transfer_set_cookie_jar (own, empty);
    run_in_session (session, own);
    g_assert_cmpuint (gmulti_transfer_get_status (own), ==, 401);
  }
}

/* ------------------------------------------------------------ real curl */

static gboolean
run_curl (const char *const *args,
          char              **out)
{
  g_autofree char *curl = g_find_program_in_path ("curl");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  int status = 0;
  GError *error = NULL;

  if (curl == NULL)
    return FALSE;
  g_ptr_array_add (argv, curl);
  g_ptr_array_add (argv, (char *) "-s");
  g_ptr_array_add (argv, (char *) "--max-time");
  g_ptr_array_add (argv, (char *) "10");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL,
                               NULL, out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return TRUE;
}

static void
test_curl_writes (void)
{
  g_autoptr (TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autofree char *path = temp_file ("curl-jar.txt");
  g_autofree char *login = test_server_uri (server, "/login");
  g_autofree char *out = NULL, *body = NULL;
  g_autoptr (GMultiSession) session = gmulti_session_new ();
  g_autoptr (GMultiCookieJar) jar = NULL;
  g_autoptr (GMultiTransfer) page = NULL;
  const char *args[] = { "-c", path, "-d", "user=alice&password=secret", login, NULL };
  GError *error = NULL;

  if (!run_curl (args, &out))
    {
      g_test_skip ("curl is not installed");
      return;
    }
  g_assert_cmpstr (out, ==, "ok");
  jar = gmulti_cookie_jar_new_for_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_cookies (jar), ==, 2);
  gmulti_session_set_cookie_jar (session, jar);
  page = fetch (session, server, "/private");
  g_assert_cmpuint (gmulti_transfer_get_status (page), ==, 200);
  body = body_text (page);
  g_assert_cmpstr (body, ==, "welcome alice");
  g_clear_object (&jar);
  gmulti_session_set_cookie_jar (session, NULL);
  remove_temp (path);
}

static void
test_curl_reads (void)
{
  g_autoptr (TestServer) server = test_server_new (TEST_SERVER_IPV4, handler, NULL);
  g_autofree char *path = temp_file ("gmulti-jar.txt");
  g_autofree char *private = test_server_uri (server, "/private");
  g_autofree char *out = NULL;
  g_autoptr (GMultiSession) session = gmulti_session_new ();
  g_autoptr (GMultiCookieJar) jar = gmulti_cookie_jar_new ();
  g_autoptr (GMultiTransfer) login = NULL;
  const char *args[] = { "-b", path, private, NULL };
  g_autofree char *curl = g_find_program_in_path ("curl");
  GError *error = NULL;

  if (curl == NULL)
    {
      g_test_skip ("curl is not installed");
      return;
    }
  gmulti_session_set_cookie_jar (session, jar);
  login = log_in (session, server);
  g_assert_true (gmulti_cookie_jar_save_to_file (jar, path, &error));
  g_assert_no_error (error);
  g_assert_true (run_curl (args, &out));
  g_assert_cmpstr (out, ==, "welcome alice");
  remove_temp (path);
}

/* Neither a host of dots nor "Domain=." leaves a cookie without a domain. */
static void
test_empty_domain (void)
{
  g_autoptr (GMultiCookie) cookie = NULL;
  g_autoptr (GMultiCookieJar) jar = gmulti_cookie_jar_new ();
  g_autoptr (GPtrArray) all = NULL;

  g_assert_null (gmulti_cookie_parse ("a=1", "http://./page"));
  g_assert_null (gmulti_cookie_parse ("a=1", "http://../page"));
  gmulti_cookie_jar_set_cookie (jar, "http://./page", "b=2", NULL);
  all = gmulti_cookie_jar_list (jar, NULL);
  g_assert_cmpuint (all->len, ==, 0);

  cookie = gmulti_cookie_parse ("a=1; Domain=.", "http://example.com/");
  g_assert_nonnull (cookie);
  g_assert_cmpstr (gmulti_cookie_get_domain (cookie), ==, "example.com");
  g_assert_true (gmulti_cookie_get_host_only (cookie));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/GMulti/Cookies/set-send-table", test_set_send_table);
  g_test_add_func ("/GMulti/Cookies/dates", test_dates);
  g_test_add_func ("/GMulti/Cookies/parse", test_parse);
  g_test_add_func ("/GMulti/Cookies/empty-domain", test_empty_domain);
  g_test_add_func ("/GMulti/Cookies/replace-and-delete", test_replace_and_delete);
  g_test_add_func ("/GMulti/Cookies/order", test_order);
  g_test_add_func ("/GMulti/Cookies/expiry", test_expiry);
  g_test_add_func ("/GMulti/Cookies/limits", test_limits);
  g_test_add_func ("/GMulti/Cookies/policy", test_policy);
  g_test_add_func ("/GMulti/Cookies/file-round-trip", test_file_round_trip);
  g_test_add_func ("/GMulti/Cookies/file-no-injection", test_file_no_injection);
  g_test_add_func ("/GMulti/Cookies/sqlite", test_sqlite);
  g_test_add_func ("/GMulti/Cookies/session-redirect", test_session_redirect);
  g_test_add_func ("/GMulti/Cookies/session-secure", test_session_secure);
  g_test_add_func ("/GMulti/Cookies/session-login", test_session_login);
  g_test_add_func ("/GMulti/Cookies/curl-writes", test_curl_writes);
  g_test_add_func ("/GMulti/Cookies/curl-reads", test_curl_reads);
  return g_test_run ();
}
