// duckdb-peer.mjs STATE_DIR EVENTS_DIR AS_OF OUT_DIR [THREADS]
// The peer of a creditrun night, measured beside it: DuckDB reads the same
// state (every table of STATE_DIR, as of D−1) and the same events (the dt partitions
// that can hold business date D, filtered to D in Asia/Shanghai),
// aggregates the day's events and the state's child tables per account,
// writes one row per account (the row count of creditrun's scores table)
// and writes every state table back (the rows of creditrun's new state),
// as snappy Parquet. It does none of the domain work. Prints its wall time.
import { DuckDBInstance } from '@duckdb/node-api';
import { join } from 'node:path';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';

const [stateDir, events, asOf, outDir, threads = '2'] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node duckdb-peer.mjs STATE_DIR EVENTS_DIR AS_OF OUT_DIR [THREADS]');
  process.exit(2);
}
const day = new Date(asOf + 'T00:00:00Z');
const dts = [-1, 0, 1].map((k) => new Date(day.getTime() + k * 86400000).toISOString().slice(0, 10));
const parts = (ds) => '[' + dts.filter((d) => existsSync(join(events, ds, 'dt=' + d)))
  .map((d) => `'${join(events, ds, 'dt=' + d, '*.parquet')}'`).join(',') + ']';

const db = await DuckDBInstance.create(':memory:', { threads });
const con = await db.connect();
await con.run(`SET TimeZone = 'Asia/Shanghai'`);
mkdirSync(join(outDir, 'state'), { recursive: true });
const st = (t) => `read_parquet('${join(stateDir, t + '.parquet')}')`;
const outFile = join(outDir, 'accounts_day.parquet');
const t0 = performance.now();
// Every table of the state is read and written back, as a night does; the
// child tables (all but accounts and the score distribution) are counted
// per account.
const tables = readdirSync(stateDir).filter((f) => f.endsWith('.parquet')).map((f) => f.slice(0, -8)).sort();
const children = tables.filter((t) => t !== 'accounts' && t !== 'distribution');
const copies = tables.map((t) =>
  con.run(`COPY (SELECT * FROM ${st(t)}) TO '${join(outDir, 'state', t + '.parquet')}' (FORMAT parquet, COMPRESSION snappy)`));
await Promise.all(copies);
await con.run(`
COPY (
  WITH tx AS (
    SELECT account_id, count(*) AS n_tx,
           sum(CASE WHEN kind = 'purchase' THEN amount ELSE 0 END) AS purchases,
           sum(CASE WHEN kind = 'refund' THEN amount ELSE 0 END) AS refunds
    FROM read_parquet(${parts('transactions')})
    WHERE CAST(timezone('Asia/Shanghai', posted_at) AS DATE) = DATE '${asOf}'
    GROUP BY account_id),
  rp AS (
    SELECT account_id, count(*) AS n_rp,
           sum(CASE WHEN status = 'succeeded' THEN amount ELSE 0 END) AS paid,
           count(*) FILTER (WHERE status = 'failed') AS failed
    FROM read_parquet(${parts('repayments')})
    WHERE CAST(timezone('Asia/Shanghai', paid_at) AS DATE) = DATE '${asOf}'
    GROUP BY account_id),
  ch AS (
    SELECT account_id, count(*) AS n_children FROM (
      ${children.map((t) => `SELECT account_id FROM ${st(t)}`).join(' UNION ALL ')}) GROUP BY account_id)
  SELECT a.account_id, coalesce(ch.n_children, 0) AS n_children, a.status, a.credit_limit,
         coalesce(tx.n_tx, 0) AS n_tx, coalesce(tx.purchases, 0) AS purchases, coalesce(tx.refunds, 0) AS refunds,
         coalesce(rp.n_rp, 0) AS n_rp, coalesce(rp.paid, 0) AS paid, coalesce(rp.failed, 0) AS failed,
         a.credit_balance + coalesce(rp.paid, 0) - coalesce(tx.purchases, 0) AS net
  FROM ${st('accounts')} a
  LEFT JOIN tx USING (account_id) LEFT JOIN rp USING (account_id) LEFT JOIN ch USING (account_id)
  ORDER BY a.account_id
) TO '${outFile}' (FORMAT parquet, COMPRESSION snappy)`);
const ms = performance.now() - t0;
const [{ n }] = (await con.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet('${outFile}')`)).getRowObjects();
console.log(JSON.stringify({ engine: 'duckdb', threads: Number(threads), rows: Number(n), ms: Math.round(ms) }));
