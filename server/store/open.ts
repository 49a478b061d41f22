import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { Database as Schema } from './schema';
import { SqlStore } from './sql-store';
import type { Store } from './types';

export interface StoreOptions {
  /** A PostgreSQL connection string; when absent the embedded SQLite store is used. */
  databaseUrl?: string | undefined;
  /** Folder of the SQLite file (created if missing). */
  dataDir?: string | undefined;
  /** PostgreSQL schema to use (created if missing); tests give each suite its own. */
  pgSchema?: string | undefined;
  /** Most connections in the PostgreSQL pool. */
  poolSize?: number | undefined;
}

/** Strips the password from a connection string so it can be logged. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable database URL)';
  }
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts.pgSchema, opts.poolSize ?? 10);
  return openSqlite(opts.dataDir ?? './data');
}

async function openPostgres(url: string, schema: string | undefined, poolSize: number): Promise<Store> {
  if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`Invalid PostgreSQL schema name "${schema}".`);
  // bigint ids and counts fit comfortably in a JavaScript number for any shop's lifetime.
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  };
  if (schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`create schema if not exists ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  const current = (await sql<{ s: string | null }>`select current_schema() as s`.execute(db)).rows[0]?.s;
  if (!current) {
    await db.destroy();
    throw new Error('PostgreSQL has no current schema for this connection: set search_path, or STOCKRELAY_PG_SCHEMA.');
  }
  const store = new SqlStore(db, 'postgres', `PostgreSQL ${redactUrl(url)} (schema ${current})`, current);
  await store.migrate();
  return store;
}

async function openSqlite(dataDir: string): Promise<Store> {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.resolve(dataDir, 'stockrelay.sqlite');
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  // FULL: a committed booking survives a power cut, not only a crash of the process.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  const store = new SqlStore(db, 'sqlite', `SQLite ${file}`);
  await store.migrate();
  return store;
}

/**
 * better-sqlite3 with its prepared statements kept (least recently used dropped past `max`). Kysely
 * prepares every query anew, and preparing costs more than running most of the hub's queries; SQLite
 * re-prepares a kept statement by itself when a migration changes the schema.
 */
function withStatementCache(db: Database.Database, max = 1000): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => {
      cache.clear();
      db.close();
    },
    prepare(sqlText: string) {
      let stmt = cache.get(sqlText);
      if (stmt) {
        cache.delete(sqlText);
      } else {
        stmt = db.prepare(sqlText);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sqlText, stmt);
      return stmt;
    },
  };
}
