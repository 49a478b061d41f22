/** One error type for the API: an HTTP status, a stable code, a message for people. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: { path: string; message: string }[],
  ) {
    super(message);
  }

  /** Maps anything thrown (body-parser, the OpenAPI validator, our own code) to an AppError. */
  static from(err: unknown): AppError {
    if (err instanceof AppError) return err;
    const e = err as { status?: number; type?: string; errors?: { path?: string; message?: string }[]; message?: string };
    if (e?.type === 'entity.too.large') return new AppError(413, 'body_too_large', 'The request body is larger than 1 MiB. Send fewer changes per request.');
    if (e?.type === 'entity.parse.failed') return new AppError(400, 'malformed_json', `The body is not valid JSON: ${e.message ?? ''}`.trim());
    if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return new AppError(415, 'unsupported_encoding', 'Send the body as UTF-8 JSON.');
    if (typeof e?.status === 'number' && Array.isArray(e.errors)) {
      const details = e.errors.slice(0, 20).map((d) => ({ path: d.path ?? '', message: d.message ?? 'is not valid' }));
      const byStatus: Record<number, [string, string]> = {
        400: ['invalid_request', 'The request is not valid: ' + details.map((d) => `${d.path.replace(/^\/(body|query|params|headers)\/?/, '$1.').replace(/\//g, '.')} ${d.message}`).join('; ')],
        404: ['not_found', 'There is nothing at this address. The API is described at /openapi.json.'],
        405: ['method_not_allowed', 'This address does not take that method. The API is described at /openapi.json.'],
        415: ['unsupported_media_type', 'Send the body as JSON (Content-Type: application/json).'],
      };
      const [code, message] = byStatus[e.status] ?? ['internal_error', 'The hub produced an answer that does not match its own API description.'];
      return new AppError(e.status, code, message, details);
    }
    return new AppError(500, 'internal_error', 'Something went wrong inside the hub. It has been logged; please try again.');
  }
}
