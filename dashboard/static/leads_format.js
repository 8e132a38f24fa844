// SPDX-License-Identifier: AGPL-3.0-or-later
// leads_format.js — the words and numbers of the campaign pages, without
// the DOM (tested by tests/unit/leads_format.test.mjs): a blast's state as
// a lead reads it, its counters in the order of a message's life, send
// times and rates.

const STATE_LABELS = {
  draft: 'Draft',
  scheduled: 'Scheduled',
  expanding: 'Preparing',
  sending: 'Sending',
  paused: 'Paused',
  cancelled: 'Cancelled',
  completed: 'Done',
};

/** "Done" for completed, and so on; unknown states are shown as they are. */
export function stateLabel(state) {
  return STATE_LABELS[state] || String(state);
}

/** No more changes to watch for. */
export function isFinal(state) {
  return state === 'completed' || state === 'cancelled';
}

/** A duration as people say it: "under a second", "40 s", "3 min", "2 h 5 min". */
export function formatDuration(seconds) {
  const s = Math.ceil(Number(seconds) || 0);
  if (s < 1) return 'under a second';
  if (s < 60) return `${s} s`;
  const m = Math.ceil(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60),
    rest = m % 60;
  return rest ? `${h} h ${rest} min` : `${h} h`;
}

/** A share as a percentage with one decimal, or "—" when there is none. */
export function percent(share) {
  if (share === null || share === undefined || Number.isNaN(Number(share))) return '—';
  return `${(Number(share) * 100).toFixed(1).replace(/\.0$/, '')}%`;
}

/** The progress view's figures, cumulative: [key, label, value, note].
 * Sent counts every message the carrier accepted (sent, delivered,
 * undelivered, outcome unknown), so it never falls behind Delivered;
 * Delivered is those the carrier confirmed; Failed those it refused or
 * could not deliver. Waiting, Sent and Delivered are always shown while
 * a blast runs; the rest only when not zero, Waiting only while there is
 * any once the blast is over. */
export function counterRows(b) {
  const n = (k) => Number(b[k]) || 0;
  const rows = [
    ['queued', 'Waiting', n('queued') + n('sending'), 'not sent yet', !isFinal(b.state)],
    ['sent', 'Sent', n('sent') + n('delivered') + n('undelivered') + n('unknown'), 'accepted by the carrier', true],
    ['delivered', 'Delivered', n('delivered'), 'confirmed by the carrier', true],
    ['failed', 'Failed', n('failed') + n('undelivered'), 'refused or not delivered', false],
    ['unknown', 'No answer', n('unknown'), 'the carrier never said', false],
    ['opted_out', 'Opted out', n('opted_out'), 'before their message went', false],
    ['suppressed', 'Suppressed', n('suppressed'), 'held back by the carrier rules', false],
    ['cancelled', 'Cancelled', n('cancelled'), 'never sent', false],
  ];
  return rows.filter((r) => r[4] || r[2] !== 0).map((r) => r.slice(0, 4));
}

/** A blast's title: its first words (at most max characters), since
 * blasts carry no name of their own. */
export function blastTitle(body, max = 48) {
  const text = String(body || '')
    .replace(/\s+/g, ' ')
    .trim();
  if (text.length <= max) return text || 'Untitled blast';
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,.;:!?-]+$/, '')}…`;
}

/** A moment with its date, as the lead's browser writes them. */
export function dateTime(iso) {
  if (!iso) return '';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Messages per second over the last minute, as "2.5/s". */
export function rateText(perMinute) {
  const r = (Number(perMinute) || 0) / 60;
  return `${r >= 10 ? Math.round(r) : r.toFixed(1)}/s`;
}
