/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gmulti-hsts-enforcer.h"
#include "engine/gmulti-hop-hook.h"
#include "gmulti-idle-save-private.h"

G_BEGIN_DECLS

/* What the files of the enforcer share: the object and its store
 * (gmulti-hsts-enforcer.c), the header parser (gmulti-hsts-header.c), curl's cache
 * file (gmulti-hsts-file.c), the engine's hop hook (gmulti-hsts-hook.c). */

/* The largest max-age kept, in seconds (about 300 years): every expiry stays within
 * what the cache file's "YYYYMMDD HH:MM:SS" stamp can say. */
#define GMULTI_HSTS_MAX_AGE_LIMIT G_GINT64_CONSTANT (10000000000)
/* A policy seen again whose expiry moved by less than this (seconds), and nothing
 * else, is left as it is: a site that sends the field with every response does not
 * cost a signal and a file write each time. */
#define GMULTI_HSTS_REFRESH_SLACK 60
/* An entry that never expires. */
#define GMULTI_HSTS_NEVER G_MAXINT64

struct _GMultiHstsPolicy
{
  char *host;                 /* lowercase, no trailing dot */
  gint64 expires;             /* seconds since 1970 (UTC); GMULTI_HSTS_NEVER: never */
  gboolean include_subdomains;
  gboolean preloaded;         /* given by the application: not saved, not evicted */
  guint64 seq;                /* when it was stored: smaller is older */
};

struct _GMultiHstsEnforcer
{
  GObject parent_instance;

  GMultiHopHook hook;         /* what sessions and transfers hand the engine */
  GHashTable *hosts;          /* host -> GMultiHstsPolicy, owned */
  guint n_dynamic;            /* entries not preloaded (bounded by the limit) */
  guint64 next_seq;
  gint64 fixed_now;           /* tests: the clock, in seconds; 0: the real time */

  char *file_name;            /* saved there on change; NULL: kept in memory */
  GMultiIdleSave save;        /* the debounced save */
  gboolean loading;           /* no save while the file itself is read */
};

/* gmulti-hsts-header.c: a Strict-Transport-Security field value (RFC 6797 6.1).
 * FALSE if it is not valid (then nothing is to be stored); max-age is clamped to
 * GMULTI_HSTS_MAX_AGE_LIMIT. */
gboolean gmulti_hsts_parse_header (const char *value,
                                   gint64     *max_age,
                                   gboolean   *include_subdomains);

/* gmulti-hsts-enforcer.c */
gint64   gmulti_hsts_enforcer_now (GMultiHstsEnforcer *self);
/* A host as the store keys it (lowercase, one trailing dot dropped), or NULL for a
 * host no policy may be kept for (empty, an IP literal). */
char    *gmulti_hsts_normalize_host (const char *host);
/* Stores the policy a secure response of @host (normalised) gave: max-age 0 deletes;
 * a preloaded entry is kept as it is. */
void     gmulti_hsts_enforcer_store (GMultiHstsEnforcer *self,
                                     const char         *host,
                                     gint64              expires,
                                     gboolean            include_subdomains);
/* Whether @host (normalised) is a known HSTS host now. */
gboolean gmulti_hsts_enforcer_match (GMultiHstsEnforcer *self,
                                     const char         *host);
/* Tests: make @now (seconds since 1970) the enforcer's clock; 0: the real time. */
void     gmulti_hsts_enforcer_set_now (GMultiHstsEnforcer *self,
                                       gint64              now);

/* gmulti-hsts-file.c: one line of curl's cache file; FALSE if it is none (comments
 * and blank lines are not counted as bad: @is_blank). */
gboolean gmulti_hsts_parse_line (const char *line,
                                 char      **host,
                                 gint64     *expires,
                                 gboolean   *include_subdomains,
                                 gboolean   *is_blank);

/* gmulti-hsts-hook.c */
void                gmulti_hsts_enforcer_init_hook (GMultiHstsEnforcer *self);
GMultiHopHook      *gmulti_hsts_enforcer_get_hook  (GMultiHstsEnforcer *self);
GMultiHstsEnforcer *gmulti_hsts_enforcer_from_hook (GMultiHopHook      *hook);
/* The https:// URI @uri becomes under the enforcer's policies, or NULL if it stays. */
char               *gmulti_hsts_enforcer_rewrite   (GMultiHstsEnforcer *self,
                                                    const char         *uri);

G_END_DECLS
