// SPDX-License-Identifier: LGPL-2.1-or-later
// Proxy authentication from GJS: Debian's squid (started here on loopback) asking for
// Digest credentials; the transfer's authenticate signal answered later
// (GLib.timeout_add) with is_for_proxy() true, then the session's proxy-username and
// proxy-password. Run with `gjs -m`; the origin is tests/bindings/loopback_server.py,
// as a subprocess.
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GMulti from 'gi://GMulti?version=1.0';
import System from 'system';

const here = GLib.path_get_dirname(System.programPath);
const SQUID = '/usr/sbin/squid';
let failures = 0;
let passes = 0;

function check(condition, what) {
    if (condition) {
        passes++;
    } else {
        failures++;
        printerr(`not ok: ${what}`);
    }
}

if (!GLib.file_test(SQUID, GLib.FileTest.IS_EXECUTABLE)) {
    print('1..0 # SKIP squid is not installed');
    System.exit(77);
}

function chmod(path, mode) {
    Gio.File.new_for_path(path).set_attribute_uint32('unix::mode', mode,
        Gio.FileQueryInfoFlags.NONE, null);
}

function removeTree(path) {
    const directory = Gio.File.new_for_path(path);
    const children = directory.enumerate_children('standard::name',
        Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, null);
    let info;
    while ((info = children.next_file(null)) !== null)
        directory.get_child(info.get_name()).delete(null);
    directory.delete(null);
}

function freePort() {
    const listener = new Gio.SocketListener();
    const port = listener.add_any_inet_port(null);
    listener.close();
    return port;
}

// Runs @loop until a handler quits it, for 15 s at most.
function runLoop(loop) {
    const timeout = GLib.timeout_add(GLib.PRIORITY_DEFAULT, 15000, () => {
        check(false, 'timed out');
        loop.quit();
        return GLib.SOURCE_REMOVE;
    });
    loop.run();
    GLib.source_remove(timeout);
}

const origin = Gio.Subprocess.new(
    ['/usr/bin/python3', GLib.build_filenamev([here, 'loopback_server.py'])],
    Gio.SubprocessFlags.STDIN_PIPE | Gio.SubprocessFlags.STDOUT_PIPE);
const out = new Gio.DataInputStream({base_stream: origin.get_stdout_pipe()});
const base = `http://127.0.0.1:${out.read_line_utf8(null)[0].split(' ')[0]}`;

// Squid with digest_file_auth, whose file holds plain user:password lines.
const dir = GLib.dir_make_tmp('gmulti-squid-XXXXXX');
const port = freePort();
chmod(dir, 0o777);
GLib.file_set_contents(`${dir}/passwd`, 'alice:s3cret\n');
chmod(`${dir}/passwd`, 0o644);
GLib.file_set_contents(`${dir}/squid.conf`, [
    `http_port 127.0.0.1:${port}`, `pid_filename ${dir}/squid.pid`,
    `cache_log ${dir}/cache.log`, `access_log stdio:${dir}/access.log`,
    `coredump_dir ${dir}`, 'cache deny all', 'cache_mem 0 MB',
    'shutdown_lifetime 0 seconds', 'visible_hostname gmulti-test',
    'netdb_filename none', 'pinger_enable off', 'dns_nameservers 127.0.0.1',
    `auth_param digest program /usr/lib/squid/digest_file_auth ${dir}/passwd`,
    'auth_param digest children 1', 'auth_param digest realm gmulti-test',
    'acl authed proxy_auth REQUIRED', 'http_access allow authed', 'http_access deny all',
    ''].join('\n'));
chmod(`${dir}/squid.conf`, 0o644);
const squid = Gio.Subprocess.new([SQUID, '-N', '-f', `${dir}/squid.conf`],
    Gio.SubprocessFlags.STDOUT_SILENCE | Gio.SubprocessFlags.STDERR_SILENCE);
const proxy = `http://127.0.0.1:${port}`;

function waitForSquid() {
    const client = new Gio.SocketClient();
    const deadline = GLib.get_monotonic_time() + 15 * 1000000;
    while (GLib.get_monotonic_time() < deadline) {
        try {
            client.connect_to_host(`127.0.0.1:${port}`, 0, null).close(null);
            return true;
        } catch (e) {
            GLib.usleep(20000);
        }
    }
    return false;
}

function fetch(session, transfer) {
    const loop = new GLib.MainLoop(null, false);
    const id = session.connect('transfer-finished', (_s, t) => {
        if (t === transfer)
            loop.quit();
    });
    session.add(transfer);
    runLoop(loop);
    session.disconnect(id);
}

function answeredLater() {
    const session = GMulti.Session.new();
    const transfer = GMulti.Transfer.new(`${base}/bytes/12`);
    let asked = 0;

    transfer.proxy_uri = proxy;
    transfer.connect('authenticate', (_t, auth, retrying) => {
        asked++;
        check(auth.is_for_proxy() && !retrying, 'a proxy challenge, first time');
        check(auth.get_scheme_name() === 'Digest' && auth.get_realm() === 'gmulti-test',
            `the challenge: ${auth.get_scheme_name()} ${auth.get_realm()}`);
        check(auth.get_authority() === `127.0.0.1:${port}`,
            `the proxy asks: ${auth.get_authority()}`);
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, 100, () => {
            auth.authenticate('alice', 's3cret');
            return GLib.SOURCE_REMOVE;
        });
        return true;
    });
    fetch(session, transfer);
    check(transfer.get_error() === null, `no error: ${transfer.get_error()}`);
    check(transfer.get_status() === 200 && asked === 1,
        `answered later: ${transfer.get_status()}, asked ${asked} times`);
}

function sessionCredentials() {
    const session = GMulti.Session.new();
    session.proxy_uri = proxy;
    session.proxy_username = 'alice';
    session.proxy_password = 's3cret';
    const transfer = GMulti.Transfer.new(`${base}/bytes/3`);
    fetch(session, transfer);
    check(transfer.get_status() === 200, `with the session's: ${transfer.get_error()}`);

    const other = GMulti.Session.new();
    other.proxy_uri = proxy;
    other.proxy_username = 'alice';
    other.proxy_password = 'wrong-pw';
    const wrong = GMulti.Transfer.new(`${base}/bytes/3`);
    fetch(other, wrong);
    const error = wrong.get_error();
    check(error !== null &&
          error.matches(GMulti.error_quark(), GMulti.Error.PROXY_AUTH_REQUIRED),
    `a wrong password: ${error}`);
}

try {
    check(waitForSquid(), 'squid listens');
    answeredLater();
    sessionCredentials();
} catch (e) {
    failures++;
    printerr(`error: ${e}\n${e.stack}`);
}
squid.send_signal(15);
squid.wait(null);
origin.get_stdin_pipe().close(null);
origin.wait(null);
removeTree(dir);
print(`${passes} passed, ${failures} failed`);
System.exit(failures > 0 ? 1 : 0);
