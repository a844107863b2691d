/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-cookie.h"

G_BEGIN_DECLS

/* The rules of RFC 6265 that the jar, its file formats and the fuzz target share. */

struct _GMultiCookie {
  gatomicrefcount ref_count;
  char *name;
  char *value;
  char *domain;           /* lowercase, no leading dot */
  char *path;
  gint64 expires;         /* seconds since 1970 (UTC); 0: a session cookie */
  gint64 creation;        /* g_get_real_time() when first stored, for ordering */
  guint64 seq;            /* breaks ties between equal creation times */
  GMultiCookieSameSite same_site;
  guint secure : 1;
  guint http_only : 1;
  guint host_only : 1;
};

/* A new cookie; takes nothing, copies the strings. */
GMultiCookie *gmulti_cookie_new_internal (const char          *name,
                                          const char          *value,
                                          const char          *domain,
                                          const char          *path,
                                          gint64               expires,
                                          gboolean             secure,
                                          gboolean             http_only,
                                          GMultiCookieSameSite same_site,
                                          gboolean             host_only,
                                          gint64               creation);

/* A Set-Cookie value received from @host (lowercase) for the request path @path (a
 * query may follow; NULL: "/") over https if @secure, at @now (seconds since 1970):
 * the cookie the storage model of RFC 6265 section 5.3 makes of it, or NULL when it
 * must be ignored (malformed, a domain the host may not set, a public suffix, a
 * prefix not honoured, Secure from http). An expiry in the past is kept (expires <= now):
 * it deletes the stored cookie of that name. */
GMultiCookie *gmulti_cookie_parse_for    (const char *set_cookie,
                                          const char *host,
                                          const char *path,
                                          gboolean    secure,
                                          gint64      now);

/* A cookie-date (RFC 6265 section 5.1.1), as seconds since 1970 (UTC). */
gboolean gmulti_cookie_parse_date (const char *text,
                                   gsize       length,
                                   gint64     *out);

gboolean gmulti_cookie_host_is_ip      (const char *host);
gboolean gmulti_cookie_domain_match    (const char *host,
                                        const char *domain);
/* @path of @length bytes (no query). */
gboolean gmulti_cookie_path_match      (const char *path,
                                        gsize       length,
                                        const char *cookie_path);
/* The cookie goes with a request to @host, @path (no query), over https if @secure. */
gboolean gmulti_cookie_matches         (const GMultiCookie *self,
                                        const char         *host,
                                        const char         *path,
                                        gsize               path_length,
                                        gboolean            secure);
gboolean gmulti_cookie_is_expired      (const GMultiCookie *self,
                                        gint64              now);
/* Same name, domain, host-only flag and path: one replaces the other. */
gboolean gmulti_cookie_same_key        (const GMultiCookie *a,
                                        const GMultiCookie *b);
/* Sending order: longer paths first, then older first. */
int      gmulti_cookie_compare_for_sending (gconstpointer a,
                                            gconstpointer b);

/* gmulti-cookie-psl.c: the public suffix list (libpsl). */
gboolean gmulti_cookie_is_public_suffix (const char *domain);
/* The registrable domain of @host (example.co.uk for a.example.co.uk), or @host itself
 * when it has none (an address, a suffix): newly allocated. */
char    *gmulti_cookie_site_of          (const char *host);

G_END_DECLS
