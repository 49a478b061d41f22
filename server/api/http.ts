/** Small pieces every route module of the API shares: async handlers, paging, and reading request bodies. */
import zlib from 'node:zlib';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from './errors';

/** An async route handler whose rejection reaches the error handler. */
export const wrap = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
  fn(req, res).catch(next);
};

export const pageLimit = (req: Request) => Number(req.query.limit ?? 50);
export const cursorOf = (req: Request) => (typeof req.query.cursor === 'string' ? req.query.cursor : undefined);
/** The cursor of the next page: the last row's key when the page is full, else null. */
export const nextCursor = <T>(rows: T[], limit: number, key: (r: T) => string | number) => (rows.length === limit && rows.length > 0 ? String(key(rows[rows.length - 1]!)) : null);

// --- Request bodies: at most 1 MiB, refused before they are read -----------------------------------

/** The most a request body may hold, in bytes: relays, channel webhooks and API calls alike. */
export const MAX_BODY_BYTES = 1024 * 1024;

const bodies = new WeakMap<Request, Buffer>();
const NO_BODY = Buffer.alloc(0);

/** The body's bytes as received (inflated when it came compressed); empty when the request had none. */
export const rawBody = (req: Request): Buffer => bodies.get(req) ?? NO_BODY;

const INFLATE = new Map<string, () => zlib.Inflate | zlib.Gunzip | zlib.BrotliDecompress>([
  ['gzip', () => zlib.createGunzip()],
  ['x-gzip', () => zlib.createGunzip()],
  ['deflate', () => zlib.createInflate()],
  ['br', () => zlib.createBrotliDecompress()],
]);

const tooLarge = (limit: number) =>
  new AppError(413, 'body_too_large', `The request body is larger than ${limit === MAX_BODY_BYTES ? '1 MiB' : `${limit} bytes`}; nothing was read further or stored. Send fewer changes per request.`);

/** What the hub still reads, and drops, of a refused body while its answer is on the way. */
const LINGER_BYTES = 1024 * 1024;
const LINGER_MS = 2000;

/**
 * Closes the connection once the answer to a refused body has gone out. Not at once: a client still
 * sending when the answer leaves would get a reset, which can wipe the answer before the client has
 * read it. So, as web servers do ("lingering close"), what the client sends meanwhile is read and
 * dropped, for at most 2 seconds and 1 MiB, until it stops; then the connection is destroyed.
 */
function lingeringClose(req: Request, res: Response): void {
  res.set('Connection', 'close');
  const sock = req.socket;
  let dropped = 0;
  const done = () => {
    clearTimeout(timer);
    sock.destroy();
  };
  const timer = setTimeout(done, LINGER_MS);
  timer.unref();
  // Node ends a "Connection: close" socket with destroySoon() once the answer is written, which
  // destroys it as soon as our end is sent: end it, and let the reading below decide when to destroy.
  sock.destroySoon = () => {
    sock.end();
  };
  sock.once('end', done);
  sock.once('close', () => clearTimeout(timer));
  req.on('data', (c: Buffer) => {
    dropped += c.length;
    if (dropped > LINGER_BYTES) done();
  });
  req.once('end', done);
  req.resume();
}

/**
 * Reads every request's body, at most `limit` bytes, before any route sees it. A body that
 * declares a larger Content-Length is refused at once, before a byte of it is read; a body sent
 * without one (chunked, or compressed) is cut the moment it passes the limit. Either way the
 * answer is 413 at once and the connection is closed after it (`lingeringClose`), so the rest of an
 * oversized upload is never read. The bytes are kept for the signature checks (`rawBody`);
 * `parseJson` reads JSON from them.
 */
export function readBody(limit = MAX_BODY_BYTES) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const declared = req.headers['content-length'];
    if (declared === undefined && req.headers['transfer-encoding'] === undefined) return next();
    // Whatever is refused here leaves the body unread: the connection closes after the answer.
    const refuse = (err: AppError) => {
      lingeringClose(req, res);
      next(err);
    };
    if (declared !== undefined && Number(declared) > limit) return refuse(tooLarge(limit));
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    const inflater = encoding === 'identity' ? null : INFLATE.get(encoding);
    if (inflater === undefined) return refuse(new AppError(415, 'unsupported_encoding', `The body is sent with Content-Encoding "${encoding.slice(0, 40)}", which the hub does not read; send it uncompressed (or gzip, deflate or br).`));
    const inflating = inflater ? req.pipe(inflater()) : null;
    const source: NodeJS.ReadableStream = inflating ?? req;
    const chunks: Buffer[] = [];
    let wire = 0;
    let kept = 0;
    let over = false;
    const stop = (err: AppError | null) => {
      if (over) return;
      over = true;
      req.removeListener('data', onWire);
      source.removeListener('data', onData);
      if (inflating) {
        req.unpipe(inflating);
        inflating.destroy();
      }
      if (err) refuse(err);
      else req.pause();
    };
    const onWire = (c: Buffer) => {
      wire += c.length;
      if (wire > limit) stop(tooLarge(limit));
    };
    const onData = (c: Buffer) => {
      kept += c.length;
      if (kept > limit) return stop(tooLarge(limit));
      chunks.push(c);
    };
    if (inflating) req.on('data', onWire);
    source.on('data', onData);
    source.on('error', () => stop(new AppError(400, 'malformed_body', `The body cannot be read as ${encoding}; send it uncompressed, or compressed as Content-Encoding says.`)));
    source.on('end', () => {
      if (over) return;
      over = true;
      bodies.set(req, Buffer.concat(chunks, kept));
      next();
    });
    // The client went away mid-body: nothing to answer, nothing kept.
    req.on('close', () => {
      if (!req.complete) stop(null);
    });
  };
}

/**
 * Reads a JSON body (Content-Type: application/json, UTF-8) into `req.body`, as express.json did:
 * an empty body is `{}`, the top level is an object or an array; any other body leaves it unset.
 */
export function parseJson(req: Request, _res: Response, next: NextFunction): void {
  if (!bodies.has(req) || !req.is('application/json')) return next();
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.get('content-type') ?? '')?.[1];
  if (charset !== undefined && !/^utf-8$/i.test(charset)) return next(new AppError(415, 'unsupported_encoding', 'Send the body as UTF-8 JSON.'));
  const text = rawBody(req).toString('utf8');
  const first = /^[ \t\n\r]*(.?)/.exec(text)![1];
  if (first === '') {
    req.body = {};
    return next();
  }
  if (first !== '{' && first !== '[') return next(new AppError(400, 'malformed_json', 'The body is not valid JSON: it must be a JSON object (or an array).'));
  try {
    req.body = JSON.parse(text) as unknown;
  } catch (err) {
    return next(new AppError(400, 'malformed_json', `The body is not valid JSON: ${(err as Error).message}`));
  }
  next();
}
