// SPDX-License-Identifier: LGPL-2.1-or-later
// Every callback type of the typelib, called for real from GJS: the request body
// function (an upload, chunked and with a known length), the write function, the
// headers foreach function, the engine's socket and timer functions, and the
// GAsyncReadyCallback of each async call. Garbage collections between the calls check
// that GJS keeps each function for as long as its scope says. Run with `gjs -m`; the
// loopback server is the Python one, as a subprocess.
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GMulti from 'gi://GMulti?version=1.0';
import System from 'system';

Gio._promisify(GMulti.Session.prototype, 'download_async', 'download_finish');
Gio._promisify(GMulti.Session.prototype, 'send_async', 'send_finish');
Gio._promisify(Gio.InputStream.prototype, 'read_bytes_async', 'read_bytes_finish');

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
    return Uint8Array.from({length: n}, (_, i) => i % 251);
}

function uploadPattern(n) {
    return Uint8Array.from({length: n}, (_, i) => (i * 7 + 3) % 256);
}

function sameArray(a, b) {
    if (a.length !== b.length)
        return false;
    for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i])
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
    const [port] = line.split(' ');
    return {proc, base: `http://127.0.0.1:${port}`};
}

function sleep(ms) {
    return new Promise(resolve => GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
        resolve();
        return GLib.SOURCE_REMOVE;
    }));
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

// Runs a transfer on a new session; resolves with its error (null on success).
function perform(transfer, what) {
    const session = GMulti.Session.new();
    const done = new Promise(resolve => {
        session.connect('transfer-finished', (_s, _t, error) => resolve(error));
    });
    session.add(transfer);
    return withTimeout(done, 10000, what);
}

// GMultiReadBytesFunc, seen as GMulti.Transfer.set_request_body_func

async function upload(base, knownLength, piece, asBytes) {
    const what = `upload (${knownLength ? 'known length' : 'chunked'})`;
    const body = uploadPattern(300000);
    let sent = 0;
    const maxLengths = [];
    const t = GMulti.Transfer.new(`${base}/upload`);
    t.set_method('PUT');
    t.set_request_body_func((transfer, maxLength) => {
        maxLengths.push(maxLength);
        const chunk = body.slice(sent, sent + piece);
        sent += chunk.length;
        return asBytes ? new GLib.Bytes(chunk) : chunk;
    }, knownLength ? body.length : -1);
    // The function must outlive collections until the transfer is done with it.
    System.gc();
    const error = await perform(t, what);
    check(error === null, `${what} succeeded: ${error}`);
    check(t.get_status() === 200, `${what} status`);
    const headers = t.get_response_headers();
    check(headers.get_one('X-Upload-Framing') === (knownLength ? 'length' : 'chunked'),
        `${what} framing: ${headers.get_one('X-Upload-Framing')}`);
    check(headers.get_one('X-Upload-Length') === String(body.length), `${what} length`);
    check(sameArray(t.get_response_body().toArray(), body), `${what} bytes the server got`);
    check(t.bytes_sent === body.length, `${what} bytes_sent`);
    check(maxLengths.length > 1 && maxLengths.every(n => n > 0), `${what} max lengths`);
    return maxLengths;
}

async function uploads(base) {
    // Pieces longer than the transfer takes at once: the rest is kept for it.
    const maxLengths = await upload(base, false, 100000, true);
    check(Math.max(...maxLengths) < 100000, 'pieces split to what the transfer takes');
    await upload(base, true, 7000, false);
}

async function uploadErrors(base) {
    let t = GMulti.Transfer.new(`${base}/upload`);
    t.set_method('POST');
    t.set_request_body_func(() => {
        throw new GLib.Error(Gio.IOErrorEnum, Gio.IOErrorEnum.PERMISSION_DENIED,
            'refused by the test');
    }, -1);
    let error = await perform(t, 'upload that throws');
    check(error !== null && error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.PERMISSION_DENIED),
        `thrown GLib.Error is the transfer's: ${error}`);

    t = GMulti.Transfer.new(`${base}/upload`);
    t.set_method('POST');
    t.set_request_body_func(() => null, -1);
    error = await perform(t, 'upload that returns null');
    check(error !== null && error.matches(GMulti.error_quark(), GMulti.Error.CALLBACK_ABORTED),
        `null aborts: ${error}`);

    t = GMulti.Transfer.new(`${base}/upload`);
    t.set_method('POST');
    t.set_request_body_func(() => new Uint8Array(0), 10);
    error = await perform(t, 'upload shorter than announced');
    check(error !== null && error.matches(GMulti.error_quark(), GMulti.Error.CALLBACK_ABORTED),
        `short body aborts: ${error}`);
}

// GMultiWriteFunc

async function writeFunc(base) {
    const size = 200000;
    const received = new Uint8Array(size);
    let at = 0;
    let calls = 0;
    let wrongTransfer = 0;
    const t = GMulti.Transfer.new(`${base}/bytes/${size}`);
    t.set_write_func((transfer, data) => {
        calls++;
        if (transfer !== t)
            wrongTransfer++;
        received.set(data, at);
        at += data.length;
        return true;
    });
    System.gc();
    const error = await perform(t, 'write func');
    check(error === null, `write func transfer succeeded: ${error}`);
    check(at === size && sameArray(received, pattern(size)), 'write func got every byte');
    check(calls > 1 && wrongTransfer === 0, 'write func called per piece with the transfer');
    check(t.get_response_body() === null, 'body not also collected');

    const aborted = GMulti.Transfer.new(`${base}/bytes/100000`);
    aborted.set_write_func(() => false);
    const abortError = await perform(aborted, 'write func abort');
    check(abortError !== null &&
          abortError.matches(GMulti.error_quark(), GMulti.Error.CALLBACK_ABORTED),
    `write func false aborts: ${abortError}`);
}

// GMultiHeadersForeachFunc

async function headersForeach(base) {
    const headers = GMulti.Headers.new();
    headers.append('Accept', '*/*');
    headers.append('X-One', '1');
    headers.append('X-Two', '2');
    let seen = [];
    headers.foreach((name, value) => {
        seen.push(`${name}: ${value}`);
        return true;
    });
    check(seen.join('|') === 'Accept: */*|X-One: 1|X-Two: 2', `foreach order: ${seen}`);
    seen = [];
    headers.foreach(name => {
        seen.push(name);
        return false;
    });
    check(seen.join('|') === 'Accept', 'foreach stops on false');

    const t = GMulti.Transfer.new(`${base}/bytes/10`);
    check(await perform(t, 'headers') === null, 'headers transfer succeeded');
    seen = [];
    t.get_response_headers().foreach((name, value) => {
        seen.push(`${name}: ${value}`);
        return true;
    });
    check(seen.includes('Content-Length: 10'), `response headers: ${seen}`);
}

// GMultiSocketFunc and GMultiTimerFunc: an engine driven by the GLib main loop

async function engineFuncs(base) {
    const engine = GMulti.Engine.new();
    const watches = new Map();
    const socketCalls = [];
    const timerCalls = [];
    let timer = 0;

    const onReady = (fd, condition) => {
        let events = 0;
        if (condition & GLib.IOCondition.IN)
            events |= GMulti.Event.IN;
        if (condition & GLib.IOCondition.OUT)
            events |= GMulti.Event.OUT;
        if (condition & (GLib.IOCondition.ERR | GLib.IOCondition.HUP))
            events |= GMulti.Event.ERROR;
        const [result] = engine.socket_action(fd, events);
        check(result === GMulti.EngineResult.OK, 'socket_action ok');
        return GLib.SOURCE_CONTINUE;
    };
    engine.set_socket_func((eng, fd, what) => {
        socketCalls.push([fd, what]);
        if (watches.has(fd)) {
            GLib.source_remove(watches.get(fd));
            watches.delete(fd);
        }
        if (what === GMulti.Poll.REMOVE)
            return true;
        let condition = 0;
        if (what & GMulti.Poll.IN)
            condition |= GLib.IOCondition.IN;
        if (what & GMulti.Poll.OUT)
            condition |= GLib.IOCondition.OUT;
        watches.set(fd, GLib.unix_fd_add_full(GLib.PRIORITY_DEFAULT, fd, condition, onReady));
        return true;
    });
    engine.set_timer_func((eng, timeoutMs) => {
        timerCalls.push(timeoutMs);
        if (timer) {
            GLib.source_remove(timer);
            timer = 0;
        }
        if (timeoutMs >= 0) {
            timer = GLib.timeout_add(GLib.PRIORITY_DEFAULT, timeoutMs, () => {
                timer = 0;
                const [result] = engine.socket_action(GMulti.SOCKET_TIMEOUT, 0);
                check(result === GMulti.EngineResult.OK, 'timeout socket_action ok');
                return GLib.SOURCE_REMOVE;
            });
        }
        return true;
    });
    System.gc();

    const sizes = Array.from({length: 6}, (_, i) => 1000 * (i + 1));
    const transfers = sizes.map(n => GMulti.Transfer.new(`${base}/bytes/${n}`));
    // Only the timer can end this one: the body takes far longer than allowed.
    const slow = GMulti.Transfer.new(`${base}/slow/100000`);
    slow.set_timeout(200);
    for (const t of [...transfers, slow])
        check(engine.add(t) === GMulti.EngineResult.OK, 'engine add');

    const done = new Map();
    const deadline = GLib.get_monotonic_time() + 10 * 1000 * 1000;
    while (done.size < transfers.length + 1 && GLib.get_monotonic_time() < deadline) {
        await sleep(5);
        for (;;) {
            const [message] = engine.info_read();
            if (!message)
                break;
            done.set(message.transfer, message.error);
        }
    }
    check(done.size === transfers.length + 1, 'every engine transfer completed');
    transfers.forEach((t, i) => {
        check(done.get(t) === null, `engine transfer ${i} succeeded`);
        check(sameArray(t.get_response_body().toArray(), pattern(sizes[i])),
            `engine transfer ${i} body`);
    });
    const slowError = done.get(slow);
    check(slowError && slowError.matches(GMulti.error_quark(), GMulti.Error.TIMED_OUT),
        `the timer ended the slow transfer: ${slowError}`);
    const whats = new Set(socketCalls.map(([, what]) => what));
    check(whats.has(GMulti.Poll.OUT) && whats.has(GMulti.Poll.IN), 'socket func: in and out');
    check(timerCalls.some(ms => ms > 0), `timer func deadlines: ${timerCalls}`);

    // GJS cannot run the functions from its garbage collector, where the engine is
    // freed: close everything while they are still callable, then unset them.
    for (const t of [...transfers, slow])
        engine.remove(t);
    engine.close_idle_connections();
    check(watches.size === 0, 'every socket was removed');
    engine.set_socket_func(null);
    engine.set_timer_func(null);
    if (timer)
        GLib.source_remove(timer);
}

// GAsyncReadyCallback

async function sendStream(base) {
    const size = 250000;
    const session = GMulti.Session.new();
    const t = GMulti.Transfer.new(`${base}/bytes/${size}`);
    const stream = await withTimeout(session.send_async(t, GLib.PRIORITY_DEFAULT, null),
        10000, 'send_async');
    check(t.get_status() === 200, 'send_stream status');
    const received = new Uint8Array(size);
    let at = 0;
    for (;;) {
        // eslint-disable-next-line no-await-in-loop
        const bytes = await withTimeout(stream.read_bytes_async(65536, GLib.PRIORITY_DEFAULT,
            null), 10000, 'read_bytes_async');
        if (bytes.get_size() === 0)
            break;
        received.set(bytes.toArray(), at);
        at += bytes.get_size();
    }
    check(at === size && sameArray(received, pattern(size)), 'send_stream body');
}

function listDir(dir) {
    const names = [];
    const enumerator = Gio.File.new_for_path(dir).enumerate_children('standard::name',
        Gio.FileQueryInfoFlags.NONE, null);
    for (let info = enumerator.next_file(null); info; info = enumerator.next_file(null))
        names.push(info.get_name());
    return names.sort().join(' ');
}

async function download(base) {
    const dir = GLib.dir_make_tmp('gmulti-bindings-XXXXXX');
    const path = GLib.build_filenamev([dir, 'file.bin']);
    const file = Gio.File.new_for_path(path);
    const session = GMulti.Session.new();
    const size = 400000;

    let t = GMulti.Transfer.new(`${base}/bytes/${size}`);
    const ok = await withTimeout(session.download_async(t, file, GLib.PRIORITY_DEFAULT, null),
        10000, 'download');
    check(ok === true, 'download succeeded');
    let [, contents] = file.load_contents(null);
    check(sameArray(contents, pattern(size)), 'downloaded file');

    // Cancelled in the middle: the file from before stays, nothing else is left.
    const cancellable = new Gio.Cancellable();
    t = GMulti.Transfer.new(`${base}/slow/400000`);
    t.connect('data', () => cancellable.cancel());
    try {
        await withTimeout(session.download_async(t, file, GLib.PRIORITY_DEFAULT, cancellable),
            10000, 'cancelled download');
        check(false, 'cancelled download must fail');
    } catch (e) {
        check(e instanceof GLib.Error && e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED),
            `cancelled download error: ${e}`);
    }
    check(listDir(dir) === 'file.bin', `after the cancel: ${listDir(dir)}`);
    [, contents] = file.load_contents(null);
    check(sameArray(contents, pattern(size)), 'old file kept after the cancel');

    // Refused: no file at all.
    file.delete(null);
    t = GMulti.Transfer.new('http://127.0.0.1:1/');
    try {
        await withTimeout(session.download_async(t, file, GLib.PRIORITY_DEFAULT, null),
            10000, 'refused download');
        check(false, 'refused download must fail');
    } catch (e) {
        check(e instanceof GLib.Error && e.matches(GMulti.error_quark(),
            GMulti.Error.CONNECT_FAILED), `refused download error: ${e}`);
    }
    check(listDir(dir) === '', `after the refusal: "${listDir(dir)}"`);
    Gio.File.new_for_path(dir).delete(null);
}

const {proc, base} = startServer();
const loop = new GLib.MainLoop(null, false);
(async () => {
    for (const test of [uploads, uploadErrors, writeFunc, headersForeach, engineFuncs,
        sendStream, download]) {
        try {
            // eslint-disable-next-line no-await-in-loop
            await test(base);
        } catch (e) {
            failures++;
            printerr(`error in ${test.name}: ${e}\n${e.stack}`);
        }
    }
    loop.quit();
})();
loop.run();
proc.get_stdin_pipe().close(null);
proc.wait(null);
print(`${passes} passed, ${failures} failed`);
System.exit(failures > 0 ? 1 : 0);
