// Writes duckdb.parquet, the file TestDumpDuckDBFile reads: one column per
// type as DuckDB writes it, and a row of nulls. From the repository root,
// after `cd scripts && npm install`:
//
//	NODE_PATH=scripts/node_modules node pipeline/pqfile/testdata/gen.js pipeline/pqfile/testdata
const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const out = process.argv[2];
  await c.run(`SET TimeZone='UTC'`);
  await c.run(`COPY (SELECT * FROM (VALUES
      (1::BIGINT, 'a'::VARCHAR, 1234.50::DECIMAL(18,2), 0.005::DECIMAL(9,6), -12345678901234567890.12::DECIMAL(38,2),
       DATE '2025-01-31', TIMESTAMPTZ '2025-01-31 04:00:00.000001+00', TIMESTAMP_NS '2025-01-31 04:00:00.000000001',
       true, 0.1::DOUBLE, 7::INTEGER, [1, 3]::INTEGER[]),
      (2, NULL, -0.05, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
    ) t(id, name, amount, rate, wide, day, posted_at, posted_ns, ok, pd, n, periods))
    TO '${out}/duckdb.parquet' (FORMAT parquet)`);
  const r = await c.runAndReadAll(`SELECT version()`);
  console.log(r.getRows());
})();
