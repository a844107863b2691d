/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>

#include "gmulti.h"
#include "hsts/gmulti-hsts-private.h"
#include "test-certs.h"
#include "test-server.h"

/* HSTS: the Strict-Transport-Security parser, the store and its matching, curl's cache
 * file, and the upgrade end to end against Debian's nginx (https with the test
 * certificates) and curl itself, both started here. */

#define WAIT_MS 20000
#define NOW G_GINT64_CONSTANT (1800000000)   /* 2027-01-15, the tests' clock */

/* ------------------------------------------------------------------ parser */

typedef struct {
  const char *value;
  gboolean valid;
  gint64 max_age;
  gboolean include_subdomains;
} ParseCase;

static const ParseCase parse_cases[] = {
  /* RFC 6797 6.2's examples */
  { "max-age=31536000", TRUE, 31536000, FALSE },
  { "max-age=15768000 ; includeSubDomains", TRUE, 15768000, TRUE },
  { "max-age=\"31536000\"", TRUE, 31536000, FALSE },
  { "max-age=0", TRUE, 0, FALSE },
  { "max-age=0; includeSubDomains", TRUE, 0, TRUE },
  /* names are case-insensitive, order is free, white space around every part */
  { "MAX-AGE=10", TRUE, 10, FALSE },
  { "Max-Age=10;INCLUDESUBDOMAINS", TRUE, 10, TRUE },
  { "includeSubDomains; max-age=10", TRUE, 10, TRUE },
  { "  max-age = 10 ;  includeSubDomains  ", TRUE, 10, TRUE },
  { "max-age=10\t;\tincludesubdomains", TRUE, 10, TRUE },
  /* empty directives, a trailing separator */
  { ";;max-age=10;;", TRUE, 10, FALSE },
  { "max-age=10;", TRUE, 10, FALSE },
  /* unknown directives are ignored, with or without value, token or quoted */
  { "max-age=10; preload", TRUE, 10, FALSE },
  { "max-age=10; foo=bar; baz=\"a;b=c\"", TRUE, 10, FALSE },
  { "foo; max-age=10; foo", TRUE, 10, FALSE },
  /* quoted-pair inside a quoted value */
  { "max-age=\"1\\2\"", TRUE, 12, FALSE },
  { "max-age=10; ext=\"a\\\"b\"", TRUE, 10, FALSE },
  /* huge values are clamped, not wrapped */
  { "max-age=99999999999999999999999999", TRUE, GMULTI_HSTS_MAX_AGE_LIMIT, FALSE },
  { "max-age=0000000000000000000000010", TRUE, 10, FALSE },
  /* invalid: no max-age, no value, not digits */
  { "", FALSE, 0, FALSE },
  { ";", FALSE, 0, FALSE },
  { "includeSubDomains", FALSE, 0, FALSE },
  { "max-age", FALSE, 0, FALSE },
  { "max-age=", FALSE, 0, FALSE },
  { "max-age=\"\"", FALSE, 0, FALSE },
  { "max-age=-1", FALSE, 0, FALSE },
  { "max-age=+1", FALSE, 0, FALSE },
  { "max-age=1.5", FALSE, 0, FALSE },
  { "max-age=abc", FALSE, 0, FALSE },
  { "max-age=10s", FALSE, 0, FALSE },
  { "max-age=\" 10\"", FALSE, 0, FALSE },
  /* a directive twice makes the field invalid */
  { "max-age=10; max-age=20", FALSE, 0, FALSE },
  { "max-age=10; MAX-AGE=10", FALSE, 0, FALSE },
  { "max-age=10; includeSubDomains; includeSubDomains", FALSE, 0, FALSE },
  /* includeSubDomains takes no value */
  { "max-age=10; includeSubDomains=true", FALSE, 0, FALSE },
  /* broken syntax */
  { "max-age=10 20", FALSE, 0, FALSE },
  { "max-age=10, includeSubDomains", FALSE, 0, FALSE },
  { "max-age=\"10", FALSE, 0, FALSE },
  { "max-age=10; foo=\"unterminated", FALSE, 0, FALSE },
  { "max-age=10; =x", FALSE, 0, FALSE },
  { "max-age==10", FALSE, 0, FALSE },
  { "max-age=10; foo bar", FALSE, 0, FALSE },
  { "max-age=10; f\xc3\xb6o", FALSE, 0, FALSE },
  { "max-age=10; foo=\"a\x01\"", FALSE, 0, FALSE },
};

static void
test_parse (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (parse_cases); i++)
    {
      const ParseCase *c = &parse_cases[i];
      gint64 max_age = -7;
      gboolean include_subdomains = -7;
      gboolean valid = gmulti_hsts_parse_header (c->value, &max_age, &include_subdomains);

      g_test_message ("case %u: %s", i, c->value);
      g_assert_cmpint (valid, ==, c->valid);
      if (valid)
        {
          g_assert_cmpint (max_age, ==, c->max_age);
          g_assert_cmpint (include_subdomains, ==, c->include_subdomains);
        }
      else
        {
          /* Nothing is written for an invalid field. */
          g_assert_cmpint (max_age, ==, -7);
          g_assert_cmpint (include_subdomains, ==, -7);
        }
    }
  g_assert_false (gmulti_hsts_parse_header (NULL, NULL, NULL));
}

/* ------------------------------------------------------------------ store */

static GMultiHstsEnforcer *
enforcer_at (gint64 now)
{
  GMultiHstsEnforcer *self = gmulti_hsts_enforcer_new ();

  gmulti_hsts_enforcer_set_now (self, now);
  return self;
}

static void
count_cb (GMultiHstsEnforcer *self,
          GMultiHstsPolicy   *old_policy,
          GMultiHstsPolicy   *new_policy,
          guint              *count)
{
  (*count)++;
}

static void
test_match (void)
{
  g_autoptr(GMultiHstsEnforcer) self = enforcer_at (NOW);
  guint changes = 0;

  g_signal_connect (self, "changed", G_CALLBACK (count_cb), &changes);
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "example.com"));

  /* Congruent match only without includeSubDomains. */
  g_assert_true (gmulti_hsts_enforcer_add_entry (self, "Example.COM", 100, FALSE));
  g_assert_cmpuint (changes, ==, 1);
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "example.com"));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "EXAMPLE.com"));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "example.com."));
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "www.example.com"));
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "com"));
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "badexample.com"));
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "example.co"));

  /* An IDN matches its ASCII form. */
  g_assert_true (gmulti_hsts_enforcer_add_entry (self, "B\xc3\xbc" "cher.test", 100, FALSE));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "xn--bcher-kva.test"));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "b\xc3\xbc" "cher.test"));
  g_assert_true (gmulti_hsts_enforcer_remove_entry (self, "xn--bcher-kva.test"));
  changes -= 2;

  /* Superdomain match with includeSubDomains, at any depth. */
  g_assert_true (gmulti_hsts_enforcer_add_entry (self, "sub.test.", 100, TRUE));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "sub.test"));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "a.sub.test"));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "x.y.A.Sub.Test."));
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "test"));
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "xsub.test"));

  /* The same values again change nothing, nor does an expiry that moved by less than
   * a minute; others replace the policy. */
  g_assert_true (gmulti_hsts_enforcer_add_entry (self, "sub.test", 100, TRUE));
  g_assert_true (gmulti_hsts_enforcer_add_entry (self, "sub.test", 159, TRUE));
  g_assert_cmpuint (changes, ==, 2);
  g_assert_true (gmulti_hsts_enforcer_add_entry (self, "sub.test", 160, TRUE));
  g_assert_cmpuint (changes, ==, 3);
  g_assert_true (gmulti_hsts_enforcer_add_entry (self, "sub.test", 100, FALSE));
  g_assert_cmpuint (changes, ==, 4);
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "a.sub.test"));

  /* max-age=0 deletes. */
  g_assert_true (gmulti_hsts_enforcer_add_entry (self, "example.com", 0, FALSE));
  g_assert_cmpuint (changes, ==, 5);
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "example.com"));
  g_assert_cmpuint (gmulti_hsts_enforcer_get_n_entries (self), ==, 1);

  /* Remove and clear. */
  g_assert_false (gmulti_hsts_enforcer_remove_entry (self, "nothing.test"));
  g_assert_true (gmulti_hsts_enforcer_remove_entry (self, "SUB.test"));
  g_assert_cmpuint (gmulti_hsts_enforcer_get_n_entries (self), ==, 0);
  gmulti_hsts_enforcer_add_entry (self, "a.test", 100, FALSE);
  gmulti_hsts_enforcer_add_entry (self, "b.test", 100, FALSE);
  changes = 0;
  gmulti_hsts_enforcer_clear (self);
  g_assert_cmpuint (changes, ==, 2);
  g_assert_cmpuint (gmulti_hsts_enforcer_get_n_entries (self), ==, 0);
}

static void
test_ip_literals (void)
{
  g_autoptr(GMultiHstsEnforcer) self = enforcer_at (NOW);
  const char *ips[] = { "127.0.0.1", "10.1.2.3", "::1", "[::1]", "fe80::1", "2001:db8::2" };

  for (guint i = 0; i < G_N_ELEMENTS (ips); i++)
    {
      g_assert_false (gmulti_hsts_enforcer_add_entry (self, ips[i], 100, TRUE));
      g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, ips[i]));
    }
  g_assert_false (gmulti_hsts_enforcer_add_entry (self, "", 100, TRUE));
  g_assert_false (gmulti_hsts_enforcer_add_entry (self, "bad\xff\x05name", 100, TRUE));
  g_assert_false (gmulti_hsts_enforcer_add_entry (self, "a b", 100, TRUE));
  g_assert_false (gmulti_hsts_enforcer_add_entry (self, ".", 100, TRUE));
  /* Empty labels make no name; "127.0.." would read back as the address 127.0. */
  g_assert_false (gmulti_hsts_enforcer_add_entry (self, "127.0..", 100, TRUE));
  g_assert_false (gmulti_hsts_enforcer_add_entry (self, "a..example", 100, TRUE));
  g_assert_cmpuint (gmulti_hsts_enforcer_get_n_entries (self), ==, 0);
  /* A superdomain policy never covers an address. */
  gmulti_hsts_enforcer_add_entry (self, "1", 100, TRUE);
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "127.0.0.1"));
}

static void
test_expiry (void)
{
  g_autoptr(GMultiHstsEnforcer) self = enforcer_at (NOW);
  GList *list;

  gmulti_hsts_enforcer_add_entry (self, "short.test", 10, TRUE);
  gmulti_hsts_enforcer_add_entry (self, "forever.test", GMULTI_HSTS_NO_EXPIRY, FALSE);
  list = gmulti_hsts_enforcer_list (self);
  g_assert_cmpuint (g_list_length (list), ==, 2);
  g_assert_cmpstr (gmulti_hsts_policy_get_host (list->data), ==, "forever.test");
  g_assert_cmpint (gmulti_hsts_policy_get_expires (list->data), ==, G_MAXINT64);
  g_assert_cmpstr (gmulti_hsts_policy_get_host (list->next->data), ==, "short.test");
  g_assert_cmpint (gmulti_hsts_policy_get_expires (list->next->data), ==, NOW + 10);
  g_assert_true (gmulti_hsts_policy_get_include_subdomains (list->next->data));
  g_assert_false (gmulti_hsts_policy_is_preloaded (list->data));
  g_list_free_full (list, (GDestroyNotify) gmulti_hsts_policy_free);

  gmulti_hsts_enforcer_set_now (self, NOW + 9);
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "a.short.test"));
  gmulti_hsts_enforcer_set_now (self, NOW + 10);
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "short.test"));
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "a.short.test"));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "forever.test"));
  list = gmulti_hsts_enforcer_list (self);
  g_assert_cmpuint (g_list_length (list), ==, 1);
  g_list_free_full (list, (GDestroyNotify) gmulti_hsts_policy_free);
  /* Nothing is rewritten for an expired host. */
  g_assert_null (gmulti_hsts_enforcer_rewrite (self, "http://short.test/"));
}

static void
test_preload (void)
{
  g_autoptr(GMultiHstsEnforcer) self = enforcer_at (NOW);
  const char *hosts[] = { ".preload.test", "exact.test", "192.168.0.1", NULL };
  GList *list;

  gmulti_hsts_enforcer_preload (self, hosts);
  g_assert_cmpuint (gmulti_hsts_enforcer_get_n_entries (self), ==, 2);
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "www.preload.test"));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "exact.test"));
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "www.exact.test"));
  /* A response's max-age=0 does not remove a preloaded host, and the clock does not
   * expire it. */
  gmulti_hsts_enforcer_store (self, "exact.test", 0, FALSE);
  gmulti_hsts_enforcer_set_now (self, G_MAXINT64 - 1);
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "exact.test"));
  list = gmulti_hsts_enforcer_list (self);
  g_assert_true (gmulti_hsts_policy_is_preloaded (list->data));
  g_list_free_full (list, (GDestroyNotify) gmulti_hsts_policy_free);
}

static void
test_limit (void)
{
  g_autoptr(GMultiHstsEnforcer) self = enforcer_at (NOW);
  const char *preloaded[] = { "kept.test", NULL };

  gmulti_hsts_enforcer_preload (self, preloaded);
  /* h0 is the oldest and lives longest; h1... expire from NOW + 1001 on. */
  for (guint i = 0; i < GMULTI_HSTS_MAX_ENTRIES; i++)
    {
      g_autofree char *host = g_strdup_printf ("h%u.test", i);

      gmulti_hsts_enforcer_add_entry (self, host, i == 0 ? 100000 : 1000 + i, FALSE);
    }
  g_assert_cmpuint (gmulti_hsts_enforcer_get_n_entries (self), ==, GMULTI_HSTS_MAX_ENTRIES + 1);

  /* One more once some have expired: an expired one goes, not the oldest. */
  gmulti_hsts_enforcer_set_now (self, NOW + 1500);
  gmulti_hsts_enforcer_add_entry (self, "newer.test", 1000, FALSE);
  g_assert_cmpuint (gmulti_hsts_enforcer_get_n_entries (self), ==, GMULTI_HSTS_MAX_ENTRIES + 1);
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "h0.test"));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "newer.test"));

  /* With none expired, the oldest goes; the preloaded one is never evicted. */
  gmulti_hsts_enforcer_set_now (self, NOW);
  gmulti_hsts_enforcer_add_entry (self, "new.test", 1000, FALSE);
  g_assert_cmpuint (gmulti_hsts_enforcer_get_n_entries (self), ==, GMULTI_HSTS_MAX_ENTRIES + 1);
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "h0.test"));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "h600.test"));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "new.test"));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "kept.test"));
}

typedef struct {
  const char *uri;
  const char *expected;   /* NULL: not rewritten */
} RewriteCase;

static void
test_rewrite (void)
{
  g_autoptr(GMultiHstsEnforcer) self = enforcer_at (NOW);
  static const RewriteCase cases[] = {
    { "http://known.test/", "https://known.test/" },
    { "http://known.test", "https://known.test" },
    { "HTTP://KNOWN.TEST/a?b=c#d", "https://KNOWN.TEST/a?b=c#d" },
    { "http://known.test.:80/x", "https://known.test./x" },
    { "http://known.test:8080/x", "https://known.test:8080/x" },
    { "http://user:pw@known.test/x", "https://user:pw@known.test/x" },
    { "http://known.test:443/", "https://known.test:443/" },
    { "https://known.test/", NULL },
    { "http://www.known.test/", NULL },
    { "http://a.b.wide.test:81/", "https://a.b.wide.test:81/" },
    /* GUri writes an escaped unreserved character as itself (RFC 3986 6.2.2.2) */
    { "http://wide.test/%7Efoo%2F", "https://wide.test/~foo%2F" },
    { "http://other.test/", NULL },
    { "http://127.0.0.1/", NULL },
    { "http://[::1]/", NULL },
    { "ftp://known.test/", NULL },
    { "http:known.test", NULL },
  };

  g_assert_null (gmulti_hsts_enforcer_rewrite (self, "http://known.test/"));
  gmulti_hsts_enforcer_add_entry (self, "known.test", 100, FALSE);
  gmulti_hsts_enforcer_add_entry (self, "wide.test", 100, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *result = gmulti_hsts_enforcer_rewrite (self, cases[i].uri);

      g_test_message ("%s", cases[i].uri);
      g_assert_cmpstr (result, ==, cases[i].expected);
    }
}

/* ------------------------------------------------------------------- file */

static char *
temp_file (const char *name)
{
  g_autofree char *dir = g_dir_make_tmp ("gmulti-hsts-XXXXXX", NULL);

  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static void
remove_temp_file (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_file_load (void)
{
  g_autoptr(GMultiHstsEnforcer) self = enforcer_at (NOW);
  g_autofree char *path = temp_file ("hsts.txt");
  g_autoptr(GError) error = NULL;
  guint skipped = 99;
  const char *contents =
    "# Your HSTS cache.\n"
    "\n"
    "exact.test \"20300101 00:00:00\"\n"
    ".wide.test \"20300101 12:30:59\"\r\n"
    "unquoted.test 20300101 00:00:00\n"
    "forever.test \"unlimited\"\n"
    "expired.test \"20200101 00:00:00\"\n"
    "bad-stamp.test \"2030-01-01 00:00:00\"\n"
    "bad-date.test \"20301341 00:00:00\"\n"
    "no-stamp.test\n"
    "127.0.0.1 \"20300101 00:00:00\"\n"
    "\"20300101 00:00:00\"\n"
    "   # an indented comment\n";

  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  g_assert_true (gmulti_hsts_enforcer_load_from_file (self, path, &skipped, &error));
  g_assert_no_error (error);
  /* bad-stamp, bad-date, no-stamp, the address and the line without host. */
  g_assert_cmpuint (skipped, ==, 5);
  g_assert_cmpuint (gmulti_hsts_enforcer_get_n_entries (self), ==, 4);
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "exact.test"));
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "a.exact.test"));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "a.wide.test"));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "unquoted.test"));
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "forever.test"));
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "expired.test"));
  gmulti_hsts_enforcer_set_now (self, 1893501059);   /* 2030-01-01 12:30:59 */
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (self, "wide.test"));
  gmulti_hsts_enforcer_set_now (self, 1893501058);
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "wide.test"));

  g_assert_false (gmulti_hsts_enforcer_load_from_file (self, "/nonexistent/hsts", NULL,
                                                       &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  remove_temp_file (path);
}

static void
test_file_save (void)
{
  g_autofree char *path = temp_file ("hsts.txt");
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  const char *preloaded[] = { ".preloaded.test", NULL };
  GMultiHstsEnforcer *self;
  GStatBuf before, after;

  self = gmulti_hsts_enforcer_new_for_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (gmulti_hsts_enforcer_get_file_name (self), ==, path);
  gmulti_hsts_enforcer_set_now (self, NOW);
  gmulti_hsts_enforcer_preload (self, preloaded);
  gmulti_hsts_enforcer_add_entry (self, "b.test", 3600, TRUE);
  gmulti_hsts_enforcer_add_entry (self, "a.test", GMULTI_HSTS_NO_EXPIRY, FALSE);
  /* The save is due in the main context, once for the burst. */
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_nonnull (strstr (contents, "\na.test \"unlimited\"\n"));
  g_assert_nonnull (strstr (contents, "\n.b.test \"20270115 09:00:00\"\n"));
  g_assert_null (strstr (contents, "preloaded"));
  g_assert_cmpint (g_stat (path, &before), ==, 0);

  /* A change saved on dispose replaces the file whole (a new inode: written aside and
   * renamed). */
  gmulti_hsts_enforcer_remove_entry (self, "a.test");
  g_assert_finalize_object (self);
  g_assert_cmpint (g_stat (path, &after), ==, 0);
  g_assert_cmpuint (before.st_ino, !=, after.st_ino);
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_null (strstr (contents, "a.test"));

  /* Read back. */
  self = gmulti_hsts_enforcer_new_for_file (path, &error);
  g_assert_no_error (error);
  gmulti_hsts_enforcer_set_now (self, NOW);
  g_assert_cmpuint (gmulti_hsts_enforcer_get_n_entries (self), ==, 1);
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (self, "x.b.test"));
  g_assert_finalize_object (self);
  remove_temp_file (path);
}

/* ------------------------------------------------------------------ nginx */

typedef struct {
  GSubprocess *process;
  char *work;
  char *certs;
  char *ca_file;
  guint16 tls_port;     /* https, with Strict-Transport-Security */
  guint16 plain_port;   /* http, with the same field (to be ignored) */
} Nginx;

static Nginx nginx;

static guint16
free_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, address, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* A bare socket: GSocketClient would ask GIO's proxy resolver (libproxy), which the
 * sanitizer build cannot run. */
static gboolean
port_accepts (guint16 port)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);

  g_socket_set_timeout (socket, 1);
  return g_socket_connect (socket, address, NULL, NULL);
}

/* nginx goes with this program, even when an assertion ends it. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static gboolean
nginx_start (void)
{
  g_autofree char *program = g_find_program_in_path ("nginx");
  g_autofree char *conf = NULL, *conf_path = NULL, *tmp = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline;

  if (program == NULL && g_file_test ("/usr/sbin/nginx", G_FILE_TEST_IS_EXECUTABLE))
    program = g_strdup ("/usr/sbin/nginx");
  if (program == NULL)
    return FALSE;

  nginx.certs = test_certs_make ();
  nginx.ca_file = g_build_filename (nginx.certs, "ca.pem", NULL);
  nginx.work = g_dir_make_tmp ("gmulti-hsts-nginx-XXXXXX", NULL);
  tmp = g_build_filename (nginx.work, "tmp", NULL);
  g_assert_cmpint (g_mkdir_with_parents (tmp, 0700), ==, 0);
  nginx.tls_port = free_port ();
  do
    nginx.plain_port = free_port ();
  while (nginx.plain_port == nginx.tls_port);

  conf = g_strdup_printf (
    "%s\n"
    "worker_processes 1;\n"
    "daemon off;\n"
    "pid %s/nginx.pid;\n"
    "error_log %s/error.log warn;\n"
    "events { worker_connections 64; }\n"
    "http {\n"
    "  access_log %s/access.log;\n"
    "  client_body_temp_path %s/body;\n"
    "  proxy_temp_path %s/proxy;\n"
    "  fastcgi_temp_path %s/fastcgi;\n"
    "  uwsgi_temp_path %s/uwsgi;\n"
    "  scgi_temp_path %s/scgi;\n"
    "  server {\n"
    "    listen 127.0.0.1:%u ssl;\n"
    "    ssl_certificate %s/server.pem;\n"
    "    ssl_certificate_key %s/server-key.pem;\n"
    "    add_header Strict-Transport-Security \"max-age=3600; includeSubDomains\" always;\n"
    "    location / { return 200 \"scheme=$scheme\\n\"; }\n"
    "    location = /clear { add_header Strict-Transport-Security \"max-age=0\" always;\n"
    "                        return 200 \"cleared\\n\"; }\n"
    "  }\n"
    "  server {\n"
    "    listen 127.0.0.1:%u;\n"
    "    add_header Strict-Transport-Security \"max-age=3600; includeSubDomains\" always;\n"
    "    location / { return 200 \"scheme=$scheme\\n\"; }\n"
    "  }\n"
    "}\n",
    getuid () == 0 ? "user root;" : "", nginx.work, nginx.work, nginx.work, tmp, tmp, tmp,
    tmp, tmp, nginx.tls_port, nginx.certs, nginx.certs, nginx.plain_port);
  conf_path = g_build_filename (nginx.work, "nginx.conf", NULL);
  g_assert_true (g_file_set_contents (conf_path, conf, -1, NULL));

  {
    g_autofree char *error_log = g_build_filename (nginx.work, "error.log", NULL);

    g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                 G_SUBPROCESS_FLAGS_STDERR_SILENCE);

    g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
    nginx.process = g_subprocess_launcher_spawn (launcher, &error, program, "-e", error_log,
                                                 "-p", nginx.work, "-c", conf_path, NULL);
  }
  g_assert_no_error (error);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!port_accepts (nginx.tls_port) || !port_accepts (nginx.plain_port))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (50000);
    }
  return TRUE;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
nginx_stop (void)
{
  if (nginx.process == NULL)
    return;
  g_subprocess_send_signal (nginx.process, SIGTERM);
  g_subprocess_wait (nginx.process, NULL, NULL);
  g_clear_object (&nginx.process);
  remove_tree (nginx.work);
  g_clear_pointer (&nginx.work, g_free);
  g_clear_pointer (&nginx.ca_file, g_free);
  test_certs_remove (g_steal_pointer (&nginx.certs));
}

static gboolean
need_nginx (void)
{
  if (nginx.process == NULL)
    {
      g_test_skip ("nginx is not installed");
      return FALSE;
    }
  return TRUE;
}

static char *
nginx_uri (const char *scheme,
           guint16     port,
           const char *path)
{
  return g_strdup_printf ("%s://localhost:%u%s", scheme, port, path);
}

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
}

static char *
fetch (GMultiSession *session,
       const char    *uri,
       GMultiTransfer **out)
{
  GMultiTransfer *transfer = gmulti_transfer_new (uri);
  g_autoptr(GBytes) body = NULL;
  char *text;

  gmulti_transfer_set_collect_body (transfer, TRUE);
  gmulti_transfer_set_follow_redirects (transfer, TRUE);
  gmulti_transfer_set_tls_ca_file (transfer, nginx.ca_file);
  run_in_session (session, transfer);
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  body = gmulti_transfer_get_response_body (transfer);
  g_assert_nonnull (body);
  g_test_message ("%s: %u, %" G_GSIZE_FORMAT " bytes", uri,
                  gmulti_transfer_get_status (transfer), g_bytes_get_size (body));
  text = g_strndup (g_bytes_get_size (body) > 0 ? g_bytes_get_data (body, NULL) : "",
                    g_bytes_get_size (body));
  if (out != NULL)
    *out = transfer;
  else
    g_object_unref (transfer);
  return text;
}

/* The https server's field is learnt; then http:// to it goes over TLS to the same
 * (explicit) port, and to a subdomain-covered host; max-age=0 forgets it. */
static void
test_nginx_upgrade (void)
{
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiHstsEnforcer) enforcer = gmulti_hsts_enforcer_new ();
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autofree char *https_uri = NULL, *http_uri = NULL, *body = NULL, *clear_uri = NULL;
  GList *list;

  if (!need_nginx ())
    return;
  https_uri = nginx_uri ("https", nginx.tls_port, "/");
  http_uri = nginx_uri ("http", nginx.tls_port, "/x?y=1");
  g_object_set (session, "hsts-enforcer", enforcer, NULL);
  g_assert_true (gmulti_session_get_hsts_enforcer (session) == enforcer);

  body = fetch (session, https_uri, NULL);
  g_assert_cmpstr (body, ==, "scheme=https\n");
  list = gmulti_hsts_enforcer_list (enforcer);
  g_assert_cmpuint (g_list_length (list), ==, 1);
  g_assert_cmpstr (gmulti_hsts_policy_get_host (list->data), ==, "localhost");
  g_assert_true (gmulti_hsts_policy_get_include_subdomains (list->data));
  g_assert_cmpint (gmulti_hsts_policy_get_expires (list->data) -
                   g_get_real_time () / G_USEC_PER_SEC, >, 3500);
  g_list_free_full (list, (GDestroyNotify) gmulti_hsts_policy_free);

  /* Port P is https only: a request in clear would get nginx's 400, not this. */
  g_clear_pointer (&body, g_free);
  body = fetch (session, http_uri, &transfer);
  g_assert_cmpstr (body, ==, "scheme=https\n");
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  {
    g_autofree char *expected = g_strdup_printf ("https://localhost:%u/x?y=1", nginx.tls_port);

    g_assert_cmpstr (gmulti_transfer_get_effective_uri (transfer), ==, expected);
  }
  g_clear_object (&transfer);

  /* Without the enforcer the same URI goes in clear (and nginx says so). */
  gmulti_session_set_hsts_enforcer (session, NULL);
  g_clear_pointer (&body, g_free);
  body = fetch (session, http_uri, &transfer);
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 400);
  g_clear_object (&transfer);

  /* max-age=0 from the host deletes its policy. */
  gmulti_session_set_hsts_enforcer (session, enforcer);
  clear_uri = nginx_uri ("http", nginx.tls_port, "/clear");
  g_clear_pointer (&body, g_free);
  body = fetch (session, clear_uri, NULL);
  g_assert_cmpstr (body, ==, "cleared\n");
  g_assert_false (gmulti_hsts_enforcer_has_valid_policy (enforcer, "localhost"));
}

static gboolean
redirect_handler (TestServer  *server,
                  TestConn    *conn,
                  TestRequest *req,
                  gpointer     user_data)
{
  g_autofree char *headers = g_strdup_printf ("Location: %s\r\n", (const char *) user_data);

  return test_conn_respond_with_headers (conn, 302, headers, "", 0);
}

/* A redirect from a plain server to http:// of a known host is upgraded too. */
static void
test_nginx_redirect (void)
{
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiHstsEnforcer) enforcer = enforcer_at (0);
  g_autoptr(TestServer) server = NULL;
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autofree char *target = NULL, *start = NULL, *body = NULL, *expected = NULL;

  if (!need_nginx ())
    return;
  target = nginx_uri ("http", nginx.tls_port, "/landing");
  server = test_server_new (TEST_SERVER_IPV4, redirect_handler, target);
  start = test_server_uri (server, "/go");
  gmulti_hsts_enforcer_add_entry (enforcer, "localhost", 600, FALSE);
  gmulti_session_set_hsts_enforcer (session, enforcer);

  body = fetch (session, start, &transfer);
  g_assert_cmpstr (body, ==, "scheme=https\n");
  expected = g_strdup_printf ("https://localhost:%u/landing", nginx.tls_port);
  g_assert_cmpstr (gmulti_transfer_get_effective_uri (transfer), ==, expected);
  /* The field of the https response replaced the policy added by hand. */
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (enforcer, "sub.localhost"));
}

/* The field on a plain http response is ignored; so is one on https when the
 * application turned verification off. A transfer's own enforcer wins over the
 * session's. */
static void
test_nginx_ignored (void)
{
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GMultiHstsEnforcer) session_enforcer = gmulti_hsts_enforcer_new ();
  g_autoptr(GMultiHstsEnforcer) own = gmulti_hsts_enforcer_new ();
  g_autoptr(GMultiTransfer) transfer = NULL;
  g_autofree char *plain_uri = NULL, *https_uri = NULL, *body = NULL;

  if (!need_nginx ())
    return;
  plain_uri = nginx_uri ("http", nginx.plain_port, "/");
  https_uri = nginx_uri ("https", nginx.tls_port, "/");
  gmulti_session_set_hsts_enforcer (session, session_enforcer);

  body = fetch (session, plain_uri, NULL);
  g_assert_cmpstr (body, ==, "scheme=http\n");
  g_assert_cmpuint (gmulti_hsts_enforcer_get_n_entries (session_enforcer), ==, 0);

  transfer = gmulti_transfer_new (https_uri);
  gmulti_transfer_set_tls_verify (transfer, FALSE);
  run_in_session (session, transfer);
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_transfer_get_status (transfer), ==, 200);
  g_assert_cmpuint (gmulti_hsts_enforcer_get_n_entries (session_enforcer), ==, 0);
  g_clear_object (&transfer);

  /* Verified, into the transfer's own enforcer only. */
  transfer = gmulti_transfer_new (https_uri);
  gmulti_transfer_set_tls_ca_file (transfer, nginx.ca_file);
  g_object_set (transfer, "hsts-enforcer", own, NULL);
  g_assert_true (gmulti_transfer_get_hsts_enforcer (transfer) == own);
  run_in_session (session, transfer);
  g_assert_no_error (gmulti_transfer_get_error (transfer));
  g_assert_cmpuint (gmulti_hsts_enforcer_get_n_entries (session_enforcer), ==, 0);
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (own, "localhost"));
}

/* ------------------------------------------------------------------- curl */

static char *
run_curl (const char *hsts_file,
          const char *uri)
{
  g_autofree char *curl = g_find_program_in_path ("curl");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *out = NULL;

  g_assert_nonnull (curl);
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, curl, "-s",
                              "--max-time", "10", "--cacert", nginx.ca_file, "--hsts",
                              hsts_file, "-w", "%{url_effective}", uri, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
  return g_steal_pointer (&out);
}

static gboolean
need_curl (void)
{
  g_autofree char *curl = g_find_program_in_path ("curl");

  if (!need_nginx ())
    return FALSE;
  if (curl == NULL)
    {
      g_test_skip ("curl is not installed");
      return FALSE;
    }
  return TRUE;
}

/* curl writes the file from nginx's field; gmulti reads it and upgrades. */
static void
test_curl_writes (void)
{
  g_autofree char *path = temp_file ("curl-hsts.txt");
  g_autofree char *https_uri = NULL, *http_uri = NULL, *out = NULL, *body = NULL;
  g_autoptr(GMultiHstsEnforcer) enforcer = NULL;
  g_autoptr(GMultiSession) session = gmulti_session_new ();
  g_autoptr(GError) error = NULL;
  guint skipped = 99;

  if (!need_curl ())
    return;
  https_uri = nginx_uri ("https", nginx.tls_port, "/");
  http_uri = nginx_uri ("http", nginx.tls_port, "/");
  out = run_curl (path, https_uri);
  g_assert_nonnull (strstr (out, "scheme=https"));
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));

  enforcer = gmulti_hsts_enforcer_new ();
  g_assert_true (gmulti_hsts_enforcer_load_from_file (enforcer, path, &skipped, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (skipped, ==, 0);
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (enforcer, "localhost"));
  /* curl saved includeSubDomains as a leading dot. */
  g_assert_true (gmulti_hsts_enforcer_has_valid_policy (enforcer, "www.localhost"));

  gmulti_session_set_hsts_enforcer (session, enforcer);
  body = fetch (session, http_uri, NULL);
  g_assert_cmpstr (body, ==, "scheme=https\n");
  remove_temp_file (path);
}

/* gmulti writes the file; curl reads it and goes to https. */
static void
test_curl_reads (void)
{
  g_autofree char *path = temp_file ("gmulti-hsts.txt");
  g_autofree char *http_uri = NULL, *out = NULL, *expected = NULL;
  g_autoptr(GMultiHstsEnforcer) enforcer = gmulti_hsts_enforcer_new ();
  g_autoptr(GError) error = NULL;

  if (!need_curl ())
    return;
  http_uri = nginx_uri ("http", nginx.tls_port, "/");
  gmulti_hsts_enforcer_add_entry (enforcer, "localhost", 3600, FALSE);
  g_assert_true (gmulti_hsts_enforcer_save_to_file (enforcer, path, &error));
  g_assert_no_error (error);

  out = run_curl (path, http_uri);
  expected = g_strdup_printf ("scheme=https\nhttps://localhost:%u/", nginx.tls_port);
  g_assert_cmpstr (out, ==, expected);
  remove_temp_file (path);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/GMulti/Hsts/parse", test_parse);
  g_test_add_func ("/GMulti/Hsts/match", test_match);
  g_test_add_func ("/GMulti/Hsts/ip-literals", test_ip_literals);
  g_test_add_func ("/GMulti/Hsts/expiry", test_expiry);
  g_test_add_func ("/GMulti/Hsts/preload", test_preload);
  g_test_add_func ("/GMulti/Hsts/limit", test_limit);
  g_test_add_func ("/GMulti/Hsts/rewrite", test_rewrite);
  g_test_add_func ("/GMulti/Hsts/file-load", test_file_load);
  g_test_add_func ("/GMulti/Hsts/file-save", test_file_save);
  g_test_add_func ("/GMulti/Hsts/nginx/upgrade", test_nginx_upgrade);
  g_test_add_func ("/GMulti/Hsts/nginx/redirect", test_nginx_redirect);
  g_test_add_func ("/GMulti/Hsts/nginx/ignored", test_nginx_ignored);
  g_test_add_func ("/GMulti/Hsts/curl/curl-writes", test_curl_writes);
  g_test_add_func ("/GMulti/Hsts/curl/gmulti-writes", test_curl_reads);

  nginx_start ();
  status = g_test_run ();
  nginx_stop ();
  return status;
}
