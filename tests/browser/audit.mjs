// SPDX-License-Identifier: AGPL-3.0-or-later
// audit.mjs — what happened to member data, in a real browser at phone
// (390 px) and desktop (1280 px) widths. The two-person rule: a lead's
// blast above the org's threshold is created but not scheduled (the page
// says a second person must approve, and cannot be scheduled by her); a
// second lead sees the body, audience and count and approves on a phone;
// the lead then schedules it; another blast is approved on a desktop. The
// audit screen: the admin's badge counts the open alert, which she
// acknowledges; filters by person and action; pages back with "Older";
// downloads the CSV (itself audited); saves a threshold; a lead has no
// audit page. The database is checked here through psql and by
// tests/integration/test_dashboard_audit_browser.sh. Screenshots go to
// SCREENSHOTS.
import { check, launchChromium, phonePage, logIn, sql } from './harness.mjs';
import { mkdirSync, readFileSync } from 'node:fs';

const BASE = process.env.DASH;
const SHOTS = process.env.SCREENSHOTS;
const LIST = process.env.LIST;
const B2 = process.env.BLAST2;
if (!BASE || !SHOTS || !LIST || !B2 || !process.env.PSQL)
  throw new Error('DASH, SCREENSHOTS, LIST, BLAST2 and PSQL must be set');
mkdirSync(SHOTS, { recursive: true });

const problems = [];
const noSideScroll = async (p, width, what) => {
  const w = await p.evaluate(() => document.scrollingElement.scrollWidth);
  check(w <= width, `no horizontal scroll at ${width} px on ${what} (${w})`);
};
const members = sql(`SELECT count(*) FROM tocsin_lead_audience((SELECT id FROM orgs WHERE slug = 'demo'), ${LIST})`);

const browser = await launchChromium();
try {
  // --- the two-person rule, on phones ---
  const lead = await phonePage(browser, problems, /401|409/);
  await logIn(lead, BASE, 'lead@demo.test', '.top nav');
  await lead.goto(`${BASE}/#/blasts/new`);
  await lead.waitForSelector('#blast-body');
  await lead.selectOption('#blast-list', LIST);
  await lead.fill('#blast-body', 'Rally Saturday at 10! Reply STOP to opt out');
  await lead.waitForSelector(`#blast-recipients >> text=${members}`);
  await lead.click('#blast-submit');
  await lead.waitForSelector('#blast-confirm:not([hidden])');
  await lead.click('#blast-confirm-yes');
  await lead.waitForSelector('#blast-approval');
  const b1 = Number(/#\/blasts\/(\d+)/.exec(lead.url())[1]);
  check(b1 > 0, `the lead lands on her blast's page (${b1})`);
  const said = await lead.textContent('#flash');
  check(said.includes('must approve it first'), `the page says why it was not scheduled: "${said}"`);
  check((await lead.textContent('#approval-state')).includes(`reaches ${members} members`), 'with the audience count');
  check(
    (await lead.$('#approval-own')) !== null && (await lead.$('#approval-yes')) === null,
    'the creator cannot approve',
  );
  check(await lead.isDisabled('#draft-schedule'), 'nor schedule it yet');
  check(sql(`SELECT state FROM blasts WHERE id = ${b1}`) === 'draft', 'it is a draft');
  await noSideScroll(lead, 390, 'a blast waiting for approval');
  await lead.screenshot({ path: `${SHOTS}/dashboard-approval-wait-phone.png`, fullPage: true });

  const lead2 = await phonePage(browser, problems, /401|409/);
  await logIn(lead2, BASE, 'lead2@demo.test', '.top nav');
  await lead2.goto(`${BASE}/#/blasts/${b1}`);
  await lead2.waitForSelector('#approval-yes');
  check(
    (await lead2.textContent('#approval-body')) === 'Rally Saturday at 10! Reply STOP to opt out',
    'the second lead sees the body',
  );
  check(
    (await lead2.textContent('#approval-count')).startsWith(`${members} members on members`),
    'the audience and its count',
  );
  await noSideScroll(lead2, 390, 'the approval');
  await lead2.screenshot({ path: `${SHOTS}/dashboard-approval-phone.png`, fullPage: true });
  await lead2.click('#approval-yes');
  await lead2.waitForSelector('#approval-state >> text=Approved by');
  check(
    sql(
      `SELECT approved_by = (SELECT id FROM users WHERE email = 'lead2@demo.test') AND approved_count = ${members} FROM blasts WHERE id = ${b1}`,
    ) === 't',
    'approved by the second lead, for the count shown',
  );

  await lead.reload();
  await lead.waitForSelector('#approval-state >> text=Approved by');
  check(!(await lead.isDisabled('#draft-schedule')), 'the creator may now schedule it');
  await lead.fill('#draft-at', '2099-06-01T10:00');
  await lead.click('#draft-schedule');
  await lead.waitForSelector('#blast-state >> text=Scheduled');
  check(sql(`SELECT state FROM blasts WHERE id = ${b1}`) === 'scheduled', 'scheduled');

  // --- the two-person rule, on a desktop ---
  const desk = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const deskPage = await desk.newPage();
  deskPage.on('pageerror', (e) => problems.push(`desktop page error: ${e.message}`));
  await logIn(deskPage, BASE, 'lead2@demo.test', '.top nav');
  await deskPage.goto(`${BASE}/#/blasts/${B2}`);
  await deskPage.waitForSelector('#approval-yes');
  check(
    (await deskPage.textContent('#approval-body')).startsWith('Second blast'),
    'the desktop approval shows the body',
  );
  await noSideScroll(deskPage, 1280, 'the approval');
  await deskPage.screenshot({ path: `${SHOTS}/dashboard-approval-desktop.png`, fullPage: true });
  await deskPage.click('#approval-yes');
  await deskPage.waitForSelector('#approval-state >> text=Approved by');

  // --- the audit screen, on a phone ---
  const admin = await phonePage(browser, problems, /401|400/);
  await logIn(admin, BASE, 'admin@demo.test', '.top nav');
  await admin.waitForSelector('#alert-badge:not([hidden])');
  check((await admin.textContent('#alert-badge')) === '1', 'the Org link shows one open alert');
  await admin.goto(`${BASE}/#/audit`);
  await admin.waitForSelector('#alerts .alert.open');
  check((await admin.textContent('#alerts .alert.open .name')).includes('exported'), 'the lead’s export is the alert');
  await admin.click('#alerts .alert.open .ack');
  await admin.waitForSelector('#alerts .alert.done');
  check((await admin.$('#alerts .alert.open')) === null, 'acknowledged');
  check(
    sql("SELECT count(*) FROM audit_events WHERE action = 'alert.acknowledge'") === '1',
    'the acknowledgement is audited',
  );

  await admin.waitForSelector('#audit-rows .audit-row');
  check((await admin.$$('#audit-rows .audit-row')).length === 50, 'the first page holds 50 rows');
  await admin.click('#audit-more');
  await admin.waitForFunction(() => document.querySelectorAll('#audit-rows .audit-row').length > 50);
  const ids = await admin.$$eval('#audit-rows .audit-row', (rows) => rows.map((r) => Number(r.dataset.id)));
  check(
    ids.every((id, i) => i === 0 || id < ids[i - 1]),
    `"Older" adds older rows, none repeated (${ids.length} rows)`,
  );

  const leadId = sql("SELECT id FROM users WHERE email = 'lead@demo.test'");
  await admin.selectOption('#audit-user', leadId);
  await admin.selectOption('#audit-action', 'list.export');
  await admin.click('#audit-apply');
  await admin.waitForFunction(() =>
    [...document.querySelectorAll('#audit-rows .audit-row strong')].every((s) => s.textContent === 'list.export'),
  );
  const shown = await admin.$$eval('#audit-rows .audit-row', (rows) => rows.length);
  check(
    String(shown) === sql(`SELECT count(*) FROM audit_events WHERE action = 'list.export' AND user_id = ${leadId}`),
    `the filters show the lead's exports only (${shown})`,
  );
  await noSideScroll(admin, 390, 'the audit page');
  await admin.screenshot({ path: `${SHOTS}/dashboard-audit-phone.png`, fullPage: true });

  const [download] = await Promise.all([admin.waitForEvent('download'), admin.click('#audit-csv')]);
  const csv = readFileSync(await download.path(), 'utf8');
  check(csv.startsWith('id,at,person,email,action,subject,details'), 'the CSV has its header');
  check(csv.trim().split('\n').length === shown + 1, 'and the filtered rows');
  check(
    sql(
      "SELECT details->'filters'->>'action' || ' ' || (details->>'rows') FROM audit_events WHERE action = 'audit.export'",
    ) === `list.export ${shown}`,
    'the download is audited with its filters and count',
  );

  await admin.fill('#p-alert_claims_per_hour', '50');
  await admin.click('#protection button[type=submit]');
  await admin.waitForSelector('#protection-saved >> text=Saved.');
  check(sql("SELECT alert_claims_per_hour FROM orgs WHERE slug = 'demo'") === '50', 'a threshold saved');
  await admin.fill('#p-alert_export_over', '0');
  await admin.click('#protection button[type=submit]');
  check(
    !(await admin.$eval('#p-alert_export_over', (i) => i.validity.valid)),
    'a threshold of 0 is refused by the form',
  );
  check(sql("SELECT alert_export_over FROM orgs WHERE slug = 'demo'") === '2', 'and not saved');

  // --- the audit screen, on a desktop; and not a lead's ---
  await deskPage.context().clearCookies();
  await logIn(deskPage, BASE, 'admin@demo.test', '.top nav');
  await deskPage.goto(`${BASE}/#/audit`);
  await deskPage.waitForSelector('#audit-rows .audit-row');
  await noSideScroll(deskPage, 1280, 'the audit page');
  await deskPage.screenshot({ path: `${SHOTS}/dashboard-audit-desktop.png`, fullPage: true });

  await lead.goto(`${BASE}/#/audit`);
  await lead.waitForSelector('.layout');
  check(
    (await lead.$('#audit-rows')) === null && (await lead.$('#alert-badge')) === null,
    'a lead has no audit page nor alerts',
  );

  check(problems.length === 0, `no page errors: ${problems.join('; ')}`);
} finally {
  await browser.close();
}
