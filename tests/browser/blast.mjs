// SPDX-License-Identifier: AGPL-3.0-or-later
// blast.mjs — a campaign lead's blast in a real browser (playwright-core
// driving Debian's chromium headless): log in, import a small list from a
// CSV (the report shows the rejected line), compose a blast with a field
// (live segment counter, the server's preview for a member whose name is
// an "<img onerror>", shown as text), send it now and watch the progress
// view reach "Done" without reloading while a real tocsin-worker sends it
// to the carrier simulator. Screenshots of compose and progress at phone
// and desktop widths go to SCREENSHOTS. Run by
// tests/integration/test_dashboard_blast_browser.sh, which checks the
// simulator.
import { check, launchChromium, phonePage } from './harness.mjs';
import { mkdirSync } from 'node:fs';

const BASE = process.env.DASH;
const SHOTS = process.env.SCREENSHOTS;
const CSV = process.env.CSV;
if (!BASE || !SHOTS || !CSV) throw new Error('DASH, SCREENSHOTS and CSV must be set');
mkdirSync(SHOTS, { recursive: true });


const problems = [];
const browser = await launchChromium();
try {
  const page = await phonePage(browser, problems);

  await page.goto(`${BASE}/`);
  await page.fill('#email', 'lead@demo.test');
  await page.fill('#password', 'tocsin-demo');
  await page.click('button[type=submit]');
  await page.waitForSelector('text=Campaigns');
  await page.click('text=Campaigns');
  await page.waitForSelector('.subnav');

  // Audiences: import the CSV through the page.
  await page.click('.subnav >> text=Audiences');
  await page.waitForSelector('#import-file');
  await page.fill('#import-list', 'Rally <b>crew</b>');
  await page.setInputFiles('#import-file', { name: 'crew.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
  await page.click('#import-report >> xpath=.. >> button[type=submit]');
  await page.waitForSelector('#import-report >> text=rows:', { timeout: 15000 }).catch(async (e) => {
    throw new Error(`no import report; the page says: ${await page.textContent('.leads')}; ${e.message}`);
  });
  const report = await page.textContent('#import-report');
  check(/7 rows: 6 new, 0 updated, 1 rejected, 5 added to the list, 1 still opted out/.test(report), `the import's report: ${report}`);
  check(await page.textContent('#import-report tbody td') === '8', 'the rejected row is named by its line (8)');
  await page.screenshot({ path: `${SHOTS}/dashboard-import-phone.png`, fullPage: true });
  await page.waitForSelector('#lists >> text=Rally <b>crew</b>');
  const row = await page.locator('#lists .item', { hasText: 'Rally <b>crew</b>' }).textContent();
  check(row.includes('5 members'), `the list shows 5 members (the opted-out one was not subscribed): ${row}`);

  // Compose.
  await page.click('.subnav >> text=Blasts');
  await page.click('text=New blast');
  await page.waitForSelector('#blast-body');
  const listValue = await page.locator('#blast-list option', { hasText: 'Rally <b>crew</b>' }).getAttribute('value');
  await page.selectOption('#blast-list', listValue);
  await page.fill('#blast-body', 'Hi {first_name|friend}, the rally starts Saturday at 10. See you there!');
  await page.waitForSelector('#blast-counter >> text=GSM-7');
  check((await page.textContent('#blast-counter')).includes('1 segment'), 'the live segment counter');
  await page.waitForSelector('#blast-recipients >> text=5 (opted-out members left out)');
  const sample = await page.textContent('#blast-sample');
  check(sample === 'Hi <img src=x onerror=window.__xss=1>, the rally starts Saturday at 10. See you there!', `the preview renders the sample member's name as text: ${sample}`);
  check(await page.evaluate(() => window.__xss === undefined && !document.querySelector('.leads img')), 'no markup ran');
  await page.screenshot({ path: `${SHOTS}/dashboard-blast-compose-phone.png`, fullPage: true });
  const desk = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const deskPage = await desk.newPage();
  deskPage.on('pageerror', (e) => problems.push(`desktop page error: ${e.message}`));
  await deskPage.context().addCookies(await page.context().cookies());
  await deskPage.goto(`${BASE}/#/blasts/new`);
  await deskPage.waitForSelector('#blast-body');
  await deskPage.selectOption('#blast-list', listValue);
  await deskPage.fill('#blast-body', 'Hi {first_name|friend}, the rally starts Saturday at 10. See you there!');
  await deskPage.waitForSelector('#blast-recipients');
  await deskPage.screenshot({ path: `${SHOTS}/dashboard-blast-compose-desktop.png`, fullPage: true });

  // Send now, then watch it go out without reloading.
  await page.click('#blast-submit');
  await page.waitForSelector('#blast-progress #blast-state');
  const url = page.url();
  check(/#\/blasts\/\d+$/.test(url), `the progress view opens: ${url}`);
  await page.evaluate(() => { window.__same_page = true; });
  await page.waitForSelector('#blast-state >> text=Done', { timeout: 60000 });
  check(await page.evaluate(() => window.__same_page === true), 'it reached Done without a reload');
  const delivered = Number(await page.textContent('[data-counter=delivered] dd'));
  const sent = Number(await page.textContent('[data-counter=sent] dd'));
  check(delivered + sent === 5, `5 handed to the carrier (sent ${sent}, delivered ${delivered})`);
  check(Number(await page.textContent('[data-counter=queued] dd')) === 0, 'nothing left queued');
  check(await page.locator('#blast-cancel').count() === 0, 'no cancel once done');
  await page.screenshot({ path: `${SHOTS}/dashboard-blast-progress-phone.png`, fullPage: true });
  await deskPage.goto(`${BASE}/${new URL(url).hash}`);
  await deskPage.waitForSelector('#blast-state >> text=Done');
  await deskPage.screenshot({ path: `${SHOTS}/dashboard-blast-progress-desktop.png`, fullPage: true });
  console.log(`BLAST_ID=${url.match(/(\d+)$/)[1]}`);

  // Stats list it.
  await page.click('.subnav >> text=Stats');
  await page.waitForSelector('#stats-blasts >> text=Rally <b>crew</b>');
  await page.screenshot({ path: `${SHOTS}/dashboard-stats-phone.png`, fullPage: true });

  // A blast scheduled far ahead, cancelled through the in-page confirm
  // (left open across several polls first).
  await page.click('.subnav >> text=Blasts');
  await page.click('text=New blast');
  await page.waitForSelector('#blast-body');
  await page.selectOption('#blast-list', listValue);
  await page.fill('#blast-body', 'Second rally next month');
  await page.check('#when-later');
  await page.fill('#blast-at', '2099-01-01T10:00');
  await page.click('#blast-submit');
  await page.waitForSelector('#blast-state >> text=Scheduled');
  await page.click('#blast-cancel');
  await page.waitForSelector('.confirm:not([hidden]) >> text=cannot be undone');
  await page.waitForTimeout(4500);
  check(await page.isVisible('#confirm-yes'), 'the confirm stays open while the page polls');
  await page.click('#confirm-yes');
  await page.waitForSelector('#blast-state >> text=Cancelled');
  console.log(`CANCELLED_ID=${page.url().match(/(\d+)$/)[1]}`);

  // An admin's keyword: refused with the reason, then saved.
  const adminCtx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const admin = await adminCtx.newPage();
  admin.on('pageerror', (e) => problems.push(`admin page error: ${e.message}`));
  await admin.goto(`${BASE}/`);
  await admin.fill('#email', 'admin@demo.test');
  await admin.fill('#password', 'tocsin-demo');
  await admin.click('button[type=submit]');
  await admin.waitForSelector('text=Campaigns');
  await admin.goto(`${BASE}/#/keywords`);
  await admin.waitForSelector('#keyword-form');
  await admin.fill('#kw-word', 'rally');
  await admin.selectOption('#kw-list', listValue);
  await admin.fill('#kw-reply', 'Rally alerts! Reply STOP to stop.');
  await admin.click('#keyword-form button[type=submit]');
  const why = await (await admin.waitForSelector('#keyword-form .error:not(:empty)')).textContent();
  check(why.length > 10, `a confirmation without the CTIA parts is refused: ${why}`);
  await admin.fill('#kw-reply', 'Tocsin Demo Chapter rally alerts: up to 2 msgs/mo. Msg&data rates may apply. Reply HELP for help, STOP to cancel.');
  await admin.click('#keyword-form button[type=submit]');
  await admin.waitForSelector('.list .keyword >> text=RALLY');
  await admin.screenshot({ path: `${SHOTS}/dashboard-keywords-phone.png`, fullPage: true });
  check(problems.length === 0, `no page errors: ${problems.join('; ')}`);
} finally {
  await browser.close();
}
