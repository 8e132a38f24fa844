// SPDX-License-Identifier: AGPL-3.0-or-later
// blast_approval.js — the two-person rule on a blast's page (leads.js):
// when the org's threshold applies, the creator is told who must approve;
// a second lead or an admin sees the body, the audience and its count and
// approves that count (schema/functions/blast_approval.sql refuses the
// creator, a count that is no longer the audience's, and any schedule
// without it, tocsinctl's included). A draft is scheduled from here once
// it may go. Member and lead text goes in through h() as text.
import { api } from './api.js';
import { h, replace } from './dom.js';
import { errorText } from './notice.js';

function people(n) {
  return `${n} ${Number(n) === 1 ? 'member' : 'members'}`;
}

function filterText(b) {
  const f = b.filter || {};
  return f.field ? `only those whose ${f.field} is “${f.equals}”` : 'everyone subscribed';
}

/** The approval card of blast b for the user me, or null when the rule
 * does not apply to it. refresh: re-reads the blast after a change. */
export function approvalCard(b, me, refresh) {
  const a = b.approval;
  if (!a || !['draft', 'scheduled'].includes(b.state) || (!a.required && !a.approved_at)) return null;
  const err = h('p', { class: 'error', role: 'alert', id: 'approval-error' });
  const card = h('div', { class: 'card stack approval', id: 'blast-approval' }, h('h3', {}, 'Second approval'));
  const covered =
    a.approved_at && Number(a.audience) <= Number(a.approved_count) + Math.max(Math.floor(a.approved_count / 10), 10);
  if (a.approved_at) {
    card.append(
      h(
        'p',
        { id: 'approval-state' },
        `Approved by ${a.approved_by_name || 'a lead'} for ${people(a.approved_count)} (${new Date(a.approved_at).toLocaleString()}).`,
      ),
    );
    if (covered) return card;
    card.append(h('p', { class: 'warn' }, `The audience is now ${people(a.audience)}: it must be approved again.`));
  } else {
    card.append(
      h(
        'p',
        { id: 'approval-state' },
        `This blast reaches ${people(a.audience)}, more than the ${a.threshold} this organisation lets one person send. A second lead or an admin must approve it before it can be scheduled.`,
      ),
    );
  }
  if (a.created_by !== null && a.created_by === me.id) {
    card.append(
      h(
        'p',
        { class: 'muted', id: 'approval-own' },
        'You created it: ask another lead or an admin to open this page and approve it.',
      ),
    );
    return card;
  }
  const approve = h(
    'button',
    {
      class: 'primary',
      type: 'button',
      id: 'approval-yes',
      onclick: async () => {
        replace(err);
        approve.disabled = true;
        try {
          await api('POST', `/api/blasts/${b.id}/approve`, { count: Number(a.audience) });
          await refresh();
        } catch (e) {
          replace(err, errorText(e));
          approve.disabled = false;
        }
      },
    },
    `Approve for ${people(a.audience)}`,
  );
  card.append(
    h(
      'ul',
      { class: 'facts' },
      h('li', { id: 'approval-count' }, `${people(a.audience)} on ${b.list}, ${filterText(b)}`),
      h('li', {}, `Created by ${a.created_by_name || 'an operator (tocsinctl)'}`),
    ),
    h('p', { class: 'muted' }, 'The message, as written:'),
    h('p', { class: 'blast-body', id: 'approval-body' }, b.body),
    h('div', { class: 'row actions' }, approve),
    err,
  );
  return card;
}

/** For a draft: schedule it (a time, or now), unless it waits for its
 * approval. Null for any other state. */
export function draftSchedule(b, refresh) {
  if (b.state !== 'draft') return null;
  const a = b.approval || {};
  const waiting = a.required && !a.approved_at;
  const at = h('input', { type: 'datetime-local', id: 'draft-at', 'aria-label': 'Start at (empty: now)' });
  const err = h('p', { class: 'error', role: 'alert', id: 'draft-error' });
  const go = h(
    'button',
    {
      class: 'primary',
      type: 'button',
      id: 'draft-schedule',
      disabled: waiting,
      onclick: async () => {
        replace(err);
        go.disabled = true;
        try {
          await api('POST', `/api/blasts/${b.id}/schedule`, { at: at.value ? new Date(at.value).toISOString() : '' });
          await refresh();
        } catch (e) {
          replace(err, errorText(e));
          go.disabled = false;
        }
      },
    },
    'Schedule',
  );
  return h(
    'div',
    { class: 'card stack', id: 'blast-draft' },
    h('h3', {}, 'Not scheduled yet'),
    waiting ? h('p', { class: 'muted' }, 'It can be scheduled once it is approved.') : null,
    h('div', { class: 'row' }, h('label', { for: 'draft-at' }, 'Start at'), at, go),
    h('p', { class: 'muted' }, 'Leave the time empty to start now.'),
    err,
  );
}
