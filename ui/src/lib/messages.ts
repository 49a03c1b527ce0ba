// Pure helpers for message lists: merging pages, pending messages, send errors. No Vue, no IPC.
import { strings } from '../strings'
import type { CommandError, Message } from '../types'

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

/** One of my messages that the server has not confirmed as stored. */
export interface Pending {
  chatId: string
  clientKey: string
  text: string
  createdAt: number
  status: 'sending' | 'failed'
  /** Why it failed, for people. */
  error: string | null
}

/** The pending messages still without a stored copy (matched by `clientKey`). */
export function unsettled(pending: readonly Pending[], stored: readonly Message[]): Pending[] {
  if (pending.length === 0) return []
  const keys = new Set(stored.map((m) => m.clientKey))
  return pending.filter((p) => !keys.has(p.clientKey))
}

/** The sentence next to a failed message. */
export function sendErrorText(err: CommandError): string {
  return strings.messages.sendErrors[err.kind] ?? err.message
}
