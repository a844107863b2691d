// SPDX-License-Identifier: LGPL-2.1-or-later
// GMultiSession from GJS through the typelib: concurrent fetches with signals, the
// promisified async call with cancellation, removal inside a handler, errors as
// GLib.Error, a body written to an output stream, and a server certificate accepted
// from accept-certificate. Run with `gjs -m`; the loopback server is the Python one, as a subprocess.
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GMulti from 'gi://GMulti?version=1.0';
import System from 'system';

Gio._promisify(GMulti.Session.prototype, 'send_and_read_async', 'send_and_read_finish');

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

function pattern(n) {
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++)
        bytes[i] = i % 251;
    return bytes;
}

function sameBytes(gbytes, expected) {
    const data = gbytes.toArray();
    if (data.length !== expected.length)
        return false;
    for (let i = 0; i < data.length; i++) {
        if (data[i] !== expected[i])
            return false;
    }
    return true;
}

function startServer() {
    const dir = GLib.path_get_dirname(System.programPath);
    const proc = Gio.Subprocess.new(
        ['/usr/bin/python3', GLib.build_filenamev([dir, 'loopback_server.py'])],
        Gio.SubprocessFlags.STDIN_PIPE | Gio.SubprocessFlags.STDOUT_PIPE);
    const out = new Gio.DataInputStream({base_stream: proc.get_stdout_pipe()});
    const [line] = out.read_line_utf8(null);
    const [port, tlsPort, caFile] = line.split(' ');
    return {proc, base: `http://127.0.0.1:${port}`, tlsBase: `https://localhost:${tlsPort}`, caFile};
}

function withTimeout(promise, ms, what) {
    return new Promise((resolve, reject) => {
        const id = GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
            reject(new Error(`timed out: ${what}`));
            return GLib.SOURCE_REMOVE;
        });
        promise.then(v => {
            GLib.source_remove(id);
            resolve(v);
        }, e => {
            GLib.source_remove(id);
            reject(e);
        });
    });
}

async function manyConcurrent(base) {
    const session = GMulti.Session.new();
    const sizes = Array.from({length: 30}, (_, i) => 700 * (i + 1));
    const transfers = sizes.map(size => {
        const t = GMulti.Transfer.new(`${base}/bytes/${size}`);
        t._seen = 0;
        t.connect('data', (_t, chunk) => {
            t._seen += chunk.get_size();
        });
        return t;
    });
    const done = new Promise(resolve => {
        let left = transfers.length;
        session.connect('transfer-finished', () => {
            if (--left === 0)
                resolve();
        });
    });
    transfers.forEach(t => session.add(t));
    await withTimeout(done, 10000, 'concurrent fetches');
    transfers.forEach((t, i) => {
        check(t.get_status() === 200, `status of ${i}`);
        check(sameBytes(t.get_response_body(), pattern(sizes[i])), `body of ${i}`);
        check(t._seen === sizes[i], `data signal bytes of ${i}`);
    });
}

async function sendAsync(base) {
    const session = GMulti.Session.new();
    const t = GMulti.Transfer.new(`${base}/bytes/4096`);
    const body = await withTimeout(session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, null),
        10000, 'send_and_read_async');
    check(sameBytes(body, pattern(4096)), 'send_and_read_async body');
}

async function cancelled(base) {
    const session = GMulti.Session.new();
    const cancellable = new Gio.Cancellable();
    const t = GMulti.Transfer.new(`${base}/slow/200000`);
    t.connect('data', () => cancellable.cancel());
    try {
        await withTimeout(session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, cancellable),
            10000, 'cancel');
        check(false, 'cancelled send_and_read_async must fail');
    } catch (e) {
        check(e instanceof GLib.Error &&
              e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED), `cancelled error: ${e}`);
    }
}

async function removeInHandler(base) {
    const session = GMulti.Session.new();
    const victim = GMulti.Transfer.new(`${base}/slow/100000`);
    const other = GMulti.Transfer.new(`${base}/bytes/2000`);
    let removed = false;
    let late = 0;
    victim.connect('data', t => {
        if (removed) {
            late++;
            return;
        }
        removed = true;
        session.remove(t);
    });
    victim.connect('finished', () => late++);
    const done = new Promise(resolve => {
        session.connect('transfer-finished', (_s, t) => {
            if (t === other)
                resolve();
        });
    });
    session.add(victim);
    session.add(other);
    await withTimeout(done, 10000, 'remove in handler');
    await new Promise(resolve => GLib.timeout_add(GLib.PRIORITY_DEFAULT, 300, () => {
        resolve();
        return GLib.SOURCE_REMOVE;
    }));
    check(removed, 'victim got data before removal');
    check(late === 0, 'no signal after removal');
}

async function outputStream(base) {
    const session = GMulti.Session.new();
    const sink = Gio.MemoryOutputStream.new_resizable();
    const t = GMulti.Transfer.new(`${base}/bytes/300000`);
    t.output_stream = sink;
    check(t.get_output_stream() === sink, 'output-stream property');
    const done = new Promise(resolve => {
        session.connect('transfer-finished', (_s, _t, error) => resolve(error));
    });
    session.add(t);
    const error = await withTimeout(done, 10000, 'output stream');
    check(error === null, `output stream transfer succeeded: ${error}`);
    sink.close(null);
    check(sameBytes(sink.steal_as_bytes(), pattern(300000)), 'output stream contents');
    check(t.get_response_body() === null, 'body not also collected');
}

async function https(tlsBase, caFile) {
    const session = GMulti.Session.new();
    session.tls_ca_file = caFile;
    const t = GMulti.Transfer.new(`${tlsBase}/bytes/50000`);
    const body = await withTimeout(session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, null),
        10000, 'https');
    check(sameBytes(body, pattern(50000)), 'https body');
    check(t.get_metrics().get_tls_time() > 0, 'tls time measured');
}

async function acceptCertificate(tlsBase, caFile) {
    // Verified against a CA that did not sign the server's certificate.
    const dir = GLib.path_get_dirname(caFile);
    const session = GMulti.Session.new();
    session.tls_ca_file = GLib.build_filenamev([dir, 'client-ca.pem']);
    const expected = Gio.TlsCertificate.new_from_file(GLib.build_filenamev([dir, 'server.pem']));
    const asked = [];
    const t = GMulti.Transfer.new(`${tlsBase}/bytes/10`);
    t.connect('accept-certificate', (_t, peer, errors) => {
        asked.push(errors);
        return peer.is_same(expected);
    });
    await withTimeout(session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, null), 10000,
        'accept-certificate');
    check(t.get_status() === 200, 'accepted certificate: 200');
    check(asked.length === 1 && asked[0] === Gio.TlsCertificateFlags.UNKNOWN_CA,
        'asked once with UNKNOWN_CA');
    const peer = t.get_tls_peer_certificate();
    check(peer instanceof Gio.TlsCertificate && peer.is_same(expected), 'peer certificate');
    check(t.get_tls_peer_certificate_errors() === Gio.TlsCertificateFlags.UNKNOWN_CA,
        'peer certificate errors');

    const refused = GMulti.Transfer.new(`${tlsBase}/bytes/10`);
    refused.connect('accept-certificate', () => false);
    try {
        await withTimeout(session.send_and_read_async(refused, GLib.PRIORITY_DEFAULT, null),
            10000, 'refused certificate');
        check(false, 'refused certificate fails');
    } catch (e) {
        check(e.matches(GMulti.error_quark(), GMulti.Error.TLS_UNTRUSTED), 'refused: untrusted');
    }
}

async function gzipDecoded(base) {
    const session = GMulti.Session.new();
    const t = GMulti.Transfer.new(`${base}/gzip/150000`);
    const body = await withTimeout(session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, null),
        10000, 'gzip');
    check(t.get_response_headers().get_one('Content-Encoding') === 'gzip', 'gzip coded');
    check(t.get_content_decoded(), 'gzip decoded');
    check(sameBytes(body, pattern(150000)), 'gzip body');
    check(t.get_wire_bytes_received() < 150000, 'gzip wire bytes');

    const raw = GMulti.Transfer.new(`${base}/gzip/1000`);
    raw.decode_content = false;
    await withTimeout(session.send_and_read_async(raw, GLib.PRIORITY_DEFAULT, null), 10000, 'raw');
    check(!raw.get_content_decoded() &&
          raw.get_response_headers().get_one('Content-Encoding') === null, 'raw: not offered');
}

async function errors() {
    const session = GMulti.Session.new();
    const t = GMulti.Transfer.new('http://127.0.0.1:1/');
    try {
        await withTimeout(session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, null), 10000, 'refused');
        check(false, 'connection refused must fail');
    } catch (e) {
        check(e instanceof GLib.Error && e.matches(GMulti.error_quark(),
            GMulti.Error.CONNECT_FAILED), `refused error: ${e}`);
        // GJS hands the error itself back, so its errno is still there.
        check(GMulti.error_matches(e, Gio.io_error_quark(), Gio.IOErrorEnum.CONNECTION_REFUSED),
            `refused in GIO's terms: ${e}`);
        check(!GMulti.error_matches(e, Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT),
            'refused is not a timeout');
        const gioError = GMulti.error_to_gio(e);
        check(gioError.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CONNECTION_REFUSED) &&
              gioError.message === e.message, `error_to_gio: ${gioError}`);
        check(t.get_gio_error().matches(Gio.io_error_quark(), Gio.IOErrorEnum.CONNECTION_REFUSED),
            'get_gio_error');
    }
}

async function httpVersion(base) {
    const session = GMulti.Session.new();
    const HttpVersion = GMulti.HttpVersion;
    check(HttpVersion.AUTO === 0 && HttpVersion.HTTP_1_1 === 1 && HttpVersion.HTTP_2 === 2 &&
        HttpVersion.HTTP_2_PRIOR_KNOWLEDGE === 3, 'HttpVersion members');
    check(session.http_version === HttpVersion.AUTO, 'http-version default');
    check(session.maxStreamsPerConnection === 100, 'max-streams-per-connection default');
    let notified = 0;
    session.connect('notify::http-version', () => notified++);
    session.httpVersion = HttpVersion.HTTP_2;
    check(session.get_http_version() === HttpVersion.HTTP_2, 'http-version set');
    session.set_http_version(HttpVersion.HTTP_1_1);
    check(session.http_version === HttpVersion.HTTP_1_1 && notified === 2,
        `http-version notified (${notified})`);
    session.max_streams_per_connection = 250;
    check(session.get_max_streams_per_connection() === 250, 'max-streams-per-connection set');
    const t = GMulti.Transfer.new(`${base}/bytes/3000`);
    const body = await withTimeout(session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, null),
        10000, 'http/1.1 fetch');
    check(sameBytes(body, pattern(3000)), 'body with http-version 1.1');
}

// HTTP/2 with prior knowledge against nghttpd (cleartext), through the typelib.
async function http2() {
    const HttpVersion = GMulti.HttpVersion;
    const docroot = GLib.dir_make_tmp('gmulti-h2-XXXXXX');
    GLib.file_set_contents(GLib.build_filenamev([docroot, 'b70000']), pattern(70000));
    const probe = new Gio.SocketListener();
    const port = probe.add_any_inet_port(null);
    probe.close();
    const server = Gio.Subprocess.new(
        ['/usr/sbin/nghttpd', '-a', '127.0.0.1', '-d', docroot, '--no-tls', `${port}`],
        Gio.SubprocessFlags.STDOUT_SILENCE | Gio.SubprocessFlags.STDERR_SILENCE);
    try {
        const client = new Gio.SocketClient();
        for (let i = 0; ; i++) {
            try {
                client.connect_to_host(`127.0.0.1:${port}`, port, null).close(null);
                break;
            } catch (e) {
                if (i > 200)
                    throw e;
                GLib.usleep(50000);
            }
        }
        const session = GMulti.Session.new();
        session.http_version = HttpVersion.HTTP_2_PRIOR_KNOWLEDGE;
        const t = GMulti.Transfer.new(`http://127.0.0.1:${port}/b70000`);
        const body = await withTimeout(session.send_and_read_async(t, GLib.PRIORITY_DEFAULT, null),
            10000, 'http/2 fetch');
        check(t.get_http_version_used() === HttpVersion.HTTP_2,
            `http/2 used (${t.get_http_version_used()})`);
        check(t.get_status() === 200, 'http/2 status');
        check(sameBytes(body, pattern(70000)), 'http/2 body');
    } finally {
        server.force_exit();
        server.wait(null);
        GLib.unlink(GLib.build_filenamev([docroot, 'b70000']));
        GLib.rmdir(docroot);
    }
}

async function cookies(base) {
    const session = GMulti.Session.new();
    const jar = GMulti.CookieJar.new();
    session.cookie_jar = jar;
    const login = GMulti.Transfer.new(`${base}/login`);
    login.set_request_body(new GLib.Bytes(new TextEncoder().encode('user=alice&password=secret')));
    await withTimeout(session.send_and_read_async(login, GLib.PRIORITY_DEFAULT, null), 10000, 'login');
    const list = jar.list(null);
    check(list.length === 1 && list[0].get_name() === 'session' &&
        list[0].get_value() === 's3cr3t', 'cookie listed after the login');
    check(jar.list(`${base}/private`).length === 1, 'cookie listed for the page');
    const page = GMulti.Transfer.new(`${base}/private`);
    const body = await withTimeout(session.send_and_read_async(page, GLib.PRIORITY_DEFAULT, null),
        10000, 'private page');
    check(page.get_status() === 200 &&
        new TextDecoder().decode(body.toArray()) === 'welcome alice', 'cookie sent back');
}

async function hsts(tlsBase, caFile) {
    const session = GMulti.Session.new();
    session.tls_ca_file = caFile;
    const enforcer = GMulti.HstsEnforcer.new();
    session.hsts_enforcer = enforcer;
    const first = GMulti.Transfer.new(`${tlsBase}/hsts`);
    await withTimeout(session.send_and_read_async(first, GLib.PRIORITY_DEFAULT, null), 10000,
        'hsts over https');
    check(enforcer.has_valid_policy('localhost'), 'hsts policy learnt');
    const list = enforcer.list();
    check(list.length === 1 && list[0].get_host() === 'localhost' &&
        list[0].get_include_subdomains(), 'hsts policy listed');
    const plain = GMulti.Transfer.new(`${tlsBase.replace('https:', 'http:')}/hsts`);
    const body = await withTimeout(session.send_and_read_async(plain, GLib.PRIORITY_DEFAULT, null),
        10000, 'hsts upgrade');
    check(plain.get_effective_uri() === `${tlsBase}/hsts` &&
        new TextDecoder().decode(body.toArray()) === 'scheme=https', 'http:// upgraded to https://');
}

const {proc, base, tlsBase, caFile} = startServer();
const loop = new GLib.MainLoop(null, false);
(async () => {
    try {
        await manyConcurrent(base);
        await sendAsync(base);
        await cancelled(base);
        await removeInHandler(base);
        await errors();
        await outputStream(base);
        await https(tlsBase, caFile);
        await acceptCertificate(tlsBase, caFile);
        await httpVersion(base);
        await gzipDecoded(base);
        await http2();
        await cookies(base);
        await hsts(tlsBase, caFile);
    } catch (e) {
        failures++;
        printerr(`error: ${e}\n${e.stack}`);
    }
    loop.quit();
})();
loop.run();
proc.get_stdin_pipe().close(null);
proc.wait(null);
print(`${passes} passed, ${failures} failed`);
System.exit(failures > 0 ? 1 : 0);
