/** OpenAI's error body: `{ error: { message, type, param, code } }`. */
export interface OpenAiErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly param: string | null;
    readonly code: string | null;
  };
}

/** An error the HTTP layer turns into an OpenAI-shaped response with `status`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'HttpError';
  }

  /** The response body. */
  body(): OpenAiErrorBody {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
  }
}

/** 400 with OpenAI's `invalid_request_error` type. */
export function badRequest(message: string, param: string | null = null): HttpError {
  return new HttpError(400, message, 'invalid_request_error', param);
}
