/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "auth/gmulti-auth-scheme.h"
#include "gmulti-engine-private.h"
#include "tls/gmulti-tls-config.h"
#include "gmulti-error.h"
#include "gmulti-headers.h"
#include "gmulti-i18n-private.h"
#include "gmulti-protocol.h"
#include "gmulti-redirect.h"

/* The life of a transfer inside the engine: start (validate, resolve, get a
 * connection), the deadlines, redirects and retries, and the end (message queued). */

/* The hop needs HTTP/2: asked for, or spoken from the first byte over TLS (where ALPN
 * says it anyway). */
static gboolean
needs_http2 (GMultiRun *run)
{
  return run->request.http_version == GMULTI_HTTP_VERSION_HTTP_2 ||
         (run->request.http_version == GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE && run->tls);
}

/* Which connections the hop may use, from the HTTP version it asks for. HTTP/2 over
 * plain http:// is spoken only with prior knowledge (no Upgrade: h2c): a wish for
 * HTTP/2 without it fails there rather than quietly using HTTP/1.1. */
static gboolean
hop_http (GMultiRun *run,
          GError   **error)
{
  GMultiPoolHttp http = GMULTI_POOL_HTTP_ANY;

  switch (run->request.http_version)
    {
    case GMULTI_HTTP_VERSION_HTTP_1_1:
      http = run->tls ? GMULTI_POOL_HTTP_1_ONLY : GMULTI_POOL_HTTP_ANY;
      break;
    case GMULTI_HTTP_VERSION_HTTP_2:
      if (!run->tls)
        {
          g_set_error (error, GMULTI_ERROR, GMULTI_ERROR_HTTP2_REQUIRED,
                       _("HTTP/2 is required, but %s is not https: HTTP/2 without TLS "
                         "needs prior knowledge"), run->effective_uri);
          return FALSE;
        }
      break;
    case GMULTI_HTTP_VERSION_HTTP_2_PRIOR_KNOWLEDGE:
      http = run->tls ? GMULTI_POOL_HTTP_ANY : GMULTI_POOL_HTTP_2_PRIOR;
      break;
    case GMULTI_HTTP_VERSION_AUTO:
    default:
      break;
    }
  gmulti_pool_key_set_http (&run->pool_key, http);
  return TRUE;
}

/* The hop's own header fields, for its hooks: the application's, without credentials
 * after a redirect to another origin (as the protocols would drop them), and what the
 * hooks add. Only runs with a hook pay for the copy. */
static void
prepare_hop_headers (GMultiRun *run)
{
  GMultiHeaders *headers = run->request.headers != NULL
                           ? gmulti_headers_copy (run->request.headers)
                           : gmulti_headers_new ();

  if (run->cross_origin)
    {
      gmulti_headers_remove (headers, "Authorization");
      gmulti_headers_remove (headers, "Proxy-Authorization");
      gmulti_headers_remove (headers, "Cookie");
    }
  /* Cookies first, then authentication (engine/gmulti-hop-hook.h). */
  if (run->cookies != NULL)
    run->cookies->ops->request_headers (run->cookies, run, headers);
  if (run->auth != NULL)
    run->auth->ops->request_headers (run->auth, run, headers);
  run->hop_headers = headers;
}

/* The HSTS hook's URI for the hop, before anything is taken from it (the first hop and
 * each redirect): an upgraded URI becomes the effective one. */
static void
rewrite_hop_uri (GMultiRun *run)
{
  char *uri;

  if (run->hsts->ops->rewrite_uri == NULL)
    return;
  uri = run->hsts->ops->rewrite_uri (run->hsts, run, run->effective_uri);
  if (uri == NULL)
    return;
  g_free (run->effective_uri);
  run->effective_uri = uri;
}

/* Fills in origin, host, target and Host header of the hop from the effective URI. */
static gboolean
prepare_hop (GMultiRun *run,
             GError   **error)
{
  GMultiRequestTarget target;

  gmulti_run_clear_hop (run);
  if (run->hsts != NULL)
    rewrite_hop_uri (run);
  /* The first hop reuses the URI the transfer parsed when it was set. */
  if (run->request.parsed_uri != NULL && g_strcmp0 (run->effective_uri, run->request.uri) == 0)
    {
      if (!gmulti_request_target_from_uri (run->request.parsed_uri, run->request.uri, &target, error))
        return FALSE;
    }
  else if (!gmulti_request_target_parse (run->effective_uri, &target, error))
    return FALSE;

  run->tls = target.tls;
  if (run->tls && run->tls_config == NULL)
    {
      run->tls_config = gmulti_tls_config_cache_get (&run->engine->tls_configs,
                                                     run->request.tls, &run->defaults->tls,
                                                     error);
      if (run->tls_config == NULL)
        {
          gmulti_request_target_clear (&target);
          return FALSE;
        }
    }
  run->host = g_steal_pointer (&target.host);
  run->port = target.port;
  /* Connections are shared only between identical TLS settings, and over the same
   * Unix socket. */
  if (G_UNLIKELY (run->request.unix_socket_path != NULL))
    run->chain = g_strconcat ("unix:", run->request.unix_socket_path, NULL);
  gmulti_pool_key_init (&run->pool_key, run->tls, run->host, run->port, run->chain,
                        run->tls_config);
  run->target = target.target;
  run->host_header = target.host_header;
  if (!hop_http (run, error))
    return FALSE;
  run->method = run->redirect_method != NULL ? run->redirect_method : run->request.method;
  run->head_request = strcmp (run->method, "HEAD") == 0;
  run->connect_timeout_ms = run->request.connect_timeout_ms;
  if (run->cookies != NULL || run->auth != NULL)
    prepare_hop_headers (run);
  return TRUE;
}

/* Whether the hop's requests go to the proxy as they are (absolute-form), rather than
 * through a tunnel: plain http through an HTTP(S) proxy. */
static gboolean
proxy_forwards (const GMultiRun   *run,
                const GMultiProxy *proxy)
{
  return !run->tls && (proxy->kind == GMULTI_PROXY_HTTP || proxy->kind == GMULTI_PROXY_HTTPS);
}

const char *
gmulti_run_proxy_authorization (GMultiRun *run)
{
  GMultiProxy *proxy = run->proxy;

  if (run->proxy_authorization != NULL)
    return run->proxy_authorization;
  /* The auth hook answers the proxy's challenges and keeps what worked; without one,
   * the proxy URI's user and password go as Basic. */
  if (run->auth != NULL && run->auth->ops->proxy_authorization != NULL)
    run->proxy_authorization = run->auth->ops->proxy_authorization (run->auth, run);
  else if (proxy->user != NULL)
    run->proxy_authorization = gmulti_auth_basic_encode (proxy->user, proxy->password);
  return run->proxy_authorization;
}

void
gmulti_run_use_proxy (GMultiRun   *run,
                      GMultiProxy *proxy)
{
  GMultiPoolHttp http = run->pool_key.http;

  g_clear_pointer (&run->proxy, gmulti_proxy_unref);
  g_clear_pointer (&run->target_prefix, g_free);
  g_clear_pointer (&run->proxy_authorization, g_free);
  /* Direct: the key prepare_hop() made stands (no allocation on this path). */
  if (proxy == NULL)
    return;

  run->proxy = gmulti_proxy_ref (proxy);
  g_free (run->chain);
  run->chain = g_strdup (proxy->key);
  if (proxy_forwards (run, proxy))
    {
      /* Every http:// origin rides the same connections to the proxy: the key is the
       * proxy's. HTTP/2 with prior knowledge is a promise about the origin, not the
       * proxy: HTTP/1.1 to it. */
      gmulti_pool_key_init (&run->pool_key, FALSE, proxy->host, proxy->port, run->chain,
                            NULL);
      if (http == GMULTI_POOL_HTTP_2_PRIOR)
        http = GMULTI_POOL_HTTP_ANY;
      run->target_prefix = g_strconcat ("http://", run->host_header, NULL);
      /* With every forwarded request; a tunnel's goes with its CONNECT only, asked
       * for when one opens (gmulti-connection.c). */
      gmulti_run_proxy_authorization (run);
    }
  else
    /* A tunnel: one per origin and proxy. */
    gmulti_pool_key_init (&run->pool_key, run->tls, run->host, run->port, run->chain,
                          run->tls_config);
  /* The TLS settings towards an https:// proxy decide whether a connection fits too. */
  if (proxy->kind == GMULTI_PROXY_HTTPS && run->pool_key.tls_config == NULL)
    {
      run->pool_key.tls_config = run->tls_config;
      run->pool_key.hash = run->pool_key.hash * 31 + gmulti_tls_config_hash (run->tls_config);
    }
  gmulti_pool_key_set_http (&run->pool_key, http);
}

/* The hop goes through @proxy (NULL: direct). */
static gboolean
apply_proxy (GMultiRun   *run,
             GMultiProxy *proxy,
             GError     **error)
{
  /* Direct after a proxy that could not be reached (a resolver's next entry): the
   * origin's own key again, which the proxy's replaced. */
  if (G_UNLIKELY (proxy == NULL && run->proxy != NULL))
    {
      gmulti_run_use_proxy (run, NULL);
      g_clear_pointer (&run->chain, g_free);
      gmulti_pool_key_init (&run->pool_key, run->tls, run->host, run->port, NULL,
                            run->tls ? run->tls_config : NULL);
      return hop_http (run, error);
    }
  if (proxy != NULL && proxy->kind == GMULTI_PROXY_HTTPS && run->tls_config == NULL)
    {
      /* TLS to the proxy itself, with the transfer's TLS options. */
      run->tls_config = gmulti_tls_config_new (run->request.tls, &run->defaults->tls, error);
      if (run->tls_config == NULL)
        return FALSE;
    }
  /* A proxy whose URI has credentials (from a resolver or a variable too): the
   * defaults' authenticator answers its challenges, as for a proxy-uri. */
  if (G_UNLIKELY (proxy != NULL && proxy->user != NULL && run->auth == NULL &&
                  run->defaults->auth != NULL &&
                  (proxy->kind == GMULTI_PROXY_HTTP || proxy->kind == GMULTI_PROXY_HTTPS)))
    run->auth = gmulti_hop_hook_ref (run->defaults->auth);
  gmulti_run_use_proxy (run, proxy);
  return TRUE;
}

/* Which proxy the hop goes through (docs/proxies.md): the transfer's own URI, its own
 * resolver, the session's URI, the owner's lookup hook (the session's resolver or
 * GLib's default), the *_proxy variables. *@wait: the lookup hook answers later. */
static gboolean
choose_proxy (GMultiRun *run,
              gboolean  *wait,
              GError   **error)
{
  GMultiProxyLookup *lookup = run->defaults->proxy_lookup;
  GMultiProxy *proxy = NULL;

  *wait = FALSE;
  run->proxy_looked_up = FALSE;
  run->proxy_tries = 0;
  /* A Unix socket is the whole way to the server. */
  if (G_UNLIKELY (run->request.unix_socket_path != NULL))
    return TRUE;
  if (run->request.proxy_uri != NULL)
    return apply_proxy (run, run->own_proxy, error);
  if (lookup != NULL && (run->request.own_proxy_resolver || run->defaults->proxy_uri == NULL))
    switch (gmulti_proxy_lookup_ask (lookup, run, &proxy, error))
      {
      case GMULTI_PROXY_LOOKUP_FOUND:
        run->proxy_looked_up = TRUE;
        return apply_proxy (run, proxy, error);
      case GMULTI_PROXY_LOOKUP_PENDING:
        *wait = TRUE;
        return TRUE;
      case GMULTI_PROXY_LOOKUP_FAILED:
        return FALSE;
      case GMULTI_PROXY_LOOKUP_ENVIRONMENT:
      default:
        break;
      }
  else if (run->defaults->proxy_uri != NULL)
    return apply_proxy (run, run->defaults->proxy, error);
  /* Set nowhere: the *_proxy variables decide by the hop's origin. */
  if (!gmulti_proxy_env_select (run->engine->proxy_env, run->tls, run->host, &proxy, error))
    return FALSE;
  if (proxy == NULL)
    return TRUE;
  return apply_proxy (run, proxy, error);
}

void
gmulti_engine_update_transfer_timer (GMultiEngine   *self,
                                     GMultiRun      *run)
{
  gint64 next = 0;

#define CONSIDER(d) if ((d) > 0 && (next == 0 || (d) < next)) next = (d)
  CONSIDER (run->total_deadline);
  if (run->phase == GMULTI_RUN_PROXY_LOOKUP || run->phase == GMULTI_RUN_RESOLVING ||
      run->phase == GMULTI_RUN_CONNECTING)
    CONSIDER (run->connect_deadline);
  if (run->phase == GMULTI_RUN_WAIT_CONTINUE)
    CONSIDER (run->continue_deadline);
  if (run->phase >= GMULTI_RUN_SENDING && run->phase < GMULTI_RUN_DONE && !run->hop_held)
    CONSIDER (run->low_speed_check);
#undef CONSIDER

  if (next == 0)
    gmulti_timer_heap_remove (&self->timers, &run->timer.node);
  else if (run->timer.node.deadline != next || !gmulti_timer_node_is_armed (&run->timer.node))
    gmulti_timer_heap_set (&self->timers, &run->timer.node, next);
}

static void set_phase (GMultiEngine *self, GMultiRun *run, GMultiRunPhase phase);

static void
set_phase (GMultiEngine   *self,
           GMultiRun      *run,
           GMultiRunPhase  phase)
{
  if (run->phase == phase)
    return;
  run->phase = phase;
  if (phase != GMULTI_RUN_DONE)
    gmulti_run_notify_phase (run);
  gmulti_engine_update_transfer_timer (self, run);
}

void
gmulti_engine_set_phase (GMultiEngine   *self,
                         GMultiRun      *run,
                         GMultiRunPhase  phase)
{
  set_phase (self, run, phase);
}

void
gmulti_engine_begin_exchange (GMultiEngine     *self,
                              GMultiRun        *run,
                              GMultiConnection *conn)
{
  run->conn = conn;
  run->http_version = conn->protocol->version;
  /* A reference, no copy: the connection took the chain once. */
  if (G_UNLIKELY (run->tls_peer != NULL))
    gmulti_tls_peer_unref (run->tls_peer);
  run->tls_peer = conn->origin_tls != NULL ? gmulti_connection_get_tls_peer (conn) : NULL;
  if (run->tls_peer != NULL)
    gmulti_tls_peer_ref (run->tls_peer);
  run->metrics.http_version = run->http_version;
  run->metrics.connection_id = conn->id;
  if (G_UNLIKELY (needs_http2 (run)) && conn->protocol->version != GMULTI_HTTP_VERSION_HTTP_2 &&
      self->protocol == NULL)
    {
      gmulti_engine_abort_transfer (self, run,
                                    g_error_new (GMULTI_ERROR, GMULTI_ERROR_HTTP2_REQUIRED,
                                                 _("HTTP/2 is required, but the server at %s:%u chose %s"),
                                                 run->host, run->port, conn->protocol->name));
      return;
    }
  run->metrics.connection_reused = !run->conn_is_new;
  if (run->low_speed_check == 0 && run->request.low_speed_limit > 0)
    {
      run->low_speed_check = self->now + G_USEC_PER_SEC;
      run->low_speed_bytes = 0;
      run->low_speed_since = 0;
    }
  set_phase (self, run, GMULTI_RUN_SENDING);
  gmulti_pool_start_stream (self, conn, run);
}

static void
resolved_cb (const GMultiAddress *addresses,
             guint                n_addresses,
             const GError        *resolve_error,
             gpointer             user_data)
{
  GMultiRun *run = user_data;
  GMultiEngine *self = run->engine;
  GMultiConnection *conn = run->conn;
  GError *error = NULL;

  run->resolve = NULL;
  run->metrics.name_lookup_time = self->now - run->start_us;

  if (resolve_error != NULL)
    {
      /* Through a proxy, the name looked up was the proxy's. */
      if (run->proxy != NULL)
        error = g_error_new (GMULTI_ERROR, GMULTI_ERROR_PROXY_CONNECT_FAILED,
                             _("Could not resolve the proxy %s: %s"),
                             run->proxy->host, resolve_error->message);
      else
        error = g_error_copy (resolve_error);
      /* A resolver's later entry may do. */
      if (G_UNLIKELY (run->proxy_looked_up) && gmulti_proxy_lookup_fail_over (self, run))
        {
          g_error_free (error);
          return;
        }
      gmulti_engine_abort_transfer (self, run, error);
      return;
    }

  if (!gmulti_connection_connect (conn, addresses, n_addresses, &error))
    {
      gmulti_engine_abort_transfer (self, run, error);
      return;
    }
  set_phase (self, run, GMULTI_RUN_CONNECTING);
}

/* socks5:// sends the proxy the origin's address: it is looked up first, then the
 * proxy's name as for every proxy. */
static void
origin_resolved_cb (const GMultiAddress *addresses,
                    guint                n_addresses,
                    const GError        *resolve_error,
                    gpointer             user_data)
{
  GMultiRun *run = user_data;
  GMultiEngine *self = run->engine;

  run->resolve = NULL;
  if (resolve_error != NULL)
    {
      gmulti_engine_abort_transfer (self, run, g_error_copy (resolve_error));
      return;
    }
  /* One address: the proxy makes the one connection, there is no racing through it. */
  run->socks_origin = addresses[0];
  run->resolve = gmulti_resolver_lookup (self->resolver, run->proxy->host,
                                         run->proxy->port, resolved_cb, run);
}

static void
ensure_resolver (GMultiEngine *self)
{
  if (self->resolver != NULL)
    return;
  self->resolver = gmulti_resolver_new ();
  if (self->resolver == NULL)
    return;
  self->resolver_socket = gmulti_socket_table_add (&self->sockets,
                                                   gmulti_resolver_get_fd (self->resolver),
                                                   GMULTI_SOCKET_RESOLVER, self);
  self->resolver_socket->borrowed = TRUE;
  if (self->name_delegate != NULL)
    gmulti_resolver_set_delegate (self->resolver, self->name_delegate);
}

void
gmulti_engine_set_name_delegate (GMultiEngine       *self,
                                 GMultiNameDelegate *delegate)
{
  if (delegate != NULL)
    delegate->ops->ref (delegate);
  if (self->name_delegate != NULL)
    self->name_delegate->ops->unref (self->name_delegate);
  self->name_delegate = delegate;
  if (self->resolver != NULL)
    gmulti_resolver_set_delegate (self->resolver, delegate);
}

void
gmulti_engine_update_resolver_interest (GMultiEngine *self)
{
  if (self->resolver_socket == NULL)
    return;
  gmulti_engine_want_socket (self, self->resolver_socket,
                             gmulti_resolver_get_n_pending (self->resolver) > 0
                             ? GMULTI_POLL_IN : GMULTI_POLL_NONE);
}

/* The transfer has its connection from the pool: begins the exchange on an idle one,
 * or resolves the name for a new one. */
static void
use_connection (GMultiEngine     *self,
                GMultiRun        *run,
                GMultiConnection *conn,
                gboolean          is_new)
{
  run->conn_is_new = is_new;
  if (!is_new)
    {
      gmulti_engine_begin_exchange (self, run, conn);
      return;
    }

  conn->connecting = run;
  run->conn = conn;
  if (run->connect_timeout_ms > 0)
    run->connect_deadline = self->now +
                                     (gint64) run->connect_timeout_ms * 1000;
  /* A Unix socket has no name to resolve. */
  if (G_UNLIKELY (run->request.unix_socket_path != NULL))
    {
      GError *error = NULL;

      if (!gmulti_connection_connect_unix (conn, run->request.unix_socket_path, &error))
        {
          gmulti_engine_abort_transfer (self, run, error);
          return;
        }
      set_phase (self, run, GMULTI_RUN_CONNECTING);
      return;
    }
  set_phase (self, run, GMULTI_RUN_RESOLVING);

  ensure_resolver (self);
  if (self->resolver == NULL)
    {
      gmulti_engine_abort_transfer (self, run,
                                    g_error_new (GMULTI_ERROR, GMULTI_ERROR_RESOLVE_FAILED,
                                                 _("Could not start name resolution: %s"),
                                                 g_strerror (errno)));
      return;
    }
  /* Through a proxy, the connection is to the proxy. */
  if (G_UNLIKELY (run->proxy != NULL && run->proxy->kind == GMULTI_PROXY_SOCKS5))
    run->resolve = gmulti_resolver_lookup (self->resolver, run->host,
                                           run->port, origin_resolved_cb, run);
  else if (run->proxy != NULL)
    run->resolve = gmulti_resolver_lookup (self->resolver, run->proxy->host,
                                           run->proxy->port, resolved_cb, run);
  else
    run->resolve = gmulti_resolver_lookup (self->resolver, run->host,
                                           run->port, resolved_cb, run);
  gmulti_engine_update_resolver_interest (self);
}

void
gmulti_engine_start_waiter (GMultiEngine   *self,
                            GMultiRun      *run,
                            GMultiHost     *host)
{
  gboolean is_new;
  GMultiConnection *conn = gmulti_pool_acquire (self, host, run, &is_new);

  /* The pool picked it because it can start; if it cannot after all, it keeps its
   * place. */
  if (conn == NULL)
    return;
  gmulti_pool_unwait (self, run);
  use_connection (self, run, conn, is_new);
}

/* The run leaves while the connection it opened is still being made (TCP, or TLS over
 * it). A connection that may multiplex is the one its origin's next transfers wait
 * for: the first of them takes it over, so that the connection the server accepted is
 * not thrown away and the others do not wait for yet another. Not through a proxy,
 * whose tunnel and challenges belong to the run that asked for them, nor while the
 * name is being looked up for the run (nothing reached the server yet). */
void
gmulti_engine_hand_over_connection (GMultiEngine *self,
                                    GMultiRun    *run)
{
  GMultiConnection *conn = run->conn;
  GMultiHost *host;
  GMultiRun *heir;

  if (conn == NULL || conn->connecting != run || run->phase != GMULTI_RUN_CONNECTING ||
      !conn->multiplexing || conn->exclusive || run->proxy != NULL)
    return;
  host = conn->host;
  if (host->waiters.head == NULL)
    return;
  /* A waiter of the same host has the same pool key, so it goes direct too. */
  heir = host->waiters.head->data;
  if (!gmulti_connection_hand_over (conn, heir->request.tls_verifier))
    return;

  gmulti_pool_unwait (self, heir);
  run->conn = NULL;
  conn->connecting = heir;
  heir->conn = conn;
  heir->conn_is_new = TRUE;
  heir->retry_fresh = FALSE;
  if (heir->connect_timeout_ms > 0)
    heir->connect_deadline = self->now + (gint64) heir->connect_timeout_ms * 1000;
  set_phase (self, heir, GMULTI_RUN_CONNECTING);
}

/* Gets the transfer a connection, or a place at the end of the queue. */
static void
acquire_connection (GMultiEngine   *self,
                    GMultiRun      *run)
{
  GMultiHost *host;
  GMultiConnection *conn;
  gboolean is_new;

  /* Those already waiting go first: a slot freed in this turn is theirs. */
  if (self->pool_changed)
    gmulti_pool_dispatch (self);

  host = gmulti_pool_get_host (self, &run->pool_key);
  conn = gmulti_pool_acquire (self, host, run, &is_new);
  if (conn == NULL)
    {
      set_phase (self, run, GMULTI_RUN_WAIT_SLOT);
      gmulti_pool_wait (self, host, run);
      return;
    }
  use_connection (self, run, conn, is_new);
}

/* Sets the run up to send its hop again, for its auth hook: its body from the first
 * byte if it has one (the rule of a 307 redirect), the hop's request_headers called
 * again by prepare_hop(). Returns an error if it cannot be sent again. */
static GError *
repeat_hop (GMultiEngine *self,
            GMultiRun    *run)
{
  /* The hook answers each challenge once; this only guards against a hook that would
   * loop. */
  if (run->auth_repeats == 7)
    return g_error_new (GMULTI_ERROR, GMULTI_ERROR_AUTH_FAILED,
                        _("The server at %s asked for credentials too many times"),
                        run->host);
  if (run->request.has_body && !run->body_dropped && !gmulti_run_rewind_body (run))
    return g_error_new (GMULTI_ERROR, GMULTI_ERROR_AUTH_FAILED,
                        _("Cannot send the request again with credentials: its body "
                          "cannot be sent again"));
  run->auth_repeats++;
  run->proxy_challenge = FALSE;
  gmulti_run_notify_new_hop (run);
  run->phase = GMULTI_RUN_INIT;
  gmulti_engine_schedule (self, run);
  return NULL;
}

/* A run its auth hook held (WAIT) and then answered: GO_ON delivers the response it
 * held, REPEAT drops it (and the stream with it) and sends the hop again. */
static void
release_held_hop (GMultiEngine *self,
                  GMultiRun    *run)
{
  GError *error;

  if (run->hold_verdict == GMULTI_HOP_WAIT)
    return;
  run->hop_held = FALSE;
  run->paused = run->held_paused;
  if (run->hold_verdict == GMULTI_HOP_GO_ON)
    {
      /* A proxy's 407 left unanswered is no response for the application. */
      if (G_UNLIKELY (run->proxy_challenge))
        {
          run->proxy_challenge = FALSE;
          gmulti_engine_abort_transfer (self, run, gmulti_engine_proxy_auth_error (run));
          return;
        }
      gmulti_run_notify_response_head (run);
      if (run->conn != NULL && run->phase != GMULTI_RUN_DONE)
        gmulti_pool_resume_stream (self, run->conn, run);
      return;
    }
  /* The rest of the held response is not wanted: the stream ends here (HTTP/1.1
   * closes the connection unless its response was complete). */
  if (run->conn != NULL)
    {
      GMultiConnection *conn = run->conn;

      run->conn = NULL;
      gmulti_pool_reset_stream (self, conn, run);
    }
  error = repeat_hop (self, run);
  if (error != NULL)
    gmulti_engine_abort_transfer (self, run, error);
}

void
gmulti_engine_tunnel_challenged (GMultiEngine  *self,
                                 GMultiRun     *run,
                                 GMultiHeaders *fields,
                                 GError        *error)
{
  GMultiConnection *conn = run->conn;
  GError *hook_error = NULL;

  /* The 407's body was not read, so the connection goes (whether or not the proxy
   * keeps it open), and an answer goes on a new one. */
  run->conn = NULL;
  conn->connecting = NULL;
  gmulti_pool_close (self, conn);
  /* The proxy's answer is the hop's response for the hook; while the application is
   * asked, only the total timeout runs. */
  run->status = 407;
  g_clear_pointer (&run->response_headers, gmulti_headers_unref);
  run->response_headers = fields;
  run->connect_deadline = 0;
  run->proxy_challenge = TRUE;
  switch (run->auth->ops->challenge (run->auth, run, &hook_error))
    {
    case GMULTI_HOP_REPEAT:
      g_error_free (error);
      error = repeat_hop (self, run);
      if (error == NULL)
        return;
      break;
    case GMULTI_HOP_WAIT:
      g_error_free (error);
      gmulti_engine_hold_hop (run);
      return;
    case GMULTI_HOP_FAIL:
      if (hook_error != NULL)
        {
          g_error_free (error);
          error = hook_error;
        }
      break;
    case GMULTI_HOP_GO_ON:
    default:
      g_clear_error (&hook_error);
      break;
    }
  run->proxy_challenge = FALSE;
  gmulti_engine_abort_transfer (self, run, error);
}

void
gmulti_engine_resume_hop (GMultiRun        *run,
                          GMultiHopVerdict  verdict)
{
  g_return_if_fail (verdict == GMULTI_HOP_GO_ON || verdict == GMULTI_HOP_REPEAT);

  if (run->engine == NULL || !run->hop_held || run->hold_verdict != GMULTI_HOP_WAIT)
    return;
  run->hold_verdict = verdict;
  /* The work is done when the run is stepped, where no exchange is on the stack. */
  gmulti_engine_run_resumed (run);
}

void
gmulti_engine_hold_hop (GMultiRun *run)
{
  run->hop_held = TRUE;
  run->hold_verdict = GMULTI_HOP_WAIT;
  run->held_paused = run->paused;
  run->paused = TRUE;
  gmulti_engine_update_transfer_timer (run->engine, run);
}

/* Steps a transfer taken from the ready queue. */
void
gmulti_engine_step_transfer (GMultiEngine   *self,
                             GMultiRun      *run)
{
  GError *error = NULL;
  gboolean wait;

  if (G_UNLIKELY (run->hop_held))
    {
      release_held_hop (self, run);
      return;
    }

  switch (run->phase)
    {
    case GMULTI_RUN_INIT:
      if (run->start_us == 0)
        {
          run->start_us = self->now;
          /* The defaults in effect now hold for the whole run. */
          g_clear_pointer (&run->defaults, gmulti_defaults_unref);
          run->defaults = gmulti_defaults_ref (self->defaults);
          if (!gmulti_run_notify_prepare (run, &error))
            {
              gmulti_engine_abort_transfer (self, run, error);
              return;
            }
          /* The transfer's own jar wins over the session's, for the whole run. */
          g_clear_pointer (&run->cookies, gmulti_hop_hook_unref);
          if (run->request.cookies != NULL)
            run->cookies = gmulti_hop_hook_ref (run->request.cookies);
          else if (run->defaults->cookies != NULL)
            run->cookies = gmulti_hop_hook_ref (run->defaults->cookies);
          /* The owner chose the authenticator (from the defaults' when it has any
           * credentials or a way to ask): NULL costs the run nothing. */
          g_clear_pointer (&run->auth, gmulti_hop_hook_unref);
          run->repeating = FALSE;
          run->hop_held = FALSE;
          run->auth_repeats = 0;
          if (run->request.auth != NULL)
            run->auth = gmulti_hop_hook_ref (run->request.auth);
          g_clear_pointer (&run->hsts, gmulti_hop_hook_unref);
          if (run->request.hsts != NULL)
            run->hsts = gmulti_hop_hook_ref (run->request.hsts);
          else if (run->defaults->hsts != NULL)
            run->hsts = gmulti_hop_hook_ref (run->defaults->hsts);
          /* A default User-Agent that could not be set must not leave out silently
           * either: nothing goes out until a valid one is set. */
          if (run->defaults->user_agent_error != NULL)
            {
              gmulti_engine_abort_transfer (self, run,
                                            g_error_copy (run->defaults->user_agent_error));
              return;
            }
          /* Nor does a transfer go direct when the proxy it was given is unusable. */
          if (run->request.proxy_uri != NULL)
            {
              g_clear_pointer (&run->own_proxy, gmulti_proxy_unref);
              run->own_proxy = gmulti_proxy_new_from_uri (run->request.proxy_uri, &error);
              if (error != NULL)
                {
                  gmulti_engine_abort_transfer (self, run, error);
                  return;
                }
            }
          else if (run->defaults->proxy_error != NULL)
            {
              gmulti_engine_abort_transfer (self, run,
                                            g_error_copy (run->defaults->proxy_error));
              return;
            }
          run->timeout_ms = run->request.timeout_ms;
          if (run->timeout_ms > 0)
            run->total_deadline = run->start_us + (gint64) run->timeout_ms * 1000;
        }
      if (!prepare_hop (run, &error) || !choose_proxy (run, &wait, &error))
        {
          gmulti_engine_abort_transfer (self, run, error);
          return;
        }
      if (G_UNLIKELY (wait))
        {
          /* The connect timeout covers the lookup too; the connection gets its own. */
          if (run->connect_timeout_ms > 0)
            run->connect_deadline = self->now + (gint64) run->connect_timeout_ms * 1000;
          set_phase (self, run, GMULTI_RUN_PROXY_LOOKUP);
          return;
        }
      acquire_connection (self, run);
      break;

    case GMULTI_RUN_PROXY_LOOKUP:
      {
        g_autoptr(GMultiProxy) proxy = NULL;

        /* Resumed from a pause before the answer came: it goes on waiting. */
        if (!gmulti_proxy_lookup_take_answer (run, &proxy, &error))
          break;
        if (error != NULL || !apply_proxy (run, proxy, &error))
          {
            gmulti_engine_abort_transfer (self, run, error);
            return;
          }
        run->proxy_looked_up = TRUE;
        acquire_connection (self, run);
      }
      break;

    case GMULTI_RUN_WAIT_SLOT:
      /* Resumed while waiting: the pool starts it when its turn comes. */
      break;

    case GMULTI_RUN_SENDING:
    case GMULTI_RUN_WAIT_CONTINUE:
    case GMULTI_RUN_RECEIVING:
      /* Resumed after a pause. */
      if (run->conn != NULL)
        gmulti_pool_resume_stream (self, run->conn, run);
      break;

    default:
      break;
    }
}

/* Takes the transfer off everything it is queued on or using. The connection is pooled
 * if its state allows, closed otherwise. */
void
gmulti_engine_detach_transfer (GMultiEngine   *self,
                               GMultiRun      *run)
{
  if (G_UNLIKELY (run->proxy_asked))
    gmulti_proxy_lookup_forget (run);
  if (run->resolve != NULL)
    {
      gmulti_resolver_cancel (self->resolver, run->resolve);
      run->resolve = NULL;
      gmulti_engine_update_resolver_interest (self);
    }
  if (run->in_pending)
    gmulti_pool_unwait (self, run);
  if (run->in_ready)
    {
      g_queue_unlink (run->in_yielded ? &self->yielded : &self->ready, &run->ready_link);
      run->in_ready = FALSE;
      run->in_yielded = FALSE;
    }
  if (run->conn != NULL)
    {
      GMultiConnection *conn = run->conn;

      run->conn = NULL;
      /* Not ready for requests yet (connecting, in the TLS handshake, or TLS could not
       * even start): nothing it carries is worth keeping. */
      if (conn->protocol == NULL)
        {
          conn->connecting = NULL;
          gmulti_pool_close (self, conn);
        }
      else
        gmulti_pool_reset_stream (self, conn, run);
    }
  gmulti_timer_heap_remove (&self->timers, &run->timer.node);
}

static void
queue_message (GMultiEngine   *self,
               GMultiRun      *run,
               GError         *error)
{
  run->phase = GMULTI_RUN_DONE;
  gmulti_timer_heap_remove (&self->timers, &run->timer.node);
  self->n_running--;
  /* The clock, like the exchange's own metrics: the turn's time can be older than a
   * first byte read in this very turn. */
  run->metrics.total_time = g_get_monotonic_time () - run->start_us;
  if (run->start_us == 0)
    run->metrics.total_time = 0;
  gmulti_run_notify_finished (run, error);
  run->message.transfer = run->owner;
  run->message.error = run->error;
  g_queue_push_tail_link (&self->messages, &run->message_link);
  run->in_messages = TRUE;
}

void
gmulti_engine_abort_transfer (GMultiEngine   *self,
                              GMultiRun      *run,
                              GError         *error)
{
  if (run->phase == GMULTI_RUN_DONE || run->phase == GMULTI_RUN_NONE)
    {
      g_clear_error (&error);
      return;
    }
  gmulti_engine_detach_transfer (self, run);
  queue_message (self, run, error);
}

/* Sets the transfer up for the next hop; returns an error if it cannot be followed. */
static GError *
follow_redirect (GMultiEngine   *self,
                 GMultiRun      *run)
{
  const char *location;
  guint status = run->status;
  g_autofree char *next = NULL;
  GError *error = NULL;
  gboolean cross_origin;
  gboolean drop_body = FALSE;

  if (run->redirects >= run->request.max_redirects)
    return g_error_new (GMULTI_ERROR, GMULTI_ERROR_TOO_MANY_REDIRECTS,
                        _("Too many redirects: the limit is %u"), run->request.max_redirects);

  location = gmulti_redirect_get_location (run->response_headers, &error);
  if (location == NULL)
    return error;
  next = gmulti_redirect_resolve (run->effective_uri, location, &cross_origin, &error);
  if (next == NULL)
    return error;

  /* 303 always becomes GET; 301 and 302 turn POST into GET as browsers do; 307 and 308
   * repeat the request as it was. */
  if ((status == 303 && strcmp (run->method, "HEAD") != 0) ||
      ((status == 301 || status == 302) && strcmp (run->method, "POST") == 0))
    {
      g_free (run->redirect_method);
      run->redirect_method = g_strdup ("GET");
      drop_body = TRUE;
    }
  if (drop_body)
    run->body_dropped = TRUE;
  else if (run->request.has_body && !run->body_dropped &&
           !gmulti_run_rewind_body (run))
    return g_error_new (GMULTI_ERROR, GMULTI_ERROR_BAD_REDIRECT,
                        _("Cannot follow the redirect: the request body cannot be sent again"));

  if (cross_origin)
    run->cross_origin = TRUE;

  run->redirects++;
  run->metrics.redirect_count = run->redirects;
  run->metrics.redirect_time = self->now - run->start_us;
  g_free (run->effective_uri);
  run->effective_uri = g_steal_pointer (&next);
  gmulti_run_notify_new_hop (run);
  return NULL;
}

/* Called when the exchange ended; the connection was released already. */
void
gmulti_engine_finish_transfer (GMultiEngine   *self,
                               GMultiRun      *run,
                               GError         *error)
{
  run->conn = NULL;
  if (G_UNLIKELY (run->repeating))
    {
      run->repeating = FALSE;
      if (error == NULL)
        {
          error = repeat_hop (self, run);
          if (error == NULL)
            return;
        }
    }
  if (error == NULL && run->following)
    {
      run->following = FALSE;
      error = follow_redirect (self, run);
      if (error == NULL)
        {
          run->phase = GMULTI_RUN_INIT;
          gmulti_engine_schedule (self, run);
          return;
        }
    }
  gmulti_engine_abort_transfer (self, run, error);
}

void
gmulti_engine_transfer_deadline (GMultiEngine   *self,
                                 GMultiRun      *run)
{
  gint64 now = self->now;

  if (run->total_deadline > 0 && now >= run->total_deadline)
    {
      gmulti_engine_abort_transfer (self, run,
                                    g_error_new (GMULTI_ERROR, GMULTI_ERROR_TIMED_OUT,
                                                 _("The transfer did not complete within %u ms"),
                                                 run->timeout_ms));
      return;
    }

  if (run->phase == GMULTI_RUN_PROXY_LOOKUP && run->connect_deadline > 0 &&
      now >= run->connect_deadline)
    {
      gmulti_engine_abort_transfer (self, run,
                                    g_error_new (GMULTI_ERROR, GMULTI_ERROR_CONNECT_TIMEOUT,
                                                 _("The proxy for %s was not known within %u ms"),
                                                 run->host, run->connect_timeout_ms));
      return;
    }

  if ((run->phase == GMULTI_RUN_RESOLVING || run->phase == GMULTI_RUN_CONNECTING) &&
      run->connect_deadline > 0 && now >= run->connect_deadline)
    {
      /* Nothing went to the proxy yet (no TLS, no CONNECT, no SOCKS greeting): a
       * resolver's later entry may do. */
      if (G_UNLIKELY (run->proxy_looked_up) &&
          (run->conn == NULL || run->conn->state == GMULTI_CONNECTION_CONNECTING) &&
          gmulti_proxy_lookup_fail_over (self, run))
        return;
      gmulti_engine_abort_transfer (self, run,
                                    g_error_new (GMULTI_ERROR, GMULTI_ERROR_CONNECT_TIMEOUT,
                                                 _("Could not connect to %s within %u ms"),
                                                 run->proxy != NULL ? run->proxy->host : run->host,
                                                 run->connect_timeout_ms));
      return;
    }

  if (run->phase == GMULTI_RUN_WAIT_CONTINUE && run->continue_deadline > 0 &&
      now >= run->continue_deadline)
    {
      gmulti_stream_continue (run);
      gmulti_pool_stream_timeout (self, run->conn, run);
      if (run->phase == GMULTI_RUN_DONE || run->phase == GMULTI_RUN_NONE)
        return;
    }

  if (run->low_speed_check > 0 && now >= run->low_speed_check && !run->hop_held &&
      run->phase >= GMULTI_RUN_SENDING && run->phase < GMULTI_RUN_DONE)
    {
      guint64 moved = run->bytes_received + run->bytes_sent +
                      run->metrics.header_bytes_received;
      guint64 delta = moved - run->low_speed_bytes;
      gint64 elapsed = now - (run->low_speed_check - G_USEC_PER_SEC);
      gboolean slow = delta * G_USEC_PER_SEC < (guint64) run->request.low_speed_limit *
                                               (guint64) MAX (elapsed, 1);

      run->low_speed_bytes = moved;
      run->low_speed_check = now + G_USEC_PER_SEC;
      if (!slow || run->paused)
        run->low_speed_since = 0;
      else if (run->low_speed_since == 0)
        run->low_speed_since = now - elapsed;

      if (run->low_speed_since > 0 &&
          now - run->low_speed_since >= (gint64) run->request.low_speed_time * G_USEC_PER_SEC)
        {
          gmulti_engine_abort_transfer (self, run,
                                        g_error_new (GMULTI_ERROR, GMULTI_ERROR_TOO_SLOW,
                                                     _("The transfer was slower than %u bytes per second for %u seconds"),
                                                     run->request.low_speed_limit,
                                                     run->request.low_speed_time));
          return;
        }
    }

  gmulti_engine_update_transfer_timer (self, run);
}
