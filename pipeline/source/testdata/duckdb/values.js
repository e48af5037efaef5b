// Writes the files of TestDuckDBValues: values at and beyond the contract's
// exact limits, as DuckDB writes them.
//
//	NODE_PATH=../../../../scripts/node_modules node values.js .
const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const out = process.argv[2];
  await c.run(`SET TimeZone='UTC'`);
  // Money as DECIMAL(38,2) (FIXED_LEN_BYTE_ARRAY(16)): the largest
  // DECIMAL(18,2), one fen more, and a value beyond int64.
  await c.run(`COPY (SELECT * FROM (VALUES
      ('m1', 1::BIGINT, TIMESTAMPTZ '2024-03-01 02:00:00+00', 'purchase', 9999999999999999.99::DECIMAL(38,2), 1, 0.005::DECIMAL(9,6), NULL::VARCHAR, NULL::VARCHAR),
      ('m2', 1::BIGINT, TIMESTAMPTZ '2024-03-01 02:00:01+00', 'purchase', 10000000000000000.00::DECIMAL(38,2), 1, 0.005::DECIMAL(9,6), NULL::VARCHAR, NULL::VARCHAR),
      ('m3', 1::BIGINT, TIMESTAMPTZ '2024-03-01 02:00:02+00', 'purchase', 123456789012345678901234.56::DECIMAL(38,2), 1, 0.005::DECIMAL(9,6), NULL::VARCHAR, NULL::VARCHAR),
      ('m4', 1::BIGINT, TIMESTAMPTZ '2024-03-01 02:00:03+00', 'purchase', 100.00::DECIMAL(38,2), 3, 0.5::DECIMAL(9,6), NULL::VARCHAR, NULL::VARCHAR))
      t(txn_id, account_id, posted_at, kind, amount, installments, fee_rate, merchant_category, ref_txn_id))
    TO '${out}/money38.parquet' (FORMAT parquet)`);
  // An id as BLOB (BYTE_ARRAY without annotation) holding GBK bytes.
  await c.run(`COPY (SELECT * FROM (VALUES
      ('g1'::BLOB, 1::BIGINT, TIMESTAMPTZ '2024-03-01 02:00:00+00', 'purchase', 10.00::DECIMAL(18,2), 1, 0::DECIMAL(9,6), NULL::VARCHAR, NULL::VARCHAR),
      ('\\xB0\\xFC\\xC0\\xA8'::BLOB, 1::BIGINT, TIMESTAMPTZ '2024-03-01 02:00:01+00', 'purchase', 10.00::DECIMAL(18,2), 1, 0::DECIMAL(9,6), NULL::VARCHAR, NULL::VARCHAR))
      t(txn_id, account_id, posted_at, kind, amount, installments, fee_rate, merchant_category, ref_txn_id))
    TO '${out}/gbk.parquet' (FORMAT parquet)`);
  // DuckDB's TIMESTAMP (isAdjustedToUTC=false): wall times, here written
  // in Shanghai.
  await c.run(`COPY (SELECT * FROM (VALUES
      ('n1', 1::BIGINT, TIMESTAMP '2024-03-01 10:00:00', 'purchase', 10.00::DECIMAL(18,2), 1, 0::DECIMAL(9,6), NULL::VARCHAR, NULL::VARCHAR),
      ('n2', 1::BIGINT, TIMESTAMP '2024-03-01 23:59:59', 'purchase', 20.00::DECIMAL(18,2), 1, 0::DECIMAL(9,6), NULL::VARCHAR, NULL::VARCHAR),
      ('n3', 1::BIGINT, TIMESTAMP '2024-03-02 00:00:00', 'purchase', 30.00::DECIMAL(18,2), 1, 0::DECIMAL(9,6), NULL::VARCHAR, NULL::VARCHAR))
      t(txn_id, account_id, posted_at, kind, amount, installments, fee_rate, merchant_category, ref_txn_id))
    TO '${out}/naive.parquet' (FORMAT parquet)`);
  const r = await c.runAndReadAll(`SELECT version()`);
  console.log(r.getRows());
})();
