// SPDX-License-Identifier: AGPL-3.0-or-later
// leads_format.js — the words and numbers of the campaign pages, without
// the DOM (tested by tests/unit/leads_format.test.mjs): a blast's state as
// a lead reads it, its counters in the order of a message's life, send
// times and rates.

const STATE_LABELS = {
  draft: 'Draft', scheduled: 'Scheduled', expanding: 'Preparing', sending: 'Sending',
  paused: 'Paused', cancelled: 'Cancelled', completed: 'Done',
};

/** "Done" for completed, and so on; unknown states are shown as they are. */
export function stateLabel(state) { return STATE_LABELS[state] || String(state); }

/** No more changes to watch for. */
export function isFinal(state) { return state === 'completed' || state === 'cancelled'; }

/** A duration as people say it: "under a second", "40 s", "3 min", "2 h 5 min". */
export function formatDuration(seconds) {
  const s = Math.ceil(Number(seconds) || 0);
  if (s < 1) return 'under a second';
  if (s < 60) return `${s} s`;
  const m = Math.ceil(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60), rest = m % 60;
  return rest ? `${h} h ${rest} min` : `${h} h`;
}

/** A share as a percentage with one decimal, or "—" when there is none. */
export function percent(share) {
  if (share === null || share === undefined || Number.isNaN(Number(share))) return '—';
  return `${(Number(share) * 100).toFixed(1).replace(/\.0$/, '')}%`;
}

/** The progress view's counters: [key, label, value] in the order a
 * message moves (undelivered counts as failed for a lead). */
export function counterRows(b) {
  const n = (k) => Number(b[k]) || 0;
  return [
    ['queued', 'Queued', n('queued') + n('sending')],
    ['sent', 'Sent', n('sent')],
    ['delivered', 'Delivered', n('delivered')],
    ['failed', 'Failed', n('failed') + n('undelivered')],
    ['suppressed', 'Suppressed', n('suppressed')],
    ['opted_out', 'Opted out', n('opted_out')],
    ['unknown', 'Unknown', n('unknown')],
    ['cancelled', 'Cancelled', n('cancelled')],
  ];
}

/** Messages per second over the last minute, as "2.5/s". */
export function rateText(perMinute) {
  const r = (Number(perMinute) || 0) / 60;
  return `${r >= 10 ? Math.round(r) : r.toFixed(1)}/s`;
}
