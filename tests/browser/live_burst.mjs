// SPDX-License-Identifier: AGPL-3.0-or-later
// live_burst.mjs — what a burst of live events costs, in a real browser:
// every view a stream event refreshes (a volunteer's inbox and open
// conversation, a lead's campaign page, a blast's progress) refetches
// once, with at most one more queued behind it, however many events come.
// The refetch is held at the network (page.route) while the burst
// arrives, so the count does not depend on how fast the machine is: one
// request while the burst lands, exactly one more after it is answered,
// then none. Also, at 390 px and 1280 px: the inbox's "Get more" count
// has a visible label, and outreach's results are styled as successes.
// Run by tests/integration/test_dashboard_live_browser.sh with DASH, ORG,
// V1, CONV, CAMP, BLAST and SCREENSHOTS.
import { check, launchChromium, logIn as logInAt, phonePage } from './harness.mjs';
import { execFileSync } from 'node:child_process';

const { DASH: BASE, ORG, V1, CONV, CAMP, BLAST, SCREENSHOTS: SHOTS } = process.env;
if (!BASE || !ORG || !V1 || !CONV || !CAMP || !BLAST || !SHOTS)
  throw new Error('DASH, ORG, V1, CONV, CAMP, BLAST and SCREENSHOTS must be set');
const PSQL = '/usr/lib/postgresql/15/bin/psql';
const sql = (q) =>
  execFileSync(PSQL, ['-XqAt', '-v', 'ON_ERROR_STOP=1', process.env.TOCSIN_DATABASE_URL, '-c', q], {
    encoding: 'utf8',
  }).trim();
const sleep = (ms) =>
  new Promise((r) => {
    setTimeout(r, ms);
  });
const problems = [];
const BURST = 40;

async function desktopPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`a dialog opened: ${d.message()}`);
    d.dismiss();
  });
  return page;
}

async function until(cond, what, ms = 60000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`FAIL: timed out waiting for ${what}`);
    await sleep(50);
  }
}

// Counts the stream's events of type the page has received.
async function countEvents(page, type) {
  await page.evaluate((t) => {
    window.__events = window.__events || {};
    window.__events[t] = 0;
    window.addEventListener(`tocsin:${t}`, () => {
      window.__events[t]++;
    });
  }, type);
  return () => page.evaluate((t) => window.__events[t], type);
}

// Holds every GET of path (exactly) at the network until released; the
// burst (fire) lands while the first is held. Checks one request in
// flight during the burst; after it is answered, one more when events came
// after it started (the page must end up showing the last of them), at
// most one more in any case, then none.
async function burstCosts(page, { path, type, fire, what }) {
  const held = [];
  let seen = 0;
  const matcher = (url) => url.pathname === path;
  await page.route(matcher, (route) => {
    if (route.request().method() !== 'GET') return route.continue();
    seen++;
    held.push(route);
    return undefined;
  });
  const received = await countEvents(page, type);
  await fire();
  await until(() => seen >= 1, `${what}: a refetch starts`);
  // Events still arriving after the refetch started must be fetched again.
  const late = (await received()) < BURST;
  await until(async () => (await received()) >= BURST, `${what}: the ${BURST} events reach the page`);
  check(seen === 1, `${what}: ${BURST} events, one refetch in flight (saw ${seen})`);
  held.shift().continue();
  if (late) {
    await until(() => seen >= 2, `${what}: the queued refetch follows the first`);
    held.shift()?.continue();
  }
  // Nothing else may come: wait well past the 500 ms spacing.
  await sleep(2000);
  check(
    seen <= 2 && (!late || seen === 2),
    `${what}: ${BURST} events cost ${seen} refetch(es): one in flight, ${late ? 'one' : 'at most one'} queued`,
  );
  for (const r of held.splice(0)) await r.continue();
  await page.unroute(matcher);
  return seen;
}

const notifyConversation = (conv, assignee) =>
  sql(`SELECT count(pg_notify('tocsin_conversations', json_build_object('org_id', ${ORG}, 'conversation_id', ${conv},
        'event', 'status', 'assignee_id', ${assignee}, 'n', g)::text)) FROM generate_series(1, ${BURST}) g`);

const browser = await launchChromium();
try {
  // --- a volunteer: her inbox and the open conversation ---
  const vol = await desktopPage(browser);
  await logInAt(vol, BASE, 'vol1@demo.test');
  const label = await vol.$eval('#claim-count', (s) => ({
    text: s.labels.length ? s.labels[0].textContent : '',
    visible: s.labels.length > 0 && s.labels[0].getBoundingClientRect().width > 0,
  }));
  check(
    label.text === 'How many' && label.visible,
    `1280: the "Get more" count is labelled "How many" (${label.text})`,
  );
  await vol.goto(`${BASE}/#/c/${CONV}`);
  // Both first reads done: the conversation, and the inbox's list and line.
  await vol.waitForSelector('#reply');
  await vol.waitForSelector(`#inbox-list a[data-conversation="${CONV}"]`);
  await vol.waitForSelector('#waiting:not(:empty)');
  await burstCosts(vol, {
    path: '/api/conversations/waiting',
    type: 'conversation',
    fire: () => notifyConversation(CONV, V1),
    what: 'the inbox',
  });
  await burstCosts(vol, {
    path: `/api/conversations/${CONV}`,
    type: 'conversation',
    fire: () => notifyConversation(CONV, V1),
    what: 'the open conversation',
  });

  // --- a lead: the campaign page and a blast's progress ---
  const lead = await desktopPage(browser);
  await logInAt(lead, BASE, 'lead@demo.test', 'text=Outreach');
  await lead.goto(`${BASE}/#/outreach/${CAMP}`);
  await lead.waitForSelector('#oc-progress');
  await burstCosts(lead, {
    path: `/api/outreach/campaigns/${CAMP}`,
    type: 'conversation',
    fire: () => notifyConversation(CONV, V1),
    what: 'the campaign page',
  });
  await lead.goto(`${BASE}/#/blasts/${BLAST}`);
  await lead.waitForSelector('#blast-state');
  // The dashboard sends a blast's event at most once a second (events.c),
  // so a burst this size only happens client-side: the same window
  // events live.js dispatches for each event on the stream.
  await burstCosts(lead, {
    path: `/api/blasts/${BLAST}`,
    type: 'blast',
    fire: () =>
      lead.evaluate(
        ({ id, n }) => {
          for (let i = 0; i < n; i++)
            window.dispatchEvent(new CustomEvent('tocsin:blast', { detail: { blast_id: id, n: i } }));
        },
        { id: Number(BLAST), n: BURST },
      ),
    what: 'the blast progress',
  });
  // Another blast's events cost nothing.
  let other = 0;
  await lead.route(
    (u) => u.pathname.startsWith('/api/blasts/'),
    (r) => {
      other++;
      return r.continue();
    },
  );
  await lead.evaluate(() => {
    for (let i = 0; i < 10; i++)
      window.dispatchEvent(new CustomEvent('tocsin:blast', { detail: { blast_id: 999999, n: i } }));
  });
  await sleep(1500);
  check(other === 0, `another blast's events refetch nothing (saw ${other})`);

  // --- a volunteer at 390 px: the label, and outreach's success style ---
  const phone = await phonePage(browser, problems);
  await logInAt(phone, BASE, 'vol2@demo.test');
  const box = await phone.$eval('label[for=claim-count]', (l) => {
    const r = l.getBoundingClientRect();
    return { w: r.width, right: r.right, vw: window.innerWidth };
  });
  check(
    box.w > 0 && box.right <= box.vw,
    `390: the "How many" label shows, inside the screen (${JSON.stringify(box)})`,
  );
  await phone.screenshot({ path: `${SHOTS}/live-inbox-phone.png` });
  await phone.goto(`${BASE}/#/outreach/${CAMP}/send`);
  await phone.click('#outreach-claim');
  await phone.waitForSelector('#outreach-msg .flash.success:has-text("You took")');
  check(true, '390: claiming a batch is confirmed in the success style');
  await phone.waitForSelector('#outreach-send');
  await phone.screenshot({ path: `${SHOTS}/live-outreach-phone.png` });

  check(problems.length === 0, `no page errors (${problems.join('; ')})`);
} finally {
  await browser.close();
}
