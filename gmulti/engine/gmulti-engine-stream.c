/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "gmulti-engine-private.h"
#include "gmulti-protocol.h"
#include "gmulti-error.h"
#include "gmulti-headers.h"
#include "gmulti-i18n-private.h"
#include "engine/gmulti-defaults.h"

/* What a protocol reports about a stream, and what it means for the transfer: its
 * phases, whether a redirect is followed, a retry on a new connection, the end. The
 * protocol tells the pool about the connection itself, by the return value of its
 * operations; none of these calls touch the connection. */

/* How long a request with "Expect: 100-continue" waits before sending its body anyway. */
#define GMULTI_EXPECT_CONTINUE_WAIT_US (1000 * G_TIME_SPAN_MILLISECOND)

void
gmulti_stream_wait_continue (GMultiRun *run)
{
  GMultiEngine *engine = run->engine;

  run->continue_deadline = engine->now + GMULTI_EXPECT_CONTINUE_WAIT_US;
  gmulti_engine_set_phase (engine, run, GMULTI_RUN_WAIT_CONTINUE);
}

void
gmulti_stream_continue (GMultiRun *run)
{
  run->continue_deadline = 0;
  gmulti_engine_set_phase (run->engine, run, GMULTI_RUN_SENDING);
}

void
gmulti_stream_request_sent (GMultiRun *run)
{
  /* Still waiting for "100 Continue" means the body was dropped: an early answer. */
  if (run->phase == GMULTI_RUN_SENDING)
    gmulti_engine_set_phase (run->engine, run, GMULTI_RUN_RECEIVING);
}

/* The response head says redirect and the transfer follows redirects. */
static gboolean
wants_redirect (GMultiRun *run)
{
  guint status = run->status;

  if (!run->request.follow_redirects)
    return FALSE;
  if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
    return FALSE;
  return run->response_headers != NULL &&
         gmulti_headers_get_one (run->response_headers, "Location") != NULL;
}

/* Asks the auth hook about a final head. TRUE when it decided the stream's fate
 * (*@verdict); FALSE to go on as without a hook. */
static gboolean
auth_challenge (GMultiRun           *run,
                GError             **body_error,
                GMultiStreamVerdict *verdict)
{
  GError *error = NULL;

  if (run->auth->ops->challenge == NULL)
    return FALSE;
  switch (run->auth->ops->challenge (run->auth, run, &error))
    {
    case GMULTI_HOP_REPEAT:
      /* The body of this answer is only framed, as a redirect's: the connection
       * carries the hop again when it stays open. */
      g_clear_error (body_error);
      run->repeating = TRUE;
      *verdict = GMULTI_STREAM_DISCARD;
      return TRUE;
    case GMULTI_HOP_WAIT:
      if (*body_error != NULL)
        return FALSE;
      /* Delivered later, or dropped: the body waits in the protocol, paused. */
      gmulti_engine_hold_hop (run);
      *verdict = GMULTI_STREAM_DELIVER;
      return TRUE;
    case GMULTI_HOP_FAIL:
      g_clear_error (body_error);
      if (error == NULL)
        error = g_error_new_literal (GMULTI_ERROR, GMULTI_ERROR_AUTH_FAILED,
                                     _("Authentication failed"));
      gmulti_stream_failed (run, error, FALSE);
      *verdict = GMULTI_STREAM_FAILED;
      return TRUE;
    case GMULTI_HOP_GO_ON:
    default:
      g_clear_error (&error);
      return FALSE;
    }
}

GError *
gmulti_engine_proxy_auth_error (GMultiRun *run)
{
  GMultiProxy *proxy = run->proxy;

  if (run->proxy_authorization == NULL)
    return g_error_new (GMULTI_ERROR, GMULTI_ERROR_PROXY_AUTH_REQUIRED,
                        _("The proxy %s:%u requires authentication, and no credentials were given"),
                        proxy->host, proxy->port);
  if (proxy->user == NULL)
    return g_error_new (GMULTI_ERROR, GMULTI_ERROR_PROXY_AUTH_REQUIRED,
                        _("The proxy %s:%u refused the credentials"),
                        proxy->host, proxy->port);
  return g_error_new (GMULTI_ERROR, GMULTI_ERROR_PROXY_AUTH_REQUIRED,
                      _("The proxy %s:%u refused the credentials of the user %s"),
                      proxy->host, proxy->port, proxy->user);
}

GMultiStreamVerdict
gmulti_stream_headers (GMultiRun      *run,
                       GError         *body_error)
{
  gmulti_engine_set_phase (run->engine, run, GMULTI_RUN_RECEIVING);
  /* A forwarding proxy answers 407 for itself, not for the origin: the auth hook may
   * answer it; unanswered, it ends the transfer. */
  if (G_UNLIKELY (run->status == 407 && run->target_prefix != NULL))
    {
      if (run->auth != NULL)
        {
          GMultiStreamVerdict verdict;
          gboolean decided;

          run->proxy_challenge = TRUE;
          decided = auth_challenge (run, &body_error, &verdict);
          /* Held, it stays the proxy's until answered. */
          run->proxy_challenge = run->hop_held;
          if (decided)
            return verdict;
        }
      g_clear_error (&body_error);
      gmulti_stream_failed (run, gmulti_engine_proxy_auth_error (run), FALSE);
      return GMULTI_STREAM_FAILED;
    }
  /* Every head, redirects too: a cookie set on a 302 goes with the next hop. */
  if (run->cookies != NULL)
    run->cookies->ops->response_head (run->cookies, run);
  if (run->hsts != NULL)
    run->hsts->ops->response_head (run->hsts, run);
  if (run->auth != NULL)
    run->auth->ops->response_head (run->auth, run);
  run->following = wants_redirect (run);
  if (run->following)
    {
      g_clear_error (&body_error);
      return GMULTI_STREAM_DISCARD;
    }
  if (G_UNLIKELY (run->auth != NULL))
    {
      GMultiStreamVerdict verdict;

      if (auth_challenge (run, &body_error, &verdict))
        return verdict;
    }
  if (G_UNLIKELY (body_error != NULL))
    {
      gmulti_stream_failed (run, body_error, FALSE);
      return GMULTI_STREAM_FAILED;
    }
  gmulti_run_notify_response_head (run);
  return GMULTI_STREAM_DELIVER;
}

const char *
gmulti_stream_accept_encoding (GMultiRun *run)
{
  return run->request.decode_content ? gmulti_coding_accept_list () : NULL;
}

/* Reads the content codings of @value (one Content-Encoding field, a list) into
 * @codings after the @n already there. FALSE for a coding gmulti does not decode, or
 * more than it stacks. */
static gboolean
add_content_codings (const char   *value,
                     GMultiCoding *codings,
                     guint        *n)
{
  const char *p = value;

  while (*p != '\0')
    {
      const char *start, *end;

      while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
      if (*p == '\0')
        break;
      start = p;
      while (*p != '\0' && *p != ',')
        p++;
      end = p;
      while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
      /* RFC 9110 8.4.1: identity is no coding (and not to be sent, but some do). */
      if (end - start == 8 && g_ascii_strncasecmp (start, "identity", 8) == 0)
        continue;
      if (*n == GMULTI_DECODER_MAX_CODINGS ||
          !gmulti_content_coding_from_name (start, (gsize) (end - start), &codings[*n]))
        return FALSE;
      (*n)++;
    }
  return TRUE;
}

void
gmulti_stream_build_body_chain (GMultiRun          *run,
                                GMultiBodyChain    *chain,
                                const GMultiCoding *transfer_codings,
                                guint               n_transfer_codings,
                                gboolean            has_body)
{
  GMultiCoding codings[GMULTI_DECODER_MAX_CODINGS];
  GMultiContentDecoding content = { codings, 0 };
  GMultiHeaders *headers = run->response_headers;

  if (!has_body)
    n_transfer_codings = 0;
  /* Most responses have no Content-Encoding: one lookup, no allocation. */
  if (G_UNLIKELY (has_body && run->request.decode_content && headers != NULL &&
                  gmulti_headers_contains (headers, "Content-Encoding")))
    {
      guint n_fields = gmulti_headers_get_length (headers);
      gboolean known = TRUE;

      for (guint i = 0; known && i < n_fields; i++)
        if (g_ascii_strcasecmp (gmulti_headers_get_name (headers, i), "Content-Encoding") == 0)
          known = add_content_codings (gmulti_headers_get_value (headers, i), codings,
                                       &content.n_codings);
      /* Not known: left as it came, the application sees the field and the coded
       * bytes (and content_decoded stays FALSE). */
      if (!known)
        content.n_codings = 0;
      else if (content.n_codings > 0)
        {
          run->content_decoded = TRUE;
          content.wire_counters[0] = &run->wire_bytes_received;
          content.wire_counters[1] = &run->metrics.body_bytes_received;
          content.max_decoded = run->defaults->max_decoded_size;
          content.max_ratio = run->defaults->max_decode_ratio;
        }
    }
  gmulti_body_chain_build_full (chain, transfer_codings, n_transfer_codings, &content,
                                gmulti_run_body_sink (run));
}

void
gmulti_stream_done (GMultiRun *run)
{
  GMultiEngine *engine = run->engine;

  run->conn = NULL;
  gmulti_run_notify_progress (run, TRUE);
  gmulti_engine_finish_transfer (engine, run, NULL);
}

static gboolean
method_is_idempotent (const char *method)
{
  static const char *const idempotent[] = {
    "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE",
  };

  for (guint i = 0; i < G_N_ELEMENTS (idempotent); i++)
    if (strcmp (method, idempotent[i]) == 0)
      return TRUE;
  return FALSE;
}

/* A stale pooled connection failed the request, or the server refused its stream: try
 * again once, on a new connection.
 * Returns TRUE when the transfer was retried (*@error is freed then), FALSE when it may
 * not be (*@error may get a prefix saying why). */
static gboolean
retry (GMultiEngine   *engine,
       GMultiRun      *run,
       gboolean        refused,
       GError        **error)
{
  /* A refused stream is known not to have been acted on, on a new connection too and
   * for any method; a stale connection's failure only looks so. */
  if (run->retried_stale || (run->conn_is_new && !refused))
    return FALSE;
  if (!refused && !method_is_idempotent (run->method))
    {
      /* Say why this one failed where a GET would have been sent again. */
      g_prefix_error (error, _("The %s request was not sent again on a new connection, as "
                               "the server may have acted on it: "), run->method);
      return FALSE;
    }
  if (run->request.has_body && !run->body_dropped &&
      !gmulti_run_rewind_body (run))
    {
      g_prefix_error (error, _("The %s request was not sent again on a new connection, as "
                               "its body cannot be sent again: "), run->method);
      return FALSE;
    }

  g_debug ("Retrying %s: %s", run->effective_uri, (*error)->message);
  g_clear_error (error);
  run->retried_stale = TRUE;
  /* Refused streams (a GOAWAY above them, REFUSED_STREAM) came from a live server:
   * they may share the origin's next connection, as its other transfers do. */
  run->retry_fresh = !refused;
  gmulti_run_notify_new_hop (run);
  gmulti_engine_set_phase (engine, run, GMULTI_RUN_INIT);
  gmulti_engine_schedule (engine, run);
  return TRUE;
}

void
gmulti_stream_failed (GMultiRun      *run,
                      GError         *error,
                      gboolean        retry_safe)
{
  GMultiEngine *engine = run->engine;

  run->conn = NULL;
  /* A hop sent again, or ended here: either way not sent again for its 401. */
  run->repeating = FALSE;
  if (retry_safe && retry (engine, run, FALSE, &error))
    return;
  gmulti_engine_abort_transfer (engine, run, error);
}

void
gmulti_stream_refused (GMultiRun *run,
                       GError    *error)
{
  GMultiEngine *engine = run->engine;

  run->conn = NULL;
  run->repeating = FALSE;
  if (retry (engine, run, TRUE, &error))
    return;
  gmulti_engine_abort_transfer (engine, run, error);
}

void
gmulti_stream_yield (GMultiRun *run)
{
  gmulti_engine_yield (run->engine, run);
}
