// SPDX-License-Identifier: LGPL-2.1-or-later
// Download URLs into a directory at once, with async/await:
//   gjs -m fetch-async.js DIR URL...
// Run from the build tree with `meson devenv`. Ctrl+C cancels what is still running.
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GMulti from 'gi://GMulti?version=1.0';
import System from 'system';

// Called without a callback, each _async method of the session now returns a Promise.
Gio._promisify(GMulti.Session.prototype, 'send_and_read_async', 'send_and_read_finish');
Gio._promisify(GMulti.Session.prototype, 'send_async', 'send_finish');
Gio._promisify(GMulti.Session.prototype, 'download_async', 'download_finish');

const [dir, ...urls] = ARGV;
if (urls.length === 0) {
    printerr('usage: gjs -m fetch-async.js DIR URL...');
    System.exit(2);
}

const session = GMulti.Session.new();
const cancellable = new Gio.Cancellable();
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 2 /* SIGINT */, () => {
    cancellable.cancel();
    return GLib.SOURCE_REMOVE;
});

async function download(url, index) {
    const transfer = GMulti.Transfer.new(url);
    transfer.set_follow_redirects(true);
    const name = GLib.path_get_basename(GLib.Uri.parse(url, GLib.UriFlags.NONE).get_path());
    const file = Gio.File.new_for_path(dir).get_child(name.length > 1 ? name : `index-${index}`);
    // The body goes to a temporary file, renamed over FILE once it is complete.
    await session.download_async(transfer, file, GLib.PRIORITY_DEFAULT, cancellable);
    if (transfer.get_status() >= 400) {
        file.delete(null);
        throw new Error(`HTTP ${transfer.get_status()} ${transfer.get_reason_phrase()}`);
    }
    return `${file.get_path()}: ${transfer.get_bytes_received()} bytes`;
}

const results = await Promise.allSettled(urls.map(download));
results.forEach((r, i) => print(r.status === 'fulfilled' ? r.value
    : `${urls[i]}: failed: ${r.reason.message}`));
System.exit(results.every(r => r.status === 'fulfilled') ? 0 : 1);
