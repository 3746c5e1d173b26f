import http, { type ClientRequest, type IncomingHttpHeaders } from 'node:http';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface RawRequest {
  method?: string;
  /** Sent as given: a `host` here replaces the one Node would derive from the URL (fetch cannot set it). */
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Writes the body itself (e.g. chunk by chunk); the request is ended when it returns. */
  write?: (req: ClientRequest, answered: () => boolean) => Promise<void>;
}

/**
 * A request with node:http, for what fetch does not allow: a chosen Host header, a body that keeps
 * streaming after the server has answered, or a server that closes the connection before the body
 * is sent. Errors after the answer arrived (EPIPE, ECONNRESET from writing on) are the point of
 * such tests, not failures.
 */
export function rawRequest(url: string, options: RawRequest = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(url, { method: options.method ?? 'POST', headers: options.headers ?? {} }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (options.write) {
      options
        .write(req, () => answered)
        .then(() => req.end())
        .catch(() => undefined);
    } else {
      req.end(options.body);
    }
  });
}

/** JSON body of a raw response, or undefined. */
export function jsonOf(response: RawResponse): unknown {
  return response.text ? (JSON.parse(response.text) as unknown) : undefined;
}
