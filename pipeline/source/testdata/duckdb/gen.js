const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const out = process.argv[2];
  await c.run(`SET TimeZone='UTC'`);
  await c.run(`CREATE TABLE t AS SELECT
    't' || lpad(i::VARCHAR, 3, '0') AS txn_id,
    (i % 7 + 1)::BIGINT AS account_id,
    TIMESTAMPTZ '2024-02-29 00:00:00+00' + to_seconds(i * 2160) + to_milliseconds(i) AS posted_at,
    CASE WHEN i % 5 = 3 THEN 'refund' ELSE 'purchase' END AS kind,
    ((100 + i * 37) / 100)::DECIMAL(18,2) AS amount,
    CASE WHEN i % 5 = 3 THEN NULL ELSE [1,3,6,12,24][i % 5 + 1] END::INTEGER AS installments,
    CASE WHEN i % 5 = 3 THEN NULL ELSE ((i % 4) * 2500) / 1000000 END::DECIMAL(9,6) AS fee_rate,
    CASE i % 3 WHEN 0 THEN NULL WHEN 1 THEN 'grocery' ELSE 'travel' END AS merchant_category,
    CASE WHEN i % 5 = 3 THEN 't' || lpad((i - 1)::VARCHAR, 3, '0') END AS ref_txn_id
    FROM range(120) r(i)`);
  // A few rows the readers must reject: zero amount, unknown kind, null id.
  await c.run(`UPDATE t SET amount = 0 WHERE txn_id = 't050'`);
  await c.run(`UPDATE t SET kind = 'chargeback' WHERE txn_id = 't060'`);
  await c.run(`UPDATE t SET txn_id = NULL WHERE txn_id = 't070'`);
  await c.run(`COPY t TO '${out}/transactions.parquet' (FORMAT parquet, ROW_GROUP_SIZE 50)`);
  await c.run(`COPY (SELECT txn_id, account_id::INTEGER AS account_id, posted_at::TIMESTAMP_NS AS posted_at, kind,
      amount::DECIMAL(38,2) AS amount, installments::BIGINT AS installments, fee_rate::DECIMAL(18,6) AS fee_rate,
      merchant_category, ref_txn_id, 42 AS extra FROM t)
    TO '${out}/wide.parquet' (FORMAT parquet, COMPRESSION zstd)`);
  await c.run(`COPY (SELECT *, strftime(posted_at, '%Y-%m-%d') AS dt FROM t)
    TO '${out}/hive' (FORMAT parquet, PARTITION_BY (dt))`);
  const r = await c.runAndReadAll(`SELECT version()`);
  console.log(r.getRows());
})();
