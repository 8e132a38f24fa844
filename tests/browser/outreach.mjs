// SPDX-License-Identifier: AGPL-3.0-or-later
// outreach.mjs — peer-to-peer outreach in a real browser (playwright-core
// driving Debian's chromium headless): a volunteer opens a campaign, claims
// a batch, sends three initial messages with the Enter key (one message per
// key press, the script filled in for each contact), a member's reply comes
// through the carrier simulator (SIM/sim/inbound -> tocsin-gateway) and
// appears in her inbox live, and she records the contact's answer, which
// puts the next script in the reply box. A lead's campaign page too.
// Screenshots at phone and desktop widths go to SCREENSHOTS. Run by
// tests/integration/test_outreach_browser.sh, which checks the database and
// the simulator.
import { check, launchChromium, logIn as logInAt } from './harness.mjs';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const BASE = process.env.DASH;
const SIM = process.env.SIM;
const CAMP = process.env.CAMP;
const SHOTS = process.env.SCREENSHOTS;
const PSQL = '/usr/lib/postgresql/15/bin/psql';
if (!BASE || !SIM || !CAMP || !SHOTS) throw new Error('DASH, SIM, CAMP and SCREENSHOTS must be set');
mkdirSync(SHOTS, { recursive: true });

const sql = (q) =>
  execFileSync(PSQL, ['-XqAt', '-v', 'ON_ERROR_STOP=1', process.env.TOCSIN_DATABASE_URL, '-c', q], {
    encoding: 'utf8',
  }).trim();

const problems = [];
const logIn = (page, email) => logInAt(page, BASE, email);
const browser = await launchChromium();

async function newPage(viewport, who, extra = {}) {
  const page = await (await browser.newContext({ viewport, ...extra })).newPage();
  page.on('dialog', (d) => {
    problems.push(`${who}: a dialog opened: ${d.message()}`);
    d.dismiss();
  });
  page.on('pageerror', (e) => problems.push(`${who} page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/401|409/.test(m.text())) problems.push(`${who} console: ${m.text()}`);
  });
  return page;
}

const scriptFor = (name) => `Hi ${name}, it's Val from the tenants union. Can you come Saturday?`;

try {
  const page = await newPage({ width: 1280, height: 800 }, 'volunteer');
  await logIn(page, 'vol1@demo.test');
  await page.click('nav >> text=Outreach');
  await page.click(`#campaigns a[data-campaign="${CAMP}"]`);
  await page.waitForSelector('#outreach-claim');
  check((await page.textContent('#outreach-left')).includes('0 left in your batch'), 'nothing in her batch yet');
  check((await page.$('text=/send all/i')) === null, 'there is no "send all"');
  await page.click('#outreach-claim');
  await page.waitForSelector('#outreach-script');
  check((await page.textContent('#outreach-left')).startsWith('3 left'), 'she claimed a batch of three');

  // Three initial messages, one per Enter key; the third one edited.
  const names = ['Ana', 'Bo', 'friend'];
  for (let i = 0; i < 3; i++) {
    const box = page.locator('#outreach-script');
    await box.waitFor();
    check((await box.inputValue()) === scriptFor(names[i]), `the script is filled in for contact ${i + 1}`);
    check(
      await page.evaluate(() => document.activeElement && document.activeElement.id === 'outreach-script'),
      'the message box has the keyboard',
    );
    if (i === 0) await page.screenshot({ path: `${SHOTS}/outreach-send-desktop.png` });
    if (i === 2) {
      await box.press('End');
      await box.type(' :)');
    }
    const sent = sql("SELECT count(*) FROM messages WHERE purpose = 'outreach'");
    await page.waitForTimeout(600); // a person reads who is next (presses closer together are one gesture)
    await box.press('Enter');
    await page.waitForFunction(
      (n) => document.querySelector('#outreach-left strong')?.textContent === String(n),
      2 - i,
    );
    check(
      sql("SELECT count(*) FROM messages WHERE purpose = 'outreach'") === String(Number(sent) + 1),
      `Enter queued exactly one message (${i + 1})`,
    );
    const said = await page.textContent('#outreach-msg');
    check(
      said === ['Sent to Ana.', 'Sent to Bo.', 'Sent to •••0303.'][i],
      `the confirmation names who was texted, else the masked number (${said})`,
    );
  }
  check(
    sql("SELECT body FROM messages WHERE to_phone = '+14155550303'") === `${scriptFor('friend')} :)`,
    'her edit was sent, the fallback filled in',
  );
  await page.waitForSelector('text=Claim a batch');
  check(true, 'the batch is done and she can claim another');

  // A member answers through the carrier and the gateway: it shows up live.
  const r = await fetch(`${SIM}/sim/inbound`, {
    method: 'POST',
    body: JSON.stringify({ from: '+14155550301', to: '24680', body: 'Yes! Count me in' }),
  });
  const rj = await r.json();
  check(rj.gateway_status === 200, `the gateway took the reply (${JSON.stringify(rj)})`);
  await page.waitForSelector('#inbox-list a:has-text("Count me in")', { timeout: 60000 });
  check(true, 'the reply appears in her inbox live');
  await page.click('#inbox-list a:has-text("Count me in")');
  await page.waitForSelector('#outreach-panel');
  check((await page.textContent('#outreach-panel')).includes('Coming Saturday?'), "the campaign's question is shown");
  await page.click('#outreach-panel button:has-text("Yes")');
  await page.waitForSelector('#outreach-answer-msg >> text=Recorded: Yes');
  check(
    (await page.inputValue('#reply')) === 'Great, Ana! Doors open at 10.',
    'the next script is offered in the reply box',
  );
  await page.screenshot({ path: `${SHOTS}/outreach-conversation-desktop.png` });

  // Phone width.
  const phone = await newPage({ width: 390, height: 844 }, 'phone', {
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  await logIn(phone, 'vol2@demo.test');
  await phone.goto(`${BASE}/#/outreach/${CAMP}/send`);
  await phone.click('#outreach-claim');
  await phone.waitForSelector('#outreach-script');
  await phone.screenshot({ path: `${SHOTS}/outreach-send-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await page.waitForSelector('#outreach-panel');
  await page.screenshot({ path: `${SHOTS}/outreach-conversation-phone.png`, fullPage: true });

  // The lead's page: progress and the answers.
  const lead = await newPage({ width: 1280, height: 900 }, 'lead');
  await logInAt(lead, BASE, 'lead@demo.test', '.subnav'); // leads land on the campaigns
  await lead.goto(`${BASE}/#/outreach/${CAMP}`);
  await lead.waitForSelector('#oc-progress');
  const progress = await lead.textContent('#oc-progress');
  check(progress.includes('Texted3') && progress.includes('Replied1'), `the lead sees the progress (${progress})`);
  check((await lead.textContent('.outreach')).includes('Yes: 1'), 'and the answers');
  await lead.screenshot({ path: `${SHOTS}/outreach-lead-desktop.png`, fullPage: true });
  await lead.setViewportSize({ width: 390, height: 844 });
  await lead.screenshot({ path: `${SHOTS}/outreach-lead-phone.png`, fullPage: true });

  check(problems.length === 0, `no dialogs or page errors (${problems.join('; ')})`);
} finally {
  await browser.close();
}
