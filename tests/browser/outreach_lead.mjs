// SPDX-License-Identifier: AGPL-3.0-or-later
// outreach_lead.mjs — a lead's campaign page in a real browser, at desktop
// and phone widths: she creates a campaign, adds a question, uploads an
// audience, and every action's result shows on the page with the counts
// of now (the page used to go stale after its first action); a volunteer's
// send updates the counts live, over the event stream. Run by
// tests/integration/test_outreach_browser.sh with DASH, DAY (a zone where
// it is midday) and SCREENSHOTS.
import { check, launchChromium, phonePage } from './harness.mjs';
import { execFileSync } from 'node:child_process';

const BASE = process.env.DASH;
const DAY = process.env.DAY;
const SHOTS = process.env.SCREENSHOTS;
const PSQL = '/usr/lib/postgresql/15/bin/psql';
if (!BASE || !DAY || !SHOTS) throw new Error('DASH, DAY and SCREENSHOTS must be set');

const sql = (q) => execFileSync(PSQL, ['-XqAt', '-v', 'ON_ERROR_STOP=1', process.env.TOCSIN_DATABASE_URL, '-c', q], { encoding: 'utf8' }).trim();
const problems = [];
const browser = await launchChromium();

async function logIn(page, email) {
  await page.goto(`${BASE}/`);
  await page.fill('#email', email);
  await page.fill('#password', 'tocsin-demo');
  await page.click('button[type=submit]');
  await page.waitForSelector('text=Outreach');
}

const dd = (page, label) => page.evaluate((l) => {
  for (const d of document.querySelectorAll('#oc-progress div')) if (d.querySelector('dt').textContent === l) return d.querySelector('dd').textContent;
  return null;
}, label);

// The whole flow at one width; `tag` names the campaign and the contacts.
async function leadFlow(page, tag, phones) {
  await page.goto(`${BASE}/#/outreach`);
  await page.waitForSelector('#oc-create');
  await page.fill('#oc-name', `Canvass ${tag}`);
  await page.fill('#oc-script', 'Hi {first_name|there}, can you canvass Sunday?');
  await page.click('#oc-create button[type=submit]');
  await page.waitForSelector('#oc-progress');
  const id = await page.evaluate(() => location.hash.split('/')[2]);

  // First action: a question. Its result shows, and the page still works.
  await page.fill('#oc-question', 'Can you canvass?');
  await page.fill('#oc-choices', 'Yes => Great, see you Sunday!\nNo');
  await page.click('#oc-step button[type=submit]');
  await page.waitForSelector('#oc-msg >> text=Question added');
  check((await page.textContent('#oc-steps')).includes('Can you canvass? — Yes / No'), `${tag}: the question is listed`);

  // Second action: an upload. Its result and the new counts are on screen.
  const csv = `phone,first_name,timezone\n${phones.map((p, i) => `${p},${tag}${i},${DAY}`).join('\n')}\n`;
  await page.setInputFiles('#oc-file', { name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.click('#oc-upload button[type=submit]');
  await page.waitForSelector(`#oc-msg >> text=${phones.length} people added`);
  check(await page.isVisible(`#oc-msg >> text=${phones.length} people added`), `${tag}: the upload's result is visible`);
  check(await dd(page, 'Not yet texted') === String(phones.length), `${tag}: the counts are live (${await dd(page, 'Not yet texted')} not yet texted)`);

  // A volunteer texts one of them: the lead's counts follow, no reload.
  const v = sql("SELECT id FROM users WHERE email = 'vol1@demo.test'");
  const org = sql("SELECT org_id FROM users WHERE email = 'vol1@demo.test'");
  sql(`UPDATE outreach_campaigns SET state = 'active' WHERE id = ${id}`);
  sql(`SELECT status FROM tocsin_outreach_claim(${org}, ${v}, ${id})`);
  const contact = sql(`SELECT contact_id FROM outreach_batch WHERE claimed_by = ${v} AND campaign_id = ${id} ORDER BY contact_id LIMIT 1`);
  check(sql(`SELECT status FROM tocsin_outreach_send(${org}, ${v}, ${id}, ${contact}, 'hi', 'GSM-7', 1, now())`) === '201', `${tag}: a volunteer sends`);
  await page.waitForFunction(() => [...document.querySelectorAll('#oc-progress div')]
    .some((d) => d.querySelector('dt').textContent === 'Texted' && d.querySelector('dd').textContent === '1'), null, { timeout: 5000 });
  check(true, `${tag}: the lead's Texted count went to 1 live`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `${tag}: the page fits its width (overflow ${overflow})`);
  return id;
}

try {
  const desk = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  desk.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  desk.on('dialog', (d) => { problems.push(`a dialog opened: ${d.message()}`); d.dismiss(); });
  await logIn(desk, 'lead@demo.test');
  await leadFlow(desk, 'Desk', ['+14155550601', '+14155550602', '+14155550603']);
  await desk.screenshot({ path: `${SHOTS}/outreach-lead-actions-desktop.png`, fullPage: true });

  const phone = await phonePage(browser, problems);
  await logIn(phone, 'lead@demo.test');
  await leadFlow(phone, 'Phone', ['+14155550611', '+14155550612']);
  await phone.screenshot({ path: `${SHOTS}/outreach-lead-actions-phone.png`, fullPage: true });

  check(problems.length === 0, `no dialogs or page errors (${problems.join('; ')})`);
} finally {
  await browser.close();
}
