// SPDX-License-Identifier: AGPL-3.0-or-later
// outreach.js — peer-to-peer outreach pages (#/outreach...): the campaign
// list; a volunteer's sending view (claim a batch, the next contact's
// filled-in script in an editable box, send ONE message per click or Enter
// key, skip, what is left — there is no "send all"); a lead's campaign page
// (create, audience upload, steps, progress, release, exports); and the
// panel in a conversation that came from a campaign (its question, answer
// buttons, the next script put in the reply box).
import { api } from './api.js';
import { h, replace } from './dom.js';
import { errorText, errorBox, say, segmentCounter, counterText } from './notice.js';
import { href } from './routes.js';
import { coalesced, listen, whileShown } from './live.js';
import { fillFields, scriptError } from './fields.js';
import { gestureGate } from './gesture.js';

const isLead = (me) => me.role !== 'volunteer';

// #/outreach, #/outreach/ID (a lead's campaign page), #/outreach/ID/send.
// r: the route (routes.js); a volunteer's campaign page is its sending view.
export async function outreachPane(me, r) {
  const id = r.params.id;
  if (r.name === 'campaign-send' || (r.name === 'campaign' && !isLead(me))) return sendingView(id);
  if (r.name === 'campaign') return campaignPage(id);
  return campaignList(me);
}

// --- the list ---
async function campaignList(me) {
  const pane = h('section', { class: 'outreach' }, h('h2', {}, 'Outreach'));
  let list;
  try {
    list = await api('GET', '/api/outreach/campaigns');
  } catch (e) {
    pane.append(errorBox(errorText(e)));
    return pane;
  }
  pane.append(
    h(
      'p',
      { class: 'muted' },
      isLead(me)
        ? 'Campaigns text people who have not signed up: a volunteer sends each first message by hand.'
        : 'Text people one by one for a campaign. Their replies come to your inbox.',
    ),
  );
  pane.append(
    h(
      'ul',
      { class: 'list', id: 'campaigns' },
      list.length
        ? list.map((c) =>
            h(
              'li',
              { class: 'item' },
              h(
                'a',
                { href: href(isLead(me) ? 'campaign' : 'campaign-send', { id: c.id }), 'data-campaign': c.id },
                h('span', { class: 'name' }, c.name),
                h('span', { class: 'time' }, c.state === 'draft' ? 'draft: not started' : c.state),
                h(
                  'span',
                  { class: 'preview' },
                  c.progress
                    ? `${c.progress.pending} to text · ${c.progress.texted} texted · ${c.progress.replied} replied · ${c.progress.opted_out} opted out`
                    : `${c.in_my_batch} in your batch`,
                ),
              ),
            ),
          )
        : h(
            'li',
            { class: 'empty' },
            isLead(me) ? 'No campaign yet: create one below.' : 'No active campaign right now.',
          ),
    ),
  );
  if (isLead(me)) pane.append(await createForm());
  return pane;
}

async function createForm() {
  const senders = await api('GET', '/api/outreach/senders').catch(() => []);
  const name = h('input', { id: 'oc-name', required: true, maxlength: 200 });
  const sender = h(
    'select',
    { id: 'oc-sender' },
    senders.map((s) => h('option', { value: s.id }, `${s.address} (${s.kind.replace('_', ' ')})`)),
  );
  const script = h('textarea', {
    id: 'oc-script',
    rows: 3,
    maxlength: 1600,
    required: true,
    placeholder: 'Hi {first_name|there}, this is … from … Can we count on you Saturday?',
  });
  const preview = h('div', { class: 'preview-box', id: 'oc-preview', 'aria-live': 'polite' });
  const showPreview = () => replace(preview, scriptPreview(script.value));
  script.addEventListener('input', showPreview);
  showPreview();
  const batch = h('input', { id: 'oc-batch', type: 'number', min: 1, max: 500, value: 25 });
  // Empty hours: the org's texting hours (an admin's Settings page).
  const from = h('input', { id: 'oc-from', type: 'number', min: 8, max: 20, placeholder: 'org' });
  const to = h('input', { id: 'oc-to', type: 'number', min: 9, max: 21, placeholder: 'org' });
  const hour = (el) => (el.value === '' ? undefined : Number(el.value));
  const msg = h('div', {});
  return h(
    'form',
    {
      class: 'card stack',
      id: 'oc-create',
      onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          const c = await api('POST', '/api/outreach/campaigns', {
            name: name.value,
            sender_id: Number(sender.value),
            script: script.value,
            batch_size: Number(batch.value),
            hours_start: hour(from),
            hours_end: hour(to),
          });
          location.hash = href('campaign', { id: c.id });
        } catch (e) {
          say(msg, errorText(e), 'error');
        }
      },
    },
    h('h3', {}, 'New campaign'),
    h('label', { for: 'oc-name' }, 'Name'),
    name,
    h('label', { for: 'oc-sender' }, 'Send from'),
    sender,
    h('label', { for: 'oc-script' }, "First message ({first_name|fallback} fills in each contact's field)"),
    script,
    preview,
    h(
      'div',
      { class: 'row3' },
      h('label', {}, 'Batch size', batch),
      h('label', {}, 'From (their time)', from),
      h('label', {}, 'Until', to),
    ),
    h(
      'p',
      { class: 'muted' },
      "Texting hours, in the contact's own time, can only be narrower than 8:00–21:00 (20:00 for Florida and Oklahoma numbers); left empty, they are the org's (Settings).",
    ),
    h(
      'p',
      { class: 'muted' },
      'The campaign starts as a draft that volunteers do not see: add its audience, then start it.',
    ),
    msg,
    h('button', { class: 'primary', type: 'submit' }, 'Create campaign'),
  );
}

// What contacts receive, filled in for a sample contact and for one with
// no name on file, each with its length in characters and texts (the
// blast page's counter, lib/sms's rules).
const SAMPLES = [
  ['Ana Ruiz gets', { first_name: 'Ana', last_name: 'Ruiz', zip: '94110' }],
  ['Someone with no name on file gets', {}],
];

function scriptPreview(text) {
  if (!text.trim()) return h('p', { class: 'muted' }, 'Write the first message to see what contacts receive.');
  const err = scriptError(text);
  if (err) return errorBox(`This message cannot be used: it ${err}.`);
  const shown = SAMPLES.map(([who, c]) => [who, fillFields(text, c)]);
  // The same text for both: one preview is enough.
  return (shown[0][1] === shown[1][1] ? shown.slice(0, 1).map(([, t]) => ['Each contact gets', t]) : shown).map(
    ([who, t], i) =>
      h(
        'div',
        { class: 'sample' },
        h('p', { class: 'muted' }, `${who}:`),
        h('div', { class: 'msg out' }, h('p', { class: 'body', 'data-sample': i }, t)),
        h('p', { class: 'counter', id: i === 0 ? 'oc-counter' : null }, counterText(t)),
      ),
  );
}

// --- a volunteer's sending view ---
async function sendingView(id) {
  const pane = h('section', { class: 'outreach sending', id: 'outreach-send-view' });
  const msg = h('div', { id: 'outreach-msg' });
  const body = h('div', {});
  pane.append(h('a', { href: href('outreach'), class: 'muted' }, '‹ Campaigns'), msg, body);
  // One send per gesture, made after the contact it goes to was shown:
  // the second click of a double click (which lands on the next contact's
  // Send button) and a held Enter key's repeats send nothing.
  const sendGate = gestureGate();
  const skipGate = gestureGate();

  async function load(focus) {
    let next;
    try {
      next = await api('GET', `/api/outreach/campaigns/${id}/next`);
    } catch (e) {
      replace(body, errorBox(errorText(e)));
      return;
    }
    replace(body, view(next));
    sendGate.arm();
    skipGate.arm();
    if (focus) document.getElementById('outreach-script')?.focus();
  }

  async function claim() {
    try {
      const r = await api('POST', `/api/outreach/campaigns/${id}/claim`);
      if (r.claimed) say(msg, `You took ${r.claimed} contact${r.claimed > 1 ? 's' : ''} to text.`, 'success');
      else say(msg, 'Nobody is left to text in this campaign.', 'warning');
      await load(true);
    } catch (e) {
      say(msg, errorText(e), 'error');
    }
  }

  function view(next) {
    const left = h(
      'p',
      { class: 'left', id: 'outreach-left', 'aria-live': 'polite' },
      h('strong', {}, next.left),
      ` left in your batch · ${next.pending} ${next.left ? 'more ' : ''}${next.pending === 1 ? 'person' : 'people'}` +
        `${next.left ? ' to text after it' : ' left to text'}`,
    );
    // A new batch once this one is done: one batch at a time, and only
    // when there is someone to claim in a campaign that is live.
    const live = next.campaign.state === 'active';
    const why = !live
      ? next.campaign.state === 'draft'
        ? 'This campaign has not started yet: its lead starts it.'
        : 'This campaign is paused: nobody can be texted right now.'
      : next.pending
        ? 'Claim a batch to start texting.'
        : "Nobody is left to text: everyone in this campaign has been texted or is in someone's batch.";
    const head = h(
      'div',
      { class: 'inbox-head' },
      h('h2', {}, next.campaign.name),
      next.contact
        ? null
        : h(
            'button',
            {
              class: 'primary',
              id: 'outreach-claim',
              onclick: claim,
              disabled: !live || !next.pending,
              'aria-describedby': 'outreach-why',
            },
            !live
              ? next.campaign.state === 'draft'
                ? 'Not started'
                : 'Paused'
              : next.pending
                ? 'Claim a batch'
                : 'Nobody left to text',
          ),
    );
    if (!next.contact) return [head, left, h('p', { class: 'card muted', id: 'outreach-why' }, why)];
    const c = next.contact;
    const box = h('textarea', {
      id: 'outreach-script',
      rows: 5,
      maxlength: 1600,
      value: c.script,
      'aria-label': `Message to ${c.first_name || 'this contact'}`,
    });
    const counter = segmentCounter(box, { id: 'outreach-counter' });
    const send = h(
      'button',
      {
        class: 'primary',
        id: 'outreach-send',
        type: 'button',
        onclick: (ev) => {
          if (sendGate.take(ev)) sendOne();
        },
      },
      'Send',
    );
    let busy = false;
    async function sendOne() {
      if (busy || !box.value.trim()) return;
      busy = true;
      send.disabled = true;
      try {
        await api('POST', `/api/outreach/campaigns/${id}/send`, { contact_id: c.id, body: box.value });
        say(msg, `Sent to ${c.first_name || c.phone}.`, 'success');
        await load(true);
      } catch (e) {
        say(msg, errorText(e), 'error');
        if (e.code === 'outside_hours' || e.code === 'opted_out' || e.code === 'not_claimed') await load(true);
        else {
          busy = false;
          send.disabled = false;
        } // too_soon among them: the same contact, a new click
      }
    }
    // Enter sends this one message (a new press each time: holding it down
    // sends nothing more); Shift+Enter starts a new line.
    box.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        if (sendGate.take(ev)) sendOne();
      }
    });
    return [
      head,
      left,
      h(
        'form',
        { class: 'card stack', onsubmit: (ev) => ev.preventDefault() },
        h(
          'p',
          { class: 'to' },
          'To ',
          h('strong', { id: 'outreach-contact' }, [c.first_name, c.last_name].filter(Boolean).join(' ') || 'a contact'),
          ` · ${c.phone}`,
          c.in_hours ? null : h('span', { class: 'badge warn' }, 'outside their texting hours'),
        ),
        box,
        h(
          'div',
          { class: 'row' },
          counter.el,
          h(
            'div',
            { class: 'claim' },
            h(
              'button',
              {
                type: 'button',
                id: 'outreach-skip',
                onclick: async (ev) => {
                  if (!skipGate.take(ev)) return;
                  try {
                    await api('POST', `/api/outreach/campaigns/${id}/skip`, { contact_id: c.id });
                    await load(true);
                  } catch (e) {
                    say(msg, errorText(e), 'error');
                  }
                },
              },
              'Skip',
            ),
            send,
          ),
        ),
        h(
          'p',
          { class: 'muted' },
          'Press Enter to send this one message (Shift+Enter for a new line). Edit it first if you like.',
        ),
      ),
    ];
  }

  await load(false);
  return pane;
}

// --- a lead's campaign page ---
// Built once: the forms stay on the page and every action's result shows
// in the same message area. The parts that change (state, progress,
// answers, the questions) are redrawn from the server after each action,
// and whenever a conversation event arrives on the live stream (a
// volunteer's send, a reply, an opt-out), at most twice a second.
async function campaignPage(id) {
  const pane = h('section', { class: 'outreach', id: 'oc-page' });
  const msg = h('div', { id: 'oc-msg' });
  const top = h('div', {});
  const progress = h('div', {});
  const stepList = h('div', {});
  let c = null;

  function draw(data) {
    c = data.campaign;
    const p = data.progress;
    replace(
      top,
      h(
        'div',
        { class: 'inbox-head' },
        h('h2', {}, c.name),
        h('span', { class: 'badge', id: 'oc-state-badge' }, c.state),
      ),
      h(
        'p',
        { class: 'muted' },
        `Texting hours ${c.hours_start}:00–${c.hours_end}:00 in each contact's time · batches of ${c.batch_size}`,
      ),
      h('blockquote', { class: 'script' }, c.script),
    );
    replace(
      progress,
      h(
        'dl',
        { class: 'progress', id: 'oc-progress' },
        [
          ['Not yet texted', p.pending],
          ['In batches', p.claimed],
          ['Texted', p.texted],
          ['Replied', p.replied],
          ['Opted out', p.opted_out],
        ].map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
      ),
      p.answers.length
        ? h(
            'div',
            { class: 'card', id: 'oc-answers' },
            p.answers.map((a) => [
              h('h3', {}, a.question),
              h(
                'ul',
                {},
                (a.choices || []).map((x) => h('li', {}, `${x.label}: ${x.count}`)),
              ),
            ]),
          )
        : null,
    );
    // A draft is started once it has an audience; then paused and resumed.
    const empty = c.state === 'draft' && p.total === 0;
    replace(stateBtn, { draft: 'Start campaign', active: 'Pause', paused: 'Resume' }[c.state] || 'Reopen');
    stateBtn.className = c.state === 'draft' ? 'primary' : '';
    stateBtn.disabled = empty;
    replace(
      stateHint,
      c.state === 'draft'
        ? empty
          ? 'A draft: volunteers do not see it. Upload its audience, then start it.'
          : 'A draft: volunteers do not see it until you start it.'
        : c.state === 'paused'
          ? 'Paused: volunteers cannot claim or send.'
          : null,
    );
    replace(
      stepList,
      c.steps.length
        ? h(
            'ol',
            { id: 'oc-steps' },
            c.steps.map((s) => h('li', {}, s.question, ' — ', s.choices.map((x) => x.label).join(' / '))),
          )
        : null,
    );
  }

  async function refresh() {
    draw(await api('GET', `/api/outreach/campaigns/${id}`));
  }

  // Runs an action, redraws the page with the counts of now, then shows
  // its result (success) or error next to what was used (out: the form's
  // own line, or the page's message area), scrolled into view on a small
  // screen. The result is shown once the page is redrawn, so what it says
  // and the counts beside it agree.
  async function act(fn, out = msg) {
    let text,
      kind = 'success';
    try {
      text = await fn();
    } catch (e) {
      text = errorText(e);
      kind = 'error';
    }
    try {
      await refresh();
    } catch (e) {
      if (kind !== 'error') {
        text = errorText(e);
        kind = 'error';
      }
    }
    if (text) say(out, text, kind);
  }

  const file = h('input', { type: 'file', id: 'oc-file', accept: '.csv,text/csv' });
  const uploadMsg = h('div', { id: 'oc-upload-msg' });
  const upload = h(
    'form',
    {
      class: 'card stack',
      id: 'oc-upload',
      onsubmit: (ev) => {
        ev.preventDefault();
        if (!file.files.length) return say(uploadMsg, 'Choose a CSV file first.', 'error');
        return act(async () => {
          const text = await file.files[0].text();
          const r = await api('POST', `/api/outreach/campaigns/${id}/audience`, {
            csv: text,
            filename: file.files[0].name,
          });
          file.value = '';
          return `${r.targeted} ${r.targeted === 1 ? 'person' : 'people'} added (${r.rejected} row${r.rejected === 1 ? '' : 's'} rejected${r.rejections.length ? `: line ${r.rejections[0].line}, ${r.rejections[0].reason}` : ''}).${r.region ? ` Numbers without +country were read as ${r.region}.` : ''}`;
        }, uploadMsg);
      },
    },
    h('h3', {}, 'Audience'),
    h(
      'p',
      { class: 'muted' },
      'A CSV with a phone column (and first_name, last_name, zip, timezone, any others). These contacts are not subscribed to anything and never get a blast.',
    ),
    file,
    h('button', { type: 'submit' }, 'Upload'),
    uploadMsg,
  );

  const question = h('input', { id: 'oc-question', maxlength: 500, placeholder: 'Can they come Saturday?' });
  const answers = answerRows();
  const stepMsg = h('div', { id: 'oc-step-msg' });
  const step = h(
    'form',
    {
      class: 'card stack',
      id: 'oc-step',
      onsubmit: (ev) => {
        ev.preventDefault();
        const list = answers.read();
        if (!question.value.trim()) return say(stepMsg, 'Write the question first.', 'error');
        if (typeof list === 'string') return say(stepMsg, list, 'error');
        return act(async () => {
          await api('POST', `/api/outreach/campaigns/${id}/steps`, { question: question.value.trim(), choices: list });
          const added = `Question added: ${question.value.trim()}`;
          question.value = '';
          answers.reset();
          return added;
        }, stepMsg);
      },
    },
    h('h3', {}, 'Follow-up questions'),
    stepList,
    h('label', { for: 'oc-question' }, 'Question'),
    question,
    answers.el,
    h('button', { type: 'submit' }, 'Add question'),
    stepMsg,
  );

  const stateBtn = h('button', {
    id: 'oc-state',
    onclick: () =>
      act(async () => {
        const r = await api('POST', `/api/outreach/campaigns/${id}`, {
          state: c.state === 'active' ? 'paused' : 'active',
        });
        return r.state === 'active'
          ? 'The campaign is live: volunteers can claim a batch and text.'
          : 'The campaign is paused.';
      }),
  });
  const stateHint = h('p', { class: 'muted', id: 'oc-state-hint' });

  try {
    await refresh();
  } catch (e) {
    pane.append(errorBox(errorText(e)));
    return pane;
  }

  // Live counts while this page is on screen: a burst of events (a
  // volunteer's sends, replies) costs one read in flight and one queued,
  // at most two a second.
  const live = coalesced(() => refresh(), 500);
  listen('conversation', live, whileShown(pane));

  pane.append(
    h('a', { href: href('outreach'), class: 'muted' }, '‹ Campaigns'),
    top,
    stateHint,
    msg,
    progress,
    h(
      'div',
      { class: 'row wrap' },
      h('a', { class: 'button', href: `#/outreach/${id}/send` }, 'Text contacts'),
      h(
        'button',
        {
          id: 'oc-release',
          onclick: () =>
            act(async () => {
              const r = await api('POST', `/api/outreach/campaigns/${id}/release`, {});
              return `Released ${r.released} unsent contact${r.released === 1 ? '' : 's'}.`;
            }),
        },
        'Release unsent batches',
      ),
      stateBtn,
      h('a', { class: 'button', href: `/api/outreach/campaigns/${id}/answers.csv`, download: '' }, 'Export answers'),
      h('a', { class: 'button', href: `/api/outreach/campaigns/${id}/opt-outs.csv`, download: '' }, 'Export opt-outs'),
    ),
    upload,
    step,
  );
  return pane;
}

// The answers of a new question: rows of a label and an optional next
// message (what to send someone who gives that answer), added and
// removed; read() gives the API's choices, or what is wrong as text.
function answerRows() {
  const rows = h('div', { class: 'answer-rows', id: 'oc-answers-form' });
  let n = 0;
  const add = h(
    'button',
    {
      type: 'button',
      id: 'oc-answer-add',
      onclick: () => {
        addRow();
        rows.lastChild.querySelector('input').focus();
      },
    },
    'Add an answer',
  );
  function sync() {
    const count = rows.children.length;
    add.disabled = count >= 10;
    for (const r of rows.children) r.querySelector('.oc-answer-remove').disabled = count <= 1;
  }
  function addRow() {
    n += 1;
    const row = h(
      'div',
      { class: 'answer-row' },
      h(
        'label',
        { for: `oc-answer-${n}` },
        'Answer',
        h('input', {
          id: `oc-answer-${n}`,
          class: 'oc-answer-label',
          maxlength: 100,
          placeholder: rows.children.length ? 'No' : 'Yes',
        }),
      ),
      h(
        'label',
        { for: `oc-answer-next-${n}` },
        'Next message (optional)',
        h('textarea', {
          id: `oc-answer-next-${n}`,
          class: 'oc-answer-next',
          rows: 2,
          maxlength: 1600,
          placeholder: rows.children.length
            ? 'Thanks anyway, {first_name|friend}!'
            : 'Great, {first_name|friend}! Doors open at 10.',
        }),
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'oc-answer-remove',
          'aria-label': 'Remove this answer',
          onclick: () => {
            row.remove();
            sync();
          },
        },
        'Remove',
      ),
    );
    rows.append(row);
    sync();
  }
  function reset() {
    rows.replaceChildren();
    addRow();
    addRow();
  }
  function read() {
    const list = [];
    for (const r of rows.children) {
      const label = r.querySelector('.oc-answer-label').value.trim();
      const next = r.querySelector('.oc-answer-next').value.trim();
      if (!label && !next) continue;
      if (!label) return `Give the answer whose next message is “${next.slice(0, 40)}” a label.`;
      const err = next ? scriptError(next) : null;
      if (err) return `The next message for “${label}” ${err}.`;
      list.push(next ? { label, next_script: next } : { label });
    }
    return list.length ? list : 'Give the question at least one answer.';
  }
  reset();
  return { el: h('fieldset', { class: 'answers-form' }, h('legend', {}, 'Answers'), rows, add), read, reset };
}

// --- in a conversation ---
// The campaign's questions with answer buttons when the conversation came
// from one; choosing an answer records it and puts the next script in the
// reply box. Returns null otherwise. known: the conversation's
// /outreach answer when the caller has read it already (null: none).
export async function outreachPanel(conversationId, replyBox, known) {
  const o =
    known !== undefined ? known : await api('GET', `/api/conversations/${conversationId}/outreach`).catch(() => null);
  if (!o || !o.campaign.steps.length) return null;
  const msg = h('div', { id: 'outreach-answer-msg' });
  return h(
    'section',
    { class: 'outreach-panel', id: 'outreach-panel' },
    h('p', { class: 'muted' }, `From the campaign “${o.campaign.name}”`),
    o.campaign.steps.map((s) =>
      h(
        'div',
        { class: 'step' },
        h('p', { class: 'question' }, s.question),
        h(
          'div',
          { class: 'answers' },
          s.choices.map((ch) =>
            h(
              'button',
              {
                class: o.answers[s.id] === ch.id ? 'primary' : '',
                'data-choice': ch.id,
                'aria-pressed': o.answers[s.id] === ch.id ? 'true' : 'false',
                onclick: async (ev) => {
                  try {
                    const r = await api('POST', `/api/conversations/${conversationId}/outreach-answer`, {
                      choice_id: ch.id,
                    });
                    for (const b of ev.target.parentNode.children) {
                      b.className = '';
                      b.setAttribute('aria-pressed', 'false');
                    }
                    ev.target.className = 'primary';
                    ev.target.setAttribute('aria-pressed', 'true');
                    say(
                      msg,
                      `Recorded: ${ch.label}.${r.next_script ? ' The next message is in the reply box.' : ''}`,
                      'success',
                    );
                    if (r.next_script && replyBox) {
                      replyBox.value = r.next_script;
                      replyBox.dispatchEvent(new Event('input'));
                      replyBox.focus();
                    }
                  } catch (e) {
                    say(msg, errorText(e), 'error');
                  }
                },
              },
              ch.label,
            ),
          ),
        ),
      ),
    ),
    msg,
  );
}
