// SPDX-License-Identifier: LGPL-2.1-or-later
// async/await in GJS: every _async/_finish pair of GMultiSession promisified and
// awaited (body, stream, download), many at once, rejections as GLib.Error, a
// cancelled download that leaves no file, and examples/fetch-async.js run as users
// run it. Run with `gjs -m`; the loopback server is the Python one, as a subprocess.
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GMulti from 'gi://GMulti?version=1.0';
import System from 'system';

Gio._promisify(GMulti.Session.prototype, 'send_and_read_async', 'send_and_read_finish');
Gio._promisify(GMulti.Session.prototype, 'send_async', 'send_finish');
Gio._promisify(GMulti.Session.prototype, 'download_async', 'download_finish');
Gio._promisify(Gio.InputStream.prototype, 'read_bytes_async', 'read_bytes_finish');
Gio._promisify(Gio.Subprocess.prototype, 'communicate_utf8_async', 'communicate_utf8_finish');

const here = GLib.path_get_dirname(System.programPath);
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

function sameAsPattern(data) {
    for (let i = 0; i < data.length; i++) {
        if (data[i] !== i % 251)
            return false;
    }
    return true;
}

function withTimeout(promise, ms, what) {
    let id;
    const timeout = new Promise((_resolve, reject) => {
        id = GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
            reject(new Error(`timed out: ${what}`));
            return GLib.SOURCE_REMOVE;
        });
    });
    return Promise.race([promise, timeout]).finally(() => GLib.source_remove(id));
}

function startServer() {
    const proc = Gio.Subprocess.new(
        ['/usr/bin/python3', GLib.build_filenamev([here, 'loopback_server.py'])],
        Gio.SubprocessFlags.STDIN_PIPE | Gio.SubprocessFlags.STDOUT_PIPE);
    const out = new Gio.DataInputStream({base_stream: proc.get_stdout_pipe()});
    const [line] = out.read_line_utf8(null);
    return {proc, base: `http://127.0.0.1:${line.split(' ')[0]}`};
}

async function sendMany(base) {
    const session = GMulti.Session.new();
    const sizes = Array.from({length: 16}, (_, i) => 3000 * (i + 1));
    const bodies = await withTimeout(Promise.all(sizes.map(n => session.send_and_read_async(
        GMulti.Transfer.new(`${base}/slow/${n}`), GLib.PRIORITY_DEFAULT, null))),
    10000, 'send_and_read_async');
    bodies.forEach((body, i) => {
        const data = body.toArray();
        check(data.length === sizes[i] && sameAsPattern(data), `body ${i}`);
    });
}

async function sendStream(base) {
    const session = GMulti.Session.new();
    const t = GMulti.Transfer.new(`${base}/slow/100000`);
    const stream = await withTimeout(session.send_async(t, GLib.PRIORITY_DEFAULT, null),
        10000, 'send_async');
    check(t.get_status() === 200, 'status known when the stream is handed out');
    const pieces = [];
    let total = 0;
    for (;;) {
        // eslint-disable-next-line no-await-in-loop
        const chunk = await withTimeout(stream.read_bytes_async(8192, GLib.PRIORITY_DEFAULT, null),
            10000, 'read_bytes_async');
        if (chunk.get_size() === 0)
            break;
        pieces.push(chunk.toArray());
        total += chunk.get_size();
    }
    const data = new Uint8Array(total);
    let at = 0;
    for (const piece of pieces) {
        data.set(piece, at);
        at += piece.length;
    }
    check(total === 100000 && sameAsPattern(data), 'streamed body');
}

async function download(base, dir) {
    const session = GMulti.Session.new();
    const file = dir.get_child('download.bin');
    const ok = await withTimeout(session.download_async(GMulti.Transfer.new(`${base}/slow/250000`),
        file, GLib.PRIORITY_DEFAULT, null), 10000, 'download_async');
    check(ok === true, 'download_async resolves with true');
    const [, contents] = file.load_contents(null);
    check(contents.length === 250000 && sameAsPattern(contents), 'downloaded file');
}

async function rejections(base, dir) {
    const session = GMulti.Session.new();
    try {
        await withTimeout(session.send_and_read_async(GMulti.Transfer.new('http://127.0.0.1:1/'),
            GLib.PRIORITY_DEFAULT, null), 10000, 'refused');
        check(false, 'a refused connection rejects');
    } catch (e) {
        check(e instanceof GLib.Error &&
              e.matches(GMulti.error_quark(), GMulti.Error.CONNECT_FAILED), `refused: ${e}`);
    }

    const cancellable = new Gio.Cancellable();
    const file = dir.get_child('cancelled.bin');
    const t = GMulti.Transfer.new(`${base}/slow/400000`);
    t.connect('data', () => cancellable.cancel());
    try {
        await withTimeout(session.download_async(t, file, GLib.PRIORITY_DEFAULT, cancellable),
            10000, 'cancelled download');
        check(false, 'a cancelled download rejects');
    } catch (e) {
        check(e instanceof GLib.Error &&
              e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED), `cancelled: ${e}`);
    }
    check(!file.query_exists(null), 'a cancelled download leaves no file');
    check(session.get_n_transfers() === 0, 'cancelled transfer removed');
}

async function example(base, dir) {
    const script = GLib.build_filenamev([here, '..', '..', 'examples', 'fetch-async.js']);
    const out = dir.get_child('example');
    out.make_directory(null);
    const proc = Gio.Subprocess.new(['gjs', '-m', script, out.get_path(),
        `${base}/bytes/1234`, `${base}/slow/54321`, `${base}/status/404`],
    Gio.SubprocessFlags.STDOUT_PIPE);
    const [stdout] = await withTimeout(proc.communicate_utf8_async(null, null), 20000,
        'fetch-async.js');
    check(proc.get_exit_status() === 1, 'example exits 1 when a URL failed');
    check(stdout.includes('/status/404: failed: HTTP 404 Not Found'), `example output: ${stdout}`);
    for (const n of [1234, 54321]) {
        const info = out.get_child(`${n}`).query_info('standard::size', 0, null);
        check(info.get_size() === n, `example saved ${n} bytes`);
    }
    check(!out.get_child('404').query_exists(null), 'example deletes an error page');
}

function removeTree(file) {
    const children = file.enumerate_children('standard::name,standard::type',
        Gio.FileQueryInfoFlags.NOFOLLOW_SYMLINKS, null);
    for (let info; (info = children.next_file(null));) {
        const child = file.get_child(info.get_name());
        if (info.get_file_type() === Gio.FileType.DIRECTORY)
            removeTree(child);
        else
            child.delete(null);
    }
    file.delete(null);
}

const {proc, base} = startServer();
const dir = Gio.File.new_for_path(GLib.dir_make_tmp('gmulti-gjs-XXXXXX'));
try {
    await sendMany(base);
    await sendStream(base);
    await download(base, dir);
    await rejections(base, dir);
    await example(base, dir);
} catch (e) {
    failures++;
    printerr(`error: ${e}\n${e.stack}`);
}
removeTree(dir);
proc.get_stdin_pipe().close(null);
proc.wait(null);
print(`${passes} passed, ${failures} failed`);
System.exit(failures > 0 ? 1 : 0);
