// check-outputs.mjs DIR — opens every output table of one published date
// (DIR = OUT/as_of=D) with DuckDB and checks what a data scientist relies on:
// the contract's logical types (DECIMAL, DATE, TIMESTAMP), readable rows, the
// statement balance equation recomputed independently in SQL, the daily
// summary's figures against the tables they summarise, and "none" as NULL,
// never a sentinel (an empty string, 1970-01-01). Then every table, outputs
// and state, is read again with polars (another Parquet reader, the Rust
// one), which must find the same rows and the same NULLs.
// Exits 1 with every problem listed.
import { DuckDBInstance } from '@duckdb/node-api';
import pl from 'nodejs-polars';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const dir = process.argv[2];
if (!dir || !existsSync(join(dir, '_SUCCESS'))) {
  console.error(`usage: node check-outputs.mjs OUT/as_of=D   (a published date; ${dir} has no _SUCCESS)`);
  process.exit(2);
}

const money = 'DECIMAL(18,2)';
const rate = 'DECIMAL(9,6)';
const expected = {
  statements: {
    account_id: 'BIGINT', statement_date: 'DATE', due_date: 'DATE', previous_balance: money, payments: money,
    refunds: money, purchases: money, installment_principal: money, installment_fees: money,
    revolving_fees: money, penalties: money, new_balance: money, minimum_due: money,
  },
  statement_lines: { account_id: 'BIGINT', statement_date: 'DATE', kind: 'VARCHAR', ref: 'VARCHAR', period: 'INTEGER', amount: money },
  installment_plans: {
    txn_id: 'VARCHAR', account_id: 'BIGINT', periods: 'INTEGER', principal: money, fee_rate: rate,
    period_principal: money, period_fee: money, last_period_principal: money, apr_nominal: rate,
    apr_effective: rate, over_cap: 'BOOLEAN',
  },
  delinquency: { account_id: 'BIGINT', dpd: 'INTEGER', bucket: 'VARCHAR', past_due_amount: money, penalty_today: money, penalty_total: money },
  scores: { account_id: 'BIGINT', score: 'INTEGER', pd: 'DOUBLE', grade: 'VARCHAR', reason_1: 'VARCHAR', reason_2: 'VARCHAR', reason_3: 'VARCHAR', features_on: 'DATE', scorecard_version: 'VARCHAR' },
  cycle_features: {
    account_id: 'BIGINT', as_of: 'DATE', spend_1: money, billed_3: money, paid_12: money, payment_ratio_3: 'DOUBLE',
    utilization_avg_6: 'DOUBLE', max_dpd_12: 'INTEGER', overdue_episodes_3: 'INTEGER', failed_deductions_1: 'INTEGER',
    installment_share_12: 'DOUBLE', min_pay_cycles_6: 'INTEGER',
  },
  limit_decisions: {
    account_id: 'BIGINT', old_limit: money, new_limit: money, action: 'VARCHAR', reason_code: 'VARCHAR', reasons: 'VARCHAR',
    days_past_due: 'INTEGER', utilization: 'DOUBLE', utilization_cycles: 'INTEGER', balance: money, since: 'DATE',
    past_due_on: 'DATE', score_reasons: 'VARCHAR', threshold: 'INTEGER', lookback: 'INTEGER', min_utilization: rate,
    rate, delinquency_cut: rate, cap: money, policy_version: 'VARCHAR',
  },
  notices: { notice_id: 'VARCHAR', account_id: 'BIGINT', kind: 'VARCHAR', channel: 'VARCHAR', reference: 'VARCHAR', amount: money, due_date: 'DATE' },
  bureau: { account_id: 'BIGINT', period: 'DATE', status: 'VARCHAR' },
  rejects: { dataset: 'VARCHAR', file: 'VARCHAR', row: 'BIGINT', key: 'VARCHAR', reason: 'VARCHAR' },
  daily_summary: { as_of: 'DATE', dimension: 'VARCHAR', key: 'VARCHAR', key2: 'VARCHAR', count: 'BIGINT', amount: money, value: 'DOUBLE' },
};

const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjects();
const problems = [];
const summary = [];

for (const [table, cols] of Object.entries(expected)) {
  const file = join(dir, `${table}.parquet`);
  if (!existsSync(file)) { problems.push(`${table}: missing ${file}`); continue; }
  const types = Object.fromEntries((await rows(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).map((r) => [r.column_name, r.column_type]));
  for (const [col, want] of Object.entries(cols)) {
    if (!(col in types)) problems.push(`${table}.${col}: missing column`);
    else if (types[col] !== want) problems.push(`${table}.${col}: type ${types[col]}, want ${want}`);
  }
  const [{ n }] = await rows(`SELECT count(*)::BIGINT AS n FROM read_parquet('${file}')`);
  summary.push(`${table}=${n}`);
}

// The balance equation, recomputed by another engine.
const bad = await rows(`SELECT count(*)::BIGINT AS n FROM read_parquet('${join(dir, 'statements.parquet')}')
  WHERE previous_balance + purchases + installment_principal + installment_fees + revolving_fees + penalties
        - payments - refunds <> new_balance
     OR minimum_due < 0 OR (new_balance > 0 AND minimum_due > new_balance)`);
if (bad[0].n > 0n) problems.push(`statements: ${bad[0].n} rows break the balance equation or the minimum's bounds`);

// Statement lines add up to the statement's charges and credits.
const lines = await rows(`WITH l AS (SELECT account_id, statement_date, sum(amount) AS s FROM read_parquet('${join(dir, 'statement_lines.parquet')}') GROUP BY ALL)
  SELECT count(*)::BIGINT AS n FROM read_parquet('${join(dir, 'statements.parquet')}') st LEFT JOIN l USING (account_id, statement_date)
  WHERE coalesce(l.s, 0) <> st.new_balance - st.previous_balance`);
if (lines[0].n > 0n) problems.push(`statement_lines: ${lines[0].n} statements whose lines do not sum to new_balance - previous_balance`);

// Every scores row names a night whose cycle_features holds its account's window features: the
// join of docs/contract.md (scores) over the output root's nights finds exactly one row each.
{
  const root = dirname(dir);
  const [{ n, joined }] = await rows(`SELECT count(*)::BIGINT AS n, count(f.account_id)::BIGINT AS joined
    FROM read_parquet('${join(dir, 'scores.parquet')}') s
    LEFT JOIN read_parquet('${join(root, 'as_of=*', 'cycle_features.parquet')}', hive_partitioning = false) f
      ON f.account_id = s.account_id AND f.as_of = s.features_on`);
  if (n !== joined) problems.push(`scores: ${n} rows join ${joined} cycle_features rows by features_on, want one each`);
  const [{ older }] = await rows(`SELECT count(*)::BIGINT AS older FROM read_parquet('${join(dir, 'scores.parquet')}') WHERE features_on < as_of`);
  summary.push(`features_on_before_tonight=${older}`);
}

// Notice ids are unique.
const dup = await rows(`SELECT count(*)::BIGINT - count(DISTINCT notice_id)::BIGINT AS n FROM read_parquet('${join(dir, 'notices.parquet')}')`);
if (dup[0].n > 0n) problems.push(`notices: ${dup[0].n} duplicate notice ids`);

// The daily summary says what the tables say, recomputed by another engine.
const sum = `read_parquet('${join(dir, 'daily_summary.parquet')}')`;
const agree = [
  ['past due by bucket', `SELECT key, count, amount FROM ${sum} WHERE dimension = 'dpd_bucket' AND key <> 'current' AND count > 0`,
    `SELECT bucket, count(*), sum(past_due_amount) FROM read_parquet('${join(dir, 'delinquency.parquet')}') GROUP BY ALL`],
  ['notices by kind and channel', `SELECT key, key2, count FROM ${sum} WHERE dimension = 'notice'`,
    `SELECT kind, channel, count(*) FROM read_parquet('${join(dir, 'notices.parquet')}') GROUP BY ALL`],
  ['statements and their minimum due', `SELECT count, amount FROM ${sum} WHERE dimension = 'statements' AND key = 'issued'`,
    `SELECT count(*), coalesce(sum(minimum_due), 0) FROM read_parquet('${join(dir, 'statements.parquet')}')`],
  ['grades and their mean score', `SELECT key, count, round(value, 6) FROM ${sum} WHERE dimension = 'grade'`,
    `SELECT grade, count(*), round(avg(score), 6) FROM read_parquet('${join(dir, 'scores.parquet')}') GROUP BY ALL`],
  ['rejects by reason', `SELECT key, key2, count FROM ${sum} WHERE dimension = 'reject'`,
    `SELECT reason, dataset, count(*) FROM read_parquet('${join(dir, 'rejects.parquet')}') GROUP BY ALL`],
  ['limit reasons by action and code', `SELECT key, key2, count FROM ${sum} WHERE dimension = 'limit_reason'`,
    `SELECT action, code, count(*) FROM (SELECT action, unnest(string_split(reasons, ';')) AS code
       FROM read_parquet('${join(dir, 'limit_decisions.parquet')}')) GROUP BY ALL`],
];
for (const [what, a, b] of agree) {
  const [{ n }] = await rows(`SELECT (SELECT count(*) FROM ((${a}) EXCEPT ALL (${b}))) + (SELECT count(*) FROM ((${b}) EXCEPT ALL (${a})))::BIGINT AS n`);
  if (n > 0n) problems.push(`daily_summary: ${what} differ from the tables (${n} rows)`);
}

// A decision's reason_code is one of its reasons, and a reason reads its figures: the sentence
// of LOW_UTILIZATION, say, is made of columns that are there.
try {
  const codes = await rows(`SELECT count(*)::BIGINT AS n FROM read_parquet('${join(dir, 'limit_decisions.parquet')}')
    WHERE NOT list_contains(string_split(reasons, ';'), reason_code)
       OR (list_contains(string_split(reasons, ';'), 'LOW_UTILIZATION')
           AND (utilization IS NULL OR min_utilization IS NULL OR utilization_cycles IS NULL))`);
  if (codes[0].n > 0n) problems.push(`limit_decisions: ${codes[0].n} rows whose reason_code is not among reasons, or whose LOW_UTILIZATION lacks its figures`);
} catch (e) {
  problems.push(`limit_decisions: reason codes cannot be checked: ${e.message.split('\n')[0]}`);
}

// State tables open too.
for (const t of ['accounts', 'statements', 'plans', 'purchases', 'lines', 'history']) {
  const f = join(dir, 'state', `${t}.parquet`);
  if (!existsSync(f)) problems.push(`state/${t}.parquet missing`);
  else await rows(`SELECT count(*) FROM read_parquet('${f}')`);
}

// "None" is NULL: no empty string and no 1970-01-01 in any table.
const parquetFiles = [
  ...readdirSync(dir).filter((f) => f.endsWith('.parquet')),
  ...readdirSync(join(dir, 'state')).filter((f) => f.endsWith('.parquet')).map((f) => join('state', f)),
];
for (const rel of parquetFiles) {
  const file = join(dir, rel);
  const cols = await rows(`DESCRIBE SELECT * FROM read_parquet('${file}', hive_partitioning = false)`);
  for (const { column_name: c, column_type: t } of cols) {
    let sentinel = null;
    if (t === 'VARCHAR') sentinel = `"${c}" = ''`;
    else if (t === 'DATE') sentinel = `"${c}" = DATE '1970-01-01'`;
    if (!sentinel) continue;
    const [{ n }] = await rows(`SELECT count(*)::BIGINT AS n FROM read_parquet('${file}', hive_partitioning = false) WHERE ${sentinel}`);
    if (n > 0n) problems.push(`${rel}.${c}: ${n} rows hold a sentinel (${t === 'DATE' ? '1970-01-01' : 'empty string'}) where NULL means none`);
  }
}

// polars reads every table too, with the same rows and the same NULLs.
let polarsTables = 0;
for (const rel of parquetFiles) {
  const file = join(dir, rel);
  let df;
  try {
    df = pl.readParquet(file);
  } catch (e) {
    problems.push(`${rel}: polars cannot read it: ${e.message}`);
    continue;
  }
  polarsTables++;
  const [{ n }] = await rows(`SELECT count(*)::BIGINT AS n FROM read_parquet('${file}', hive_partitioning = false)`);
  if (BigInt(df.height) !== n) problems.push(`${rel}: polars reads ${df.height} rows, DuckDB ${n}`);
  // Exact NULL counts (SUMMARIZE's null_percentage is rounded, too coarse past 10,000 rows).
  const names = (await rows(`DESCRIBE SELECT * FROM read_parquet('${file}', hive_partitioning = false)`)).map((r) => r.column_name);
  const [duck] = await rows(`SELECT ${names.map((c, i) => `(count(*) - count("${c}"))::BIGINT AS c${i}`).join(', ')}
    FROM read_parquet('${file}', hive_partitioning = false)`);
  names.forEach((c, i) => {
    const nulls = df.getColumn(c).nullCount();
    if (BigInt(nulls) !== duck[`c${i}`]) problems.push(`${rel}.${c}: polars finds ${nulls} NULLs, DuckDB ${duck[`c${i}`]}`);
  });
}
summary.push(`polars=${polarsTables}/${parquetFiles.length}`);

if (problems.length) {
  console.error(`DuckDB check of ${dir}: ${problems.length} problem(s)`);
  for (const p of problems) console.error('  - ' + p);
  process.exit(1);
}
console.log(`DuckDB check of ${dir}: ok (${summary.join(' ')})`);
