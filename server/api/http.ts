/** Small pieces every route module of the API shares: async handlers and paging. */
import type { NextFunction, Request, Response } from 'express';

/** An async route handler whose rejection reaches the error handler. */
export const wrap = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
  fn(req, res).catch(next);
};

export const pageLimit = (req: Request) => Number(req.query.limit ?? 50);
export const cursorOf = (req: Request) => (typeof req.query.cursor === 'string' ? req.query.cursor : undefined);
/** The cursor of the next page: the last row's key when the page is full, else null. */
export const nextCursor = <T>(rows: T[], limit: number, key: (r: T) => string | number) => (rows.length === limit && rows.length > 0 ? String(key(rows[rows.length - 1]!)) : null);
