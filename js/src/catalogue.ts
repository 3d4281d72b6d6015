// The event catalogue of docs/protocol.md section 3.1 as types: one data interface per event
// type, the envelope, and the mapping from a subscription pattern to the events it can match
// (so a handler for 'queue.support.depth-changed' sees `event.data.depth` typed).
//
// Publishers may add fields beyond these; they reach handlers untouched but are not typed.

export interface SessionCreatedData { session_id: string; queue_id: string; caller?: string; channel?: string }
export interface SessionConnectedData { session_id: string; queue_id: string; agent_id: string; wait_seconds?: number }
export interface SessionEndedData {
  session_id: string; queue_id: string; duration_seconds: number; agent_id?: string; disposition?: string;
}
export interface SessionDroppedData { session_id: string; queue_id: string; wait_seconds?: number; reason?: string }
export interface SessionTransferredData {
  session_id: string; queue_id: string; from_agent_id: string; to_queue_id: string; to_agent_id?: string;
}
export interface QueueDepthChangedData {
  queue_id: string; depth: number; longest_wait_seconds: number; agents_available?: number;
}
export interface QueueAbandonedData { queue_id: string; session_id: string; wait_seconds: number }
export interface QueueMaxWaitExceededData { queue_id: string; longest_wait_seconds: number; threshold_seconds: number }
export interface AgentOnlineData { agent_id: string; queues?: string[] }
export interface AgentOfflineData { agent_id: string; reason?: string }
export interface AgentStatusChangedData { agent_id: string; status: string; previous_status: string }
export interface AgentBusyData { agent_id: string; session_id: string }
export interface AgentBreakData { agent_id: string; reason?: string; expected_seconds?: number }
export interface RecordingStartedData { recording_id: string; session_id: string }
export interface RecordingFinishedData {
  recording_id: string; session_id: string; duration_seconds: number; size_bytes?: number;
}
export interface RecordingFailedData { recording_id: string; session_id: string; reason: string }
export interface RecordingDeletedData { recording_id: string; reason?: string }
export interface QaScorecardSavedData { scorecard_id: string; session_id: string; agent_id: string; score: number }
export interface QaDisputeRaisedData { scorecard_id: string; agent_id: string; reason: string }
export interface QaScoreUpdatedData { scorecard_id: string; agent_id: string; score: number; previous_score: number }

/** Event type (`{stream}.{event}`) to the type of its `data`. */
export interface EventDataMap {
  'session.created': SessionCreatedData;
  'session.connected': SessionConnectedData;
  'session.ended': SessionEndedData;
  'session.dropped': SessionDroppedData;
  'session.transferred': SessionTransferredData;
  'queue.depth-changed': QueueDepthChangedData;
  'queue.abandoned': QueueAbandonedData;
  'queue.max-wait-exceeded': QueueMaxWaitExceededData;
  'agent.online': AgentOnlineData;
  'agent.offline': AgentOfflineData;
  'agent.status-changed': AgentStatusChangedData;
  'agent.busy': AgentBusyData;
  'agent.break': AgentBreakData;
  'recording.started': RecordingStartedData;
  'recording.finished': RecordingFinishedData;
  'recording.failed': RecordingFailedData;
  'recording.deleted': RecordingDeletedData;
  'qa.scorecard-saved': QaScorecardSavedData;
  'qa.dispute-raised': QaDisputeRaisedData;
  'qa.score-updated': QaScoreUpdatedData;
}

export type EventType = keyof EventDataMap;

/** An `event` frame: a CloudEvents 1.0 JSON event with the extensions `op`, `topic`, `tenant`. */
export interface GlobeMeetEvent<T extends EventType = EventType> {
  op: 'event';
  specversion: '1.0';
  id: string;
  source: string;
  type: T;
  subject: string;
  time: string;
  datacontenttype?: string;
  topic: string;
  tenant: string;
  /** `true` on snapshot events (the current state, docs/protocol.md section 5.3); absent otherwise. */
  snapshot?: true;
  data: EventDataMap[T];
}

/** Any catalogue event, discriminated by `type`. */
export type AnyGlobeMeetEvent = { [T in EventType]: GlobeMeetEvent<T> }[EventType];

// A pattern segment as a template for event types: `*` stands for any one segment.
type Segment<S extends string> = S extends '*' ? string : S;

/**
 * The event types a pattern can match. Topics have three segments (`stream.key.event`); the
 * event type leaves out the key. Patterns only known as `string` match every type.
 */
export type EventTypesMatching<P extends string> =
  string extends P ? EventType
  : P extends '>' ? EventType
  : P extends `${infer Stream}.${infer Rest}`
    ? Rest extends '>' ? Extract<EventType, `${Segment<Stream>}.${string}`>
      : Rest extends `${string}.${infer Event}`
        ? Event extends '>' ? Extract<EventType, `${Segment<Stream>}.${string}`>
          : Event extends `${string}.${string}` ? never
          : Extract<EventType, `${Segment<Stream>}.${Segment<Event>}`>
        : never
    : never;

/** The event a handler for pattern `P` receives: the union of what `P` can match. */
export type EventForPattern<P extends string> =
  [EventTypesMatching<P>] extends [never] ? AnyGlobeMeetEvent
  : { [T in EventTypesMatching<P>]: GlobeMeetEvent<T> }[EventTypesMatching<P>];
