// Usage: node query.mjs "<SQL>" — prints the result rows as JSON.
import { DuckDBInstance } from '@duckdb/node-api';

const sql = process.argv[2];
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
const result = await conn.runAndReadAll(sql);
console.log(JSON.stringify(result.getRowObjectsJson()));
