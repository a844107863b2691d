/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#include "demo-server.h"

struct _DemoServer {
  GSocketService *service;
  guint16 port;
};

/* Sends SIZE bytes in pieces with short pauses, so a download takes a moment. */
static gboolean
send_body (GOutputStream *out,
           guint64        size)
{
  guint8 piece[16 * 1024];
  guint64 sent = 0;

  for (gsize i = 0; i < sizeof piece; i++)
    piece[i] = "gmulti demo data\n"[i % 17];

  while (sent < size)
    {
      gsize n = MIN (sizeof piece, size - sent);

      if (!g_output_stream_write_all (out, piece, n, NULL, NULL, NULL))
        return FALSE;
      sent += n;
      g_usleep (2000);
    }
  return TRUE;
}

static gboolean
handle_cb (GThreadedSocketService *service,
           GSocketConnection      *connection,
           GObject                *source_object,
           gpointer                user_data)
{
  GInputStream *raw_in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_autoptr(GDataInputStream) in = g_data_input_stream_new (raw_in);

  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);

  /* Keep-alive: one request after another until the client closes. */
  for (;;)
    {
      g_autofree char *request_line = g_data_input_stream_read_line (in, NULL, NULL, NULL);
      g_autofree char *head = NULL;
      g_auto(GStrv) parts = NULL;
      guint64 size = 0;

      if (request_line == NULL)
        break;
      for (;;)
        {
          g_autofree char *line = g_data_input_stream_read_line (in, NULL, NULL, NULL);

          if (line == NULL)
            return TRUE;
          if (*line == '\0')
            break;
        }

      parts = g_strsplit (request_line, " ", 3);
      if (g_strv_length (parts) == 3 && g_str_has_prefix (parts[1], "/demo/"))
        size = g_ascii_strtoull (parts[1] + strlen ("/demo/"), NULL, 10);

      if (size == 0 || size > G_GUINT64_CONSTANT (1) << 30)
        {
          static const char not_found[] =
            "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nnot found\n";

          if (!g_output_stream_write_all (out, not_found, sizeof not_found - 1, NULL, NULL, NULL))
            break;
          continue;
        }

      head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                              "Content-Length: %" G_GUINT64_FORMAT "\r\n\r\n", size);
      if (!g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL) ||
          !send_body (out, size))
        break;
    }
  return TRUE;
}

DemoServer *
demo_server_start (GError **error)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  DemoServer *self = g_new0 (DemoServer, 1);

  self->service = g_threaded_socket_service_new (16);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                      &effective, error))
    {
      g_object_unref (self->service);
      g_free (self);
      return NULL;
    }
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect (self->service, "run", G_CALLBACK (handle_cb), NULL);
  g_socket_service_start (self->service);
  return self;
}

guint16
demo_server_get_port (DemoServer *self)
{
  return self->port;
}

void
demo_server_stop (DemoServer *self)
{
  g_socket_service_stop (self->service);
  g_socket_listener_close (G_SOCKET_LISTENER (self->service));
  g_object_unref (self->service);
  g_free (self);
}
