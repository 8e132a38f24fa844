// SPDX-License-Identifier: AGPL-3.0-or-later
// inbox_ux.mjs — the volunteer inbox's context, live state and hand-offs
// in a real browser, a volunteer at 1280 px and another at 390 px, a lead
// at both: the blast above a member's reply, an answer's state flipping
// to sent and delivered with no reload, the "N waiting" line following the
// pool, a reassignment that asks the lead first and leaves the volunteer
// who lost it her draft and the name of who took it, leads landing on the
// campaigns, the top bar's "you are here", notes saved with a button.
// Run by tests/integration/test_dashboard_inbox_ux_browser.sh (a worker
// and the carrier simulator are running).
import { check, launchChromium, phonePage } from './harness.mjs';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const BASE = process.env.DASH;
const SHOTS = process.env.SCREENSHOTS;
const SENDER = process.env.SENDER;
const PSQL = '/usr/lib/postgresql/15/bin/psql';
if (!BASE || !SHOTS || !SENDER) throw new Error('DASH, SENDER and SCREENSHOTS must be set');
mkdirSync(SHOTS, { recursive: true });

const sql = (q) =>
  execFileSync(PSQL, ['-XqAt', '-v', 'ON_ERROR_STOP=1', process.env.TOCSIN_DATABASE_URL, '-c', q], {
    encoding: 'utf8',
  }).trim();
const problems = [];

async function desktopPage(who) {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.on('dialog', (d) => {
    problems.push(`${who}: a dialog opened: ${d.message()}`);
    d.dismiss();
  });
  page.on('pageerror', (e) => problems.push(`${who} page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/40[14]/.test(m.text())) problems.push(`${who} console: ${m.text()}`);
  });
  return page;
}

async function logIn(page, email) {
  await page.goto(`${BASE}/`);
  await page.fill('#email', email);
  await page.fill('#password', 'tocsin-demo');
  await page.click('button[type=submit]');
}

// The state shown under the volunteer's answer `body`.
const stateOf = (page, body) => page.getAttribute(`.msg.out:has-text("${body}")`, 'data-state');

async function waitForState(page, body, want, what) {
  await page.waitForSelector(`.msg.out[data-state="${want}"]:has-text("${body}")`, { timeout: 30000 });
  check(true, what);
}

// Sends an answer from the composer and follows it to "delivered" (the
// worker sends it, then a receipt arrives), never reloading the page.
async function answerAndFollow(page, body, tag) {
  await page.evaluate(() => {
    window.__noReload = 1;
  });
  await page.fill('#reply', body);
  await page.click('#send');
  await page.waitForSelector(`.msg.out:has-text("${body}")`);
  const first = await stateOf(page, body);
  check(first === 'queued' || first === 'sending' || first === 'sent', `${tag}: the answer shows at once (${first})`);
  await waitForState(page, body, 'sent', `${tag}: it turns "sent" when the worker sends it, no reload`);
  const pid = sql(`SELECT provider_message_id FROM messages WHERE body = '${body}'`);
  check(
    sql(`SELECT tocsin_apply_receipt('twilio', '${pid}', ${SENDER}, 'delivered', NULL, NULL)`) === 'applied',
    `${tag}: the carrier's receipt is applied`,
  );
  await waitForState(page, body, 'delivered', `${tag}: and "delivered" when the receipt comes, no reload`);
  check(
    (await page.textContent(`.msg.out:has-text("${body}") .meta`)).includes('delivered'),
    `${tag}: the label says delivered`,
  );
  check(await page.evaluate(() => window.__noReload === 1), `${tag}: the page was never reloaded`);
}

// Where the blast sits relative to the member's reply in #thread.
async function contextAbove(page, reply, tag) {
  await page.waitForSelector(`#thread .msg.in:has-text("${reply}")`);
  const order = await page.$$eval('#thread > li', (lis) =>
    lis.map((li) => ({
      kind: li.dataset.kind,
      text: li.textContent,
    })),
  );
  const b = order.findIndex((m) => m.kind === 'blast');
  const r = order.findIndex((m) => m.text.includes(reply));
  check(b >= 0 && b < r, `${tag}: the blast is above the reply (${b} < ${r})`);
  check(order[b].text.includes('Blast: Rally volunteers'), `${tag}: marked as the blast to its list`);
  check(order[b].text.includes('Rally Saturday at City Hall!'), `${tag}: with its text`);
  check(order[b].text.includes('delivered'), `${tag}: and its delivery state`);
}

const browser = await launchChromium();
try {
  const bea = sql(
    "SELECT c.id FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE ct.phone = '+14155550302'",
  );
  const v1 = sql("SELECT id FROM users WHERE email = 'vol1@demo.test'");
  const v2 = sql("SELECT id FROM users WHERE email = 'vol2@demo.test'");

  // --- a volunteer at 1280 px ---
  const vol = await desktopPage('vol1');
  await logIn(vol, 'vol1@demo.test');
  await vol.waitForSelector('text=My conversations');
  check(
    new URL(vol.url()).hash === '' || new URL(vol.url()).hash === '#/',
    `a volunteer lands on the inbox (${vol.url()})`,
  );
  check(
    (await vol.getAttribute('nav a[href="#/"]', 'aria-current')) === 'page',
    'the top bar marks Inbox as the current page',
  );
  await vol.waitForSelector('#waiting:has-text("2 members waiting")');
  await vol.click('#get-more');
  await vol.waitForSelector('.flash.success:has-text("You took 2")');
  check(true, 'a claim is confirmed in the success style');
  check(
    (await vol.$eval('.flash.success', (e) => getComputedStyle(e).backgroundColor)) !==
      (await vol.evaluate(() => {
        const p = document.createElement('p');
        p.className = 'flash';
        document.body.append(p);
        const c = getComputedStyle(p).backgroundColor;
        p.remove();
        return c;
      })),
    'success looks unlike a warning',
  );
  await vol.waitForSelector('#waiting:has-text("Nobody is waiting")');

  // A member writes in: the waiting line follows with no reload.
  sql(
    `SELECT tocsin_receive_inbound('twilio', 'SMux-new', ${SENDER}, '+14155550399', 'Hello? Anyone there?', 0, 'reply', NULL, false, NULL, NULL, NULL)`,
  );
  await vol.waitForSelector('#waiting:has-text("1 member waiting")', { timeout: 60000 });
  check(true, 'the "N waiting" line updates live when a member writes in');

  // A burst of 30 events costs a couple of refreshes, not 30.
  const mine = sql(`SELECT id FROM conversations WHERE assignee_id = ${v1} ORDER BY id LIMIT 1`);
  const org = sql('SELECT org_id FROM senders LIMIT 1');
  let refreshes = 0;
  const first = vol.waitForRequest((r) => r.url().endsWith('/api/conversations/waiting'), { timeout: 20000 });
  const counter = (r) => {
    if (r.url().endsWith('/api/conversations/waiting')) refreshes++;
  };
  vol.on('request', counter);
  sql(`SELECT pg_notify('tocsin_conversations', json_build_object('org_id', ${org}, 'conversation_id', ${mine},
        'event', 'status', 'assignee_id', ${v1}, 'n', g)::text) FROM generate_series(1, 30) g`);
  // At least one refresh comes (however loaded the machine); then, past
  // the spacing, no more than a couple (live_burst.mjs counts it exactly).
  await first;
  await vol.waitForTimeout(1500);
  vol.off('request', counter);
  check(
    refreshes >= 1 && refreshes <= 3,
    `30 events in a burst refresh the inbox ${refreshes} time(s), at most ~2 a second`,
  );

  // The unnamed member: the blast above the reply, the number once.
  await vol.click('#inbox-list a:has-text("0301")');
  await vol.waitForSelector('#reply');
  await contextAbove(vol, 'what time is the rally?', '1280');
  const head = await vol.textContent('.conv-head');
  check(head.split('•••0301').length - 1 === 1, `the masked number appears once in the header ("${head}")`);
  check((await vol.$('#canned')) === null, 'no empty canned-responses menu on the composer');
  await vol.fill('#note', 'Asked about the time');
  await vol.click('#save-note');
  await vol.waitForSelector('#note-status:has-text("Saved")');
  check(
    (await vol.textContent('.notes')).includes('Asked about the time'),
    'a note is saved with its button and says "Saved"',
  );
  await vol.screenshot({ path: `${SHOTS}/inbox-ux-context-desktop.png` });
  await answerAndFollow(vol, 'We start at 10am at City Hall.', '1280');
  await vol.screenshot({ path: `${SHOTS}/inbox-ux-delivered-desktop.png` });

  // --- reassignment: the volunteer's draft and the lead's confirm ---
  await vol.click(`#inbox-list a[data-conversation="${bea}"]`);
  await vol.waitForSelector('#reply');
  await contextAbove(vol, 'Can I bring my kids?', '1280 (Bea)');
  const draft = 'Yes, kids are welcome! There will be';
  await vol.fill('#reply', draft);

  const lead = await phonePage(browser, problems, /40[14]/);
  await logIn(lead, 'lead@demo.test');
  await lead.waitForURL(/#\/blasts$/);
  check(true, 'a lead lands on the campaigns after logging in');
  check(
    (await lead.getAttribute('nav a[href="#/blasts"]', 'aria-current')) === 'page',
    'the top bar marks Blasts (the campaigns)',
  );
  const who = await lead.$eval('.top .who', (e) => {
    const r = e.getBoundingClientRect();
    return {
      text: e.textContent,
      visible: r.width > 0 && r.height > 0,
      right: r.right,
      whole: e.scrollWidth <= e.clientWidth,
    };
  });
  check(
    who.visible && who.whole && who.text === 'Lee Lead' && who.right <= 390,
    `the user's name shows whole at 390 px (${JSON.stringify(who)})`,
  );
  check(await lead.evaluate(() => document.documentElement.scrollWidth <= 390), 'the top bar fits a 390 px screen');
  await lead.goto(`${BASE}/#/team`);
  const pick = `select[data-conversation="${bea}"]`;
  await lead.waitForSelector(pick);
  check((await lead.getAttribute('nav a[href="#/team"]', 'aria-current')) === 'page', 'the top bar marks Team');
  await lead.selectOption(pick, v2);
  await lead.waitForSelector('.assign-confirm:not([hidden])');
  check(sql(`SELECT assignee_id FROM conversations WHERE id = ${bea}`) === v1, 'picking a name reassigns nothing yet');
  await lead.screenshot({ path: `${SHOTS}/inbox-ux-confirm-phone.png`, fullPage: true });
  await lead.click('.assign-confirm button[data-confirm]');
  await lead.waitForSelector('.flash.success:has-text("Reassigned Bea to Vic Volunteer.")');
  check(sql(`SELECT assignee_id FROM conversations WHERE id = ${bea}`) === v2, 'confirming reassigns');
  await lead.waitForTimeout(1500); // live refreshes of the team come and go
  check(await lead.isVisible('.flash.success:has-text("Reassigned Bea")'), 'the success message stays');
  await lead.click('.flash .dismiss');
  check(!(await lead.isVisible('.flash')), 'until dismissed');

  // The volunteer who lost Bea: who took it, her draft, the way back.
  await vol.waitForSelector('#gone-why:has-text("Reassigned to Vic Volunteer by Lee Lead.")', { timeout: 60000 });
  check(true, 'the volunteer learns who took the conversation and who moved it');
  check((await vol.inputValue('#kept-draft')) === draft, 'her draft is kept and shown');
  await vol.click('#copy-draft');
  await vol.waitForSelector('#copy-status:not(:empty)');
  await vol.screenshot({ path: `${SHOTS}/inbox-ux-reassigned-desktop.png` });
  await vol.click('#back-to-inbox');
  await vol.waitForSelector('#inbox-list');
  check(['', '#/'].includes(new URL(vol.url()).hash), 'a button leads back to the inbox');
  check(!(await vol.isVisible(`#inbox-list a[data-conversation="${bea}"]`)), 'Bea has left her inbox');

  // --- the other volunteer at 390 px gets Bea, with its context ---
  sql("UPDATE users SET display_name = 'Victoria Alexandra Montgomery-Villanueva' WHERE email = 'vol2@demo.test'");
  const vol2 = await phonePage(browser, problems, /40[14]/);
  await logIn(vol2, 'vol2@demo.test');
  await vol2.waitForSelector('text=My conversations');
  const long = await vol2.$eval('.top .who', (e) => ({
    w: e.getBoundingClientRect().width,
    cut: e.scrollWidth > e.clientWidth,
    ellipsis: getComputedStyle(e).textOverflow,
  }));
  check(
    long.w > 0 && long.cut && long.ellipsis === 'ellipsis',
    `a long name shows truncated at 390 px (${JSON.stringify(long)})`,
  );
  check(await vol2.evaluate(() => document.documentElement.scrollWidth <= 390), 'and the page stays 390 px wide');
  await vol2.waitForSelector(`#inbox-list a[data-conversation="${bea}"]`);
  await vol2.click(`#inbox-list a[data-conversation="${bea}"]`);
  await vol2.waitForSelector('#reply');
  await contextAbove(vol2, 'Can I bring my kids?', '390');
  check((await vol2.inputValue('#reply')) === '', 'the draft stays with the volunteer who wrote it');
  await vol2.screenshot({ path: `${SHOTS}/inbox-ux-context-phone.png`, fullPage: true });
  await answerAndFollow(vol2, 'Kids are welcome, bring snacks!', '390');

  // The lead gives Bea back, at 1280 px this time (confirm again); the
  // first volunteer's draft comes back with it.
  await lead.setViewportSize({ width: 1280, height: 800 });
  await lead.goto(`${BASE}/#/team`);
  await lead.waitForSelector(pick);
  await lead.selectOption(pick, v1);
  await lead.waitForSelector('.assign-confirm:not([hidden])');
  check(sql(`SELECT assignee_id FROM conversations WHERE id = ${bea}`) === v2, 'at 1280 px too, a pick only asks');
  await lead.click('.assign-confirm button:has-text("Cancel")');
  check(sql(`SELECT assignee_id FROM conversations WHERE id = ${bea}`) === v2, 'and Cancel changes nothing');
  await lead.selectOption(pick, v1);
  await lead.click('.assign-confirm button[data-confirm]');
  await lead.waitForSelector('.flash.success:has-text("Reassigned Bea to Val Volunteer.")');
  await vol2.waitForSelector('#gone-why:has-text("Reassigned to Val Volunteer by Lee Lead.")', { timeout: 60000 });
  check(true, 'at 390 px the volunteer who lost it is told who took it');
  check((await vol2.$('#kept-draft')) === null, 'with no draft to copy when she had none');
  await vol2.screenshot({ path: `${SHOTS}/inbox-ux-reassigned-phone.png`, fullPage: true });
  await vol.waitForSelector(`#inbox-list a[data-conversation="${bea}"]`, { timeout: 60000 });
  await vol.click(`#inbox-list a[data-conversation="${bea}"]`);
  await vol.waitForSelector('#reply');
  check(
    (await vol.inputValue('#reply')) === draft,
    'her draft is back in the composer when the conversation comes back',
  );
  await contextAbove(vol, 'Can I bring my kids?', '1280 (Bea back)');
  check(
    (await vol.textContent('#thread')).includes('Kids are welcome, bring snacks!'),
    "and the other volunteer's answer is in the thread",
  );

  check(problems.length === 0, `no dialogs, page errors or CSP violations (${problems.join('; ')})`);
} finally {
  await browser.close();
}
