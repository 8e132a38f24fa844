// SPDX-License-Identifier: AGPL-3.0-or-later
// move_in.mjs — moving in from the browser (playwright-core driving
// Debian's chromium headless). On a desktop, an admin chooses an Action
// Network export: the page says what it detected, shows each column and
// where it goes, and the first rows as they will be imported (an
// unsubscribed member marked opt-out, invalid rows with why, markup in the
// file shown as text); she ignores a column (the preview follows) and
// imports into a list: the report's counts and invalid lines. On a phone
// (390 px), a lead comes from the audiences page and moves in a VAN export of 20,000 rows (several chunks):
// the progress bar moves through the upload, then the report; nothing
// scrolls the page sideways. Run by
// tests/integration/test_dashboard_move_in_browser.sh, which checks the
// database; screenshots go to SCREENSHOTS.
import { check, launchChromium, phonePage, logIn } from './harness.mjs';
import { mkdirSync, readFileSync } from 'node:fs';

const BASE = process.env.DASH;
const SHOTS = process.env.SCREENSHOTS;
const FIX = process.env.FIXTURES;
const BIG = process.env.BIG_CSV;
if (!BASE || !SHOTS || !FIX || !BIG) throw new Error('DASH, SCREENSHOTS, FIXTURES and BIG_CSV must be set');
mkdirSync(SHOTS, { recursive: true });

const noSideScroll = async (p, what, width) => {
  const w = await p.evaluate(() => document.scrollingElement.scrollWidth);
  check(w <= width, `no horizontal scroll at ${width} px on ${what} (${w})`);
};

const problems = [];
const browser = await launchChromium();
try {
  // --- a desktop: Action Network, the preview, a column ignored ---
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const desk = await context.newPage();
  desk.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  desk.on('dialog', (d) => {
    problems.push(`a dialog opened: ${d.message()}`);
    d.dismiss();
  });
  await logIn(desk, BASE, 'admin@demo.test', '.top nav >> text=Org');
  await desk.click('.top nav >> text=Org');
  await desk.click('.subnav >> text=Move in');
  await desk.waitForSelector('#movein-file');
  // The file as Action Network writes it, one name made into markup.
  const an = readFileSync(`${FIX}/action_network.csv`, 'utf8').replace('Grace', '<img src=x onerror=window.__xss=1>');
  await desk.setInputFiles('#movein-file', { name: 'an-people.csv', mimeType: 'text/csv', buffer: Buffer.from(an) });
  await desk.waitForSelector('#movein-rows');
  check(/Action Network/.test(await desk.textContent('#movein-detected')), 'detected as Action Network');
  check(
    /without \+country are read as US/.test(await desk.textContent('#movein-region')),
    'the preview says how numbers without a country code are read',
  );
  check((await desk.$eval('#movein-preset', (s) => s.value)) === 'action_network', 'the preset picked');
  const targets = await desk.$$eval('#movein-columns select', (ss) => ss.map((s) => s.value));
  check(
    targets.join('|') === 'uuid|first_name|last_name|email|zip|phone|sms_status|tags|can2_subscription_status',
    `each column and where it goes: ${targets.join('|')}`,
  );
  const rows = await desk.$$eval('#movein-rows tbody tr', (trs) => trs.map((t) => t.textContent));
  check(rows.length === 6, `the first rows: ${rows.length}`);
  check(/\+14155557302.*opt-out/.test(rows[1]), `an unsubscribed member is marked opt-out: ${rows[1]}`);
  check(/missing phone/.test(rows[3]) && /invalid zip/.test(rows[4]), `invalid rows say why: ${rows[3]} / ${rows[4]}`);
  check(rows[0].includes('<img src=x onerror=window.__xss=1>'), 'markup in the file is shown as text');
  check(await desk.evaluate(() => window.__xss === undefined), 'the <img onerror> in the file did not run');
  await desk.screenshot({ path: `${SHOTS}/dashboard-movein-preview-desktop.png`, fullPage: true });
  // Another preset chosen: the page says so; then back.
  await desk.selectOption('#movein-preset', 'plain');
  await desk.waitForSelector('#movein-detected >> text=Read as: Plain CSV');
  check(
    /it looked like another export/.test(await desk.textContent('#movein-detected')),
    'a preset chosen over the detected one',
  );
  await desk.selectOption('#movein-preset', 'action_network');
  await desk.waitForSelector('#movein-detected >> text=Looks like: Action Network');
  // uuid ignored: the preview follows.
  await desk.selectOption('#movein-col-0', '');
  await desk.waitForFunction(() => !document.querySelector('#movein-rows').textContent.includes('uuid:'));
  check((await desk.$eval('#movein-col-0', (s) => s.value)) === '', 'the column is ignored');
  await desk.fill('#movein-list', 'AN members');
  await desk.click('#movein-import');
  await desk.waitForSelector('#movein-counts', { timeout: 60000 });
  const counts = await desk.textContent('#movein-counts');
  check(
    counts === '6 rows: 2 new contacts, 2 newly opted out, 0 already opted out, 2 invalid.',
    `the report: ${counts}`,
  );
  const lines = await desk.$$eval('#movein-rejections tbody td:first-child', (tds) => tds.map((t) => t.textContent));
  check(lines.join(',') === '5,6', `invalid rows by line: ${lines}`);
  check((await desk.$eval('#movein-progress', (p) => p.value)) === 100, 'the progress bar is full');
  await noSideScroll(desk, 'the desktop report', 1280);
  await desk.screenshot({ path: `${SHOTS}/dashboard-movein-import-desktop.png`, fullPage: true });

  // --- a phone: a lead moves in 20,000 VAN rows ---
  const phone = await phonePage(browser, problems);
  await logIn(phone, BASE, 'lead@demo.test', '.top nav >> text=Blasts');
  await phone.goto(`${BASE}/#/lists`);
  await phone.click('#to-move-in'); // a lead has no Org link: the audiences page leads here
  await phone.waitForSelector('#movein-file');
  await noSideScroll(phone, 'the Move in page', 390);
  await phone.setInputFiles('#movein-file', {
    name: 'van-export.csv',
    mimeType: 'text/csv',
    buffer: readFileSync(BIG),
  });
  await phone.waitForSelector('#movein-rows');
  check(/VAN/.test(await phone.textContent('#movein-detected')), 'detected as VAN');
  await noSideScroll(phone, 'the preview', 390);
  await phone.screenshot({ path: `${SHOTS}/dashboard-movein-preview-phone.png`, fullPage: true });
  // Every text the progress line shows, as it changes.
  await phone.evaluate(() => {
    window.__progress = [];
    const el = document.getElementById('movein-progress-text');
    new MutationObserver(() => window.__progress.push(el.textContent)).observe(el, { childList: true, subtree: true });
  });
  await phone.fill('#movein-list', 'VAN walk list');
  await phone.click('#movein-import');
  await phone.waitForSelector('#movein-counts', { timeout: 120000 });
  const seen = await phone.evaluate(() => window.__progress);
  const uploads = seen.filter((t) => /^Uploaded \d/.test(t));
  check(uploads.length >= 3, `the progress moved through the upload: ${uploads.join(' / ')}`);
  check(
    seen.includes('Uploaded. Importing…') && seen[seen.length - 1] === 'Done.',
    `then importing, done: ${seen.slice(-2)}`,
  );
  const phoneCounts = await phone.textContent('#movein-counts');
  check(
    /^20000 rows: 20000 new contacts, 0 newly opted out, 0 already opted out, 0 invalid\.$/.test(phoneCounts),
    `the report: ${phoneCounts}`,
  );
  await noSideScroll(phone, 'the report', 390);
  await phone.screenshot({ path: `${SHOTS}/dashboard-movein-import-phone.png`, fullPage: true });

  check(problems.length === 0, `no page errors: ${problems.join('; ')}`);
} finally {
  await browser.close();
}
