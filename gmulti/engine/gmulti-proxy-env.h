/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include "gmulti-proxy.h"

G_BEGIN_DECLS

/* The proxy rule of the `*_proxy` environment variables, read once into an immutable
 * value so that choosing a hop's proxy costs no allocation and no getenv(). The names
 * are read in lower case first, then in upper case, except `HTTP_PROXY` (ignored, as
 * curl ignores it: in CGI it is set from a request header). */
typedef struct {
  GMultiProxy *http;       /* for http:// origins: http_proxy, else all_proxy; NULL: direct */
  GMultiProxy *https;      /* for https:// origins: https_proxy, else all_proxy */
  GError *http_error;      /* the variable meant for http:// is not a usable proxy URI */
  GError *https_error;
  char *no_proxy;          /* NULL: none */
} GMultiProxyEnv;

/* Reads the rule from @envp (as g_get_environ() gives it), or from the process's
 * environment when @envp is NULL. */
GMultiProxyEnv *gmulti_proxy_env_new  (const char *const *envp);
void            gmulti_proxy_env_free (GMultiProxyEnv    *self);

/* The proxy for an origin @host (a name or an address literal, brackets optional):
 * TRUE with *@proxy borrowed from @self (NULL: direct), or FALSE with @error set when
 * the variable that applies is not usable. */
gboolean        gmulti_proxy_env_select (const GMultiProxyEnv *self,
                                         gboolean              tls,
                                         const char           *host,
                                         GMultiProxy         **proxy,
                                         GError              **error);

/* Whether @host is exempt by the `no_proxy` list @no_proxy, as curl reads it: entries
 * separated by commas or spaces; the whole list `*` exempts every host; a name entry
 * (leading and trailing dot ignored) matches itself and its subdomains, case-insensitively;
 * an address entry matches that address, or with `/BITS` a CIDR range; a `:PORT` on an
 * entry is ignored. */
gboolean        gmulti_no_proxy_match (const char *no_proxy,
                                       const char *host);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMultiProxyEnv, gmulti_proxy_env_free)

G_END_DECLS
