// SPDX-License-Identifier: AGPL-3.0-or-later
// outreach_lead.mjs — a lead's campaign page in a real browser, at desktop
// and phone widths: she writes a campaign's first message with a live
// counter and a preview filled in for a sample contact, creates it (a
// draft, which cannot start without an audience), adds a question whose
// answers are rows of a small form, uploads an audience and starts it;
// every action's result shows on the page with the counts of now (the
// page used to go stale after its first action), and a volunteer's send
// updates the counts live, over the event stream. Run by
// tests/integration/test_outreach_browser.sh with DASH, DAY (a zone where
// it is midday) and SCREENSHOTS.
import { check, launchChromium, logIn as logInAt, phonePage } from './harness.mjs';
import { execFileSync } from 'node:child_process';

const BASE = process.env.DASH;
const DAY = process.env.DAY;
const SHOTS = process.env.SCREENSHOTS;
const PSQL = '/usr/lib/postgresql/15/bin/psql';
if (!BASE || !DAY || !SHOTS) throw new Error('DASH, DAY and SCREENSHOTS must be set');

const sql = (q) =>
  execFileSync(PSQL, ['-XqAt', '-v', 'ON_ERROR_STOP=1', process.env.TOCSIN_DATABASE_URL, '-c', q], {
    encoding: 'utf8',
  }).trim();
const problems = [];
const logIn = (page, email) => logInAt(page, BASE, email, 'text=Outreach');
const browser = await launchChromium();

// True when the element is inside the viewport, below the sticky top bar
// (not drawn off-screen nor under the bar).
const inView = (page, sel) =>
  page.$eval(sel, (e) => {
    const r = e.getBoundingClientRect();
    const bar = document.querySelector('header, .topbar')?.getBoundingClientRect().bottom || 0;
    return r.height > 0 && r.top >= Math.max(0, bar) && r.bottom <= window.innerHeight;
  });

const dd = (page, label) =>
  page.evaluate((l) => {
    for (const d of document.querySelectorAll('#oc-progress div'))
      if (d.querySelector('dt').textContent === l) return d.querySelector('dd').textContent;
    return null;
  }, label);

// The whole flow at one width; `tag` names the campaign and the contacts.
async function leadFlow(page, tag, phones) {
  await page.goto(`${BASE}/#/outreach`);
  await page.waitForSelector('#oc-create');
  await page.fill('#oc-name', `Canvass ${tag}`);
  check(
    (await page.textContent('#oc-preview')).includes('Write the first message'),
    `${tag}: the preview waits for a message`,
  );
  await page.fill('#oc-script', 'Hi {first_name');
  check(
    (await page.textContent('#oc-preview')).includes('braces are for fields only'),
    `${tag}: a broken field is flagged as she types`,
  );
  await page.fill('#oc-script', 'Hi {first_name|there}, can you canvass Sunday?');
  const samples = await page.$$eval('#oc-preview [data-sample]', (els) => els.map((e) => e.textContent));
  check(
    samples.join(' / ') === 'Hi Ana, can you canvass Sunday? / Hi there, can you canvass Sunday?',
    `${tag}: the preview shows what a sample contact and a nameless one receive (${samples.join(' / ')})`,
  );
  check(
    (await page.textContent('#oc-counter')).startsWith('31 characters · GSM-7 · 1 text'),
    `${tag}: with the blast page's counter (${await page.textContent('#oc-counter')})`,
  );
  await page.click('#oc-create button[type=submit]');
  await page.waitForSelector('#oc-progress');
  const id = await page.evaluate(() => location.hash.split('/')[2]);
  check((await page.textContent('#oc-state-badge')) === 'draft', `${tag}: a new campaign is a draft`);
  check(
    (await page.isDisabled('#oc-state')) && (await page.textContent('#oc-state')) === 'Start campaign',
    `${tag}: which cannot start without an audience`,
  );
  check((await page.textContent('#oc-state-hint')).includes('volunteers do not see it'), `${tag}: and says so`);

  // First action: a question, its answers rows of a form. Its result
  // shows, and the page still works.
  await page.fill('#oc-question', 'Can you canvass?');
  await page.fill('#oc-answers-form .answer-row:nth-child(1) .oc-answer-label', 'Yes');
  await page.fill('#oc-answers-form .answer-row:nth-child(1) .oc-answer-next', 'Great, see you Sunday!');
  await page.fill('#oc-answers-form .answer-row:nth-child(2) .oc-answer-label', 'No');
  await page.click('#oc-answer-add');
  await page.fill('#oc-answers-form .answer-row:nth-child(3) .oc-answer-label', 'Maybe');
  await page.click('#oc-answers-form .answer-row:nth-child(3) .oc-answer-remove');
  check(
    (await page.locator('#oc-answers-form .answer-row').count()) === 2,
    `${tag}: an answer row is added and removed`,
  );
  await page.click('#oc-step button[type=submit]');
  await page.waitForSelector('#oc-step-msg >> text=Question added');
  check(
    (await page.textContent('#oc-steps')).includes('Can you canvass? — Yes / No'),
    `${tag}: the question is listed`,
  );
  check(
    sql(`SELECT string_agg(ch.label || '=' || coalesce(ch.next_script, '-'), ';' ORDER BY ch.position) FROM outreach_choices ch
             JOIN outreach_steps s ON s.id = ch.step_id WHERE s.campaign_id = ${id}`) ===
      'Yes=Great, see you Sunday!;No=-',
    `${tag}: the answers and their next message are stored`,
  );
  check(
    (await page.locator('#oc-answers-form .answer-row').count()) === 2 &&
      (await page.inputValue('#oc-question')) === '',
    `${tag}: the form is ready for the next question`,
  );

  // Second action: an upload. Its result and the new counts are on screen.
  const csv = `phone,first_name,timezone\n${phones.map((p, i) => `${p},${tag}${i},${DAY}`).join('\n')}\n`;
  await page.setInputFiles('#oc-file', { name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.click('#oc-upload button[type=submit]');
  await page.waitForSelector(`#oc-upload-msg >> text=${phones.length} people added`);
  check(await inView(page, '#oc-upload-msg'), `${tag}: the upload's result is on screen`);
  check(
    (await dd(page, 'Not yet texted')) === String(phones.length),
    `${tag}: the counts are live (${await dd(page, 'Not yet texted')} not yet texted)`,
  );

  check(!(await page.isDisabled('#oc-state')), `${tag}: with an audience it can start`);
  await page.click('#oc-state');
  await page.waitForSelector('#oc-msg >> text=The campaign is live');
  check(await inView(page, '#oc-msg'), `${tag}: the start's result is on screen`);
  check(
    (await page.textContent('#oc-state-badge')) === 'active' && (await page.textContent('#oc-state')) === 'Pause',
    `${tag}: started, it can be paused`,
  );

  // A volunteer texts one of them: the lead's counts follow, no reload.
  const v = sql("SELECT id FROM users WHERE email = 'vol1@demo.test'");
  const org = sql("SELECT org_id FROM users WHERE email = 'vol1@demo.test'");
  sql(`SELECT status FROM tocsin_outreach_claim(${org}, ${v}, ${id})`);
  const contact = sql(
    `SELECT contact_id FROM outreach_batch WHERE claimed_by = ${v} AND campaign_id = ${id} ORDER BY contact_id LIMIT 1`,
  );
  check(
    sql(`SELECT status FROM tocsin_outreach_send(${org}, ${v}, ${id}, ${contact}, 'hi', 'GSM-7', 1, now())`) === '201',
    `${tag}: a volunteer sends`,
  );
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('#oc-progress div')].some(
        (d) => d.querySelector('dt').textContent === 'Texted' && d.querySelector('dd').textContent === '1',
      ),
    null,
    { timeout: 60000 },
  );
  check(true, `${tag}: the lead's Texted count went to 1 live`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `${tag}: the page fits its width (overflow ${overflow})`);
  return id;
}

try {
  const desk = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  desk.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  desk.on('dialog', (d) => {
    problems.push(`a dialog opened: ${d.message()}`);
    d.dismiss();
  });
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
