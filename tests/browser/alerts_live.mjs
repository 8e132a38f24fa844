// SPDX-License-Identifier: AGPL-3.0-or-later
// alerts_live.mjs — audit alerts pushed live, in a real browser at 390 px:
// an admin on her first page sees the Org link's badge count a lead's
// big export and a notice at the top saying what happened, without a
// reload; on the Audit page a second alert joins the list as it is raised,
// and acknowledging it elsewhere (another admin's session) takes it off.
// A volunteer's page, open all along, never hears an alert event. Run by
// tests/integration/test_dashboard_alerts_live_browser.sh, which raises
// the alerts through the database between the steps (LEAD_EXPORT: a
// command the script gives as SQL) and checks the rows; screenshots go to
// SCREENSHOTS.
import { check, launchChromium, phonePage, logIn, sql } from './harness.mjs';
import { mkdirSync } from 'node:fs';

const BASE = process.env.DASH;
const SHOTS = process.env.SCREENSHOTS;
const RAISE = process.env.RAISE_SQL; // raises one export alert, as the lead's export does
if (!BASE || !SHOTS || !RAISE || !process.env.PSQL)
  throw new Error('DASH, SCREENSHOTS, RAISE_SQL and PSQL must be set');
mkdirSync(SHOTS, { recursive: true });

const problems = [];
const fits = async (p, what) => {
  const w = await p.evaluate(() => document.scrollingElement.scrollWidth);
  check(w <= 390, `no horizontal scroll at 390 px on ${what} (${w})`);
};
// Counts the stream's alert events a page hears (live.js passes them on
// as window events), from now on.
const countAlerts = (p) =>
  p.evaluate(() => {
    window.alertsHeard = 0;
    window.addEventListener('tocsin:alert', () => window.alertsHeard++);
  });

const browser = await launchChromium();
try {
  const vol = await phonePage(browser, problems);
  await logIn(vol, BASE, 'vol1@demo.test');
  await countAlerts(vol);
  const admin = await phonePage(browser, problems);
  await logIn(admin, BASE, 'admin@demo.test', '.top nav');
  await admin.waitForSelector('#alert-badge', { state: 'attached' });
  check(await admin.$eval('#alert-badge', (b) => b.hidden), 'no open alert yet: no badge');
  await countAlerts(admin);

  // A lead's export above the threshold while the admin is on her first page.
  sql(RAISE);
  await admin.waitForSelector('#alert-badge:not([hidden])');
  check((await admin.textContent('#alert-badge')) === '1', 'the badge counts the new alert, no reload');
  await admin.waitForSelector('#flash >> text=New alert');
  const said = await admin.textContent('#flash');
  check(/exported \d+ contacts/.test(said), `a notice says what happened: ${said}`);
  await fits(admin, 'the inbox with the alert notice');
  await admin.screenshot({ path: `${SHOTS}/dashboard-alert-live-phone.png`, fullPage: true });

  // On the Audit page, the next alert joins the list as it is raised.
  await admin.goto(`${BASE}/#/audit`);
  await admin.waitForSelector('#alerts .alert.open');
  check((await admin.$$('#alerts .alert.open')).length === 1, 'one open alert listed');
  sql(RAISE);
  await admin.waitForFunction(() => document.querySelectorAll('#alerts .alert.open').length === 2);
  check((await admin.textContent('#alerts-card h3')) === 'Alerts (2 open)', 'the list follows, no reload');
  await admin.waitForFunction(() => document.getElementById('alert-badge')?.textContent === '2');
  check(true, 'and the badge');
  await fits(admin, 'the Audit page with live alerts');
  await admin.screenshot({ path: `${SHOTS}/dashboard-alert-live-audit-phone.png`, fullPage: true });

  // Another admin acknowledges one: it leaves this page's open alerts.
  const other = await phonePage(browser, problems);
  await logIn(other, BASE, 'admin@demo.test', '.top nav');
  await other.goto(`${BASE}/#/audit`);
  await other.waitForSelector('#alerts .alert.open .ack');
  await other.click('#alerts .alert.open .ack');
  await admin.waitForFunction(() => document.querySelectorAll('#alerts .alert.open').length === 1);
  check(true, "another admin's acknowledgement shows here too");
  const heard = await admin.evaluate(() => window.alertsHeard);
  check(heard >= 3, `the admin's page heard the alerts (${heard})`);
  check((await vol.evaluate(() => window.alertsHeard)) === 0, "the volunteer's page heard none");
  check(!(await vol.$('#alert-badge')), 'and shows no badge');
  check(problems.length === 0, `no page errors: ${problems.join('; ')}`);
} finally {
  await browser.close();
}
