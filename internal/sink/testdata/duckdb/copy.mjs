// Usage: node copy.mjs <events.jsonl> <out.parquet> — DuckDB on one thread
// turns JSON lines into zstd Parquet, the baseline of questlog's replay.
// Prints the seconds the COPY took and the CPU seconds it used (DuckDB's
// start-up is left out).
import { DuckDBInstance } from '@duckdb/node-api';

const [input, output] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:', { threads: '1' });
const conn = await db.connect();
const started = performance.now();
const cpu = process.cpuUsage();
await conn.run(`COPY (SELECT * FROM read_json('${input}', format = 'newline_delimited'))
  TO '${output}' (FORMAT parquet, COMPRESSION zstd)`);
const used = process.cpuUsage(cpu);
console.log(((performance.now() - started) / 1000).toFixed(3), ((used.user + used.system) / 1e6).toFixed(3));
