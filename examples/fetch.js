// SPDX-License-Identifier: LGPL-2.1-or-later
// Download URLs at once with GMulti from GJS: gjs -m fetch.js URL...
// Run from the build tree with `meson devenv`.
import GLib from 'gi://GLib';
import Gio from 'gi://Gio';
import GMulti from 'gi://GMulti?version=1.0';
import System from 'system';

Gio._promisify(GMulti.Session.prototype, 'send_and_read_async', 'send_and_read_finish');

if (ARGV.length === 0) {
    printerr('usage: gjs -m fetch.js URL...');
    System.exit(2);
}
const urls = ARGV;
const session = GMulti.Session.new();

const results = await Promise.allSettled(urls.map(async url => {
    const transfer = GMulti.Transfer.new(url);
    transfer.set_follow_redirects(true);
    const body = await session.send_and_read_async(transfer, GLib.PRIORITY_DEFAULT, null);
    return `${url}: ${transfer.get_status()}, ${body.get_size()} bytes`;
}));
for (const r of results)
    print(r.status === 'fulfilled' ? r.value : `failed: ${r.reason.message}`);
System.exit(results.every(r => r.status === 'fulfilled') ? 0 : 1);
