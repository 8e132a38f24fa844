// SPDX-License-Identifier: AGPL-3.0-or-later
// peer_graphile.mjs — the peer run of ops/bench/peer_graphile.sh:
// graphile-worker (pinned in package.json) doing Tocsin's outbound job, one
// Twilio-shaped POST per job to the carrier simulator over keep-alive
// connections, with its documented batching on (localQueue 500,
// completeJobBatchDelay 0). Runs the jobs already queued, writes
// "JOBS SECONDS" to DONE_FILE once JOBS have completed, then waits to be
// stopped (so the benchmark can read PostgreSQL's CPU while the
// connections, and so their backends, are still there).
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { Logger, run } from 'graphile-worker';

const [connectionString, simPort, jobsArg, doneFile, concurrencyArg] = process.argv.slice(2);
const jobs = Number(jobsArg);
const concurrency = Number(concurrencyArg || 128);
if (!connectionString || !Number.isInteger(Number(simPort)) || !Number.isInteger(jobs) || jobs < 1 || !doneFile) {
  console.error('usage: node peer_graphile.mjs CONNECTION_STRING SIM_PORT JOBS DONE_FILE [CONCURRENCY]');
  process.exit(2);
}

const account = 'AC7c0c51a0000000000000000000000000';
const auth = 'Basic ' + Buffer.from(account + ':7c0c51a0000000000000000000000000').toString('base64');
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

// One carrier request: resolves with the carrier's message id, rejects on
// anything but a 2xx (graphile-worker then retries the job).
function send(payload) {
  const body = new URLSearchParams({ To: payload.to, From: '24680', Body: payload.body }).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: '127.0.0.1',
        port: Number(simPort),
        method: 'POST',
        path: `/2010-04-01/Accounts/${account}/Messages.json`,
        headers: {
          Authorization: auth,
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          if (res.statusCode < 200 || res.statusCode > 299) reject(new Error(`carrier answered ${res.statusCode}`));
          else resolve(JSON.parse(text).sid);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// Warnings and errors only: a line per completed job would cost more than the job.
const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') console.error(`${level}: ${message}`);
});

let done = 0;
let started = 0;
const runner = await run({
  connectionString,
  concurrency,
  // graphile-worker's default pool is 10 connections (it warns below the
  // concurrency); PEER_MAX_POOL measures others.
  maxPoolSize: Number(process.env.PEER_MAX_POOL || 10),
  logger,
  noHandleSignals: false,
  pollInterval: 1000,
  preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  taskList: {
    send: async (payload) => {
      if (!started) started = performance.now();
      const sid = await send(payload);
      if (!sid) throw new Error("no message id in the carrier's answer");
      done += 1;
      if (done === jobs) {
        // The last completion is batched: give the pool a moment to write it.
        setTimeout(() => writeFileSync(doneFile, `${jobs} ${(performance.now() - started) / 1000}\n`), 0);
      }
    },
  },
});
await runner.promise;
