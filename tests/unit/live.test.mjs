// SPDX-License-Identifier: AGPL-3.0-or-later
// The rule for refetches triggered by the live stream
// (dashboard/static/live.js's coalesced): a burst of triggers costs one
// run in flight and at most one queued behind it; every caller's promise
// settles once a run that started after its call has finished; a failing
// run does not stop later ones. Held runs make it independent of timing.
// Run: node --test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coalesced } from '../../dashboard/static/live.js';

// A fn whose runs wait until released, counting runs and overlap.
function heldRuns() {
  const runs = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fn = () => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise((resolve, reject) => {
      runs.push({
        release: () => {
          inFlight--;
          resolve();
        },
        fail: () => {
          inFlight--;
          reject(new Error('refused'));
        },
      });
    });
  };
  return { fn, runs, max: () => maxInFlight };
}
const until = async (cond) => {
  while (!cond()) await new Promise((r) => setImmediate(r));
};

test('a burst of 100 triggers is one run in flight and one queued', async () => {
  const h = heldRuns();
  const trigger = coalesced(h.fn);
  const first = trigger();
  await until(() => h.runs.length === 1);
  const later = [];
  for (let i = 0; i < 100; i++) later.push(trigger());
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(h.runs.length, 1, 'nothing more starts while one is in flight');
  h.runs[0].release();
  await first;
  await until(() => h.runs.length === 2);
  h.runs[1].release();
  await Promise.all(later);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(h.runs.length, 2, 'the 100 triggers cost one more run');
  assert.equal(h.max(), 1, 'never two runs at once');
});

test("a trigger during a run is covered by the run after it, not the one it interrupted", async () => {
  const h = heldRuns();
  const trigger = coalesced(h.fn);
  let settled = false;
  trigger();
  await until(() => h.runs.length === 1);
  trigger().then(() => {
    settled = true;
  });
  h.runs[0].release();
  await until(() => h.runs.length === 2);
  assert.equal(settled, false, 'still waiting for the run that started after it');
  h.runs[1].release();
  await until(() => settled);
});

test('a failing run does not stop the next one', async () => {
  const h = heldRuns();
  const trigger = coalesced(h.fn);
  const a = trigger();
  await until(() => h.runs.length === 1);
  h.runs[0].fail();
  await a;
  const b = trigger();
  await until(() => h.runs.length === 2);
  h.runs[1].release();
  await b;
});

// Runs a coalesced fn (gapMs 50) n times, one after another, and checks
// that each run read the clock at least 50 ms after the one before;
// stall(i) runs first in run i.
async function gapsHold(n, stall = () => {}) {
  const starts = [];
  const trigger = coalesced(async () => {
    stall(starts.length);
    starts.push(performance.now());
  }, 50);
  for (let i = 0; i < n; i++) await trigger();
  assert.equal(starts.length, n);
  for (let i = 1; i < n; i++) assert.ok(starts[i] - starts[i - 1] >= 50, `gap ${starts[i] - starts[i - 1]}`);
}

test('runs start at least gapMs apart', async () => {
  await gapsHold(3);
});

test('the gap holds when timers fire early', async () => {
  // Timers count in whole, cached milliseconds and may fire early by
  // performance.now(); here every one fires 5 ms early.
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = (f, ms) => realSetTimeout(f, Math.max(0, ms - 5));
  try {
    await gapsHold(2);
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
});

test('the gap holds when the thread stalls as a run begins', async () => {
  // The first run reads its clock 10 ms after it was called, as if the
  // process had been preempted there (a loaded machine); the second reads
  // it at once.
  await gapsHold(2, (i) => {
    const until = performance.now() + (i === 0 ? 10 : 0);
    while (performance.now() < until);
  });
});
