// SPDX-License-Identifier: AGPL-3.0-or-later
// live.js — the live stream and what an event on it may cost. connect()
// opens /api/events once per login and passes each event on as a window
// event (tocsin:conversation, tocsin:waiting, tocsin:resync,
// tocsin:blast, tocsin:alert, with the parsed data as detail), so any page listens
// without knowing the stream. coalesced() is the one rule for the
// refetches those events trigger: a burst of events (a batch of receipts,
// a busy pool) costs one refetch in flight and at most one more queued
// behind it, never one per event.

const TYPES = ['conversation', 'waiting', 'resync', 'blast', 'alert'];
let source = null;

/** Opens the stream (once; a second call does nothing). */
export function connect() {
  if (source) return;
  source = new EventSource('/api/events');
  for (const type of TYPES) {
    source.addEventListener(type, (ev) => {
      let detail = null;
      try {
        detail = ev.data ? JSON.parse(ev.data) : null;
      } catch {
        return; // not ours: the server only sends JSON
      }
      window.dispatchEvent(new CustomEvent(`tocsin:${type}`, { detail }));
    });
  }
}

/** Closes the stream (at log out). */
export function disconnect() {
  if (source) source.close();
  source = null;
}

/** A trigger for fn (an async refetch): calling it while fn runs queues
 * one more run after it, however many calls come, and a run starts at
 * least gapMs after the previous one started, so a steady stream costs at
 * most one refetch per gapMs. The promise a call returns settles when the
 * run that covers it has finished. fn's errors are its own to show. */
export function coalesced(fn, gapMs = 0) {
  let running = false;
  let queued = null; // { promise, resolve } of the run after the current one
  let lastStart = -Infinity;
  function start() {
    const mine = queued;
    queued = null;
    running = true;
    let run;
    try {
      run = Promise.resolve(fn());
    } catch (e) {
      run = Promise.reject(e);
    }
    // Stamped once fn has begun, not before: any clock fn read as it
    // began is then no later than lastStart, so the next run's start is
    // gapMs after it however long this thread was preempted in between.
    lastStart = performance.now();
    run
      .catch(() => {
        /* the page shows its own errors; the next event tries again */
      })
      .finally(() => {
        running = false;
        mine.resolve();
        if (queued) schedule();
      });
  }
  function schedule() {
    // A timer may fire a millisecond or so early by performance.now()
    // (timers count in whole, cached milliseconds): wait out the rest.
    const due = lastStart + gapMs;
    setTimeout(() => (performance.now() < due ? schedule() : start()), Math.max(0, due - performance.now()));
  }
  return function trigger() {
    if (queued) return queued.promise; // one is waiting already: join it
    let resolve;
    const promise = new Promise((r) => {
      resolve = r;
    });
    queued = { promise, resolve };
    if (!running) schedule();
    return promise;
  };
}

/** An alive() for listen(): true while node is on the page, and before
 * it first gets there while the URL is still the one it was built for;
 * false once it has left (or was never shown). */
export function whileShown(node) {
  const fragment = location.hash;
  let seen = false;
  return () => {
    if (node.isConnected) seen = true;
    return node.isConnected || (!seen && location.hash === fragment);
  };
}

/** Listens to the stream's events of type while alive() holds (the page
 * that listens is on screen: whileShown()); the listener removes itself
 * at the first event after that. */
export function listen(type, handler, alive) {
  const on = (ev) => {
    if (!alive()) {
      window.removeEventListener(`tocsin:${type}`, on);
      return;
    }
    handler(ev.detail);
  };
  window.addEventListener(`tocsin:${type}`, on);
  return () => window.removeEventListener(`tocsin:${type}`, on);
}
