// Which WebSocket implementation the client uses: the one passed in, else the platform's
// (browsers, Node 22+), else the optional peer dependency `ws` (Node 20 has no global WebSocket).

/** The part of the WHATWG WebSocket API the client uses; `ws` implements it too. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

// `ws` only: lets the client see the HTTP status of a refused handshake.
interface NodeWsEvents {
  on(event: 'unexpected-response', listener: (request: unknown, response: { statusCode?: number }) => void): unknown;
  terminate(): void;
}

async function loadWsPackage(): Promise<WebSocketConstructor | undefined> {
  const name = 'ws';  // a variable, so that bundlers for browsers leave it alone
  try {
    const loaded = (await import(/* webpackIgnore: true */ /* @vite-ignore */ name)) as
      { default?: unknown; WebSocket?: unknown };
    return (loaded.WebSocket ?? loaded.default) as WebSocketConstructor | undefined;
  } catch {
    return undefined;
  }
}

let wsPackage: Promise<WebSocketConstructor | undefined> | undefined;
let wsPackageLoaded = false;

/**
 * The default implementation (the platform's, else the `ws` package), or undefined when there
 * is none; `undefined` too while `ws` is still being loaded (see loadDefaultWebSocket).
 */
export function defaultWebSocket(): { known: boolean; WebSocket: WebSocketConstructor | undefined } {
  const platform = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (platform !== undefined) return { known: true, WebSocket: platform };
  return { known: wsPackageLoaded, WebSocket: wsLoaded };
}
let wsLoaded: WebSocketConstructor | undefined;

/** Loads the `ws` package once where the platform has no WebSocket (Node 20). */
export function loadDefaultWebSocket(): Promise<WebSocketConstructor | undefined> {
  const { known, WebSocket } = defaultWebSocket();
  if (known) return Promise.resolve(WebSocket);
  wsPackage ??= loadWsPackage().then((loaded) => {
    wsLoaded = loaded;
    wsPackageLoaded = true;
    return loaded;
  });
  return wsPackage;
}

/**
 * Calls `onStatus` with the HTTP status when the server refuses the handshake, where the
 * implementation can tell (the `ws` package); browsers report every refusal as 1006 alone.
 */
export function watchHandshakeStatus(socket: WebSocketLike, onStatus: (status: number) => void): void {
  const nodeSocket = socket as unknown as Partial<NodeWsEvents>;
  if (typeof nodeSocket.on !== 'function' || typeof nodeSocket.terminate !== 'function') return;
  nodeSocket.on.call(socket, 'unexpected-response', (_request, response) => {
    onStatus(response.statusCode ?? 0);
    nodeSocket.terminate!.call(socket);  // ends the attempt: `close` (1006) follows
  });
}

/** The close code the session expects for a handshake refused with HTTP `status`. */
export function closeCodeForHandshakeStatus(status: number): number {
  if (status === 401) return 4401;
  if (status === 403) return 4403;
  if (status === 429) return 4029;
  if (status >= 400 && status < 500) return 4400;
  if (status >= 500) return 1011;
  return 1006;
}

const decoder = new TextDecoder();

/** A message's text; `ws` may hand over bytes. */
export function messageText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return decoder.decode(data);
  if (ArrayBuffer.isView(data)) return decoder.decode(data);
  return String(data);
}
