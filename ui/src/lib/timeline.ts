// Turns a chat's stored messages, pending messages and system lines into the rows the message
// list renders: day separators, runs of one sender grouped, own messages marked. No Vue, no IPC.
import { dayKey, formatDay } from './format'
import type { Pending } from './messages'
import type { Message } from '../types'

/** A line the UI writes itself (joined, left, wants to chat); not stored on the server. */
export interface SystemLine {
  id: number
  text: string
  at: number
}

/** A consecutive message from the same sender within this gap continues the group. */
export const GROUP_GAP_MS = 5 * 60 * 1000

export type Row =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'system'; key: string; line: SystemLine }
  | { kind: 'message'; key: string; message: Message; mine: boolean; first: boolean }
  | { kind: 'pending'; key: string; pending: Pending; first: boolean }

interface Sender {
  from: string
  at: number
  day: string
}

/** The rows, oldest first. Pending messages (mine, not yet stored) come last. */
export function buildRows(
  messages: readonly Message[],
  pending: readonly Pending[],
  system: readonly SystemLine[],
  meId: string | null,
  now: number,
): Row[] {
  const rows: Row[] = []
  let day: string | null = null
  let last: Sender | null = null

  const startDay = (at: number) => {
    const key = dayKey(at)
    if (key !== day) {
      day = key
      last = null
      rows.push({ kind: 'day', key: `day-${key}`, label: formatDay(at, now) })
    }
    return key
  }
  const continues = (from: string, at: number, key: string) => {
    const prev: Sender | null = last
    return prev !== null && prev.from === from && prev.day === key && at - prev.at <= GROUP_GAP_MS
  }
  const pushSystem = (line: SystemLine) => {
    startDay(line.at)
    rows.push({ kind: 'system', key: `s-${line.id}`, line })
    last = null
  }

  const lines = [...system].sort((a, b) => a.at - b.at)
  let li = 0
  for (const message of messages) {
    while (li < lines.length && lines[li].at < message.sentAt) pushSystem(lines[li++])
    const key = startDay(message.sentAt)
    const first = !continues(message.from, message.sentAt, key)
    rows.push({
      kind: 'message',
      key: `m-${message.seq}`,
      message,
      mine: message.from === meId,
      first,
    })
    last = { from: message.from, at: message.sentAt, day: key }
  }
  while (li < lines.length) pushSystem(lines[li++])
  for (const p of pending) {
    const key = startDay(p.createdAt)
    const first = !continues(meId ?? '', p.createdAt, key)
    rows.push({ kind: 'pending', key: `p-${p.clientKey}`, pending: p, first })
    last = { from: meId ?? '', at: p.createdAt, day: key }
  }
  return rows
}
