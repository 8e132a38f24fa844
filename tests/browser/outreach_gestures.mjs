// SPDX-License-Identifier: AGPL-3.0-or-later
// outreach_gestures.mjs — one message per deliberate gesture, in a real
// browser: a volunteer's ordinary double click on Send (page.mouse.dblclick,
// and two clicks 120 ms apart) texts one contact, not the next one whose
// Send button appears under the pointer; a held Enter key (keydown repeated
// with repeat set) texts one contact however long it is held; a new press
// after the release texts the next. At phone width, a double tap. Run by
// tests/integration/test_outreach_browser.sh (CAMP2: a campaign of eight,
// batches of four), which checks the database afterwards.
import { check, launchChromium, logIn as logInAt, phonePage } from './harness.mjs';
import { execFileSync } from 'node:child_process';

const BASE = process.env.DASH;
const CAMP = process.env.CAMP2;
const PSQL = '/usr/lib/postgresql/15/bin/psql';
if (!BASE || !CAMP) throw new Error('DASH and CAMP2 must be set');

const sql = (q) =>
  execFileSync(PSQL, ['-XqAt', '-v', 'ON_ERROR_STOP=1', process.env.TOCSIN_DATABASE_URL, '-c', q], {
    encoding: 'utf8',
  }).trim();
const sentTo = () =>
  sql(`SELECT coalesce(string_agg(c.first_name, ' ' ORDER BY t.texted_at, c.id), '')
  FROM outreach_targets t JOIN contacts c ON c.id = t.contact_id WHERE t.campaign_id = ${CAMP} AND t.state = 'texted'`);
const sleep = (ms) =>
  new Promise((r) => {
    setTimeout(r, ms);
  });

const problems = [];
const logIn = (page, email) => logInAt(page, BASE, email);
const browser = await launchChromium();

// Waits until the sending view shows `name`, then long enough for a stray
// second send to have reached the database.
async function showing(page, name) {
  await page.waitForFunction((n) => document.querySelector('#outreach-contact')?.textContent.startsWith(n), name);
  await sleep(700);
}

async function center(page, sel) {
  const b = await page.locator(sel).boundingBox();
  return [b.x + b.width / 2, b.y + b.height / 2];
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('dialog', (d) => {
    problems.push(`a dialog opened: ${d.message()}`);
    d.dismiss();
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/401/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await logIn(page, 'vol1@demo.test');
  await page.goto(`${BASE}/#/outreach/${CAMP}/send`);
  await page.click('#outreach-claim');
  await showing(page, 'Gil');
  check(
    (await page.textContent('#outreach-left')) === '4 left in your batch · 4 more people to text after it',
    `what is left, in plain words (${await page.textContent('#outreach-left')})`,
  );

  // A double click on Send: Gil is texted, Hal (shown next) is not.
  let [x, y] = await center(page, '#outreach-send');
  await page.mouse.dblclick(x, y);
  await showing(page, 'Hal');
  check(sentTo() === 'Gil', `a double click texts one contact (texted: ${sentTo()})`);
  check((await page.textContent('#outreach-msg')).includes('Sent to Gil.'), 'the confirmation names her');

  // Two clicks 120 ms apart, the way a hand double-clicks.
  [x, y] = await center(page, '#outreach-send');
  await page.mouse.click(x, y);
  await sleep(120);
  await page.mouse.click(x, y);
  await showing(page, 'Ida');
  check(sentTo() === 'Gil Hal', `two clicks 120 ms apart text one contact (texted: ${sentTo()})`);

  // Enter held down across the next contact's arrival: repeats send nothing.
  await page.focus('#outreach-script');
  await page.keyboard.down('Enter');
  for (let i = 0; i < 25; i++) {
    await sleep(40);
    await page.keyboard.down('Enter'); // repeat: true, as a held key
  }
  await showing(page, 'Jo');
  for (let i = 0; i < 10; i++) {
    await sleep(40);
    await page.keyboard.down('Enter');
  }
  await sleep(500);
  check(sentTo() === 'Gil Hal Ida', `a held Enter texts one contact (texted: ${sentTo()})`);
  check(
    (await page.inputValue('#outreach-script')) === "Hi Jo, it's Val. Can you come Saturday?",
    'and leaves no new line in the next message',
  );
  await page.keyboard.up('Enter');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#outreach-claim');
  await sleep(500);
  check(sentTo() === 'Gil Hal Ida Jo', `a new press after the release texts the next contact (texted: ${sentTo()})`);
  check((await page.$('#outreach-msg .error')) === null, 'no refusal ever reached the volunteer');

  // Phone width, touch: a double tap texts one contact.
  const phone = await phonePage(browser, problems);
  await logIn(phone, 'vol2@demo.test');
  await phone.goto(`${BASE}/#/outreach/${CAMP}/send`);
  await phone.click('#outreach-claim');
  await showing(phone, 'Kai');
  [x, y] = await center(phone, '#outreach-send');
  await phone.touchscreen.tap(x, y);
  await sleep(120);
  await phone.touchscreen.tap(x, y);
  await showing(phone, 'Lu');
  check(sentTo() === 'Gil Hal Ida Jo Kai', `a double tap at phone width texts one contact (texted: ${sentTo()})`);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `the sending view fits 390 px (overflow ${overflow})`);
  // A deliberate tap a moment later texts the next one.
  await phone.touchscreen.tap(x, y);
  await showing(phone, 'Mo');
  check(sentTo() === 'Gil Hal Ida Jo Kai Lu', `a later tap texts the next contact (texted: ${sentTo()})`);

  // Everyone is texted or in a batch: Claim a batch is no longer offered.
  await page.reload();
  await page.waitForSelector('#outreach-claim');
  check(
    (await page.isDisabled('#outreach-claim')) && (await page.textContent('#outreach-claim')) === 'Nobody left to text',
    'with nobody left, the claim button is disabled and says why',
  );
  check(
    (await page.textContent('#outreach-left')).includes('0 people left to text'),
    `plain words for what is left (${await page.textContent('#outreach-left')})`,
  );

  check(problems.length === 0, `no dialogs or page errors (${problems.join('; ')})`);
} finally {
  await browser.close();
}
