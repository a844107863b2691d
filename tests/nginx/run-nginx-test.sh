#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# run-nginx-test.sh TEST_BINARY: starts Debian's nginx on a free loopback port with a
# docroot of its own, runs TEST_BINARY against it (NGINX_PORT, NGINX_ROOT in the
# environment; the test writes its files into the docroot), stops nginx, and exits with
# the test's status. The same server listens on the Unix socket NGINX_SOCKET, and a
# second one, answering "second", on NGINX_SOCKET2. Under /gz/ nginx gzips what it
# serves; /br/ and /zst/ serve files the test coded itself, with their Content-Encoding
# (Debian's nginx has no brotli or zstd module).
set -eu

test_binary=$1
nginx=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$nginx" ]; then
  echo "nginx is not installed (tools/install-deps test installs it)" >&2
  exit 1
fi

work=$(mktemp -d)
pid=
cleanup () {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

mkdir -p "$work/root" "$work/tmp"
chmod 755 "$work" "$work/root"
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

user_line=
if [ "$(id -u)" = 0 ]; then
  user_line="user root;"
fi

cat > "$work/nginx.conf" <<CONF
$user_line
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/tmp/body;
  proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi;
  uwsgi_temp_path $work/tmp/uwsgi;
  scgi_temp_path $work/tmp/scgi;
  keepalive_requests 100000;
  keepalive_timeout 30s;
  sendfile on;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$port;
    listen unix:$work/nginx.sock;
    root $work/root;
    location /gz/ { gzip on; gzip_types *; gzip_min_length 0; }
    location /br/ { default_type text/plain; add_header Content-Encoding br; }
    location /zst/ { default_type text/plain; add_header Content-Encoding zstd; }
    location = /old { return 301 /files/1; }
    location = /see-other { return 303 /files/2; }
    location = /teapot { return 418 "short and stout\n"; }
  }
  server {
    listen unix:$work/nginx2.sock;
    location / { return 200 "second\n"; }
  }
}
CONF

"$nginx" -e "$work/error.log" -p "$work" -c "$work/nginx.conf" &
pid=$!

# Wait (bounded) until nginx accepts connections.
i=0
until /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; do
  i=$((i + 1))
  if [ "$i" -gt 100 ]; then
    echo "nginx did not start:" >&2
    cat "$work/error.log" >&2
    exit 1
  fi
  sleep 0.05
done

status=0
NGINX_PORT=$port NGINX_ROOT=$work/root NGINX_SOCKET=$work/nginx.sock \
  NGINX_SOCKET2=$work/nginx2.sock "$test_binary" --tap || status=$?
exit "$status"
