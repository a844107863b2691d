/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "gmulti-auth-challenge.h"

/* The challenge grammar of RFC 9110 11.6.1, for WWW-Authenticate and
 * Proxy-Authenticate alike:
 *
 *   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param = token BWS "=" BWS ( token / quoted-string )
 *
 * One field may carry several challenges, separated by commas like the parameters of
 * each: an item "name=value" belongs to the challenge before it, an item that starts
 * with a bare token starts the next challenge. */

void
gmulti_auth_challenge_free (GMultiAuthChallenge *self)
{
  if (self == NULL)
    return;
  g_free (self->scheme);
  g_free (self->token68);
  g_ptr_array_unref (self->names);
  g_ptr_array_unref (self->values);
  g_free (self);
}

const char *
gmulti_auth_challenge_get_param (const GMultiAuthChallenge *self,
                                 const char                *name)
{
  for (guint i = 0; i < self->names->len; i++)
    if (g_ascii_strcasecmp (self->names->pdata[i], name) == 0)
      return self->values->pdata[i];
  return NULL;
}

gboolean
gmulti_auth_challenge_is_scheme (const GMultiAuthChallenge *self,
                                 const char                *scheme)
{
  return g_ascii_strcasecmp (self->scheme, scheme) == 0;
}

static gboolean
is_tchar (char c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

static gboolean
is_token68_char (char c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("-._~+/", c) != NULL);
}

static void
skip_ows (const char **p)
{
  while (**p == ' ' || **p == '\t')
    (*p)++;
}

static gsize
token_length (const char *p)
{
  gsize n = 0;

  while (is_tchar (p[n]))
    n++;
  return n;
}

/* A quoted-string at *@p (its opening quote): the unescaped value, *@p after its
 * closing quote; NULL when it does not end or holds a control character. */
static char *
read_quoted (const char **p)
{
  GString *value = g_string_new (NULL);
  const char *q = *p + 1;

  for (;;)
    {
      char c = *q;

      if (c == '"')
        break;
      if (c == '\\')
        {
          q++;
          c = *q;
        }
      /* qdtext and quoted-pair allow HTAB, SP, VCHAR and obs-text only. */
      if (c == '\0' || ((guchar) c < 0x20 && c != '\t') || c == 0x7f)
        {
          g_string_free (value, TRUE);
          return NULL;
        }
      g_string_append_c (value, c);
      q++;
    }
  *p = q + 1;
  return g_string_free (value, FALSE);
}

/* The token68 at @p, if what follows it ends the challenge (the end or a comma). */
static gsize
token68_length (const char *p)
{
  gsize n = 0;
  const char *end;

  while (is_token68_char (p[n]))
    n++;
  if (n == 0)
    return 0;
  while (p[n] == '=')
    n++;
  end = p + n;
  skip_ows (&end);
  return *end == '\0' || *end == ',' ? n : 0;
}

/* One "name = value" at *@p into @challenge. FALSE if it is not one (*@p is then
 * unchanged). */
static gboolean
read_param (const char         **p,
            GMultiAuthChallenge *challenge)
{
  const char *q = *p;
  gsize name_length = token_length (q);
  char *name, *value;

  if (name_length == 0)
    return FALSE;
  q += name_length;
  skip_ows (&q);
  if (*q != '=')
    return FALSE;
  q++;
  skip_ows (&q);
  if (*q == '"')
    {
      value = read_quoted (&q);
      if (value == NULL)
        return FALSE;
    }
  else
    {
      gsize value_length = token_length (q);

      if (value_length == 0)
        return FALSE;
      value = g_strndup (q, value_length);
      q += value_length;
    }
  skip_ows (&q);
  if (*q != '\0' && *q != ',')
    {
      g_free (value);
      return FALSE;
    }
  name = g_strndup (*p, name_length);
  if (challenge->names->len < GMULTI_AUTH_MAX_PARAMS)
    {
      g_ptr_array_add (challenge->names, name);
      g_ptr_array_add (challenge->values, value);
    }
  else
    {
      g_free (name);
      g_free (value);
    }
  *p = q;
  return TRUE;
}

/* Whether the item at @p is a parameter (a token, then "="), not a new scheme. */
static gboolean
looks_like_param (const char *p)
{
  gsize n = token_length (p);

  if (n == 0)
    return FALSE;
  p += n;
  skip_ows (&p);
  return *p == '=';
}

static void
skip_to_comma (const char **p)
{
  /* A quoted comma does not end the item. */
  while (**p != '\0' && **p != ',')
    {
      if (**p == '"')
        {
          (*p)++;
          while (**p != '\0' && **p != '"')
            {
              if (**p == '\\' && (*p)[1] != '\0')
                (*p)++;
              (*p)++;
            }
          if (**p == '\0')
            return;
        }
      (*p)++;
    }
}

static GMultiAuthChallenge *
challenge_new (const char *scheme,
               gsize       length)
{
  GMultiAuthChallenge *challenge = g_new0 (GMultiAuthChallenge, 1);

  challenge->scheme = g_strndup (scheme, length);
  challenge->names = g_ptr_array_new_with_free_func (g_free);
  challenge->values = g_ptr_array_new_with_free_func (g_free);
  return challenge;
}

static void
add_challenge (GPtrArray           *out,
               GMultiAuthChallenge *challenge,
               guint               *n_added)
{
  if (*n_added < GMULTI_AUTH_MAX_CHALLENGES)
    {
      g_ptr_array_add (out, challenge);
      (*n_added)++;
    }
  else
    gmulti_auth_challenge_free (challenge);
}

void
gmulti_auth_challenges_parse (const char *value,
                              GPtrArray  *out)
{
  GMultiAuthChallenge *current = NULL;
  gboolean current_bad = FALSE;
  const char *p = value;
  guint n_added = 0;

  g_return_if_fail (out != NULL);
  if (value == NULL)
    return;

  for (;;)
    {
      gsize n;

      while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
      if (*p == '\0')
        break;

      /* A parameter of the challenge under way. */
      if (current != NULL && current->token68 == NULL && looks_like_param (p))
        {
          if (!read_param (&p, current))
            {
              current_bad = TRUE;
              skip_to_comma (&p);
            }
          continue;
        }
      if (current == NULL && current_bad && looks_like_param (p))
        {
          /* Still the parameters of a challenge that was left out. */
          skip_to_comma (&p);
          continue;
        }

      /* A new challenge: the one before is done. */
      if (current != NULL)
        {
          if (current_bad)
            gmulti_auth_challenge_free (current);
          else
            add_challenge (out, current, &n_added);
          current = NULL;
        }
      current_bad = FALSE;
      n = token_length (p);
      if (n == 0)
        {
          current_bad = TRUE;
          skip_to_comma (&p);
          continue;
        }
      current = challenge_new (p, n);
      p += n;
      if (*p != ' ' && *p != '\t' && *p != '\0' && *p != ',')
        {
          /* "Basic/x": not a scheme followed by anything. */
          gmulti_auth_challenge_free (current);
          current = NULL;
          current_bad = TRUE;
          skip_to_comma (&p);
          continue;
        }
      skip_ows (&p);
      if (*p == '\0' || *p == ',')
        continue;
      /* A token68 may end in "=" too ("abc=="): it is one when nothing but the end
       * of the challenge follows. */
      if ((n = token68_length (p)) > 0)
        {
          current->token68 = g_strndup (p, n);
          p += n;
          continue;
        }
      if (!read_param (&p, current))
        {
          current_bad = TRUE;
          skip_to_comma (&p);
        }
    }
  if (current != NULL)
    {
      if (current_bad)
        gmulti_auth_challenge_free (current);
      else
        add_challenge (out, current, &n_added);
    }
}

GPtrArray *
gmulti_auth_challenges_from_headers (GMultiHeaders *headers,
                                     const char    *field_name)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) gmulti_auth_challenge_free);
  guint n;

  if (headers == NULL)
    return out;
  n = gmulti_headers_get_length (headers);
  for (guint i = 0; i < n && out->len < GMULTI_AUTH_MAX_CHALLENGES; i++)
    if (g_ascii_strcasecmp (gmulti_headers_get_name (headers, i), field_name) == 0)
      gmulti_auth_challenges_parse (gmulti_headers_get_value (headers, i), out);
  return out;
}
