/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"
#include "gmulti-compat-private.h"

#include <string.h>

#include "gmulti-defaults.h"
#include "gmulti-http1-request.h"

static GMultiDefaults *
defaults_new (void)
{
  GMultiDefaults *self = g_new0 (GMultiDefaults, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->connect_timeout_ms = GMULTI_DEFAULT_CONNECT_TIMEOUT_MS;
  self->max_streams_per_connection = GMULTI_DEFAULT_MAX_STREAMS_PER_CONNECTION;
  self->max_decoded_size = GMULTI_DEFAULT_MAX_DECODED_SIZE;
  self->max_decode_ratio = GMULTI_DEFAULT_MAX_DECODE_RATIO;
  gmulti_tls_options_init (&self->tls);
  return self;
}

GMultiDefaults *
gmulti_defaults_dup_bare (void)
{
  static GMultiDefaults *bare;

  if (g_once_init_enter (&bare))
    g_once_init_leave (&bare, defaults_new ());
  return gmulti_defaults_ref (bare);
}

GMultiDefaults *
gmulti_defaults_dup_standard (void)
{
  static GMultiDefaults *standard;

  if (g_once_init_enter (&standard))
    {
      GMultiDefaults *self = defaults_new ();

      self->user_agent = g_strdup (GMULTI_DEFAULT_USER_AGENT);
      /* Like a libsoup session's content decoder; a bare engine, like libcurl, sends
       * only what it is asked to. */
      self->decode_content = TRUE;
      g_once_init_leave (&standard, self);
    }
  return gmulti_defaults_ref (standard);
}

GMultiDefaults *
gmulti_defaults_copy (const GMultiDefaults *self)
{
  GMultiDefaults *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_new0 (GMultiDefaults, 1);
  g_atomic_ref_count_init (&copy->ref_count);
  copy->timeout_ms = self->timeout_ms;
  copy->connect_timeout_ms = self->connect_timeout_ms;
  copy->http_version = self->http_version;
  copy->max_streams_per_connection = self->max_streams_per_connection;
  copy->decode_content = self->decode_content;
  copy->max_decoded_size = self->max_decoded_size;
  copy->max_decode_ratio = self->max_decode_ratio;
  copy->unix_socket_path = g_strdup (self->unix_socket_path);
  copy->user_agent = g_strdup (self->user_agent);
  copy->user_agent_error = self->user_agent_error != NULL
                           ? g_error_copy (self->user_agent_error) : NULL;
  gmulti_tls_options_copy (&copy->tls, &self->tls);
  copy->proxy_uri = g_strdup (self->proxy_uri);
  copy->proxy = self->proxy != NULL ? gmulti_proxy_ref (self->proxy) : NULL;
  copy->proxy_error = self->proxy_error != NULL ? g_error_copy (self->proxy_error) : NULL;
  copy->proxy_username = g_strdup (self->proxy_username);
  copy->proxy_password = g_strdup (self->proxy_password);
  if (self->cookies != NULL)
    copy->cookies = gmulti_hop_hook_ref (self->cookies);
  if (self->auth != NULL)
    copy->auth = gmulti_hop_hook_ref (self->auth);
  if (self->hsts != NULL)
    copy->hsts = gmulti_hop_hook_ref (self->hsts);
  if (self->proxy_lookup != NULL)
    copy->proxy_lookup = gmulti_proxy_lookup_ref (self->proxy_lookup);
  return copy;
}

GMultiDefaults *
gmulti_defaults_ref (GMultiDefaults *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
gmulti_defaults_unref (GMultiDefaults *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_free (self->user_agent);
  g_free (self->unix_socket_path);
  g_clear_error (&self->user_agent_error);
  g_free (self->proxy_uri);
  g_clear_pointer (&self->proxy, gmulti_proxy_unref);
  g_clear_error (&self->proxy_error);
  g_free (self->proxy_username);
  if (self->proxy_password != NULL)
    explicit_bzero (self->proxy_password, strlen (self->proxy_password));
  g_free (self->proxy_password);
  gmulti_tls_options_clear (&self->tls);
  if (self->cookies != NULL)
    gmulti_hop_hook_unref (self->cookies);
  if (self->auth != NULL)
    gmulti_hop_hook_unref (self->auth);
  if (self->hsts != NULL)
    gmulti_hop_hook_unref (self->hsts);
  if (self->proxy_lookup != NULL)
    gmulti_proxy_lookup_unref (self->proxy_lookup);
  g_free (self);
}

gboolean
gmulti_defaults_set_user_agent (GMultiDefaults  *self,
                                const char      *user_agent,
                                GError         **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  g_free (self->user_agent);
  self->user_agent = g_strdup (user_agent);
  g_clear_error (&self->user_agent_error);
  if (user_agent != NULL &&
      !gmulti_http1_check_part (GMULTI_HTTP1_PART_FIELD_VALUE, user_agent, "User-Agent",
                                &self->user_agent_error))
    {
      if (error != NULL)
        *error = g_error_copy (self->user_agent_error);
      return FALSE;
    }
  return TRUE;
}

void
gmulti_defaults_set_proxy_uri (GMultiDefaults *self,
                               const char     *uri)
{
  g_return_if_fail (self != NULL);

  g_free (self->proxy_uri);
  self->proxy_uri = g_strdup (uri);
  g_clear_pointer (&self->proxy, gmulti_proxy_unref);
  g_clear_error (&self->proxy_error);
  if (uri != NULL)
    self->proxy = gmulti_proxy_new_from_uri (uri, &self->proxy_error);
}
