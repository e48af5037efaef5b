// default-by-grade.mjs OUT SCORE_DATE [HORIZON_END] [--labels FILE] [--dpd N] [--include-defaulted]
//
// Back-tests the grades of one night against what the book did afterwards.
// It takes the accounts scored on SCORE_DATE (OUT/as_of=SCORE_DATE/scores.parquet)
// and follows each one through the delinquency tables of every later
// published date up to HORIZON_END (default: the last published date).
//
// Default ("bad"), the usual 90+ DPD definition: an account defaults when,
// on some date D with SCORE_DATE < D ≤ HORIZON_END, it is 90 or more days
// past due (a delinquency row with dpd ≥ 90, change with --dpd), or it was
// charged off on such a date (state/accounts.parquet of HORIZON_END:
// charged_off > 0 and closed_on in the window). The run charges off at 180
// DPD, so a charge-off has always passed 90 DPD first; the second test only
// guards against a gap in the delinquency tables.
//
// Accounts already in default on SCORE_DATE (current_dpd ≥ the threshold, or
// already charged off) are left out of the performance table, as is usual
// for a good/bad back-test — their outcome is not a prediction — and are
// counted on a line of their own. --include-defaulted keeps them in.
//
// Prints, as Markdown:
//   - per grade: accounts, share of book, score range, mean score, mean PD,
//     defaults, later default rate with its 95% Wilson interval, and
//     observed / mean PD; whether the rates rank-order the grades;
//   - AUC, Gini (= 2·AUC − 1) and KS of the score against later default
//     (ties count half), and, for comparison, of the grade alone and of the
//     score and the bureau score alone on the accounts that have one;
//   - later default by delinquency on SCORE_DATE (current_dpd, max_dpd_6);
//   - with --labels FILE (the generator's labels/personas.parquet, ground
//     truth the run never reads): the grade × persona cross-tab and each
//     persona's later default rate, defaulters split by when they stop paying.
//
// Every date in (SCORE_DATE, HORIZON_END] must be published (_SUCCESS);
// a gap is an error, since a default could hide in it.
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const usage = 'usage: node default-by-grade.mjs OUT SCORE_DATE [HORIZON_END] [--labels FILE] [--dpd N] [--include-defaulted]';

function parseArgs(argv) {
  const o = { labels: null, dpd: 90, includeDefaulted: false, pos: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--labels') o.labels = argv[++i];
    else if (a.startsWith('--labels=')) o.labels = a.slice(9);
    else if (a === '--dpd') o.dpd = Number(argv[++i]);
    else if (a.startsWith('--dpd=')) o.dpd = Number(a.slice(6));
    else if (a === '--include-defaulted') o.includeDefaulted = true;
    else if (a === '-h' || a === '--help') { console.log(usage); process.exit(0); }
    else if (a.startsWith('--')) fail(`unknown option ${a}`);
    else o.pos.push(a);
  }
  if (o.pos.length < 2 || o.pos.length > 3) fail('want OUT and SCORE_DATE, and optionally HORIZON_END');
  if (!Number.isInteger(o.dpd) || o.dpd < 1) fail(`--dpd ${o.dpd}: want a positive integer`);
  return o;
}

function fail(msg) {
  console.error(`${msg}\n${usage}`);
  process.exit(2);
}

const isDate = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));
const nextDay = (s) => new Date(Date.parse(`${s}T00:00:00Z`) + 86400e3).toISOString().slice(0, 10);
const sq = (s) => `'${String(s).replaceAll("'", "''")}'`;

const opt = parseArgs(process.argv.slice(2));
const out = resolve(opt.pos[0]);
const scoreDate = opt.pos[1];
if (!isDate(scoreDate)) fail(`SCORE_DATE ${scoreDate}: want YYYY-MM-DD`);

// Published dates, in order.
const published = readdirSync(out, { withFileTypes: true })
  .filter((e) => e.isDirectory() && /^as_of=\d{4}-\d{2}-\d{2}$/.test(e.name) && existsSync(join(out, e.name, '_SUCCESS')))
  .map((e) => e.name.slice(6))
  .sort();
if (!published.includes(scoreDate)) fail(`${out}/as_of=${scoreDate} is not published`);
const horizon = opt.pos[2] ?? published[published.length - 1];
if (!isDate(horizon)) fail(`HORIZON_END ${horizon}: want YYYY-MM-DD`);
if (horizon <= scoreDate) fail(`HORIZON_END ${horizon} is not after SCORE_DATE ${scoreDate}`);
const later = [];
for (let d = nextDay(scoreDate); d <= horizon; d = nextDay(d)) {
  if (!published.includes(d)) fail(`${out}/as_of=${d} is not published: the window (${scoreDate}, ${horizon}] has a gap`);
  later.push(d);
}
if (opt.labels && !existsSync(opt.labels)) fail(`--labels ${opt.labels}: no such file`);

const dir = (d) => join(out, `as_of=${d}`);
const scoresFile = join(dir(scoreDate), 'scores.parquet');
const delinqFiles = `[${later.map((d) => sq(join(dir(d), 'delinquency.parquet'))).join(', ')}]`;
const stateAtScore = join(dir(scoreDate), 'state', 'accounts.parquet');
const stateAtHorizon = join(dir(horizon), 'state', 'accounts.parquet');

const t0 = performance.now();
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
const run = (sql) => con.run(sql);

// One row per scored account: grade, score, PD, whether it was already in
// default on SCORE_DATE, and whether it defaulted in the window.
await run(`CREATE TEMP TABLE s AS
  SELECT s.account_id, s.grade, s.score, s.pd, s.bureau_score, s.current_dpd, s.max_dpd_6,
         (coalesce(s.current_dpd, 0) >= ${opt.dpd} OR coalesce(a.charged_off, 0) > 0) AS bad_at_score
  FROM read_parquet(${sq(scoresFile)}) s
  LEFT JOIN read_parquet(${sq(stateAtScore)}) a USING (account_id)`);
await run(`CREATE TEMP TABLE d AS
  SELECT account_id, max(dpd) AS max_dpd,
         min(as_of) FILTER (WHERE dpd >= ${opt.dpd}) AS first_default
  FROM read_parquet(${delinqFiles})
  GROUP BY account_id`);
await run(`CREATE TEMP TABLE co AS
  SELECT account_id, closed_on AS charged_off_on
  FROM read_parquet(${sq(stateAtHorizon)})
  WHERE charged_off > 0 AND closed_on > DATE ${sq(scoreDate)} AND closed_on <= DATE ${sq(horizon)}`);
await run(`CREATE TEMP TABLE p AS
  SELECT s.*, coalesce(d.max_dpd, 0) AS max_dpd_after,
         (d.first_default IS NOT NULL OR co.account_id IS NOT NULL) AS bad,
         least(d.first_default, co.charged_off_on) AS bad_on
  FROM s LEFT JOIN d USING (account_id) LEFT JOIN co USING (account_id)
  ${opt.includeDefaulted ? '' : 'WHERE NOT s.bad_at_score'}`);
const [{ tmin, tmax }] = await rows(`SELECT min(as_of)::VARCHAR AS tmin, max(as_of)::VARCHAR AS tmax FROM read_parquet(${delinqFiles})`);

// ---- formatting
const pct = (x, digits = 2) => (x == null ? '–' : `${(100 * Number(x)).toFixed(digits)}%`);
const num = (x, digits = 1) => (x == null ? '–' : Number(x).toFixed(digits));
const int = (x) => Number(x).toLocaleString('en-US');
// Wilson 95% interval of a proportion k/n.
function wilson(k, n) {
  k = Number(k); n = Number(n);
  if (n === 0) return '–';
  const z = 1.96, ph = k / n, d = 1 + z * z / n;
  const c = (ph + z * z / (2 * n)) / d, h = (z / d) * Math.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n));
  return `${pct(Math.max(0, c - h))}–${pct(Math.min(1, c + h))}`;
}
function table(header, body, align) {
  const a = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'));
  const lines = [`| ${header.join(' | ')} |`, `|${a.map((x) => (x === 'l' ? ':---' : '---:')).join('|')}|`];
  for (const r of body) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

console.log(`## Later default by grade: scored ${scoreDate}, outcome window (${scoreDate}, ${horizon}]\n`);
console.log(`- scores: ${scoresFile}`);
console.log(`- outcome: ${later.length} delinquency tables, as_of ${later[0]} … ${later[later.length - 1]} (rows dated ${tmin} … ${tmax}), and charge-offs in ${stateAtHorizon}`);
console.log(`- default = ${opt.dpd}+ days past due (or charged off) on any date in the window\n`);

// ---- per grade
const [book] = await rows(`SELECT count(*) AS n, count(*) FILTER (WHERE bad_at_score) AS already FROM s`);
const [tot] = await rows(`SELECT count(*) AS n, sum(bad::INT) AS bad, avg(score) AS score, avg(pd) AS pd FROM p`);
const grades = await rows(`SELECT grade, count(*) AS n, avg(score) AS score, min(score) AS smin, max(score) AS smax,
    avg(pd) AS pd, sum(bad::INT) AS bad, avg(bad::INT) AS rate
  FROM p GROUP BY grade ORDER BY grade`);
const already = await rows(`SELECT grade, count(*) AS n FROM s WHERE bad_at_score GROUP BY grade ORDER BY grade`);
console.log(table(
  ['grade', 'accounts', 'share of book', 'score range', 'mean score', 'mean PD', 'defaults', 'later default rate', '95% CI', 'observed / mean PD'],
  [...grades.map((g) => [g.grade, int(g.n), pct(g.n / tot.n, 1), `${g.smin}–${g.smax}`, num(g.score), pct(g.pd),
    int(g.bad), `**${pct(g.rate)}**`, wilson(g.bad, g.n), num(g.rate / g.pd, 2)]),
  ['all', int(tot.n), '100%', '', num(tot.score), pct(tot.pd), int(tot.bad), `**${pct(tot.bad / tot.n)}**`, wilson(tot.bad, tot.n), num(tot.bad / tot.n / tot.pd, 2)]],
));
const [fd] = await rows(`SELECT min(bad_on)::VARCHAR AS first, max(bad_on)::VARCHAR AS last,
    (SELECT count(*) FROM co) AS charged_off, count(*) FILTER (WHERE bad AND account_id IN (SELECT account_id FROM co)) AS co_in_p FROM p`);
console.log(`\nDefaults reached the threshold between ${fd.first ?? '–'} and ${fd.last ?? '–'}; ${int(fd.charged_off)} accounts were charged off in the window (${int(fd.co_in_p)} of them in the table).`);
console.log(`\nScored on ${scoreDate}: ${int(book.n)} accounts; ${int(book.already)} already ${opt.dpd}+ DPD or charged off on that date ` +
  `(${already.map((r) => `${r.grade} ${int(r.n)}`).join(', ') || 'none'}) ${opt.includeDefaulted ? 'are kept in the table' : 'are left out of the table'}.`);

// Rank order: each grade riskier than the one before it?
const inversions = [];
for (let i = 1; i < grades.length; i++) {
  if (Number(grades[i].rate) <= Number(grades[i - 1].rate)) inversions.push(`${grades[i - 1].grade} ${pct(grades[i - 1].rate)} ≥ ${grades[i].grade} ${pct(grades[i].rate)}`);
}
console.log(Number(tot.bad) === 0
  ? '\nRank order: no account defaulted in the window, nothing to rank.'
  : inversions.length
  ? `\nRank order: **NOT monotone** — ${inversions.join('; ')}.`
  : `\nRank order: monotone, ${grades.map((g) => g.grade).join(' < ')} in later default rate.`);

// ---- discrimination: AUC (P(score of a good > score of a bad), ties ½), Gini, KS
async function auc(expr, where = 'TRUE') {
  const [r] = await rows(`WITH g AS (
      SELECT ${expr} AS x, sum((NOT bad)::INT)::DOUBLE AS good, sum(bad::INT)::DOUBLE AS bad
      FROM p WHERE ${where} AND ${expr} IS NOT NULL GROUP BY 1),
    c AS (SELECT x, good, bad,
      sum(good) OVER (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS good_below,
      sum(good) OVER (ORDER BY x) AS cum_good, sum(bad) OVER (ORDER BY x) AS cum_bad,
      sum(good) OVER () AS G, sum(bad) OVER () AS B FROM g)
    SELECT sum(bad * (G - coalesce(good_below, 0) - good) + 0.5 * bad * good) / any_value(G * B) AS auc,
           max(abs(cum_bad / B - cum_good / G)) AS ks, any_value(G) AS goods, any_value(B) AS bads
    FROM c`);
  return r;
}
const aScore = await auc('score');
const aGrade = await auc(`CASE grade ${grades.map((g, i) => `WHEN ${sq(g.grade)} THEN ${grades.length - i}`).join(' ')} END`);
const aBureau = await auc('bureau_score');
const aScoreB = await auc('score', 'bureau_score IS NOT NULL');
console.log('\n' + table(['ranking', 'accounts', 'defaults', 'AUC', 'Gini', 'KS'], [
  ['score (= PD)', int(aScore.goods + aScore.bads), int(aScore.bads), num(aScore.auc, 3), num(2 * aScore.auc - 1, 3), num(aScore.ks, 3)],
  ['grade alone', int(aGrade.goods + aGrade.bads), int(aGrade.bads), num(aGrade.auc, 3), num(2 * aGrade.auc - 1, 3), num(aGrade.ks, 3)],
  ['score, accounts with a bureau score', int(aScoreB.goods + aScoreB.bads), int(aScoreB.bads), num(aScoreB.auc, 3), num(2 * aScoreB.auc - 1, 3), num(aScoreB.ks, 3)],
  ['bureau score alone, same accounts', int(aBureau.goods + aBureau.bads), int(aBureau.bads), num(aBureau.auc, 3), num(2 * aBureau.auc - 1, 3), num(aBureau.ks, 3)],
]));

// ---- by delinquency on SCORE_DATE: how much of the score's risk is lateness
const dq = await rows(`SELECT CASE WHEN current_dpd >= 31 THEN 4 WHEN current_dpd >= 1 THEN 3
      WHEN max_dpd_6 >= 8 THEN 2 WHEN max_dpd_6 >= 1 THEN 1 ELSE 0 END AS k,
    count(*) AS n, sum(bad::INT) AS bad, avg(bad::INT) AS rate, avg(score) AS score, avg(pd) AS pd,
    ${grades.map((g) => `count(*) FILTER (WHERE grade = ${sq(g.grade)}) AS "${g.grade}"`).join(', ')}
  FROM p GROUP BY 1 ORDER BY 1`);
const dqName = ['never past due in 6 cycles', 'was 1–7 DPD in 6 cycles, current now', 'was 8+ DPD in 6 cycles, current now',
  '1–30 DPD now', '31+ DPD now'];
console.log(`\n### Later default by delinquency on ${scoreDate}\n\n(current_dpd and max_dpd_6 from the scores table.)\n`);
console.log(table(['on the score date', 'accounts', ...grades.map((g) => g.grade), 'mean score', 'mean PD', 'defaults', 'later default rate'],
  dq.map((r) => [dqName[r.k], int(r.n), ...grades.map((g) => int(r[g.grade])), num(r.score), pct(r.pd), int(r.bad), pct(r.rate)])));

// ---- personas (ground truth from the generator; not a run input)
if (opt.labels) {
  const lab = resolve(opt.labels);
  const persona = `CASE WHEN l.persona IS NULL THEN '(no label)'
    WHEN l.persona = 'defaulter' AND l.stops_paying <= DATE ${sq(scoreDate)} THEN 'defaulter, stopped by score date'
    WHEN l.persona = 'defaulter' AND l.stops_paying <= DATE ${sq(horizon)} - INTERVAL ${opt.dpd + 30} DAY THEN 'defaulter, stops in window'
    WHEN l.persona = 'defaulter' THEN 'defaulter, stops too late / never'
    ELSE l.persona END`;
  await run(`CREATE TEMP TABLE pl AS SELECT p.*, ${persona} AS persona
    FROM p LEFT JOIN read_parquet(${sq(lab)}) l USING (account_id)`);
  const order = ['transactor', 'closer', 'revolver', 'card_failure', 'late_payer',
    'defaulter, stopped by score date', 'defaulter, stops in window', 'defaulter, stops too late / never', '(no label)'];
  const ct = await rows(`SELECT persona, grade, count(*) AS n, sum(bad::INT) AS bad FROM pl GROUP BY ALL`);
  const gs = grades.map((g) => g.grade);
  const personas = order.filter((p) => ct.some((r) => r.persona === p))
    .concat([...new Set(ct.map((r) => r.persona))].filter((p) => !order.includes(p)).sort());
  const cell = (p, g) => ct.find((r) => r.persona === p && r.grade === g) ?? { n: 0, bad: 0 };
  const body = personas.map((p) => {
    const n = gs.reduce((s, g) => s + Number(cell(p, g).n), 0);
    const bad = gs.reduce((s, g) => s + Number(cell(p, g).bad), 0);
    return { p, n, bad, cells: gs.map((g) => Number(cell(p, g).n)) };
  });
  const means = Object.fromEntries((await rows(`SELECT persona, avg(score) AS score FROM pl GROUP BY 1`)).map((r) => [r.persona, r.score]));
  console.log(`\n### Grade × persona (labels: ${lab})\n\nAccounts, with the share of the persona's accounts in each grade; defaulters split by their labelled stop day ` +
    `("stops in window": after ${scoreDate} and at least ${opt.dpd} + 30 days before ${horizon}, time enough to be billed, ` +
    `miss a due date and reach ${opt.dpd} DPD; "too late / never": a later stop day or none).\n`);
  console.log(table(['persona', ...gs, 'accounts', 'mean score', 'defaults', 'later default rate'],
    body.map((b) => [b.p, ...b.cells.map((c) => `${int(c)} (${pct(c / b.n, 0)})`), int(b.n), num(means[b.p]), int(b.bad), pct(b.bad / b.n)])));
  const colTot = gs.map((g) => body.reduce((s, b) => s + b.cells[gs.indexOf(g)], 0));
  const defaulterRows = body.filter((b) => b.p.startsWith('defaulter'));
  console.log(`\nShare of each grade that is a labelled defaulter: ${gs.map((g, i) => `${g} ${pct(defaulterRows.reduce((s, b) => s + b.cells[i], 0) / colTot[i], 1)}`).join(', ')}.`);
}

console.log(`\n(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
