/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A free TCP port on 127.0.0.1 (closed again: a server may take it). */
guint16  free_port    (void);
/* Something accepts connections on 127.0.0.1:@port. */
gboolean port_accepts (guint16 port);

/* Any server program, in a temporary directory of its own. */
typedef struct {
  char *dir;
  guint16 port;              /* a free port on 127.0.0.1, for it to listen on */
  GPid pid;
} Daemon;

/* Starts @program (from PATH, else /usr/sbin) in the foreground with @args, and waits
 * until it listens on 127.0.0.1:port. In @args and in @config (written to CONF in its
 * directory, if not NULL) the words PORT, DIR and CONF stand for its port, its
 * directory and the configuration file's path. FALSE (the test skipped) when the
 * program is not installed; it dies with the test. */
gboolean daemon_start (Daemon            *daemon,
                       const char        *program,
                       const char        *config,
                       const char *const *args);
/* Stops it (SIGTERM, then SIGKILL after 10 s) and removes its directory. */
void     daemon_stop  (Daemon            *daemon);
/* "SCHEME://127.0.0.1:PORT" */
char    *daemon_uri   (Daemon            *daemon,
                       const char        *scheme);

typedef enum {
  SQUID_OPEN,       /* anyone on localhost */
  SQUID_BASIC,      /* basic_ncsa_auth */
  SQUID_DIGEST,     /* digest_file_auth */
} SquidAuth;

typedef struct {
  char *dir;
  guint16 port;
  guint16 tls_port;          /* its https_port (TLS to the proxy); 0: none */
  GPid pid;
} Squid;

/* A forward proxy on 127.0.0.1 that keeps nothing; asking for Basic or Digest
 * credentials (@user, @password, realm "gmulti-test") as @auth says; with @certs_dir,
 * it listens for TLS (its server.pem) too. NULL (the test skipped) without squid. */
Squid *squid_start_full (SquidAuth   auth,
                         const char *user,
                         const char *password,
                         const char *certs_dir);
/* Basic with @user, else open. */
Squid *squid_start      (const char *user,
                         const char *password);
void   squid_stop       (Squid      *squid);
/* "http://[CREDENTIALS@]127.0.0.1:PORT" */
char  *squid_uri        (Squid      *squid,
                         const char *credentials);
/* Lines of squid's access log with @needle (it writes each when a transaction ends). */
guint  squid_count_log  (Squid      *squid,
                         const char *needle);

typedef struct {
  char *dir;
  guint16 port;
  GPid pid;
} Nginx;

/* nginx with TLS (@certs_dir's server.pem) and HTTP/2 on 127.0.0.1, answering every
 * path with "PROTOCOL URI"; NULL (skipped) without nginx. */
Nginx *nginx_start (const char *certs_dir);
void   nginx_stop  (Nginx      *nginx);

G_END_DECLS
