// Pure helpers for message lists: no Vue, no IPC.
import type { Message } from '../types'

/** Merges `incoming` into `existing`: one entry per `seq` (the server's number), in order. */
export function mergeMessages(
  existing: readonly Message[],
  incoming: readonly Message[],
): Message[] {
  const bySeq = new Map<number, Message>()
  for (const m of existing) bySeq.set(m.seq, m)
  for (const m of incoming) bySeq.set(m.seq, m)
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq)
}

/** A fresh idempotency key for a message about to be sent. */
export function newClientKey(): string {
  return crypto.randomUUID()
}
