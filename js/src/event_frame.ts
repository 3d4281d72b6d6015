// The one parse of an `event` frame (issue 11): JSON.parse here, and the checks that the core's
// strict decoder made of the envelope; the core then sees only the id and the topic
// (CoreSession.event, with `time` for the delay and the `snapshot` flag) and itself refuses an id that is not an event id ({epoch}-{seq}, seq >= 1)
// or a topic that is not a topic name. A frame that fails anything here (not JSON, another op,
// a missing or mistyped member, over 1 MiB) goes to the core's strict path as text, which
// answers it as before, with the precise `bad_frame`. JSON.parse keeps the last copy of a
// duplicated member where the strict decoder refused the frame: the core decides on the very
// id and topic the handler sees, so nothing can disagree.

/** The members every handler may rely on. */
export interface EventEnvelope {
  op: 'event'; specversion: '1.0'; id: string; source: string; type: string; subject: string; time: string;
  topic: string; tenant: string; data: Record<string, unknown>; datacontenttype?: 'application/json';
  /** Only on snapshot events (docs/protocol.md section 5.3), and then `true`. */
  snapshot?: true;
}

// Frames of up to this many UTF-16 units are at most 1 MiB as UTF-8 (the core's limit); longer
// ones take the core's path, which measures them.
const maxCheckedLength = Math.floor(1_048_576 / 3);

/** The parsed event, or undefined when `text` is not an event frame that passes every check. */
export function parseEventFrame(text: string): EventEnvelope | undefined {
  // Every event frame starts with {"op":"event" (the server's encoder writes `op` first); any
  // other text, whatever it holds, is left to the core without being parsed twice here.
  if (text.length > maxCheckedLength || !text.startsWith('{"op":"event"')) return undefined;
  let f: Record<string, unknown>;
  try {
    f = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const data = f.data;
  if (f.op !== 'event' || f.specversion !== '1.0' || typeof data !== 'object' || data === null || Array.isArray(data) ||
    (f.datacontenttype !== undefined && f.datacontenttype !== 'application/json') ||
    (f.snapshot !== undefined && f.snapshot !== true)) return undefined;
  for (const member of stringMembers) if (typeof f[member] !== 'string') return undefined;
  return f as unknown as EventEnvelope;
}

const stringMembers = ['id', 'topic', 'source', 'type', 'subject', 'time', 'tenant'];
